"""A task queue for model jobs: huey for delivery, a job ledger so none is lost or done twice.

* :class:`TaskQueue` submits jobs with idempotency keys, runs them in worker threads or worker
  processes, retries failures with backoff and full jitter (:class:`RetryPolicy`), keeps jobs
  that fail for good in a dead-letter queue, refuses submissions past ``max_pending``
  (backpressure), and requeues a crashed worker's job when its lease expires (``sweep``).
* One setting picks the store: ``queue_url`` unset keeps huey's queue and the ledger in SQLite
  files in the work directory; a ``redis://`` URL moves both to Redis. The test suite runs
  every behaviour on each.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from course_lib._lazy import lazy_exports

if TYPE_CHECKING:
    from course_lib.tasks.ledger import STATES, Job, JobLedger, JobState, SqliteLedger
    from course_lib.tasks.queue import RetryPolicy, TaskQueue, current_job, echo, handler_path
    from course_lib.tasks.redis_ledger import RedisLedger
    from course_lib.tasks.worker import WorkerProcess

__all__ = [
    "STATES",
    "Job",
    "JobLedger",
    "JobState",
    "RedisLedger",
    "RetryPolicy",
    "SqliteLedger",
    "TaskQueue",
    "WorkerProcess",
    "current_job",
    "echo",
    "handler_path",
]

_EXPORTS = {
    "STATES": "course_lib.tasks.ledger",
    "Job": "course_lib.tasks.ledger",
    "JobLedger": "course_lib.tasks.ledger",
    "JobState": "course_lib.tasks.ledger",
    "SqliteLedger": "course_lib.tasks.ledger",
    "RedisLedger": "course_lib.tasks.redis_ledger",
    "RetryPolicy": "course_lib.tasks.queue",
    "TaskQueue": "course_lib.tasks.queue",
    "handler_path": "course_lib.tasks.queue",
    "current_job": "course_lib.tasks.queue",
    "echo": "course_lib.tasks.queue",
    "WorkerProcess": "course_lib.tasks.worker",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
