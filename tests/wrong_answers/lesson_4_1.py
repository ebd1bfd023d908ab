"""Plausible wrong answers to lesson 4.1's exercises; each must be rejected by its checker."""

from __future__ import annotations

import asyncio
import math

# --- 4.1.1 gpu_monthly_cost --------------------------------------------------------------------


def _sized_for_the_mean(workload, hourly_usd, requests_per_s, target_utilisation):
    instances = max(1, math.ceil(workload.mean_rate / (requests_per_s * target_utilisation)))
    return instances * hourly_usd * 730


def _no_headroom(workload, hourly_usd, requests_per_s, target_utilisation):
    instances = max(1, math.ceil(workload.peak_rate / requests_per_s))
    return instances * hourly_usd * 730


def _rounds_to_nearest(workload, hourly_usd, requests_per_s, target_utilisation):
    instances = max(1, round(workload.peak_rate / (requests_per_s * target_utilisation)))
    return instances * hourly_usd * 730


def _no_minimum(workload, hourly_usd, requests_per_s, target_utilisation):
    instances = math.ceil(workload.peak_rate / (requests_per_s * target_utilisation))
    return instances * hourly_usd * 730


def _fractional_instances(workload, hourly_usd, requests_per_s, target_utilisation):
    instances = max(1.0, workload.peak_rate / (requests_per_s * target_utilisation))
    return instances * hourly_usd * 730


def _thirty_day_month(workload, hourly_usd, requests_per_s, target_utilisation):
    instances = max(1, math.ceil(workload.peak_rate / (requests_per_s * target_utilisation)))
    return instances * hourly_usd * 720


def _uses_the_library(workload, hourly_usd, requests_per_s, target_utilisation):
    from course_lib.compute import DedicatedGPU

    gpu = DedicatedGPU("gpu", hourly_usd, requests_per_s, 1.0, target_utilisation)
    return gpu.monthly_cost(workload)


# --- 4.1.2 send_all ----------------------------------------------------------------------------


def _tokens(prompt):
    from course_lib.compute import estimate_tokens

    return estimate_tokens([{"role": "user", "content": prompt}], 100)


async def _unbounded(prompts, send, limiter, limit):
    async def one(prompt):
        await limiter.acquire(_tokens(prompt))
        return await send(prompt)

    return list(await asyncio.gather(*(one(p) for p in prompts)))


async def _one_after_another(prompts, send, limiter, limit):
    answers = []
    for prompt in prompts:
        await limiter.acquire(_tokens(prompt))
        answers.append(await send(prompt))
    return answers


async def _forgets_the_limiter(prompts, send, limiter, limit):
    semaphore = asyncio.Semaphore(limit)

    async def one(prompt):
        async with semaphore:
            return await send(prompt)

    return list(await asyncio.gather(*(one(p) for p in prompts)))


async def _in_order_of_completion(prompts, send, limiter, limit):
    semaphore = asyncio.Semaphore(limit)

    async def one(prompt):
        async with semaphore:
            await limiter.acquire(_tokens(prompt))
            return await send(prompt)

    return [await task for task in asyncio.as_completed([one(p) for p in prompts])]


async def _acquires_after_sending(prompts, send, limiter, limit):
    semaphore = asyncio.Semaphore(limit)

    async def one(prompt):
        async with semaphore:
            answer = await send(prompt)
            await limiter.acquire(_tokens(prompt))
            return answer

    return list(await asyncio.gather(*(one(p) for p in prompts)))


async def _limit_off_by_one(prompts, send, limiter, limit):
    semaphore = asyncio.Semaphore(limit + 1)

    async def one(prompt):
        async with semaphore:
            await limiter.acquire(_tokens(prompt))
            return await send(prompt)

    return list(await asyncio.gather(*(one(p) for p in prompts)))


def _not_async(prompts, send, limiter, limit):
    return [send(prompt) for prompt in prompts]


async def _counts_no_tokens(prompts, send, limiter, limit):
    semaphore = asyncio.Semaphore(limit)

    async def one(prompt):
        async with semaphore:
            await limiter.acquire()
            return await send(prompt)

    return list(await asyncio.gather(*(one(p) for p in prompts)))


# --- 4.1.3 pool_size ---------------------------------------------------------------------------

S = 0.5


def _one_slot_per_erlang(rate_per_s):
    return max(1, math.ceil(rate_per_s * S))


def _seventy_percent(rate_per_s):
    return max(1, math.ceil(rate_per_s * S / 0.7))


def _eighty_percent(rate_per_s):
    return max(1, math.ceil(rate_per_s * S / 0.8))


def _sized_for_the_busiest_hour(rate_per_s):
    return 15


def _loop_with_twice_the_margin(rate_per_s):
    from course_lib.compute import mean_latency

    slots = max(1, math.ceil(rate_per_s * S))
    while rate_per_s > 0 and mean_latency(rate_per_s, S, slots) > 0.6:
        slots += 1
    return slots


def _aims_at_the_target_itself(rate_per_s):
    from course_lib.compute import mean_latency

    slots = max(1, math.ceil(rate_per_s * S))
    while rate_per_s > 0 and mean_latency(rate_per_s, S, slots) > 1.0:
        slots += 1
    return slots


def _calls_servers_needed(rate_per_s):
    from course_lib.compute import servers_needed

    return 1 if rate_per_s <= 0 else servers_needed(rate_per_s, S, 0.9)


def _zero_at_night(rate_per_s):
    return 0 if rate_per_s < 0.05 else max(1, math.ceil(rate_per_s * S / 0.85))


def _a_float(rate_per_s):
    return rate_per_s * S / 0.8 + 1


WRONG_ANSWERS = {
    "4.1.1": [
        _sized_for_the_mean,
        _no_headroom,
        _rounds_to_nearest,
        _no_minimum,
        _fractional_instances,
        _thirty_day_month,
        _uses_the_library,
    ],
    "4.1.2": [
        _unbounded,
        _one_after_another,
        _forgets_the_limiter,
        _in_order_of_completion,
        _acquires_after_sending,
        _limit_off_by_one,
        _not_async,
        _counts_no_tokens,
    ],
    "4.1.3": [
        _one_slot_per_erlang,
        _seventy_percent,
        _eighty_percent,
        _sized_for_the_busiest_hour,
        _loop_with_twice_the_margin,
        _aims_at_the_target_itself,
        _calls_servers_needed,
        _zero_at_night,
        _a_float,
    ],
}
