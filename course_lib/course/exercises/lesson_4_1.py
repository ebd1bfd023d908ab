"""Checkers of lesson 4.1, "Compute patterns"."""

from __future__ import annotations

import asyncio
import inspect
import math
import threading
import time
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from course_lib.course.checking import NotYet, Probe, answer_calls, exercise

SOLUTION = "solutions/4_infrastructure/41_compute_patterns.ipynb"

HOURS_PER_MONTH = 730

# --- 4.1.1 a dedicated fleet's monthly cost --------------------------------------------------


def gpu_monthly_cost(
    workload: Any, hourly_usd: float, requests_per_s: float, target_utilisation: float
) -> float:
    """Instances for the peak at the target utilisation (at least one), billed every hour."""
    needed = workload.peak_rate / (requests_per_s * target_utilisation)
    instances = max(1, math.ceil(needed - 1e-9))
    return instances * hourly_usd * HOURS_PER_MONTH


def _gpu_cases() -> list[tuple[str, Any, float, float, float]]:
    from course_lib.compute import Workload

    base = Workload(2_000_000, 1_200, 90, peak_to_mean=4.0)
    return [
        ("no traffic at all", base.at(0), 2.0, 4.0, 0.7),
        ("a quiet month", base.at(50_000), 1.5, 4.0, 0.7),
        ("a peak just over one instance", Workload(2_000_000, 1_000, 80, 4.0), 1.0, 4.0, 0.8),
        ("a busy month", base.at(40_000_000), 2.5, 5.0, 0.6),
        ("a flat workload", Workload(30_000_000, 900, 60, 1.0), 3.0, 6.0, 0.75),
        ("a peaky workload", Workload(30_000_000, 900, 60, 8.0), 3.0, 6.0, 0.75),
        ("exactly two instances at the target", Workload(6_307_200, 1, 1, 1.0), 2.0, 2.0, 0.6),
    ]


@exercise(
    "4.1.1",
    title="What a dedicated GPU fleet costs a month",
    answer_name="gpu_monthly_cost",
    reference=gpu_monthly_cost,
    solution=SOLUTION,
    hints=(
        "Size the fleet for the busiest hour, not the average: workload.peak_rate is in "
        "requests per second. One instance carries requests_per_s * target_utilisation.",
        "instances = math.ceil(peak / per_instance), and never fewer than one (a server that is "
        "off answers nobody). Every instance is billed every hour of the month: 730 hours.",
        "return max(1, math.ceil(workload.peak_rate / (requests_per_s * target_utilisation))) "
        "* hourly_usd * 730",
    ),
)
def _check_gpu_monthly_cost(answer: Any, probe: Probe) -> str:
    from course_lib.compute import DedicatedGPU

    if answer_calls(answer, DedicatedGPU):
        raise NotYet(
            "your function uses DedicatedGPU, which already does the exercise; "
            "write the sizing yourself."
        )
    for what, workload, hourly, throughput, utilisation in _gpu_cases():
        call = f"gpu_monthly_cost on {what}"
        got = probe.call_as(call, answer, workload, hourly, throughput, utilisation)
        if isinstance(got, bool) or not isinstance(got, int | float):
            raise NotYet(f"{call} returned {type(got).__name__}; return the cost in dollars.")
        expected = gpu_monthly_cost(workload, hourly, throughput, utilisation)
        if not math.isclose(got, expected, rel_tol=1e-6):
            instances = expected / (hourly * HOURS_PER_MONTH)
            raise NotYet(
                f"{call} returned {got:,.2f}, expected {expected:,.2f} ({instances:.0f} "
                "instance(s) x the hourly price x 730 hours). Check the peak, the headroom, "
                "rounding up and the minimum of one."
            )
    return "sizes every hidden fleet for its peak, with headroom, at least one instance."


# --- 4.1.2 many requests, bounded and paced ---------------------------------------------------


async def send_all(
    prompts: list[str], send: Callable[[str], Any], limiter: Any, limit: int
) -> list[Any]:
    """Every prompt sent, at most ``limit`` in flight, each after ``limiter.acquire(tokens)``;
    the answers in the order of the prompts."""
    from course_lib.compute import estimate_tokens

    semaphore = asyncio.Semaphore(limit)

    async def one(prompt: str) -> Any:
        async with semaphore:
            await limiter.acquire(estimate_tokens([{"role": "user", "content": prompt}], 100))
            return await send(prompt)

    return list(await asyncio.gather(*(one(p) for p in prompts)))


class _Recorder:
    """A fake provider and limiter that record what the learner's code does."""

    def __init__(self) -> None:
        self.in_flight = 0
        self.busiest = 0
        self.acquired: list[int] = []
        self.sent_before_acquire = 0
        self.pending_acquires = 0

    async def acquire(self, tokens: int = 0) -> float:
        self.acquired.append(tokens)
        self.pending_acquires += 1
        await asyncio.sleep(0)
        return 0.0

    async def send(self, prompt: str) -> str:
        if self.pending_acquires <= 0:
            self.sent_before_acquire += 1
        self.pending_acquires -= 1
        self.in_flight += 1
        self.busiest = max(self.busiest, self.in_flight)
        await asyncio.sleep(0.002 * (1 + len(prompt) % 5))  # answers finish out of order
        self.in_flight -= 1
        return prompt.upper()


class _NotAwaitable:
    def __init__(self, name: str) -> None:
        self.name = name


def _run(coroutine: Any) -> Any:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    result: list[Any] = []
    failure: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(coroutine))
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return result[0]


@exercise(
    "4.1.2",
    title="Many requests at once, bounded and paced",
    answer_name="send_all",
    reference=send_all,
    solution=SOLUTION,
    hints=(
        "Make one coroutine per prompt and run them together with asyncio.gather, which keeps "
        "the order of its arguments. Bound them with asyncio.Semaphore(limit).",
        "Inside `async with semaphore:` first `await limiter.acquire(tokens)` (tokens = "
        "estimate_tokens of the prompt as a user message, with max_tokens=100), then "
        "`return await send(prompt)`.",
        "semaphore = asyncio.Semaphore(limit); async def one(p): async with semaphore: await "
        "limiter.acquire(estimate_tokens([{'role': 'user', 'content': p}], 100)); return await "
        "send(p); return list(await asyncio.gather(*(one(p) for p in prompts)))",
    ),
)
def _check_send_all(answer: Any, probe: Probe) -> str:
    from course_lib.compute import estimate_tokens

    for n, limit in ((12, 3), (9, 1), (20, 6), (5, 8)):
        prompts = [f"question {i} " + "x" * (i * 7 % 23) for i in range(n)]
        recorder = _Recorder()
        call = f"send_all on {n} prompts with limit={limit}"

        def run(
            recorder: _Recorder = recorder, prompts: list[str] = prompts, limit: int = limit
        ) -> Any:
            pending = answer(list(prompts), recorder.send, recorder, limit)
            if not inspect.isawaitable(pending):
                for item in pending if isinstance(pending, list) else ():
                    getattr(item, "close", lambda: None)()  # unawaited coroutines, quietly
                return _NotAwaitable(type(pending).__name__)
            return _run(pending)

        got = probe.call_as(call, run)
        if isinstance(got, _NotAwaitable):
            raise NotYet(
                f"{call} returned {got.name}, not a coroutine; define it with "
                "`async def` and await inside it."
            )
        if not isinstance(got, list | tuple) or len(got) != n:
            raise NotYet(f"{call} returned {got!r:.60}; return one answer per prompt, as a list.")
        if list(got) != [p.upper() for p in prompts]:
            raise NotYet(
                f"{call} returned the answers out of order; asyncio.gather keeps the "
                "prompts' order (as_completed does not)."
            )
        if recorder.busiest > limit:
            raise NotYet(
                f"{call} had {recorder.busiest} requests in flight at once; at most "
                f"{limit} may be (an asyncio.Semaphore(limit) around each send)."
            )
        if recorder.busiest < min(limit, n):
            raise NotYet(
                f"{call} never had more than {recorder.busiest} in flight; with "
                f"limit={limit} up to {min(limit, n)} may run together (are the "
                "requests sent one after another?)."
            )
        expected = sorted(estimate_tokens([{"role": "user", "content": p}], 100) for p in prompts)
        if sorted(recorder.acquired) != expected:
            raise NotYet(
                f"{call} acquired from the limiter {len(recorder.acquired)} time(s), "
                f"with other token counts than expected; call limiter.acquire(tokens) "
                "once per prompt, with estimate_tokens(...) of the prompt and "
                "max_tokens=100."
            )
        if recorder.sent_before_acquire:
            raise NotYet(
                f"{call} sent {recorder.sent_before_acquire} request(s) before "
                "acquiring from the limiter; acquire first, then send."
            )
    return "bounded, paced and in order on every hidden batch."


# --- 4.1.3 (open-ended) a pool sized per hour, on a held-out week ------------------------------

COST_MARGIN = 1.10
HOURS_ALLOWED_OVER = 1
HELD_OUT_SEED = 41


def pool_size(rate_per_s: float) -> int:
    """The course's answer: add slots until the queueing formula is under an aim below the
    target (the formula is a little optimistic for these hours; the simulation judges)."""
    from course_lib.compute import mean_latency
    from course_lib.labs.compute_lab import SERVICE_TIME_S, TARGET_S

    aim = TARGET_S * 0.9
    slots = max(1, math.ceil(rate_per_s * SERVICE_TIME_S))
    while rate_per_s > 0 and mean_latency(rate_per_s, SERVICE_TIME_S, slots) > aim:
        slots += 1
    return slots


@lru_cache(maxsize=2)
def _held_out_rates() -> tuple[float, ...]:
    from course_lib.datasets import generate_traffic
    from course_lib.labs.compute_lab import GROWTH, hourly_rates

    week = generate_traffic(seed=HELD_OUT_SEED, start="2026-11-09").requests
    return tuple(hourly_rates(week, GROWTH))


@exercise(
    "4.1.3",
    title="A GPU pool sized hour by hour, checked on another week",
    answer_name="pool_size",
    reference=pool_size,
    solution=SOLUTION,
    time_limit=30.0,
    hints=(
        "A fixed utilisation cannot be right for every hour: one slot at 70% makes a queue, "
        "fifteen slots at 70% idle. Let the queueing model say how many slots a rate needs.",
        "mean_latency(rate, SERVICE_TIME_S, slots) predicts the latency: start from "
        "ceil(rate * SERVICE_TIME_S) slots and add one until it is under the target. The "
        "formula is an approximation; the simulation is the judge, so aim a little under.",
        "Score the visible week with pool_report after each change: if some hours are "
        "over the target, lower your aim below TARGET_S (aim = TARGET_S * a factor under 1); "
        "if the cost ratio is high, raise it. Keep 1 slot for an hour without traffic.",
    ),
)
def _check_pool_size(answer: Any, probe: Probe) -> str:
    from course_lib.compute import servers_needed
    from course_lib.labs.compute_lab import TARGET_S, pool_report

    if answer_calls(answer, servers_needed):
        raise NotYet(
            "your function calls servers_needed, which already does the sizing; write the "
            "loop yourself (start from ceil(rate * SERVICE_TIME_S) slots, add one while "
            "mean_latency is over your aim): choosing the aim is the exercise."
        )
    started = time.perf_counter()
    rates = _held_out_rates()
    plan = []
    for hour, rate in enumerate(rates):
        got = probe.call_as(
            f"pool_size({rate:.3f}) (hour {hour} of the held-out week)", answer, rate
        )
        if isinstance(got, bool) or not isinstance(got, int) or got < 1:
            raise NotYet(
                f"pool_size({rate:.3f}) returned {got!r:.40}; return a whole number "
                "of slots, 1 or more (an int)."
            )
        plan.append(got)
    if time.perf_counter() - started > 20:
        raise NotYet("pool_size took over 20 s for a week of hours; keep each call quick.")
    score = pool_report(plan, rates)
    line = (
        f"on the held-out week: {score['hours over target']} of {len(rates)} hours over "
        f"the {TARGET_S:g} s target (at most {HOURS_ALLOWED_OVER}), "
        f"{score['cost vs fewest']:.2f}x the fewest slot-hours (at most {COST_MARGIN:.2f}x)"
    )
    if score["hours over target"] > HOURS_ALLOWED_OVER or score["cost vs fewest"] > COST_MARGIN:
        raise NotYet(f"{line}. Tune on the week you can see.")
    return line + "."
