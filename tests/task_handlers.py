"""Job handlers for the task-queue tests, in a module so worker processes can import them.

Each records every call in a SQLite file named by the payload (one row per call, with the
job's key and attempt), so a test counts how often a job's handler really ran.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from course_lib.tasks import current_job


def _record(payload: dict[str, Any]) -> None:
    job = current_job()
    with sqlite3.connect(payload["calls"], timeout=30) as db:
        db.execute("CREATE TABLE IF NOT EXISTS calls (key TEXT, attempt INTEGER)")
        db.execute("INSERT INTO calls VALUES (?, ?)", (job.key, job.attempts))


def square(payload: dict[str, Any]) -> dict[str, Any]:
    """Fails the first ``fail_first`` attempts (a flaky provider), then squares ``n``."""
    _record(payload)
    time.sleep(payload.get("sleep", 0.0))
    if current_job().attempts <= payload.get("fail_first", 0):
        raise RuntimeError("provider returned 503")
    return {"square": payload["n"] ** 2}


def malformed(payload: dict[str, Any]) -> None:
    """A request no retry can fix."""
    _record(payload)
    raise ValueError("the request is malformed")


def calls(path: str) -> list[tuple[str, int]]:
    with sqlite3.connect(path) as db:
        try:
            return list(db.execute("SELECT key, attempt FROM calls ORDER BY rowid"))
        except sqlite3.OperationalError:
            return []
