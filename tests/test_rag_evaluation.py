"""Tests of course_lib.rag.retrieval_eval on hand-made cases whose numbers can be worked out."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from course_lib.datasets import GoldenQuestion, GoldenSource
from course_lib.rag import (
    Chunk,
    Retrieved,
    User,
    content_hash,
    evaluate_retrieval,
    evaluation_reader,
    question_metrics,
    summarise_retrieval,
)


def test_metrics_of_one_question_by_hand() -> None:
    """Chunks from docs a, a, b, c; gold {b, z}; k = 3.

    recall: b found, z not -> 1/2. Reciprocal rank: the first b chunk is at rank 3 -> 1/3.
    nDCG@3: distinct docs a, b; b at the second place -> (1/log2 3) / (1 + 1/log2 3).
    """
    scores = question_metrics(["a", "a", "b", "c"], {"b", "z"}, k=3)
    assert scores["recall"] == 0.5
    assert scores["mrr"] == pytest.approx(1 / 3)
    assert scores["ndcg"] == pytest.approx((1 / math.log2(3)) / (1 + 1 / math.log2(3)))


def test_ranks_count_chunks_and_recall_counts_documents() -> None:
    assert question_metrics(["x", "x", "x", "x", "g"], {"g"}, k=5) == {
        "recall": 1.0,
        "mrr": 0.2,
        "ndcg": pytest.approx(1 / math.log2(3)),  # g is the second distinct document
    }
    assert question_metrics(["g"], {"g"}, k=5) == {"recall": 1.0, "mrr": 1.0, "ndcg": 1.0}
    nothing = question_metrics(["x"] * 12 + ["g"], {"g"}, k=5, depth=10)
    assert nothing == {"recall": 0.0, "mrr": 0.0, "ndcg": 0.0}
    with pytest.raises(ValueError, match="no gold documents"):
        question_metrics(["a"], set())


def _question(qid: str, gold: tuple[str, ...], kind: str = "fact") -> GoldenQuestion:
    return GoldenQuestion(
        id=qid,
        question=f"question {qid}",
        type=kind,
        sources=tuple(GoldenSource(doc, "Section", "quote") for doc in gold),
        answer="",
        stale_answer=None,
        stale_source=None,
        split="dev",
    )


def _hit(doc_id: str, rank: int) -> Retrieved:
    chunk = Chunk(
        id=f"{doc_id}:{rank}:x",
        doc_id=doc_id,
        title=doc_id,
        section=doc_id,
        version=1,
        access="internal",
        team="people",
        text=doc_id,
        content_hash=content_hash(doc_id),
        position=rank,
        token_count=1,
    )
    return Retrieved(chunk, 1.0 / rank, rank, "dense")


class ScriptedIndex:
    """Returns fixed rankings per mode and question, and records who searched."""

    def __init__(self, rankings: dict[tuple[str, str], list[str]]) -> None:
        self.rankings = rankings
        self.users: list[User] = []

    def _candidates(
        self, mode: str, query: str, user: User, limit: int
    ) -> list[tuple[Chunk, float]]:
        self.users.append(user)
        docs = self.rankings[(mode, query)][:limit]
        return [(_hit(doc, rank).chunk, 1.0 / rank) for rank, doc in enumerate(docs, start=1)]

    def dense_candidates(
        self, query: str, *, user: User, limit: int, **_: object
    ) -> list[tuple[Chunk, float]]:
        return self._candidates("dense", query, user, limit)

    def bm25_candidates(
        self, query: str, *, user: User, limit: int, **_: object
    ) -> list[tuple[Chunk, float]]:
        return self._candidates("bm25", query, user, limit)


def test_evaluate_and_summarise_a_tiny_golden_set() -> None:
    questions = [
        _question("q1", ("a",)),
        _question("q2", ("b", "c"), kind="multi_doc"),
        _question("q3", (), kind="unanswerable"),  # left out: nothing to find
    ]
    index = ScriptedIndex(
        {
            ("dense", "question q1"): ["a", "x"],
            ("dense", "question q2"): ["x", "b", "y", "z", "w", "c"],
            ("bm25", "question q1"): ["x", "x", "a"],
            ("bm25", "question q2"): ["c", "b"],
        }
    )
    frame = evaluate_retrieval(index, questions, modes=("dense", "bm25"), k=5)  # type: ignore[arg-type]
    assert list(frame["question_id"]) == ["q1", "q2", "q1", "q2"]
    by = frame.set_index(["mode", "question_id"])
    assert by.loc[("dense", "q1"), "recall"] == 1.0
    assert by.loc[("dense", "q2"), "recall"] == 0.5  # c is at rank 6, past k = 5
    assert by.loc[("dense", "q2"), "mrr"] == 0.5
    assert by.loc[("bm25", "q1"), "mrr"] == pytest.approx(1 / 3)
    assert by.loc[("bm25", "q2"), ["recall", "mrr", "ndcg"]].tolist() == [1.0, 1.0, 1.0]
    assert by.loc[("dense", "q2"), "retrieved"] == ["x", "b", "y", "z", "w"]
    assert by.loc[("dense", "q2"), "gold"] == ["b", "c"]
    assert all(user == evaluation_reader() for user in index.users)
    assert evaluation_reader().can_read("restricted")

    summary = summarise_retrieval(frame, n_resamples=200).set_index("mode")
    assert summary.loc["dense", "questions"] == 2
    assert summary.loc["dense", "recall"] == pytest.approx(0.75)
    assert summary.loc["bm25", "mrr"] == pytest.approx((1 / 3 + 1) / 2)
    for metric in ("recall", "mrr", "ndcg"):
        low, mean, high = summary[f"{metric}_low"], summary[metric], summary[f"{metric}_high"]
        assert ((low <= mean) & (mean <= high)).all()


def test_summaries_can_group_by_question_type() -> None:
    frame = pd.DataFrame(
        {
            "mode": ["dense"] * 4,
            "type": ["fact", "fact", "multi_doc", "multi_doc"],
            "recall": [1.0, 0.0, 0.5, 0.5],
            "mrr": [1.0, 0.0, 0.5, 1.0],
            "ndcg": [1.0, 0.0, 0.5, 0.5],
        }
    )
    summary = summarise_retrieval(frame, by=("mode", "type"), n_resamples=200)
    assert summary[["mode", "type", "questions"]].values.tolist() == [
        ["dense", "fact", 2],
        ["dense", "multi_doc", 2],
    ]
    multi = summary.iloc[1]
    assert (multi["recall"], multi["recall_low"], multi["recall_high"]) == (0.5, 0.5, 0.5)
