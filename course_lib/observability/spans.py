"""Spans for each step of answering a question, named and attributed by the GenAI conventions.

One question makes one trace::

    invoke_workflow handbook-assistant      trace_workflow(...)
    ├── retrieval handbook                  trace_retrieval(...)
    ├── pack context                        trace_packing(...)
    └── chat local-small                    traced_chat(...) / trace_chat(...)

>>> with trace_workflow(tracing, "handbook-assistant"):
...     with trace_retrieval(tracing, query=question, k=5, mode="hybrid") as step:
...         hits = search(index, question, k=5)
...         step.record_results([h.id for h in hits], scores=[h.score for h in hits])
...     result = traced_chat(client, tracing, **rendered.chat_kwargs())

Every ``trace_*`` function records an exception that escapes it (status ERROR, an
``exception`` event and ``error.type``) and re-raises it. Prompts, answers and queries are
recorded only when ``tracing.capture_message_content`` is on. Text recorded here (attributes,
the exception's message and stack trace, the status) is redacted first: no API key or
``Authorization`` value reaches a span, whatever an endpoint echoed into an error.
"""

from __future__ import annotations

import json
import re
import traceback
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from course_lib.observability import semconv as sc
from course_lib.redaction import redact, redact_value

if TYPE_CHECKING:
    from opentelemetry.trace import Span

    from course_lib.llm.client import ChatResult, LLMClient
    from course_lib.observability.tracing import Tracing

__all__ = [
    "ChatStep",
    "PackingStep",
    "RetrievalStep",
    "Step",
    "trace_chat",
    "trace_packing",
    "trace_retrieval",
    "trace_span",
    "trace_workflow",
    "traced_chat",
]

_PROMPT_REF = re.compile(r"^(?P<name>.+)@v(?P<version>[0-9]+)$")


class Step:
    """A span in progress, with the tracing set-up it belongs to.

    ``span`` is the plain OpenTelemetry span, for anything these functions do not cover.
    """

    def __init__(self, span: Span, tracing: Tracing) -> None:
        self.span = span
        self.tracing = tracing

    def set_attributes(self, attributes: Mapping[str, Any]) -> None:
        """Sets attributes, skipping None values (OpenTelemetry rejects them)."""
        self.span.set_attributes(_clean(attributes))


class ChatStep(Step):
    """The span of one model call; :meth:`record_result` fills in the response."""

    def record_result(self, result: ChatResult) -> None:
        """Records the response model, id, finish reason, usage, cost and attempts."""
        response_id = result.raw.get("id") if result.raw else None
        self.set_attributes(
            {
                sc.GEN_AI_RESPONSE_MODEL: result.model,
                sc.GEN_AI_RESPONSE_ID: str(response_id) if response_id else None,
                sc.GEN_AI_RESPONSE_FINISH_REASONS: [result.finish_reason],
                sc.GEN_AI_USAGE_INPUT_TOKENS: result.usage.input_tokens,
                sc.GEN_AI_USAGE_OUTPUT_TOKENS: result.usage.output_tokens,
                sc.COURSE_COST_USD: float(result.cost_usd),
                sc.COURSE_ATTEMPTS: result.attempts,
                sc.COURSE_FALLBACK_USED: result.fallback_used,
                sc.COURSE_SIMULATED_LATENCY_MS: result.simulated_latency_ms,
            }
        )
        if result.prompt_version:
            self.set_attributes(_prompt_attributes(result.prompt_version))
        if self.tracing.capture_message_content:
            self.set_attributes({sc.GEN_AI_OUTPUT_MESSAGES: _output_messages(result)})


class RetrievalStep(Step):
    """The span of one retrieval; :meth:`record_results` records what came back."""

    def record_results(self, ids: Sequence[str], scores: Sequence[float] | None = None) -> None:
        """Records how many results came back, their ids and (optionally) their scores.

        Ids are chunk or document ids, not content, so they are recorded even with content
        capture off: without them no one can tell why an answer went wrong.
        """
        self.set_attributes(
            {
                sc.COURSE_RETRIEVAL_RESULT_COUNT: len(ids),
                sc.COURSE_RETRIEVAL_DOCUMENT_IDS: [str(i) for i in ids],
                sc.COURSE_RETRIEVAL_SCORES: [float(s) for s in scores]
                if scores is not None
                else None,
            }
        )


class PackingStep(Step):
    """The span of fitting passages into the prompt's token budget."""

    def __init__(self, span: Span, tracing: Tracing, candidates: int) -> None:
        super().__init__(span, tracing)
        self.candidates = candidates

    def record(self, kept_ids: Sequence[str], *, tokens: int | None = None) -> None:
        """Records which passages made it into the prompt and how many tokens they took."""
        self.set_attributes(
            {
                sc.COURSE_PACKING_KEPT_COUNT: len(kept_ids),
                sc.COURSE_PACKING_DROPPED_COUNT: self.candidates - len(kept_ids),
                sc.COURSE_PACKING_KEPT_IDS: [str(i) for i in kept_ids],
                sc.COURSE_PACKING_TOKENS: tokens,
            }
        )


@contextmanager
def trace_span(
    tracing: Tracing,
    name: str,
    *,
    attributes: Mapping[str, Any] | None = None,
    kind: str = "internal",
) -> Iterator[Step]:
    """A span named ``name`` around the block, child of the current span if there is one.

    Args:
        kind: ``"internal"`` (work in this process), ``"client"`` (a call to another
            service) or ``"server"`` (handling a request).
    """
    from opentelemetry.trace import SpanKind

    span_kind = {
        "internal": SpanKind.INTERNAL,
        "client": SpanKind.CLIENT,
        "server": SpanKind.SERVER,
    }[kind]
    with tracing.tracer.start_as_current_span(
        name,
        kind=span_kind,
        attributes=_clean(attributes or {}),
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        try:
            yield Step(span, tracing)
        except Exception as exc:
            _record_error(span, exc)
            raise


@contextmanager
def trace_workflow(
    tracing: Tracing,
    name: str = "handbook-assistant",
    *,
    attributes: Mapping[str, Any] | None = None,
) -> Iterator[Step]:
    """The parent span of one request: ``invoke_workflow {name}``."""
    with trace_span(
        tracing,
        f"{sc.OPERATION_INVOKE_WORKFLOW} {name}",
        attributes={
            sc.GEN_AI_OPERATION_NAME: sc.OPERATION_INVOKE_WORKFLOW,
            sc.GEN_AI_WORKFLOW_NAME: name,
            **(attributes or {}),
        },
    ) as step:
        yield step


@contextmanager
def trace_retrieval(
    tracing: Tracing,
    *,
    query: str,
    k: int,
    mode: str | None = None,
    data_source: str = "handbook",
    attributes: Mapping[str, Any] | None = None,
) -> Iterator[RetrievalStep]:
    """A ``retrieval {data_source}`` span; call ``record_results`` on what it yields.

    Args:
        query: recorded only when content capture is on (a question can hold personal data).
        k: how many results were asked for (``gen_ai.request.top_k``).
        mode: how the index searched, e.g. "dense", "sparse" or "hybrid".
        data_source: the index searched (``gen_ai.data_source.id``).
    """
    base = {
        sc.GEN_AI_OPERATION_NAME: sc.OPERATION_RETRIEVAL,
        sc.GEN_AI_DATA_SOURCE_ID: data_source,
        sc.GEN_AI_REQUEST_TOP_K: k,
        sc.COURSE_RETRIEVAL_MODE: mode,
        sc.GEN_AI_RETRIEVAL_QUERY_TEXT: query if tracing.capture_message_content else None,
    }
    with trace_span(
        tracing,
        f"{sc.OPERATION_RETRIEVAL} {data_source}",
        attributes={**base, **(attributes or {})},
    ) as step:
        yield RetrievalStep(step.span, tracing)


@contextmanager
def trace_packing(
    tracing: Tracing,
    *,
    candidates: int,
    budget_tokens: int | None = None,
    attributes: Mapping[str, Any] | None = None,
) -> Iterator[PackingStep]:
    """A ``pack context`` span (no convention names this step); ``record`` what was kept."""
    with trace_span(
        tracing,
        "pack context",
        attributes={
            sc.COURSE_PACKING_CANDIDATE_COUNT: candidates,
            sc.COURSE_PACKING_BUDGET_TOKENS: budget_tokens,
            **(attributes or {}),
        },
    ) as step:
        yield PackingStep(step.span, tracing, candidates)


@contextmanager
def trace_chat(
    tracing: Tracing,
    *,
    client: LLMClient,
    messages: Any,
    model: str = "chat-small",
    **chat_kwargs: Any,
) -> Iterator[ChatStep]:
    """A ``chat {model id}`` span for a call you make yourself (e.g. a stream).

    Takes the same arguments as ``client.chat``; the request attributes are set when the span
    starts. Call ``step.record_result(result)`` once the call returns.
    """
    model_id, provider, kind, server = _describe_call(client, model)
    attributes: dict[str, Any] = {
        sc.GEN_AI_OPERATION_NAME: sc.OPERATION_CHAT,
        sc.GEN_AI_PROVIDER_NAME: provider,
        sc.GEN_AI_REQUEST_MODEL: model_id,
        sc.GEN_AI_REQUEST_TEMPERATURE: _float_or_none(chat_kwargs.get("temperature")),
        sc.GEN_AI_REQUEST_MAX_TOKENS: chat_kwargs.get("max_tokens"),
        sc.GEN_AI_REQUEST_SEED: chat_kwargs.get("seed"),
        sc.GEN_AI_REQUEST_TOP_P: _float_or_none(chat_kwargs.get("top_p")),
        sc.GEN_AI_REQUEST_STOP_SEQUENCES: _stop_sequences(chat_kwargs.get("stop")),
        sc.GEN_AI_OUTPUT_TYPE: "json" if chat_kwargs.get("response_format") else None,
        sc.COURSE_MODEL_ROLE: model if model != model_id else None,
        **server,
    }
    if chat_kwargs.get("prompt_version"):
        attributes.update(_prompt_attributes(str(chat_kwargs["prompt_version"])))
    if tracing.capture_message_content:
        attributes[sc.GEN_AI_INPUT_MESSAGES] = _input_messages(messages)
        if chat_kwargs.get("system") is not None:
            attributes[sc.GEN_AI_SYSTEM_INSTRUCTIONS] = json.dumps(
                [{"type": "text", "content": str(chat_kwargs["system"])}], ensure_ascii=False
            )
    with trace_span(
        tracing, f"{sc.OPERATION_CHAT} {model_id}", attributes=attributes, kind=kind
    ) as step:
        yield ChatStep(step.span, tracing)


def traced_chat(
    client: LLMClient,
    tracing: Tracing,
    messages: Any,
    *,
    model: str = "chat-small",
    **chat_kwargs: Any,
) -> ChatResult:
    """``client.chat(messages, model=model, **chat_kwargs)`` inside a ``chat {model}`` span.

    Returns what ``client.chat`` returns and raises what it raises (after recording it).

    >>> result = traced_chat(client, tracing, **rendered.chat_kwargs())
    """
    with trace_chat(tracing, client=client, messages=messages, model=model, **chat_kwargs) as step:
        result = client.chat(messages, model=model, **chat_kwargs)
        step.record_result(result)
    return result


# -- internals -------------------------------------------------------------------------------


def _describe_call(client: Any, model: str) -> tuple[str, str, str, dict[str, Any]]:
    """The model id, provider name, span kind and server attributes of a call.

    The provider name is the registry's (who serves the model: ``local``, or ``openai`` in a
    registry written for OpenAI), else the client's transport name. An in-process model is
    an INTERNAL span; a call over the network is a CLIENT span with ``server.*``.
    """
    provider_name = str(getattr(client.provider, "name", "unknown"))
    model_id = model
    try:
        spec = client.registry.resolve(model)
    except Exception:  # an unknown model: client.chat will raise it inside the span
        spec = None
    if spec is not None:
        model_id = spec.id
        provider_name = spec.provider or provider_name
    server: dict[str, Any] = {}
    base_url = getattr(client.provider, "base_url", None)
    if base_url:
        parts = urlsplit(str(base_url))
        if parts.hostname:
            server[sc.SERVER_ADDRESS] = parts.hostname
            server[sc.SERVER_PORT] = parts.port or (443 if parts.scheme == "https" else 80)
    return model_id, provider_name, ("client" if server else "internal"), server


def _prompt_attributes(ref: str) -> dict[str, Any]:
    attributes: dict[str, Any] = {sc.COURSE_PROMPT_REF: ref}
    if match := _PROMPT_REF.match(ref):
        attributes[sc.COURSE_PROMPT_NAME] = match.group("name")
        attributes[sc.COURSE_PROMPT_VERSION] = int(match.group("version"))
    return attributes


def _record_error(span: Span, exc: BaseException) -> None:
    """Marks ``span`` failed with ``exc``, its message and stack trace redacted.

    OpenTelemetry's ``record_exception`` would record ``str(exc)`` and the formatted traceback
    (every chained exception's message included) as they are; the redacted text replaces both.
    The exception itself is left untouched for the caller.
    """
    from opentelemetry.trace import Status, StatusCode

    kind = type(exc)
    stacktrace = "".join(traceback.format_exception(kind, exc, exc.__traceback__))
    span.set_attribute(sc.ERROR_TYPE, f"{kind.__module__}.{kind.__qualname__}")
    span.record_exception(
        exc,
        attributes={
            sc.EXCEPTION_MESSAGE: redact(str(exc)),
            sc.EXCEPTION_STACKTRACE: redact(stacktrace),
        },
    )
    span.set_status(Status(StatusCode.ERROR, redact(f"{kind.__name__}: {exc}")[:500]))


def _clean(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """Drops None values, turns sequences into lists (as OpenTelemetry accepts them), and
    redacts text, so a secret in a message or a query never becomes an attribute."""
    out: dict[str, Any] = {}
    for key, value in attributes.items():
        if value is None:
            continue
        if isinstance(value, tuple | list):
            value = list(value)
        out[key] = redact_value(value)
    return out


def _float_or_none(value: Any) -> float | None:
    return None if value is None else float(value)


def _stop_sequences(stop: Any) -> list[str] | None:
    if stop is None:
        return None
    return [stop] if isinstance(stop, str) else [str(s) for s in stop]


def _parts(content: Any) -> list[dict[str, Any]]:
    if content is None:
        return []
    if isinstance(content, str):
        return [{"type": "text", "content": content}]
    if isinstance(content, Sequence):  # Chat Completions content parts
        return [
            {"type": "text", "content": str(p.get("text", ""))}
            if isinstance(p, Mapping) and p.get("type") == "text"
            else {"type": str(p.get("type", "unknown")) if isinstance(p, Mapping) else "unknown"}
            for p in content
        ]
    return [{"type": "text", "content": str(content)}]


def _input_messages(messages: Any) -> str:
    """The request's messages in the conventions' shape (role + parts), as JSON text."""
    if isinstance(messages, str):
        messages = [{"role": "user", "content": messages}]
    out = []
    for message in messages:
        role = str(message.get("role", "user"))
        parts = _parts(message.get("content"))
        if role == "tool":
            parts = [
                {
                    "type": "tool_call_response",
                    "id": message.get("tool_call_id"),
                    "response": message.get("content"),
                }
            ]
        for call in message.get("tool_calls") or ():
            function = call.get("function", {})
            parts.append(
                {
                    "type": "tool_call",
                    "id": call.get("id"),
                    "name": function.get("name"),
                    "arguments": function.get("arguments"),
                }
            )
        out.append({"role": role, "parts": parts})
    return json.dumps(out, ensure_ascii=False)


def _output_messages(result: ChatResult) -> str:
    parts = _parts(result.content)
    for call in result.tool_calls:
        parts.append(
            {"type": "tool_call", "id": call.id, "name": call.name, "arguments": call.arguments}
        )
    message = {"role": "assistant", "parts": parts, "finish_reason": result.finish_reason}
    return json.dumps([message], ensure_ascii=False)
