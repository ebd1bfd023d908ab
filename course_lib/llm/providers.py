"""Where a chat request goes: any OpenAI-compatible endpoint, or a provider registered by name.

Each provider turns its own failures into the same course_lib errors (RateLimitError,
ServerError, ModelTimeoutError, ConnectionFailedError, ModelRequestError), so the reliability
policy is written once. The original exception stays attached as ``__cause__``, with its text
redacted: an endpoint that echoes the request (its ``Authorization`` header, the API key) in an
error body leaks it into no message, log line or span (see :mod:`course_lib.redaction`).

This module names no concrete model. Other providers (the course's local stand-in model, a
test double, an in-house gateway) register a factory under a name with
:func:`register_provider`, or advertise one in the ``course_lib.providers`` entry-point group
of their package, and :func:`make_provider` finds it by that name.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from course_lib.errors import (
    ConnectionFailedError,
    ModelRequestError,
    ModelTimeoutError,
    RateLimitError,
    ServerError,
    SettingsError,
    UnknownModelError,
)
from course_lib.llm.tokens import TokenCounter, estimate_tokens
from course_lib.redaction import get_logger, redact, register_secret, scrub_exception

if TYPE_CHECKING:
    import openai
    from numpy.typing import NDArray
    from openai.types.chat import ChatCompletion, ChatCompletionChunk
    from pydantic import SecretStr

__all__ = [
    "ENTRY_POINT_GROUP",
    "OpenAICompatibleProvider",
    "Provider",
    "ProviderFactory",
    "make_provider",
    "provider_names",
    "register_provider",
]

ENTRY_POINT_GROUP = "course_lib.providers"

_log = get_logger(__name__)


class Provider(Protocol):
    """What the client needs from a model endpoint."""

    name: str

    def complete(
        self, request: Mapping[str, Any], *, connect_timeout_s: float, read_timeout_s: float
    ) -> dict[str, Any]: ...

    def stream(
        self, request: Mapping[str, Any], *, connect_timeout_s: float, read_timeout_s: float
    ) -> Iterator[dict[str, Any]]: ...

    def embed(self, texts: list[str], model: str) -> NDArray[Any]: ...

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` for this provider's models (used for budgets before a call)."""
        ...


ProviderFactory = Callable[..., Provider]
"""Builds a provider from keyword options (a fault plan, a latency scale, a base URL...)."""

_FACTORIES: dict[str, ProviderFactory] = {}
_LOCK = threading.RLock()


def register_provider(name: str, factory: ProviderFactory, *, replace: bool = False) -> None:
    """Makes :func:`make_provider` build ``name`` with ``factory``.

    Refuses to replace an existing name unless ``replace=True``, so two packages cannot
    silently fight over one name.
    """
    with _LOCK:
        if name in _FACTORIES and _FACTORIES[name] is not factory and not replace:
            raise ValueError(
                f"Provider {name!r} is already registered. Pass replace=True to replace it on "
                "purpose."
            )
        _FACTORIES[name] = factory


def _load_entry_points() -> None:
    """Registers the providers other installed packages advertise (once per missing name)."""
    from importlib.metadata import entry_points

    for entry in entry_points(group=ENTRY_POINT_GROUP):
        if entry.name not in _FACTORIES:
            register_provider(entry.name, entry.load())


def provider_names() -> list[str]:
    """Every provider name :func:`make_provider` knows, registered or advertised."""
    with _LOCK:
        _load_entry_points()
        return sorted(_FACTORIES)


def make_provider(name: str, **options: Any) -> Provider:
    """The provider registered as ``name``, built with ``options``.

    Raises:
        SettingsError: no provider of that name is registered or advertised.
    """
    with _LOCK:
        if name not in _FACTORIES:
            _load_entry_points()
        factory = _FACTORIES.get(name)
    if factory is None:
        raise SettingsError(
            f"No model provider is registered as {name!r}. Known: "
            f"{', '.join(provider_names())}. Install the package that provides it (for the "
            "course's local model: pip install -e . in the course folder) or call "
            "course_lib.llm.register_provider."
        )
    return factory(**options)


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

    def __init__(
        self,
        base_url: str,
        api_key: str | SecretStr | None = None,
        *,
        count_tokens: TokenCounter = estimate_tokens,
    ) -> None:
        import openai

        secret = (
            api_key.get_secret_value()
            if api_key is not None and hasattr(api_key, "get_secret_value")
            else api_key
        )
        # From now on the key is hidden in every message, log record and span of the process.
        register_secret(secret)
        self.base_url = base_url
        # The endpoint reports real usage after each call; before it, budgets need an estimate
        # (pass the model's own tokenizer here for exact budgets).
        self.count_tokens = count_tokens
        # Local servers ignore the key; the SDK insists on one.
        self._client = openai.OpenAI(base_url=base_url, api_key=secret or "local", max_retries=0)

    def __repr__(self) -> str:  # never show the key
        return f"OpenAICompatibleProvider(base_url={redact(self.base_url)!r})"

    def _options(self, connect_timeout_s: float, read_timeout_s: float) -> openai.OpenAI:
        import openai

        # The SDK's own Timeout class (httpx's, or httpx2's from openai 3 on) matches its hints.
        timeout = openai.Timeout(read_timeout_s, connect=connect_timeout_s)
        return self._client.with_options(timeout=timeout, max_retries=0)

    def _translate(self, exc: Exception, model: Any) -> Exception:
        """The course error for the SDK's ``exc``, with ``exc`` and its chain redacted.

        The SDK's error keeps the endpoint's body, which may echo the request's credentials;
        it becomes the course error's ``__cause__``, so it is scrubbed before anyone reads it.
        """
        scrub_exception(exc)
        error = self._course_error(exc, model)
        _log.debug("%s from %s: %s", type(exc).__name__, self.base_url, exc)
        return error

    def _course_error(self, exc: Exception, model: Any) -> Exception:
        import openai

        if isinstance(exc, openai.APITimeoutError):
            return ModelTimeoutError(f"No response from {model} within the read timeout.")
        if isinstance(exc, openai.APIConnectionError):
            return ConnectionFailedError(
                f"Cannot reach the model endpoint at {redact(self.base_url)}: is the server "
                "running and the base URL right (it ends in /v1)?"
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
                f"The endpoint refused the request (HTTP {exc.status_code}): "
                f"{redact(exc.message)}. Fix the request; retrying it unchanged cannot help.",
                status_code=exc.status_code,
            )
        return exc

    def complete(
        self, request: Mapping[str, Any], *, connect_timeout_s: float, read_timeout_s: float
    ) -> dict[str, Any]:
        import openai

        client = self._options(connect_timeout_s, read_timeout_s)
        try:
            # ``request`` is a plain mapping, so mypy cannot pick the overload: name the type.
            response: ChatCompletion = client.chat.completions.create(**request)
        except openai.OpenAIError as exc:
            raise self._translate(exc, request.get("model")) from exc
        return response.model_dump()

    def stream(
        self, request: Mapping[str, Any], *, connect_timeout_s: float, read_timeout_s: float
    ) -> Iterator[dict[str, Any]]:
        import openai

        client = self._options(connect_timeout_s, read_timeout_s)
        try:
            chunks: openai.Stream[ChatCompletionChunk] = client.chat.completions.create(
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

    def embed(self, texts: list[str], model: str) -> NDArray[Any]:
        import numpy as np
        import openai

        try:
            response = self._client.embeddings.create(model=model, input=texts)
        except openai.OpenAIError as exc:
            raise self._translate(exc, model) from exc
        vectors = np.asarray([d.embedding for d in response.data], dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        normalised: NDArray[Any] = vectors / np.where(norms == 0, 1, norms)
        return normalised


register_provider("openai-compatible", OpenAICompatibleProvider)
