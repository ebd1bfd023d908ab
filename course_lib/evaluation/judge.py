"""Model-as-judge: grade an answer against a reference answer with a model, and read its verdict.

A judge is a model, so it is one more thing to evaluate. Before trusting its numbers, compare
its verdicts with labels you trust (Cohen's kappa, and its pass rate on known-right and
known-wrong answers), and probe the biases judges are known to have, such as favouring longer
answers (Zheng et al., 2023, "Judging LLM-as-a-Judge with MT-Bench and Chatbot Arena").

>>> verdict = grade(client, question=q.question, reference=q.answer, answer=candidate)
>>> verdict.score, verdict.passed, verdict.reason
>>> graded = grade_all(client, frame)        # adds judge_score, judge_passed, ... columns

The judge is asked for JSON that follows :data:`VERDICT_SCHEMA`, at temperature 0, through the
``judge`` role of the model registry. A reply that cannot be read raises
:class:`UnparseableVerdictError` with the raw text; :func:`grade_all` records it instead, so one
bad reply does not lose a whole grading run.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from course_lib.errors import UnparseableVerdictError

if TYPE_CHECKING:
    import pandas as pd

    from course_lib.llm.client import ChatResult, LLMClient

__all__ = [
    "JUDGE_TEMPLATE",
    "RESPONSE_FORMAT",
    "VERDICT_SCHEMA",
    "GradedAnswer",
    "JudgeVerdict",
    "UnparseableVerdictError",
    "grade",
    "grade_all",
    "judge_prompt",
    "parse_verdict",
]

JUDGE_TEMPLATE = (
    "You are grading an answer to a question about the company handbook.\n"
    "Compare the candidate answer with the reference answer. It passes when it states the "
    "reference's key facts; it fails when a key fact is missing or different.\n"
    "Rate it from 1 to 5 and give your verdict as JSON.\n"
    "\n"
    "Question: {question}\n"
    "Reference answer: {reference}\n"
    "Candidate answer: {answer}\n"
)
"""The judge prompt; ``{question}``, ``{reference}`` and ``{answer}`` are filled in."""

SCORE_RANGE = (1, 5)

VERDICT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "score": {
            "type": "integer",
            "minimum": SCORE_RANGE[0],
            "maximum": SCORE_RANGE[1],
            "description": "1: wrong or unrelated; 3: partly right; 5: every key fact right",
        },
        "passed": {"type": "boolean", "description": "true when the key facts are right"},
        "reason": {"type": "string", "description": "one sentence on why"},
    },
    "required": ["score", "passed", "reason"],
    "additionalProperties": False,
}
"""The JSON a verdict must follow."""

RESPONSE_FORMAT: dict[str, Any] = {
    "type": "json_schema",
    "json_schema": {"name": "judge_verdict", "strict": True, "schema": VERDICT_SCHEMA},
}
"""The Chat Completions ``response_format`` that asks for :data:`VERDICT_SCHEMA`."""

_FIELDS = ("question", "reference", "answer")
_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.S | re.I)


@dataclass(frozen=True)
class JudgeVerdict:
    """A judge's verdict on one answer."""

    score: int  # 1 (wrong) to 5 (every key fact right)
    passed: bool
    reason: str


@dataclass(frozen=True)
class GradedAnswer:
    """A verdict and the judge call that produced it (its tokens and cost)."""

    verdict: JudgeVerdict
    result: ChatResult


def judge_prompt(
    question: str, reference: str, answer: str, *, template: str = JUDGE_TEMPLATE
) -> str:
    """The judge prompt for one answer.

    Raises:
        ValueError: ``template`` lacks a ``{question}``, ``{reference}`` or ``{answer}`` field.
    """
    fields = {name for _, name, _, _ in string.Formatter().parse(template) if name}
    missing = [f for f in _FIELDS if f not in fields]
    if missing:
        raise ValueError(
            f"the judge template has no {{{missing[0]}}} field; it needs {{question}}, "
            "{reference} and {answer}."
        )
    return template.format(question=question, reference=reference, answer=answer)


def _json_text(text: str) -> str:
    """The JSON object in a reply, tolerating a code fence or a sentence around it."""
    fenced = _FENCE.search(text)
    if fenced:
        text = fenced.group(1)
    start, end = text.find("{"), text.rfind("}")
    return text[start : end + 1] if 0 <= start < end else text


def parse_verdict(text: str | None) -> JudgeVerdict:
    """Read a judge's reply as a :class:`JudgeVerdict`.

    A code fence or a sentence around the JSON is tolerated, as real models add them; a
    missing field, a wrong type or a score out of range is not.

    Raises:
        UnparseableVerdictError: the reply is empty, not JSON, or does not follow the schema.
    """
    raw = text or ""
    if not raw.strip():
        raise UnparseableVerdictError("the reply is empty", raw)
    try:
        value = json.loads(_json_text(raw))
    except json.JSONDecodeError as exc:
        raise UnparseableVerdictError(f"it is not JSON ({exc.msg})", raw) from None
    if not isinstance(value, dict):
        raise UnparseableVerdictError(f"it is a JSON {type(value).__name__}, not an object", raw)
    missing = [key for key in VERDICT_SCHEMA["required"] if key not in value]
    if missing:
        raise UnparseableVerdictError(f"the field {missing[0]!r} is missing", raw)
    score, passed, reason = value["score"], value["passed"], value["reason"]
    if isinstance(score, float) and score.is_integer():
        score = int(score)
    if isinstance(score, bool) or not isinstance(score, int):
        raise UnparseableVerdictError(f"score must be a whole number, got {score!r}", raw)
    low, high = SCORE_RANGE
    if not low <= score <= high:
        raise UnparseableVerdictError(f"score must be from {low} to {high}, got {score}", raw)
    if not isinstance(passed, bool):
        raise UnparseableVerdictError(f"passed must be true or false, got {passed!r}", raw)
    if not isinstance(reason, str):
        raise UnparseableVerdictError(f"reason must be text, got {reason!r}", raw)
    return JudgeVerdict(score=score, passed=passed, reason=reason)


def _ask(
    client: LLMClient,
    question: str,
    reference: str,
    answer: str,
    *,
    model: str,
    template: str,
    seed: int | None,
) -> ChatResult:
    return client.chat(
        judge_prompt(question, reference, answer, template=template),
        model=model,
        temperature=0,
        seed=seed,
        response_format=RESPONSE_FORMAT,
        prompt_version="judge",
    )


def grade(
    client: LLMClient,
    *,
    question: str,
    reference: str,
    answer: str,
    model: str = "judge",
    template: str = JUDGE_TEMPLATE,
    seed: int | None = None,
) -> GradedAnswer:
    """Ask the judge model to grade ``answer`` against ``reference``, at temperature 0.

    Raises:
        UnparseableVerdictError: the judge's reply is not a verdict.
        The client's errors (rate limits, timeouts...) once its retry policy gives up.
    """
    result = _ask(client, question, reference, answer, model=model, template=template, seed=seed)
    return GradedAnswer(parse_verdict(result.content), result)


def grade_all(
    client: LLMClient,
    frame: pd.DataFrame,
    *,
    columns: Mapping[str, str] | None = None,
    model: str = "judge",
    template: str = JUDGE_TEMPLATE,
    on_error: Literal["record", "raise"] = "record",
) -> pd.DataFrame:
    """Grade every row of ``frame``; return a copy with the judge's columns added.

    Args:
        frame: one row per answer, with ``question``, ``reference`` and ``answer`` columns
            (a run from :func:`~course_lib.evaluation.runner.run_golden` has them).
        columns: other column names for those three, e.g. ``{"answer": "candidate"}``.
        on_error: ``"record"`` leaves an unusable verdict ungraded (score and passed empty,
            the problem in ``judge_error``); ``"raise"`` stops at the first one.

    Returns:
        The rows with ``judge_score`` (1 to 5), ``judge_passed``, ``judge_reason``,
        ``judge_error`` and ``judge_cost_usd`` added.
    """
    names = {field: field for field in _FIELDS} | dict(columns or {})
    missing = [names[f] for f in _FIELDS if names[f] not in frame.columns]
    if missing:
        raise KeyError(
            f"frame has no column {missing[0]!r}; name the question, reference and answer "
            "columns with columns={...}."
        )
    if on_error not in ("record", "raise"):
        raise ValueError(f"on_error must be 'record' or 'raise', got {on_error!r}.")
    scores: list[int | None] = []
    passes: list[bool | None] = []
    reasons: list[str | None] = []
    errors: list[str | None] = []
    costs: list[float] = []
    for row in frame[[names[f] for f in _FIELDS]].itertuples(index=False):
        question, reference, answer = (str(v) for v in row)
        result = _ask(
            client, question, reference, answer, model=model, template=template, seed=None
        )
        costs.append(result.cost_usd)  # an unusable verdict was still paid for
        try:
            verdict = parse_verdict(result.content)
        except UnparseableVerdictError as exc:
            if on_error == "raise":
                raise
            scores.append(None)
            passes.append(None)
            reasons.append(None)
            errors.append(exc.problem)
            continue
        scores.append(verdict.score)
        passes.append(verdict.passed)
        reasons.append(verdict.reason)
        errors.append(None)
    out = frame.copy()
    out["judge_score"] = _column(scores, "Int64")
    out["judge_passed"] = _column(passes, "boolean")
    out["judge_reason"] = reasons
    out["judge_error"] = errors
    out["judge_cost_usd"] = costs
    return out


def _column(values: list[Any], dtype: Literal["Int64", "boolean"]) -> Any:
    import pandas as pd

    return pd.array(values, dtype=dtype)
