"""Plausible wrong answers to lesson 4.4's exercises; each must be rejected by its checker."""

from __future__ import annotations

from typing import Any

from course_lib.course.exercises import lesson_4_4
from course_lib.tasks import RetryPolicy

# --- 4.4.1 retry_policy (values, not functions) -----------------------------------------------

_THE_STUB = RetryPolicy(max_attempts=3, base_delay_s=0.0, max_delay_s=0.0)
_MANY_IMMEDIATE_RETRIES = RetryPolicy(max_attempts=20, base_delay_s=0.0, max_delay_s=0.0)
_THE_DEFAULT_POLICY = RetryPolicy()  # 5 attempts: the outage outlasts them
_A_CAP_FAR_PAST_THE_OUTAGE = RetryPolicy(max_attempts=12, base_delay_s=1.0, max_delay_s=60.0)
_A_TINY_BASE = RetryPolicy(max_attempts=20, base_delay_s=0.1, max_delay_s=8.0)
_A_FIXED_ONE_SECOND = RetryPolicy(max_attempts=20, base_delay_s=1.0, max_delay_s=1.0)
_TUNED_ONLY_TO_OUTAGE_0 = RetryPolicy(max_attempts=6, base_delay_s=2.0, max_delay_s=8.0)
_THE_PLOTTED_POLICY = RetryPolicy(6, 0.5, 4.0)  # the backoff plot: no knob alone fixes it
_A_DICT_OF_SETTINGS = {"max_attempts": 10, "base_delay_s": 1.0, "max_delay_s": 8.0}
_TAKEN_FROM_THE_EXERCISE_MODULE = lesson_4_4._reference_policy()


# --- 4.4.2 job_key -----------------------------------------------------------------------------


def _a_random_key(ticket, prompt_version):
    import uuid

    return uuid.uuid4().hex


def _the_ticket_id_only(ticket, prompt_version):
    return f"triage-{ticket['id']}"


def _forgets_the_prompt_version(ticket, prompt_version):
    import hashlib
    import json

    fields = {k: ticket[k] for k in ("id", "subject", "body")}
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


def _hashes_the_whole_dict(ticket, prompt_version):
    import hashlib
    import json

    text = json.dumps({**ticket, "prompt": prompt_version}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _json_in_dict_order(ticket, prompt_version):
    import hashlib
    import json

    fields = {k: v for k, v in ticket.items() if k in ("id", "subject", "body")}
    fields["prompt"] = prompt_version
    return hashlib.sha256(json.dumps(fields).encode()).hexdigest()


def _pastes_the_text(ticket, prompt_version):
    return f"{ticket['id']}:{prompt_version}:{ticket['subject']}:{ticket['body']}"


def _pythons_hash(ticket, prompt_version):
    return f"triage-{hash((ticket['id'], ticket['subject'], ticket['body'], prompt_version))}"


# --- 4.4.3 claim -------------------------------------------------------------------------------


def _the_stub_claim(db, key, worker, now, lease_s):
    cursor = db.execute(
        "UPDATE jobs SET state = 'running', owner = ?, claimed_at = ?, attempts = attempts + 1"
        " WHERE key = ?",
        (worker, now, key),
    )
    return cursor.rowcount == 1


def _only_queued_jobs(db, key, worker, now, lease_s):
    cursor = db.execute(
        "UPDATE jobs SET state = 'running', owner = ?, claimed_at = ?, attempts = attempts + 1"
        " WHERE key = ? AND state = 'queued'",
        (worker, now, key),
    )
    return cursor.rowcount == 1


def _anything_not_done(db, key, worker, now, lease_s):
    cursor = db.execute(
        "UPDATE jobs SET state = 'running', owner = ?, claimed_at = ?, attempts = attempts + 1"
        " WHERE key = ? AND state != 'done' AND (state != 'running' OR claimed_at + ? <= ?)",
        (worker, now, key, lease_s, now),
    )
    return cursor.rowcount == 1


def _lease_compared_backwards(db, key, worker, now, lease_s):
    cursor = db.execute(
        "UPDATE jobs SET state = 'running', owner = ?, claimed_at = ?, attempts = attempts + 1"
        " WHERE key = ? AND (state IN ('queued', 'retrying')"
        " OR (state = 'running' AND claimed_at + ? >= ?))",
        (worker, now, key, lease_s, now),
    )
    return cursor.rowcount == 1


def _claimed_at_read_as_the_expiry(db, key, worker, now, lease_s):
    cursor = db.execute(
        "UPDATE jobs SET state = 'running', owner = ?, claimed_at = ?, attempts = attempts + 1"
        " WHERE key = ? AND (state IN ('queued', 'retrying')"
        " OR (state = 'running' AND claimed_at <= ?))",
        (worker, now, key, now),
    )
    return cursor.rowcount == 1


def _lease_edge_excluded(db, key, worker, now, lease_s):
    cursor = db.execute(
        "UPDATE jobs SET state = 'running', owner = ?, claimed_at = ?, attempts = attempts + 1"
        " WHERE key = ? AND (state IN ('queued', 'retrying')"
        " OR (state = 'running' AND claimed_at + ? < ?))",
        (worker, now, key, lease_s, now),
    )
    return cursor.rowcount == 1


def _waiting_jobs_but_no_expired_lease(db, key, worker, now, lease_s):
    cursor = db.execute(
        "UPDATE jobs SET state = 'running', owner = ?, claimed_at = ?, attempts = attempts + 1"
        " WHERE key = ? AND state IN ('queued', 'retrying')",
        (worker, now, key),
    )
    return cursor.rowcount == 1


def _copies_the_librarys_statement(db, key, worker, now, lease_s):
    cursor = db.execute(
        "UPDATE jobs SET state = 'running', owner = ?, lease_until = ?, attempts = attempts + 1"
        " WHERE key = ? AND (state IN ('queued', 'retrying')"
        " OR (state = 'running' AND lease_until <= ?))",
        (worker, now + lease_s, key, now),
    )
    return cursor.rowcount == 1


def _read_then_write(db, key, worker, now, lease_s):
    row = db.execute("SELECT state FROM jobs WHERE key = ?", (key,)).fetchone()
    if row is None or row[0] == "done":
        return False
    db.execute(
        "UPDATE jobs SET state = 'running', owner = ?, claimed_at = ? WHERE key = ?",
        (worker, now, key),
    )
    return True


def _forgets_the_key(db, key, worker, now, lease_s):
    cursor = db.execute(
        "UPDATE jobs SET state = 'running', owner = ?, claimed_at = ?, attempts = attempts + 1"
        " WHERE state IN ('queued', 'retrying') OR (state = 'running' AND claimed_at + ? <= ?)",
        (worker, now, lease_s, now),
    )
    return cursor.rowcount >= 1


def _returns_the_cursor(db, key, worker, now, lease_s):
    return db.execute(
        "UPDATE jobs SET state = 'running', owner = ?, claimed_at = ?, attempts = attempts + 1"
        " WHERE key = ? AND (state IN ('queued', 'retrying')"
        " OR (state = 'running' AND claimed_at + ? <= ?))",
        (worker, now, key, lease_s, now),
    )


WRONG_ANSWERS: dict[str, list[Any]] = {
    "4.4.1": [
        _THE_STUB,
        _MANY_IMMEDIATE_RETRIES,
        _THE_DEFAULT_POLICY,
        _A_CAP_FAR_PAST_THE_OUTAGE,
        _A_TINY_BASE,
        _A_FIXED_ONE_SECOND,
        _TUNED_ONLY_TO_OUTAGE_0,
        _THE_PLOTTED_POLICY,
        _A_DICT_OF_SETTINGS,
        _TAKEN_FROM_THE_EXERCISE_MODULE,
    ],
    "4.4.2": [
        _a_random_key,
        _the_ticket_id_only,
        _forgets_the_prompt_version,
        _hashes_the_whole_dict,
        _json_in_dict_order,
        _pastes_the_text,
        _pythons_hash,
    ],
    "4.4.3": [
        _the_stub_claim,
        _only_queued_jobs,
        _anything_not_done,
        _lease_compared_backwards,
        _waiting_jobs_but_no_expired_lease,
        _claimed_at_read_as_the_expiry,
        _lease_edge_excluded,
        _copies_the_librarys_statement,
        _read_then_write,
        _forgets_the_key,
        _returns_the_cursor,
    ],
}
