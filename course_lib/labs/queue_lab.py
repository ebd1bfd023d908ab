"""Lesson 4.4's classroom: a ticket-triage job with planted provider faults, the tutorial's
plain huey task, a producer that outruns its workers, a retry storm in virtual time, and the
crash run (1,000 jobs, two worker processes, one killed with SIGKILL).

Worker processes import the handlers by path, so they live here, at the top of a module, and
import nothing heavy at load time. Every fault is *planted*: a seeded hash of the job's key
and attempt decides it, so a run's retries are exact and the same on every machine.
"""

from __future__ import annotations

import hashlib
import os
import random
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from huey import SqliteHuey

from course_lib.workdir import work_path

__all__ = [
    "OUTAGE_TARGETS",
    "CrashRun",
    "OutageScore",
    "ProviderError",
    "backlog_run",
    "crash_run",
    "drain",
    "outage_run",
    "outbox_counts",
    "planted_fault",
    "plot_backlog",
    "plot_retry_times",
    "prototype_huey",
    "quick_route",
    "quiet_queue_logs",
    "reset_outbox",
    "start_prototype_worker",
    "ticket_payloads",
    "triage_job",
    "triage_ticket",
    "wait_until",
]


class ProviderError(RuntimeError):
    """A transient provider failure (a 503, a timeout): planted, retrying may fix it."""


def planted_fault(key: str, attempt: int, rate: float = 0.2, seed: int = 0) -> bool:
    """True when the planted provider fails this (job, attempt): a seeded hash, not chance."""
    digest = hashlib.sha256(f"{seed}:{key}:{attempt}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < rate


# --- the job's work: a triage, its run log and its side effect --------------------------------

_ROUTES = {
    "login_mfa": ("password", "mfa", "okta", "sign in", "log in", "locked", "yubikey", "sso"),
    "access_request": ("access", "permission", "group", "membership", "role"),
    "hardware": ("laptop", "monitor", "dock", "headset", "keyboard", "battery", "screen"),
    "software_licence": ("licence", "license", "seat", "subscription"),
    "deploy_ci": ("deploy", "pipeline", "build", "argo", "rollback", "github actions"),
    "incident_report": ("down", "outage", "degraded", "5xx", "latency", "error rate"),
    "data_request": ("dashboard", "query", "warehouse", "dbt", "export", "metric"),
    "security_report": ("phishing", "leaked", "stolen", "suspicious", "secret"),
    "expenses_travel": ("expense", "receipt", "reimburse", "travel", "card", "trip"),
    "hr_people": ("leave", "payroll", "benefit", "onboarding", "holiday", "parental"),
}


def quick_route(text: str) -> str:
    """A fast keyword triage: the jobs' work. The lesson measures the queue around the call,
    and a cheap call keeps a thousand jobs (and their retries) within seconds."""
    lowered = text.lower()
    scores = {name: sum(word in lowered for word in words) for name, words in _ROUTES.items()}
    best = max(scores, key=lambda name: scores[name])
    return best if scores[best] else "incident_report"


_CONNECTIONS: dict[str, sqlite3.Connection] = {}
_LOCK = threading.Lock()


@contextmanager
def _outbox(path: str) -> Iterator[sqlite3.Connection]:
    """One connection per process and outbox file (WAL, NORMAL sync: a killed worker's
    committed rows stay), shared by this process's threads under a lock."""
    with _LOCK:
        db = _CONNECTIONS.get(path)
        if db is None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(
                "CREATE TABLE IF NOT EXISTS runs (key TEXT, attempt INTEGER, pid INTEGER,"
                " outcome TEXT);"
                "CREATE TABLE IF NOT EXISTS notices (key TEXT, category TEXT);"
                "CREATE TABLE IF NOT EXISTS routed (key TEXT PRIMARY KEY, category TEXT);"
            )
            _CONNECTIONS[path] = db
        yield db


def reset_outbox(path: Path) -> Path:
    """Empties the outbox file (the run log and both side-effect tables)."""
    with _outbox(str(path)) as db:
        db.executescript("DELETE FROM runs; DELETE FROM notices; DELETE FROM routed;")
    return path


def _log_run(path: str, key: str, attempt: int, outcome: str) -> None:
    with _outbox(path) as db:
        db.execute("INSERT INTO runs VALUES (?, ?, ?, ?)", (key, attempt, os.getpid(), outcome))


def _attempts_so_far(path: str, key: str) -> int:
    with _outbox(path) as db:
        (count,) = db.execute("SELECT COUNT(*) FROM runs WHERE key = ?", (key,)).fetchone()
    return int(count)


def outbox_counts(path: Path) -> dict[str, int]:
    """What the handlers did: runs, failed runs, side effects, and keys affected twice."""
    with _outbox(str(path)) as db:

        def one(sql: str) -> int:
            return int(db.execute(sql).fetchone()[0])

        return {
            "runs": one("SELECT COUNT(*) FROM runs"),
            "failed runs": one("SELECT COUNT(*) FROM runs WHERE outcome != 'ok'"),
            "notices": one("SELECT COUNT(*) FROM notices"),
            "routed": one("SELECT COUNT(*) FROM routed"),
            "keys run ok twice": one(
                "SELECT COUNT(*) FROM (SELECT key FROM runs WHERE outcome = 'ok' "
                "GROUP BY key HAVING COUNT(*) > 1)"
            ),
            "keys notified twice": one(
                "SELECT COUNT(*) FROM (SELECT key FROM notices GROUP BY key HAVING COUNT(*) > 1)"
            ),
        }


def _route(payload: dict[str, Any]) -> str:
    text = f"{payload.get('subject', '')}\n{payload.get('body', '')}"
    if not text.strip():
        raise ValueError("the ticket has no subject and no body: a malformed request")
    return quick_route(text)


def _call_provider(payload: dict[str, Any], key: str, attempt: int) -> str:
    time.sleep(float(payload.get("work_s", 0.0)))
    if planted_fault(key, attempt, payload.get("fault_rate", 0.2), payload.get("fault_seed", 0)):
        raise ProviderError(f"provider returned 503 (planted fault, attempt {attempt})")
    return _route(payload)


def triage_job(payload: dict[str, Any]) -> dict[str, str]:
    """The production handler: triage a ticket, record the route once per job key.

    It logs every run (to count repeated runs honestly) and writes its side effect with the
    job's key as primary key, so a second run of the same job changes nothing.
    """
    from course_lib.tasks import current_job

    job = current_job()
    outbox = str(payload["outbox"])
    try:
        category = _call_provider(payload, job.key, job.attempts)
    except Exception as exc:
        _log_run(outbox, job.key, job.attempts, type(exc).__name__)
        raise
    with _outbox(outbox) as db:  # the route and the run's log line in one transaction
        db.execute("BEGIN")
        db.execute("INSERT OR IGNORE INTO routed VALUES (?, ?)", (job.key, category))
        db.execute("INSERT INTO runs VALUES (?, ?, ?, 'ok')", (job.key, job.attempts, os.getpid()))
        db.execute("COMMIT")
    return {"category": category}


def quiet_queue_logs() -> None:
    """huey logs every failed task with a traceback; the lesson counts failures instead."""
    import logging

    logging.getLogger("huey").setLevel(logging.CRITICAL)
    logging.getLogger("course_lib.tasks").setLevel(logging.ERROR)


def drain(queue: Any, timeout_s: float = 60.0) -> int:
    """Runs ``queue``'s jobs in this thread until none is pending (retries included, each
    after its backoff); returns how many messages ran. Faster than worker threads for short
    waits: huey's scheduler looks for due retries only once a second."""
    deadline, ran = time.monotonic() + timeout_s, 0
    while queue.pending():
        ran += queue.run_pending()
        if time.monotonic() > deadline:
            raise TimeoutError(f"jobs still pending after {timeout_s:.0f} s: {queue.counts()}")
        time.sleep(0.005)
    return ran


def wait_until(condition: Callable[[], bool], timeout_s: float = 30.0) -> None:
    """Polls ``condition`` (real time) until it holds; raises after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout_s:.0f} s and the workers did not get there")
        time.sleep(0.02)


# --- the tutorial's prototype: a plain huey task ----------------------------------------------

prototype_huey = SqliteHuey(
    "prototype", filename=str(work_path("lesson_4_4", "prototype.huey.sqlite")), fsync=False
)


@prototype_huey.task()  # type: ignore[untyped-decorator]
def triage_ticket(ticket: dict[str, Any]) -> str:
    """The tutorial's task: call the model, post a notice for the team, return the route."""
    outbox, key = str(ticket["outbox"]), str(ticket["id"])
    attempt = _attempts_so_far(outbox, key) + 1
    try:
        category = _call_provider(ticket, key, attempt)
    except Exception as exc:
        _log_run(outbox, key, attempt, type(exc).__name__)
        raise
    with _outbox(outbox) as db:
        db.execute("INSERT INTO notices VALUES (?, ?)", (key, category))
    _log_run(outbox, key, attempt, "ok")
    return category


def start_prototype_worker() -> subprocess.Popen[bytes]:
    """huey's own consumer, one worker, in a process: ``huey_consumer queue_lab.prototype_huey``."""
    log = work_path("lesson_4_4", "prototype-worker.log")
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "huey.bin.huey_consumer",
                f"{__name__}.prototype_huey",
                "-w",
                "1",
                "-k",
                "thread",
                "-d",
                "0.02",
                "-m",
                "0.1",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 30
    while "consumer" not in log.read_text(errors="replace").lower():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("the prototype worker did not start: " + log.read_text()[-300:])
        time.sleep(0.05)
    return process


def ticket_payloads(
    count: int, outbox: Path, *, seed: int = 0, work_s: float = 0.0, fault_rate: float = 0.2
) -> list[tuple[str, dict[str, Any]]]:
    """``count`` (key, payload) pairs over the service desk's tickets, cycling through them."""
    from course_lib.datasets import load_tickets

    tickets = load_tickets()[["id", "subject", "body"]].to_dict("records")
    jobs = []
    for n in range(count):
        ticket = tickets[n % len(tickets)]
        key = f"{ticket['id']}-{n:04d}"
        payload = {"id": key, "subject": ticket["subject"], "body": ticket["body"]}
        payload.update(outbox=str(outbox), work_s=work_s, fault_rate=fault_rate, fault_seed=seed)
        jobs.append((key, payload))
    return jobs


# --- backpressure: a producer faster than the workers -----------------------------------------


def backlog_run(
    submit: Callable[[str, dict[str, Any]], None],
    work: Callable[[int], Any],
    backlog: Callable[[], int],
    jobs: Sequence[tuple[str, dict[str, Any]]],
    *,
    arrivals: int = 30,
    capacity: int = 20,
) -> Any:
    """Ticks of virtual time: each, the producer offers ``arrivals`` jobs (after a refusal it
    stops for the tick and offers the rest again next tick, first), then the workers run
    ``capacity``; until every job is submitted and the backlog is empty. Returns a frame per
    tick: the backlog the workers found, jobs submitted and refusals so far."""
    import pandas as pd

    queue = list(jobs)
    waiting: list[tuple[str, dict[str, Any]]] = []
    rows, tick = [], 0
    submitted = refused = 0
    while queue or waiting or backlog():
        offered, waiting = waiting + queue[:arrivals], []
        queue = queue[arrivals:]
        for index, (key, payload) in enumerate(offered):
            try:
                submit(key, payload)
                submitted += 1
            except Exception as exc:  # refused: the producer holds the rest and backs off
                if "is full" not in str(exc):
                    raise
                refused += 1
                waiting = list(offered[index:])
                break
        tick += 1
        rows.append(
            {"tick": tick, "backlog": backlog(), "submitted": submitted, "refused": refused}
        )
        work(capacity)
        if tick > 10 * len(jobs):
            raise RuntimeError("the backlog run did not finish: is work() running jobs?")
    return pd.DataFrame(rows)


def plot_backlog(runs: dict[str, Any]) -> Any:
    """The backlog after each tick, one line per run (``{label: frame with 'backlog'}``)."""
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 3))
    for label, frame in runs.items():
        axis.plot(frame["tick"], frame["backlog"], label=label)
    axis.set(xlabel="tick (the workers run 20 jobs a tick)", ylabel="jobs waiting")
    axis.legend(frameon=False)
    figure.tight_layout()
    plt.close(figure)
    return figure


# --- a retry storm in virtual time -------------------------------------------------------------

OUTAGE_TARGETS = {"dead_letters": 2, "calls_per_job": 4.0, "p95_s": 15.0}
"""What exercise 4.4.1 asks on every held-out outage: at most 2 of 400 jobs dead-lettered, at
most 4 provider calls per job (no hammering), 95% of jobs done within 15 s."""


@dataclass(frozen=True)
class OutageScore:
    """One run of :func:`outage_run`: what a retry policy did during a provider outage."""

    jobs: int
    dead_letters: int
    calls: int
    calls_per_job: float
    p95_s: float
    outage: tuple[float, float]

    def meets(self, targets: dict[str, float] = OUTAGE_TARGETS) -> bool:
        return (
            self.dead_letters <= targets["dead_letters"]
            and self.calls_per_job <= targets["calls_per_job"]
            and self.p95_s <= targets["p95_s"]
        )

    def __str__(self) -> str:
        start, end = self.outage
        done = (
            f"95% done within {self.p95_s:.1f} s"
            if self.p95_s < float("inf")
            else "over 5% never done"
        )
        return (
            f"outage {start:.1f}-{end:.1f} s: {self.dead_letters} of {self.jobs} dead-lettered, "
            f"{self.calls_per_job:.2f} calls per job, {done}"
        )


def outage_run(policy: Any, seed: int = 0, jobs: int = 400) -> OutageScore:
    """Jobs arriving over 2 s meet a provider that is down for a few seconds (the seed sets
    when and how long) and fails 20% of calls otherwise (planted). Each failed attempt waits
    ``policy.delay(attempt)``, as the task queue does; after ``policy.max_attempts`` the job is
    dead. Virtual time: no sleeping, the same figures everywhere."""
    layout = random.Random(seed)
    start = 1.0 + layout.uniform(0.0, 0.5)
    end = start + 4.0 + layout.uniform(0.0, 3.0)
    jitter = random.Random(seed + 1)
    dead = calls = 0
    latencies = []
    for number in range(jobs):
        arrival = layout.uniform(0.0, 2.0)
        now, attempt = arrival, 1
        while True:
            calls += 1
            down = start <= now < end
            if not down and not planted_fault(f"job-{number}", attempt, 0.2, seed):
                latencies.append(now - arrival)
                break
            if attempt >= policy.max_attempts:
                dead += 1
                latencies.append(float("inf"))
                break
            now += policy.delay(attempt, jitter)
            attempt += 1
    latencies.sort()
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    return OutageScore(jobs, dead, calls, calls / jobs, p95, (start, end))


def plot_retry_times(policies: dict[str, Any], seed: int = 0, jobs: int = 12) -> Any:
    """When each of ``jobs`` jobs that failed together at t=0 retries, per policy."""
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(policies), figsize=(9, 2.8), sharey=True, squeeze=False)
    for axis, (label, policy) in zip(axes[0], policies.items(), strict=True):
        rng = random.Random(seed)
        for job in range(jobs):
            times, now = [0.0], 0.0
            for attempt in range(1, policy.max_attempts):
                now += policy.delay(attempt, rng)
                times.append(now)
            axis.plot(times, [job] * len(times), "|", markersize=9)
        axis.set(title=label, xlabel="seconds after the first failure")
    axes[0][0].set_ylabel("job")
    figure.tight_layout()
    plt.close(figure)
    return figure


# --- the crash run -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CrashRun:
    """The 1,000-job run: invariants (compared) and what depended on timing (not compared)."""

    jobs: int
    done: int
    lost: int
    dead: int
    results_recorded: int
    routed_rows: int
    keys_routed_twice: int
    handler_runs: int
    failed_runs: int
    repeated_ok_runs: int
    held_by_killed_worker: int
    swept: int
    seconds: float

    def invariants(self) -> str:
        return (
            f"{self.jobs} jobs: {self.done} done, {self.lost} lost, {self.dead} dead-lettered; "
            f"{self.results_recorded} results recorded, {self.routed_rows} routes written, "
            f"{self.keys_routed_twice} jobs with a second route"
        )


def _held_by(queue: Any, pid: int) -> list[str]:
    """The jobs a worker process holds a claim on (its worker ids start with its pid)."""
    jobs = (queue.ledger.get(key) for key in queue.ledger.keys("running"))
    return [job.key for job in jobs if job is not None and (job.owner or "").startswith(f"{pid}-")]


def _start_workers(queue: Any, count: int) -> list[Any]:
    with ThreadPoolExecutor(count) as pool:  # start them side by side: each imports for ~1 s
        return list(pool.map(lambda _: queue.start_worker_process(workers=1), range(count)))


def crash_run(
    queue: Any,
    jobs: Sequence[tuple[str, dict[str, Any]]],
    outbox: Path,
    *,
    kill_after: int | None = None,
    timeout_s: float = 120.0,
) -> CrashRun:
    """Submits ``jobs``, starts two worker processes, SIGKILLs one mid-job once
    ``kill_after`` jobs (default: half) are done, sweeps until every job settles, and counts."""
    kill_after = len(jobs) // 2 if kill_after is None else min(kill_after, len(jobs) - 1)
    queue.clear()
    reset_outbox(outbox)
    started = time.monotonic()
    for key, payload in jobs:
        queue.submit(payload, key=key)
    workers = _start_workers(queue, 2)
    swept: list[str] = []
    try:
        deadline = time.monotonic() + timeout_s
        while queue.counts()["done"] < kill_after and time.monotonic() < deadline:
            time.sleep(0.01)
        victim = workers[0]
        while not _held_by(queue, victim.pid) and time.monotonic() < deadline:
            pass  # kill it while it holds a job: mid-job
        victim.kill()
        held = _held_by(queue, victim.pid)
        deadline = time.monotonic() + timeout_s
        while queue.pending() and time.monotonic() < deadline:
            swept += queue.sweep()
            time.sleep(0.25)
    finally:
        for worker in workers:
            worker.stop()
    counts = queue.counts()
    done_keys = set(queue.ledger.keys("done"))
    recorded = sum(queue.job(key).result is not None for key in done_keys)
    effects = outbox_counts(outbox)
    with _outbox(str(outbox)) as db:
        twice = db.execute(
            "SELECT COUNT(*) FROM (SELECT key FROM routed GROUP BY key HAVING COUNT(*) > 1)"
        ).fetchone()[0]
    return CrashRun(
        jobs=len(jobs),
        done=counts["done"],
        lost=sum(key not in done_keys for key, _ in jobs) - counts["dead"],
        dead=counts["dead"],
        results_recorded=recorded,
        routed_rows=effects["routed"],
        keys_routed_twice=int(twice),
        handler_runs=effects["runs"],
        failed_runs=effects["failed runs"],
        repeated_ok_runs=effects["keys run ok twice"],
        held_by_killed_worker=len(held),
        swept=len(swept),
        seconds=time.monotonic() - started,
    )
