"""The stand-in model as a provider of the client: in this process, or behind its HTTP server.

``course_lib.llm`` names no concrete model. This module registers two providers with it:
``local`` (the model in this process, no HTTP) and ``local-server`` (the shared local
OpenAI-compatible server, reached with the official SDK). The package also advertises them in
the ``course_lib.providers`` entry-point group, so ``LLMClient.from_settings()`` finds them
without importing this package by name.

>>> client = local_client()                     # the stand-in, in process
>>> client.chat("When is the on-call handover?").content
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from course_lib.errors import (
    ModelRequestError,
    ModelTimeoutError,
    RateLimitError,
    ServerError,
    UnknownModelError,
)
from course_lib.llm import LLMClient, OpenAICompatibleProvider, ReliabilityPolicy, register_provider
from course_lib.standin.errors import InvalidRequestError
from course_lib.standin.faults import FaultPlan
from course_lib.standin.model import LocalModel, stream_chunks
from course_lib.standin.tokens import count_tokens

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["LocalProvider", "local_client", "local_server_provider"]


class LocalProvider:
    """The local model in this process: no HTTP, same behaviour, faults as course errors."""

    name = "local"

    def __init__(
        self,
        model: LocalModel | None = None,
        *,
        faults: FaultPlan | None = None,
        latency_scale: float = 0.0,
    ) -> None:
        self.model = model or LocalModel(faults=faults, latency_scale=latency_scale)

    def _call(
        self, request: Mapping[str, Any], read_timeout_s: float, *, simulate_latency: bool = True
    ) -> dict[str, Any]:
        """One request: its fault delivered as the course error, its latency slept if asked."""
        model_name = request.get("model")
        try:
            prepared = self.model.prepare(request)
        except InvalidRequestError as exc:
            if exc.code == "model_not_found":
                raise UnknownModelError(str(exc)) from exc
            raise ModelRequestError(str(exc), status_code=exc.status) from exc
        fault = prepared.fault
        if fault is not None and fault.kind == "rate_limit":
            raise RateLimitError(
                f"Rate limit reached for {model_name} (429); retry after {fault.retry_after_s} s.",
                retry_after=fault.retry_after_s,
            )
        if fault is not None and fault.kind == "server_error":
            raise ServerError(
                f"The model endpoint failed with HTTP {fault.status_code}.",
                status_code=fault.status_code or 500,
            )
        if fault is not None and fault.kind == "timeout":
            # A slow response: the caller waits until it arrives or its read timeout ends.
            time.sleep(min(fault.delay_s, read_timeout_s))
            if fault.delay_s > read_timeout_s:
                raise ModelTimeoutError(
                    f"No response from {model_name} within the read timeout of {read_timeout_s} s."
                )
        response = self.model.answer(request, prepared)
        delay = response["course"]["latency_ms"] * self.model.latency_scale / 1000
        if not simulate_latency:
            return response
        if delay > read_timeout_s:
            time.sleep(read_timeout_s)
            raise ModelTimeoutError(
                f"No response from {model_name} within the read timeout of {read_timeout_s} s."
            )
        if delay > 0:
            time.sleep(delay)
        return response

    def complete(
        self, request: Mapping[str, Any], *, connect_timeout_s: float, read_timeout_s: float
    ) -> dict[str, Any]:
        return self._call(request, read_timeout_s)

    def stream(
        self, request: Mapping[str, Any], *, connect_timeout_s: float, read_timeout_s: float
    ) -> Iterator[dict[str, Any]]:
        scale = self.model.latency_scale
        response = self._call(request, read_timeout_s, simulate_latency=False)
        chunks = list(stream_chunks(response, include_usage=True))

        def generate() -> Iterator[dict[str, Any]]:
            spec = self.model.registry.resolve(str(response["model"]))
            first = spec.latency_base_ms * scale / 1000
            rest = max(response["course"]["latency_ms"] * scale / 1000 - first, 0.0)
            if first:
                time.sleep(first)
            for i, chunk in enumerate(chunks):
                if i and rest:
                    time.sleep(rest / max(len(chunks) - 1, 1))
                yield chunk

        return generate()

    def embed(self, texts: list[str], model: str) -> NDArray[Any]:
        from course_lib.embeddings import get_embedder

        return get_embedder(model).embed(texts)

    def count_tokens(self, text: str) -> int:
        return count_tokens(text)


def local_server_provider(**options: Any) -> OpenAICompatibleProvider:
    """The shared local server (started on first use), reached over HTTP with the SDK."""
    from course_lib.standin.server import shared_server

    return OpenAICompatibleProvider(shared_server().base_url, count_tokens=count_tokens, **options)


def local_client(
    *,
    faults: FaultPlan | None = None,
    latency_scale: float = 0.0,
    policy: ReliabilityPolicy | None = None,
    **kwargs: Any,
) -> LLMClient:
    """A client of the stand-in model in this process (no server, no network).

    Args:
        faults: a seeded fault plan (rate limits, server errors, timeouts), or None.
        latency_scale: 0 answers at once; 1 sleeps the modelled latency of each call.
        policy: the reliability policy; the client's default when None.
        **kwargs: passed to :class:`~course_lib.llm.LLMClient` (registry, sleep, jitter_seed).
    """
    provider = LocalProvider(faults=faults, latency_scale=latency_scale)
    return LLMClient(provider, policy=policy, **kwargs)


register_provider("local", LocalProvider)
register_provider("local-server", local_server_provider)
