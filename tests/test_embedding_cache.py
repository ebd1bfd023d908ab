"""Tests of course_lib.embeddings.EmbeddingCache: the same rows as the embedder, fewer calls."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import pytest

from course_lib.embeddings import (
    Embedder,
    EmbedderIdentity,
    EmbeddingCache,
    get_embedder,
    shared_cache,
)


class CountingEmbedder(Embedder):
    """A tiny embedder that counts the texts it is asked to embed and to count."""

    def __init__(self) -> None:
        self.identity = EmbedderIdentity(name="counting", dimension=3, version="test/1")
        self.embedded: list[str] = []
        self.counted: list[str] = []

    def _embed_batch(self, texts: list[str], batch_size: int) -> Any:
        self.embedded.extend(texts)
        return np.array([[len(t), t.count("a") + 1.0, 1.0] for t in texts], dtype=np.float32)

    def count_tokens(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"count_tokens() takes a string (got {type(text).__name__}).")
        self.counted.append(text)
        return len(text.split())


def test_rows_match_the_embedder_bit_for_bit() -> None:
    embedder = get_embedder()
    cache = EmbeddingCache(embedder)
    texts = ["on-call pay", "Expense claims are due within 30 days.", "on-call pay", ""]
    first = cache.embed(texts)
    again = cache.embed(list(reversed(texts)))
    assert first.dtype == np.float32
    assert np.array_equal(first, embedder.embed(texts))
    assert np.array_equal(again, embedder.embed(list(reversed(texts))))
    assert np.array_equal(cache.embed_one("on-call pay"), embedder.embed_one("on-call pay"))
    assert cache.count_tokens("on-call pay") == embedder.count_tokens("on-call pay")


def test_each_text_is_embedded_and_counted_once() -> None:
    embedder = CountingEmbedder()
    cache = EmbeddingCache(embedder)
    cache.embed(["a", "b", "a"])
    cache.embed(["b", "c"])
    cache.embed_one("c")
    assert embedder.embedded == ["a", "b", "c"]
    assert [cache.count_tokens("x y"), cache.count_tokens("x y")] == [2, 2]
    assert embedder.counted == ["x y"]
    assert len(cache) == 3


def test_the_least_recently_used_text_is_forgotten_first() -> None:
    embedder = CountingEmbedder()
    cache = EmbeddingCache(embedder, max_texts=2)
    cache.embed(["a", "b"])
    cache.embed(["a"])  # "a" is now the most recent, so "b" goes next
    cache.embed(["c"])
    assert len(cache) == 2
    cache.embed(["a", "b"])
    assert embedder.embedded == ["a", "b", "c", "b"]


def test_bad_input_gets_the_embedders_own_message() -> None:
    cache = EmbeddingCache(CountingEmbedder())
    assert cache.embed([]).shape == (0, 3)
    with pytest.raises(TypeError, match="string"):
        cache.embed_one(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        cache.embed([["not", "a", "string"]])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="count_tokens"):
        cache.count_tokens(None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_texts"):
        EmbeddingCache(CountingEmbedder(), max_texts=0)


def test_one_shared_cache_per_embedder() -> None:
    first, second = CountingEmbedder(), CountingEmbedder()
    assert shared_cache(first) is shared_cache(first)
    assert shared_cache(first) is not shared_cache(second)
    assert shared_cache(first).embedder is first


def test_threads_see_consistent_rows() -> None:
    embedder = CountingEmbedder()
    cache = EmbeddingCache(embedder, max_texts=8)
    texts = [f"text {'a' * i}" for i in range(20)]
    expected = embedder.embed(texts)
    errors: list[str] = []

    def work(offset: int) -> None:
        for round_ in range(20):
            picked = [texts[(offset + round_ + j) % len(texts)] for j in range(5)]
            rows = cache.embed(picked)
            want = expected[[texts.index(t) for t in picked]]
            if not np.array_equal(rows, want):
                errors.append(f"thread {offset}, round {round_}")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(cache) <= 8
