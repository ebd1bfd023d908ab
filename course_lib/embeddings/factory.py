"""Getting an embedder by role or model id, through the model registry.

Code asks for ``get_embedder()`` (the ``embed`` role) and never names a model, so switching
the whole course to another embedder is an edit of the registry. The registry entry's
``backend`` picks the class; a provider's embedding API plugs in with :func:`register_backend`.
Embedders are cached per model: loading weights once per process, not once per call, is the
difference between milliseconds and seconds per request.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from course_lib.embeddings.base import Embedder
from course_lib.errors import SettingsError, UnknownModelError

if TYPE_CHECKING:
    from course_lib.models import ModelRegistry, ModelSpec

__all__ = [
    "DEFAULT_ROLE",
    "EmbedderFactory",
    "clear_embedder_cache",
    "get_embedder",
    "register_backend",
]

DEFAULT_ROLE = "embed"

EmbedderFactory = Callable[["ModelSpec"], Embedder]
"""Builds an embedder from its registry entry (id, dimension, context window, extra fields)."""


def _wordllama(spec: ModelSpec) -> Embedder:
    from course_lib.embeddings.wordllama_model import WordLlamaEmbedder

    return WordLlamaEmbedder(name=spec.id, dimension=_dimension(spec))


def _sentence_transformers(spec: ModelSpec) -> Embedder:
    from course_lib.embeddings.sentence_transformer import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(name=spec.id, dimension=_dimension(spec))


_BACKENDS: dict[str, EmbedderFactory] = {
    "wordllama": _wordllama,
    "sentence-transformers": _sentence_transformers,
}
_CACHE: dict[tuple[str, str, int | None], Embedder] = {}
_LOCK = threading.RLock()


def register_backend(backend: str, factory: EmbedderFactory, *, replace: bool = False) -> None:
    """Makes registry entries with ``backend = "<backend>"`` build their embedder with ``factory``.

    Refuses to replace an existing backend unless ``replace=True``, so two modules cannot
    silently fight over one name.
    """
    with _LOCK:
        if backend in _BACKENDS and not replace:
            raise ValueError(
                f"Embedding backend {backend!r} is already registered. Pass replace=True to "
                "replace it on purpose."
            )
        _BACKENDS[backend] = factory
        for key in [key for key in _CACHE if key[1] == backend]:
            del _CACHE[key]


def get_embedder(name: str | None = None) -> Embedder:
    """The embedder for a role or model id (the ``embed`` role by default), loaded once.

    Raises:
        UnknownModelError: ``name`` is not in the registry, or names a chat model.
        SettingsError: the registry entry has no usable backend or dimension.
        OptionalDependencyError: the backend needs an extra that is not installed.
    """
    from course_lib.models import get_registry

    registry = get_registry()
    spec = registry.resolve(name or DEFAULT_ROLE)
    if spec.kind != "embedding":
        raise UnknownModelError(
            f"{name!r} is the {spec.kind} model {spec.id!r}, not an embedding model. Embedding "
            f"models: {_describe_embedding_models(registry)}. Pass one of them, or no name for "
            f"the {DEFAULT_ROLE!r} role."
        )
    key = (spec.id, str(spec.backend), spec.dimension)
    with _LOCK:
        if key not in _CACHE:
            factory = _BACKENDS.get(str(spec.backend))
            if factory is None:
                raise SettingsError(
                    f"Embedding model {spec.id!r} in {registry.source.name} has backend "
                    f"{spec.backend!r}, which no code handles. Use one of "
                    f"{', '.join(sorted(_BACKENDS))}, or register the backend with "
                    "course_lib.embeddings.register_backend (see docs/embeddings.md)."
                )
            _CACHE[key] = factory(spec)
        return _CACHE[key]


def clear_embedder_cache() -> None:
    """Forgets loaded embedders (after a registry change, or in tests)."""
    with _LOCK:
        _CACHE.clear()


def _dimension(spec: ModelSpec) -> int:
    if spec.dimension is None:
        raise SettingsError(
            f"Embedding model {spec.id!r} has no dimension in the model registry. Add "
            "dimension = <vector length> to its entry."
        )
    return spec.dimension


def _describe_embedding_models(registry: ModelRegistry) -> str:
    described = []
    for model in registry.models.values():
        if model.kind != "embedding":
            continue
        roles = sorted(role for role, target in registry.roles.items() if target == model.id)
        described.append(f"{model.id} (role {', '.join(roles)})" if roles else model.id)
    return ", ".join(described) or "none"
