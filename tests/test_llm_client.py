"""The client and its reliability policy, in process and over HTTP through the openai SDK."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel

from course_lib.errors import (
    BudgetExceededError,
    CircuitOpenError,
    ModelTimeoutError,
    RateLimitError,
    ServerError,
    SettingsError,
    UnknownModelError,
)
from course_lib.llm import CircuitBreaker, LLMClient, ReliabilityPolicy
from course_lib.models import get_registry
from course_lib.settings import load_settings
from course_lib.standin import FaultPlan, ModelServer, local_client, serve_model

CONTEXT = (
    "Answer from the sources and cite them.\n\n"
    "[oncall-policy] Handover is Monday at 10:00 Europe/Lisbon.\n\n"
    "Question: When is the on-call handover?"
)
# Fast waits so the policy's behaviour, not the clock, is under test.
FAST = ReliabilityPolicy(backoff_initial_s=0.001, backoff_max_s=0.01, jitter_s=0.001)
PLAN_20 = FaultPlan(rate=0.2, seed=11, retry_after_s=0.001, timeout_s=0.05)


def questions(n: int) -> list[str]:
    topics = ["roll back a deploy", "claim a train ticket", "reset my MFA", "page the SRE"]
    return [f"Request {i}: how do I {topics[i % len(topics)]}?" for i in range(n)]


def success_count(client: LLMClient, prompts: list[str]) -> int:
    ok = 0
    for prompt in prompts:
        try:
            client.chat(prompt)
        except (RateLimitError, ModelTimeoutError, Exception):
            continue
        ok += 1
    return ok


@pytest.fixture(scope="module")
def server() -> Iterator[ModelServer]:
    with serve_model() as running:
        yield running


def test_result_carries_content_usage_cost_latency_model_and_prompt_version() -> None:
    client = local_client()
    result = client.chat(CONTEXT, model="chat-large", prompt_version="handbook-answer@3")
    spec = get_registry().resolve("chat-large")
    assert "10:00" in (result.content or "")
    assert result.model == "local-large"
    assert result.usage.input_tokens > 0 and result.usage.output_tokens > 0
    assert result.cost_usd == pytest.approx(
        spec.cost(result.usage.input_tokens, result.usage.output_tokens)
    )
    assert result.latency_ms > 0
    assert result.simulated_latency_ms == pytest.approx(
        spec.latency_ms(result.usage.input_tokens, result.usage.output_tokens), rel=1e-3
    )
    assert result.prompt_version == "handbook-answer@3"
    assert result.finish_reason == "stop"
    assert result.message == {"role": "assistant", "content": result.content}


def test_system_prompt_and_pydantic_response_format() -> None:
    class Answer(BaseModel):
        day: str

    client = local_client(faults=FaultPlan(malformed_rate=0.0))
    result = client.chat(
        "[oncall-policy] Handover is Monday at 10:00.\nQuestion: which day?",
        system="Reply in JSON.",
        response_format=Answer,
    )
    assert Answer.model_validate_json(result.content or "").day == "Monday"


def test_unknown_model_names_the_known_ones() -> None:
    with pytest.raises(UnknownModelError, match="chat-small"):
        local_client().chat("hi", model="gpt-x")


def test_policy_turns_a_20_percent_fault_rate_into_full_success_in_process() -> None:
    prompts = questions(200)
    bare = local_client(faults=PLAN_20, policy=ReliabilityPolicy.bare(read_timeout_s=0.01))
    with_policy = local_client(faults=PLAN_20, policy=FAST.with_changes(read_timeout_s=0.01))
    bare_ok = success_count(bare, prompts)
    assert 0.70 * 200 <= bare_ok <= 0.90 * 200  # about one call in five fails
    assert success_count(with_policy, prompts) == 200
    assert with_policy.stats.retries > 0
    assert with_policy.stats.attempts == 200 + with_policy.stats.retries


def test_over_http_retries_never_multiply(server: ModelServer) -> None:
    """The SDK's own retries are off: every request the server sees is one of ours."""
    server.set_faults(FaultPlan(rate=0.2, seed=3, retry_after_s=0.001, timeout_s=0.6))
    before = server.model.requests_received
    client = LLMClient.for_server(server.base_url, policy=FAST.with_changes(read_timeout_s=0.3))
    prompts = questions(120)
    assert success_count(client, prompts) == 120
    sent = server.model.requests_received - before
    assert sent == client.stats.attempts
    assert client.stats.attempts > 120  # some calls needed a retry
    assert client.stats.attempts <= 120 * FAST.max_attempts
    server.set_faults(None)


def test_bare_call_over_http_fails_about_one_in_five(server: ModelServer) -> None:
    server.set_faults(FaultPlan(rate=0.2, seed=5, mix={"rate_limit": 1, "server_error": 1}))
    client = LLMClient.for_server(server.base_url, policy=ReliabilityPolicy.bare())
    ok = success_count(client, questions(150))
    assert 0.70 * 150 <= ok <= 0.90 * 150
    server.set_faults(None)


def test_retry_after_is_honoured_in_process() -> None:
    waits: list[float] = []
    plan = FaultPlan(rate=0.5, seed=2, mix={"rate_limit": 1.0}, retry_after_s=0.75)
    client = local_client(faults=plan, policy=FAST, sleep=waits.append)
    for prompt in questions(20):
        client.chat(prompt)
    assert waits, "no rate limit was hit"
    assert all(w >= 0.75 for w in waits)


def test_retry_after_is_honoured_over_http(server: ModelServer) -> None:
    waits: list[float] = []
    server.set_faults(FaultPlan(rate=0.5, seed=4, mix={"rate_limit": 1.0}, retry_after_s=0.4))
    client = LLMClient.for_server(server.base_url, policy=FAST, sleep=waits.append)
    for prompt in questions(10):
        client.chat(prompt)
    server.set_faults(None)
    assert waits and all(0.4 <= w < 1.0 for w in waits)  # from retry-after-ms, not rounded up


def test_a_retry_after_longer_than_allowed_is_not_waited_for() -> None:
    plan = FaultPlan(rate=1.0, mix={"rate_limit": 1.0}, retry_after_s=120)
    client = local_client(faults=plan, policy=FAST.with_changes(max_retry_after_s=10))
    with pytest.raises(RateLimitError):
        client.chat("hello")
    assert client.stats.attempts == 1


def test_timeouts_raise_and_are_retried() -> None:
    plan = FaultPlan(rate=1.0, mix={"timeout": 1.0}, timeout_s=0.2)
    client = local_client(faults=plan, policy=FAST.with_changes(read_timeout_s=0.01))
    with pytest.raises(ModelTimeoutError):
        client.chat("hello")
    assert client.stats.attempts == FAST.max_attempts


def test_fallback_model_answers_when_the_primary_is_down() -> None:
    plan = FaultPlan(rate=1.0, mix={"server_error": 1.0}, models=("local-small",))
    client = local_client(faults=plan, policy=FAST.with_changes(fallback="chat-large"))
    result = client.chat(CONTEXT, model="chat-small")
    assert result.model == "local-large"
    assert result.fallback_used
    assert client.stats.fallbacks == 1


def test_circuit_opens_fails_fast_and_probes_after_reset() -> None:
    now = [0.0]
    breaker = CircuitBreaker(failure_threshold=3, reset_s=10, clock=lambda: now[0])
    for _ in range(3):
        breaker.before_call("m")
        breaker.record_failure("m")
    assert breaker.state("m") == "open"
    with pytest.raises(CircuitOpenError, match="fail fast"):
        breaker.before_call("m")
    now[0] = 11
    assert breaker.state("m") == "half-open"
    breaker.before_call("m")  # the probe goes through
    breaker.record_failure("m")  # and fails: open again
    assert breaker.state("m") == "open"
    now[0] = 22
    breaker.record_success("m")
    assert breaker.state("m") == "closed"


def test_client_stops_calling_a_model_whose_circuit_is_open(server: ModelServer) -> None:
    server.set_faults(FaultPlan(rate=1.0, mix={"server_error": 1.0}))
    policy = FAST.with_changes(max_attempts=2, breaker_failure_threshold=4, breaker_reset_s=60)
    client = LLMClient.for_server(server.base_url, policy=policy)
    for prompt in questions(2):
        with pytest.raises(ServerError):
            client.chat(prompt)
    before = server.model.requests_received
    with pytest.raises(CircuitOpenError):
        client.chat("one more")
    assert server.model.requests_received == before  # failed fast, nothing sent
    server.set_faults(None)


def test_token_budget_refuses_an_oversized_prompt_before_sending() -> None:
    client = local_client(policy=FAST.with_changes(max_tokens_per_call=20))
    with pytest.raises(BudgetExceededError, match="per-call budget"):
        client.chat(CONTEXT * 3)
    assert client.stats.attempts == 0


def test_budgets_cap_the_output() -> None:
    client = local_client(policy=FAST.with_changes(max_tokens_per_call=70))
    result = client.chat(CONTEXT + " Answer in detail.", model="chat-large")
    assert result.usage.total_tokens <= 70
    costly = local_client(policy=FAST.with_changes(max_cost_per_call_usd=0.0002))
    capped = costly.chat(CONTEXT + " Answer in detail.", model="chat-large")
    assert capped.cost_usd <= 0.0002
    with pytest.raises(BudgetExceededError, match="cheaper model"):
        local_client(policy=FAST.with_changes(max_cost_per_call_usd=1e-7)).chat(
            CONTEXT, model="chat-large"
        )


def test_streaming_reports_time_to_first_token_and_the_result() -> None:
    client = local_client(latency_scale=0.2)
    stream = client.stream(CONTEXT, model="chat-large")
    text = stream.text()
    assert stream.time_to_first_token_ms is not None
    assert stream.result is not None
    assert stream.result.content == text
    assert stream.time_to_first_token_ms < stream.result.latency_ms
    assert stream.result.usage.output_tokens > 0


def test_streaming_over_http(server: ModelServer) -> None:
    client = LLMClient.for_server(server.base_url)
    stream = client.stream(CONTEXT, model="chat-large")
    assert "10:00" in stream.text()
    assert stream.result is not None and stream.result.usage.input_tokens > 0


def test_settings_choose_the_provider() -> None:
    local = LLMClient.from_settings(load_settings({"llm_provider": "local"}))
    assert local.provider.name == "local"
    with pytest.raises(SettingsError, match="llm_base_url"):
        LLMClient.from_settings(load_settings({"llm_provider": "openai-compatible"}))
    served = LLMClient.from_settings(load_settings({"llm_provider": "local-server"}))
    assert "10:00" in (served.chat(CONTEXT).content or "")


def test_the_api_key_never_prints() -> None:
    key = "sk-test-abcdef0123456789"  # pragma: allowlist secret
    settings = load_settings(
        {
            "llm_provider": "openai-compatible",
            "llm_base_url": "http://127.0.0.1:9/v1",
            "llm_api_key": key,
        }
    )
    client = LLMClient.from_settings(settings)
    for text in (repr(settings), str(settings), repr(client), repr(client.provider)):
        assert key not in text


def test_unreachable_endpoint_gives_a_clear_error() -> None:
    client = LLMClient.for_server(
        "http://127.0.0.1:9/v1", policy=ReliabilityPolicy.bare(connect_timeout_s=0.5)
    )
    with pytest.raises(ConnectionError, match="is the server running"):
        client.chat("hello")


def test_embed_through_the_client(server: ModelServer) -> None:
    local = local_client().embed(["on-call handover"])
    remote = LLMClient.for_server(server.base_url).embed(["on-call handover"])
    assert local.shape == remote.shape == (1, 256)
    assert abs(float((local * remote).sum()) - 1.0) < 1e-5


# --- providers by name, and counting tokens only when a budget needs it -----------------------


def test_the_client_finds_the_stand_in_by_name_without_importing_it() -> None:
    """course_lib.llm names no concrete model: the stand-in arrives through an entry point."""
    import subprocess
    import sys

    code = (
        "import sys; from course_lib.llm import LLMClient, provider_names;"
        "assert 'course_lib.standin' not in sys.modules;"
        "client = LLMClient.for_provider('local');"
        "print(sorted(provider_names()), type(client.provider).__module__,"
        " client.chat('When is the on-call handover?').usage.input_tokens > 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("]")[0] + "]" == "['local', 'local-server', 'openai-compatible']"
    assert "course_lib.standin.provider True" in result.stdout


def test_an_unknown_provider_name_says_which_exist() -> None:
    from course_lib.errors import SettingsError
    from course_lib.llm import make_provider

    with pytest.raises(SettingsError, match=r"No model provider is registered as 'nope'.*local"):
        make_provider("nope")


class _CountingProvider:
    """Wraps the stand-in and records every token count the client asks for."""

    name = "counting"

    def __init__(self) -> None:
        from course_lib.standin import LocalProvider

        self.inner = LocalProvider()
        self.counted: list[str] = []

    def complete(self, request: Any, **timeouts: float) -> dict[str, Any]:
        return self.inner.complete(request, **timeouts)

    def stream(self, request: Any, **timeouts: float) -> Any:
        return self.inner.stream(request, **timeouts)

    def embed(self, texts: list[str], model: str) -> Any:
        return self.inner.embed(texts, model)

    def count_tokens(self, text: str) -> int:
        self.counted.append(text)
        return self.inner.count_tokens(text)


def test_tokens_are_counted_only_when_a_budget_needs_them() -> None:
    from course_lib.llm import LLMClient, ReliabilityPolicy

    provider = _CountingProvider()
    LLMClient(provider).chat("When is the on-call handover?")
    assert provider.counted == []  # no budget: nothing to decide before the call
    budgeted = LLMClient(provider, policy=ReliabilityPolicy(max_tokens_per_call=4000))
    budgeted.chat("When is the on-call handover?")
    assert "When is the on-call handover?" in provider.counted


def test_a_remote_endpoint_estimates_tokens_without_a_tokenizer() -> None:
    from course_lib.llm import OpenAICompatibleProvider, estimate_tokens

    provider = OpenAICompatibleProvider("http://127.0.0.1:9/v1")
    assert provider.count_tokens is estimate_tokens
    assert estimate_tokens("") == 0 and estimate_tokens("abcde") == 2
