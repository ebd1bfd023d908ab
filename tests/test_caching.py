"""The exact and semantic caches, each behaviour run on SQLite and on Redis.

``store_url`` is None (SQLite in the test's work directory) or the worker's Redis; on Redis
every test uses a cache name of its own, so tests never see each other's entries.
"""

from __future__ import annotations

import uuid
from typing import Any

import numpy as np
import pytest

from course_lib.caching import ExactCache, SemanticCache, request_key
from course_lib.embeddings import EmbedderIdentity, get_embedder
from course_lib.errors import CacheError, EmbedderMismatchError, EngineUnavailableError


class Clock:
    """A virtual clock: time moves only when a test moves it."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def _name() -> str:
    return f"t{uuid.uuid4().hex[:12]}"


def _exact(store_url: str | None, **kwargs: Any) -> ExactCache:
    return ExactCache(_name(), url=store_url or "", **kwargs)


def _semantic(store_url: str | None, **kwargs: Any) -> SemanticCache:
    return SemanticCache(_name(), url=store_url or "", **kwargs)


REQUEST = {"model": "chat-small", "temperature": 0, "messages": [{"role": "user", "content": "Hi"}]}


def test_exact_cache_hits_the_same_request_in_any_key_order(store_url: str | None) -> None:
    cache = _exact(store_url)
    assert cache.get(REQUEST) is None
    cache.put(REQUEST, {"answer": "Hello", "tokens": 3})
    reordered = {"messages": REQUEST["messages"], "temperature": 0, "model": "chat-small"}
    assert cache.get(reordered) == {"answer": "Hello", "tokens": 3}
    assert cache.get({**REQUEST, "temperature": 0.7}) is None
    assert (cache.stats.hits, cache.stats.misses) == (1, 2)
    assert cache.stats.hit_rate == pytest.approx(1 / 3)
    assert len(cache) == 1


def test_exact_cache_entries_outlive_the_object(store_url: str | None) -> None:
    name = _name()
    first = ExactCache(name, url=store_url or "")
    first.put(REQUEST, "stored")
    first.close()
    again = ExactCache(name, url=store_url or "")
    assert again.get(REQUEST) == "stored"


def test_exact_cache_expires_entries_on_its_clock(store_url: str | None) -> None:
    clock = Clock()
    cache = _exact(store_url, ttl_s=60, clock=clock)
    cache.put(REQUEST, "fresh")
    clock.now += 59.9
    assert cache.get(REQUEST) == "fresh"
    clock.now += 0.1
    assert cache.get(REQUEST) is None
    assert len(cache) == 0  # an expired entry is removed when met


def test_exact_cache_keeps_the_newest_entries(store_url: str | None) -> None:
    cache = _exact(store_url, max_entries=2)
    for number in range(3):
        cache.put({"n": number}, number)
    cache.put({"n": 1}, "replaced")  # a replaced entry becomes the newest
    cache.put({"n": 3}, 3)
    assert [cache.get({"n": n}) for n in range(4)] == [None, "replaced", None, 3]


def test_get_or_compute_computes_once(store_url: str | None) -> None:
    cache = _exact(store_url)
    calls = []
    for _ in range(3):
        cache.get_or_compute(REQUEST, lambda: calls.append(1) or "computed")
    assert len(calls) == 1
    assert cache.stats.hits == 2


def test_exact_cache_refuses_what_it_cannot_store_with_a_clear_message() -> None:
    cache = ExactCache(_name(), url="")
    with pytest.raises(CacheError, match="plain JSON"):
        cache.put({"when": object()}, "x")
    with pytest.raises(CacheError, match="None cannot be cached"):
        cache.put(REQUEST, None)
    with pytest.raises(CacheError, match="plain JSON"):
        cache.put(REQUEST, {"score": float("nan")})
    for bad in ({"ttl_s": 0}, {"ttl_s": True}, {"max_entries": 0}, {"max_entries": 1.5}):
        with pytest.raises(CacheError):
            ExactCache(_name(), url="", **bad)
    with pytest.raises(CacheError, match="cache name"):
        ExactCache("Bad Name", url="")


def test_request_keys_depend_on_every_value() -> None:
    assert request_key({"a": 1, "b": [1, 2]}) == request_key({"b": [1, 2], "a": 1})
    assert request_key({"a": 1}) != request_key({"a": 1.5})
    assert request_key({"a": [1, 2]}) != request_key({"a": [2, 1]})
    assert request_key({"q": "café"}) != request_key({"q": "cafe"})


# --- Semantic cache ---------------------------------------------------------------------------

STORED = "How do I request a new laptop?"
PARAPHRASE = "How can I request a new laptop?"
UNRELATED = "What is the on-call rotation for the payments team?"


def test_semantic_cache_serves_a_paraphrase_and_not_another_question(
    store_url: str | None,
) -> None:
    cache = _semantic(store_url, threshold=0.9)
    cache.put(STORED, {"answer": "Ask IT through the portal.", "sources": ["it-01"]})
    hit = cache.lookup(PARAPHRASE)
    assert hit is not None
    assert hit.value == {"answer": "Ask IT through the portal.", "sources": ["it-01"]}
    assert hit.question == STORED
    assert 0.9 <= hit.similarity < 1.0
    assert cache.lookup(UNRELATED) is None
    assert (cache.stats.hits, cache.stats.misses) == (1, 1)
    nearest = cache.nearest(UNRELATED)
    assert nearest is not None and nearest.similarity < 0.9


def test_semantic_cache_keeps_scopes_apart(store_url: str | None) -> None:
    cache = _semantic(store_url, threshold=0.9)
    cache.put(STORED, "managers' answer", scope="v1-manager")
    assert cache.lookup(STORED, scope="v1-staff") is None
    hit = cache.lookup(STORED, scope="v1-manager")
    assert hit is not None and hit.value == "managers' answer"
    assert cache.count("v1-manager") == 1 and cache.count("v1-staff") == 0


def test_semantic_cache_prefers_the_best_match_then_the_oldest(store_url: str | None) -> None:
    cache = _semantic(store_url, threshold=0.5)
    cache.put(UNRELATED, "on-call")
    cache.put(STORED, "laptop")
    hit = cache.lookup(PARAPHRASE)
    assert hit is not None and hit.value == "laptop"
    cache.put(STORED, "laptop, again")  # the same question replaces its entry
    assert cache.count() == 2
    assert cache.lookup(STORED).value == "laptop, again"  # type: ignore[union-attr]


def test_semantic_cache_expiry_and_size_limit(store_url: str | None) -> None:
    clock = Clock()
    cache = _semantic(store_url, threshold=0.9, ttl_s=10, max_entries=1, clock=clock)
    cache.put(STORED, "old")
    clock.now += 11
    assert cache.lookup(STORED) is None
    cache.put(UNRELATED, "a")
    cache.put(STORED, "b")
    assert cache.count() == 1
    assert cache.lookup(UNRELATED) is None and cache.lookup(STORED).value == "b"  # type: ignore[union-attr]


class _OtherEmbedder:
    """Same vectors as the default, claiming another identity."""

    def __init__(self) -> None:
        self.inner = get_embedder()
        self.identity = EmbedderIdentity("other-embed", self.inner.dimension, "other-1")

    def embed_one(self, text: str) -> Any:
        return self.inner.embed_one(text)


def test_semantic_cache_refuses_vectors_of_another_embedder(store_url: str | None) -> None:
    name = _name()
    SemanticCache(name, url=store_url or "").put(STORED, "x")
    with pytest.raises(EmbedderMismatchError, match="other-embed"):
        SemanticCache(name, url=store_url or "", embedder=_OtherEmbedder())  # type: ignore[arg-type]


def test_semantic_cache_refuses_bad_values_with_a_clear_message() -> None:
    for bad in (0, 1.5, "0.9", True):
        with pytest.raises(CacheError, match="threshold"):
            SemanticCache(_name(), url="", threshold=bad)  # type: ignore[arg-type]
    cache = SemanticCache(_name(), url="")
    for scope in ("", "a:b", None):
        with pytest.raises(CacheError, match="scope"):
            cache.put(STORED, "x", scope=scope)  # type: ignore[arg-type]
    for question in ("", "   ", None, 3):
        with pytest.raises(CacheError, match="question"):
            cache.lookup(question)  # type: ignore[arg-type]


def test_both_stores_give_the_same_answers(redis_url: str) -> None:
    """The same operations on SQLite and on Redis: identical hits, values and similarities."""
    questions = [STORED, UNRELATED, "Where is the expense policy?", "Who approves travel?"]
    probes = [PARAPHRASE, "who signs off on travel", "expense rules", "deploy to production"]
    results = []
    for url in ("", redis_url):
        clock = Clock()
        cache = SemanticCache(_name(), url=url, threshold=0.6, max_entries=3, clock=clock)
        for number, question in enumerate(questions):
            cache.put(question, {"n": number})
            clock.now += 1
        found = [cache.nearest(probe) for probe in probes]
        results.append([(h.key, h.value, h.similarity) if h else None for h in found])
    assert results[0] == results[1]


def test_a_redis_that_does_not_answer_is_one_clear_line() -> None:
    with pytest.raises(EngineUnavailableError) as caught:
        ExactCache(_name(), url="redis://:hunter2secret@127.0.0.1:1/0")
    message = str(caught.value)
    assert "hunter2secret" not in message and "***" in message
    assert "./run services up" in message and "COURSE_CACHE_URL" in message


def test_the_setting_moves_the_cache_to_redis(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from course_lib.settings import get_settings

    monkeypatch.setenv("COURSE_CACHE_URL", redis_url)
    get_settings.cache_clear()
    try:
        cache = ExactCache(_name())
        assert cache.location.startswith("redis://")
    finally:
        monkeypatch.delenv("COURSE_CACHE_URL")
        get_settings.cache_clear()
    assert not ExactCache(_name()).location.startswith("redis://")


def test_vectors_are_stored_as_float32() -> None:
    cache = SemanticCache(_name(), url="")
    cache.put(STORED, "x")
    (entry,) = cache.store.entries("default")
    assert entry.vector is not None
    assert np.frombuffer(entry.vector, dtype=np.float32).shape == (get_embedder().dimension,)
