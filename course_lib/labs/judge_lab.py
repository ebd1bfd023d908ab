"""Lesson 1.4's judge experiments: answers with known verdicts, and the judge measured on them.

A judge calibrated only on easy negatives (another question's answer) looks better than it is:
the wrong answers it must catch in production are near misses, right topic and wrong number,
and stale facts from an older version of the handbook. This module builds all three kinds
from the golden set, so the lesson can measure the judge on each kind separately, and asks a
pairwise judge in both orders to measure how often its verdict follows the position.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from course_lib.evaluation import judge_both_orders

if TYPE_CHECKING:
    import pandas as pd

    from course_lib.datasets import GoldenQuestion
    from course_lib.llm import LLMClient

__all__ = [
    "CALIBRATION_KINDS",
    "agreement_by_kind",
    "calibration_set",
    "clean_quote",
    "near_miss",
    "position_bias",
]

CALIBRATION_KINDS = ("right", "other question", "stale", "near miss")
"""The kinds of calibration answer: one right, three wrong, from easy to hard."""

# A number on its own, not part of a code such as "5xx" or "p99".
_NUMBER = re.compile(r"(?<![\w.])\d+(?::\d\d|[.,]\d+)?(?![\w])")


def clean_quote(text: str) -> str:
    """A handbook quote as plain text: Markdown marks (``* ` | # >``) become spaces."""
    return " ".join(re.sub(r"[*`|#>]", " ", text).split())


def _values(text: str) -> set[str]:
    """The numbers of ``text``, thousands separators removed."""
    return {m.group().replace(",", "") for m in _NUMBER.finditer(text)}


def _changed(number: str) -> str:
    """Another plausible value: an hour later for a time, double for a count."""
    if ":" in number:
        hours, minutes = number.split(":")
        return f"{(int(hours) + 1) % 24:02d}:{minutes}"
    value = float(number.replace(",", ""))
    doubled = value * 2 if value else 1.0
    return f"{doubled:g}"


def near_miss(answer: str, reference: str) -> str | None:
    """``answer`` with the first number that the reference also states changed, else None.

    Right topic, same words, one wrong figure: the wrong answer a judge most often lets
    through, because almost everything it reads agrees with the reference. Every occurrence
    of that number changes, or the answer would still state the fact elsewhere.
    """
    wanted = _values(reference)
    target = next(
        (m.group() for m in _NUMBER.finditer(answer) if _values(m.group()) & wanted), None
    )
    if target is None:
        return None
    new = _changed(target)
    return _NUMBER.sub(lambda m: new if m.group() == target else m.group(), answer)


def calibration_set(
    questions: Sequence[GoldenQuestion],
    *,
    make_near_miss: Callable[[str, str], str | None] = near_miss,
) -> pd.DataFrame:
    """Answers with known verdicts, one row each: ``question``, ``reference``, ``answer``,
    ``label`` (True for right) and ``kind`` (see :data:`CALIBRATION_KINDS`).

    Per answerable question: the cited handbook sentence (right); another document's
    reference answer (easy); a near miss of the cited sentence when it has a number. Per
    version-sensitive question, two stale answers: the outdated answer and the v1 sentence.
    """
    import pandas as pd

    answerable = [q for q in questions if q.answerable]
    rows: list[dict[str, Any]] = []

    def add(q: GoldenQuestion, answer: str, kind: str) -> None:
        row = {"id": q.id, "question": q.question, "reference": q.answer, "answer": answer}
        rows.append(row | {"label": kind == "right", "kind": kind})

    for i, q in enumerate(answerable):
        right = clean_quote(q.sources[0].quote)
        add(q, right, "right")
        others = answerable[i + 1 :] + answerable[:i]
        add(q, next(o for o in others if o.doc_ids[0] != q.doc_ids[0]).answer, "other question")
        if q.stale_answer:
            add(q, q.stale_answer, "stale")
        if q.stale_source is not None:
            add(q, clean_quote(q.stale_source.quote), "stale")
        missed = make_near_miss(right, q.answer)
        if missed is not None and missed != right:
            add(q, missed, "near miss")
    return pd.DataFrame(rows)


def agreement_by_kind(judged: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """Per kind of answer: how many, and the share the judge got right (passed a right
    answer, failed a wrong one); then Cohen's kappa of judge and labels with the easy wrong
    answers only and with every kind (scikit-learn's ``cohen_kappa_score``)."""
    import pandas as pd
    from sklearn.metrics import cohen_kappa_score

    passed = judged["judge_passed"].fillna(False).astype(bool)
    agrees = passed == judged["label"].astype(bool)
    table = (
        pd.DataFrame({"kind": judged["kind"], "agrees": agrees})
        .groupby("kind", sort=False)["agrees"]
        .agg(n="count", judge_right="mean")
    )
    easy = judged["kind"].isin(["right", "other question"])
    kappas = {
        "right + easy wrong": cohen_kappa_score(judged["label"][easy], passed[easy]),
        "right + every wrong kind": cohen_kappa_score(judged["label"], passed),
    }
    order = [k for k in CALIBRATION_KINDS if k in table.index]
    return table.reindex(order), pd.Series(kappas, name="kappa")


def position_bias(client: LLMClient, calibration: pd.DataFrame) -> pd.DataFrame:
    """Each right answer against each wrong answer of its question, judged in both orders.

    Per kind of wrong answer: how many pairs, the share where both orders prefer the right
    answer, and the share where the verdict followed the position (each order chose the
    answer shown first).
    """
    import pandas as pd

    right = calibration[calibration["label"]].set_index("id")
    rows = []
    for wrong in calibration[~calibration["label"]].itertuples(index=False):
        truth = right.loc[wrong.id]
        preference = judge_both_orders(
            client,
            question=wrong.question,
            reference=wrong.reference,
            a=str(truth["answer"]),
            b=wrong.answer,
        )
        rows.append(
            {
                "kind": wrong.kind,
                "right both orders": preference.preferred == "a",
                "follows position": preference.a_first == "a" and preference.b_first == "b",
            }
        )
    frame = pd.DataFrame(rows)
    return frame.groupby("kind", sort=False).agg(
        pairs=("follows position", "size"),
        right_both_orders=("right both orders", "mean"),
        follows_position=("follows position", "mean"),
    )
