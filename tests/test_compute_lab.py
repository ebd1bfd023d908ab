"""Lesson 4.1's lab: workload, options, replays, load generators and the pool score."""

from __future__ import annotations

import asyncio

import pytest

from course_lib.compute import RateLimit, Workload
from course_lib.labs import (
    ASSUMPTIONS,
    SERVICE_TIME_S,
    TARGET_S,
    assumptions_table,
    compute_options,
    cost_table,
    fewest_slots,
    handbook_workload,
    hourly_rates,
    open_loop,
    pool_report,
    replay_burst,
    run_requests,
    simulate_schedule,
)


def test_the_workload_comes_from_the_week_of_traffic() -> None:
    workload = handbook_workload()
    assert workload.requests_per_month == round(20_000 * 730 / 168)
    assert 1_000 < workload.input_tokens < 2_000 and 50 < workload.output_tokens < 150
    assert workload.peak_to_mean > 3


def test_every_assumption_has_a_unit_and_a_source() -> None:
    table = assumptions_table()
    assert list(table.index) == list(ASSUMPTIONS)
    assert table["source"].str.len().min() > 10


def test_options_and_table() -> None:
    workload = Workload(100_000, 1_000, 80, 4.0)
    options = compute_options(workload, gpu_hourly_usd=2.0)
    assert [o.name for o in options][1:] == ["dedicated GPU", "serverless"]
    assert options[1].hourly_usd == 2.0
    table = cost_table(options, workload, [1_000, 1_000_000])
    assert len(table) == 2 and len(table.columns) == 6


def test_replay_is_deterministic_and_pacing_avoids_429s() -> None:
    server = RateLimit(1200, 120_000, burst_s=1.0)
    client = RateLimit(1080, 108_000, burst_s=1.0)
    burst = replay_burst(40, server, None, 109)
    assert burst == {"sent": 40, "refused (429)": 22, "virtual seconds": 0.0}
    paced = replay_burst(40, server, client, 109)
    assert paced["refused (429)"] == 0 and paced["virtual seconds"] > 1
    assert paced == replay_burst(40, server, client, 109)


def test_run_requests_counts_rate_limited_calls() -> None:
    import httpx
    import openai

    async def send(i: int) -> None:
        await asyncio.sleep(0)
        if i % 3 == 0:
            response = httpx.Response(429, request=httpx.Request("POST", "http://x"))
            raise openai.RateLimitError("slow down", response=response, body=None)

    result = asyncio.run(run_requests(send, 9, "semaphore", limit=2))
    assert (result["answered"], result["429s"]) == (6, 3)


def test_open_loop_sends_on_schedule() -> None:
    async def send(i: int) -> None:
        await asyncio.sleep(0.001)

    offsets, latencies = asyncio.run(open_loop(send, 200.0, 10, seed=1))
    assert offsets == sorted(offsets) and len(latencies) == 10
    assert all(latency >= 0.0009 for latency in latencies)


def test_simulate_schedule_queues_behind_busy_slots() -> None:
    assert simulate_schedule([0.0, 0.0, 0.0], 1.0, 2) == [1.0, 1.0, 2.0]
    assert simulate_schedule([0.0, 5.0], 1.0, 1) == [1.0, 1.0]


def test_pool_report_scores_a_plan() -> None:
    rates = [0.0, 1.0, 10.0]
    fewest = fewest_slots(rates)
    assert fewest[0] == 1 and fewest[2] >= 10 * SERVICE_TIME_S
    report = pool_report(fewest, rates)
    assert report["hours over target"] == 0 and report["cost vs fewest"] == 1.0
    assert pool_report([1, 1, 1], rates)["hours over target"] == 1
    assert TARGET_S > SERVICE_TIME_S


def test_hourly_rates_cover_the_week() -> None:
    from course_lib.datasets import load_traffic

    rates = hourly_rates(load_traffic(), 100)
    assert len(rates) == 168
    assert sum(rates) * 3600 == pytest.approx(20_000 * 100)


def test_cost_widget_starts_on_the_workload_and_follows_both_sliders() -> None:
    from course_lib.labs import cost_widget, handbook_workload

    workload = handbook_workload()
    widget = cost_widget(lambda volume, hourly: f"{volume:,} at {hourly:.2f}", workload)
    volume, hourly, verdict = widget.children
    assert volume.value == workload.requests_per_month  # listed exactly: nothing to snap
    assert f"{workload.requests_per_month:,} at" in verdict.value
    hourly.value = hourly.options[-1][1]
    assert verdict.value.endswith("at 6.00</pre>")
    volume.value = volume.options[0][1]
    assert verdict.value.startswith("<pre>1,000 at")
