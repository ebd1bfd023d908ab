"""Plausible wrong answers to lesson 1.3's exercises; each must be rejected by its checker."""

from __future__ import annotations

from typing import Any

import numpy as np

# --- 1.3.1 top_k_indices --------------------------------------------------------------------


def _reversed_ascending_argsort(scores, k):
    return [int(i) for i in np.argsort(scores)[::-1][:k]]


def _default_unstable_argsort(scores, k):
    return [int(i) for i in np.argsort(-np.asarray(scores, dtype=float))[:k]]


def _returns_the_scores(scores, k):
    return sorted(scores, reverse=True)[:k]


def _argpartition_unsorted(scores, k):
    scores = np.asarray(scores, dtype=float)
    if k >= len(scores):
        return list(range(len(scores)))
    return [int(i) for i in np.sort(np.argpartition(-scores, k)[:k])]


def _off_by_one(scores, k):
    return [int(i) for i in np.argsort(-np.asarray(scores, dtype=float), kind="stable")[: k + 1]]


def _sorted_last_k_reversed(scores, k):
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    return order[::-1][:k]


def _returns_a_numpy_array(scores, k):
    return np.argsort(-np.asarray(scores, dtype=float), kind="stable")[:k]


# --- 1.3.2 build_retriever (open-ended) ------------------------------------------------------


def _even_weight_default(units):
    from course_lib.labs import HybridRetriever

    return HybridRetriever([unit.text for unit in units], weight=0.5)


def _weight_near_bm25(units):
    from course_lib.labs import HybridRetriever

    return HybridRetriever([unit.text for unit in units], weight=0.2)


def _weight_near_the_embedder(units):
    from course_lib.labs import HybridRetriever

    return HybridRetriever([unit.text for unit in units], weight=0.9)


def _embedder_alone(units):
    from course_lib.labs import HybridRetriever

    return HybridRetriever([unit.text for unit in units], weight=1.0)


def _bm25_alone(units):
    from course_lib.labs import HybridRetriever

    return HybridRetriever([unit.text for unit in units], weight=0.0)


def _section_text_without_title_embedder_alone(units):
    from course_lib.labs import HybridRetriever

    return HybridRetriever([unit.text.split("\n", 2)[-1] for unit in units], weight=1.0)


def _hybrid_class():
    from course_lib.labs import HybridRetriever

    return HybridRetriever


def _raw_score_sum(units):
    """BM25's raw scores added to the cosines, unscaled: BM25 drowns the embedder."""
    from course_lib.embeddings import cosine_similarity

    class RawScoreSum(_hybrid_class()):
        def scores(self, queries):
            tokens = self._bm25._tokenize(list(queries))
            sparse = np.array(
                [self._bm25._retriever.get_scores(t) if t else np.zeros(len(units)) for t in tokens]
            )
            dense = np.atleast_2d(
                cosine_similarity(self.embedder.embed(list(queries)), self.matrix)
            )
            return sparse + dense

    return RawScoreSum([unit.text for unit in units])


def _reads_the_golden_set(units):
    from course_lib.datasets import load_golden_set

    class Lookup(_hybrid_class()):
        def search_many(self, queries, depth=10):
            cited = {q.question: q.doc_ids for q in load_golden_set()}
            return [
                [i for i, unit in enumerate(units) if unit.doc_id in cited.get(query, ())][:depth]
                for query in queries
            ]

    return Lookup([unit.text for unit in units], weight=0.7)


def _returns_a_ranking_not_a_retriever(units):
    return list(range(5))


def _ignores_the_question(units):
    class SameForEveryQuestion(_hybrid_class()):
        def search_many(self, queries, depth=10):
            return [list(range(depth)) for _ in queries]

    return SameForEveryQuestion([unit.text for unit in units], weight=0.7)


def _returns_scores_not_indices(units):
    class Scores(_hybrid_class()):
        def search(self, query, depth=10):
            return sorted(self.scores([query])[0].tolist(), reverse=True)[:depth]

    return Scores([unit.text for unit in units], weight=0.7)


# --- 1.3.3 choose_model ---------------------------------------------------------------------


def _ignores_the_licence(rows, max_latency_ms, max_kib_per_1000, licences):
    ok = [
        r
        for r in rows
        if r["latency_ms"] <= max_latency_ms and r["kib_per_1000"] <= max_kib_per_1000
    ]
    return max(ok, key=lambda r: (r["recall_at_5"], r["mrr"]))["name"] if ok else None


def _strict_limits(rows, max_latency_ms, max_kib_per_1000, licences):
    ok = [
        r
        for r in rows
        if r["latency_ms"] < max_latency_ms
        and r["kib_per_1000"] < max_kib_per_1000
        and r["licence"] in licences
    ]
    return (
        min(ok, key=lambda r: (-r["recall_at_5"], -r["mrr"], r["latency_ms"]))["name"]
        if ok
        else None
    )


def _recall_only(rows, max_latency_ms, max_kib_per_1000, licences):
    ok = [
        r
        for r in rows
        if r["latency_ms"] <= max_latency_ms
        and r["kib_per_1000"] <= max_kib_per_1000
        and r["licence"] in licences
    ]
    return max(ok, key=lambda r: r["recall_at_5"])["name"] if ok else None


def _returns_the_row(rows, max_latency_ms, max_kib_per_1000, licences):
    ok = [
        r
        for r in rows
        if r["latency_ms"] <= max_latency_ms
        and r["kib_per_1000"] <= max_kib_per_1000
        and r["licence"] in licences
    ]
    return min(ok, key=lambda r: (-r["recall_at_5"], -r["mrr"], r["latency_ms"])) if ok else None


def _fastest_allowed(rows, max_latency_ms, max_kib_per_1000, licences):
    ok = [
        r
        for r in rows
        if r["latency_ms"] <= max_latency_ms
        and r["kib_per_1000"] <= max_kib_per_1000
        and r["licence"] in licences
    ]
    return min(ok, key=lambda r: r["latency_ms"])["name"] if ok else None


def _crashes_when_nothing_qualifies(rows, max_latency_ms, max_kib_per_1000, licences):
    ok = [
        r
        for r in rows
        if r["latency_ms"] <= max_latency_ms
        and r["kib_per_1000"] <= max_kib_per_1000
        and r["licence"] in licences
    ]
    return min(ok, key=lambda r: (-r["recall_at_5"], -r["mrr"], r["latency_ms"]))["name"]


WRONG_ANSWERS: dict[str, list[Any]] = {
    "1.3.1": [
        _reversed_ascending_argsort,
        _default_unstable_argsort,
        _returns_the_scores,
        _argpartition_unsorted,
        _off_by_one,
        _sorted_last_k_reversed,
        _returns_a_numpy_array,
    ],
    "1.3.2": [
        _embedder_alone,
        _bm25_alone,
        _section_text_without_title_embedder_alone,
        _raw_score_sum,
        _reads_the_golden_set,
        _returns_a_ranking_not_a_retriever,
        _ignores_the_question,
        _returns_scores_not_indices,
        _even_weight_default,
        _weight_near_bm25,
        _weight_near_the_embedder,
    ],
    "1.3.3": [
        _ignores_the_licence,
        _strict_limits,
        _recall_only,
        _returns_the_row,
        _fastest_allowed,
        _crashes_when_nothing_qualifies,
    ],
}
