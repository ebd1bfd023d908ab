"""course_lib.compute: cost models, rate limiters (in memory, SQLite, Redis), queueing."""

from __future__ import annotations

import asyncio
import itertools
import math
import uuid
from typing import Any

import pytest

from course_lib.compute import (
    DedicatedGPU,
    HostedAPI,
    MemoryBucketStore,
    RateLimit,
    RateLimiter,
    Serverless,
    VirtualClock,
    Workload,
    break_even,
    bucket_store,
    cheapest,
    erlang_c,
    estimate_tokens,
    littles_law,
    mean_latency,
    percentile,
    servers_needed,
    simulate_queue,
    take_from_buckets,
    utilisation,
)
from course_lib.errors import EngineUnavailableError, SettingsError

WORK = Workload(requests_per_month=100_000, input_tokens=1_400, output_tokens=80)
GPU = DedicatedGPU("gpu", hourly_usd=1.79, requests_per_s=4.0, service_time_s=1.0)
LAMBDA = Serverless("fn", 2e-7, 1.66667e-5, 10.0, 3.0, cold_start_s=8.0, idle_timeout_s=600)


# --- cost models -----------------------------------------------------------------------------


def test_hosted_cost_is_the_registry_price_times_volume() -> None:
    from course_lib.models import get_registry

    hosted = HostedAPI.from_registry("chat-large", WORK)
    spec = get_registry().resolve("chat-large")
    assert hosted.monthly_cost(WORK) == pytest.approx(100_000 * spec.cost(1_400, 80))
    assert hosted.latency_s(WORK) == pytest.approx(spec.latency_ms(1_400, 80) / 1000)
    assert hosted.monthly_cost(WORK.at(200_000)) == pytest.approx(2 * hosted.monthly_cost(WORK))


def test_dedicated_cost_is_a_staircase_sized_for_the_peak() -> None:
    assert GPU.instances(WORK.at(0)) == 1
    per_instance = 4.0 * 0.7 / 3 * 730 * 3600  # requests a month one instance carries
    assert GPU.instances(WORK.at(per_instance * 0.99)) == 1
    assert GPU.instances(WORK.at(per_instance * 1.01)) == 2
    assert GPU.monthly_cost(WORK.at(per_instance * 1.01)) == pytest.approx(2 * 1.79 * 730)
    assert GPU.latency_s(WORK) >= GPU.service_time_s


def test_serverless_cold_starts_fade_with_volume() -> None:
    quiet, busy = WORK.at(1_000), WORK.at(10_000_000)
    assert LAMBDA.cold_start_share(quiet) > 0.7
    assert LAMBDA.cold_start_share(busy) < 1e-6
    assert LAMBDA.latency_s(quiet) > LAMBDA.latency_s(busy) == pytest.approx(3.0)
    assert LAMBDA.cost_per_request() == pytest.approx(2e-7 + 10 * 3 * 1.66667e-5)


def test_break_even_finds_the_volume_where_dedicated_wins() -> None:
    hosted = HostedAPI("api", 2.5, 10.0, 1.0)
    volume = break_even(hosted, GPU, WORK)
    assert volume is not None
    at = WORK.at(volume)
    assert GPU.monthly_cost(at) <= hosted.monthly_cost(at)
    below = WORK.at(volume * 0.99)
    assert GPU.monthly_cost(below) > hosted.monthly_cost(below)
    assert cheapest([hosted, GPU], WORK.at(volume * 2)) is GPU
    assert break_even(GPU, hosted, WORK) == 1_000.0  # the API is cheaper from the start
    assert break_even(LAMBDA, hosted, WORK) is None  # dearer per request at any volume


@pytest.mark.parametrize(
    ("make", "needle"),
    [
        (lambda: Workload(-1, 10, 10), "requests_per_month"),
        (lambda: Workload(10, 10, 10, peak_to_mean=0.5), "peak_to_mean"),
        (lambda: DedicatedGPU("g", 1.0, 0.0, 1.0), "load test"),
        (lambda: DedicatedGPU("g", 1.0, 1.0, 1.0, target_utilisation=1.0), "utilisation"),
        (lambda: Serverless("s", 0, 0, -1, 1, 1, 1), "memory_gb"),
        (lambda: break_even(GPU, LAMBDA, WORK, low=10, high=5), "low < high"),
        (lambda: cheapest([], WORK), "at least one"),
    ],
)
def test_bad_cost_parameters_say_what_to_fix(make: Any, needle: str) -> None:
    with pytest.raises(SettingsError, match=needle):
        make()


# --- rate limits -----------------------------------------------------------------------------


def test_estimate_tokens_counts_text_and_reserves_max_tokens() -> None:
    messages = [{"role": "user", "content": "x" * 41}, {"role": "system", "content": None}]
    assert estimate_tokens(messages) == 11
    assert estimate_tokens(messages, max_tokens=300) == 311
    with pytest.raises(SettingsError, match="max_tokens"):
        estimate_tokens(messages, max_tokens=-1)


def test_take_from_buckets_takes_from_all_or_none() -> None:
    levels, updated, wait = take_from_buckets(None, 0.0, 0.0, [1, 50], [1.0, 10.0], [2, 60])
    assert (levels, updated, wait) == ([1.0, 10.0], 0.0, 0.0)
    again, _, wait = take_from_buckets(levels, updated, 0.0, [1, 50], [1.0, 10.0], [2, 60])
    assert again == levels  # the token bucket is short: nothing taken, from either bucket
    assert wait == pytest.approx(4.0)  # 40 tokens at 10 a second
    later, _, wait = take_from_buckets(levels, updated, 4.0, [1, 50], [1.0, 10.0], [2, 60])
    assert wait == 0.0 and later == pytest.approx([1.0, 0.0])
    _, kept, _ = take_from_buckets(levels, 5.0, 3.0, [1, 1], [1.0, 1.0], [2, 60])
    assert kept == 5.0  # a clock that reads earlier refills nothing and moves nothing back


def test_rate_limit_validates_its_numbers() -> None:
    with pytest.raises(SettingsError, match="above 0"):
        RateLimit(0)
    with pytest.raises(SettingsError, match="less than one request"):
        RateLimit(30, burst_s=1.0)
    with pytest.raises(SettingsError, match="never fit"):
        RateLimit(60, tokens_per_minute=600, burst_s=6).amounts(61)
    with pytest.raises(SettingsError, match="non-empty key"):
        RateLimiter(RateLimit(60), key="")


def test_acquire_paces_requests_in_virtual_time() -> None:
    clock = VirtualClock()
    limiter = RateLimiter(RateLimit(600, tokens_per_minute=6_000, burst_s=1.0), clock=clock)

    async def twenty() -> list[float]:
        sent = []
        for _ in range(20):
            await limiter.acquire(tokens=50)
            sent.append(clock.now())
        return sent

    sent = asyncio.run(twenty())
    # buckets of 10 requests and 100 tokens: two requests at once, then one every 0.5 s (tokens)
    assert sent[:2] == [0.0, 0.0]
    assert sent[-1] == pytest.approx(9.0)
    assert all(b - a <= 0.5 + 1e-9 for a, b in itertools.pairwise(sent))


def _store(store_url: str | None, tmp_path: Any) -> Any:
    return bucket_store(store_url, path=tmp_path / "buckets.sqlite")


def test_stores_decide_exactly_like_memory(store_url: str | None, tmp_path: Any) -> None:
    shared = _store(store_url, tmp_path)
    key = f"test-{uuid.uuid4().hex}"
    memory = MemoryBucketStore()
    limit = RateLimit(90, tokens_per_minute=5_000, burst_s=2.0)
    decisions = []
    for step in range(60):
        now = step * 0.137
        tokens = (step * 37) % 150
        args = (limit.amounts(tokens), limit.rates, limit.capacities, now)
        got, expected = shared.take(key, *args), memory.take(key, *args)
        assert got == expected  # the same bits, SQLite or Redis
        decisions.append(got == 0.0)
    assert 0 < sum(decisions) < 60
    shared.reset(key)
    assert shared.take(key, [1.0], [1.0], [1.0], 100.0) == 0.0
    shared.close()


def test_two_limiters_on_one_store_share_one_limit(store_url: str | None, tmp_path: Any) -> None:
    key = f"shared-{uuid.uuid4().hex}"
    limit = RateLimit(600, burst_s=1.0)  # 10 at once, 10 a second
    first = RateLimiter(limit, key=key, store=_store(store_url, tmp_path))
    second = RateLimiter(limit, key=key, store=_store(store_url, tmp_path))
    alone = RateLimiter(limit, key=key)  # its own memory: a limit of its own
    granted = {"shared": 0, "alone": 0}
    for step in range(40):  # two seconds, each limiter trying 20 times a second
        now = step * 0.05
        for limiter in (first, second):
            granted["shared"] += limiter.try_acquire(now=now) == 0.0
        granted["alone"] += alone.try_acquire(now=now) == 0.0
    assert granted["shared"] == granted["alone"] == 10 + 19  # 10 at once, then 10 a second


def test_a_wrong_store_url_says_what_to_use() -> None:
    with pytest.raises(SettingsError, match="redis://"):
        bucket_store("postgresql://localhost/db")


def test_an_unreachable_redis_says_how_to_start_it() -> None:
    with pytest.raises(EngineUnavailableError, match=r"\./run services up"):
        bucket_store("redis://127.0.0.1:1/0")


def test_the_default_store_lives_in_the_work_directory() -> None:
    from course_lib.workdir import work_path

    store = bucket_store()
    assert store.path == work_path("compute", "rate_limits.sqlite")  # type: ignore[attr-defined]
    store.close()


# --- queueing --------------------------------------------------------------------------------


def test_littles_law_and_utilisation() -> None:
    assert littles_law(5.0, 0.4) == pytest.approx(2.0)
    assert utilisation(30, 0.05, 2) == pytest.approx(0.75)
    with pytest.raises(SettingsError, match="whole number"):
        utilisation(1, 1, 0)


def test_erlang_c_known_values() -> None:
    assert erlang_c(1, 0.5) == pytest.approx(0.5)  # M/M/1: P(wait) = rho
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)
    assert erlang_c(3, 3.5) == 1.0


def test_mean_latency_matches_textbook_formulas() -> None:
    # M/M/1: W = 1 / (mu - lambda); M/D/1 (Pollaczek-Khinchine): S + rho S / (2 (1 - rho))
    assert mean_latency(8, 0.1, 1, service="exponential") == pytest.approx(1 / (10 - 8))
    assert mean_latency(8, 0.1, 1) == pytest.approx(0.1 + 0.8 * 0.1 / (2 * 0.2))
    assert math.isinf(mean_latency(10, 0.1, 1))
    with pytest.raises(SettingsError, match="deterministic"):
        mean_latency(1, 0.1, 1, service="uniform")  # type: ignore[arg-type]


def test_simulation_agrees_with_the_formulas_and_littles_law() -> None:
    for servers, service in ((1, "deterministic"), (2, "exponential"), (4, "deterministic")):
        run = simulate_queue(
            0.8 * servers / 0.05, 0.05, servers, n_requests=40_000, seed=1, service=service
        )  # type: ignore[arg-type]
        expected = mean_latency(run.arrival_rate, 0.05, servers, service=service)  # type: ignore[arg-type]
        assert run.mean_latency == pytest.approx(expected, rel=0.1)
        assert run.mean_in_system == pytest.approx(run.throughput * run.mean_latency)
    again = simulate_queue(10, 0.05, 1, n_requests=100, seed=3)
    assert again == simulate_queue(10, 0.05, 1, n_requests=100, seed=3)


def test_servers_needed_meets_the_target_with_the_fewest_slots() -> None:
    servers = servers_needed(30, 0.1, 0.12)
    assert mean_latency(30, 0.1, servers) <= 0.12 < mean_latency(30, 0.1, servers - 1)
    with pytest.raises(SettingsError, match="no queue is faster"):
        servers_needed(1, 0.5, 0.4)


def test_percentile_is_nearest_rank() -> None:
    assert percentile([5, 1, 4, 2, 3], 50) == 3
    assert percentile([1.0] * 19 + [9.0], 95) == 1.0
    with pytest.raises(SettingsError):
        percentile([], 95)


def test_acquire_ends_when_rounding_leaves_a_bucket_a_hair_short() -> None:
    clock = VirtualClock(start=1.0)
    limiter = RateLimiter(RateLimit(1080, 108_000, burst_s=1.0), clock=clock)

    async def many() -> float:
        for _ in range(40):
            await limiter.acquire(tokens=109)
        return clock.now()

    assert asyncio.run(asyncio.wait_for(many(), timeout=5)) < 4.0
