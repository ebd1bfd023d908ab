"""Judge mode: grading an answer against a reference, with a documented length bias.

The verdict is driven by the answer's agreement with the reference (token F1 over content
terms, with numbers required to match). Like real model judges (Zheng et al., 2023), it
favours longer answers: at equal content, an answer longer than the reference scores up to
``LENGTH_BIAS`` higher. Lesson 1.4 measures this bias and calibrates against it.

Pairwise mode (a prompt with ``Answer A:`` and ``Answer B:`` lines and a reference) names the
answer that agrees better with the reference, with a **planted position bias**: when the two
agree within ``POSITION_MARGIN``, it names the first one shown, as real judges were measured
to lean (Zheng et al., 2023). Nothing else uses this mode, so single-answer grading is
unchanged; lesson 1.4 measures the bias by asking in both orders.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from course_lib.standin.text import terms

__all__ = [
    "LENGTH_BIAS",
    "POSITION_MARGIN",
    "JudgeRequest",
    "PairRequest",
    "PairVerdict",
    "Verdict",
    "judge",
    "judge_pair",
    "parse_judge_request",
    "parse_pair_request",
    "render_pair_verdict",
    "render_verdict",
]

LENGTH_BIAS = 0.25  # the largest score bonus a long answer gets, on a 0..1 scale
PASS_MARK = 0.5
POSITION_MARGIN = 0.2  # planted: closer than this in agreement, the first answer shown wins

_JUDGE_CUE = re.compile(
    r"\b(grade|grading|judge|evaluate|assess|score|rate|rating|verdict)\b", re.I
)
_REFERENCE = re.compile(
    r"(?:^|\n)\s*(?:\*\*)?"
    r"(?:reference(?: answer)?|gold(?: answer)?|expected(?: answer)?|ground truth)"
    r"(?:\*\*)?\s*:\s*(.*?)(?=\n\s*(?:\*\*)?(?:candidate|answer|response|model answer|question|"
    r"reference|rubric)[^\n:]{0,20}:|\Z)",
    re.I | re.S,
)
_ANSWER = re.compile(
    r"(?:^|\n)\s*(?:\*\*)?(?:candidate(?: answer)?|model answer|response|answer(?: to grade)?)"
    r"(?:\*\*)?\s*:\s*(.*?)(?=\n\s*(?:\*\*)?(?:reference|gold|expected|question|rubric|candidate)"
    r"[^\n:]{0,20}:|\Z)",
    re.I | re.S,
)
_NUMBER = re.compile(r"\d+(?:[.,:]\d+)?")


@dataclass(frozen=True)
class JudgeRequest:
    answer: str
    reference: str
    scale: tuple[int, int] | None  # e.g. (1, 5); None means pass/fail
    wants_json: bool


@dataclass(frozen=True)
class Verdict:
    score: int | None
    passed: bool
    agreement: float  # 0..1 before the length bias
    reason: str


def parse_judge_request(text: str, wants_json: bool) -> JudgeRequest | None:
    """A judge request if ``text`` asks to grade an answer against a reference, else None."""
    if not _JUDGE_CUE.search(text):
        return None
    reference = _REFERENCE.search(text)
    answer = _ANSWER.search(text)
    if not reference or not answer:
        return None
    scale: tuple[int, int] | None = (1, 5)
    if match := re.search(r"\b(0|1)\s*(?:-|to|–)\s*(3|4|5|10|100)\b", text):
        scale = (int(match.group(1)), int(match.group(2)))
    elif re.search(r"\bpass\s*/\s*fail\b|\bpass or fail\b|\bcorrect or incorrect\b", text, re.I):
        scale = None
    return JudgeRequest(answer.group(1).strip(), reference.group(1).strip(), scale, wants_json)


def _f1(answer: str, reference: str) -> float:
    a, r = terms(answer), terms(reference)
    if not a or not r:
        return 0.0
    common = sum(min(a.count(t), r.count(t)) for t in set(a) & set(r))
    if common == 0:
        return 0.0
    precision, recall = common / len(a), common / len(r)
    return 2 * precision * recall / (precision + recall)


def _agreement(answer: str, reference: str) -> float:
    """How far ``answer`` states the reference's content (0..1), before any bias."""
    agreement = _f1(answer, reference)
    # Recall of the reference matters more than the answer's extra words for a judge.
    ref_terms = set(terms(reference))
    recall = len(ref_terms & set(terms(answer))) / len(ref_terms) if ref_terms else 0.0
    agreement = 0.4 * agreement + 0.6 * recall
    ref_numbers = set(_NUMBER.findall(reference))
    if ref_numbers and not ref_numbers & set(_NUMBER.findall(answer)):
        agreement *= 0.5  # the key number is missing or wrong
    return agreement


def judge(request: JudgeRequest, *, noise: float = 0.0) -> Verdict:
    """Grade the answer; ``noise`` (from temperature) shifts the raw score a little."""
    agreement = _agreement(request.answer, request.reference)
    ratio = (len(request.answer.split()) + 1) / (len(request.reference.split()) + 1)
    bias = LENGTH_BIAS * max(0.0, min(1.0, math.log2(ratio) / 2)) if ratio > 1 else 0.0
    raw = max(0.0, min(1.0, agreement + bias + noise))
    passed = raw >= PASS_MARK
    score = None
    if request.scale is not None:
        low, high = request.scale
        score = low + round(raw * (high - low))
    if agreement >= 0.75:
        reason = "The answer states the reference's key facts."
    elif agreement >= 0.4:
        reason = "The answer covers part of the reference."
    else:
        reason = "The answer does not match the reference."
    return Verdict(score, passed, round(agreement, 6), reason)


def render_verdict(
    verdict: Verdict, scale: tuple[int, int] | None, response_format: Any, *, wants_json: bool
) -> str:
    """The verdict in the form the grading prompt asked for, so the grader's parser reads it.

    A JSON schema gets its own keys (a score, pass/fail or a label by name; anything else the
    reason); JSON mode or a prompt asking for JSON gets score, passed and reason; otherwise
    ``PASS: ...``/``FAIL: ...`` on a pass/fail scale, or ``Score: ...`` and ``Reason: ...``.
    """
    fields = {"score": verdict.score, "passed": verdict.passed, "reason": verdict.reason}
    is_mapping = isinstance(response_format, Mapping)
    if is_mapping and response_format.get("type") == "json_schema":
        schema = response_format.get("json_schema", {}).get("schema", {})
        out: dict[str, Any] = {}
        for key, sub in schema.get("properties", {}).items():
            lowered = key.lower()
            if lowered in ("score", "rating", "grade", "points"):
                out[key] = verdict.score if verdict.score is not None else int(verdict.passed)
            elif lowered in ("passed", "pass", "correct", "is_correct", "acceptable"):
                out[key] = verdict.passed
            elif lowered in ("verdict", "label", "result"):
                options = sub.get("enum") or ["pass", "fail"]
                out[key] = options[0] if verdict.passed else options[-1]
            else:
                out[key] = verdict.reason
        return json.dumps(out, ensure_ascii=False)
    if (is_mapping and response_format.get("type") == "json_object") or wants_json:
        return json.dumps(fields, ensure_ascii=False)
    if scale is None:
        return f"{'PASS' if verdict.passed else 'FAIL'}: {verdict.reason}"
    return f"Score: {verdict.score}\nReason: {verdict.reason}"


# -- pairwise mode --------------------------------------------------------------------------

_PAIR_ANSWER = re.compile(
    r"(?:^|\n)\s*(?:\*\*)?(?:answer|response|assistant)\s+([AB])(?:\*\*)?\s*:\s*(.*?)"
    r"(?=\n\s*(?:\*\*)?(?:answer|response|assistant)\s+[AB]\b|"
    r"\n\s*(?:\*\*)?(?:reference|question|rubric)[^\n:]{0,20}:|\Z)",
    re.I | re.S,
)
_WINNER_KEYS = ("winner", "better", "choice", "preferred", "preference", "verdict")


@dataclass(frozen=True)
class PairRequest:
    first: str  # the answer shown as A
    second: str  # the answer shown as B
    reference: str


@dataclass(frozen=True)
class PairVerdict:
    winner: str  # "A" or "B"
    agreements: tuple[float, float]  # of A and of B, before the position bias
    by_position: bool  # True when the planted position bias decided
    reason: str


def parse_pair_request(text: str) -> PairRequest | None:
    """A pairwise request if ``text`` asks to judge ``Answer A`` against ``Answer B``."""
    if not _JUDGE_CUE.search(text):
        return None
    answers = {m.group(1).upper(): m.group(2).strip() for m in _PAIR_ANSWER.finditer(text)}
    reference = _REFERENCE.search(text)
    if set(answers) != {"A", "B"} or not reference:
        return None
    return PairRequest(answers["A"], answers["B"], reference.group(1).strip())


def judge_pair(request: PairRequest) -> PairVerdict:
    """The answer closer to the reference; within ``POSITION_MARGIN``, the first (planted)."""
    first = _agreement(request.first, request.reference)
    second = _agreement(request.second, request.reference)
    if abs(first - second) < POSITION_MARGIN:
        return PairVerdict("A", (first, second), True, "Both answers are close; A reads better.")
    winner = "A" if first > second else "B"
    return PairVerdict(winner, (first, second), False, f"{winner} states more key facts.")


def render_pair_verdict(verdict: PairVerdict, response_format: Any, *, wants_json: bool) -> str:
    """The pairwise verdict as the prompt asked: a JSON schema's keys, JSON, or text."""
    is_mapping = isinstance(response_format, Mapping)
    if is_mapping and response_format.get("type") == "json_schema":
        schema = response_format.get("json_schema", {}).get("schema", {})
        out = {
            key: verdict.winner if key.lower() in _WINNER_KEYS else verdict.reason
            for key in schema.get("properties", {})
        }
        return json.dumps(out, ensure_ascii=False)
    if (is_mapping and response_format.get("type") == "json_object") or wants_json:
        return json.dumps({"winner": verdict.winner, "reason": verdict.reason})
    return f"Winner: {verdict.winner}\nReason: {verdict.reason}"
