"""Where a chat request goes: the local model in process, or any OpenAI-compatible endpoint.

Each provider turns its own failures into the same course_lib errors (RateLimitError,
ServerError, ModelTimeoutError, ConnectionFailedError, ModelRequestError), so the reliability
policy is written once. The original exception stays attached as ``__cause__``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from course_lib.errors import (
    ModelRequestError,
    ModelTimeoutError,
    RateLimitError,
    ServerError,
    UnknownModelError,
)
from course_lib.llm.local.faults import FaultPlan
from course_lib.llm.local.model import InvalidRequest, LocalModel, stream_chunks
from course_lib.llm.policy import ConnectionFailedError

if TYPE_CHECKING:
    import numpy as np
    from pydantic import SecretStr

__all__ = ["LocalProvider", "OpenAICompatibleProvider", "Provider"]


class Provider(Protocol):
    """What the client needs from a model endpoint."""

    name: str

    def complete(
        self, request: Mapping[str, Any], *, connect_timeout_s: float, read_timeout_s: float
    ) -> dict[str, Any]: ...

    def stream(
        self, request: Mapping[str, Any], *, connect_timeout_s: float, read_timeout_s: float
    ) -> Iterator[dict[str, Any]]: ...

    def embed(self, texts: list[str], model: str) -> np.ndarray: ...


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
        except InvalidRequest as exc:
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

    def embed(self, texts: list[str], model: str) -> np.ndarray:
        from course_lib.embeddings import get_embedder

        return get_embedder(model).embed(texts)


def _retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait, from ``retry-after-ms`` (OpenAI's) or the standard ``Retry-After``."""
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return max(float(value) / scale, 0.0)
        except ValueError:
            from email.utils import parsedate_to_datetime

            try:
                when = parsedate_to_datetime(value).timestamp()
            except (TypeError, ValueError):
                continue
            return max(when - time.time(), 0.0)
    return None


class OpenAICompatibleProvider:
    """Any OpenAI-compatible endpoint through the official SDK, with its own retries off.

    The SDK retries twice by default; left on, its retries would multiply with ours (3 x 4 =
    12 requests for one call). ``max_retries=0`` keeps one retry layer: the policy's.
    """

    name = "openai-compatible"

    def __init__(self, base_url: str, api_key: str | SecretStr | None = None) -> None:
        import openai

        secret = api_key.get_secret_value() if hasattr(api_key, "get_secret_value") else api_key
        self.base_url = base_url
        # Local servers ignore the key; the SDK insists on one.
        self._client = openai.OpenAI(base_url=base_url, api_key=secret or "local", max_retries=0)

    def __repr__(self) -> str:  # never show the key
        return f"OpenAICompatibleProvider(base_url={self.base_url!r})"

    def _options(self, connect_timeout_s: float, read_timeout_s: float) -> Any:
        import httpx

        timeout = httpx.Timeout(read_timeout_s, connect=connect_timeout_s)
        return self._client.with_options(timeout=timeout, max_retries=0)

    def _translate(self, exc: Exception, model: Any) -> Exception:
        import openai

        if isinstance(exc, openai.APITimeoutError):
            return ModelTimeoutError(f"No response from {model} within the read timeout.")
        if isinstance(exc, openai.APIConnectionError):
            return ConnectionFailedError(
                f"Cannot reach the model endpoint at {self.base_url}: is the server running "
                "and the base URL right (it ends in /v1)?"
            )
        if isinstance(exc, openai.RateLimitError):
            return RateLimitError(
                f"Rate limit reached for {model} (429).",
                retry_after=_retry_after(exc.response.headers),
            )
        if isinstance(exc, openai.AuthenticationError):
            return ModelRequestError(
                "The endpoint rejected the API key (401). Set COURSE_LLM_API_KEY in the "
                "environment to a valid key.",
                status_code=401,
            )
        if isinstance(exc, openai.NotFoundError):
            return UnknownModelError(
                f"The endpoint does not serve model {model!r} (404). Map the roles to its "
                "models in your model registry file (the model_registry setting)."
            )
        if isinstance(exc, openai.APIStatusError):
            if exc.status_code >= 500:
                return ServerError(
                    f"The model endpoint failed with HTTP {exc.status_code}.",
                    status_code=exc.status_code,
                )
            return ModelRequestError(
                f"The endpoint refused the request (HTTP {exc.status_code}): {exc.message}",
                status_code=exc.status_code,
            )
        return exc

    def complete(
        self, request: Mapping[str, Any], *, connect_timeout_s: float, read_timeout_s: float
    ) -> dict[str, Any]:
        import openai

        client = self._options(connect_timeout_s, read_timeout_s)
        try:
            response = client.chat.completions.create(**request)
        except openai.OpenAIError as exc:
            raise self._translate(exc, request.get("model")) from exc
        return response.model_dump()

    def stream(
        self, request: Mapping[str, Any], *, connect_timeout_s: float, read_timeout_s: float
    ) -> Iterator[dict[str, Any]]:
        import openai

        client = self._options(connect_timeout_s, read_timeout_s)
        try:
            chunks = client.chat.completions.create(
                **request, stream=True, stream_options={"include_usage": True}
            )
        except openai.OpenAIError as exc:
            raise self._translate(exc, request.get("model")) from exc

        def generate() -> Iterator[dict[str, Any]]:
            try:
                for chunk in chunks:
                    yield chunk.model_dump()
            except openai.OpenAIError as exc:
                raise self._translate(exc, request.get("model")) from exc

        return generate()

    def embed(self, texts: list[str], model: str) -> np.ndarray:
        import numpy as np
        import openai

        try:
            response = self._client.embeddings.create(model=model, input=texts)
        except openai.OpenAIError as exc:
            raise self._translate(exc, model) from exc
        vectors = np.asarray([d.embedding for d in response.data], dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1, norms)
