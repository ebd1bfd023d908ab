"""Tests of lesson 2.1's bench: course_lib.labs.chunking_lab."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from course_lib.labs import (
    CONTEXT_BUDGET,
    EMBED_LIMIT,
    QUALITY_MARGIN,
    ChunkerScore,
    Passage,
    character_windows,
    chunker_shortfall,
    chunks_from_word_windows,
    edit_document,
    embedded_texts,
    evaluate_chunks,
    prototype_passages,
    prototype_scores,
    score_chunker,
    sweep_chunk_sizes,
    word_coverage,
)
from course_lib.rag import Chunk, HandbookDocument, chunk_by_headings


def _doc(text: str, doc_id: str = "doc-a", access: str = "internal") -> HandbookDocument:
    return HandbookDocument(
        id=doc_id,
        title="Doc A",
        team="sre",
        version=1,
        updated=date(2026, 1, 1),
        access=access,
        text=text,
    )


def _windows(words: list[str], size: int, overlap: int) -> list[list[str]]:
    out = []
    for start in range(0, len(words), size - overlap):
        out.append(words[start : start + size])
        if start + size >= len(words):
            break
    return out


@dataclasses.dataclass(frozen=True)
class _Question:
    id: str
    type: str
    question: str
    doc_ids: tuple[str, ...]
    answerable: bool = True


class _BagOfWords:
    """A tiny deterministic embedder: one dimension per vocabulary word."""

    vocabulary = ("oncall", "pay", "expense", "claims", "days", "rota")

    def embed(self, texts: list[str]) -> object:
        import numpy as np

        rows = np.array(
            [[text.lower().count(word) for word in self.vocabulary] for text in texts], float
        )
        norms = np.linalg.norm(rows, axis=1, keepdims=True)
        return np.divide(rows, norms, out=np.zeros_like(rows), where=norms > 0)

    def count_tokens(self, text: str) -> int:
        return len(text.split())


def test_character_windows_overlap_and_reach_the_end() -> None:
    windows = character_windows("abcdefghij", size=4, overlap=1)
    assert windows == ["abcd", "defg", "ghij"]
    assert character_windows("", 4, 1) == []
    with pytest.raises(ValueError, match="overlap"):
        character_windows("abc", 4, 4)


def test_prototype_passages_keep_only_the_document_id() -> None:
    passages = prototype_passages([_doc("x" * 2500)], size=1000, overlap=200)
    assert [len(p.text) for p in passages] == [1000, 1000, 900]
    assert all(isinstance(p, Passage) and p.doc_id == "doc-a" for p in passages)


def test_word_windows_become_chunks_with_metadata_and_headings() -> None:
    text = "# Doc A\n\nintro words here\n\n## Pay\n\n" + " ".join(f"w{i}" for i in range(20))
    chunks = chunks_from_word_windows([_doc(text, access="restricted")], _windows, 8, 2)
    assert chunks[0].section == "Doc A"
    assert chunks[-1].section == "Pay"
    assert {c.access for c in chunks} == {"restricted"}
    assert [c.position for c in chunks] == list(range(len(chunks)))
    assert len({c.id for c in chunks}) == len(chunks)
    assert embedded_texts(chunks)[-1].startswith("Doc A\nPay\n")


def test_evaluate_chunks_scores_each_answerable_question() -> None:
    units = [
        Passage("oncall", "oncall pay rota"),
        Passage("expense", "expense claims days"),
    ]
    questions = [
        _Question("q1", "fact", "oncall pay", ("oncall",)),
        _Question("q2", "fact", "expense claims", ("expense",)),
        _Question("q3", "fact", "nothing", (), answerable=False),
    ]
    frame = evaluate_chunks(units, questions, embedder=_BagOfWords())  # type: ignore[arg-type]
    assert list(frame["question_id"]) == ["q1", "q2"]
    assert list(frame["recall"]) == [1.0, 1.0]
    assert list(frame["mrr"]) == [1.0, 1.0]


def test_evaluate_chunks_needs_ids_for_plain_strings() -> None:
    with pytest.raises(ValueError, match="doc_ids"):
        evaluate_chunks(["oncall pay"], [], embedder=_BagOfWords())  # type: ignore[arg-type]


def test_sweep_reports_quality_and_cost_per_size() -> None:
    docs = [
        _doc("# Oncall\n\n" + "oncall pay rota " * 40, "oncall"),
        _doc("# Expense\n\n" + "expense claims days " * 40, "expense"),
    ]
    questions = [_Question("q1", "fact", "oncall pay", ("oncall",))]
    sweep = sweep_chunk_sizes(docs, questions, [10, 40], _windows, embedder=_BagOfWords())  # type: ignore[arg-type]
    assert list(sweep["size"]) == [10, 40]
    assert sweep["chunks"].iloc[0] > sweep["chunks"].iloc[1]
    assert sweep["context_tokens"].iloc[0] < sweep["context_tokens"].iloc[1]
    assert (sweep["recall"] == 1.0).all()
    assert (sweep["over_limit"] == 0.0).all()


def test_edit_document_adds_a_sentence_and_a_version() -> None:
    doc = _doc("# Doc A\n\n## Pay\n\nOld text.\n")
    edited = edit_document(doc, "Pay", "New sentence.")
    assert "## Pay\n\nNew sentence.\n" in edited.text
    assert edited.version == 2
    with pytest.raises(ValueError, match="no section"):
        edit_document(doc, "Missing", "x")


def test_word_coverage_counts_distinct_words_kept() -> None:
    doc = _doc("alpha beta gamma delta")
    assert word_coverage(doc, ["alpha beta", "gamma delta"]) == 1.0
    assert word_coverage(doc, ["alpha"]) == 0.25


def _headings(doc: HandbookDocument, count_tokens) -> list[Chunk]:
    return chunk_by_headings(doc, count_tokens=count_tokens)


def test_score_chunker_applies_the_production_rules() -> None:
    import dataclasses as dc

    too_long = score_chunker(
        lambda doc, count: chunk_by_headings(doc, count_tokens=count, max_tokens=4000), "dev"
    )
    assert too_long.problem and f"within {EMBED_LIMIT}" in too_long.problem
    empty = score_chunker(lambda doc, count: [], "dev")
    assert empty.problem and "no chunks" in empty.problem
    strings = score_chunker(lambda doc, count: [doc.text], "dev")
    assert strings.problem and "return Chunk objects" in strings.problem
    opened = score_chunker(
        lambda doc, count: [dc.replace(c, access="public") for c in _headings(doc, count)], "dev"
    )
    assert opened.problem and "access level" in opened.problem
    dropped = score_chunker(lambda doc, count: _headings(doc, count)[:1], "dev")
    assert dropped.problem and "words" in dropped.problem
    good = score_chunker(_headings, "dev")
    assert good.problem is None and 0.5 < good.recall <= 1.0 and good.chunks > 100
    assert 0 < good.context_tokens <= 5 * EMBED_LIMIT
    assert "tokens in the top 5" in str(good)
    assert str(empty).startswith("rule broken: ")


def test_prototype_scores_measure_cost_as_score_chunker_does() -> None:
    proto = prototype_scores("dev")
    small = score_chunker(
        lambda doc, count: chunk_by_headings(doc, count_tokens=count, max_tokens=128), "dev"
    )
    assert proto.problem is None and proto.chunks > 500
    assert small.context_tokens < proto.context_tokens


def test_chunker_shortfall_names_the_first_target_missed() -> None:
    base = ChunkerScore(chunks=10, recall=0.70, mrr=0.55, context_tokens=1400.0)
    good = ChunkerScore(10, 0.70 - QUALITY_MARGIN, 0.60, CONTEXT_BUDGET)
    assert chunker_shortfall(good, base) is None
    costly = dataclasses.replace(good, context_tokens=CONTEXT_BUDGET + 1)
    assert "over the budget" in (chunker_shortfall(costly, base) or "")
    weak = dataclasses.replace(good, recall=0.60)
    assert "recall@5 is 0.600" in (chunker_shortfall(weak, base) or "")
    vague = dataclasses.replace(good, mrr=0.50)
    assert "MRR is 0.500" in (chunker_shortfall(vague, base) or "")
    broken = ChunkerScore(0, 0.0, 0.0, 0.0, problem="a rule")
    assert chunker_shortfall(broken, base) == "a rule"
