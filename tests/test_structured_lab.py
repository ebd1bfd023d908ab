"""Lesson 1.2's lab: the ticket split, failure kinds, repair costs and the triage policy run."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel

from course_lib.labs.structured_lab import (
    CallsCapReachedError,
    NoStrictClient,
    StrictModeUnavailableError,
    cost_row,
    held_out_tickets,
    json_wrapping,
    kinds_table,
    lesson_tickets,
    repair_report,
)
from course_lib.standin import local_client
from course_lib.structured import generate_structured, response_format_for


class Triage(BaseModel):
    summary: str
    needs_human: bool
    service: str | None = None


def _policy(max_repairs: int, **options: Any) -> Any:
    def triage(client: Any, schema: Any, subject: str, body: str, seed: int) -> Any:
        messages = [{"role": "user", "content": f"Subject: {subject}\n\n{body}"}]
        return generate_structured(
            client, messages, schema, max_repairs=max_repairs, seed=seed, **options
        )

    return triage


def test_the_held_out_tickets_never_meet_the_lesson_sample() -> None:
    sample, held_out = lesson_tickets(), held_out_tickets()
    assert len(sample) == 200 and len(held_out) == 520
    assert not set(sample["id"]) & set(held_out["id"])
    assert lesson_tickets(80).equals(sample.head(80))


@pytest.mark.parametrize(
    ("reply", "kind"),
    [
        ('{"a": 1}', "plain JSON"),
        ('```json\n{"a": 1}\n```', "in a code fence"),
        ('Here it is:\n{"a": 1}', "after a preamble"),
        ('{"a": 1}\n// a guess', "with a comment after it"),
        ('{"a": ', "broken JSON (cut off or invalid)"),
    ],
)
def test_json_wrapping_names_how_a_reply_was_wrapped(reply: str, kind: str) -> None:
    assert json_wrapping(reply) == kind


def test_kinds_are_counted_once_per_reply_and_ties_sort_by_name() -> None:
    table = kinds_table([["missing", "missing", "enum"], ["enum"], [], ["bool_parsing"]])
    assert table["replies"].to_dict() == {"enum": 2, "bool_parsing": 1, "missing": 1}
    assert list(table.index) == ["enum", "bool_parsing", "missing"]


def test_cost_row_counts_first_calls_without_repair_and_every_call_with_it() -> None:
    client = local_client()
    texts = [f"Ticket {i}: my laptop screen flickers, I need a new one." for i in range(6)]
    results = [
        generate_structured(client, t, Triage, seed=i, strict=False) for i, t in enumerate(texts)
    ]
    with_repair = cost_row(results, repair=True)
    without = cost_row(results, repair=False)
    assert with_repair["calls/ticket"] == pytest.approx(
        sum(r.attempts for r in results) / 6, abs=1e-3
    )
    assert without["calls/ticket"] == 1.0
    total = sum(Decimal(r.cost_usd).quantize(Decimal("1e-10")) for r in results)
    valid = sum(r.ok for r in results)
    assert with_repair["$ per 1,000 valid"] == pytest.approx(float(1000 * total / valid), abs=1e-4)


def test_the_no_strict_client_refuses_strict_mode_in_one_line() -> None:
    client = NoStrictClient(local_client())
    with pytest.raises(StrictModeUnavailableError, match="strict=False") as caught:
        client.chat("x", response_format=response_format_for(Triage))
    assert "\n" not in str(caught.value) and client.calls == 0


def test_the_report_measures_the_worst_case_and_stops_unbounded_loops() -> None:
    tickets = held_out_tickets().head(20)
    two = repair_report(_policy(2, strict=False), Triage, tickets, seed=5)
    assert two.tickets == 20 and two.outage_calls == 3 and two.most_calls <= 3
    assert two.valid_share >= 0.9 and two.calls >= 20
    assert "worst case 3 calls/ticket" in two.line()

    def unbounded(client: Any, schema: Any, subject: str, body: str, seed: int) -> Any:
        while True:
            result = generate_structured(client, subject, schema, max_repairs=0, strict=False)
            if result.ok:
                return result

    with pytest.raises(CallsCapReachedError):
        repair_report(unbounded, Triage, tickets.head(2))


def test_a_triage_made_without_the_model_is_not_counted_valid() -> None:
    def made_up(client: Any, schema: Any, subject: str, body: str, seed: int) -> Any:
        return schema(summary=subject, needs_human=False)

    report = repair_report(made_up, Triage, held_out_tickets().head(5))
    assert report.valid == 0 and report.calls == 0


def test_a_made_up_default_after_a_failed_call_is_invented_not_valid() -> None:
    def default_on_failure(client: Any, schema: Any, subject: str, body: str, seed: int) -> Any:
        messages = [{"role": "user", "content": f"Subject: {subject}\n\n{body}"}]
        result = generate_structured(
            client, messages, schema, max_repairs=0, seed=seed, strict=False
        )
        return result if result.ok else schema(summary=subject, needs_human=True)

    tickets = held_out_tickets().head(20)
    report = repair_report(default_on_failure, Triage, tickets, seed=5)
    honest = repair_report(_policy(0, strict=False), Triage, tickets, seed=5)
    assert report.valid == honest.valid < 20  # the model's own triages still count
    assert report.invented == 20 - honest.valid + 3  # every default, the worst case's included
    assert honest.invented == 0


def test_a_triage_from_any_choice_of_a_request_counts_valid() -> None:
    def last_valid_choice(client: Any, schema: Any, subject: str, body: str, seed: int) -> Any:
        from course_lib.structured import validate_output

        form = response_format_for(schema, strict=False)
        reply = client.chat(f"Subject: {subject}\n\n{body}", seed=seed, n=3, response_format=form)
        checked = [validate_output(c["message"]["content"], schema) for c in reply.raw["choices"]]
        return next((c.value for c in reversed(checked) if c.ok), None)

    report = repair_report(last_valid_choice, Triage, held_out_tickets().head(10), seed=5)
    assert report.valid > 0 and report.invented == 0


def test_a_request_for_n_choices_counts_n_calls() -> None:
    client = NoStrictClient(local_client())
    client.start_ticket()
    client.chat("My laptop screen flickers.", n=3)
    assert client.calls == 3 and client.ticket_calls == 3
    with pytest.raises(CallsCapReachedError):
        client.chat("My laptop screen flickers.", n=8)


def _small_then_large(client: Any, schema: Any, subject: str, body: str, seed: int) -> Any:
    messages = [{"role": "user", "content": f"Subject: {subject}\n\n{body}"}]
    first = generate_structured(
        client, messages, schema, model="chat-small", max_repairs=0, seed=seed, strict=False
    )
    if first.ok:
        return first
    return generate_structured(
        client, messages, schema, model="chat-large", max_repairs=1, seed=seed, strict=False
    )


def _fresh_seeds(client: Any, schema: Any, subject: str, body: str, seed: int) -> Any:
    messages = [{"role": "user", "content": f"Subject: {subject}\n\n{body}"}]
    for attempt in range(3):
        result = generate_structured(
            client, messages, schema, max_repairs=0, seed=seed + 7_919 * attempt, strict=False
        )
        if result.ok:
            break
    return result


def _terse_repairs(client: Any, schema: Any, subject: str, body: str, seed: int) -> Any:
    return generate_structured(
        client,
        f"Subject: {subject}\n\n{body}",
        schema,
        max_repairs=2,
        seed=seed,
        strict=False,
        repair_message=lambda problems: "That did not validate. Reply with the JSON only.",
    )


@pytest.mark.parametrize(
    "policy",
    [_policy(2, strict=False), _small_then_large, _fresh_seeds, _terse_repairs],
    ids=["two repairs", "large-model fallback", "fresh seeds", "terse repair message"],
)
def test_exercise_1_2_3_has_more_than_one_route(policy: Any) -> None:
    """The open-ended exercise bounds the bill, not the route: materially different policies
    pass its checker (its wrong answers, in tests/wrong_answers, are the ones that must not)."""
    from course_lib.course.checking import evaluate

    feedback = evaluate("1.2.3", policy)
    assert feedback.solved, feedback.line


def _kind_by_extract_json(reply: str, schema: Any) -> str:
    """A fair answer to exercise 1.2.2: "no JSON object" is whatever extract_json cannot find."""
    from course_lib.structured import extract_json, validate_output

    if validate_output(reply, schema, extract=False).ok:
        return "valid"
    try:
        extract_json(reply)
    except ValueError:
        return "no JSON object"
    return "wrapped" if validate_output(reply, schema).ok else "breaks the schema"


def test_exercise_1_2_2_accepts_extract_json_for_no_json_object() -> None:
    from course_lib.course.checking import evaluate

    feedback = evaluate("1.2.2", _kind_by_extract_json)
    assert feedback.solved, feedback.line


def test_exercise_1_2_1_accepts_a_ticket_on_its_label_line_and_extra_blank_lines() -> None:
    from course_lib.course.checking import evaluate
    from course_lib.labs.structured_lab import FEW_SHOT_TEMPLATE

    variant = FEW_SHOT_TEMPLATE.replace(
        "Ticket:\n{{ example.ticket }}\nAnswer:", "Ticket: {{ example.ticket }}\n\nAnswer:"
    ).replace("Respond in JSON", "\nRespond in JSON")
    assert variant != FEW_SHOT_TEMPLATE
    feedback = evaluate("1.2.1", variant)
    assert feedback.solved, feedback.line


@pytest.mark.parametrize(
    ("old", "new", "says"),
    [
        ("Ticket:\n{{ example.ticket }}", "{{ example.ticket }}", "no 'Ticket:' label"),
        ("Answer: {{", "{{", "does not follow 'Answer: '"),
        ("Respond in JSON, like the examples.\n", "", "closing line"),
        ("| tojson }}", "| tojson(indent=2) }}", "on one line"),
    ],
)
def test_exercise_1_2_1_names_a_missing_label_or_closing_line(
    old: str, new: str, says: str
) -> None:
    from course_lib.course.checking import evaluate
    from course_lib.labs.structured_lab import FEW_SHOT_TEMPLATE

    assert old in FEW_SHOT_TEMPLATE
    feedback = evaluate("1.2.1", FEW_SHOT_TEMPLATE.replace(old, new))
    assert not feedback.solved and says in feedback.line, feedback.line


def test_exercise_1_2_1_says_to_keep_the_examples_in_order() -> None:
    from course_lib.course.checking import evaluate
    from course_lib.labs.structured_lab import FEW_SHOT_TEMPLATE

    reversed_examples = FEW_SHOT_TEMPLATE.replace(
        "{% for example in examples %}", "{% for example in examples | reverse %}"
    )
    feedback = evaluate("1.2.1", reversed_examples)
    assert not feedback.solved
    assert "example 2's ticket comes before example 1's; keep the examples in order" in (
        feedback.line
    )
