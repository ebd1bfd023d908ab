"""The client and its reliability policy, in process and over HTTP through the openai SDK."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
from pydantic import BaseModel

from course_lib.errors import (
    BudgetExceededError,
    CircuitOpenError,
    ModelRequestError,
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


# -- bad requests: refused alike on every path, never retried, never held against the model --

BUDGET = FAST.with_changes(max_tokens_per_call=4000, max_cost_per_call_usd=1.0)
BAD_INPUTS: list[tuple[str, Any, dict[str, Any]]] = [
    ("stop=5", CONTEXT, {"stop": 5}),
    ("temperature=hot", CONTEXT, {"temperature": "hot"}),
    ("temperature=nan", CONTEXT, {"temperature": float("nan")}),
    ("max_tokens=x", CONTEXT, {"max_tokens": "x"}),
    ("stop=object", CONTEXT, {"stop": object()}),
    ("tools=[1]", CONTEXT, {"tools": [1]}),
    ("tools=5", CONTEXT, {"tools": 5}),
    ("tool without a name", CONTEXT, {"tools": [{"type": "function", "function": {}}]}),
    ("content=42", [{"role": "user", "content": 42}], {}),
    ("messages=[1]", [1], {}),
    ("messages=None", None, {}),
    ("tool_calls=[1]", [{"role": "assistant", "content": None, "tool_calls": [1]}], {}),
    ("model=list", CONTEXT, {"model": ["chat-small"]}),
    ("deep nesting", CONTEXT, {"metadata": json.loads("[" * 100 + "]" * 100)}),
]


def _clients(server: ModelServer, policy: ReliabilityPolicy) -> dict[str, LLMClient]:
    return {
        "in process": local_client(policy=policy),
        "over HTTP": LLMClient.for_server(server.base_url, policy=policy),
    }


@pytest.mark.parametrize("policy", [FAST, BUDGET], ids=["no budget", "budget"])
@pytest.mark.parametrize(
    ("name", "messages", "options"), BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS]
)
def test_the_same_bad_input_raises_model_request_error_on_every_path(
    server: ModelServer,
    policy: ReliabilityPolicy,
    name: str,
    messages: Any,
    options: dict[str, Any],
) -> None:
    """In process the provider once raised a bare TypeError where HTTP gave a 400, or the SDK
    raised one where in process gave a ModelRequestError; now both raise the course error."""
    server.set_faults(None)
    for path, client in _clients(server, policy).items():
        with pytest.raises(ModelRequestError) as caught:
            client.chat(messages, **options)
        assert caught.value.status_code == 400, (path, caught.value)
        assert client.stats.retries == 0, path


def test_a_bad_stream_request_raises_model_request_error_on_every_path(
    server: ModelServer,
) -> None:
    server.set_faults(None)
    for client in _clients(server, FAST).values():
        with pytest.raises(ModelRequestError):
            client.stream(CONTEXT, stop=5).text()


@pytest.mark.parametrize("path", ["in process", "over HTTP"])
def test_bad_requests_are_never_retried_and_never_open_the_circuit(
    server: ModelServer, path: str
) -> None:
    server.set_faults(None)
    policy = FAST.with_changes(breaker_failure_threshold=2, breaker_reset_s=60)
    client = _clients(server, policy)[path]
    for _ in range(6):
        with pytest.raises(ModelRequestError):
            client.chat(CONTEXT, stop=5)  # type: ignore[arg-type]
    assert client.stats.attempts == 6 and client.stats.retries == 0
    assert client.circuit_state("chat-small") == "closed"
    assert "10:00" in (client.chat(CONTEXT).content or "")


class _StatusHandler(BaseHTTPRequestHandler):
    """Answers every POST with the status its path names, in OpenAI's error shape."""

    received: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self.received.append(self.path)
        status = int(self.path.split("/")[2])  # /status/<code>/v1/chat/completions
        body = json.dumps(
            {"error": {"message": "refused", "type": "invalid_request_error", "param": None}}
        ).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:  # keep the test output quiet
        pass


@pytest.fixture(scope="module")
def status_server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _StatusHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 413, 422])
def test_no_4xx_is_retried_or_counted_by_the_breaker(status_server: str, status: int) -> None:
    policy = FAST.with_changes(breaker_failure_threshold=2, breaker_reset_s=60)
    client = LLMClient.for_server(f"{status_server}/status/{status}/v1", policy=policy)
    _StatusHandler.received.clear()
    for _ in range(4):
        with pytest.raises((ModelRequestError, UnknownModelError)):
            client.chat(CONTEXT)
    assert len(_StatusHandler.received) == 4  # one request per call: no retries
    assert client.stats.retries == 0
    assert client.circuit_state("chat-small") == "closed"


def test_a_5xx_is_still_retried_and_counted_by_the_breaker(status_server: str) -> None:
    policy = FAST.with_changes(max_attempts=2, breaker_failure_threshold=2, breaker_reset_s=60)
    client = LLMClient.for_server(f"{status_server}/status/503/v1", policy=policy)
    with pytest.raises(ServerError):
        client.chat(CONTEXT)
    assert client.stats.attempts == 2
    assert client.circuit_state("chat-small") == "open"


def test_embed_refuses_what_is_not_a_list_of_texts_on_every_path(server: ModelServer) -> None:
    for path, client in _clients(server, FAST).items():
        for texts in ([1], None, "one text"):
            with pytest.raises(ModelRequestError):
                client.embed(texts)  # type: ignore[arg-type]
        assert client.embed([]).shape == (0, 256), path


# -- loading: once per process, whatever the number of threads, and no logging set-up --------


def test_twenty_threads_on_a_fresh_client_load_the_model_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The tokenizer and the embedding model come from one WordLlama load, under a lock."""
    import wordllama

    from course_lib.embeddings import WordLlamaEmbedder, wordllama_model
    from course_lib.standin import tokens

    loads: list[int] = []
    real_load = wordllama.WordLlama.load

    def counting_load(cls: Any, *args: Any, **kwargs: Any) -> Any:
        loads.append(1)
        time.sleep(0.05)  # a slow load, so the threads really do ask at the same time
        return real_load(*args, **kwargs)

    monkeypatch.setattr(wordllama.WordLlama, "load", classmethod(counting_load))
    monkeypatch.setattr(wordllama_model, "_MODELS", {})  # a process that has loaded nothing
    tokens._tokenizer.cache_clear()
    tokens.count_tokens.cache_clear()
    client = local_client()
    start = threading.Barrier(20)

    def work(i: int) -> None:
        start.wait()
        if i % 2:
            client.chat(f"Question {i}: when is the on-call handover?")
        else:
            WordLlamaEmbedder().embed([f"text {i}"])

    try:
        threads = [threading.Thread(target=work, args=(i,)) for i in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        tokens._tokenizer.cache_clear()
        tokens.count_tokens.cache_clear()
    assert len(loads) == 1


# The first thread imports wordllama, whose import calls logging.basicConfig(level=INFO); the
# others start while that import is still running, as a thread pool's first calls do.
_IMPORT_RACE = """
import logging, sys, threading, time

configured = threading.Event()
original = logging.basicConfig

def slow_basic_config(*args, **kwargs):
    original(*args, **kwargs)
    if threading.current_thread().name == "first":
        configured.set()
        time.sleep(0.3)  # the rest of the import; the other threads start meanwhile

logging.basicConfig = slow_basic_config
from course_lib.embeddings import WordLlamaEmbedder

def first():
    WordLlamaEmbedder().embed(["first"])

def later(i):
    configured.wait(30)
    WordLlamaEmbedder().embed([f"text {i}"])

threads = [threading.Thread(target=first, name="first")]
threads += [threading.Thread(target=later, args=(i,)) for i in range(7)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
assert configured.is_set(), "wordllama's import did not configure logging in this version"
root = logging.getLogger()
print(len(root.handlers), logging.getLevelName(root.level))
logging.getLogger("httpx").info("HTTP Request: POST http://127.0.0.1/v1/chat/completions")
"""


def test_importing_wordllama_from_threads_leaves_root_logging_alone() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _IMPORT_RACE], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["0", "WARNING"]
    assert "HTTP Request" not in result.stderr


def test_using_the_embedder_from_threads_keeps_the_root_handlers() -> None:
    from course_lib.embeddings import WordLlamaEmbedder

    root = logging.getLogger()
    before = (list(root.handlers), root.level)
    threads = [
        threading.Thread(target=lambda i=i: WordLlamaEmbedder().embed([f"text {i}"]))
        for i in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (list(root.handlers), root.level) == before
