"""The job ledger: one durable record per job, so no job is lost and none is done twice.

A task queue hands a message to one worker and forgets it. When that worker dies mid-job the
message is gone, and nothing knows the job never finished. The ledger is what knows. Each job
has a record, keyed by its *idempotency key*, that moves through these states::

    queued --claim--> running --complete--> done
      ^                  |  \\--fail, attempts left--> retrying --claim--> running ...
      |                  |   \\-fail, none left / permanent error--> dead (the dead-letter queue)
      +---sweep: lease expired (the worker died)---+

Every move is one atomic compare-and-set, on SQLite (a transaction) or on Redis (a Lua
script), with the same rules:

* a job is claimed only when it is queued or retrying, or running with an expired *lease* (its
  worker stopped answering); the claim names the worker and sets a new lease;
* only the worker that holds the claim can complete it, and the result is written in the same
  step, so a job's effect is recorded once even when two workers ran it;
* submitting a key that exists returns the existing job instead of a second one.

Times come from the caller's clock, never the server's, so tests and simulations can run both
stores on a virtual clock and compare them.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

__all__ = ["STATES", "Job", "JobLedger", "JobState", "SqliteLedger"]

JobState = Literal["queued", "running", "retrying", "done", "dead"]
STATES: tuple[JobState, ...] = ("queued", "running", "retrying", "done", "dead")


@dataclass(frozen=True)
class Job:
    """A job's record in the ledger.

    Attributes:
        key: its idempotency key: the same key is the same job.
        payload: what the handler gets (plain JSON).
        state: queued, running, retrying, done or dead.
        attempts: how many times a worker has claimed it.
        owner: the worker holding the current claim, if any.
        lease_until: when that claim expires (the clock's seconds).
        result: the handler's return value, once done.
        error: the last failure, as ``ExceptionType: message``.
        created: when it was first submitted.
        updated: when its record last changed.
    """

    key: str
    payload: Any
    state: JobState
    attempts: int = 0
    owner: str | None = None
    lease_until: float | None = None
    result: Any = None
    error: str | None = None
    created: float = 0.0
    updated: float = 0.0


class JobLedger(Protocol):
    """The operations a queue needs; each is atomic on its store."""

    location: str

    def create(self, key: str, payload: Any, now: float) -> tuple[Job, bool]:
        """The job with ``key``, created queued when absent; True when this call created it."""
        ...

    def get(self, key: str) -> Job | None: ...

    def claim(self, key: str, worker: str, lease_until: float, now: float) -> Job | None:
        """Claims a claimable job for ``worker``; None when it is done, dead or held."""
        ...

    def complete(self, key: str, worker: str, result: Any, now: float) -> bool:
        """Records the result when ``worker`` still holds the claim; False otherwise."""
        ...

    def release(self, key: str, worker: str, error: str, now: float, *, dead: bool) -> bool:
        """A failed attempt: back to retrying, or dead; False when the claim was lost."""
        ...

    def expired(self, now: float) -> list[str]:
        """Keys of running jobs whose lease has expired."""
        ...

    def requeue(self, key: str, now: float) -> bool:
        """Puts an expired running job (or a dead one) back to queued."""
        ...

    def keys(self, state: JobState) -> list[str]:
        """The keys in ``state``, in submission order."""
        ...

    def counts(self) -> dict[JobState, int]: ...

    def clear(self) -> None: ...

    def close(self) -> None: ...


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


_COLUMNS = "key, payload, state, attempts, owner, lease_until, result, error, created, updated"


class SqliteLedger:
    """The ledger in a SQLite file (WAL: workers in other processes read and write it too)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.location = str(self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=30
        )
        self._lock = threading.RLock()  # one connection, shared by this process's threads
        self._db.execute("PRAGMA journal_mode=WAL")
        # NORMAL: in WAL mode a commit survives a crashed or killed process (what a worker
        # ledger must survive) without an fsync per commit, which made every job cost several
        # disk flushes; only a power cut can roll back the last commits.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(
            """
            CREATE TABLE IF NOT EXISTS jobs (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                key TEXT NOT NULL UNIQUE, payload TEXT NOT NULL, state TEXT NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0, owner TEXT, lease_until REAL,
                result TEXT, error TEXT, created REAL NOT NULL, updated REAL NOT NULL
            );
            CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs (state, seq);
            """
        )

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")  # one writer at a time, across processes
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _read(self, sql: str, parameters: tuple[Any, ...] = ()) -> list[Any]:
        with self._lock:
            return self._db.execute(sql, parameters).fetchall()

    def _row(self, key: str) -> Job | None:
        rows = self._read(f"SELECT {_COLUMNS} FROM jobs WHERE key = ?", (key,))
        if not rows:
            return None
        key, payload, state, attempts, owner, lease, result, error, created, updated = rows[0]
        return Job(
            key,
            json.loads(payload),
            state,
            attempts,
            owner,
            lease,
            json.loads(result) if result is not None else None,
            error,
            created,
            updated,
        )

    def create(self, key: str, payload: Any, now: float) -> tuple[Job, bool]:
        with self._transaction() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO jobs (key, payload, state, created, updated) "
                "VALUES (?, ?, 'queued', ?, ?)",
                (key, _dumps(payload), now, now),
            )
            created = cursor.rowcount == 1
        job = self._row(key)
        assert job is not None
        return job, created

    def get(self, key: str) -> Job | None:
        return self._row(key)

    def claim(self, key: str, worker: str, lease_until: float, now: float) -> Job | None:
        with self._transaction() as db:
            cursor = db.execute(
                "UPDATE jobs SET state = 'running', owner = ?, lease_until = ?, "
                "attempts = attempts + 1, updated = ? WHERE key = ? AND (state IN "
                "('queued', 'retrying') OR (state = 'running' AND lease_until <= ?))",
                (worker, lease_until, now, key, now),
            )
            claimed = cursor.rowcount == 1
        return self._row(key) if claimed else None

    def complete(self, key: str, worker: str, result: Any, now: float) -> bool:
        with self._transaction() as db:
            cursor = db.execute(
                "UPDATE jobs SET state = 'done', result = ?, owner = NULL, lease_until = NULL, "
                "error = NULL, updated = ? WHERE key = ? AND state = 'running' AND owner = ?",
                (_dumps(result), now, key, worker),
            )
            return cursor.rowcount == 1

    def release(self, key: str, worker: str, error: str, now: float, *, dead: bool) -> bool:
        with self._transaction() as db:
            cursor = db.execute(
                "UPDATE jobs SET state = ?, error = ?, owner = NULL, lease_until = NULL, "
                "updated = ? WHERE key = ? AND state = 'running' AND owner = ?",
                ("dead" if dead else "retrying", error, now, key, worker),
            )
            return cursor.rowcount == 1

    def expired(self, now: float) -> list[str]:
        rows = self._read(
            "SELECT key FROM jobs WHERE state = 'running' AND lease_until <= ? ORDER BY seq",
            (now,),
        )
        return [row[0] for row in rows]

    def requeue(self, key: str, now: float) -> bool:
        with self._transaction() as db:
            cursor = db.execute(
                "UPDATE jobs SET state = 'queued', owner = NULL, lease_until = NULL, "
                "updated = ? WHERE key = ? AND (state = 'dead' OR "
                "(state = 'running' AND lease_until <= ?))",
                (now, key, now),
            )
            return cursor.rowcount == 1

    def keys(self, state: JobState) -> list[str]:
        rows = self._read("SELECT key FROM jobs WHERE state = ? ORDER BY seq", (state,))
        return [row[0] for row in rows]

    def counts(self) -> dict[JobState, int]:
        found = dict(self._read("SELECT state, COUNT(*) FROM jobs GROUP BY state"))
        return {state: int(found.get(state, 0)) for state in STATES}

    def clear(self) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM jobs")

    def close(self) -> None:
        self._db.close()
