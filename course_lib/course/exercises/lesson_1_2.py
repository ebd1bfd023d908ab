"""Checkers of lesson 1.2, "Prompts and structured output"."""

from __future__ import annotations

import json
from enum import Enum
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from course_lib.course.checking import NotYet, Probe, exercise
from course_lib.datasets import TICKET_CATEGORIES as CATEGORIES, TICKET_PRIORITIES as PRIORITIES
from course_lib.errors import PromptRenderError
from course_lib.structured import extract_json, render_prompt

SOLUTION = "solutions/1_ai_capabilities/12_prompts_and_structured_output.ipynb"


def _short(value: Any, limit: int = 70) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# -- 1.2.1 A few-shot template ----------------------------------------------------------------

FEW_SHOT_TEMPLATE = """You triage support tickets for the Kestrel Freight service desk.

Categories:
{% for name, meaning in categories.items() %}
- {{ name }}: {{ meaning }}
{% endfor %}

Examples:
{% for example in examples %}
Ticket:
{{ example.ticket }}
Answer: {{ example.answer | tojson }}

{% endfor %}
Respond in JSON, like the examples.
category is one of {{ categories | join(", ") }}.
priority is one of P1, P2, P3, P4.
summary is one line, at most 120 characters."""

_ANSWER = {"category": "expenses_travel", "priority": "P3", "summary": "x", "needs_human": False}
_TEMPLATE_CASES: list[tuple[str, dict[str, str], list[dict[str, Any]]]] = [
    (
        "two categories and two examples",
        {
            "expenses_travel": "Claims, refunds and company cards.",
            "incident_report": "A service is down or degraded now: customers are affected.",
        },
        [
            {
                "ticket": "Subject: refund\n\nLedgerly charged my card twice for the Oslo trip.",
                "answer": {**_ANSWER, "summary": "Card charged twice for the Oslo trip"},
            },
            {
                "ticket": "site down!! nobody can book",
                "answer": {
                    "category": "incident_report",
                    "priority": "P1",
                    "summary": "Booking site down for everyone",
                    "needs_human": True,
                },
            },
        ],
    ),
    ("no examples at all", {"expenses_travel": "Claims and refunds."}, []),
    (
        "tickets with quotes, accents and braces",
        {
            "access_request": "Needs a group, a repository or a dataset.",
            "hardware": "A broken or missing laptop, dock or phone.",
            "expenses_travel": "Claims and refunds.",
        },
        [
            {
                "ticket": 'Inês can\'t open the "Finance" share; the error says {{ denied }}.',
                "answer": {
                    "category": "access_request",
                    "priority": "P3",
                    "summary": 'Inês can\'t open the "Finance" share',
                    "needs_human": False,
                },
            },
            {
                "ticket": "my dock died :(",
                "answer": {**_ANSWER, "category": "hardware", "summary": "Dock died"},
            },
            {
                "ticket": "Refund for the Kraków trip, please.",
                "answer": {**_ANSWER, "summary": "Refund for the Kraków trip"},
            },
        ],
    ),
]


def _check_example(
    rendered: str, index: int, example: dict[str, Any], start: int, case: str
) -> int:
    ticket, answer = example["ticket"], example["answer"]
    where = rendered.find(ticket, start)
    if where < 0:
        raise NotYet(
            f"with {case}, the ticket of example {index} does not appear as given (after the "
            f"examples before it); write it with {{{{ example.ticket }}}}."
        )
    after = where + len(ticket)
    brace = rendered.find("{", after)
    try:
        found, end = json.JSONDecoder().raw_decode(rendered, brace) if brace >= 0 else (None, 0)
    except json.JSONDecodeError:
        found, end = None, 0
    if found != answer:
        if repr(answer) in rendered:
            raise NotYet(
                f"with {case}, the answer of example {index} is written as a Python dict "
                "(single quotes, False), not JSON; use the tojson filter: "
                "{{ example.answer | tojson }}."
            )
        raise NotYet(
            f"with {case}, the JSON after the ticket of example {index} is not its answer "
            f"(expected {_short(answer)}); write each answer right after its ticket."
        )
    return end


@exercise(
    "1.2.1",
    title="A few-shot prompt template",
    answer_name="FEW_SHOT_TEMPLATE",
    expects_function=False,
    reference=FEW_SHOT_TEMPLATE,
    solution=SOLUTION,
    hints=(
        "Jinja2 loops over a dict with {% for name, meaning in categories.items() %} ... "
        "{% endfor %}, and over a list with {% for example in examples %}.",
        "Each category goes on its own line as '- name: meaning'. Each example is its ticket "
        "text, {{ example.ticket }}, followed by its answer.",
        "Write the answer with {{ example.answer | tojson }}: without the filter, Jinja2 prints "
        "a Python dict ({'needs_human': False}), which is not JSON.",
    ),
)
def _check_few_shot_template(answer: Any, probe: Probe) -> str:
    if not isinstance(answer, str):
        raise NotYet(
            f"FEW_SHOT_TEMPLATE should be a str holding a Jinja2 template, but it is a "
            f"{type(answer).__name__}."
        )
    for case, categories, examples in _TEMPLATE_CASES:
        try:
            rendered = render_prompt(answer, categories=categories, examples=examples)
        except PromptRenderError as exc:
            raise NotYet(
                f"with {case}, rendering failed: {exc} (the template gets only categories "
                "and examples)."
            ) from None
        lines = {line.strip() for line in rendered.splitlines()}
        for name, meaning in categories.items():
            if f"- {name}: {meaning}" not in lines:
                raise NotYet(
                    f"with {case}, there is no line '- {name}: {meaning[:30]}...'; list every "
                    "category on its own line with its meaning."
                )
        position = 0
        for index, example in enumerate(examples, start=1):
            position = _check_example(rendered, index, example, position, case)
    return (
        f"the template renders all {len(_TEMPLATE_CASES)} hidden cases: every category with "
        "its meaning, every example with its answer as JSON, in order."
    )


# -- 1.2.2 Find the JSON in a reply -----------------------------------------------------------

_OBJ = {"category": "login_mfa", "priority": "P2", "service": None, "needs_human": False}
_NESTED = {"category": "deploy_ci", "details": {"tool": "kctl", "exit": 1}, "needs_human": True}
_BRACES = {"summary": "CI says: expected '}' at line 3", "category": "deploy_ci"}

_PARSE_CASES: list[tuple[str, dict[str, Any], str]] = [
    (json.dumps(_OBJ), _OBJ, "plain JSON"),
    (f"```json\n{json.dumps(_OBJ, indent=2)}\n```", _OBJ, "a ```json fence"),
    (f"```\n{json.dumps(_OBJ)}\n```", _OBJ, "a fence without a language"),
    (f"Here is the triage you asked for:\n{json.dumps(_OBJ)}", _OBJ, "a preamble"),
    (f"{json.dumps(_OBJ)}\n// inferred from the subject line", _OBJ, "a trailing comment"),
    (f"{json.dumps(_NESTED)}\n\nHope this helps!", _NESTED, "a nested object and prose after"),
    (
        f"{json.dumps(_BRACES)}\n// note: the summary quotes a '}}'",
        _BRACES,
        "braces inside a string and in a comment after",
    ),
    (
        f"Using the format {{key: value}} you gave:\n{json.dumps(_OBJ)}",
        _OBJ,
        "braces in the preamble",
    ),
]
_NO_OBJECT: list[tuple[str, str]] = [
    ("Sorry, I can't triage this ticket.", "prose only"),
    ('{"category": "login_mfa", "priority": "P2", "summ', "a truncated object"),
    ('["login_mfa", "P2"]', "a list, not an object"),
    ("", "an empty reply"),
]


@exercise(
    "1.2.2",
    title="Find the JSON in a reply",
    answer_name="parse_json_reply",
    reference=extract_json,
    solution=SOLUTION,
    hints=(
        "json.loads needs the text to be exactly one JSON value. Find where the object starts "
        "(a '{') instead of stripping each kind of wrapper one by one.",
        "json.JSONDecoder().raw_decode(text, start) parses one JSON value starting at index "
        "`start` and ignores whatever follows it. Regular expressions on braces break on "
        "nested objects and on braces inside strings.",
        "Try raw_decode at each '{' in turn (text.find('{', i + 1)) and return the first value "
        "that is a dict; if none decodes, raise ValueError with a message that says why.",
    ),
)
def _check_parse_json_reply(answer: Any, probe: Probe) -> str:
    for text, expected, why in _PARSE_CASES:
        call = probe.describe_call(text)
        got = probe.call(answer, text)
        probe.expect_type(got, dict, f"with {why}, {call}")
        probe.expect_equal(got, expected, f"with {why}, {call}")
    for text, why in _NO_OBJECT:
        call = probe.describe_call(text)
        try:
            got = answer(text)
        except NotImplementedError:
            raise NotYet(
                "parse_json_reply still raises NotImplementedError; replace the stub with "
                "your code."
            ) from None
        except ValueError:
            continue
        except Exception as exc:
            raise NotYet(
                f"for {why}, {call} raised {type(exc).__name__}; raise ValueError (or "
                "json.JSONDecodeError, a ValueError) so callers can catch one error type."
            ) from None
        raise NotYet(
            f"for {why}, {call} returned {_short(got)} instead of raising ValueError; a "
            "reply without a JSON object must not pass for an answer."
        )
    return (
        f"parse_json_reply finds the object in all {len(_PARSE_CASES)} wrapped replies and "
        f"raises ValueError for all {len(_NO_OBJECT)} without one."
    )


# -- 1.2.3 The triage schema ------------------------------------------------------------------

# The enums are given in the exercise cell; the reference model below is the answer.
Category = Enum("Category", {name: name for name in CATEGORIES}, type=str)  # type: ignore[misc]
Priority = Enum("Priority", {name: name for name in PRIORITIES}, type=str)  # type: ignore[misc]


class TicketTriage(BaseModel):
    """How the service desk routes one ticket."""

    category: Category
    priority: Priority
    service: str | None = None
    summary: str = Field(max_length=120)
    needs_human: bool


_GOOD: dict[str, Any] = {
    "category": "login_mfa",
    "priority": "P2",
    "service": "auth-service",
    "summary": "Locked out of Okta after a phone change",
    "needs_human": True,
}
_FIELDS = ("category", "priority", "service", "summary", "needs_human")


def _without(key: str) -> dict[str, Any]:
    return {k: v for k, v in _GOOD.items() if k != key}


_VALID: list[tuple[dict[str, Any], str]] = [
    (_GOOD, "a complete, correct triage"),
    (_without("service"), "service may be left out (many tickets name no service)"),
    ({**_GOOD, "service": None}, "service may be null"),
    ({**_GOOD, "summary": "s" * 120}, "a summary of exactly 120 characters is allowed"),
    ({**_GOOD, "category": "hr_people", "priority": "P4", "needs_human": False}, "other values"),
]
_MISSING = object()
# (field, value or _MISSING, why it must be rejected)
_INVALID: list[tuple[str, Any, str]] = [
    ("category", "Login Mfa", "a near-miss of a category is not a category"),
    ("category", "billing", "it is not one of the ten categories"),
    ("priority", "P5", "priorities go from P1 to P4"),
    ("priority", "p2", "priorities are written P1-P4, upper case"),
    ("summary", "s" * 121, "a summary may be at most 120 characters"),
    ("summary", _MISSING, "summary is required"),
    ("summary", ["Locked out of Okta"], "summary must be a string"),
    ("needs_human", "Yes.", "needs_human must be a boolean"),
    ("needs_human", _MISSING, "needs_human is required"),
    ("category", _MISSING, "category is required"),
    ("priority", _MISSING, "priority is required"),
]


def _payload(field: str, value: Any) -> dict[str, Any]:
    return _without(field) if value is _MISSING else {**_GOOD, field: value}


def _describe(field: str, value: Any) -> str:
    if value is _MISSING:
        return f"a triage without {field}"
    if isinstance(value, str) and len(value) > 40:
        return f"a triage with a {field} of {len(value)} characters"
    return f"a triage with {field}={value!r}"


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


@exercise(
    "1.2.3",
    title="The triage schema",
    answer_name="TicketTriage",
    expects_function=False,
    reference=TicketTriage,
    solution=SOLUTION,
    hints=(
        "Each field is a class attribute with a type: `category: Category`. A field with a "
        "default (`= None`) is optional; a field without one is required.",
        "`service: str | None = None` makes service optional and nullable. "
        "`Field(max_length=120)` limits the summary.",
        "category: Category, priority: Priority, service: str | None = None, "
        "summary: str = Field(max_length=120), needs_human: bool.",
    ),
)
def _check_ticket_triage(answer: Any, probe: Probe) -> str:
    if not (isinstance(answer, type) and issubclass(answer, BaseModel)):
        raise NotYet(
            "TicketTriage should be a class that subclasses pydantic's BaseModel "
            f"(got {_short(answer)})."
        )
    fields = getattr(answer, "model_fields", {})
    missing = [name for name in _FIELDS if name not in fields]
    if missing:
        raise NotYet(f"TicketTriage has no field {missing[0]!r}; it needs {', '.join(_FIELDS)}.")
    for payload, why in _VALID:
        try:
            value = answer.model_validate(payload)
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            where = ".".join(str(p) for p in first["loc"])
            raise NotYet(
                f"TicketTriage rejected a valid triage ({why}): {where}: {first['msg']}."
            ) from None
        except Exception as exc:
            raise NotYet(
                f"validating {_short(payload)} raised {type(exc).__name__}: {exc}."
            ) from None
        for name in _FIELDS:
            got = _plain(getattr(value, name))
            expected = payload.get(name)
            if got != expected:
                raise NotYet(
                    f"TicketTriage turned {name}={expected!r} into {got!r} ({why}); keep the "
                    "values as given."
                )
    for field, bad, why in _INVALID:
        try:
            answer.model_validate(_payload(field, bad))
        except ValidationError:
            continue
        except Exception as exc:
            raise NotYet(
                f"validating {_describe(field, bad)} raised {type(exc).__name__} instead of a "
                "pydantic ValidationError."
            ) from None
        raise NotYet(f"TicketTriage accepted {_describe(field, bad)}, but {why}.")
    try:
        answer.model_json_schema()
    except Exception as exc:
        raise NotYet(
            f"TicketTriage.model_json_schema() raised {type(exc).__name__}: the model needs "
            "a JSON schema to send as response_format."
        ) from None
    return (
        f"TicketTriage accepts all {len(_VALID)} good triages and rejects all "
        f"{len(_INVALID)} bad ones."
    )
