"""Tests of course_lib.labs.embedding_benchmark: retrievers, evaluation, sizes, timings."""

from __future__ import annotations

import email.message
import hashlib
import itertools
from collections.abc import Iterator

import numpy as np
import pytest

from course_lib.datasets import load_golden_set
from course_lib.embeddings import Embedder, EmbedderIdentity, get_embedder
from course_lib.labs import (
    BM25Retriever,
    EmbeddingRetriever,
    IndexFootprint,
    LatencySummary,
    Retriever,
    bm25_rankings,
    comparison_table,
    declared_licence,
    dense_rankings,
    evaluate_retriever,
    latency_table,
    measure_latency,
    retrieval_baselines,
    retrieval_units,
)
from course_lib.labs.embedding_benchmark import _licence_from_metadata, _RankingSearch

TEXTS = [
    "Deploys to production need one reviewer and a green pipeline.",
    "Expenses are reimbursed within 30 days of the claim.",
    "The on-call engineer acknowledges a page within 15 minutes.",
    "A 404 from the parcel API means the shipment id is unknown.",
]


class HashEmbedder(Embedder):
    """A tiny deterministic embedder: each word adds a fixed pseudo-random vector."""

    def __init__(self, dimension: int = 16) -> None:
        self.identity = EmbedderIdentity(name="hash-test", dimension=dimension, version="test/1")

    def _embed_batch(self, texts: list[str], batch_size: int) -> np.ndarray:
        rows = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in zip(rows, texts, strict=True):
            for word in text.lower().split():
                seed = int.from_bytes(hashlib.sha256(word.encode()).digest()[:4], "little")
                row += np.random.default_rng(seed).standard_normal(self.dimension)
        return rows

    def count_tokens(self, text: str) -> int:
        return len(text.split())


def _fake_clock(step: float) -> Iterator[float]:
    """A clock that advances by ``step`` seconds on every reading."""
    return itertools.count(0.0, step)


@pytest.fixture(scope="module")
def golden() -> tuple[list, list[str], list[str]]:
    units = retrieval_units()
    questions = [q for q in load_golden_set("dev") if q.answerable]
    return questions, [u.text for u in units], [u.doc_id for u in units]


@pytest.fixture(scope="module")
def bm25(golden) -> BM25Retriever:
    return BM25Retriever(golden[1])


@pytest.fixture(scope="module")
def dense(golden) -> EmbeddingRetriever:
    return EmbeddingRetriever(get_embedder(), golden[1], name="static", package="wordllama")


# --- retrievers ---------------------------------------------------------------------------


def test_bm25_retriever_ranks_exactly_as_the_datasheet_baseline(golden, bm25) -> None:
    """The lesson's BM25 numbers are the datasheet's numbers, not a near copy."""
    questions = [q.question for q in golden[0]]
    assert bm25.search_many(questions) == bm25_rankings(retrieval_units(), questions)


def test_embedding_retriever_ranks_exactly_as_the_datasheet_baseline(golden, dense) -> None:
    questions = [q.question for q in golden[0]]
    assert dense.search_many(questions) == dense_rankings(retrieval_units(), questions)


@pytest.mark.parametrize("which", ["bm25", "dense"])
def test_search_one_equals_search_many(golden, bm25, dense, which: str) -> None:
    retriever = bm25 if which == "bm25" else dense
    questions = [q.question for q in golden[0][:20]]
    assert [retriever.search(q, 7) for q in questions] == retriever.search_many(questions, 7)


def test_the_shared_base_answers_one_query_through_search_many() -> None:
    class Reversed(_RankingSearch):
        def search_many(self, queries, depth=10):
            return [list(range(len(query)))[::-1][:depth] for query in queries]

    assert Reversed().search("abc", 2) == [2, 1]
    with pytest.raises(TypeError, match="one query string"):
        Reversed().search(["abc"])  # type: ignore[arg-type]
    with pytest.raises(NotImplementedError, match="search_many"):
        _RankingSearch().search("abc")
    assert all(issubclass(c, _RankingSearch) for c in (BM25Retriever, EmbeddingRetriever))


def test_both_retrievers_satisfy_the_protocol(bm25, dense) -> None:
    assert isinstance(bm25, Retriever) and isinstance(dense, Retriever)
    assert (bm25.kind, dense.kind) == ("sparse", "dense")


def test_bm25_returns_only_texts_sharing_a_term() -> None:
    retriever = BM25Retriever(TEXTS)
    assert retriever.search("reviewer pipeline") == [0]
    assert retriever.search("the and of") == []  # stopwords only: nothing to match
    assert retriever.search("404") == [3]


def test_bm25_ties_go_to_the_lower_index() -> None:
    retriever = BM25Retriever(["alpha beta", "gamma delta", "alpha beta", "epsilon"])
    assert retriever.search("alpha") == [0, 2]


def test_dense_retriever_with_a_fake_embedder() -> None:
    retriever = EmbeddingRetriever(HashEmbedder(), TEXTS)
    assert retriever.name == "hash-test"
    assert retriever.licence == "not declared"
    assert retriever.search(TEXTS[2], depth=1) == [2]
    assert retriever.search_many([]) == []
    assert len(retriever.search("anything", depth=100)) == len(TEXTS)


def test_dense_ties_go_to_the_lower_index() -> None:
    retriever = EmbeddingRetriever(HashEmbedder(), ["same text", "other words", "same text"])
    assert retriever.search("same text", depth=2) == [0, 2]


@pytest.mark.parametrize(
    ("texts", "error"),
    [([], ValueError), ("one string", TypeError), (["ok", 3], TypeError)],
)
def test_retrievers_refuse_bad_corpora(texts, error) -> None:
    with pytest.raises(error):
        BM25Retriever(texts)
    with pytest.raises(error):
        EmbeddingRetriever(HashEmbedder(), texts)


@pytest.mark.parametrize("depth", [0, -1, 2.5, True])
def test_bad_depth_is_refused(depth) -> None:
    with pytest.raises(ValueError, match="depth"):
        BM25Retriever(TEXTS).search("reviewer", depth)
    with pytest.raises(ValueError, match="depth"):
        EmbeddingRetriever(HashEmbedder(), TEXTS).search("reviewer", depth)


def test_search_many_refuses_one_string() -> None:
    with pytest.raises(TypeError, match="search"):
        BM25Retriever(TEXTS).search_many("reviewer")
    with pytest.raises(TypeError, match="search"):
        EmbeddingRetriever(HashEmbedder(), TEXTS).search(["reviewer"])


# --- footprints ---------------------------------------------------------------------------


def test_dense_footprint_is_rows_times_dimension_times_four_bytes() -> None:
    footprint = EmbeddingRetriever(HashEmbedder(16), TEXTS).footprint
    assert footprint == IndexFootprint(documents=4, dimension=16, stored_values=64, nbytes=256)
    assert footprint.values_per_vector == 16
    assert footprint.bytes_per_1000 == 64_000


def test_bm25_footprint_counts_the_sparse_arrays(bm25) -> None:
    footprint = bm25.footprint
    assert footprint.documents == len(retrieval_units())
    assert footprint.dimension > 1000  # the vocabulary
    assert 0 < footprint.values_per_vector < footprint.dimension / 10  # mostly zeros
    assert footprint.nbytes >= footprint.stored_values * 4


def test_an_empty_footprint_does_not_divide_by_zero() -> None:
    footprint = IndexFootprint(documents=0, dimension=8, stored_values=0, nbytes=0)
    assert footprint.values_per_vector == 0.0 and footprint.bytes_per_1000 == 0.0


# --- evaluation and the comparison table --------------------------------------------------


def test_evaluation_means_equal_the_datasheet_table(golden, bm25, dense) -> None:
    questions, _, doc_ids = golden
    table = retrieval_baselines("dev").set_index(["method", "type"])
    for method, retriever in (("bm25", bm25), ("dense", dense)):
        scores = evaluate_retriever(retriever, questions, doc_ids)
        assert len(scores) == len(questions)
        assert round(scores["recall_at_5"].mean(), 3) == table.loc[(method, "all"), "recall_at_5"]
        assert round(scores["reciprocal_rank"].mean(), 3) == table.loc[(method, "all"), "mrr"]


def test_evaluation_rows_name_the_question_and_its_ranked_documents(golden, bm25) -> None:
    questions, _, doc_ids = golden
    scores = evaluate_retriever(bm25, questions[:3], doc_ids, k=3, depth=4)
    assert list(scores.columns) == [
        "id",
        "type",
        "question",
        "recall_at_3",
        "reciprocal_rank",
        "top_doc_ids",
    ]
    assert list(scores["id"]) == [q.id for q in questions[:3]]
    assert all(len(ranked) <= 4 for ranked in scores["top_doc_ids"])


def test_evaluation_refuses_doc_ids_of_the_wrong_length(golden, bm25) -> None:
    with pytest.raises(ValueError, match="doc_ids has 3 entries"):
        evaluate_retriever(bm25, golden[0][:1], ["a", "b", "c"])


def test_comparison_table_columns_and_values(golden, bm25, dense) -> None:
    questions, _, doc_ids = golden
    evaluations = {r.name: evaluate_retriever(r, questions, doc_ids) for r in (bm25, dense)}
    table = comparison_table([bm25, dense], evaluations)
    assert list(table["retriever"]) == ["BM25", "static"]
    assert list(table.columns) == [
        "retriever",
        "kind",
        "dimensions",
        "values per vector",
        "KiB per 1,000 vectors",
        "licence",
        "recall@5",
        "MRR",
    ]
    dense_row = table.iloc[1]
    assert dense_row["dimensions"] == 256
    assert dense_row["KiB per 1,000 vectors"] == 1000.0  # 256 float32 = 1 KiB per vector
    assert dense_row["licence"] == declared_licence("wordllama")


def test_comparison_table_names_a_missing_evaluation(bm25) -> None:
    with pytest.raises(KeyError, match="No evaluation for retriever 'BM25'"):
        comparison_table([bm25], {})


# --- latency ---------------------------------------------------------------


def test_measure_latency_with_a_fake_clock() -> None:
    calls: list[str] = []
    clock = _fake_clock(0.002)  # every search appears to take 2 ms
    summary = measure_latency(calls.append, ["a", "b", "c"], repeats=2, clock=lambda: next(clock))
    assert summary == LatencySummary(
        queries=6, median_ms=pytest.approx(2.0), p95_ms=pytest.approx(2.0)
    )
    assert calls == ["a", "a", "b", "c", "a", "b", "c"]  # one warm-up call first


def test_measure_latency_refuses_no_queries() -> None:
    with pytest.raises(ValueError, match="at least one query"):
        measure_latency(len, [])


def test_latency_table_has_one_row_per_retriever(bm25) -> None:
    table = latency_table([bm25], ["reviewer", "deploy"])
    assert list(table.columns) == ["retriever", "searches", "median ms", "p95 ms"]
    assert table.iloc[0]["searches"] == 2 and table.iloc[0]["median ms"] >= 0


# --- licences -----------------------------------------------------------------------------


def _metadata(**fields: str | list[str]) -> email.message.Message:
    message = email.message.Message()
    for key, value in fields.items():
        for item in value if isinstance(value, list) else [value]:
            message[key.replace("_", "-")] = item
    return message


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"License_Expression": "Apache-2.0", "License": "ignored"}, "Apache-2.0"),
        ({"License": "MIT License\n\nCopyright (c) 2024 Someone\n..."}, "MIT License"),
        (
            {"License": "UNKNOWN", "Classifier": ["License :: OSI Approved :: MIT License"]},
            "MIT License",
        ),
        ({"Classifier": ["Programming Language :: Python"]}, "not declared"),
        ({"License": "x" * 200}, "not declared"),
    ],
)
def test_licence_from_metadata(fields, expected) -> None:
    assert _licence_from_metadata(_metadata(**fields)) == expected


def test_declared_licence_of_installed_and_missing_packages() -> None:
    assert declared_licence("bm25s") == "MIT License"
    assert declared_licence("wordllama") == "MIT License"
    with pytest.raises(ValueError, match="not installed"):
        declared_licence("no-such-distribution-here")
