"""Benchmark of the task queue and the caches, on their SQLite defaults and on Redis.

Run from the repository root (the engines extra installed, and ``redis-server`` on PATH)::

    .venv/bin/python benchmarks/queues_and_caches.py            # print the figures
    .venv/bin/python benchmarks/queues_and_caches.py --write    # also record them

**Queue** (:class:`course_lib.tasks.TaskQueue`, a handler that returns its payload, so the
figures are the queue's own cost): throughput with 1 and 2 worker processes draining a backlog
of jobs, and end-to-end latency (submitted to recorded done, from the ledger's times) of jobs
submitted one by one to idle workers.

**Caches**: lookup latency of a hit in :class:`~course_lib.caching.ExactCache` and in
:class:`~course_lib.caching.SemanticCache` (the question embedded, then compared with every
stored question of its scope) holding 1,000 entries.

A private Redis is started in the course work directory and stopped afterwards. Timings
depend on the machine: compare ratios measured in one run.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import time
import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

from recording import percentiles, record_section

STORES = ("sqlite", "redis")


def _url(store: str, redis_url: str) -> str:
    return redis_url if store == "redis" else ""


def queue_throughput(store: str, redis_url: str, jobs: int, workers: int) -> dict[str, Any]:
    """A backlog of ``jobs`` drained by ``workers`` processes: jobs per second.

    The rate is read from the ledger's completion times, between the 10th and the 90th
    percentile job, so the workers' start-up (a second or so of imports) is not counted.
    """
    from concurrent.futures import ThreadPoolExecutor

    from course_lib.tasks import TaskQueue, echo

    queue = TaskQueue(echo, name=f"bench{uuid.uuid4().hex[:8]}", url=_url(store, redis_url))
    for n in range(jobs):
        queue.submit({"n": n}, key=f"job-{n}")
    with ThreadPoolExecutor(workers) as pool:
        processes = list(pool.map(lambda _: queue.start_worker_process(workers=1), range(workers)))
    try:
        if not queue.wait(timeout_s=600):
            raise RuntimeError(f"jobs left after 600 s: {queue.counts()}")
        finished = sorted(queue.job(f"job-{n}").updated for n in range(jobs))
    finally:
        for process in processes:
            process.stop()
        queue.clear()
    low, high = round(0.1 * (jobs - 1)), round(0.9 * (jobs - 1))
    rate = (high - low) / (finished[high] - finished[low])
    return {"store": store, "workers": workers, "jobs": jobs, "rate": rate}


def queue_latency(store: str, redis_url: str, jobs: int) -> dict[str, Any]:
    """Jobs submitted one at a time to an idle worker: submit-to-done latency."""
    from course_lib.tasks import TaskQueue, echo

    queue = TaskQueue(echo, name=f"bench{uuid.uuid4().hex[:8]}", url=_url(store, redis_url))
    process = queue.start_worker_process(workers=1)
    samples = []
    try:
        for n in range(jobs):
            submitted = time.perf_counter()
            queue.submit({"n": n}, key=f"job-{n}")
            while queue.job(f"job-{n}").state != "done":
                time.sleep(0.0005)
            samples.append((time.perf_counter() - submitted) * 1000)
    finally:
        process.stop()
        queue.clear()
    p50, p95 = percentiles(samples)
    return {"store": store, "p50": p50, "p95": p95}


def _lookups(samples: list[float], lookup: Callable[[], Any], count: int) -> None:
    for _ in range(count):
        started = time.perf_counter()
        if lookup() is None:
            raise RuntimeError("a lookup that should hit missed")
        samples.append((time.perf_counter() - started) * 1000)


def cache_lookups(store: str, redis_url: str, entries: int, lookups: int) -> list[dict[str, Any]]:
    """p50/p95 of a hit in each cache, holding ``entries`` entries."""
    from course_lib.caching import ExactCache, SemanticCache
    from course_lib.datasets import load_golden_set

    questions = [q.question for q in load_golden_set("dev")] + [
        q.question for q in load_golden_set("test")
    ]
    texts = [f"{questions[n % len(questions)]} (variant {n})" for n in range(entries)]
    url = _url(store, redis_url)
    rows = []
    exact = ExactCache(f"bench{uuid.uuid4().hex[:8]}", url=url)
    for n, text in enumerate(texts):
        exact.put({"q": text}, {"answer": n})
    samples: list[float] = []
    probe = iter(texts * 2)
    _lookups(samples, lambda: exact.get({"q": next(probe)}), lookups)
    exact.clear()
    rows.append({"cache": "exact", "store": store, "percentiles": percentiles(samples)})
    semantic = SemanticCache(f"bench{uuid.uuid4().hex[:8]}", url=url, threshold=0.9)
    for n, text in enumerate(texts):
        semantic.put(text, {"answer": n})
    samples = []
    probe = iter(texts * 2)
    _lookups(samples, lambda: semantic.lookup(next(probe)), lookups)
    semantic.clear()
    rows.append({"cache": "semantic", "store": store, "percentiles": percentiles(samples)})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=2_000, help="jobs in the throughput backlog")
    parser.add_argument("--write", action="store_true", help="record in docs/benchmarks.md")
    args = parser.parse_args()

    from course_lib.services.process import stop_process
    from course_lib.services.redis_server import start_redis
    from course_lib.workdir import work_path

    folder = work_path("benchmarks", "redis")
    redis_url, pid, _ = start_redis(folder)
    try:
        throughput = [
            queue_throughput(store, redis_url, args.jobs, workers)
            for store in STORES
            for workers in (1, 2)
        ]
        latency = [queue_latency(store, redis_url, 200) for store in STORES]
        caches = [row for store in STORES for row in cache_lookups(store, redis_url, 1_000, 500)]
    finally:
        stop_process(pid)
        shutil.rmtree(folder, ignore_errors=True)
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    lines = [
        f"Measured {date.today().isoformat()} on {machine}, by `benchmarks/queues_and_caches.py`.",
        "",
        f"**Task queue**, a handler that returns its payload: throughput draining a backlog of "
        f"{args.jobs:,} jobs, and submit-to-done latency of 200 jobs sent one at a time to an "
        "idle worker process.",
        "",
        "| store | 1 worker (jobs/s) | 2 workers (jobs/s) | latency p50 | latency p95 |",
        "|---|---:|---:|---:|---:|",
    ]
    for store in STORES:
        rates = {row["workers"]: row["rate"] for row in throughput if row["store"] == store}
        late = next(row for row in latency if row["store"] == store)
        lines.append(
            f"| {'SQLite (huey + ledger)' if store == 'sqlite' else 'Redis'} | {rates[1]:,.0f} "
            f"| {rates[2]:,.0f} | {late['p50']:.1f} ms | {late['p95']:.1f} ms |"
        )
    lines += [
        "",
        "**Caches**, 1,000 entries, 500 lookups that hit:",
        "",
        "| cache | store | lookup p50 | lookup p95 |",
        "|---|---|---:|---:|",
    ]
    for row in caches:
        p50, p95 = row["percentiles"]
        lines.append(f"| {row['cache']} | {row['store']} | {p50:.2f} ms | {p95:.2f} ms |")
    report = "\n".join(lines)
    print(report)
    if args.write:
        record_section(
            "queues-and-caches",
            report,
            heading="Task queue and caches: SQLite and Redis",
            intro="The embedded defaults and their production counterpart, on the same work.",
        )


if __name__ == "__main__":
    sys.exit(main())
