"""Lesson 4.4's classroom: planted faults, the prototype, the retry storm, backpressure and
the crash run, the queue parts on SQLite and on Redis."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from course_lib.labs import (
    OUTAGE_TARGETS,
    backlog_run,
    crash_run,
    drain,
    outage_run,
    outbox_counts,
    planted_fault,
    prototype_huey,
    quick_route,
    reset_outbox,
    ticket_payloads,
    triage_ticket,
)
from course_lib.tasks import RetryPolicy, TaskQueue

HANDLER = "course_lib.labs.queue_lab:triage_job"


@pytest.fixture
def outbox(tmp_path: Path) -> Path:
    return reset_outbox(tmp_path / "outbox.sqlite")


def _queue(store_url: str | None, **kwargs: object) -> TaskQueue:
    kwargs.setdefault("retry", RetryPolicy(max_attempts=3, base_delay_s=0.0, max_delay_s=0.0))
    return TaskQueue(HANDLER, name=f"lab{uuid.uuid4().hex[:8]}", url=store_url or "", **kwargs)  # type: ignore[arg-type]


def test_planted_faults_are_a_seeded_hash_at_the_rate_asked() -> None:
    draws = [planted_fault(f"job-{n}", 1) for n in range(5_000)]
    assert draws == [planted_fault(f"job-{n}", 1) for n in range(5_000)]
    assert 0.18 < sum(draws) / len(draws) < 0.22
    assert [planted_fault("k", a, seed=1) for a in range(1, 30)] != [
        planted_fault("k", a, seed=2) for a in range(1, 30)
    ]


def test_quick_route_names_a_queue() -> None:
    assert quick_route("I cannot sign in, Okta Verify says my MFA is locked") == "login_mfa"
    assert quick_route("my laptop battery is swollen") == "hardware"
    assert quick_route("nothing matches here") == "incident_report"


def test_the_prototype_loses_faulted_jobs_and_repeats_a_resubmission(outbox: Path) -> None:
    prototype_huey.flush()
    jobs = ticket_payloads(50, outbox, seed=0)
    for _key, payload in jobs:
        triage_ticket(payload)
    triage_ticket(jobs[0][1])  # a client's resubmission
    while (message := prototype_huey.dequeue()) is not None:
        prototype_huey.execute(message)
    counts = outbox_counts(outbox)
    faults = sum(planted_fault(key, 1) for key, _ in jobs)
    assert faults > 0
    assert counts["runs"] == 51
    assert counts["notices"] == 51 - counts["failed runs"]
    assert counts["notices"] < 50  # faulted tickets were never triaged, and nothing says so


def test_the_production_handler_retries_dead_letters_and_writes_once(
    store_url: str | None, outbox: Path
) -> None:
    queue = _queue(store_url)
    jobs = ticket_payloads(60, outbox, seed=0)
    for number, (key, payload) in enumerate(jobs * 2):
        blank = {**payload, "subject": "", "body": ""}
        queue.submit(blank if number == 5 else payload, key=key)
    drain(queue)
    counts = queue.counts()
    assert counts["done"] + counts["dead"] == 60 and counts["queued"] == counts["running"] == 0
    dead = {job.key: job for job in queue.dead_letters()}
    assert dead[jobs[5][0]].attempts == 1 and dead[jobs[5][0]].error.startswith("ValueError")
    effects = outbox_counts(outbox)
    assert effects["routed"] == counts["done"]
    assert effects["runs"] - effects["failed runs"] == counts["done"]


def test_outage_run_is_deterministic_and_separates_policies() -> None:
    naive = RetryPolicy(max_attempts=3, base_delay_s=0.0, max_delay_s=0.0)
    good = RetryPolicy(max_attempts=10, base_delay_s=1.0, max_delay_s=8.0)
    assert outage_run(good, 3) == outage_run(good, 3)
    assert not outage_run(naive, 0).meets()
    assert all(outage_run(good, seed).meets(OUTAGE_TARGETS) for seed in (0, 101, 102, 103))
    assert "dead-lettered" in str(outage_run(naive, 0))


def test_backpressure_bounds_the_backlog(store_url: str | None, outbox: Path) -> None:
    queue = _queue(store_url, max_pending=15)
    jobs = ticket_payloads(90, outbox, fault_rate=0.0)
    frame = backlog_run(
        lambda key, payload: queue.submit(payload, key=key),
        queue.run_pending,
        queue.pending,
        jobs,
        arrivals=12,
        capacity=8,
    )
    assert frame["backlog"].max() <= 15
    assert frame["refused"].iloc[-1] > 0
    assert queue.counts()["done"] == 90


@pytest.mark.slow
def test_the_crash_run_loses_nothing_and_writes_each_route_once(
    store_url: str | None, outbox: Path
) -> None:
    queue = _queue(store_url, lease_s=1.0, retry=RetryPolicy(6, 0.0, 0.0))
    jobs = ticket_payloads(150, outbox, seed=3, work_s=0.002)
    run = crash_run(queue, jobs, outbox, kill_after=40)
    assert (run.done, run.lost, run.dead) == (150, 0, 0)
    assert run.results_recorded == run.routed_rows == 150
    assert run.keys_routed_twice == 0
    assert run.handler_runs >= 150 + run.failed_runs
