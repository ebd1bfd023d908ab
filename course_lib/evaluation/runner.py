"""Run an answer function over a golden set, one row per question, and compare two runs.

An evaluation run is a table, not a number: keep every question's answer, scores, tokens and
cost, so that a surprising mean can be traced to the questions behind it, and two runs can be
compared question by question (:func:`compare_runs`) rather than by their means.

>>> frame = run_golden(assistant, load_golden_set("dev"), scorers={"f1": answer_f1}, run="v1")
>>> summarize(frame, ["f1"], by="type")
>>> compare_runs(frame, other_frame, "f1")          # B - A, with its interval

A scorer is any ``(question, answer_text) -> float``; the question is the golden record, so a
scorer can read its reference answer, its type, or its cited documents.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, Protocol

from course_lib.evaluation.stats import PairedComparison, bootstrap_ci, paired_bootstrap

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "RUN_COLUMNS",
    "GoldenItem",
    "Scorer",
    "compare_runs",
    "is_refusal",
    "rescore",
    "run_golden",
    "summarize",
]


class GoldenItem(Protocol):
    """What the runner reads of a golden question (``GoldenQuestion`` has all of it)."""

    @property
    def id(self) -> str: ...

    @property
    def question(self) -> str: ...

    @property
    def answer(self) -> str: ...

    @property
    def type(self) -> str: ...


Scorer = Callable[[Any, str], float]
"""``(golden question, answer text) -> score``; higher is better, usually in [0, 1]."""

RUN_COLUMNS: tuple[str, ...] = (
    "run",
    "id",
    "type",
    "question",
    "reference",
    "answer",
    "error",
    "model",
    "input_tokens",
    "output_tokens",
    "cost_usd",
    "latency_ms",
    "simulated_latency_ms",
)
"""The columns every run has; one column per scorer follows them."""

# Phrases with which assistants decline to answer. A refusal is an answer too: for a question
# the documents do not cover, it is the right one (SQuAD 2.0 scores it that way).
_REFUSAL = re.compile(
    r"\bI (?:don'?t|do not) know\b|\bI (?:cannot|can'?t|am unable to) answer\b"
    r"|\b(?:documents?|handbook|context|sources?|passages?) (?:do|does)(?:n'?t| not) "
    r"(?:cover|say|mention|answer|contain|give|state|describe)\b"
    r"|\bnot (?:covered|mentioned|answered) (?:in|by) the (?:documents?|handbook|context)\b",
    re.I,
)


def is_refusal(answer: str) -> bool:
    """True when ``answer`` declines to answer ("I don't know", "the documents do not cover")."""
    return bool(_REFUSAL.search(answer or ""))


def _result_fields(value: Any) -> dict[str, Any]:
    """Text, model, usage and cost of what an answer function returned (a str or a ChatResult)."""
    if isinstance(value, str):
        return {"answer": value}
    content = getattr(value, "content", None)
    if content is None and not hasattr(value, "usage"):
        raise TypeError(
            "the answer function must return a str or a ChatResult (something with .content "
            f"and .usage), got {type(value).__name__}."
        )
    usage = getattr(value, "usage", None)
    return {
        "answer": content or "",
        "model": getattr(value, "model", None),
        "input_tokens": getattr(usage, "input_tokens", None),
        "output_tokens": getattr(usage, "output_tokens", None),
        "cost_usd": getattr(value, "cost_usd", None),
        "latency_ms": getattr(value, "latency_ms", None),
        "simulated_latency_ms": getattr(value, "simulated_latency_ms", None),
    }


def run_golden(
    answer: Callable[[Any], Any],
    questions: Iterable[GoldenItem],
    *,
    scorers: Mapping[str, Scorer],
    run: str = "run",
    on_error: Literal["record", "raise"] = "record",
) -> pd.DataFrame:
    """Answer every question, score every answer, and return one row per question.

    Args:
        answer: called with each golden question; returns the answer text, or a ``ChatResult``
            (then its model, tokens, cost and latency are kept too).
        questions: golden questions (anything with ``id``, ``question``, ``answer``, ``type``).
        scorers: column name -> scorer; each becomes a column of scores.
        run: a name for this run, kept in the ``run`` column (e.g. the prompt version).
        on_error: ``"record"`` keeps going when a call fails: the row gets the error, an empty
            answer and a score of 0 from every scorer (a failed call is a failed answer for the
            user). ``"raise"`` stops at the first failure.

    Returns:
        A DataFrame with :data:`RUN_COLUMNS` and one column per scorer, in question order.
        ``latency_ms`` is wall-clock time; ``simulated_latency_ms`` is the local model's
        modelled latency (empty for other providers).

    Raises:
        ValueError: no scorers, or two questions share an id.
        Any error of ``answer`` or of a scorer, when ``on_error="raise"``; a scorer's error is
        always raised (a broken metric must not look like a bad answer).
    """
    import pandas as pd

    if not scorers:
        raise ValueError("run_golden needs at least one scorer, e.g. {'f1': answer_f1}.")
    clash = sorted(set(scorers) & set(RUN_COLUMNS))
    if clash:
        raise ValueError(f"scorer names {clash} clash with run columns; rename the scorers.")
    if on_error not in ("record", "raise"):
        raise ValueError(f"on_error must be 'record' or 'raise', got {on_error!r}.")
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for item in questions:
        if item.id in seen:
            raise ValueError(f"question id {item.id!r} appears twice; ids must be unique.")
        seen.add(item.id)
        row: dict[str, Any] = dict.fromkeys(RUN_COLUMNS)
        row.update(
            run=run, id=item.id, type=item.type, question=item.question, reference=item.answer
        )
        try:
            row.update(_result_fields(answer(item)))
        except Exception as exc:
            if on_error == "raise":
                raise
            row.update(answer="", error=f"{type(exc).__name__}: {exc}")
        for name, scorer in scorers.items():
            row[name] = 0.0 if row["error"] else float(scorer(item, row["answer"]))
        rows.append(row)
    frame = pd.DataFrame(rows, columns=[*RUN_COLUMNS, *scorers])
    for column in ("input_tokens", "output_tokens"):
        frame[column] = frame[column].astype("Int64")
    for column in ("cost_usd", "latency_ms", "simulated_latency_ms"):
        frame[column] = frame[column].astype(float)
    return frame


def rescore(
    frame: pd.DataFrame, questions: Iterable[GoldenItem], scorers: Mapping[str, Scorer]
) -> pd.DataFrame:
    """A copy of a run with more score columns, computed from its stored answers.

    Scoring is cheap and model calls are not: keep every run's answers, and apply a new or
    fixed metric to them without calling the model again. Failed rows score 0, as in
    :func:`run_golden`.

    Raises:
        ValueError: a row's question id is not among ``questions``.
    """
    by_id = {q.id: q for q in questions}
    unknown = sorted(set(frame["id"]) - set(by_id))
    if unknown:
        raise ValueError(
            f"{len(unknown)} rows have no golden question, e.g. {unknown[:3]}; pass the "
            "questions the run was made from."
        )
    out = frame.copy()
    failed = out["error"].notna() if "error" in out else [False] * len(out)
    for name, scorer in scorers.items():
        out[name] = [
            0.0 if bad else float(scorer(by_id[qid], answer or ""))
            for qid, answer, bad in zip(out["id"], out["answer"], failed, strict=True)
        ]
    return out


def summarize(
    frame: pd.DataFrame,
    metrics: Sequence[str],
    *,
    by: str | None = None,
    confidence: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """Mean of each metric with its bootstrap interval, overall or per group, plus cost.

    Returns one row per group (or one row, ``"all"``) with ``n``, then for each metric its mean
    and ``<metric>_low`` / ``<metric>_high``, then ``cost_usd`` (the group's total).
    """
    import pandas as pd

    missing = [m for m in metrics if m not in frame.columns]
    if missing:
        raise KeyError(f"no column {missing[0]!r} in the run; its columns are {list(frame)}.")
    groups = [("all", frame)] if by is None else list(frame.groupby(by, sort=True))
    rows = []
    for key, group in groups:
        row: dict[str, Any] = {by or "group": key, "n": len(group)}
        for metric in metrics:
            interval = bootstrap_ci(group[metric].to_numpy(), confidence=confidence, seed=seed)
            row[metric] = interval.estimate
            row[f"{metric}_low"] = interval.low
            row[f"{metric}_high"] = interval.high
        row["cost_usd"] = float(group["cost_usd"].sum()) if "cost_usd" in group else float("nan")
        rows.append(row)
    return pd.DataFrame(rows).set_index(by or "group")


def compare_runs(
    run_a: pd.DataFrame,
    run_b: pd.DataFrame,
    metric: str,
    *,
    confidence: float = 0.95,
    seed: int = 0,
) -> PairedComparison:
    """Paired bootstrap of ``metric`` between two runs over the same questions (B - A).

    Rows are matched by question ``id``, so the runs may list the questions in any order.

    Raises:
        ValueError: the runs do not cover the same questions (an unfair comparison), or an id
            appears twice in one run.
        KeyError: a run has no ``metric`` column.
    """
    for name, frame in (("run_a", run_a), ("run_b", run_b)):
        if metric not in frame.columns:
            raise KeyError(f"{name} has no column {metric!r}; its columns are {list(frame)}.")
        if frame["id"].duplicated().any():
            first = frame.loc[frame["id"].duplicated(), "id"].iloc[0]
            raise ValueError(f"{name} has question {first!r} twice; compare one row per id.")
    ids_a, ids_b = set(run_a["id"]), set(run_b["id"])
    if ids_a != ids_b:
        only_a, only_b = sorted(ids_a - ids_b), sorted(ids_b - ids_a)
        raise ValueError(
            f"the runs cover different questions ({len(only_a)} only in run_a, e.g. "
            f"{only_a[:3]}; {len(only_b)} only in run_b, e.g. {only_b[:3]}). Compare runs over "
            "the same questions, or filter both to their common ids first."
        )
    a = run_a.set_index("id")[metric]
    b = run_b.set_index("id")[metric].reindex(a.index)
    return paired_bootstrap(a.to_numpy(), b.to_numpy(), confidence=confidence, seed=seed)
