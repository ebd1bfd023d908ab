"""The task queue, each behaviour run on SQLite and on Redis.

``store_url`` is None (huey's SQLite storage and the ledger in the test's work directory) or
the worker's Redis, where each test uses a queue name of its own.
"""

from __future__ import annotations

import collections
import uuid
from pathlib import Path
from typing import Any

import pytest

from course_lib.errors import EngineUnavailableError, TaskQueueError
from course_lib.tasks import RetryPolicy, TaskQueue, current_job
from tests import task_handlers
from tests.task_handlers import calls

NO_WAIT = RetryPolicy(max_attempts=3, base_delay_s=0.0, max_delay_s=0.0)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def _queue(store_url: str | None, handler: Any = task_handlers.square, **kwargs: Any) -> TaskQueue:
    kwargs.setdefault("retry", NO_WAIT)
    return TaskQueue(handler, name=f"t{uuid.uuid4().hex[:10]}", url=store_url or "", **kwargs)


@pytest.fixture
def calls_file(tmp_path: Path) -> str:
    return str(tmp_path / "calls.sqlite")


def test_a_job_runs_once_and_its_result_is_recorded(store_url: str | None, calls_file: str) -> None:
    queue = _queue(store_url)
    job = queue.submit({"n": 7, "calls": calls_file}, key="ticket-7")
    assert (job.key, job.state, job.attempts) == ("ticket-7", "queued", 0)
    assert queue.run_pending() == 1
    done = queue.job("ticket-7")
    assert (done.state, done.result, done.attempts, done.error) == ("done", {"square": 49}, 1, None)
    assert queue.counts() == {"queued": 0, "running": 0, "retrying": 0, "done": 1, "dead": 0}
    assert calls(calls_file) == [("ticket-7", 1)]


def test_the_same_key_is_the_same_job(store_url: str | None, calls_file: str) -> None:
    queue = _queue(store_url)
    first = queue.submit({"n": 2, "calls": calls_file}, key="req-1")
    again = queue.submit({"n": 999, "calls": calls_file}, key="req-1")  # a client's retry
    assert again.payload == first.payload == {"n": 2, "calls": calls_file}
    assert queue.run_pending() == 1
    queue.submit({"n": 2, "calls": calls_file}, key="req-1")  # after it is done, too
    assert queue.run_pending() == 0
    assert len(calls(calls_file)) == 1


def test_a_duplicate_message_does_no_second_run(store_url: str | None, calls_file: str) -> None:
    queue = _queue(store_url)
    queue.submit({"n": 3, "calls": calls_file}, key="dup")
    queue._task("dup")  # the broker delivered twice
    assert queue.run_pending() == 2
    assert calls(calls_file) == [("dup", 1)]


def test_failures_are_retried_until_the_job_succeeds(
    store_url: str | None, calls_file: str
) -> None:
    queue = _queue(store_url)
    queue.submit({"n": 4, "fail_first": 2, "calls": calls_file}, key="flaky")
    queue.run_pending()
    job = queue.job("flaky")
    assert (job.state, job.attempts, job.result) == ("done", 3, {"square": 16})
    assert [attempt for _, attempt in calls(calls_file)] == [1, 2, 3]


def test_a_job_that_keeps_failing_is_dead_lettered_and_can_be_redriven(
    store_url: str | None, calls_file: str
) -> None:
    queue = _queue(store_url)
    queue.submit({"n": 5, "fail_first": 3, "calls": calls_file}, key="doomed")
    queue.run_pending()
    (dead,) = queue.dead_letters()
    assert (dead.key, dead.state, dead.attempts) == ("doomed", "dead", 3)
    assert dead.error == "RuntimeError: provider returned 503"
    assert queue.pending() == 0
    job = queue.redrive("doomed")  # the provider recovered: one more attempt
    assert job.state == "queued"
    queue.run_pending()
    assert queue.job("doomed").result == {"square": 25}
    with pytest.raises(TaskQueueError, match="not in the dead-letter queue"):
        queue.redrive("doomed")


def test_a_permanent_error_is_not_retried(store_url: str | None, calls_file: str) -> None:
    queue = _queue(store_url, handler=task_handlers.malformed)
    queue.submit({"calls": calls_file}, key="bad")
    queue.run_pending()
    job = queue.job("bad")
    assert (job.state, job.attempts) == ("dead", 1)
    assert job.error == "ValueError: the request is malformed"


def test_backpressure_refuses_submissions_past_the_limit(
    store_url: str | None, calls_file: str
) -> None:
    queue = _queue(store_url, max_pending=3)
    for n in range(3):
        queue.submit({"n": n, "calls": calls_file}, key=f"k{n}")
    with pytest.raises(TaskQueueError, match="is full: 3 jobs"):
        queue.submit({"n": 3, "calls": calls_file}, key="k3")
    queue.submit({"n": 0, "calls": calls_file}, key="k0")  # an existing key is no new load
    queue.run_pending()
    queue.submit({"n": 3, "calls": calls_file}, key="k3")
    assert queue.pending() == 1


def test_a_crashed_workers_job_is_requeued_when_its_lease_expires(
    store_url: str | None, calls_file: str
) -> None:
    clock = Clock()
    queue = _queue(store_url, lease_s=30, clock=clock)
    queue.submit({"n": 6, "calls": calls_file}, key="orphan")
    queue.huey.dequeue()  # a worker took the message...
    assert queue.ledger.claim("orphan", "worker-that-dies", clock.now + 30, clock.now)
    # ...and died. Its message is gone; only the ledger knows the job never finished.
    assert queue.run_pending() == 0 and queue.job("orphan").state == "running"
    clock.now += 29
    assert queue.sweep() == []
    clock.now += 1
    assert queue.sweep() == ["orphan"]
    queue.run_pending()
    job = queue.job("orphan")
    assert (job.state, job.attempts, job.result) == ("done", 2, {"square": 36})
    # The dead worker's late answer, if it ever comes, changes nothing.
    assert not queue.ledger.complete("orphan", "worker-that-dies", {"square": -1}, clock.now)
    assert queue.job("orphan").result == {"square": 36}


def test_worker_threads_finish_every_job(store_url: str | None, calls_file: str) -> None:
    queue = _queue(store_url, retry=RetryPolicy(max_attempts=3, base_delay_s=0.0))
    keys = [f"job-{n}" for n in range(40)]
    for n, key in enumerate(keys):
        queue.submit({"n": n, "fail_first": n % 3 == 0, "calls": calls_file}, key=key)
    with queue.worker_threads(2):
        assert queue.wait(timeout_s=60)
    assert queue.counts()["done"] == 40
    assert [queue.job(key).result for key in keys] == [{"square": n * n} for n in range(40)]


@pytest.mark.slow
def test_a_worker_killed_mid_job_loses_nothing(store_url: str | None, calls_file: str) -> None:
    """Two worker processes, one killed with SIGKILL mid-job: every job done, each once."""
    queue = _queue(store_url, lease_s=2.0, retry=RetryPolicy(max_attempts=5, base_delay_s=0.0))
    total = 120
    for n in range(total):
        queue.submit({"n": n, "sleep": 0.01, "fail_first": n % 5 == 0, "calls": calls_file})
    workers = [queue.start_worker_process(workers=1) for _ in range(2)]
    try:
        while queue.counts()["done"] < 10:
            queue.wait(timeout_s=0.05)
        workers[0].kill()
        assert queue.wait(timeout_s=90, sweep_every_s=0.5), queue.counts()
    finally:
        for worker in workers:
            worker.stop()
    assert queue.counts() == {"queued": 0, "running": 0, "retrying": 0, "done": total, "dead": 0}
    runs = collections.Counter(key for key, _ in calls(calls_file))
    assert len(runs) == total  # none lost
    done = [queue.job(key) for key in runs]
    assert all(job.result == {"square": job.payload["n"] ** 2} for job in done)


def test_both_stores_agree_step_by_step(redis_url: str, tmp_path: Path) -> None:
    histories = []
    for url in ("", redis_url):
        clock = Clock()
        queue = _queue(url, lease_s=10, clock=clock)
        calls_file = str(tmp_path / f"calls-{bool(url)}.sqlite")
        history = []
        for n in range(6):
            queue.submit({"n": n, "fail_first": n % 2, "calls": calls_file}, key=f"k{n}")
            clock.now += 1
        queue.huey.dequeue()
        queue.ledger.claim("k0", "lost-worker", clock.now + 10, clock.now)
        queue.run_pending()
        clock.now += 11
        history.append(queue.sweep())
        queue.run_pending()
        for n in range(6):
            job = queue.job(f"k{n}")
            history.append((job.key, job.state, job.attempts, job.result, job.error))
        history.append(queue.counts())
        histories.append(history)
    assert histories[0] == histories[1]


def test_bad_values_get_a_clear_message(tmp_path: Path) -> None:
    queue = _queue(None)
    for key in ("", "has space", "x" * 201, 5):
        with pytest.raises(TaskQueueError, match="idempotency key"):
            queue.submit({}, key=key)  # type: ignore[arg-type]
    with pytest.raises(TaskQueueError, match="queue name"):
        TaskQueue(task_handlers.square, name="Bad Name", url="")
    with pytest.raises(TaskQueueError, match="max_pending"):
        _queue(None, max_pending=0)
    with pytest.raises(TaskQueueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)
    with pytest.raises(TaskQueueError, match="notebook"):
        _queue(None, handler=lambda payload: payload).start_worker_process()
    with pytest.raises(TaskQueueError, match="No job"):
        queue.job("never-submitted")
    with pytest.raises(TaskQueueError, match="inside a job's handler"):
        current_job()


def test_a_worker_with_a_wrong_handler_path_says_so() -> None:
    queue = _queue(None, handler="tests.task_handlers:no_such_function")
    with pytest.raises(TaskQueueError, match="did not start"):
        queue.start_worker_process()


def test_a_redis_that_does_not_answer_is_one_clear_line() -> None:
    with pytest.raises(EngineUnavailableError) as caught:
        TaskQueue(task_handlers.square, url="redis://:s3cretpass@127.0.0.1:1/0")
    assert "s3cretpass" not in str(caught.value)
    assert "COURSE_QUEUE_URL" in str(caught.value)


def test_backoff_uses_full_jitter_under_a_cap() -> None:
    import random

    policy = RetryPolicy(max_attempts=10, base_delay_s=1.0, max_delay_s=8.0)
    rng = random.Random(0)
    waits = {n: [policy.delay(n, rng) for _ in range(2000)] for n in (1, 3, 6)}
    assert max(waits[1]) <= 1.0 and max(waits[3]) <= 4.0 and max(waits[6]) <= 8.0
    assert min(waits[6]) < 0.5  # full jitter: anywhere from zero, not cap plus a little
