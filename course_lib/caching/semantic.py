"""A semantic cache: a question close enough in meaning to a stored one gets its answer.

Users ask the same thing in different words, which an exact cache never matches. A semantic
cache embeds the question and serves the stored answer of the most similar earlier question
when their cosine similarity reaches a threshold. The threshold is the whole trade: lower, more
hits and more *false hits* (a different question served a wrong answer); higher, fewer of both.
Measure it on real traffic before choosing it, as lesson 4.2 does.

Two rules keep it safe. Entries live in a *scope*: only questions asked under the same model,
prompt version and access level may share answers, so a manager's answer about a restricted
document never reaches an engineer. And the embedder that made the vectors is recorded with
them, as an index records it: vectors from another model mean nothing here.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from course_lib.caching.exact import CacheStats, check_max_entries, check_ttl
from course_lib.caching.stores import CacheStore, StoredEntry, open_cache_store
from course_lib.errors import CacheError, EmbedderMismatchError

if TYPE_CHECKING:
    from course_lib.embeddings import Embedder

__all__ = ["SemanticCache", "SemanticHit"]


@dataclass(frozen=True)
class SemanticHit:
    """The stored entry most similar to a question.

    Attributes:
        value: the stored answer.
        similarity: cosine similarity between the question and the stored question.
        question: the stored question that matched.
        key: the entry's id within its scope.
    """

    value: Any
    similarity: float
    question: str
    key: str


def _check_threshold(threshold: float) -> float:
    if isinstance(threshold, bool) or not isinstance(threshold, int | float):
        raise CacheError(f"threshold is a cosine similarity in (0, 1] (got {threshold!r}).")
    if not 0.0 < float(threshold) <= 1.0:
        raise CacheError(
            f"threshold is a cosine similarity in (0, 1] (got {threshold}); 0.9 to 0.97 is a "
            "usual starting point: measure the false-hit rate before choosing."
        )
    return float(threshold)


def _check_scope(scope: str) -> str:
    if not isinstance(scope, str) or not scope or ":" in scope:
        raise CacheError(
            f"scope is a non-empty string without ':' naming who may share answers, e.g. "
            f"'chat-small/v3/staff' (got {scope!r})."
        )
    return scope


class SemanticCache:
    """Answers by question meaning, on SQLite or Redis, per scope.

    Args:
        name: the cache's name (entries are shared by caches of that name and store).
        threshold: the lowest cosine similarity served as a hit.
        embedder: the model that embeds questions (default: the course's default embedder).
        url: a ``redis://`` URL; None reads the ``cache_url`` setting; "" forces SQLite.
        path: the SQLite file (default ``caches/<name>.sqlite`` in the work directory).
        ttl_s: seconds an entry is served after it is stored (None: until evicted).
        max_entries: per scope, keep at most this many entries, dropping the oldest.
        clock: seconds now; tests and simulations pass a virtual clock.
    """

    def __init__(
        self,
        name: str = "semantic",
        *,
        threshold: float = 0.95,
        embedder: Embedder | None = None,
        url: str | None = None,
        path: Path | None = None,
        ttl_s: float | None = None,
        max_entries: int | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.threshold = _check_threshold(threshold)
        self.ttl_s = check_ttl(ttl_s)
        self.max_entries = check_max_entries(max_entries)
        self.clock = clock
        if embedder is None:
            from course_lib.embeddings import get_embedder

            embedder = get_embedder()
        self.embedder = embedder
        self.store: CacheStore = open_cache_store(name, url, path=path)
        self.stats = CacheStats()
        self._check_embedder()

    @property
    def location(self) -> str:
        """Where the entries live (a file path, or the Redis URL without its password)."""
        return self.store.location

    def _check_embedder(self) -> None:
        from course_lib.embeddings import EmbedderIdentity

        mine = self.embedder.identity
        stored = self.store.read_meta().get("embedder")
        if stored is None:
            self.store.write_meta({"embedder": json.dumps(mine.as_dict(), sort_keys=True)})
            return
        theirs = EmbedderIdentity.from_dict(json.loads(stored))
        if theirs != mine:
            raise EmbedderMismatchError(
                f"Semantic cache at {self.location} holds vectors of {theirs}, but its embedder "
                f"is {mine}. Clear it (cache.clear()) or give it another name."
            )

    def lookup(
        self, question: str, *, scope: str = "default", threshold: float | None = None
    ) -> SemanticHit | None:
        """The best stored match at or above the threshold, or None (a miss).

        ``threshold`` overrides the cache's own for this lookup. To see the best match whatever
        its similarity (to choose a threshold), use :meth:`nearest`, which counts no hit or miss.
        """
        limit = self.threshold if threshold is None else _check_threshold(threshold)
        hit = self.nearest(question, scope=scope)
        if hit is None or hit.similarity < limit:
            self.stats.misses += 1
            return None
        self.stats.hits += 1
        return hit

    def nearest(self, question: str, *, scope: str = "default") -> SemanticHit | None:
        """The most similar live entry of ``scope``, whatever its similarity; None when empty.

        Ties go to the entry stored first, on every store.
        """
        import numpy as np

        from course_lib.embeddings import cosine_similarity

        _check_scope(scope)
        query = self.embedder.embed_one(_check_question(question))
        now = self.clock()
        live: list[tuple[str, bytes]] = []
        for key, vector, expires in self.store.vectors(scope):
            if expires is not None and expires <= now:
                self.store.delete(scope, key)
            else:
                live.append((key, vector))
        if not live:
            return None
        matrix = np.stack([np.frombuffer(vector, dtype=np.float32) for _, vector in live])
        scores = cosine_similarity(query.astype(np.float32), matrix)
        best = int(np.argmax(scores))  # the first of equal scores: the oldest entry
        entry = self.store.get(scope, live[best][0])
        if entry is None:  # removed between the two reads: no match this time
            return None
        value = json.loads(entry.value)
        return SemanticHit(value, float(scores[best]), entry.text or "", entry.key)

    def put(self, question: str, answer: Any, *, scope: str = "default") -> str:
        """Stores ``answer`` (plain JSON) for ``question`` in ``scope``; returns the entry's id."""
        import numpy as np

        _check_scope(scope)
        if answer is None:
            raise CacheError("None cannot be cached: a lookup returns None for a miss.")
        try:
            value = json.dumps(answer, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise CacheError(f"A cached answer must be plain JSON: {exc}.") from exc
        vector = self.embedder.embed_one(_check_question(question)).astype(np.float32)
        now = self.clock()
        expires = now + self.ttl_s if self.ttl_s is not None else None
        key = uuid.uuid5(uuid.NAMESPACE_URL, f"{scope}\n{question}").hex
        self.store.put(scope, StoredEntry(key, value, now, expires, question, vector.tobytes()))
        if self.max_entries is not None:
            self.store.evict_oldest(scope, self.max_entries)
        return key

    def get_or_compute(
        self, question: str, compute: Callable[[], Any], *, scope: str = "default"
    ) -> Any:
        """The cached answer of a close enough question, or ``compute()``'s, stored."""
        hit = self.lookup(question, scope=scope)
        if hit is not None:
            return hit.value
        answer = compute()
        self.put(question, answer, scope=scope)
        return answer

    def count(self, scope: str = "default") -> int:
        """How many entries ``scope`` holds (expired ones included until looked at)."""
        return self.store.count(_check_scope(scope))

    def clear(self) -> None:
        """Removes every entry of this cache's name from its store, and the embedder record."""
        self.store.clear()
        self._check_embedder()

    def close(self) -> None:
        self.store.close()


def _check_question(question: str) -> str:
    if not isinstance(question, str) or not question.strip():
        raise CacheError(f"A question is a non-empty string (got {question!r}).")
    return question
