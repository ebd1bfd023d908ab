"""Tests of lesson 2.2's lab: the prototype store and the measurements built on it."""

from __future__ import annotations

from datetime import date

import pytest
from question_stub import StubQuestion

from course_lib.labs.retrieval_lab import (
    PrototypeStore,
    citation_support,
    cited_doc_ids,
    leaking_queries,
    repeated_documents,
    retrieval_recall,
    score_answers,
)
from course_lib.rag import Chunk, HandbookDocument, Retrieved, User, content_hash


def _chunk(doc_id: str, text: str, access: str = "internal", position: int = 0) -> Chunk:
    digest = content_hash(text)
    return Chunk(
        id=f"{doc_id}:{position}:{digest[:12]}",
        doc_id=doc_id,
        title=doc_id,
        section="Section",
        version=1,
        access=access,
        team="people",
        text=text,
        content_hash=digest,
        position=position,
        token_count=len(text.split()),
    )


LEAVE = _chunk("leave-policy", "Full-time staff get 26 days of annual leave a year.")
SALARY = _chunk("salary-bands", "Salary bands are reviewed in March.", access="restricted")
ONCALL = _chunk("oncall-policy", "Each week on call is paid EUR 300.", position=1)


def test_leaking_queries_counts_lists_with_an_unreadable_chunk() -> None:
    employee = User.employee("e")
    results = [[LEAVE, SALARY], [LEAVE], [SALARY, SALARY], []]
    assert leaking_queries(results, employee) == 2
    assert leaking_queries(results, User.manager("m")) == 0


def test_repeated_documents_counts_lists_with_two_chunks_of_one_document() -> None:
    a0, a1, b0 = _chunk("a", "one", position=0), _chunk("a", "two", position=1), _chunk("b", "x")
    hits = [Retrieved(b0, 1.0, 1, "dense"), Retrieved(a0, 0.9, 2, "dense")]
    assert repeated_documents([[a0, b0], [a0, a1], hits, []]) == 1
    assert repeated_documents([[a0, b0, a1]], k=2) == 0
    assert repeated_documents([[a0, b0, a1]], k=3) == 1


def test_cited_doc_ids_maps_numbered_citations_and_filters_unknown_ids() -> None:
    answer = "Pay is EUR 300 [oncall-policy#2]. Leave is 26 days [leave-policy] [oncall-policy]."
    assert cited_doc_ids(answer) == ["oncall-policy", "leave-policy"]
    assert cited_doc_ids(answer, {"leave-policy": "x"}) == ["leave-policy"]
    assert cited_doc_ids("No citation here.") == []


def test_citation_support_judges_each_sentence_against_its_passage() -> None:
    passages = {"leave": LEAVE.text, "pay": ONCALL.text}
    answer = "Staff get 26 days of annual leave [leave]. Each on-call week pays EUR 300 [leave]."
    assert citation_support(answer, passages) == {"leave": False}
    answer = "Staff get 26 days of annual leave [leave]. Each week on call pays EUR 300 [pay]."
    assert citation_support(answer, passages) == {"leave": True, "pay": True}
    assert citation_support("Leave is 26 days [made-up].", passages) == {"made-up": False}
    assert citation_support("I don't know.", passages) == {}


def test_score_answers_counts_correct_and_cited_on_answerable_questions_only() -> None:
    questions = [
        StubQuestion("q1", "Leave?", "26 days of annual leave", ("leave-policy",)),
        StubQuestion("q2", "Pay?", "EUR 300 per week", ("oncall-policy",)),
        StubQuestion("q3", "Moon?", "", (), type="unanswerable"),
    ]
    answers = [
        ("You get 26 days of annual leave.", ["leave-policy"]),
        ("It pays EUR 250 per week.", ["oncall-policy"]),
        ("I don't know.", []),
    ]
    table = score_answers(questions, answers)
    assert table["question_id"].tolist() == ["q1", "q2"]
    assert table["good"].tolist() == [True, False]
    assert table["cited"].tolist() == [True, True]
    with pytest.raises(ValueError, match="one each"):
        score_answers(questions, answers[:2])


def test_retrieval_recall_reads_retrieved_results_and_chunks() -> None:
    questions = [
        StubQuestion("q1", "leave", "", ("leave-policy",)),
        StubQuestion("q2", "pay", "", ("oncall-policy", "salary-bands")),
        StubQuestion("q3", "moon", "", (), type="unanswerable"),
    ]
    results = {"leave": [Retrieved(LEAVE, 1.0, 1, "dense")], "pay": [ONCALL, LEAVE]}
    assert retrieval_recall(lambda text: results[text], questions) == [1.0, 0.5]


def test_prototype_store_ranks_by_cosine_and_ignores_access() -> None:
    docs = [
        HandbookDocument(
            id="leave-policy",
            title="Leave",
            team="people",
            version=1,
            updated=date(2026, 1, 1),
            access="internal",
            text="## Annual leave\n\nFull-time staff get 26 days of annual leave a year.\n",
        ),
        HandbookDocument(
            id="salary-bands",
            title="Salary bands",
            team="people",
            version=1,
            updated=date(2026, 1, 1),
            access="restricted",
            text="## Bands\n\nSalary bands and pay ranges are reviewed every March.\n",
        ),
    ]
    store = PrototypeStore.from_documents(docs)
    assert store.embedded_texts == len(store.chunks) >= 2
    top = store.top_k("salary pay ranges", k=1)
    assert [chunk.doc_id for chunk in top] == ["salary-bands"]  # restricted, returned anyway
    assert len(store.top_k("annual leave", k=10)) == len(store.chunks)
