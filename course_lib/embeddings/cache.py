"""A bounded cache of vectors and token counts for texts that recur.

At query time the same texts come back again and again: a question is embedded by dense search
and again by the re-ranker, and the same popular chunks are checked for near-duplicates and
counted against the token budget for question after question. Embedding them once saves most
of that work. Bulk indexing does not go through this cache: its texts rarely repeat, and its
timing should show the real cost of embedding.

A cached row is the row the embedder returned the first time. WordLlama's rows depend on their
own text only, so a hit is bitwise identical to embedding again; a transformer's rows can differ
in the last float bits with the batch they were embedded in (see :meth:`Embedder.embed`).
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from course_lib.embeddings.base import Embedder

__all__ = ["EmbeddingCache", "shared_cache"]


class EmbeddingCache:
    """Vectors and token counts of one embedder, by text, for the most recently used texts.

    Args:
        embedder: the embedder whose vectors and tokenizer are cached.
        max_texts: how many texts' vectors (and, separately, token counts) to keep. At 256
            float32 dimensions, 4,096 vectors take 4 MB.
    """

    def __init__(self, embedder: Embedder, *, max_texts: int = 4096) -> None:
        if isinstance(max_texts, bool) or not isinstance(max_texts, int) or max_texts < 1:
            raise ValueError(f"max_texts must be a positive integer (got {max_texts!r}).")
        self.embedder = embedder
        self.max_texts = max_texts
        self._vectors: OrderedDict[str, NDArray[Any]] = OrderedDict()
        self._tokens: OrderedDict[str, int] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """How many texts' vectors are cached."""
        return len(self._vectors)

    def embed(self, texts: Sequence[str]) -> NDArray[Any]:
        """Like :meth:`Embedder.embed`: cached rows reused, the others embedded in one batch."""
        import numpy as np

        items = list(texts)
        if not items or not all(isinstance(text, str) for text in items):
            return self.embedder.embed(items)  # its own checks and messages, and the shape
        found: dict[str, NDArray[Any]] = {}
        with self._lock:
            for text in items:
                row = self._vectors.get(text)
                if row is not None:
                    found[text] = row
        missing = [text for text in dict.fromkeys(items) if text not in found]
        if missing:
            fresh = self.embedder.embed(missing)
            with self._lock:
                for text, row in zip(missing, fresh, strict=True):
                    found[text] = row
                    self._remember(self._vectors, text, row)
        with self._lock:
            for text in items:
                if text in self._vectors:
                    self._vectors.move_to_end(text)
        return np.stack([found[text] for text in items])

    def embed_one(self, text: str) -> NDArray[Any]:
        """Like :meth:`Embedder.embed_one`, from the cache when ``text`` was seen recently."""
        if not isinstance(text, str):
            raise TypeError(f"embed_one() takes a string (got {type(text).__name__}).")
        vector: NDArray[Any] = self.embed([text])[0]
        return vector

    def count_tokens(self, text: str) -> int:
        """Like :meth:`Embedder.count_tokens`, from the cache when ``text`` was seen recently."""
        if not isinstance(text, str):
            return self.embedder.count_tokens(text)  # raises its own clear TypeError
        with self._lock:
            count = self._tokens.get(text)
            if count is not None:
                self._tokens.move_to_end(text)
                return count
        count = self.embedder.count_tokens(text)
        with self._lock:
            self._remember(self._tokens, text, count)
        return count

    def _remember(self, store: OrderedDict[str, Any], text: str, value: Any) -> None:
        """Keeps ``value`` for ``text``, forgetting the least recently used beyond the limit."""
        store[text] = value
        store.move_to_end(text)
        while len(store) > self.max_texts:
            store.popitem(last=False)


_SHARED: weakref.WeakKeyDictionary[Embedder, EmbeddingCache] = weakref.WeakKeyDictionary()
_SHARED_LOCK = threading.Lock()


def shared_cache(embedder: Embedder) -> EmbeddingCache:
    """The process's one cache for ``embedder``, made on first use, gone with the embedder."""
    with _SHARED_LOCK:
        cache = _SHARED.get(embedder)
        if cache is None:
            cache = EmbeddingCache(embedder)
            _SHARED[embedder] = cache
        return cache
