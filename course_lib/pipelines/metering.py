"""Counting what an embedder is asked to embed: the cost of a run, measured at the source.

Embedding is what a re-run of a pipeline pays for (provider tokens, or CPU time), so "only
what changed is re-embedded" is a claim to measure, not to trust. :class:`CountingEmbedder`
wraps any embedder, keeps its identity (an index accepts it in place of the inner one) and
records every text it is handed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from course_lib.embeddings.base import Embedder

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["CountingEmbedder"]


class CountingEmbedder(Embedder):
    """``inner`` with a counter: :attr:`texts` lists every text embedded, in order."""

    def __init__(self, inner: Embedder) -> None:
        if not isinstance(inner, Embedder):
            raise TypeError(
                f"CountingEmbedder() wraps an Embedder (e.g. get_embedder()), not "
                f"{type(inner).__name__}."
            )
        self.inner = inner
        self.identity = inner.identity
        self.texts: list[str] = []

    @property
    def count(self) -> int:
        """How many texts were embedded since the last :meth:`reset`."""
        return len(self.texts)

    def reset(self) -> int:
        """Starts counting again; returns the count so far."""
        count, self.texts = len(self.texts), []
        return count

    def _embed_batch(self, texts: list[str], batch_size: int) -> NDArray[Any]:
        self.texts.extend(texts)
        return self.inner.embed(texts, batch_size=batch_size)

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)
