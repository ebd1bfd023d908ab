"""Compute patterns: what inference costs, how fast it can go, and how to stay under limits.

* :mod:`~course_lib.compute.cost_models`: a hosted API, dedicated GPU servers and serverless
  functions as pure functions of monthly volume (:class:`Workload`), and :func:`break_even`,
  the volume where the cheapest option changes.
* :mod:`~course_lib.compute.rate_limits`: :class:`RateLimiter`, token buckets for requests
  and tokens per minute that a client spends before each call (``await limiter.acquire(n)``),
  and :func:`estimate_tokens`, what a request counts against a TPM limit.
* :mod:`~course_lib.compute.bucket_stores`: where a limiter's buckets live, so several
  processes share one limit: :func:`bucket_store` gives SQLite (one machine, a transaction
  per take) for no URL and Redis (many machines, an atomic Lua script) for a ``redis://`` URL.
* :mod:`~course_lib.compute.queueing`: Little's law, utilisation, Erlang C, mean latency of
  M/M/c and M/D/c queues, :func:`servers_needed` and :func:`simulate_queue`, a seeded
  discrete-event simulation in virtual time.
* :mod:`~course_lib.compute.clocks`: :class:`MonotonicClock` and :class:`VirtualClock`, so
  limiters are tested (and figures computed) in virtual time.

>>> from course_lib.compute import RateLimit, RateLimiter, bucket_store
>>> limiter = RateLimiter(RateLimit(500, 200_000), key="provider", store=bucket_store(url))

Importing this package loads nothing heavy; Redis's client loads only for a Redis store.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from course_lib._lazy import lazy_exports

if TYPE_CHECKING:
    from course_lib.compute.bucket_stores import (
        REDIS_TAKE_SCRIPT as REDIS_TAKE_SCRIPT,
        BucketStore as BucketStore,
        MemoryBucketStore as MemoryBucketStore,
        RedisBucketStore as RedisBucketStore,
        SQLiteBucketStore as SQLiteBucketStore,
        bucket_store as bucket_store,
    )
    from course_lib.compute.clocks import (
        Clock as Clock,
        MonotonicClock as MonotonicClock,
        VirtualClock as VirtualClock,
    )
    from course_lib.compute.cost_models import (
        HOURS_PER_MONTH as HOURS_PER_MONTH,
        SECONDS_PER_MONTH as SECONDS_PER_MONTH,
        ComputeOption as ComputeOption,
        DedicatedGPU as DedicatedGPU,
        HostedAPI as HostedAPI,
        Serverless as Serverless,
        Workload as Workload,
        break_even as break_even,
        cheapest as cheapest,
    )
    from course_lib.compute.queueing import (
        QueueRun as QueueRun,
        ServiceKind as ServiceKind,
        erlang_c as erlang_c,
        littles_law as littles_law,
        mean_latency as mean_latency,
        percentile as percentile,
        servers_needed as servers_needed,
        simulate_queue as simulate_queue,
        utilisation as utilisation,
    )
    from course_lib.compute.rate_limits import (
        CHARS_PER_TOKEN as CHARS_PER_TOKEN,
        RateLimit as RateLimit,
        RateLimiter as RateLimiter,
        estimate_tokens as estimate_tokens,
        take_from_buckets as take_from_buckets,
    )

_MODULES = {
    "bucket_stores": "REDIS_TAKE_SCRIPT BucketStore MemoryBucketStore RedisBucketStore "
    "SQLiteBucketStore bucket_store",
    "clocks": "Clock MonotonicClock VirtualClock",
    "cost_models": "HOURS_PER_MONTH SECONDS_PER_MONTH ComputeOption DedicatedGPU HostedAPI "
    "Serverless Workload break_even cheapest",
    "queueing": "QueueRun ServiceKind erlang_c littles_law mean_latency percentile "
    "servers_needed simulate_queue utilisation",
    "rate_limits": "CHARS_PER_TOKEN RateLimit RateLimiter estimate_tokens take_from_buckets",
}
_EXPORTS = {
    name: f"course_lib.compute.{module}"
    for module, names in _MODULES.items()
    for name in names.split()
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
