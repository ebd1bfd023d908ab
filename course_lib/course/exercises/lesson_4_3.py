"""Checkers of lesson 4.3, "Data pipelines"."""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping
from datetime import date
from typing import Any

from course_lib.course.checking import NotYet, Probe, answer_calls, exercise

SOLUTION = "solutions/4_infrastructure/43_data_pipelines.ipynb"
HELD_OUT_SEEDS = (101, 102, 103, 104, 105)
"""The drops 4.3.1 is scored on; the lesson tunes on drop 0."""


def _refuse(answer: Any, *functions_and_names: tuple[Any, str]) -> None:
    for function, name in functions_and_names:
        if answer_calls(answer, function):
            raise NotYet(
                f"your function calls the course's {name}, which already does the exercise; "
                "write the logic yourself."
            )


# --- 4.3.1 validation rules, scored on held-out drops ---------------------------------------


def record_rules(teams: Collection[str]) -> Any:
    """The course's answer: a pandera schema with one rule per way a record goes bad."""
    import pandera.pandas as pa

    def rule(test: Any, error: str) -> Any:
        return pa.Check(test, element_wise=True, error=error)

    def is_date(value: Any) -> bool:
        if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return False
        try:
            date.fromisoformat(value)
        except ValueError:
            return False
        return True

    return pa.DataFrameSchema(
        {
            "id": pa.Column(checks=rule(lambda v: isinstance(v, str) and v.islower(), "id")),
            "title": pa.Column(checks=rule(lambda v: isinstance(v, str) and v.strip(), "title")),
            "team": pa.Column(checks=pa.Check.isin(list(teams), error="team is known")),
            "access": pa.Column(
                checks=pa.Check.isin(["public", "internal", "restricted"], error="access")
            ),
            "version": pa.Column(
                checks=rule(
                    lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1, "version"
                )
            ),
            "updated": pa.Column(checks=rule(is_date, "updated is a YYYY-MM-DD date")),
            "words": pa.Column(checks=pa.Check.ge(20, error="body has 20+ words")),
            "size_bytes": pa.Column(checks=pa.Check.le(100_000, error="at most 100,000 bytes")),
        },
        checks=[
            pa.Check(
                lambda df: df["id"] == df["file"].str.removesuffix(".md"),
                error="id equals the file name",
            )
        ],
    )


def _check_functions(schema: Any) -> list[Any]:
    """The functions behind a schema's checks, its columns' and its own."""
    checks = list(getattr(schema, "checks", None) or [])
    for column in (getattr(schema, "columns", None) or {}).values():
        checks += list(getattr(column, "checks", None) or [])
    return [getattr(check, "_check_fn", None) for check in checks]


def _is_course_schema(schema: Any, course: Any) -> bool:
    """Whether ``schema`` is the course's own (the same object, an equal one, or one whose
    checks are the course's functions) rather than rules the learner wrote."""
    try:
        if schema is course or bool(schema == course):
            return True
    except Exception:  # an object whose == raises is not the course's schema
        pass
    return any(
        str(getattr(function, "__module__", "")).startswith("course_lib.pipelines")
        for function in _check_functions(schema)
    )


@exercise(
    "4.3.1",
    title="Validation rules that quarantine every bad record and no good one",
    answer_name="record_rules",
    reference=record_rules,
    solution=SOLUTION,
    hints=(
        "Go through the columns one by one (access, version, updated, words, size_bytes) and "
        "ask what every good value has in common, not what the bad values in drop 0 look "
        "like: the held-out drops break the same fields in other ways.",
        "Let the good records tell you: look at frame[frame['problem'].isna()] with "
        "value_counts() on access and version, and min() and max() on words and size_bytes. "
        "A closed set of values calls for a list; a size calls for a floor or ceiling with a "
        "wide margin, so other drops' good pages pass too.",
        "Three tools cover every rule: pa.Check.isin([...]) for a closed set, pa.Check.ge(n) "
        "and pa.Check.le(n) for a floor or ceiling, and rule(lambda v: ..., 'name') for the "
        "rest (is_date is ready for updated), returning False, never raising, for None and "
        "odd types. One trap: True is an int in Python.",
    ),
)
def _check_record_rules(answer: Any, probe: Probe) -> str:
    from course_lib.labs.pipeline_lab import handbook_teams, score_rules
    from course_lib.pipelines import record_schema

    _refuse(answer, (record_schema, "record_schema"))
    schema = probe.call_as("record_rules(teams)", answer, handbook_teams())
    if schema is None:
        raise NotYet("record_rules(teams) returned None; return the pa.DataFrameSchema.")
    if not callable(getattr(schema, "validate", None)):
        raise NotYet(
            f"record_rules(teams) returned a {type(schema).__name__}; return a "
            "pa.DataFrameSchema({...})."
        )
    if _is_course_schema(schema, record_schema(handbook_teams())):
        raise NotYet(
            "record_rules(teams) returned the course's schema (the lesson's `schema`, "
            "`pipeline.schema` or a copy of record_schema's rules), which already does the "
            "exercise; build your own pa.DataFrameSchema({...}) with a rule per column."
        )
    try:
        score = score_rules(schema, HELD_OUT_SEEDS)
    except Exception as exc:
        detail = " ".join(str(exc).split())[:120]
        raise NotYet(
            f"validating with your schema raised {type(exc).__name__} ({detail}); make every "
            "check return True or False for any value, None included."
        ) from None
    line = (
        f"on {len(HELD_OUT_SEEDS)} held-out drops, {score.caught} of {score.bad} bad records "
        f"quarantined and {score.rejected_good} of {score.good} good ones rejected (target: "
        "all, and none)"
    )
    if score.caught < score.bad:
        raise NotYet(f"{line}; missed kinds: {', '.join(score.missed_kinds)}.")
    if score.rejected_good:
        raise NotYet(
            f"{line}; e.g. {', '.join(score.rejected_examples)} is good: loosen the rule "
            "that rejects it."
        )
    return f"{line}: every bad record quarantined, every good one loaded."


# --- 4.3.2 the load plan ---------------------------------------------------------------------


def plan_changes(
    loaded: Mapping[str, str], incoming: Mapping[str, str], present: Collection[str]
) -> tuple[set[str], set[str]]:
    """The course's answer: upsert new or changed documents; delete loaded documents whose
    file is gone; leave a quarantined document's last good version alone."""
    upsert = {doc_id for doc_id, digest in incoming.items() if loaded.get(doc_id) != digest}
    delete = {doc_id for doc_id in loaded if doc_id not in present and doc_id not in incoming}
    return upsert, delete


_H = {name: f"{name}-hash" for name in "abcdefgh"}

# (what the case is, loaded, incoming, present)
_PLAN_CASES: list[tuple[str, dict[str, str], dict[str, str], set[str]]] = [
    ("the first run", {}, {"a": _H["a"], "b": _H["b"]}, {"a", "b"}),
    (
        "a rerun of the same files",
        {"a": _H["a"], "b": _H["b"]},
        {"a": _H["a"], "b": _H["b"]},
        {"a", "b"},
    ),
    ("one file edited", {"a": _H["a"], "b": _H["b"]}, {"a": "a-edited", "b": _H["b"]}, {"a", "b"}),
    (
        "one file deleted",
        {"a": _H["a"], "b": _H["b"], "c": _H["c"]},
        {"a": _H["a"], "b": _H["b"]},
        {"a", "b"},
    ),
    ("a loaded file now quarantined", {"a": _H["a"], "b": _H["b"]}, {"a": _H["a"]}, {"a", "b"}),
    ("a new file quarantined", {"a": _H["a"]}, {"a": _H["a"]}, {"a", "z"}),
    (
        "a drop of every kind",
        {"a": _H["a"], "b": _H["b"], "c": _H["c"], "d": _H["d"], "e": _H["e"]},
        {"a": _H["a"], "b": "b-edited", "f": _H["f"], "g": _H["g"]},
        {"a", "b", "d", "f", "g", "h"},
    ),
    ("an empty source", {"a": _H["a"], "b": _H["b"]}, {}, set()),
]


def _as_set(value: Any, what: str, call: str) -> set[str]:
    if value is None or isinstance(value, str) or not isinstance(value, Collection):
        raise NotYet(f"{call}: {what} is {value!r:.40}; make it a set (or list) of ids.")
    return {str(item) for item in value}


@exercise(
    "4.3.2",
    title="What a run must load and delete",
    answer_name="plan_changes",
    reference=plan_changes,
    solution=SOLUTION,
    hints=(
        "Compare hashes, not names: a document is upserted when it is valid now and the "
        "manifest has no hash for it or another hash. Deletion asks a different question: "
        "is the file still in the source at all?",
        "Upsert what is valid now and either new or changed since the manifest recorded it. "
        "Delete what was loaded and whose file is no longer in the folder at all (a "
        "quarantined file is still present: its document keeps its last good version).",
        "Two set comprehensions: one over incoming.items() comparing each hash with what "
        "loaded.get gives for that id (None when it is new); one over loaded keeping the ids "
        "that present no longer has. Return them as a pair.",
    ),
)
def _check_plan_changes(answer: Any, probe: Probe) -> str:
    from course_lib.pipelines import plan_load

    _refuse(answer, (plan_load, "plan_load"))
    for what, loaded, incoming, present in _PLAN_CASES:
        call = f"plan_changes on {what}"
        got = probe.call_as(call, answer, dict(loaded), dict(incoming), set(present))
        if not isinstance(got, tuple | list) or len(got) != 2:
            raise NotYet(f"{call} returned {got!r:.60}; return a pair (to_upsert, to_delete).")
        upsert, delete = (_as_set(got[0], "to_upsert", call), _as_set(got[1], "to_delete", call))
        want_upsert, want_delete = plan_changes(loaded, incoming, present)
        if upsert != want_upsert:
            extra, missing = sorted(upsert - want_upsert), sorted(want_upsert - upsert)
            why = (
                f"upserts {extra}, whose file has not changed since it was loaded"
                if extra
                else f"does not upsert {missing}, which is new or changed"
            )
            raise NotYet(f"{call} {why}.")
        if delete != want_delete:
            extra, missing = sorted(delete - want_delete), sorted(want_delete - delete)
            why = (
                f"deletes {extra}, whose file is still in the source (quarantined or valid): "
                "keep its last good version"
                if extra
                else f"does not delete {missing}, whose file is gone"
            )
            raise NotYet(f"{call} {why}.")
    return "plans every hidden run right: only what changed is loaded, only what is gone deleted."


# --- 4.3.3 a micro-batch consumer that survives a crash ----------------------------------------


class _Crash(RuntimeError):
    """The process died (raised by the checker's fakes)."""


class _Event:
    def __init__(self, seq: int) -> None:
        self.seq = seq
        self.kind = "updated"
        self.doc_id = f"doc-{seq}"
        self.body = ""

    def __repr__(self) -> str:
        return f"Event({self.seq})"


class _Log:
    """A log whose sequence numbers have gaps (compaction removed some), as real logs do."""

    def __init__(self, seqs: list[int]) -> None:
        self.events = [_Event(s) for s in seqs]
        self.reads = 0

    def read(self, start: int, limit: int) -> list[_Event]:
        self.reads += 1
        if self.reads > 200:
            raise NotYet(
                "consume read the log 200 times without finishing; does the checkpoint move "
                "past each batch (to the seq after its last event)?"
            )
        return [e for e in self.events if e.seq >= start][: int(limit)]


class _Checkpoint:
    def __init__(self, crash_on_write: int | None = None) -> None:
        self.value = 0
        self.writes = 0
        self.crash_on_write = crash_on_write

    def read(self) -> int:
        return self.value

    def write(self, next_seq: int) -> None:
        self.writes += 1
        if self.writes == self.crash_on_write:
            raise _Crash("the process died before the checkpoint was written")
        self.value = int(next_seq)


class _Loader:
    """Commits a batch atomically; can die before (nothing written) or after the commit."""

    def __init__(self, crash_on: int | None = None, *, after_commit: bool = False) -> None:
        self.applied: list[int] = []
        self.calls = 0
        self.sizes: list[int] = []
        self.crash_on = crash_on
        self.after_commit = after_commit

    def __call__(self, batch: list[_Event]) -> None:
        self.calls += 1
        self.sizes.append(len(batch))
        if self.calls == self.crash_on and not self.after_commit:
            raise _Crash("the process died while loading")
        self.applied += [event.seq for event in batch]
        if self.calls == self.crash_on:
            raise _Crash("the process died after the load committed")


def consume(log: Any, checkpoint: Any, load: Any, batch_size: int) -> None:
    """The course's answer: load a batch, and only then move the checkpoint past it."""
    while True:
        batch = log.read(checkpoint.read(), batch_size)
        if not batch:
            return
        load(batch)
        checkpoint.write(batch[-1].seq + 1)


_SEQS = [0, 1, 2, 4, 5, 6, 7, 9, 10, 11, 12, 13, 15, 16, 17, 20, 21, 22, 23, 24, 26, 27]


def _run(answer: Any, probe: Probe, call: str, log: _Log, checkpoint: Any, load: Any) -> bool:
    """Runs the answer; True when it stopped on the checker's simulated crash."""
    try:
        probe.call_as(call, answer, log, checkpoint, load, 4)
    except NotYet as exc:
        if "_Crash" in str(exc):
            return True
        raise
    return False


@exercise(
    "4.3.3",
    title="A micro-batch consumer that never loses an event",
    answer_name="consume",
    reference=consume,
    solution=SOLUTION,
    hints=(
        "Think of the process dying at any line. If the checkpoint moves before the batch is "
        "loaded, a crash in between loses the batch; if it never moves, a restart loads "
        "everything again.",
        "A loop: read a batch from where the checkpoint says, stop when it comes back empty, "
        "otherwise load it. The checkpoint moves only once the batch's load has returned.",
        "The value to save is the seq of the next event to process: one past the seq of the "
        "batch's last event (sequence numbers have gaps, so not start + batch_size). Let an "
        "exception from load propagate: catching it and moving on loses the batch.",
    ),
)
def _check_consume(answer: Any, probe: Probe) -> str:
    from course_lib.pipelines import MicroBatchLoader

    _refuse(answer, (MicroBatchLoader, "MicroBatchLoader"))
    expected = list(_SEQS)
    log, checkpoint, load = _Log(_SEQS), _Checkpoint(), _Loader()
    if _run(answer, probe, "consume on a clean log", log, checkpoint, load):
        raise NotYet("consume on a clean log raised the checker's crash; it should not.")
    if sorted(load.applied) != expected or len(load.applied) != len(expected):
        lost = sorted(set(expected) - set(load.applied))
        twice = sorted({s for s in load.applied if load.applied.count(s) > 1})
        raise NotYet(
            f"consume on a clean log of {len(expected)} events lost {lost or 'none'} and "
            f"loaded {twice or 'none'} twice; every event, once."
        )
    if max(load.sizes) > 4 or load.calls > math.ceil(len(expected) / 4):
        raise NotYet(
            f"consume made {load.calls} load calls of sizes {load.sizes} for batch_size 4; "
            "load micro-batches of up to batch_size events (one call per batch)."
        )
    batches = load.calls
    for crash_at in range(1, batches + 1):
        for after_commit in (False, True):
            where = "after the load committed" if after_commit else "while loading"
            call = f"consume, crashed {where} in batch {crash_at} and restarted"
            log, checkpoint = _Log(_SEQS), _Checkpoint()
            load = _Loader(crash_at, after_commit=after_commit)
            crashed = _run(answer, probe, call, log, checkpoint, load)
            if not crashed:
                raise NotYet(
                    f"{call.split(' and')[0]}: consume kept going after the load raised; let "
                    "the exception stop it (a real crash would)."
                )
            load.crash_on = None
            _run(answer, probe, call, log, checkpoint, load)
            lost = sorted(set(expected) - set(load.applied))
            if lost:
                raise NotYet(f"{call}: events {lost} were never loaded (lost).")
            twice = sorted({s for s in load.applied if load.applied.count(s) > 1})
            allowed = 4 if after_commit else 0  # the one batch that committed is replayed
            if len(twice) > allowed:
                raise NotYet(
                    f"{call}: events {twice} were loaded twice; replay at most the batch that "
                    "committed just before the crash."
                )
    return (
        f"no event lost across {2 * batches} crash points, in micro-batches of 4; at most the "
        "batch that committed just before a crash is replayed, which an idempotent load absorbs."
    )
