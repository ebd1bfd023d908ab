"""The local stand-in model: Chat Completions and Embeddings requests in, OpenAI-shaped dicts out.

It ranks sentences rather than generating text (see ``docs/local-model.md``), and it behaves
like a hosted model where the lessons need it to: grounded answers with citations, refusals,
stale memory, prompt injection, JSON schemas, tool calls, a judge mode, temperature and seed,
real token usage, and seeded faults. A chat request takes one path, whoever sends it: the
in-process provider and the HTTP server both call :meth:`LocalModel.prepare` (validate, count,
draw the fault), deliver the fault their own way, then call :meth:`LocalModel.answer`, so the
two behave identically. Which behaviour answers is decided in
:mod:`~course_lib.standin.behaviours`.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, cast

from course_lib.llm.tokens import count_message_tokens
from course_lib.models import ModelRegistry, ModelSpec, get_registry
from course_lib.standin.behaviours import reply_to
from course_lib.standin.errors import InvalidRequestError
from course_lib.standin.faults import Fault, FaultInjector, FaultPlan
from course_lib.standin.ranking import Tier
from course_lib.standin.text import stable_hash
from course_lib.standin.tokens import count_tokens, truncate_to_tokens
from course_lib.standin.turn import Reply, read_turn

__all__ = ["LocalModel", "stream_chunks"]

MODEL_VERSION = "2026.11"


@dataclass(frozen=True)
class _Prepared:
    """What :meth:`LocalModel.prepare` learned, so ``answer`` need not draw the fault again."""

    spec: ModelSpec
    tier: Tier
    fingerprint: str
    fault: Fault | None


def _fingerprint(request: Mapping[str, Any]) -> str:
    keys = (
        "model",
        "messages",
        "tools",
        "tool_choice",
        "response_format",
        "temperature",
        "max_tokens",
        "max_completion_tokens",
        "stop",
    )
    return format(stable_hash({k: request.get(k) for k in keys}), "016x")


class LocalModel:
    """The stand-in model. Thread-safe; one instance can serve a whole server.

    Args:
        faults: the fault plan; None for a model that never fails.
        registry: the model registry (default: the one the settings point at).
        latency_scale: how much of the modelled latency the provider and the server sleep
            (0: never sleep, 1: all of it); the model itself never sleeps.
    """

    def __init__(
        self,
        *,
        faults: FaultPlan | None = None,
        registry: ModelRegistry | None = None,
        latency_scale: float = 0.0,
    ) -> None:
        if latency_scale < 0:
            raise ValueError(f"latency_scale must be >= 0, got {latency_scale!r}.")
        self.registry = registry or get_registry()
        self.faults = FaultInjector(faults)
        self.latency_scale = latency_scale
        self._counter = 0
        self.requests_received = 0  # every chat request, failed or not: retries show here
        self._lock = threading.Lock()

    # -- requests ----------------------------------------------------------------------

    def _spec(self, name: Any, kind: str) -> ModelSpec:
        if not isinstance(name, str) or not name:
            raise InvalidRequestError(
                "The request has no 'model'. Name a model or role of the "
                "registry, e.g. 'local-small'.",
                param="model",
            )
        try:
            spec = self.registry.resolve(name)
        except KeyError as exc:
            raise InvalidRequestError(
                str(exc), status=404, param="model", code="model_not_found"
            ) from None
        if spec.provider != "local" or spec.kind != kind:
            known = sorted(
                m.id
                for m in self.registry.models.values()
                if m.provider == "local" and m.kind == kind
            )
            raise InvalidRequestError(
                f"Model {name!r} is not a local {kind} model; this server serves {known}.",
                status=404,
                param="model",
                code="model_not_found",
            )
        return spec

    def prepare(self, request: Mapping[str, Any]) -> _Prepared:
        """Validate a chat request and draw its fault (raises nothing for the fault yet)."""
        with self._lock:
            self.requests_received += 1
        spec = self._spec(request.get("model"), "chat")
        messages = request.get("messages")
        if not isinstance(messages, list) or not messages:
            raise InvalidRequestError(
                "'messages' must be a non-empty list of chat messages.", param="messages"
            )
        for i, m in enumerate(messages):
            if not isinstance(m, Mapping) or m.get("role") not in (
                "system",
                "developer",
                "user",
                "assistant",
                "tool",
            ):
                raise InvalidRequestError(
                    f"messages[{i}] needs a role of system, developer, user, assistant or tool.",
                    param=f"messages[{i}].role",
                )
        if int(request.get("n") or 1) != 1:
            raise InvalidRequestError(
                "This model returns one choice per request; set n=1.", param="n"
            )
        temperature = request.get("temperature")
        if temperature is not None and not 0 <= float(temperature) <= 2:
            raise InvalidRequestError("temperature must be between 0 and 2.", param="temperature")
        fingerprint = _fingerprint(request)
        tier = cast(Tier, spec.tier or "small")
        return _Prepared(spec, tier, fingerprint, self.faults.draw(fingerprint, spec.id))

    # -- answering ---------------------------------------------------------------------

    def answer(self, request: Mapping[str, Any], prepared: _Prepared) -> dict[str, Any]:
        """The completion of a request :meth:`prepare` checked, whatever fault it drew.

        Delivering the fault is the caller's job (the HTTP server sends a status code, the
        in-process provider raises the course error), so a request is counted and its fault
        drawn exactly once, by ``prepare``.
        """
        spec = prepared.spec
        plan_rate = self.faults.plan.malformed_rate
        malformed_rate = plan_rate if plan_rate is not None else spec.malformed_output_rate
        turn = read_turn(request, prepared.tier, prepared.fingerprint, malformed_rate)
        reply = reply_to(turn)
        content, finish = _limited(reply, request)
        tools = turn.tools or None
        input_tokens = count_message_tokens(turn.messages, tools, count_tokens=count_tokens)
        output_tokens = count_tokens(content or "") + sum(
            count_tokens(c["function"]["name"] + c["function"]["arguments"])
            for c in reply.tool_calls or ()
        )
        latency = spec.latency_ms(input_tokens, output_tokens)
        if prepared.fault is not None and prepared.fault.kind == "latency_spike":
            latency += prepared.fault.extra_latency_ms
        with self._lock:
            self._counter += 1
            number = self._counter
        message: dict[str, Any] = {"role": "assistant", "content": content}
        if reply.tool_calls is not None:
            message["tool_calls"] = reply.tool_calls
        return {
            "id": f"chatcmpl-{prepared.fingerprint}{number:06d}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": spec.id,
            "system_fingerprint": f"local-{MODEL_VERSION}",
            "choices": [
                {"index": 0, "message": message, "finish_reason": finish, "logprobs": None}
            ],
            "usage": {
                "prompt_tokens": input_tokens,
                "completion_tokens": output_tokens,
                "total_tokens": input_tokens + output_tokens,
            },
            # Not part of the OpenAI format: what the stand-in did, for lessons and tests.
            "course": {
                "behaviour": reply.behaviour,
                "latency_ms": round(latency, 3),
                "cost_usd": spec.cost(input_tokens, output_tokens),
                "malformed": reply.malformed,
            },
        }

    # -- embeddings and models ---------------------------------------------------------

    def embeddings(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """Answer an Embeddings request (float or base64 encoding, as the SDK asks)."""
        spec = self._spec(request.get("model"), "embedding")
        raw = request.get("input")
        texts = [raw] if isinstance(raw, str) else raw
        if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
            raise InvalidRequestError(
                "'input' must be a string or a non-empty list of strings "
                "(token arrays are not supported).",
                param="input",
            )
        from course_lib.embeddings import get_embedder

        try:
            embedder = get_embedder(spec.id)
        except ImportError as exc:
            raise InvalidRequestError(
                str(exc), status=400, param="model", code="model_not_available"
            ) from None
        vectors = embedder.embed(texts)
        encoding = request.get("encoding_format") or "float"
        data = []
        for i, vector in enumerate(vectors):
            value: Any = (
                base64.b64encode(vector.astype("<f4").tobytes()).decode("ascii")
                if encoding == "base64"
                else [float(x) for x in vector]
            )
            data.append({"object": "embedding", "index": i, "embedding": value})
        tokens = sum(count_tokens(t) for t in texts)
        return {
            "object": "list",
            "data": data,
            "model": spec.id,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }

    def models(self) -> dict[str, Any]:
        """The local models, as ``GET /v1/models`` lists them."""
        data = [
            {"id": m.id, "object": "model", "created": 0, "owned_by": "course-local"}
            for m in self.registry.models.values()
            if m.provider == "local"
        ]
        return {"object": "list", "data": data}


def _limited(reply: Reply, request: Mapping[str, Any]) -> tuple[str | None, str]:
    """The reply's content cut at the request's stop sequences and token limit, and why it ended."""
    if reply.tool_calls is not None:
        return reply.content, "tool_calls"
    content = reply.content
    finish = "stop"
    if content is not None:
        for stop in _stops(request.get("stop")):
            if stop and stop in content:
                content = content[: content.index(stop)]
        limit = request.get("max_completion_tokens") or request.get("max_tokens")
        if limit is not None and count_tokens(content) > int(limit):
            content = truncate_to_tokens(content, int(limit))
            finish = "length"
    return content, finish


def _stops(stop: Any) -> list[str]:
    if stop is None:
        return []
    return [stop] if isinstance(stop, str) else [str(s) for s in stop]


def stream_chunks(
    response: Mapping[str, Any], *, include_usage: bool = False, words_per_chunk: int = 3
) -> Iterator[dict[str, Any]]:
    """The completion as ``chat.completion.chunk`` dicts, the way a streaming API sends it."""
    base = {
        "id": response["id"],
        "object": "chat.completion.chunk",
        "created": response["created"],
        "model": response["model"],
        "system_fingerprint": response.get("system_fingerprint"),
    }
    choice = response["choices"][0]
    message = choice["message"]

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {
            **base,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
        }

    yield chunk({"role": "assistant", "content": ""})
    if message.get("tool_calls"):
        for i, call in enumerate(message["tool_calls"]):
            yield chunk({"tool_calls": [{"index": i, **call}]})
    content = message.get("content") or ""
    words = content.split(" ")
    for start in range(0, len(words), words_per_chunk):
        piece = " ".join(words[start : start + words_per_chunk])
        if start + words_per_chunk < len(words):
            piece += " "
        if piece:
            yield chunk({"content": piece})
    yield chunk({}, choice["finish_reason"])
    if include_usage:
        yield {**base, "choices": [], "usage": response["usage"]}
