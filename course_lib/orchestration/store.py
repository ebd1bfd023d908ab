"""Checkpoints of workflow runs in one SQLite file: one row per run, one per finished step.

A step's row is written, with the step's output, in the same transaction that marks it
finished, right after the step returns. A run that dies (a crash, a deploy, an out-of-memory
kill) leaves every finished step on disk; resuming the run reads them back and runs only the
rest. ::

    store = CheckpointStore(work_path("checkpoints", "answers.sqlite"))
    store.history("ops-001")              # the finished steps of one run, in order
    store.runs(status="running")          # runs that were in flight when the process died

The file is in WAL mode with ``synchronous=NORMAL``: a commit survives the process being
killed at any point; after a power cut the last commits may be lost (use ``FULL`` for that).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from course_lib.errors import CheckpointMismatchError, StepOutputError

__all__ = ["RUN_STATUSES", "CheckpointStore", "RunRecord", "RunStatus", "StepRecord"]

RunStatus = Literal["running", "done", "failed"]
RUN_STATUSES: tuple[str, ...] = ("running", "done", "failed")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    workflow TEXT NOT NULL,
    steps TEXT NOT NULL,          -- JSON list of the workflow's step names, in order
    input TEXT NOT NULL,          -- JSON of the initial state
    status TEXT NOT NULL,         -- running | done | failed
    error TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS steps (
    run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
    step TEXT NOT NULL,
    position INTEGER NOT NULL,
    output TEXT NOT NULL,         -- JSON of the fields the step changed
    attempts INTEGER NOT NULL,
    duration_ms REAL NOT NULL,
    finished_at REAL NOT NULL,
    PRIMARY KEY (run_id, step)
);
"""


def to_json(value: Any, *, where: str) -> str:
    """``value`` as canonical JSON text, or a StepOutputError naming ``where`` it is not JSON."""
    try:
        return json.dumps(value, sort_keys=True, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise StepOutputError(
            f"{where} cannot be saved as a checkpoint ({exc}). Keep state fields to JSON "
            "values: strings, numbers, booleans, None, and lists and dicts of them."
        ) from None


@dataclass(frozen=True)
class RunRecord:
    """One run as the store knows it."""

    run_id: str
    workflow: str
    steps: tuple[str, ...]
    input: dict[str, Any]
    status: str
    error: str | None
    finished_steps: int


@dataclass(frozen=True)
class StepRecord:
    """One finished step of a run: what it returned and how many attempts it took."""

    run_id: str
    step: str
    position: int
    output: dict[str, Any]
    attempts: int
    duration_ms: float


class CheckpointStore:
    """Runs and their finished steps, in SQLite.

    Args:
        path: the database file (created with its tables if missing), or ``":memory:"`` for
            a store that lives and dies with this object (no resume across processes).

    The connection belongs to the thread that made the store; use one store per thread.
    """

    def __init__(self, path: str | Path = ":memory:") -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path)
        self._db.execute("PRAGMA foreign_keys = ON")
        if self.path != ":memory:":
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = NORMAL")
        with self._db:
            self._db.executescript(_SCHEMA)

    def __repr__(self) -> str:
        name = self.path if self.path == ":memory:" else Path(self.path).name
        return f"CheckpointStore({name!r})"

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> CheckpointStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- writing ----------------------------------------------------------------------------

    def begin(
        self, run_id: str, *, workflow: str, steps: Sequence[str], input: Mapping[str, Any]
    ) -> dict[str, dict[str, Any]]:
        """Records a new run, or checks that an existing one is the same; returns its saved
        step outputs (step name -> output).

        Raises:
            CheckpointMismatchError: ``run_id`` was started by another workflow, with other
                steps, or with another input.
        """
        input_json = to_json(dict(input), where=f"The input of run {run_id!r}")
        steps_json = json.dumps(list(steps))
        row = self._db.execute(
            "SELECT workflow, steps, input FROM runs WHERE run_id = ?", (run_id,)
        ).fetchone()
        now = time.time()
        if row is None:
            with self._db:
                self._db.execute(
                    "INSERT INTO runs VALUES (?, ?, ?, ?, 'running', NULL, ?, ?)",
                    (run_id, workflow, steps_json, input_json, now, now),
                )
            return {}
        stored_workflow, stored_steps, stored_input = row
        if stored_workflow != workflow or json.loads(stored_steps) != list(steps):
            raise CheckpointMismatchError(
                f"Run {run_id!r} was started by workflow {stored_workflow!r} with steps "
                f"{json.loads(stored_steps)}; this is {workflow!r} with steps {list(steps)}. "
                f"Use a new run id, or delete the old run with delete_run({run_id!r})."
            )
        if stored_input != input_json:
            raise CheckpointMismatchError(
                f"Run {run_id!r} was started with another input; a run id names one request. "
                f"Use a new run id for a new request, or delete the old run with "
                f"delete_run({run_id!r})."
            )
        return {record.step: record.output for record in self.history(run_id)}

    def save_step(
        self,
        run_id: str,
        step: str,
        *,
        position: int,
        output: Mapping[str, Any],
        attempts: int,
        duration_ms: float,
    ) -> None:
        """Records that ``step`` of ``run_id`` finished with ``output`` (one transaction)."""
        output_json = to_json(dict(output), where=f"The output of step {step!r}")
        now = time.time()
        with self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO steps VALUES (?, ?, ?, ?, ?, ?, ?)",
                (run_id, step, position, output_json, attempts, duration_ms, now),
            )
            self._db.execute(
                "UPDATE runs SET status = 'running', error = NULL, updated_at = ? WHERE run_id = ?",
                (now, run_id),
            )

    def finish(self, run_id: str, status: RunStatus, *, error: str | None = None) -> None:
        """Marks the run ``done`` or ``failed`` (with the error, one line)."""
        if status not in RUN_STATUSES:
            raise ValueError(f"status must be one of {list(RUN_STATUSES)}, got {status!r}.")
        with self._db:
            self._db.execute(
                "UPDATE runs SET status = ?, error = ?, updated_at = ? WHERE run_id = ?",
                (status, error, time.time(), run_id),
            )

    def invalidate(self, run_id: str, step: str) -> int:
        """Forgets ``step`` and every later step of ``run_id``, so a resume runs them again.

        Use it when a step's output was wrong (a bad index, a broken prompt): everything after
        it was computed from that output. Returns how many step rows were removed.
        """
        row = self._db.execute(
            "SELECT position FROM steps WHERE run_id = ? AND step = ?", (run_id, step)
        ).fetchone()
        if row is None:
            return 0
        with self._db:
            removed = self._db.execute(
                "DELETE FROM steps WHERE run_id = ? AND position >= ?", (run_id, row[0])
            ).rowcount
            self._db.execute(
                "UPDATE runs SET status = 'running', updated_at = ? WHERE run_id = ?",
                (time.time(), run_id),
            )
        return int(removed)

    def delete_run(self, run_id: str) -> bool:
        """Deletes a run and its steps; True when there was one."""
        with self._db:
            deleted = self._db.execute("DELETE FROM runs WHERE run_id = ?", (run_id,)).rowcount
        return bool(deleted)

    # -- reading ----------------------------------------------------------------------------

    def history(self, run_id: str) -> list[StepRecord]:
        """The finished steps of ``run_id``, in workflow order (empty for an unknown run)."""
        rows = self._db.execute(
            "SELECT step, position, output, attempts, duration_ms FROM steps "
            "WHERE run_id = ? ORDER BY position",
            (run_id,),
        ).fetchall()
        return [
            StepRecord(run_id, step, position, json.loads(output), attempts, duration_ms)
            for step, position, output, attempts, duration_ms in rows
        ]

    def run(self, run_id: str) -> RunRecord | None:
        """The run ``run_id``, or None if the store has never seen it."""
        records = self._runs("WHERE r.run_id = ?", (run_id,))
        return records[0] if records else None

    def runs(self, *, status: RunStatus | None = None) -> list[RunRecord]:
        """Every run in the order they were started, or those with ``status`` (e.g. the
        ``running`` ones after a crash: they are the ones to resume)."""
        if status is None:
            return self._runs("", ())
        if status not in RUN_STATUSES:
            raise ValueError(f"status must be one of {list(RUN_STATUSES)}, got {status!r}.")
        return self._runs("WHERE r.status = ?", (status,))

    def _runs(self, where: str, parameters: tuple[Any, ...]) -> list[RunRecord]:
        rows = self._db.execute(
            "SELECT r.run_id, r.workflow, r.steps, r.input, r.status, r.error, "
            "(SELECT COUNT(*) FROM steps s WHERE s.run_id = r.run_id) "
            f"FROM runs r {where} ORDER BY r.created_at, r.rowid",
            parameters,
        ).fetchall()
        return [
            RunRecord(run_id, workflow, tuple(json.loads(steps)), json.loads(inp), status, err, n)
            for run_id, workflow, steps, inp, status, err, n in rows
        ]

    def count_rows(self) -> dict[str, int]:
        """How many rows each table holds: what one more run costs in storage."""
        return {
            table: int(self._db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
            for table in ("runs", "steps")
        }
