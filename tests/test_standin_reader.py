"""The local model's careful reader: answer units, question types, layouts, refusals.

These pin the behaviours a learner meets when typing their own question: the answer is the
unit that holds the asked-for fact (with its table header), never a heading or an introduction;
context is read the same way whatever its layout; and the model refuses when nothing answers.
"""

from __future__ import annotations

from typing import Any

import pytest

from course_lib.standin import LocalModel
from course_lib.standin.questions import answer_types, holds_type, types_held
from course_lib.standin.reader import read_passages
from course_lib.standin.reading import read_request
from course_lib.standin.units import split_units

TRAVEL = """## Hotels

This section describes hotel budgets for business travel.

| City | Budget per night |
|---|---|
| London, Paris, Zurich | EUR 250 |
| Other cities | EUR 180 |

Book through the travel portal:

- Bookings are scanned daily for duplicates.
- Cancel at least 24 hours ahead to avoid a fee.
"""
ONCALL = "Handover is Monday at 10:00 Europe/Lisbon. The outgoing engineer posts in #sre-oncall."
SYSTEM = (
    "Answer from the passages and cite them in square brackets. If the passages do not answer "
    'the question, say "I don\'t know".'
)


def _chat(model: LocalModel, name: str, messages: list[dict[str, Any]]) -> dict[str, Any]:
    request = {"model": name, "messages": messages}
    return model.answer(request, model.prepare(request))


@pytest.fixture(scope="module")
def model() -> LocalModel:
    return LocalModel()


# -- units ---------------------------------------------------------------------------------


def test_table_rows_carry_their_header_and_header_rows_are_not_units() -> None:
    units = split_units(TRAVEL)
    texts = [u.text for u in units]
    assert "London, Paris, Zurich; Budget per night: EUR 250" in texts
    assert not any(t.startswith("City") for t in texts)
    assert all(u.heading == "Hotels" for u in units)


def test_headings_and_list_lead_ins_are_context_not_units() -> None:
    units = split_units(TRAVEL)
    assert not any(u.text in ("Hotels", "Book through the travel portal") for u in units)
    item = next(u for u in units if u.text.startswith("Cancel"))
    assert (item.kind, item.lead) == ("item", "Book through the travel portal")


# -- question types ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How much can I spend on a hotel in Paris?", "money"),
        ("How long do I have to cancel a booking?", "duration"),
        ("When is the on-call handover?", "time"),
        ("Which Slack channel do I post in?", "channel"),
        ("Who approves a regional failover?", "who"),
    ],
)
def test_questions_ask_for_a_type_of_answer(question: str, kind: str) -> None:
    assert kind in answer_types(question)


def test_yes_no_questions_ask_for_no_type_and_any_text_fits() -> None:
    assert answer_types("Is the office open on Sunday?") == frozenset()
    assert holds_type("anything at all", frozenset())


def test_text_holds_types() -> None:
    assert {"money", "count"} <= types_held("The budget is EUR 250 per night.")
    assert "channel" in types_held("Post in #sre-oncall.")
    assert "money" not in types_held("The budget is set by Finance.")


# -- reading -------------------------------------------------------------------------------


@pytest.mark.parametrize("tier", ["small", "large"])
def test_the_unit_with_the_asked_for_fact_beats_the_introduction(tier: str) -> None:
    reading = read_passages(
        "How much is the hotel budget per night in Paris?", [("travel", TRAVEL)], tier
    )
    assert "EUR 250" in reading.ranked[0].unit.text


@pytest.mark.parametrize("tier", ["small", "large"])
def test_stems_match_simple_variants(tier: str) -> None:
    reading = read_passages("Are duplicate bookings scanned?", [("travel", TRAVEL)], tier)
    assert "scanned daily" in reading.ranked[0].unit.text


def test_a_question_the_passages_do_not_cover_gets_low_confidence() -> None:
    covered = read_passages("How much is a hotel in Paris per night?", [("t", TRAVEL)], "small")
    missing = read_passages("How much parental leave do fathers get?", [("t", TRAVEL)], "small")
    assert missing.confidence < covered.confidence


# -- layouts -------------------------------------------------------------------------------

MEALS = "Meals are reimbursed up to EUR 60 per day. Hotels are capped at EUR 180 per night."
QUESTION = "How much are meals reimbursed per day?"
LAYOUTS = {
    "bracket lines": f"[expenses] {MEALS}\n[oncall] {ONCALL}\n\nQuestion: {QUESTION}",
    "one line": f"Context: [expenses] {MEALS} [oncall] {ONCALL} Question: {QUESTION}",
    "numbered sources": f"Source 1: {MEALS}\nSource 2: {ONCALL}\n\nQuestion: {QUESTION}",
    "unlabelled context": f"Context:\n{MEALS}\n{ONCALL}\n\nQuestion: {QUESTION}",
    "question first": f"Question: {QUESTION}\nContext:\n[expenses] {MEALS}\n[oncall] {ONCALL}",
    "context block": f"<context>\n{MEALS}\n</context>\n{QUESTION}",
    "other markers": f"【1】 {MEALS}\n【2】 {ONCALL}\nQuestion: {QUESTION}",
}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_context_is_read_the_same_in_every_layout(layout: str) -> None:
    read = read_request([{"role": "user", "content": LAYOUTS[layout]}])
    assert read.question == QUESTION
    assert any("EUR 60" in p.text for p in read.passages)


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("name", ["local-small", "local-large"])
def test_answers_come_from_the_context_in_every_layout(
    model: LocalModel, name: str, layout: str
) -> None:
    response = _chat(model, name, [{"role": "user", "content": LAYOUTS[layout]}])
    assert response["course"]["behaviour"] == "grounded"
    assert "EUR 60" in response["choices"][0]["message"]["content"]


@pytest.mark.parametrize("name", ["local-small", "local-large"])
def test_context_in_the_system_message_grounds_the_answer(model: LocalModel, name: str) -> None:
    messages = [
        {"role": "system", "content": f"Use this context.\nContext: [expenses] {MEALS}"},
        {"role": "user", "content": QUESTION},
    ]
    response = _chat(model, name, messages)
    assert "EUR 60" in response["choices"][0]["message"]["content"]


@pytest.mark.parametrize("name", ["local-small", "local-large"])
def test_refuses_when_the_passages_do_not_answer(model: LocalModel, name: str) -> None:
    user = f"[travel] {TRAVEL}\n\nQuestion: How many weeks of parental leave do fathers get?"
    response = _chat(
        model, name, [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]
    )
    assert response["course"]["behaviour"] == "refused"


@pytest.mark.parametrize("tier", ["small", "large"])
def test_a_yes_no_question_is_answered_by_its_rule_not_by_an_amount(tier: str) -> None:
    passage = (
        "Meals are reimbursed up to EUR 60 per day. Hotels are capped at EUR 180 per night. "
        "Taxis are reimbursed only when no public transport runs."
    )
    reading = read_passages("Are taxis reimbursed?", [("expenses", passage)], tier)
    assert reading.ranked[0].unit.text.startswith("Taxis are reimbursed only")


@pytest.mark.parametrize("tier", ["small", "large"])
@pytest.mark.parametrize(
    "question",
    ["Is the office open on Sunday?", "What is the wifi password?", "Can I bring my dog?"],
)
def test_plainly_unrelated_passages_fall_under_the_refusal_threshold(
    tier: str, question: str
) -> None:
    from course_lib.standin.answering import RELEVANCE_THRESHOLD

    reading = read_passages(question, [("travel", TRAVEL), ("oncall", ONCALL)], tier)
    assert reading.confidence < RELEVANCE_THRESHOLD[tier]
