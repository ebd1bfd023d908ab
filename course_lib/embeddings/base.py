"""The interface every embedder implements, and the checks they share.

Code that indexes or searches depends on :class:`Embedder` only, so the local WordLlama model, a
transformer, or a provider's embedding API can be swapped without touching it. Each backend
implements :meth:`Embedder._embed_batch` and :meth:`Embedder.count_tokens`; the base class owns
the promises callers rely on (input checks, float32, unit-length rows, shapes).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from course_lib.embeddings.identity import EmbedderIdentity
from course_lib.errors import SettingsError

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = ["Embedder", "normalise_rows"]


class Embedder(ABC):
    """Turns texts into unit-length float32 vectors, the same vectors every time.

    Subclasses set :attr:`identity` in ``__init__`` and implement :meth:`_embed_batch` and
    :meth:`count_tokens`.
    """

    identity: EmbedderIdentity

    @property
    def dimension(self) -> int:
        """The length of each vector (the identity's dimension)."""
        return self.identity.dimension

    def embed(self, texts: Sequence[str], *, batch_size: int = 64) -> NDArray[Any]:
        """Embeds texts into an array of shape ``(len(texts), dimension)``.

        Rows are float32 and L2-normalised, so a dot product is the cosine similarity. A text
        with no tokens (the empty string) has no meaning to encode: its row is all zeros and
        scores 0 against everything. ``batch_size`` trades memory for speed only: WordLlama's
        vectors are bitwise identical whatever it is; a transformer's can differ in the last
        float bits, since padding inside a batch changes its arithmetic.
        """
        import numpy as np

        items = _check_texts(texts)
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer (got {batch_size!r}).")
        if not items:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = normalise_rows(np.asarray(self._embed_batch(items, batch_size)))
        if vectors.shape != (len(items), self.dimension):
            raise SettingsError(
                f"Embedder {self.identity} returned shape {vectors.shape} for {len(items)} texts "
                f"instead of ({len(items)}, {self.dimension}). The registry's dimension for "
                f"{self.identity.name!r} does not match the model: fix the registry entry."
            )
        return vectors

    def embed_one(self, text: str) -> NDArray[Any]:
        """Embeds one text into a vector of shape ``(dimension,)``."""
        if not isinstance(text, str):
            raise TypeError(f"embed_one() takes a string (got {type(text).__name__}).")
        vector: NDArray[Any] = self.embed([text])[0]
        return vector

    @abstractmethod
    def count_tokens(self, text: str) -> int:
        """How many tokens the model's own tokenizer makes of ``text``.

        Chunkers use it to keep texts within the model's context window; a provider also bills
        by it. Special tokens count when the model adds them to every input.
        """

    @abstractmethod
    def _embed_batch(self, texts: list[str], batch_size: int) -> NDArray[Any]:
        """Raw vectors for a non-empty list of strings; :meth:`embed` normalises them."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.identity})"


def normalise_rows(
    vectors: NDArray[Any], dtype: np.dtype[Any] | type | None = None
) -> NDArray[Any]:
    """Rows scaled to unit length, C-contiguous, float32 unless ``dtype`` says otherwise.

    All-zero rows stay zero rather than becoming NaN.
    """
    import numpy as np

    matrix = np.asarray(vectors, dtype=np.float32 if dtype is None else dtype)
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    out = np.zeros_like(matrix)
    np.divide(matrix, norms, out=out, where=norms > 0)
    return np.ascontiguousarray(out)


def _check_texts(texts: Sequence[str]) -> list[str]:
    """The texts as a list, or a TypeError that says what was wrong."""
    if isinstance(texts, str):
        raise TypeError(
            "embed() takes a list of texts, not one string (it would embed each character). "
            "Pass [text], or call embed_one(text)."
        )
    items = list(texts)
    for index, item in enumerate(items):
        if not isinstance(item, str):
            raise TypeError(
                f"embed() takes strings only; item {index} is a {type(item).__name__}: "
                f"{item!r:.60}. Convert it to text first."
            )
    return items
