"""Full jitter, a policy's worst case, reasoning and retired models, and the retry lab."""

from __future__ import annotations

import contextlib
import random

import pytest

from course_lib.errors import ModelRequestError
from course_lib.labs import handbook_prompts
from course_lib.labs.retry_lab import retry_storm, storm_summary, trial_policy
from course_lib.llm import LLMClient, ReliabilityPolicy
from course_lib.models import get_registry
from course_lib.standin import local_client, shared_server


def test_the_default_policy_uses_full_jitter_under_the_capped_backoff() -> None:
    policy = ReliabilityPolicy()
    rng = random.Random(0)
    late = [policy.backoff_s(7, rng) for _ in range(2000)]  # the ceiling is the 8 s cap
    assert policy.jitter == "full"
    assert all(0 <= w <= 8.0 for w in late)
    assert min(late) < 0.5 and max(late) > 7.5  # spread over the whole window
    first = [policy.backoff_s(1, rng) for _ in range(200)]
    assert all(0 <= w <= 0.2 for w in first)


def test_added_jitter_keeps_late_retries_within_jitter_s_of_the_cap() -> None:
    policy = ReliabilityPolicy(jitter="added", jitter_s=0.2)
    rng = random.Random(0)
    late = [policy.backoff_s(7, rng) for _ in range(500)]
    assert all(8.0 <= w <= 8.2 for w in late)
    assert ReliabilityPolicy(jitter="none").backoff_s(3, rng) == pytest.approx(0.8)


def test_a_policy_refuses_an_unknown_jitter_and_negative_waits() -> None:
    with pytest.raises(ValueError, match="jitter must be one of"):
        ReliabilityPolicy(jitter="half")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="backoff_max_s"):
        ReliabilityPolicy(backoff_max_s=-1)


def test_retry_after_still_wins_over_a_shorter_full_jitter_wait() -> None:
    from course_lib.errors import RateLimitError
    from course_lib.standin import FaultPlan

    plan = FaultPlan(rate=0.5, seed=2, mix={"rate_limit": 1.0}, retry_after_s=0.75)
    client = local_client(faults=plan, sleep=lambda s: None, jitter_seed=0)
    for i in range(20):
        with contextlib.suppress(RateLimitError):
            client.chat(f"Question {i}: when is the on-call handover?")
    assert client.stats.waits_s and min(client.stats.waits_s) >= 0.75


def test_worst_case_adds_every_timeout_and_every_longest_wait() -> None:
    policy = ReliabilityPolicy(
        connect_timeout_s=0.5,
        read_timeout_s=1.0,
        max_attempts=3,
        backoff_initial_s=0.1,
        backoff_max_s=2.0,
        max_retry_after_s=0.15,
    )
    # 3 tries x 1.5 s + waits max(0.1, 0.15) + max(0.2, 0.15)
    assert policy.worst_case_s() == pytest.approx(4.5 + 0.15 + 0.2)
    assert policy.with_changes(fallback="chat-large").worst_case_s() == pytest.approx(
        2 * (4.5 + 0.35)
    )


def test_retry_storm_shows_full_jitter_spreading_what_added_jitter_bunches() -> None:
    policy = ReliabilityPolicy(max_attempts=8)
    storms = {
        "added": retry_storm(policy.with_changes(jitter="added"), clients=300),
        "full": retry_storm(policy, clients=300),
    }
    summary = storm_summary(storms).set_index(["scheme", "retry"])
    assert len(storms["full"]) == 300 * 7
    assert summary.loc[("added", 7), "busiest_slot"] > 5 * summary.loc[("full", 7), "busiest_slot"]
    assert summary.loc[("full", 7), "spread_s"] > 5.0 > summary.loc[("added", 7), "spread_s"]


def test_trial_policy_is_deterministic_and_separates_good_from_bare() -> None:
    prompts = handbook_prompts(60, context="quotes")
    good = ReliabilityPolicy(
        connect_timeout_s=0.5,
        read_timeout_s=1.0,
        max_attempts=5,
        backoff_initial_s=0.1,
        backoff_max_s=1.0,
        max_retry_after_s=1.5,
        breaker_failure_threshold=10,
    )
    first, again = trial_policy(good, prompts, seeds=(3,)), trial_policy(good, prompts, seeds=(3,))
    assert first == again
    assert first.success_rate >= 0.98 and first.p95_latency_s < 3.0
    bare = trial_policy(ReliabilityPolicy.bare(read_timeout_s=1.0), prompts, seeds=(3,))
    assert bare.success_rate < 0.85
    with pytest.raises(TypeError, match="ReliabilityPolicy"):
        trial_policy("fast", prompts)  # type: ignore[arg-type]


def test_trial_policy_counts_why_calls_failed_including_an_open_circuit() -> None:
    prompts = handbook_prompts(60, context="quotes")
    # One failure opens the circuit for the default 30 s: the next calls are refused unsent.
    touchy = ReliabilityPolicy(
        connect_timeout_s=0.5, read_timeout_s=1.0, max_attempts=2, breaker_failure_threshold=1
    )
    trial = trial_policy(touchy, prompts, seeds=(3, 4))
    assert trial.errors["CircuitOpenError"] > 0
    assert trial.failures == round((1 - trial.success_rate) * trial.calls)
    bare = trial_policy(ReliabilityPolicy.bare(read_timeout_s=1.0), prompts, seeds=(3,))
    assert set(bare.errors) <= {"RateLimitError", "ServerError", "ModelTimeoutError"}
    assert bare.failures == round((1 - bare.success_rate) * bare.calls) > 0


def test_a_reasoning_model_reports_hidden_tokens_billed_as_output() -> None:
    spec = get_registry().resolve("chat-reasoning")
    result = local_client().chat("When is the on-call handover?", model="chat-reasoning")
    usage = result.usage
    assert 0 < usage.reasoning_tokens < usage.output_tokens
    assert result.cost_usd == pytest.approx(spec.cost(usage.input_tokens, usage.output_tokens))
    low = local_client().chat(
        "When is the on-call handover?", model="chat-reasoning", reasoning_effort="low"
    )
    assert low.usage.reasoning_tokens < usage.reasoning_tokens
    plain = local_client().chat("When is the on-call handover?", model="chat-small")
    assert plain.usage.reasoning_tokens == 0


@pytest.mark.parametrize("over_http", [False, True])
def test_a_reasoning_model_refuses_temperature_and_the_error_says_what_to_do(
    over_http: bool,
) -> None:
    client = LLMClient.for_server(shared_server().base_url) if over_http else local_client()
    with pytest.raises(ModelRequestError) as caught:
        client.chat("Hello", model="chat-reasoning", temperature=0.2)
    message = str(caught.value)
    assert "Unsupported parameter: 'temperature'" in message
    assert "leave out temperature" in message and "reasoning_effort" in message
    assert client.stats.attempts == 1  # a 400 is never retried


@pytest.mark.parametrize("over_http", [False, True])
def test_a_retired_model_fails_in_one_line_naming_the_replacement(over_http: bool) -> None:
    client = LLMClient.for_server(shared_server().base_url) if over_http else local_client()
    with pytest.raises(ModelRequestError, match="retired on 2026-06-30") as caught:
        client.chat("Hello", model="local-small-2025")
    assert "'local-small'" in str(caught.value) and "\n" not in str(caught.value)
    assert client.stats.attempts == 0  # refused before anything is sent


def test_the_stand_in_refuses_a_retired_model_as_a_provider_does() -> None:
    from course_lib.standin.errors import InvalidRequestError
    from course_lib.standin.model import LocalModel

    model = LocalModel()
    request = {"model": "local-small-2025", "messages": [{"role": "user", "content": "Hi"}]}
    with pytest.raises(InvalidRequestError, match="deprecated") as caught:
        model.prepare(request)
    assert caught.value.status == 404 and caught.value.code == "model_not_found"


def test_the_tuning_seeds_show_the_default_breaker_once_the_read_timeout_is_short() -> None:
    # Lesson 1.1's exercise tunes on seeds 0 to 3: the default breaker (5 failed attempts in
    # a row, 30 s open) must trip there, or a learner meets it only in the held-out check.
    prompts = handbook_prompts(150, context="quotes")
    seeds = (0, 1, 2, 3)
    assert "CircuitOpenError" not in trial_policy(ReliabilityPolicy(), prompts, seeds=seeds).errors
    short = ReliabilityPolicy(read_timeout_s=1.0, max_retry_after_s=1.5)
    for attempts in (4, 5):
        trial = trial_policy(short.with_changes(max_attempts=attempts), prompts, seeds=seeds)
        assert trial.errors.get("CircuitOpenError", 0) >= 25  # about 30 calls per trip
