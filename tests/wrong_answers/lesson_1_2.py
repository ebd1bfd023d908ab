"""Plausible wrong answers to lesson 1.2's exercises; each must be rejected by its checker."""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from pydantic import BaseModel, Field

from course_lib.course.exercises.lesson_1_2 import FEW_SHOT_TEMPLATE, Category, Priority
from course_lib.structured import extract_json

# -- 1.2.1 ------------------------------------------------------------------------------------

_PYTHON_REPR = FEW_SHOT_TEMPLATE.replace("{{ example.answer | tojson }}", "{{ example.answer }}")
_NAMES_ONLY = FEW_SHOT_TEMPLATE.replace(
    "{% for name, meaning in categories.items() %}\n- {{ name }}: {{ meaning }}\n{% endfor %}",
    "{% for name in categories %}\n- {{ name }}\n{% endfor %}",
)
_UNDEFINED_TICKET = FEW_SHOT_TEMPLATE + "\n\nTicket:\n{{ ticket }}"
_FIRST_EXAMPLE_ONLY = FEW_SHOT_TEMPLATE.replace(
    "{% for example in examples %}\nTicket:\n{{ example.ticket }}\n"
    "Answer: {{ example.answer | tojson }}\n\n{% endfor %}",
    "Ticket:\n{{ examples[0].ticket }}\nAnswer: {{ examples[0].answer | tojson }}\n",
)
_REVERSED = FEW_SHOT_TEMPLATE.replace(
    "{% for example in examples %}", "{% for example in examples | reverse %}"
)
_ANSWER_BEFORE_TICKET = FEW_SHOT_TEMPLATE.replace(
    "Ticket:\n{{ example.ticket }}\nAnswer: {{ example.answer | tojson }}",
    "Answer: {{ example.answer | tojson }}\nTicket:\n{{ example.ticket }}",
)
assert len({_PYTHON_REPR, _NAMES_ONLY, _FIRST_EXAMPLE_ONLY, _REVERSED, FEW_SHOT_TEMPLATE}) == 5
assert _ANSWER_BEFORE_TICKET != FEW_SHOT_TEMPLATE


# -- 1.2.2 ------------------------------------------------------------------------------------


def _json_loads(text: str) -> dict[str, Any]:
    return json.loads(text)


def _strip_fences_then_loads(text: str) -> dict[str, Any]:
    body = re.sub(r"^```(?:json)?\s*|\s*```$", "", text.strip())
    return json.loads(body)


def _greedy_regex(text: str) -> dict[str, Any]:
    match = re.search(r"\{.*\}", text, re.S)
    if match is None:
        raise ValueError("no JSON object")
    return json.loads(match.group(0))


def _lazy_regex(text: str) -> dict[str, Any]:
    match = re.search(r"\{.*?\}", text, re.S)
    if match is None:
        raise ValueError("no JSON object")
    return json.loads(match.group(0))


def _first_to_last_brace(text: str) -> dict[str, Any]:
    return json.loads(text[text.index("{") : text.rindex("}") + 1])


def _none_when_missing(text: str) -> dict[str, Any] | None:
    try:
        return extract_json(text)
    except ValueError:
        return None


def _empty_dict_when_missing(text: str) -> dict[str, Any]:
    try:
        return extract_json(text)
    except ValueError:
        return {}


# -- 1.2.3 ------------------------------------------------------------------------------------


class _NoMaxLength(BaseModel):
    category: Category  # type: ignore[valid-type]
    priority: Priority  # type: ignore[valid-type]
    service: str | None = None
    summary: str
    needs_human: bool


class _ServiceRequired(BaseModel):
    category: Category  # type: ignore[valid-type]
    priority: Priority  # type: ignore[valid-type]
    service: str | None
    summary: str = Field(max_length=120)
    needs_human: bool


class _CategoryAnyString(BaseModel):
    category: str
    priority: Priority  # type: ignore[valid-type]
    service: str | None = None
    summary: str = Field(max_length=120)
    needs_human: bool


class _NeedsHumanString(BaseModel):
    category: Category  # type: ignore[valid-type]
    priority: Priority  # type: ignore[valid-type]
    service: str | None = None
    summary: str = Field(max_length=120)
    needs_human: str


class _PriorityLowerCaseToo(BaseModel):
    category: Category  # type: ignore[valid-type]
    priority: Literal["P1", "P2", "P3", "P4", "p1", "p2", "p3", "p4"]
    service: str | None = None
    summary: str = Field(max_length=120)
    needs_human: bool


class _SummaryOptional(BaseModel):
    category: Category  # type: ignore[valid-type]
    priority: Priority  # type: ignore[valid-type]
    service: str | None = None
    summary: str = Field(default="", max_length=120)
    needs_human: bool


class _NoServiceField(BaseModel):
    category: Category  # type: ignore[valid-type]
    priority: Priority  # type: ignore[valid-type]
    summary: str = Field(max_length=120)
    needs_human: bool


WRONG_ANSWERS: dict[str, list[Any]] = {
    "1.2.1": [
        _PYTHON_REPR,
        _NAMES_ONLY,
        _UNDEFINED_TICKET,
        _FIRST_EXAMPLE_ONLY,
        _REVERSED,
        _ANSWER_BEFORE_TICKET,
        ["- expenses_travel: Claims and refunds."],
    ],
    "1.2.2": [
        _json_loads,
        _strip_fences_then_loads,
        _greedy_regex,
        _lazy_regex,
        _first_to_last_brace,
        _none_when_missing,
        _empty_dict_when_missing,
    ],
    "1.2.3": [
        _NoMaxLength,
        _ServiceRequired,
        _CategoryAnyString,
        _NeedsHumanString,
        _PriorityLowerCaseToo,
        _SummaryOptional,
        _NoServiceField,
        {"category": "login_mfa"},
    ],
}
