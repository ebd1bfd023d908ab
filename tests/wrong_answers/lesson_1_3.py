"""Plausible wrong answers to lesson 1.3's exercise; each must be rejected by its checker."""

from __future__ import annotations

from typing import Any

import numpy as np

# --- 1.3.1 build_retriever (open-ended) ------------------------------------------------------


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


WRONG_ANSWERS: dict[str, list[Any]] = {
    "1.3.1": [
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
}
