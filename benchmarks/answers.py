"""Benchmark of the Handbook Assistant's answers: correct and cited, refusals, false refusals.

Run from the repository root::

    .venv/bin/python benchmarks/answers.py                  # the dev split, both chat roles
    .venv/bin/python benchmarks/answers.py --failures 20    # and 20 failed dev answers to read
    .venv/bin/python benchmarks/answers.py --write          # dev and test, recorded in
                                                            # docs/benchmarks.md

The default assistant (``HandbookAssistant`` with its default retrieval, k and the production
prompt version) answers every golden question of a split; an answerable question is asked by a
reader cleared for its documents (restricted ones by a manager). An answer is **correct and cited**
when it states the reference's fact (:func:`course_lib.evaluation.facts.contains_fact`) and
cites a document that holds it; a question the handbook does not answer is handled well when
the answer is a refusal. The local model's refusal threshold is chosen on the dev split (the
trade-off curve below, ``docs/local-model.md``); the test split is measured, never tuned on.
"""

from __future__ import annotations

import argparse
import platform
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from recording import record_section

ROOT = Path(__file__).resolve().parents[1]
ROLES = ("chat-small", "chat-large")
# Relevance thresholds swept for the refusal trade-off curve (the default is marked).
SWEEP = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6)


@dataclass(frozen=True)
class Row:
    """One question's outcome."""

    id: str
    type: str
    answerable: bool
    correct: bool  # states the fact
    cited: bool  # cites a document that holds it
    refused: bool
    in_context: bool  # a document that holds the answer was packed into the prompt
    answer: str
    reference: str

    @property
    def good(self) -> bool:
        """Correct and cited when answerable; a refusal when not."""
        return (self.correct and self.cited) if self.answerable else self.refused


@contextmanager
def _index() -> Iterator[Any]:
    from course_lib.datasets import load_handbook
    from course_lib.rag import HandbookIndex
    from course_lib.workdir import work_path

    path = work_path("benchmarks", "answers.sqlite")
    index = HandbookIndex.build(load_handbook(), path=path, rebuild=True)
    try:
        yield index
    finally:
        index.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


def run(index: Any, questions: Sequence[Any], role: str) -> list[Row]:
    """Ask every question with the default assistant on model role ``role``."""
    from course_lib.assistant import HandbookAssistant
    from course_lib.evaluation import is_refusal
    from course_lib.evaluation.facts import contains_fact
    from course_lib.rag import User
    from course_lib.standin import local_client

    employee = User("bench-employee", team="sre", clearance={"public", "internal"})
    manager = User("bench-manager", team="sre", clearance={"public", "internal", "restricted"})
    assistant = HandbookAssistant(index, client=local_client(), model=role)
    chunk_doc = {chunk.id: chunk.doc_id for chunk in index.all_chunks()}
    rows = []
    for q in questions:
        user = manager if q.type == "restricted" else employee
        answer = assistant.ask(q.question, user=user)
        gold = {s.doc_id for s in q.sources}
        packed = {chunk_doc[c] for c in answer.packed_chunk_ids}
        rows.append(
            Row(
                id=q.id,
                type=q.type,
                answerable=q.type != "unanswerable",
                correct=contains_fact(answer.text, q.answer),
                cited=bool(gold & set(answer.cited_doc_ids)),
                refused=is_refusal(answer.text),
                in_context=bool(gold & packed),
                answer=answer.text,
                reference=q.answer,
            )
        )
    return rows


def _rate(values: Sequence[bool]) -> tuple[float, float, float]:
    """The share of True with its 95% bootstrap interval."""
    from course_lib.evaluation import bootstrap_ci

    if not values:
        return float("nan"), float("nan"), float("nan")
    ci = bootstrap_ci([float(v) for v in values], seed=0)
    return ci.estimate, ci.low, ci.high


def summary(rows: Sequence[Row]) -> dict[str, tuple[float, float, float]]:
    answerable = [r for r in rows if r.answerable]
    unanswerable = [r for r in rows if not r.answerable]
    return {
        "correct and cited": _rate([r.correct and r.cited for r in answerable]),
        "states the fact": _rate([r.correct for r in answerable]),
        "answer in context": _rate([r.in_context for r in answerable]),
        "false refusals": _rate([r.refused for r in answerable]),
        "refuses unanswerable": _rate([r.refused for r in unanswerable]),
    }


@contextmanager
def _threshold(value: float | None) -> Iterator[None]:
    """Every tier's refusal threshold set to ``value`` (None: leave the defaults)."""
    from course_lib.standin import answering

    if value is None:
        with nullcontext():
            yield
        return
    saved = dict(answering.RELEVANCE_THRESHOLD)
    answering.RELEVANCE_THRESHOLD.update(dict.fromkeys(saved, value))
    try:
        yield
    finally:
        answering.RELEVANCE_THRESHOLD.update(saved)


def _cell(value: tuple[float, float, float]) -> str:
    estimate, low, high = value
    return f"{estimate:.2f} ({low:.2f} to {high:.2f})"


def report(results: dict[tuple[str, str], list[Row]], curves: dict[str, list[Any]]) -> str:
    import inspect

    from course_lib.assistant import HandbookAssistant
    from course_lib.standin import answering

    defaults = inspect.signature(HandbookAssistant).parameters
    lines = [
        f"Measured {date.today().isoformat()}, Python {platform.python_version()}, "
        f"{platform.system()} {platform.machine()}. Default assistant: "
        f"{defaults['mode'].default} retrieval, k = {defaults['k'].default}, "
        "production prompt version; local models; refusal thresholds "
        + ", ".join(f"{k} {v}" for k, v in answering.RELEVANCE_THRESHOLD.items())
        + " (chosen on dev). 95% bootstrap intervals in brackets.",
        "",
        "| split | role | questions | correct and cited | states the fact | answer in context "
        "| false refusals | refuses unanswerable |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for (split, role), rows in results.items():
        s = summary(rows)
        lines.append(
            f"| {split} | {role} | {len(rows)} | "
            + " | ".join(_cell(s[key]) for key in s)
            + " |"
        )
    for split, curve in curves.items():
        lines += [
            "",
            f"Refusal trade-off on the {split} split, `chat-small` (one threshold for both "
            "tiers while sweeping): answered correctly and cited, false refusals on answerable "
            "questions, refusals of unanswerable ones.",
            "",
            "| threshold | correct and cited | false refusals | refuses unanswerable |",
            "|---:|---:|---:|---:|",
        ]
        for value, s in curve:
            lines.append(
                f"| {value:.2f} | {s['correct and cited'][0]:.2f} | "
                f"{s['false refusals'][0]:.2f} | {s['refuses unanswerable'][0]:.2f} |"
            )
    return "\n".join(lines)


INTRO = (
    "`benchmarks/answers.py`: the Handbook Assistant's answers on the golden set, correct and "
    "cited,\nrefusals of unanswerable questions, false refusals, and the refusal trade-off."
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="dev and test, recorded")
    parser.add_argument("--failures", type=int, default=0, help="print N failed dev answers")
    parser.add_argument("--roles", nargs="*", default=list(ROLES))
    args = parser.parse_args(argv)
    from course_lib.datasets import load_golden_set

    splits = ("dev", "test") if args.write else ("dev",)
    results: dict[tuple[str, str], list[Row]] = {}
    curves: dict[str, list[Any]] = {}
    with _index() as index:
        for split in splits:
            questions = load_golden_set(split)
            for role in args.roles:
                results[(split, role)] = run(index, questions, role)
            curves[split] = []
            for value in SWEEP:
                with _threshold(value):
                    curves[split].append((value, summary(run(index, questions, "chat-small"))))
    section = report(results, curves)
    print(section)
    if args.failures:
        for role in args.roles:
            failed = [r for r in results[("dev", role)] if not r.good]
            print(f"\n## {role}: {len(failed)} failed dev answers (first {args.failures})")
            for r in failed[: args.failures]:
                print(f"- {r.id} [{r.type}] in_context={r.in_context} refused={r.refused}")
                print(f"  ref: {r.reference}\n  got: {r.answer[:300]}")
    if args.write:
        recorded = record_section("answers", section, heading="Answers", intro=INTRO)
        print(f"\nRecorded in {recorded.relative_to(ROOT)}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
