"""Experiments on many model calls: prompts, per-call outcomes, summaries, simulation, prices."""

from __future__ import annotations

import math

import pytest

from course_lib.labs import (
    CALL_COLUMNS,
    handbook_prompts,
    outcome_summary,
    price_table,
    run_calls,
    simulate_success_rate,
)
from course_lib.llm import ReliabilityPolicy
from course_lib.models import get_registry
from course_lib.standin import FaultPlan, local_client

FAST = ReliabilityPolicy(backoff_initial_s=0.001, backoff_max_s=0.01, jitter_s=0.001)


@pytest.fixture(scope="module")
def quick_prompts() -> list[list[dict[str, str]]]:
    return handbook_prompts(40, context="quotes")


def test_handbook_prompts_hold_the_answering_passage_and_the_question() -> None:
    prompts = handbook_prompts(3)
    assert len(prompts) == 3
    for messages in prompts:
        assert [m["role"] for m in messages] == ["system", "user"]
        assert "cite" in messages[0]["content"]
        user = messages[1]["content"]
        assert user.startswith('<doc id="') and "</doc>" in user
        assert "\n\nQuestion: " in user
    sections, quotes = handbook_prompts(5), handbook_prompts(5, context="quotes")
    assert all(
        len(q[1]["content"]) < len(s[1]["content"]) for q, s in zip(quotes, sections, strict=True)
    )


def test_handbook_prompts_are_deterministic_and_validate_their_arguments() -> None:
    assert handbook_prompts(4) == handbook_prompts(4)
    assert handbook_prompts(0) == []
    with pytest.raises(ValueError, match="between 0 and"):
        handbook_prompts(10_000)
    with pytest.raises(ValueError, match="sections"):
        handbook_prompts(2, context="chapters")


def test_run_calls_has_one_row_per_call_with_usage_and_cost(quick_prompts) -> None:
    calls = run_calls(local_client(), quick_prompts[:5], model="chat-large")
    assert list(calls.columns) == list(CALL_COLUMNS)
    assert len(calls) == 5 and calls["ok"].all()
    assert (calls["model"] == get_registry().model_id("chat-large")).all()
    assert (calls["attempts"] == 1).all()
    spec = get_registry().resolve("chat-large")
    for row in calls.itertuples():
        assert row.cost_usd == pytest.approx(spec.cost(row.input_tokens, row.output_tokens))
        assert row.simulated_latency_ms == pytest.approx(
            spec.latency_ms(row.input_tokens, row.output_tokens), rel=1e-3
        )


def test_run_calls_records_failures_and_counts_attempts_of_failed_calls(quick_prompts) -> None:
    plan = FaultPlan(rate=1.0, mix={"server_error": 1.0})
    client = local_client(
        faults=plan, policy=FAST.with_changes(max_attempts=3, breaker_failure_threshold=0)
    )
    calls = run_calls(client, quick_prompts[:2])
    assert not calls["ok"].any()
    assert set(calls["error"]) == {"ServerError"}
    assert list(calls["attempts"]) == [3, 3]
    assert math.isnan(calls["simulated_latency_ms"].iloc[0])
    assert calls["cost_usd"].sum() == 0


def test_run_calls_lets_bugs_propagate(quick_prompts) -> None:
    with pytest.raises(ValueError, match="embedding"):
        run_calls(local_client(), quick_prompts[:1], model="embed")


def test_outcome_summary_counts_successes_requests_fallbacks_and_errors(quick_prompts) -> None:
    plan = FaultPlan(rate=0.3, seed=1, retry_after_s=0.0, timeout_s=0.002)
    bare = local_client(faults=plan, policy=ReliabilityPolicy.bare(read_timeout_s=0.001))
    summary = outcome_summary(run_calls(bare, quick_prompts))
    assert summary["calls"] == 40
    assert summary["requests"] == 40 and summary["requests_per_call"] == 1.0
    assert summary["succeeded"] + sum(summary["errors"].values()) == 40
    assert summary["success_rate"] == summary["succeeded"] / 40
    assert list(summary["errors"]) == sorted(summary["errors"])
    assert summary["fallbacks"] == 0
    assert summary["failed_call_attempts"] == [1] * (40 - summary["succeeded"])


def test_outcome_summary_of_nothing_is_not_a_division_by_zero() -> None:
    import pandas as pd

    summary = outcome_summary(pd.DataFrame(columns=list(CALL_COLUMNS)))
    assert summary["calls"] == 0 and math.isnan(summary["success_rate"])


def test_simulation_matches_the_retry_arithmetic_and_is_reproducible(quick_prompts) -> None:
    bare = simulate_success_rate(0.3, ReliabilityPolicy.bare(), prompts=quick_prompts, seed=3)
    retried = simulate_success_rate(0.3, FAST, prompts=quick_prompts, seed=3)
    assert bare["fault_rate"] == 0.3
    assert 0.5 <= bare["success_rate"] <= 0.9  # about 1 - 0.3
    assert retried["success_rate"] >= 0.95  # about 1 - 0.3**4
    assert retried["requests_per_call"] > 1.1
    again = simulate_success_rate(0.3, FAST, prompts=quick_prompts, seed=3)
    assert again == retried
    perfect = simulate_success_rate(0.0, FAST, prompts=quick_prompts)
    assert perfect["success_rate"] == 1.0 and perfect["requests_per_call"] == 1.0


def test_simulation_uses_the_fallback_and_never_opens_the_breaker(quick_prompts) -> None:
    policy = FAST.with_changes(fallback="chat-large", breaker_failure_threshold=1)
    down = simulate_success_rate(
        1.0, policy, prompts=quick_prompts[:3], mix={"server_error": 1.0}, seed=0
    )
    assert down["success_rate"] == 0.0  # every model fails; the fallback was tried
    assert down["requests"] == 3 * 2 * FAST.max_attempts  # no open circuit cut attempts short
    assert down["failed_call_attempts"] == [2 * FAST.max_attempts] * 3


def test_price_table_reads_prices_and_latency_from_the_registry() -> None:
    table = price_table(["chat-small", "chat-large"])
    registry = get_registry()
    assert list(table["role"]) == ["chat-small", "chat-large"]
    for row in table.itertuples():
        spec = registry.resolve(row.role)
        assert row.model == spec.id
        assert row.input_per_million_usd == spec.input_price_per_million
        assert row.output_per_million_usd == spec.output_price_per_million
        assert row.latency_base_ms == spec.latency_base_ms
        assert row.ms_per_input_token == spec.latency_per_input_token_ms
        assert row.ms_per_output_token == spec.latency_per_output_token_ms
    small, large = table["output_per_million_usd"]
    assert large > small


def test_client_reports_the_circuit_state_of_a_model() -> None:
    plan = FaultPlan(rate=1.0, mix={"server_error": 1.0})
    client = local_client(
        faults=plan, policy=FAST.with_changes(max_attempts=2, breaker_failure_threshold=2)
    )
    assert client.circuit_state("chat-small") == "closed"
    with pytest.raises(Exception, match="HTTP"):
        client.chat("hello")
    assert client.circuit_state("chat-small") == "open"
    assert client.circuit_state("chat-large") == "closed"
