"""Plausible wrong answers to lesson 1.3's exercise; each must be rejected by its checker."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from course_lib.labs.baselines import RetrievalUnit
from course_lib.labs.embedding_benchmark import BM25Retriever, EmbeddingRetriever
from course_lib.labs.hybrid_lab import HybridRetriever

# --- 1.3.1 build_retriever (open-ended) ------------------------------------------------------


def _texts(units: Sequence[RetrievalUnit]) -> list[str]:
    return [unit.text for unit in units]


def _even_weight_default(units: Sequence[RetrievalUnit]) -> HybridRetriever:
    """0.5: recall@5 on dev 0.718, just short of the dev target; test is never measured."""
    return HybridRetriever(_texts(units), weight=0.5)


def _weight_near_bm25(units: Sequence[RetrievalUnit]) -> HybridRetriever:
    return HybridRetriever(_texts(units), weight=0.2)


def _weight_near_the_embedder(units: Sequence[RetrievalUnit]) -> HybridRetriever:
    """0.9, the edge of the dev plateau: reaches the dev target, falls short on test."""
    return HybridRetriever(_texts(units), weight=0.9)


def _passes_test_but_not_dev(units: Sequence[RetrievalUnit]) -> HybridRetriever:
    """0.3: below the target on dev (0.701) though above the test bar (0.712); luck on test
    must not pass."""
    return HybridRetriever(_texts(units), weight=0.3)


class _LooksUpCitedDocuments(HybridRetriever):
    """Ranks the sections of the documents a question cites first, from answers loaded
    outside the seal (here the checker's own cache, filled before the seal closes)."""

    units: Sequence[RetrievalUnit] = ()

    def search_many(self, queries: Sequence[str], depth: int = 10) -> list[list[int]]:
        from course_lib.course.exercises.lesson_1_3 import _golden_splits

        cited = {q.question: q.doc_ids for split in _golden_splits().values() for q in split}
        rankings = super().search_many(queries, depth)
        return [
            [i for i, unit in enumerate(self.units) if unit.doc_id in cited.get(query, ())][:depth]
            or ranking
            for query, ranking in zip(queries, rankings, strict=True)
        ]


def _golden_set_loaded_before_check(units: Sequence[RetrievalUnit]) -> HybridRetriever:
    """Refused for a recall on dev no honest retriever reaches."""
    retriever = _LooksUpCitedDocuments(_texts(units), weight=0.75)
    retriever.units = units
    return retriever


def _embedder_alone(units: Sequence[RetrievalUnit]) -> HybridRetriever:
    return HybridRetriever(_texts(units), weight=1.0)


def _bm25_alone(units: Sequence[RetrievalUnit]) -> HybridRetriever:
    return HybridRetriever(_texts(units), weight=0.0)


def _bm25_retriever_not_a_hybrid(units: Sequence[RetrievalUnit]) -> BM25Retriever:
    """Section 3's BM25 alone: a retriever, but not the hybrid the exercise asks for."""
    return BM25Retriever(_texts(units))


def _embedding_retriever_not_a_hybrid(units: Sequence[RetrievalUnit]) -> EmbeddingRetriever:
    from course_lib.embeddings import get_embedder

    return EmbeddingRetriever(get_embedder(), _texts(units), package="wordllama")


def _section_text_without_title_embedder_alone(units: Sequence[RetrievalUnit]) -> HybridRetriever:
    return HybridRetriever([unit.text.split("\n", 2)[-1] for unit in units], weight=1.0)


class _RawScoreSum(HybridRetriever):
    """BM25's raw scores added to the cosines, unscaled: BM25 drowns the embedder."""

    def scores(self, queries: Sequence[str]) -> NDArray[np.float64]:
        from course_lib.embeddings import cosine_similarity

        tokens = self._bm25._tokenize(list(queries))
        rows = self.matrix.shape[0]
        sparse = np.array(
            [self._bm25._retriever.get_scores(t) if t else np.zeros(rows) for t in tokens]
        )
        dense = np.atleast_2d(cosine_similarity(self.embedder.embed(list(queries)), self.matrix))
        summed: NDArray[np.float64] = sparse + dense
        return summed


def _raw_score_sum(units: Sequence[RetrievalUnit]) -> HybridRetriever:
    return _RawScoreSum(_texts(units))


class _ReadsTheGoldenSet(HybridRetriever):
    """Loads the golden set while it is measured: the seal refuses it."""

    units: Sequence[RetrievalUnit] = ()

    def search_many(self, queries: Sequence[str], depth: int = 10) -> list[list[int]]:
        from course_lib.datasets import load_golden_set

        cited = {q.question: q.doc_ids for q in load_golden_set()}
        return [
            [i for i, unit in enumerate(self.units) if unit.doc_id in cited.get(query, ())][:depth]
            for query in queries
        ]


def _reads_the_golden_set(units: Sequence[RetrievalUnit]) -> HybridRetriever:
    retriever = _ReadsTheGoldenSet(_texts(units), weight=0.7)
    retriever.units = units
    return retriever


def _returns_a_ranking_not_a_retriever(units: Sequence[RetrievalUnit]) -> list[int]:
    return list(range(5))


class _SameForEveryQuestion(HybridRetriever):
    def search_many(self, queries: Sequence[str], depth: int = 10) -> list[list[int]]:
        return [list(range(depth)) for _ in queries]


def _ignores_the_question(units: Sequence[RetrievalUnit]) -> HybridRetriever:
    return _SameForEveryQuestion(_texts(units), weight=0.7)


class _Scores(HybridRetriever):
    def search(self, query: str, depth: int = 10) -> list[int]:
        top: list[Any] = sorted(self.scores([query])[0].tolist(), reverse=True)[:depth]
        return top


def _returns_scores_not_indices(units: Sequence[RetrievalUnit]) -> HybridRetriever:
    return _Scores(_texts(units), weight=0.7)


WRONG_ANSWERS: dict[str, list[Any]] = {
    "1.3.1": [
        _embedder_alone,
        _bm25_alone,
        _bm25_retriever_not_a_hybrid,
        _embedding_retriever_not_a_hybrid,
        _section_text_without_title_embedder_alone,
        _raw_score_sum,
        _reads_the_golden_set,
        _returns_a_ranking_not_a_retriever,
        _ignores_the_question,
        _returns_scores_not_indices,
        _even_weight_default,
        _weight_near_bm25,
        _weight_near_the_embedder,
        _passes_test_but_not_dev,
        _golden_set_loaded_before_check,
    ],
}
