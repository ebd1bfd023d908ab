"""Lesson 4.1's classroom helpers: price assumptions, figures, a widget, load generators.

The cost, rate-limit and queueing logic is production code in :mod:`course_lib.compute`;
this module only sets up what the lesson measures and draws it.
"""

from __future__ import annotations

import asyncio
import heapq
import html
import math
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from course_lib.compute import (
    DedicatedGPU,
    HostedAPI,
    RateLimit,
    RateLimiter,
    Serverless,
    VirtualClock,
    Workload,
    mean_latency,
    simulate_queue,
)

__all__ = [
    "ASSUMPTIONS",
    "GROWTH",
    "SERVICE_TIME_S",
    "TARGET_S",
    "assumptions_table",
    "batch_throughput",
    "compute_options",
    "cost_figure",
    "cost_table",
    "cost_widget",
    "fewest_slots",
    "handbook_workload",
    "hourly_rates",
    "load_curve_figure",
    "open_loop",
    "pool_latency",
    "pool_report",
    "replay_burst",
    "run_requests",
    "simulate_schedule",
]

# Every price that is not in the model registry, with where it comes from. They are
# parameters of the lesson's models, not facts: prices move, and your own load test sets the
# throughput figures.
ASSUMPTIONS: dict[str, tuple[float, str, str]] = {
    "gpu_hourly_usd": (
        1.79,
        "US$ per GPU-hour",
        "an on-demand A100 80 GB (RunPod Secure Cloud, runpod.io/pricing, autumn 2026)",
    ),
    "gpu_requests_per_s": (
        4.0,
        "requests/s per GPU",
        "assumption: a large-model server with continuous batching; measure your own",
    ),
    "gpu_service_time_s": (
        1.0,
        "s per request on the GPU",
        "assumption: about 80 output tokens at 80 tokens/s",
    ),
    "gpu_target_utilisation": (0.7, "share", "assumption: headroom for the peak (section 4)"),
    "serverless_per_request_usd": (
        0.0000002,
        "US$ per request",
        "AWS Lambda, $0.20 per million requests (aws.amazon.com/lambda/pricing)",
    ),
    "serverless_per_gb_second_usd": (
        0.0000166667,
        "US$ per GB-second",
        "AWS Lambda, x86, first pricing tier (aws.amazon.com/lambda/pricing)",
    ),
    "serverless_memory_gb": (10.0, "GB", "Lambda's largest memory size, for a model's weights"),
    "serverless_seconds_per_request": (
        20.0,
        "s per request",
        "assumption: a large model on CPU, about 4 output tokens a second",
    ),
    "serverless_cold_start_s": (8.0, "s", "assumption: start a runtime and load the weights"),
    "serverless_idle_timeout_s": (
        600.0,
        "s",
        "assumption: providers reclaim idle instances after some minutes (not documented)",
    ),
}

SERVICE_TIME_S = 0.5
"""Seconds one request holds a slot in the capacity-planning exercise's pool."""
TARGET_S = 1.0
"""The pool's latency target: mean time in the system, each hour."""
GROWTH = 100
"""The capacity exercise plans for the Handbook Assistant at 100 times today's traffic."""


def assumptions_table() -> Any:
    """:data:`ASSUMPTIONS` as a table."""
    import pandas as pd

    rows = [
        {"parameter": name, "value": f"{value:g}", "unit": unit, "source": source}
        for name, (value, unit, source) in ASSUMPTIONS.items()
    ]
    return pd.DataFrame(rows).set_index("parameter")


def _value(name: str) -> float:
    return ASSUMPTIONS[name][0]


def handbook_workload(traffic: Any = None) -> Workload:
    """The Handbook Assistant's month, from a week of its traffic: volume (a week x 730/168
    hours), mean tokens per request, and the busiest hour's rate over the mean."""
    from course_lib.datasets import load_traffic

    frame = load_traffic() if traffic is None else traffic
    hourly = frame.set_index("timestamp").resample("1h").size()
    return Workload(
        requests_per_month=round(len(frame) * 730 / 168),
        input_tokens=round(float(frame["input_tokens"].mean())),
        output_tokens=round(float(frame["output_tokens"].mean())),
        peak_to_mean=round(float(hourly.max() / hourly.mean()), 2),
    )


def compute_options(
    workload: Workload, *, gpu_hourly_usd: float | None = None, role: str = "chat-large"
) -> list[Any]:
    """The lesson's three options with the prices of :data:`ASSUMPTIONS` (and the registry)."""
    hourly = _value("gpu_hourly_usd") if gpu_hourly_usd is None else gpu_hourly_usd
    return [
        HostedAPI.from_registry(role, workload),
        DedicatedGPU(
            "dedicated GPU",
            hourly,
            _value("gpu_requests_per_s"),
            _value("gpu_service_time_s"),
            _value("gpu_target_utilisation"),
        ),
        Serverless(
            "serverless",
            _value("serverless_per_request_usd"),
            _value("serverless_per_gb_second_usd"),
            _value("serverless_memory_gb"),
            _value("serverless_seconds_per_request"),
            _value("serverless_cold_start_s"),
            _value("serverless_idle_timeout_s"),
        ),
    ]


def cost_table(options: Sequence[Any], workload: Workload, volumes: Sequence[float]) -> Any:
    """Monthly cost (US$) and mean latency (s) of each option at each volume."""
    import pandas as pd

    rows = []
    for volume in volumes:
        at = workload.at(volume)
        row: dict[str, Any] = {"requests/month": f"{volume:,.0f}"}
        for option in options:
            row[f"{option.name} $"] = round(option.monthly_cost(at), 2)
            row[f"{option.name} s"] = round(option.latency_s(at), 2)
        rows.append(row)
    return pd.DataFrame(rows).set_index("requests/month")


def cost_figure(options: Sequence[Any], workload: Workload, marks: dict[str, float | None]) -> Any:
    """Monthly cost against volume (log-log), with the break-even volumes marked."""
    import matplotlib.pyplot as plt
    import numpy as np

    volumes = np.logspace(3, 8, 200)
    figure, axis = plt.subplots(figsize=(8, 4))
    for option in options:
        costs = [option.monthly_cost(workload.at(v)) for v in volumes]
        axis.plot(volumes, costs, label=option.name)
    for label, volume in marks.items():
        if volume is not None:
            axis.axvline(volume, color="grey", linestyle=":", linewidth=1)
            axis.annotate(
                label, (volume, axis.get_ylim()[1]), rotation=90, va="top", ha="right", fontsize=8
            )
    axis.axvline(workload.requests_per_month, color="black", linewidth=1)
    axis.set(
        xscale="log",
        yscale="log",
        xlabel="requests per month",
        ylabel="US$ per month",
        title="What a month of inference costs",
    )
    axis.legend(loc="lower right", fontsize=8)
    figure.tight_layout()
    return figure


def cost_widget(report: Callable[[float, float], str], workload: Workload) -> Any:
    """Sliders for volume and GPU price; each change shows ``report(volume, hourly)``, the
    same plain function a cell calls."""
    import ipywidgets as widgets  # type: ignore[import-untyped]

    # Selection sliders move between listed values by index: a float slider snaps a start
    # value that falls between its steps as it is drawn, and after that snapped value is sent
    # back, JupyterLab left the learner's later moves unsent.
    volumes = sorted(
        {round(10 ** (3 + i / 20)) for i in range(101)} | {workload.requests_per_month}
    )
    hourly_usd = float(_value("gpu_hourly_usd"))
    prices = sorted({round(0.5 + i / 20, 2) for i in range(111)} | {hourly_usd})
    volume = widgets.SelectionSlider(
        options=[(f"{v:,}", v) for v in volumes],
        value=workload.requests_per_month,
        description="requests/mo",
    )
    hourly = widgets.SelectionSlider(
        options=[(f"{p:.2f}", p) for p in prices], value=hourly_usd, description="GPU $/h"
    )
    # An HTML widget, not an Output widget: its text is widget state, so it follows the
    # sliders wherever the widget is shown, without routing printed output back to it.
    verdict = widgets.HTML()

    def update(_: Any = None) -> None:
        verdict.value = f"<pre>{html.escape(report(volume.value, hourly.value))}</pre>"

    volume.observe(update, "value")
    hourly.observe(update, "value")
    update()
    return widgets.VBox([volume, hourly, verdict])


def batch_throughput(
    ways: dict[str, Callable[[list[str]], Any]],
    texts: Sequence[str],
    batch_sizes: Sequence[int],
    repeats: int = 3,
) -> Any:
    """Texts embedded per second at each batch size, for each way of embedding (a function
    of a list of texts); the best of ``repeats`` runs. Wall-clock: varies by machine."""
    import pandas as pd

    table: dict[str, dict[int, float]] = {}
    for name, embed in ways.items():
        embed(list(texts[:8]))  # warm up: load the model once, outside the timings
        table[name] = {}
        for size in batch_sizes:
            best = math.inf
            for _ in range(repeats):
                started = time.perf_counter()
                for start in range(0, len(texts), size):
                    embed(list(texts[start : start + size]))
                best = min(best, time.perf_counter() - started)
            table[name][size] = round(len(texts) / best)
    frame = pd.DataFrame(table)
    frame.index.name = "batch size"
    return frame


async def run_requests(
    send: Callable[[int], Awaitable[Any]],
    n: int,
    strategy: str,
    *,
    limit: int = 4,
    limiter: RateLimiter | None = None,
    tokens: int = 0,
) -> dict[str, Any]:
    """Send ``n`` requests (``send(i)``) one way: ``sequential``, ``gather`` (all at once),
    ``semaphore`` (at most ``limit`` in flight) or ``bucket`` (the semaphore, and
    ``limiter.acquire(tokens)`` before each). Counts answers and 429s, times the run."""
    import openai

    semaphore = asyncio.Semaphore(limit if strategy in ("semaphore", "bucket") else n)

    async def one(i: int) -> str:
        async with semaphore:
            if strategy == "bucket" and limiter is not None:
                await limiter.acquire(tokens)
            try:
                await send(i)
                return "ok"
            except openai.RateLimitError:
                return "429"

    started = time.perf_counter()
    if strategy == "sequential":
        outcomes = [await one(i) for i in range(n)]
    else:
        outcomes = list(await asyncio.gather(*(one(i) for i in range(n))))
    seconds = time.perf_counter() - started
    return {
        "strategy": strategy,
        "answered": outcomes.count("ok"),
        "429s": outcomes.count("429"),
        "seconds": round(seconds, 2),
    }


def replay_burst(
    n: int, server: RateLimit, client: RateLimit | None, tokens: int
) -> dict[str, Any]:
    """The same ``n`` requests in virtual time: sent at once (``client=None``) or paced by a
    client bucket; the server's bucket decides each. Deterministic."""
    clock = VirtualClock()
    provider = RateLimiter(server, key="provider", clock=clock)
    pacer = RateLimiter(client, key="client", clock=clock) if client else None
    refused = 0

    async def send_all() -> None:
        nonlocal refused
        for _ in range(n):
            if pacer is not None:
                await pacer.acquire(tokens)
            refused += provider.try_acquire(tokens) > 0

    asyncio.run(send_all()) if not _loop_running() else _run_in_thread(send_all)
    return {"sent": n, "refused (429)": refused, "virtual seconds": round(clock.now(), 2)}


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _run_in_thread(factory: Callable[[], Awaitable[None]]) -> None:
    import threading

    failure: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(factory())  # type: ignore[arg-type]
        except BaseException as exc:  # pragma: no cover - re-raised below
            failure.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


async def open_loop(
    send: Callable[[int], Awaitable[Any]], rate: float, n: int, seed: int
) -> tuple[list[float], list[float]]:
    """Poisson arrivals at ``rate`` per second, sent on schedule whatever the answers (an open
    loop, like users); returns the arrival offsets and each request's latency, in seconds."""
    rng = random.Random(seed)
    offsets, at = [], 0.0
    for _ in range(n):
        at += rng.expovariate(rate)
        offsets.append(at)
    latencies = [0.0] * n
    start = time.perf_counter()

    async def one(i: int) -> None:
        delay = start + offsets[i] - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        sent = time.perf_counter()
        await send(i)
        latencies[i] = time.perf_counter() - sent

    await asyncio.gather(*(one(i) for i in range(n)))
    return offsets, latencies


def simulate_schedule(arrivals: Sequence[float], service_time: float, servers: int) -> list[float]:
    """Latencies of exactly these arrivals in a first-come-first-served pool, in virtual
    time: what the queue alone would give, without the HTTP and Python overheads."""
    free_at = [0.0] * servers
    latencies = []
    for arrival in arrivals:
        start = max(arrival, heapq.heappop(free_at))
        heapq.heappush(free_at, start + service_time)
        latencies.append(start + service_time - arrival)
    return latencies


def load_curve_figure(
    service_time: float, servers: int, simulated: Any, measured: Any | None = None
) -> Any:
    """Mean latency against utilisation: the M/D/c formula, the simulation, the server."""
    import matplotlib.pyplot as plt
    import numpy as np

    capacity = servers / service_time
    rho = np.linspace(0.02, 0.97, 100)
    formula = [mean_latency(r * capacity, service_time, servers) for r in rho]
    figure, axis = plt.subplots(figsize=(7, 3.6))
    axis.plot(rho, np.array(formula) * 1000, label="M/D/c formula")
    axis.plot(simulated["utilisation"], simulated["simulated ms"], "o", label="simulation")
    if measured is not None:
        axis.plot(measured["utilisation"], measured["measured ms"], "s", label="local server")
    axis.set(
        xlabel="utilisation (arrival rate / capacity)",
        ylabel="mean latency (ms)",
        title=f"{servers} slots of {service_time * 1000:.0f} ms",
        ylim=(0, formula[-1] * 1100),
    )
    axis.legend(fontsize=8)
    figure.tight_layout()
    return figure


def hourly_rates(traffic: Any, growth: float) -> list[float]:
    """Requests per second in each hour of a week of traffic, times ``growth``."""
    hourly = traffic.set_index("timestamp").resample("1h").size()
    return [float(count) * growth / 3600 for count in hourly]


def pool_latency(rate: float, slots: int, hour: int) -> float:
    """One hour of the pool measured in virtual time: the mean latency of 500 simulated
    requests, seeded by the hour (so every run, and the checker, sees the same hour)."""
    return simulate_queue(rate, SERVICE_TIME_S, slots, n_requests=500, seed=hour).mean_latency


def fewest_slots(rates: Sequence[float]) -> list[int]:
    """Per hour, the fewest slots whose simulated mean latency meets :data:`TARGET_S`."""
    fewest = []
    for hour, rate in enumerate(rates):
        slots = max(1, math.ceil(rate * SERVICE_TIME_S))
        while rate > 0 and pool_latency(rate, slots, hour) > TARGET_S:
            slots += 1
        fewest.append(slots)
    return fewest


def pool_report(plan: Sequence[int], rates: Sequence[float]) -> dict[str, Any]:
    """A plan of slots per hour scored on a week: hours whose simulated mean latency is over
    :data:`TARGET_S`, slot-hours paid, and their ratio to the fewest that meet the target."""
    over = sum(
        1
        for hour, (rate, slots) in enumerate(zip(rates, plan, strict=True))
        if rate > 0 and (slots < 1 or pool_latency(rate, slots, hour) > TARGET_S)
    )
    paid = int(sum(plan))
    return {
        "hours over target": over,
        "slot-hours": paid,
        "cost vs fewest": round(paid / sum(fewest_slots(rates)), 3),
    }
