"""One ``chat(...)`` call over every provider, with the reliability policy applied.

>>> client = LLMClient.from_settings()                # the provider the settings name
>>> result = client.chat("When is the on-call handover?", model="chat-small")
>>> result.content, result.usage.input_tokens, result.cost_usd

``LLMClient.for_server(url)`` talks to any OpenAI-compatible endpoint over HTTP with the
official SDK; ``LLMClient.for_provider(name)`` builds a provider registered by name.
Every result carries content, usage, cost, latency, the model that answered and the prompt
version, so the caller can log, trace and bill it.
"""

from __future__ import annotations

import functools
import json
import math
import numbers
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tenacity import Retrying, retry_if_exception, stop_after_attempt

from course_lib.errors import (
    BudgetExceededError,
    CircuitOpenError,
    ModelRequestError,
    RateLimitError,
    SettingsError,
)
from course_lib.llm.lifecycle import check_not_retired, explain_refusal, is_reasoning
from course_lib.llm.policy import (
    RETRYABLE,
    CircuitBreaker,
    ReliabilityPolicy,
    is_retryable,
    wait_backoff_or_retry_after,
)
from course_lib.llm.providers import OpenAICompatibleProvider, Provider, make_provider
from course_lib.llm.tokens import count_message_tokens
from course_lib.models import ModelRegistry, ModelSpec, get_registry, load_registry
from course_lib.settings import get_settings

if TYPE_CHECKING:
    from pathlib import Path

    from numpy.typing import NDArray

    from course_lib.settings import CourseSettings

__all__ = ["ChatResult", "ChatStream", "ClientStats", "LLMClient", "Messages", "ToolCall", "Usage"]

Messages = str | Sequence[Mapping[str, Any]]

# What makes a call move on to the fallback model: failures that persisted through the retries,
# and an open circuit. (Annotated: mypy would type the bare display as a tuple of objects.)
_FALLBACK_ON: tuple[type[BaseException], ...] = (CircuitOpenError, *RETRYABLE)

# Nesting deeper than this is refused before sending: no chat request needs it, the local
# server refuses it too, and a provider that walks the request would exhaust its stack.
MAX_REQUEST_DEPTH = 64
# Keyword arguments the openai SDK takes as options of the HTTP call, not fields of the body.
_SDK_OPTIONS = frozenset({"extra_headers", "extra_query", "extra_body", "timeout"})


@dataclass(frozen=True)
class Usage:
    """Tokens billed for one call.

    ``cached_input_tokens`` is the part of ``input_tokens`` the provider served from its
    prompt cache (``usage.prompt_tokens_details.cached_tokens``), billed at the registry's
    ``cached_input_price_per_million``; it is shown in the repr only when there are any.
    """

    input_tokens: int
    output_tokens: int
    cached_input_tokens: int = field(default=0, repr=False)
    # Part of output_tokens: a reasoning model's hidden thinking, billed as output.
    reasoning_tokens: int = field(default=0, repr=False)

    def __repr__(self) -> str:
        cached = (
            f", cached_input_tokens={self.cached_input_tokens}" if self.cached_input_tokens else ""
        )
        if self.reasoning_tokens:
            cached += f", reasoning_tokens={self.reasoning_tokens}"
        counts = f"input_tokens={self.input_tokens}, output_tokens={self.output_tokens}"
        return f"Usage({counts}{cached})"

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


def _cached_tokens(usage: Mapping[str, Any]) -> int:
    """Cached prompt tokens, as Chat Completions (or the Responses API) reports them."""
    details = usage.get("prompt_tokens_details") or usage.get("input_tokens_details") or {}
    return int(details.get("cached_tokens") or 0) if isinstance(details, Mapping) else 0


def _reasoning_tokens(usage: Mapping[str, Any]) -> int:
    """Hidden reasoning tokens (part of the output), as Chat Completions or Responses report."""
    details = usage.get("completion_tokens_details") or usage.get("output_tokens_details") or {}
    return int(details.get("reasoning_tokens") or 0) if isinstance(details, Mapping) else 0


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: str  # JSON text, as the model wrote it (it may be malformed)

    def parsed_arguments(self) -> dict[str, Any]:
        """The arguments as a dict; raises ValueError with the raw text when they are not JSON."""
        try:
            value = json.loads(self.arguments)
        except json.JSONDecodeError as exc:
            raise ValueError(
                f"Tool call {self.name} has arguments that are not valid JSON "
                f"({exc.msg}): {self.arguments[:200]!r}"
            ) from None
        if not isinstance(value, dict):
            raise ValueError(f"Tool call {self.name} has arguments that are not an object.")
        return value


@dataclass(frozen=True)
class ChatResult:
    """What one chat call produced, and what it cost."""

    content: str | None
    model: str
    usage: Usage
    cost_usd: float
    latency_ms: float  # wall-clock, retries and waits included
    finish_reason: str
    tool_calls: tuple[ToolCall, ...] = ()
    prompt_version: str | None = None
    attempts: int = 1
    fallback_used: bool = False
    simulated_latency_ms: float | None = None  # the local model's modelled latency
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @property
    def message(self) -> dict[str, Any]:
        """The assistant message, ready to append to the conversation."""
        message: dict[str, Any] = {"role": "assistant", "content": self.content}
        if self.tool_calls:
            message["tool_calls"] = [
                {
                    "id": c.id,
                    "type": "function",
                    "function": {"name": c.name, "arguments": c.arguments},
                }
                for c in self.tool_calls
            ]
        return message


@dataclass
class ClientStats:
    """Counts across the client's lifetime: calls asked for vs requests actually sent."""

    calls: int = 0
    attempts: int = 0
    retries: int = 0
    fallbacks: int = 0
    failures: int = 0
    waits_s: list[float] = field(default_factory=list)


class ChatStream:
    """A streamed answer: iterate for text pieces; timings and the result once done."""

    def __init__(
        self,
        chunks: Iterator[dict[str, Any]],
        started: float,
        spec: ModelSpec,
        prompt_version: str | None,
        attempts: int,
        fallback_used: bool,
    ) -> None:
        self._chunks = chunks
        self._started = started
        self._spec = spec
        self._parts: list[str] = []
        self._usage: Usage | None = None
        self._finish = "stop"
        self._prompt_version = prompt_version
        self._attempts = attempts
        self._fallback_used = fallback_used
        self.time_to_first_token_ms: float | None = None
        self.result: ChatResult | None = None

    def __iter__(self) -> Iterator[str]:
        for chunk in self._chunks:
            if chunk.get("usage"):
                u = chunk["usage"]
                self._usage = Usage(
                    int(u["prompt_tokens"]),
                    int(u["completion_tokens"]),
                    _cached_tokens(u),
                    _reasoning_tokens(u),
                )
            for choice in chunk.get("choices") or ():
                if choice.get("index", 0) != 0:  # with n > 1, the stream carries choice 0
                    continue
                piece = (choice.get("delta") or {}).get("content")
                if piece:
                    if self.time_to_first_token_ms is None:
                        self.time_to_first_token_ms = (time.perf_counter() - self._started) * 1000
                    self._parts.append(piece)
                    yield piece
                if choice.get("finish_reason"):
                    self._finish = choice["finish_reason"]
        content = "".join(self._parts)
        usage = self._usage or Usage(0, 0)
        self.result = ChatResult(
            content=content,
            model=self._spec.id,
            usage=usage,
            cost_usd=self._spec.cost(
                usage.input_tokens, usage.output_tokens, usage.cached_input_tokens
            ),
            latency_ms=(time.perf_counter() - self._started) * 1000,
            finish_reason=self._finish,
            prompt_version=self._prompt_version,
            attempts=self._attempts,
            fallback_used=self._fallback_used,
        )

    def text(self) -> str:
        """Consume the stream and return the whole answer."""
        return "".join(self)


def _refused(message: str) -> ModelRequestError:
    """A request the client refuses before sending, as the endpoint would refuse it (400)."""
    return ModelRequestError(message, status_code=400)


def _as_messages(messages: Messages, system: str | None) -> list[dict[str, Any]]:
    """The conversation as Chat Completions messages; a wrong shape is refused, not sent."""
    if isinstance(messages, str):
        out: list[dict[str, Any]] = [{"role": "user", "content": messages}]
    elif isinstance(messages, Iterable) and not isinstance(messages, bytes | Mapping):
        out = []
        for i, message in enumerate(messages):
            if hasattr(message, "model_dump"):  # the SDK's own message objects, as it sends them
                message = message.model_dump(mode="json", exclude_unset=True)
            if not isinstance(message, Mapping):
                raise _refused(
                    f"Invalid type for 'messages[{i}]': expected a message such as "
                    f"{{'role': 'user', 'content': '...'}}, but got {type(message).__name__}."
                )
            out.append(dict(message))
    else:
        raise _refused(
            f"Invalid type for 'messages': expected a string or a list of messages, but got "
            f"{type(messages).__name__}. Pass the question as a string, or a list of "
            "{'role': ..., 'content': ...} dicts."
        )
    if system is not None:
        out.insert(0, {"role": "system", "content": system})
    if not out:
        raise _refused(
            "chat() needs at least one message. Pass the question as a string, or a non-empty "
            "list of messages."
        )
    return out


def _plain_json(value: Any, where: str, depth: int = 1) -> Any:
    """``value`` as plain JSON values, or a ModelRequestError naming where it is not JSON.

    A provider in this process would accept values that JSON cannot carry, and the SDK would
    fail on them with a bare TypeError or ValueError. Converting the request here means every
    provider gets the same request and the same mistake raises the same error, whichever
    path the call takes. Numpy's scalars become Python numbers.
    """
    if value is None or isinstance(value, str | bool):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        number = float(value)
        if not math.isfinite(number):
            raise _refused(
                f"Invalid value for '{where}': {number} cannot be sent (JSON has no NaN or "
                "infinity). Pass a finite number."
            )
        return number
    if depth > MAX_REQUEST_DEPTH:
        raise _refused(
            f"'{where}' nests values more than {MAX_REQUEST_DEPTH} levels deep. Flatten it, or "
            "send a deeply nested document as a JSON string."
        )
    if isinstance(value, Mapping):
        plain = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise _refused(f"Invalid key {key!r} in '{where}': JSON object keys are strings.")
            plain[key] = _plain_json(item, f"{where}.{key}", depth + 1)
        return plain
    if isinstance(value, list | tuple):
        return [_plain_json(item, f"{where}[{i}]", depth + 1) for i, item in enumerate(value)]
    if type(value).__module__ == "numpy" and getattr(value, "ndim", None) == 0:
        return _plain_json(value.item(), where, depth)  # numpy.bool_ and other scalars
    if hasattr(value, "model_dump"):  # a pydantic object, sent as the SDK would send it
        return _plain_json(value.model_dump(mode="json", exclude_unset=True), where, depth)
    raise _refused(
        f"Invalid type for '{where}': a {type(value).__name__} cannot be sent as JSON. Pass "
        "strings, numbers, booleans, lists and dicts only."
    )


def _plain_request(request: Mapping[str, Any]) -> dict[str, Any]:
    """The request with its body as plain JSON; the SDK's own call options pass unchanged."""
    plain = {
        key: value if key in _SDK_OPTIONS else _plain_json(value, key)
        for key, value in request.items()
    }
    tools = plain.get("tools")
    if tools is not None and not isinstance(tools, list):
        raise _refused(
            f"Invalid type for 'tools': expected a list of tools, but got "
            f"{type(request['tools']).__name__}. Pass [{{'type': 'function', 'function': "
            "{...}}, ...]."
        )
    return plain


def _output_limit_named_for(spec: ModelSpec, request: dict[str, Any]) -> dict[str, Any]:
    """``request`` with its output limit under the name the model takes.

    Reasoning models refuse ``max_tokens`` and take ``max_completion_tokens``, which counts
    the hidden reasoning tokens too; other models keep ``max_tokens``, the name every
    OpenAI-compatible server accepts. Callers pass ``max_tokens`` either way.
    """
    if is_reasoning(spec) and "max_tokens" in request:
        request = dict(request)
        request["max_completion_tokens"] = request.pop("max_tokens")
    return request


def _max_tokens(request: Mapping[str, Any]) -> int | None:
    """The request's output limit as an integer; a budget needs it to be one."""
    value = request.get("max_tokens", request.get("max_completion_tokens"))
    if value is None:
        return None
    if isinstance(value, bool) or not (
        isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    ):
        raise _refused(
            f"Invalid type for 'max_tokens': expected an integer, but got "
            f"{type(value).__name__} ({value!r}). Pass a whole number of tokens."
        )
    return int(value)


def _response_format(value: Any) -> Any:
    """Accept a pydantic model class as ``response_format`` and send its JSON schema."""
    if isinstance(value, type) and hasattr(value, "model_json_schema"):
        return {
            "type": "json_schema",
            "json_schema": {"name": value.__name__, "schema": value.model_json_schema()},
        }
    return value


def _chat_result(
    raw: dict[str, Any],
    spec: ModelSpec,
    *,
    latency_ms: float,
    prompt_version: str | None,
    attempts: int,
    fallback_used: bool,
) -> ChatResult:
    """A :class:`ChatResult` from a provider's Chat Completions response ``raw``."""
    choice = raw["choices"][0]
    message = choice.get("message") or {}
    usage_raw = raw.get("usage") or {}
    usage = Usage(
        int(usage_raw.get("prompt_tokens") or 0),
        int(usage_raw.get("completion_tokens") or 0),
        _cached_tokens(usage_raw),
        _reasoning_tokens(usage_raw),
    )
    calls = tuple(
        ToolCall(
            str(c.get("id")),
            str(c["function"]["name"]),
            str(c["function"].get("arguments") or "{}"),
        )
        for c in message.get("tool_calls") or ()
    )
    course = raw.get("course") or {}
    return ChatResult(
        content=message.get("content"),
        model=spec.id,
        usage=usage,
        cost_usd=spec.cost(usage.input_tokens, usage.output_tokens, usage.cached_input_tokens),
        latency_ms=latency_ms,
        finish_reason=str(choice.get("finish_reason") or "stop"),
        tool_calls=calls,
        prompt_version=prompt_version,
        attempts=attempts,
        fallback_used=fallback_used,
        simulated_latency_ms=course.get("latency_ms"),
        raw=raw,
    )


class LLMClient:
    """Chat with any provider through one reliability policy.

    Args:
        provider: where calls go (see :mod:`course_lib.llm.providers`).
        policy: timeouts, retries, fallback, breaker and budget.
        registry: the model registry (roles, prices, windows).
        sleep: how to wait between retries (tests pass a fake to avoid real waiting).
        jitter_seed: seeds the retry jitter, for reproducible lessons; None for real jitter.
    """

    def __init__(
        self,
        provider: Provider,
        *,
        policy: ReliabilityPolicy | None = None,
        registry: ModelRegistry | None = None,
        sleep: Callable[[float], None] = time.sleep,
        jitter_seed: int | None = None,
        usage_log: Path | None = None,
    ) -> None:
        import random

        from course_lib.llm.usage_log import UsageLog

        self.provider = provider
        self.policy = policy or ReliabilityPolicy()
        self.registry = registry or get_registry()
        self.stats = ClientStats()
        self._sleep = sleep
        self._rng = random.Random(jitter_seed)
        self._breaker = CircuitBreaker(
            self.policy.breaker_failure_threshold, self.policy.breaker_reset_s
        )
        self._lock = threading.Lock()
        # Every client of a measured run logs, however it was built (COURSE_USAGE_LOG).
        self._usage_log = UsageLog(usage_log) if usage_log else UsageLog.from_environment()
        # Set by from_settings: only such a client moves to a real provider with the settings.
        self.follows_settings = False

    def __repr__(self) -> str:
        return f"LLMClient(provider={self.provider!r}, policy={self.policy!r})"

    # -- construction --------------------------------------------------------------------

    @classmethod
    def for_provider(
        cls, name: str, *, policy: ReliabilityPolicy | None = None, **options: Any
    ) -> LLMClient:
        """A provider registered by name (see :func:`~course_lib.llm.register_provider`).

        ``options`` not taken by the client (registry, sleep, jitter_seed) go to the provider.
        """
        client_options = {
            k: options.pop(k)
            for k in ("registry", "sleep", "jitter_seed", "usage_log")
            if k in options
        }
        return cls(make_provider(name, **options), policy=policy, **client_options)

    @classmethod
    def for_server(
        cls,
        base_url: str,
        *,
        api_key: Any = None,
        policy: ReliabilityPolicy | None = None,
        **kwargs: Any,
    ) -> LLMClient:
        """Any OpenAI-compatible endpoint (the local server included), over HTTP."""
        return cls(OpenAICompatibleProvider(base_url, api_key), policy=policy, **kwargs)

    @classmethod
    def from_settings(
        cls,
        settings: CourseSettings | None = None,
        *,
        policy: ReliabilityPolicy | None = None,
        **kwargs: Any,
    ) -> LLMClient:
        """The provider the settings name (``llm_provider``), with their timeouts."""
        settings = settings or get_settings()
        policy = (policy or ReliabilityPolicy()).with_changes(
            connect_timeout_s=settings.llm_connect_timeout, read_timeout_s=settings.llm_read_timeout
        )
        kwargs.setdefault("registry", load_registry(settings.model_registry))
        kwargs.setdefault("usage_log", settings.usage_log)
        if settings.llm_provider != "openai-compatible" and not settings.llm_base_url:
            client = cls.for_provider(settings.llm_provider, policy=policy, **kwargs)
        elif not settings.llm_base_url:
            raise SettingsError(
                "llm_provider is 'openai-compatible' but llm_base_url is not set. Set "
                "COURSE_LLM_BASE_URL (e.g. https://api.openai.com/v1) and COURSE_LLM_API_KEY."
            )
        else:
            client = cls.for_server(
                settings.llm_base_url, api_key=settings.llm_api_key, policy=policy, **kwargs
            )
        client.follows_settings = True
        return client

    def _resolve(self, model: Any) -> ModelSpec:
        if not isinstance(model, str):
            raise _refused(
                f"Invalid type for 'model': expected a role or model id such as 'chat-small', "
                f"but got {type(model).__name__}."
            )
        return self.registry.resolve(model)

    def circuit_state(self, model: str) -> str:
        """The circuit of a role or model: "closed", "open" (failing fast) or "half-open"."""
        return self._breaker.state(self.registry.resolve(model).id)

    # -- calls ---------------------------------------------------------------------------

    def _request(
        self, spec: ModelSpec, messages: list[dict[str, Any]], options: dict[str, Any]
    ) -> dict[str, Any]:
        request: dict[str, Any] = {"model": spec.id, "messages": messages}
        request.update({k: v for k, v in options.items() if v is not None})
        request = _plain_request(request)
        budget = self.policy.max_tokens_per_call
        cost_budget = self.policy.max_cost_per_call_usd
        if budget is None and cost_budget is None:
            return _output_limit_named_for(spec, request)  # no tokens to count
        input_tokens = count_message_tokens(
            request["messages"], request.get("tools"), count_tokens=self.provider.count_tokens
        )
        max_out = _max_tokens(request) or spec.max_output_tokens or 1024
        if budget is not None:
            room = budget - input_tokens
            if room <= 0:
                raise BudgetExceededError(
                    f"The prompt alone is {input_tokens} tokens, over the per-call budget of "
                    f"{budget}. Shorten the prompt (fewer or smaller passages) or raise "
                    "max_tokens_per_call."
                )
            max_out = min(max_out, room)
        if cost_budget is not None:
            worst = spec.cost(input_tokens, max_out)
            if worst > cost_budget:
                affordable = int(
                    (cost_budget - spec.cost(input_tokens, 0))
                    * 1_000_000
                    / max(spec.output_price_per_million, 1e-9)
                )
                if affordable <= 0:
                    raise BudgetExceededError(
                        f"The prompt alone costs ${spec.cost(input_tokens, 0):.6f} on {spec.id}, "
                        f"over the per-call budget of ${cost_budget:.6f}. Use a cheaper model, "
                        "a shorter prompt, or raise max_cost_per_call_usd."
                    )
                max_out = min(max_out, affordable)
        request["max_tokens"] = int(max_out)
        return _output_limit_named_for(spec, request)

    def _attempt_loop(self, spec: ModelSpec, send: Callable[[], Any]) -> tuple[Any, int]:
        """Run ``send`` under the retry policy for one model; returns (value, attempts)."""
        policy = self.policy
        attempts = 0

        def retry_predicate(exc: BaseException) -> bool:
            too_long = (
                isinstance(exc, RateLimitError)
                and exc.retry_after is not None
                and exc.retry_after > policy.max_retry_after_s
            )
            return is_retryable(exc) and not too_long

        def record_wait(state: Any) -> None:
            with self._lock:
                self.stats.retries += 1
                self.stats.waits_s.append(state.next_action.sleep if state.next_action else 0.0)

        retrying = Retrying(
            stop=stop_after_attempt(policy.max_attempts),
            wait=wait_backoff_or_retry_after(policy, self._rng),
            retry=retry_if_exception(retry_predicate),
            before_sleep=record_wait,
            sleep=self._sleep,
            reraise=True,
        )
        for attempt in retrying:
            with attempt:
                self._breaker.before_call(spec.id)
                attempts += 1
                with self._lock:
                    self.stats.attempts += 1
                try:
                    value = send()
                except Exception as exc:
                    if is_retryable(exc):
                        self._breaker.record_failure(spec.id)
                    raise
                self._breaker.record_success(spec.id)
                return value, attempts
        raise AssertionError("unreachable")  # pragma: no cover

    def _models(self, model: str) -> list[ModelSpec]:
        primary = self._resolve(model)
        if primary.kind != "chat":
            raise ValueError(
                f"{model!r} is an {primary.kind} model; chat needs a chat model "
                f"such as {', '.join(m.id for m in self.registry.chat_models())}."
            )
        check_not_retired(primary, self.registry, model)
        specs = [primary]
        if self.policy.fallback:
            fallback = self.registry.resolve(self.policy.fallback)
            check_not_retired(fallback, self.registry, self.policy.fallback)
            if fallback.id != primary.id:
                specs.append(fallback)
        return specs

    def _run(
        self,
        model: str,
        messages: Messages,
        system: str | None,
        options: dict[str, Any],
        send: Callable[[ModelSpec, dict[str, Any]], Any],
    ) -> tuple[Any, ModelSpec, int, bool]:
        msgs = _as_messages(messages, system)
        with self._lock:
            self.stats.calls += 1
        errors: list[BaseException] = []
        for i, spec in enumerate(self._models(model)):
            request = self._request(spec, msgs, options)
            try:
                value, attempts = self._attempt_loop(spec, functools.partial(send, spec, request))
            except _FALLBACK_ON as exc:
                errors.append(exc)
                continue
            except Exception as exc:
                with self._lock:
                    self.stats.failures += 1
                clearer = (
                    explain_refusal(exc, spec, request)
                    if isinstance(exc, ModelRequestError)
                    else None
                )
                if clearer is not None:
                    raise clearer from exc
                raise
            if i > 0:
                with self._lock:
                    self.stats.fallbacks += 1
            return value, spec, attempts, i > 0
        with self._lock:
            self.stats.failures += 1
        last = errors[-1]
        if len(errors) > 1:  # name both failures in the message (add_note is Python 3.11+)
            last.args = (f"{last} (That was the fallback; the primary failed first: {errors[0]})",)
        raise last

    def chat(
        self,
        messages: Messages,
        *,
        model: str = "chat-small",
        system: str | None = None,
        prompt_version: str | None = None,
        temperature: float | None = None,
        seed: int | None = None,
        max_tokens: int | None = None,
        tools: Sequence[Mapping[str, Any]] | None = None,
        tool_choice: Any = None,
        response_format: Any = None,
        stop: str | Sequence[str] | None = None,
        **extra: Any,
    ) -> ChatResult:
        """One chat completion under the policy.

        Args:
            messages: a user message as a string, or Chat Completions messages.
            model: a role ("chat-small", "judge"...) or a model id of the registry.
            system: a system prompt to put first.
            prompt_version: stamped on the result (``name@version``) for tracing.
            response_format: a Chat Completions ``response_format`` or a pydantic model class.

        Raises:
            RateLimitError, ServerError, ModelTimeoutError, ConnectionFailedError: still
                failing after every attempt and the fallback.
            CircuitOpenError: the model's circuit is open and there is no fallback.
            BudgetExceededError: the call cannot fit the per-call budget.
            ModelRequestError, UnknownModelError: the request itself is wrong.
        """
        options = {
            "temperature": temperature,
            "seed": seed,
            "max_tokens": max_tokens,
            "tools": tools or None,
            "tool_choice": tool_choice,
            "response_format": _response_format(response_format),
            "stop": stop,
            **extra,
        }
        started = time.perf_counter()

        def send(spec: ModelSpec, request: dict[str, Any]) -> dict[str, Any]:
            return self.provider.complete(
                request,
                connect_timeout_s=self.policy.connect_timeout_s,
                read_timeout_s=self.policy.read_timeout_s,
            )

        raw, spec, attempts, fell_back = self._run(model, messages, system, options, send)
        latency = (time.perf_counter() - started) * 1000
        result = _chat_result(
            raw,
            spec,
            latency_ms=latency,
            prompt_version=prompt_version,
            attempts=attempts,
            fallback_used=fell_back,
        )
        if self._usage_log is not None:
            self._usage_log.record(model, result, follows_settings=self.follows_settings)
        return result

    def stream(
        self,
        messages: Messages,
        *,
        model: str = "chat-small",
        system: str | None = None,
        prompt_version: str | None = None,
        **options: Any,
    ) -> ChatStream:
        """A streamed chat completion; retries apply until the stream opens."""
        started = time.perf_counter()

        def send(spec: ModelSpec, request: dict[str, Any]) -> Iterator[dict[str, Any]]:
            return self.provider.stream(
                request,
                connect_timeout_s=self.policy.connect_timeout_s,
                read_timeout_s=self.policy.read_timeout_s,
            )

        chunks, spec, attempts, fell_back = self._run(model, messages, system, options, send)
        return ChatStream(chunks, started, spec, prompt_version, attempts, fell_back)

    def embed(self, texts: Sequence[str], *, model: str = "embed") -> NDArray[Any]:
        """Embeddings of ``texts`` (rows L2-normalised) from the provider's embedding model.

        The texts are checked here, so a wrong input raises the same ModelRequestError from
        every provider, and no texts give no rows without a call.
        """
        import numpy as np

        spec = self._resolve(model)
        if spec.kind != "embedding":
            raise ValueError(f"{model!r} is a {spec.kind} model, not an embedding model.")
        if isinstance(texts, str | bytes | Mapping) or not isinstance(texts, Iterable):
            raise _refused(
                f"embed() takes a list of texts, but got {type(texts).__name__}. Wrap a single "
                "text in a list: embed([text])."
            )
        listed = list(texts)  # a tuple, a generator or a pandas Series works as well
        for i, text in enumerate(listed):
            if not isinstance(text, str):
                raise _refused(
                    f"Invalid type for 'input[{i}]': expected a string, but got "
                    f"{type(text).__name__}. Convert it to text first."
                )
        if not listed:
            return np.zeros((0, spec.dimension or 0), dtype=np.float32)
        return self.provider.embed(listed, spec.id)
