"""Tests of course_lib.labs.hybrid_lab: the hybrid retriever, the sealed golden set, the
figures that reconcile lessons 1.3 and 1.4, and the failure report."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib.datasets import load_golden_set
from course_lib.datasets.golden import GoldenQuestion, GoldenSource
from course_lib.embeddings import get_embedder
from course_lib.labs import (
    HYBRID_TARGET,
    BM25Retriever,
    EmbeddingRetriever,
    GoldenSetSealedError,
    HybridRetriever,
    Retriever,
    evaluate_retriever,
    miss_report,
    optional_transformer,
    recall_at_5,
    recall_counted_two_ways,
    retrieval_units,
    sealed_golden_set,
    shared_terms,
)
from course_lib.labs.baselines import RetrievalUnit

TEXTS = [
    "Deploys to production need one reviewer and a green pipeline.",
    "Expenses are reimbursed within 30 days of the claim.",
    "Partial weeks of on-call are paid pro rata per day.",
    "The API answers 404 for a shipment of another account.",
    "Laptops install security updates within 14 days.",
]


def test_the_two_ends_rank_as_each_retriever_alone() -> None:
    queries = ["how fast are expenses paid back", "error 404 for a shipment", "on-call pay"]
    dense = EmbeddingRetriever(get_embedder(), TEXTS)
    sparse = BM25Retriever(TEXTS)
    assert HybridRetriever(TEXTS, weight=1.0).search_many(queries, 5) == dense.search_many(
        queries, 5
    )
    sparse_end = HybridRetriever(TEXTS, weight=0.0).search_many(queries, 5)
    for query, ranking in zip(queries, sparse_end, strict=True):
        found = sparse.search(query, 5)  # BM25 leaves out texts sharing no term
        assert ranking[: len(found)] == found


def test_search_ranks_one_query_as_search_many_does() -> None:
    hybrid = HybridRetriever(TEXTS, weight=0.7)
    queries = ["how fast are expenses paid back", "error 404 for a shipment"]
    assert [hybrid.search(q, 3) for q in queries] == hybrid.search_many(queries, 3)


def test_scores_mix_scaled_bm25_with_cosines() -> None:
    hybrid = HybridRetriever(TEXTS, weight=0.5)
    scores = hybrid.scores(["error 404 for a shipment"])
    assert scores.shape == (1, len(TEXTS))
    ends = HybridRetriever(TEXTS, weight=0.0).scores(["error 404 for a shipment"])
    assert ends.max() == pytest.approx(1.0)  # BM25 is divided by the query's best score
    assert np.all(ends >= 0)


def test_rewrite_and_embed_texts_are_used() -> None:
    seen: list[str] = []

    def rewrite(query: str) -> str:
        seen.append(query)
        return query.upper()

    hybrid = HybridRetriever(TEXTS, weight=1.0, rewrite=rewrite, embed_texts=list(reversed(TEXTS)))
    plain = HybridRetriever(TEXTS, weight=1.0)
    query = "security updates on laptops"
    assert plain.search(query, 1) == [4]
    assert hybrid.search(query, 1) == [0]  # text 0 was embedded as TEXTS[4]
    assert seen == [query]


def test_it_is_a_retriever_with_both_indexes_in_its_footprint() -> None:
    hybrid = HybridRetriever(TEXTS)
    assert isinstance(hybrid, Retriever)
    sparse = BM25Retriever(TEXTS).footprint
    assert hybrid.footprint.nbytes == hybrid.matrix.nbytes + sparse.nbytes
    assert hybrid.footprint.documents == len(TEXTS)
    assert hybrid.licence == "MIT License"
    assert "0.5" in hybrid.name and "weight=0.5" in repr(hybrid)


@pytest.mark.parametrize("weight", [-0.1, 1.5, True, "0.5"])
def test_a_weight_outside_zero_to_one_is_refused(weight: object) -> None:
    with pytest.raises(ValueError, match="weight must be a number from 0 to 1"):
        HybridRetriever(TEXTS, weight=weight)  # type: ignore[arg-type]


def test_bad_inputs_get_clear_messages() -> None:
    with pytest.raises(ValueError, match="embed_texts has 1 texts for 5"):
        HybridRetriever(TEXTS, embed_texts=["one"])
    hybrid = HybridRetriever(TEXTS)
    with pytest.raises(TypeError, match="one query string"):
        hybrid.search(["a list"])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="depth must be a positive integer"):
        hybrid.search("pay", 0)
    assert hybrid.search_many([]) == []


def test_the_sealed_golden_set_refuses_and_then_reopens() -> None:
    with sealed_golden_set(), pytest.raises(GoldenSetSealedError, match="never the answers"):
        load_golden_set("test")
    assert load_golden_set("test")
    with pytest.raises(RuntimeError), sealed_golden_set():
        raise RuntimeError("a failure inside")
    assert load_golden_set("dev")  # restored after an exception too


def test_recall_at_5_matches_evaluate_retriever() -> None:
    units = retrieval_units()
    texts, doc_ids = [u.text for u in units], [u.doc_id for u in units]
    questions = [q for q in load_golden_set("dev") if q.answerable][:20]
    bm25 = BM25Retriever(texts)
    expected = evaluate_retriever(bm25, questions, doc_ids)["recall_at_5"].mean()
    assert recall_at_5(bm25, questions, doc_ids) == pytest.approx(expected)
    assert recall_at_5(bm25, [], doc_ids) == 0.0


def test_optional_transformer_explains_a_missing_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import course_lib.embeddings as embeddings
    from course_lib.errors import OptionalDependencyError

    def missing(name: str | None = None) -> None:
        raise OptionalDependencyError("needs torch")

    monkeypatch.setattr(embeddings, "get_embedder", missing)
    retriever, status = optional_transformer(TEXTS)
    assert retriever is None
    assert "compares BM25 with averaged word vectors only" in status
    assert 'pip install -e ".[transformer]"' in status and "\n" not in status


def test_recall_counted_two_ways_holds_both_lessons_figures() -> None:
    table = recall_counted_two_ways("dev")
    assert len(table) == 4
    units = retrieval_units()
    dense = EmbeddingRetriever(get_embedder(), [u.text for u in units])
    questions = [q for q in load_golden_set("dev") if q.answerable]
    ours = evaluate_retriever(dense, questions, [u.doc_id for u in units])["recall_at_5"].mean()
    assert table.loc[0, "recall@5"] == round(ours, 3)  # this lesson's own count
    assert table["recall@5"].between(0, 1).all()


def _question(doc_id: str, section: str) -> GoldenQuestion:
    return GoldenQuestion(
        id="t-1",
        question="How many days do laptops have for security updates?",
        type="fact",
        sources=(GoldenSource(doc_id, section, "within 14 days"),),
        answer="14 days",
        stale_answer=None,
        stale_source=None,
        tags=(),
        split="dev",
    )


def test_shared_terms_and_miss_report() -> None:
    units = [RetrievalUnit(f"doc-{i}", f"Heading {i}", text) for i, text in enumerate(TEXTS)]
    question = _question("doc-4", "Heading 4")
    assert shared_terms(question, units) == ["day", "laptop", "secur", "updat"]
    assert shared_terms(_question("elsewhere", "none"), units) == []
    lines = miss_report(question, [BM25Retriever(TEXTS, name="bm25")], units, depth=2)
    assert lines[0].startswith("t-1 | How many days")
    assert lines[1] == "cited: doc-4 | within 14 days"
    assert lines[3].startswith("bm25 top 2: ['doc-4 | Heading 4'")


@pytest.mark.parametrize("weight", [0.55, 0.6, 0.7, 0.8, 0.85])
def test_exercise_1_3_1_accepts_every_weight_on_the_dev_plateau(weight: float) -> None:
    """A learner who reads "choose in the middle of the plateau" loosely still passes: every
    weight that reaches the dev target, except the plateau's edge (0.9), clears test."""
    from course_lib.course.checking import evaluate

    def build_retriever(units: list[RetrievalUnit]) -> HybridRetriever:
        return HybridRetriever([unit.text for unit in units], weight=weight)

    feedback = evaluate("1.3.1", build_retriever)
    assert feedback.solved, feedback.line


def test_the_targets_are_a_dev_bar_then_a_lower_test_bar() -> None:
    assert HYBRID_TARGET.test < HYBRID_TARGET.dev


def test_exercise_1_3_1_warns_after_repeated_looks_at_test(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Pass or fail on test, asked for again and again, is tuning on test: say so."""
    from course_lib.course.checking import evaluate
    from course_lib.course.exercises import lesson_1_3

    def build_retriever(units: list[RetrievalUnit]) -> HybridRetriever:
        return HybridRetriever([unit.text for unit in units], weight=0.75)

    monkeypatch.setattr(lesson_1_3, "_TEST_LOOKS", [2])
    feedback = evaluate("1.3.1", build_retriever)
    assert feedback.solved and "look number 3 at test" in feedback.line, feedback.line
    assert "clears the test bar (0.70)" in feedback.line, feedback.line


def test_exercise_1_3_1_tells_a_single_retriever_to_return_a_hybrid() -> None:
    """BM25 alone has no setting to sweep: the message asks for a HybridRetriever instead."""
    from course_lib.course.checking import evaluate

    def build_retriever(units: list[RetrievalUnit]) -> BM25Retriever:
        return BM25Retriever([unit.text for unit in units])

    feedback = evaluate("1.3.1", build_retriever)
    assert not feedback.solved and not feedback.checker_failed, feedback.line
    assert "Return a HybridRetriever" in feedback.line, feedback.line
    assert "sweep your setting" not in feedback.line, feedback.line
