"""Checkers of lesson 4.4, "Event-driven inference"."""

from __future__ import annotations

import functools
import hashlib
import json
import sqlite3
from typing import Any

from course_lib.course.checking import NotYet, Probe, exercise

SOLUTION = "solutions/4_infrastructure/44_event_driven_inference.ipynb"
HELD_OUT_SEEDS = (101, 102, 103, 104, 105)
"""The outages 4.4.1 is scored on; the lesson tunes on outage 0 (its ``seed``)."""


# --- 4.4.1 a retry policy, scored on held-out outages -----------------------------------------


@functools.cache
def _reference_policy() -> Any:
    """The course's policy: one object, so that check() can tell it from a learner's own (a
    value taken from here is this very object, and refused as the reference)."""
    from course_lib.tasks import RetryPolicy

    return RetryPolicy(max_attempts=10, base_delay_s=1.0, max_delay_s=8.0)


@exercise(
    "4.4.1",
    title="A retry policy that rides out a provider outage",
    answer_name="retry_policy",
    expects_function=False,
    reference=_reference_policy(),
    solution=SOLUTION,
    time_limit=10.0,
    hints=(
        "Three knobs, three targets. Too few attempts: jobs that meet the outage die before it "
        "ends. Waits near zero: the attempts are spent in the first second of the outage and "
        "count as calls. A long cap: the last retries come long after the provider is back.",
        "The outages last 4 to 7 seconds. With full jitter the waits average half their ceiling, "
        "so the attempts must together span well over 7 s: a base of about a second doubling "
        "to a cap of several seconds does it in a handful of attempts.",
        "Start from RetryPolicy() (5 attempts, base 1 s, cap 30 s), change one knob at a time "
        "and print outage_run(retry_policy, seed) after each. Too many dead letters: add "
        "attempts. 95% not done within 15 s: lower the cap. Too many calls per job: raise the "
        "base. If one fix breaks another target, the attempts do not yet span the outage.",
    ),
)
def _check_retry_policy(answer: Any, probe: Probe) -> str:
    from course_lib.labs.queue_lab import OUTAGE_TARGETS, outage_run
    from course_lib.tasks import RetryPolicy

    if not isinstance(answer, RetryPolicy):
        raise NotYet(
            f"retry_policy is a {type(answer).__name__}; make it a RetryPolicy(max_attempts=..., "
            "base_delay_s=..., max_delay_s=...)."
        )
    scores = [
        probe.call_as(f"outage_run(retry_policy, {seed})", outage_run, answer, seed)
        for seed in HELD_OUT_SEEDS
    ]
    worst_dead = max(scores, key=lambda s: s.dead_letters)
    worst_calls = max(scores, key=lambda s: s.calls_per_job)
    worst_p95 = max(scores, key=lambda s: s.p95_s)
    line = (
        f"on {len(HELD_OUT_SEEDS)} held-out outages, at worst {worst_dead.dead_letters} of "
        f"{worst_dead.jobs} dead-lettered, {worst_calls.calls_per_job:.2f} calls per job, "
        + (
            f"95% done within {worst_p95.p95_s:.1f} s"
            if worst_p95.p95_s < float("inf")
            else "over 5% never done"
        )
    )
    if worst_dead.dead_letters > OUTAGE_TARGETS["dead_letters"]:
        raise NotYet(
            f"{line}: too many dead letters (target: at most "
            f"{OUTAGE_TARGETS['dead_letters']:.0f} of 400); the retries end before the outage does "
            "(more attempts, or longer waits)."
        )
    if worst_calls.calls_per_job > OUTAGE_TARGETS["calls_per_job"]:
        raise NotYet(
            f"{line}: too many calls (target: at most {OUTAGE_TARGETS['calls_per_job']:.0f} per "
            "job on average); the retries hammer the provider while it is down (a longer base "
            "delay)."
        )
    if worst_p95.p95_s > OUTAGE_TARGETS["p95_s"]:
        raise NotYet(
            f"{line}: jobs finish too late (target: 95% within {OUTAGE_TARGETS['p95_s']:.0f} s); "
            "the waits grow far past the outage (a lower cap, max_delay_s)."
        )
    return f"{line}: every target met on outages you did not tune on."


# --- 4.4.2 an idempotency key ------------------------------------------------------------------


def job_key(ticket: dict[str, Any], prompt_version: str) -> str:
    """The course's answer: a hash of the fields the answer depends on, in a fixed order."""
    request = {k: ticket[k] for k in ("id", "subject", "body")}
    request["prompt"] = prompt_version
    text = json.dumps(request, sort_keys=True)
    return "triage-" + hashlib.sha256(text.encode()).hexdigest()[:32]


_TICKET = {
    "id": "TCK-0042",
    "subject": "VPN drops every hour",
    "body": "Since Monday the VPN disconnects every hour on the hour. Leeds office, Windows.",
}
_PROMPT = "ticket-routing@1"


def _key(answer: Any, probe: Probe, what: str, ticket: dict[str, Any], prompt: str) -> str:
    key = probe.call_as(f"job_key({what})", answer, dict(ticket), prompt)
    if not isinstance(key, str) or not key:
        raise NotYet(f"job_key({what}) returned {key!r:.60}; return a non-empty string.")
    if len(key) > 200 or any(c.isspace() for c in key):
        raise NotYet(
            f"job_key({what}) returned a key of {len(key)} characters"
            + (" with spaces" if any(c.isspace() for c in key) else "")
            + "; the queue accepts up to 200 characters without spaces: hash the request "
            "(hashlib.sha256) instead of pasting its text."
        )
    return key


@exercise(
    "4.4.2",
    title="An idempotency key for a triage request",
    answer_name="job_key",
    reference=job_key,
    solution=SOLUTION,
    hints=(
        "The key names the request: the same inputs give the same key, in any process, on any "
        "day. Which fields does the triage's answer depend on? Only those go in.",
        "Pick ticket['id'], ticket['subject'], ticket['body'] and the prompt version, serialise "
        "them in a fixed order (json.dumps(..., sort_keys=True)) and hash the text with "
        "hashlib.sha256: Python's hash() changes between processes.",
        "Build one dict from those ticket fields and the prompt version, turn it into text "
        "with sorted keys, encode it, hash it and return a short prefix plus the hex digest. "
        "Then test it yourself: the same ticket twice, its fields reordered, one field changed.",
    ),
)
def _check_job_key(answer: Any, probe: Probe) -> str:
    names = getattr(getattr(answer, "__code__", None), "co_names", ())
    if "hash" in names:
        raise NotYet(
            "job_key uses Python's hash(), which gives other numbers for the same text in "
            "another process (PYTHONHASHSEED): a worker or a restarted client would make new "
            "keys. Use hashlib.sha256."
        )
    base = _key(answer, probe, "a ticket", _TICKET, _PROMPT)
    if base != _key(answer, probe, "the same ticket again", _TICKET, _PROMPT):
        raise NotYet(
            "job_key gave two keys for the same request: a client's retry would be "
            "a new job. Derive the key from the request, not from uuid or time."
        )
    reordered = dict(reversed(list(_TICKET.items())))
    if _key(answer, probe, "the same ticket, fields in another order", reordered, _PROMPT) != base:
        raise NotYet(
            "job_key depends on the order of the dict's fields; serialise them in a "
            "fixed order (sort_keys=True)."
        )
    extra = {**_TICKET, "received_at": "2026-10-05T09:14:03Z", "client_retry": 1}
    if (
        _key(answer, probe, "the same ticket with received_at and client_retry", extra, _PROMPT)
        != base
    ):
        raise NotYet(
            "job_key changes when the client adds received_at or a retry count: use "
            "only the fields the answer depends on (id, subject, body)."
        )
    changes = {
        "another ticket id": ({**_TICKET, "id": "TCK-0043"}, _PROMPT),
        "an edited subject": ({**_TICKET, "subject": "VPN drops every 30 minutes"}, _PROMPT),
        "an edited body": ({**_TICKET, "body": _TICKET["body"] + " Also on Mac."}, _PROMPT),
        "another prompt version": (_TICKET, "ticket-routing@2"),
    }
    for what, (ticket, prompt) in changes.items():
        if _key(answer, probe, f"the ticket with {what}", ticket, prompt) == base:
            raise NotYet(
                f"job_key gives the same key for a ticket with {what}: the queue would return "
                "the old job's answer to a new request. Put that field in the key."
            )
    long_body = {**_TICKET, "body": "word " * 2_000}
    _key(answer, probe, "a ticket with a 10,000-character body", long_body, _PROMPT)
    return "one key per request: stable across order and extra fields, new when an input changes."


# --- 4.4.3 the claim ---------------------------------------------------------------------------


def claim(db: sqlite3.Connection, key: str, worker: str, now: float, lease_s: float) -> bool:
    """The course's answer: claim a waiting job, or a running one whose lease has run out.

    The exercise's table records when a claim was taken (``claimed_at``), where the ledger of
    ``course_lib.tasks`` records when it expires: the condition is the learner's to work out.
    """
    cursor = db.execute(
        "UPDATE jobs SET state = 'running', owner = ?, claimed_at = ?, attempts = attempts + 1"
        " WHERE key = ? AND (state IN ('queued', 'retrying')"
        " OR (state = 'running' AND claimed_at + ? <= ?))",
        (worker, now, key, lease_s, now),
    )
    return cursor.rowcount == 1


def _table(rows: list[tuple[str, str, str | None, float | None, int]]) -> sqlite3.Connection:
    db = sqlite3.connect(":memory:", isolation_level=None)
    db.execute(
        "CREATE TABLE jobs (key TEXT PRIMARY KEY, state TEXT NOT NULL, owner TEXT, "
        "claimed_at REAL, attempts INTEGER NOT NULL DEFAULT 0)"
    )
    db.executemany("INSERT INTO jobs VALUES (?, ?, ?, ?, ?)", rows)
    return db


def _rows(db: sqlite3.Connection) -> dict[str, tuple[Any, ...]]:
    return {row[0]: row[1:] for row in db.execute("SELECT * FROM jobs ORDER BY key")}


def _texts(code: Any) -> list[str]:
    """Every string constant in a function's code, its inner functions' included."""
    found: list[str] = []
    for const in getattr(code, "co_consts", ()):
        if isinstance(const, str):
            found.append(const)
        elif hasattr(const, "co_consts"):
            found += _texts(const)
    return found


# (what, the job's row, now, whether a claim by "w2" with a 30 s lease must succeed, why)
_CLAIM_CASES: list[tuple[str, tuple[str, str | None, float | None, int], float, bool, str]] = [
    (
        "a queued job",
        ("queued", None, None, 0),
        100.0,
        True,
        "a queued job is waiting for a worker",
    ),
    (
        "a job waiting for its retry",
        ("retrying", None, None, 1),
        100.0,
        True,
        "a retrying job must run again, or it never finishes",
    ),
    (
        "a job w1 claimed at 100, at 110 (30 s lease)",
        ("running", "w1", 100.0, 1),
        110.0,
        False,
        "w1's lease runs until 130: two workers would run it",
    ),
    (
        "a job w1 claimed at 100, at 129 (30 s lease)",
        ("running", "w1", 100.0, 1),
        129.0,
        False,
        "w1's lease runs until 130: the lease is lease_s seconds after claimed_at",
    ),
    (
        "a job w1 claimed at 100, at 130 (30 s lease)",
        ("running", "w1", 100.0, 1),
        130.0,
        True,
        "w1's lease ran out at 130: its worker died, and the job is lost unless someone claims it",
    ),
    (
        "a job w1 claimed at 100, at 500 (30 s lease)",
        ("running", "w1", 100.0, 1),
        500.0,
        True,
        "w1's lease ran out long ago",
    ),
    ("a done job", ("done", None, None, 1), 100.0, False, "it is done: a second run repeats it"),
    (
        "a dead-lettered job",
        ("dead", None, None, 3),
        100.0,
        False,
        "it is in the dead-letter queue: only a redrive sends it back",
    ),
]


@exercise(
    "4.4.3",
    title="The claim: one atomic UPDATE that exactly one worker wins",
    answer_name="claim",
    reference=claim,
    solution=SOLUTION,
    hints=(
        "A claim succeeds in two situations: the job waits for a worker (queued, or retrying "
        "after a failure), or it is running but its worker's lease has run out. Anything else "
        "(done, dead, running under a live lease) must update no row.",
        "This table stores when the claim was taken, claimed_at, not when it expires. A claim "
        "taken at claimed_at expires lease_s seconds later: write that as a comparison with "
        "now. Each ? needs a value in the tuple, in the order the ? appear.",
        "The shape is WHERE key = ? AND (state IN (...) OR (state = 'running' AND <the lease "
        "has run out>)). Check the edge: claimed at 100 with a 30 s lease, a claim at 130 "
        "wins and one at 129 does not.",
    ),
)
def _check_claim(answer: Any, probe: Probe) -> str:
    if any("lease_until" in text for text in _texts(getattr(answer, "__code__", None))):
        raise NotYet(
            "claim uses lease_until, the column of course_lib.tasks's ledger, which stores "
            "when a claim expires. This table has claimed_at, when the claim was taken: set "
            "claimed_at to now, and work out from claimed_at, lease_s and now whether a "
            "running job's lease has run out."
        )
    for what, (state, owner, claimed, attempts), now, allowed, why in _CLAIM_CASES:
        db = _table([("job", state, owner, claimed, attempts), ("other", "queued", None, None, 0)])
        got = probe.call_as(f"claim on {what}", answer, db, "job", "w2", now, 30.0)
        if not isinstance(got, bool):
            raise NotYet(f"claim on {what} returned {got!r:.40}; return cursor.rowcount == 1.")
        rows = _rows(db)
        if rows["other"] != ("queued", None, None, 0):
            raise NotYet(f"claim on {what} also changed another job: keep `key = ?` in the WHERE.")
        if got != allowed:
            verb = "claimed" if got else "refused"
            raise NotYet(f"claim {verb} {what}, but {why}.")
        if allowed and rows["job"] != ("running", "w2", now, attempts + 1):
            raise NotYet(
                f"after claiming {what} the row is {rows['job']}; expected running, "
                f"owner w2, claimed_at {now}, attempts {attempts + 1}."
            )
        if not allowed and rows["job"] != (state, owner, claimed, attempts):
            raise NotYet(f"claim on {what} returned False but changed the row to {rows['job']}.")
    db = _table([("job", "queued", None, None, 0)])
    first = probe.call_as("claim by w1", answer, db, "job", "w1", 100.0, 30.0)
    second = probe.call_as("claim by w2 a second later", answer, db, "job", "w2", 101.0, 30.0)
    if (first, second) != (True, False):
        raise NotYet(
            f"two workers claimed one queued job, 1 s apart: {first}, {second}; "
            "exactly the first must win."
        )
    missing = probe.call_as("claim of a key not in the table", answer, db, "nope", "w1", 1.0, 30.0)
    if missing is not False:
        raise NotYet("claim of a key that is not in the table must return False.")
    return (
        f"right on all {len(_CLAIM_CASES) + 2} cases: waiting jobs and expired leases are "
        "claimed; live claims, done and dead jobs are not."
    )
