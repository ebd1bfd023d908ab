"""A task queue that loses no job and does none twice: huey for delivery, a ledger for truth.

huey moves messages from the code that submits jobs to worker threads or processes, on SQLite
in the work directory or on Redis (one setting, ``queue_url``, and the same code). Delivery
alone is not enough in production, and the lesson measures why:

* a worker killed mid-job takes its message with it: the job is silently lost;
* a provider that fails one call in five needs retries with backoff, and a job that can never
  succeed must stop somewhere a person will look: a dead-letter queue;
* a client that retries a submission must not create a second job: an idempotency key;
* a producer faster than the workers must be slowed down before the backlog is hours long:
  backpressure.

:class:`TaskQueue` adds those on top of huey with a :mod:`job ledger <course_lib.tasks.ledger>`.
Delivery is *at least once*: after a crash a job's handler may run again, so a handler's
effects outside the ledger must be idempotent too (the key is in the payload for that); the
result the ledger records is written once.
"""

from __future__ import annotations

import logging
import os
import random
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from course_lib.errors import TaskQueueError
from course_lib.tasks.ledger import Job, JobLedger, JobState, SqliteLedger

if TYPE_CHECKING:
    from course_lib.tasks.worker import WorkerProcess

__all__ = ["RetryPolicy", "TaskQueue", "current_job", "echo", "handler_path"]

Handler = Callable[[Any], Any]
_TASK_NAME = "course_job"
_CURRENT_JOB: ContextVar[Job | None] = ContextVar("current_job", default=None)


def current_job() -> Job:
    """The job a handler is running (its key, attempt number): for idempotent side effects.

    Raises:
        TaskQueueError: called outside a handler.
    """
    job = _CURRENT_JOB.get()
    if job is None:
        raise TaskQueueError("current_job() is for use inside a job's handler.")
    return job


@dataclass(frozen=True)
class RetryPolicy:
    """How many attempts a job gets and how long it waits between them.

    The wait before attempt ``n + 1`` is drawn uniformly from ``[0, min(cap, base * 2**(n-1))]``
    ("full jitter"): retries of jobs that failed together spread out instead of hitting a
    recovering provider in step.

    Attributes:
        max_attempts: attempts in all, the first included; then the job is dead-lettered.
        base_delay_s: the first backoff's upper bound.
        max_delay_s: no wait is longer than this.
        permanent: exception types that no retry can fix (a malformed request): dead at once.
    """

    max_attempts: int = 5
    base_delay_s: float = 1.0
    max_delay_s: float = 30.0
    permanent: tuple[type[BaseException], ...] = field(default=(ValueError, TypeError, LookupError))

    def __post_init__(self) -> None:
        if isinstance(self.max_attempts, bool) or not isinstance(self.max_attempts, int):
            raise TaskQueueError(f"max_attempts is a whole number >= 1 ({self.max_attempts!r}).")
        if self.max_attempts < 1 or not 0 <= self.base_delay_s <= self.max_delay_s:
            raise TaskQueueError(
                "A retry policy needs max_attempts >= 1 and 0 <= base_delay_s <= max_delay_s "
                f"(got {self.max_attempts}, {self.base_delay_s}, {self.max_delay_s})."
            )

    def delay(self, attempts: int, rng: random.Random) -> float:
        """Seconds to wait after the ``attempts``-th failed attempt."""
        ceiling = min(self.max_delay_s, self.base_delay_s * 2 ** max(attempts - 1, 0))
        return rng.uniform(0.0, ceiling)


def echo(payload: Any) -> Any:
    """A handler that returns its payload: measures the queue itself (benchmarks, smoke tests)."""
    return payload


def handler_path(handler: Handler | str) -> str:
    """``module:function`` for ``handler``, as a worker process imports it."""
    if isinstance(handler, str):
        if ":" not in handler:
            raise TaskQueueError(f"A handler path is 'module:function' (got {handler!r}).")
        return handler
    module = getattr(handler, "__module__", None)
    name = getattr(handler, "__qualname__", "")
    if not module or module == "__main__" or "<" in name:
        raise TaskQueueError(
            f"A worker process imports its handler, and {handler!r} is defined in a notebook "
            "or inside a function. Define it at the top of a module (or use worker threads)."
        )
    return f"{module}:{name}"


def _import_handler(path: str) -> Handler:
    import importlib

    module_name, _, attribute = handler_path(path).partition(":")
    target: Any = importlib.import_module(module_name)
    for part in attribute.split("."):
        target = getattr(target, part)
    if not callable(target):
        raise TaskQueueError(f"{path!r} is not a function.")
    return target  # type: ignore[no-any-return]


def _describe(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:300]}"


class TaskQueue:
    """Jobs with idempotency keys, retries with backoff, a dead-letter queue and backpressure.

    Args:
        handler: the function that does a job, ``handler(payload) -> result`` (plain JSON), or
            its ``"module:function"`` path (worker processes import it).
        name: the queue's name; queues of one name and store share their jobs.
        url: a ``redis://`` URL; None reads the ``queue_url`` setting; "" forces SQLite.
        folder: where the SQLite files go (default ``queues/`` in the work directory).
        retry: the retry policy.
        lease_s: how long a claim holds before the job counts as abandoned (set it above the
            longest job: a live job whose lease expires may run twice).
        max_pending: submissions are refused (backpressure) while this many jobs wait or run.
        clock: seconds now, for the ledger's times.
        seed: seeds the backoff jitter (None: unseeded).
    """

    def __init__(
        self,
        handler: Handler | str,
        *,
        name: str = "jobs",
        url: str | None = None,
        folder: Path | None = None,
        retry: RetryPolicy | None = None,
        lease_s: float = 60.0,
        max_pending: int | None = None,
        clock: Callable[[], float] = time.time,
        seed: int | None = None,
    ) -> None:
        if not callable(handler) and not isinstance(handler, str):
            raise TaskQueueError(f"handler is a function or 'module:function' ({handler!r}).")
        if max_pending is not None and (isinstance(max_pending, bool) or max_pending < 1):
            raise TaskQueueError(f"max_pending is a whole number >= 1, or None ({max_pending!r}).")
        if not lease_s > 0:
            raise TaskQueueError(f"lease_s is a number of seconds > 0 (got {lease_s!r}).")
        self.name = _check_name(name)
        self._handler_spec = handler
        self._handler: Handler | None = handler if callable(handler) else None
        self.retry = retry or RetryPolicy()
        self.lease_s = float(lease_s)
        self.max_pending = max_pending
        self.clock = clock
        self._rng = random.Random(seed)
        self.url, self.folder = _resolve_place(url, folder)
        self.ledger = self._open_ledger()
        self.huey = self._make_huey()
        self._task = self.huey.task(name=_TASK_NAME, context=False)(self._run)
        self.worker_id = f"{os.getpid()}-{uuid.uuid4().hex[:6]}"

    # --- set-up ---------------------------------------------------------------------------

    def _open_ledger(self) -> JobLedger:
        if self.url:
            from course_lib.tasks.redis_ledger import RedisLedger

            return RedisLedger(self.name, self.url)
        assert self.folder is not None
        return SqliteLedger(self.folder / f"{self.name}.ledger.sqlite")

    def _make_huey(self) -> Any:
        from huey import RedisHuey, SqliteHuey

        if self.url:
            from course_lib.services.clients import connect_redis

            client = connect_redis(self.url, setting="COURSE_QUEUE_URL")
            # A short blocking read: an idle worker waits on BRPOP, and a stop (or
            # run_pending() on an empty queue) returns within a tenth of a second.
            return RedisHuey(
                f"course-{self.name}", connection_pool=client.connection_pool, read_timeout=0.1
            )
        assert self.folder is not None
        path = self.folder / f"{self.name}.huey.sqlite"
        return _sqlite_huey(SqliteHuey, f"course-{self.name}", path)

    @property
    def location(self) -> str:
        """Where the jobs live (a folder, or the Redis URL without its password)."""
        return self.ledger.location if self.url else str(self.folder)

    @property
    def handler(self) -> Handler:
        if self._handler is None:
            self._handler = _import_handler(str(self._handler_spec))
        return self._handler

    # --- producing --------------------------------------------------------------------------

    def submit(self, payload: Any, *, key: str | None = None) -> Job:
        """Submits a job; the same ``key`` again returns the first job and enqueues nothing.

        Raises:
            TaskQueueError: the queue is full (``max_pending`` jobs waiting or running): back
                off and submit again later, or add workers.
        """
        key = key if key is not None else uuid.uuid4().hex
        _check_key(key)
        existing = self.ledger.get(key)
        if existing is not None:
            return existing
        if self.max_pending is not None:
            pending = self.pending()
            if pending >= self.max_pending:
                raise TaskQueueError(
                    f"Queue {self.name!r} is full: {pending} jobs waiting or running (limit "
                    f"{self.max_pending}). Submit again after a pause, or add workers."
                )
        job, created = self.ledger.create(key, payload, self.clock())
        if created:
            self._task(key)
        return job

    def pending(self) -> int:
        """Jobs not finished: queued, running or retrying."""
        counts = self.ledger.counts()
        return counts["queued"] + counts["running"] + counts["retrying"]

    # --- working ----------------------------------------------------------------------------

    def _run(self, key: str) -> None:
        """One delivery of a job's message: claim, run, record; huey retries after a failure."""
        from huey.exceptions import RetryTask

        now = self.clock()
        job = self.ledger.claim(key, self.worker_id, now + self.lease_s, now)
        if job is None:
            return  # done, dead, or a live claim elsewhere: a duplicate message is harmless
        token = _CURRENT_JOB.set(job)
        try:
            result = self.handler(job.payload)
        except Exception as exc:
            dead = job.attempts >= self.retry.max_attempts or isinstance(exc, self.retry.permanent)
            if not self.ledger.release(
                key, self.worker_id, _describe(exc), self.clock(), dead=dead
            ):
                return  # our lease expired and another worker owns the job now
            if dead:
                logging.getLogger(__name__).warning("job %s dead-lettered: %s", key, exc)
                return
            raise RetryTask(delay=self.retry.delay(job.attempts, self._rng)) from exc
        finally:
            _CURRENT_JOB.reset(token)
        self.ledger.complete(key, self.worker_id, result, self.clock())

    def run_pending(self, limit: int | None = None) -> int:
        """Runs queued messages in this thread, due retries included; returns how many ran.

        For tests and notebooks that want no threads; workers do the same in a loop.
        """
        ran = 0
        while limit is None or ran < limit:
            message = self.huey.dequeue()
            if message is None:
                if not self._enqueue_due_retries():
                    break
                continue
            self.huey.execute(message)
            ran += 1
        return ran

    def _enqueue_due_retries(self) -> bool:
        due = self.huey.read_schedule(self.huey._get_timestamp())
        for message in due:
            self.huey.enqueue(message)
        return bool(due)

    @contextmanager
    def worker_threads(self, workers: int = 2) -> Iterator[None]:
        """Runs ``workers`` worker threads (and huey's scheduler) in this process until exit."""
        consumer = _quiet_consumer(self.huey, workers=workers)
        consumer.start()
        try:
            yield
        finally:
            consumer.stop(graceful=True)

    def start_worker_process(self, workers: int = 1) -> WorkerProcess:
        """Starts a worker process (``workers`` threads) that imports the handler by path.

        It runs until :meth:`WorkerProcess.stop` (finishes its jobs) or
        :meth:`WorkerProcess.kill` (a crash: SIGKILL, mid-job). Its log goes to
        ``queues/<name>.worker-<pid>.log`` in the work directory.
        """
        from course_lib.tasks.worker import WorkerProcess

        spec = {
            "handler": handler_path(self._handler_spec),
            "name": self.name,
            "url": self.url or "",
            "folder": str(self.folder) if self.folder else None,
            "retry": {
                "max_attempts": self.retry.max_attempts,
                "base_delay_s": self.retry.base_delay_s,
                "max_delay_s": self.retry.max_delay_s,
            },
            "lease_s": self.lease_s,
            "workers": workers,
        }
        return WorkerProcess.start(spec, self._log_folder())

    def _log_folder(self) -> Path:
        if self.folder is not None:
            return self.folder
        from course_lib.workdir import work_path

        return work_path("queues", "logs", "x").parent

    # --- watching ---------------------------------------------------------------------------

    def job(self, key: str) -> Job:
        found = self.ledger.get(key)
        if found is None:
            raise TaskQueueError(f"No job {key!r} in queue {self.name!r}.")
        return found

    def counts(self) -> dict[JobState, int]:
        """Jobs per state."""
        return self.ledger.counts()

    def dead_letters(self) -> list[Job]:
        """The dead-letter queue: jobs that failed for good, with their last error."""
        return [self.job(key) for key in self.ledger.keys("dead")]

    def sweep(self) -> list[str]:
        """Requeues jobs whose worker stopped answering (lease expired); returns their keys.

        Run it periodically (a cron job, a scheduler, or the lesson's loop): it is what turns a
        crashed worker's job from lost into late. It also redelivers a waiting job that has no
        message left: a worker killed after taking the message but before claiming the job
        (or after a failure, before its retry was scheduled) took the message with it.
        """
        now = self.clock()
        requeued = [key for key in self.ledger.expired(now) if self.ledger.requeue(key, now)]
        for key in requeued:
            self._task(key)
        return requeued + self._redeliver_orphans(now)

    def _redeliver_orphans(self, now: float) -> list[str]:
        """Enqueues a message for each queued or retrying job that has none, after a grace.

        A job younger than ``lease_s`` is left alone (its message may be in a live worker's
        hands between dequeue and claim); a duplicate message is harmless anyway: the claim is
        atomic, so a second delivery of a job that is running or done does nothing.
        """
        waiting = self.ledger.keys("queued") + self.ledger.keys("retrying")
        if self.huey.pending_count() + self.huey.scheduled_count() >= len(waiting):
            # As many messages as waiting jobs: the common case, and cheap to tell. A lost
            # message hidden behind a duplicate is found once the duplicate has been run.
            return []
        messages = list(self.huey.pending()) + list(self.huey.scheduled())
        carried = {task.args[0] for task in messages if task.args}
        orphans = []
        for key in waiting:
            job = self.ledger.get(key) if key not in carried else None
            stale = job is not None and job.updated <= now - self.lease_s
            if stale and job is not None and job.state in ("queued", "retrying"):
                orphans.append(key)
                self._task(key)
        return orphans

    def redrive(self, key: str) -> Job:
        """Sends a dead-lettered job back to the queue (after its cause was fixed)."""
        if not self.ledger.requeue(key, self.clock()):
            raise TaskQueueError(f"Job {key!r} is not in the dead-letter queue.")
        self._task(key)
        return self.job(key)

    def wait(self, timeout_s: float = 60.0, *, sweep_every_s: float | None = None) -> bool:
        """Waits (real time) until no job is pending; True when all settled in time."""
        deadline = time.monotonic() + timeout_s
        last_sweep = time.monotonic()
        while time.monotonic() < deadline:
            if self.pending() == 0:
                return True
            if sweep_every_s is not None and time.monotonic() - last_sweep >= sweep_every_s:
                self.sweep()
                last_sweep = time.monotonic()
            time.sleep(0.05)
        return self.pending() == 0

    def clear(self) -> None:
        """Removes every job and message of this queue."""
        self.huey.flush()
        self.ledger.clear()

    def close(self) -> None:
        self.ledger.close()


def _check_name(name: str) -> str:
    import re

    if not isinstance(name, str) or not re.fullmatch(r"[a-z][a-z0-9_-]{0,63}", name):
        raise TaskQueueError(
            f"A queue name is 1-64 lower-case letters, digits, '-' or '_' (got {name!r})."
        )
    return name


def _check_key(key: str) -> None:
    if not isinstance(key, str) or not key or len(key) > 200 or any(c.isspace() for c in key):
        raise TaskQueueError(
            f"An idempotency key is a non-empty string of up to 200 characters without spaces "
            f"(got {key!r}), e.g. a request id or a hash of the request."
        )


def _resolve_place(url: str | None, folder: Path | None) -> tuple[str | None, Path | None]:
    if url is None:
        from course_lib.settings import get_settings

        secret = get_settings().queue_url
        url = secret.get_secret_value() if secret is not None else None
    if url:
        return url, None
    if folder is None:
        from course_lib.workdir import work_path

        folder = work_path("queues", "jobs").parent
    folder.mkdir(parents=True, exist_ok=True)
    return None, folder


def _sqlite_huey(base: Any, name: str, path: Path) -> Any:
    """huey on SQLite with ``synchronous=NORMAL`` (as the ledger): no fsync per message.

    huey's own ``fsync`` switch offers only FULL (a disk flush per enqueue and dequeue, several
    milliseconds each) or OFF; NORMAL in WAL mode survives a killed worker, which is the
    failure this queue is built for.
    """
    from huey.storage import SqliteStorage

    class _Storage(SqliteStorage):  # type: ignore[misc]
        def _create_connection(self) -> Any:
            connection = super()._create_connection()
            connection.execute("pragma synchronous=1")
            return connection

    return base(name, filename=str(path), storage_class=_Storage)


def _quiet_consumer(huey: Any, *, workers: int) -> Any:
    """huey's consumer without its signal handlers: a notebook kernel keeps its own."""
    from huey.consumer import Consumer

    class _InProcessConsumer(Consumer):  # type: ignore[misc]
        def _set_signal_handlers(self) -> None:
            pass

    return _InProcessConsumer(
        huey,
        workers=workers,
        worker_type="thread",
        periodic=False,
        initial_delay=0.02,
        backoff=1.5,
        max_delay=0.2,
        check_worker_health=False,
    )
