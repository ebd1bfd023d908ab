"""Pairwise judging: which of two answers is better, asked in both orders.

A pairwise judge sees two answers side by side and names the better one. Judges are known to
lean towards the answer shown first (or second): Zheng et al. (2023) call it position bias.
The cheap defence is to ask twice with the answers swapped and to count a preference only
when both orders agree; a verdict that flips with the order is the position talking.

>>> preference = judge_both_orders(client, question=q, reference=r, a=one, b=other)
>>> preference.preferred          # "a", "b", or None when the verdict followed the position
"""

from __future__ import annotations

import json
import string
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from course_lib.errors import UnparseableVerdictError

if TYPE_CHECKING:
    from course_lib.llm.client import LLMClient

__all__ = [
    "PAIRWISE_RESPONSE_FORMAT",
    "PAIRWISE_TEMPLATE",
    "PairwisePreference",
    "judge_both_orders",
    "judge_pair",
    "parse_pair_verdict",
]

PAIRWISE_TEMPLATE = (
    "You are a judge comparing two answers to a question about the company handbook.\n"
    "Name the answer that states the reference's key facts better, A or B, as JSON.\n"
    "\n"
    "Question: {question}\n"
    "Reference answer: {reference}\n"
    "Answer A: {first}\n"
    "Answer B: {second}\n"
)
"""The pairwise prompt; ``{question}``, ``{reference}``, ``{first}``, ``{second}`` filled in."""

_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "winner": {"type": "string", "enum": ["A", "B"]},
        "reason": {"type": "string"},
    },
    "required": ["winner", "reason"],
    "additionalProperties": False,
}

PAIRWISE_RESPONSE_FORMAT: dict[str, Any] = {
    "type": "json_schema",
    "json_schema": {"name": "pairwise_verdict", "strict": True, "schema": _SCHEMA},
}
"""The ``response_format`` that asks for ``{"winner": "A" | "B", "reason": ...}``."""

_FIELDS = ("question", "reference", "first", "second")


def parse_pair_verdict(text: str | None) -> Literal["A", "B"]:
    """The winner ("A" or "B") named by a pairwise judge's JSON reply.

    Raises:
        UnparseableVerdictError: the reply is not JSON or names no winner A or B.
    """
    raw = text or ""
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise UnparseableVerdictError(f"it is not JSON ({exc.msg})", raw) from None
    winner = value.get("winner") if isinstance(value, dict) else None
    if winner not in ("A", "B"):
        raise UnparseableVerdictError(f"winner must be 'A' or 'B', got {winner!r}", raw)
    return "A" if winner == "A" else "B"


def judge_pair(
    client: LLMClient,
    *,
    question: str,
    reference: str,
    first: str,
    second: str,
    model: str = "judge",
    template: str = PAIRWISE_TEMPLATE,
) -> Literal["A", "B"]:
    """Ask the judge, at temperature 0, which answer is better: "A" (``first``) or "B".

    Raises:
        ValueError: ``template`` lacks one of its four fields.
        UnparseableVerdictError: the judge's reply names no winner.
    """
    fields = {name for _, name, _, _ in string.Formatter().parse(template) if name}
    missing = [f for f in _FIELDS if f not in fields]
    if missing:
        raise ValueError(
            f"the pairwise template has no {{{missing[0]}}} field; it needs "
            "{question}, {reference}, {first} and {second}."
        )
    prompt = template.format(question=question, reference=reference, first=first, second=second)
    result = client.chat(
        prompt,
        model=model,
        temperature=0,
        response_format=PAIRWISE_RESPONSE_FORMAT,
        prompt_version="judge-pairwise",
    )
    return parse_pair_verdict(result.content)


@dataclass(frozen=True)
class PairwisePreference:
    """The verdicts on answers ``a`` and ``b`` asked in both orders (a first, then b first)."""

    a_first: Literal["a", "b"]  # the answer preferred when a was shown as A
    b_first: Literal["a", "b"]  # the answer preferred when b was shown as A

    @property
    def consistent(self) -> bool:
        """Both orders prefer the same answer."""
        return self.a_first == self.b_first

    @property
    def preferred(self) -> Literal["a", "b"] | None:
        """The answer both orders prefer; None when the verdict followed the position."""
        return self.a_first if self.consistent else None


def judge_both_orders(
    client: LLMClient, *, question: str, reference: str, a: str, b: str, model: str = "judge"
) -> PairwisePreference:
    """Judge ``a`` against ``b`` twice, swapping their positions, to expose position bias."""
    ask = {"question": question, "reference": reference, "model": model}
    first = judge_pair(client, first=a, second=b, **ask)
    second = judge_pair(client, first=b, second=a, **ask)
    return PairwisePreference(
        a_first="a" if first == "A" else "b", b_first="b" if second == "A" else "a"
    )
