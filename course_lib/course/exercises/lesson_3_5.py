"""Checkers of lesson 3.5, "CI/CD for AI"."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from course_lib.course.checking import NotYet, Probe, answer_calls, exercise

if TYPE_CHECKING:
    from course_lib.labs.cicd_lab import CandidateChange

SOLUTION = "solutions/3_software_foundations/35_ci_cd.ipynb"


# -- 3.5.2 a gate that tells noise from a regression (open-ended, held-out changes) -------------

MAX_WRONG = 10
"""Of the 150 held-out changes, at most this many decided wrong (blocked or passed)."""
MAX_MISSES = 6
"""Of the 50 held-out worse changes, at most this many passed."""


def gate_passes(baseline: Sequence[float], candidate: Sequence[float]) -> bool:
    """The reference: block only when the paired 80% interval of candidate - baseline lies
    wholly below zero (a loss the pairs show), whatever the mean moved."""
    from course_lib.evaluation import paired_bootstrap

    return paired_bootstrap(baseline, candidate, confidence=0.8, n_resamples=1000).high >= 0


_HELD_OUT_SEED = 35_002
"""The held-out changes' seed: kept here, out of the lab the learner imports."""
_HELD_OUT_QUESTIONS = 161


@lru_cache(maxsize=1)
def _held_out() -> tuple[list[int], list[CandidateChange]]:
    """A held-out baseline (161 questions, success rate near the assistant's) and 50 changes
    of each kind on it, drawn with a seed the lab does not export."""
    import numpy as np

    from course_lib.labs.cicd_lab import _simulate_changes

    rng = np.random.default_rng(_HELD_OUT_SEED + 1)
    baseline = (rng.random(_HELD_OUT_QUESTIONS) < 0.2).astype(int).tolist()
    changes = _simulate_changes(baseline, seed=_HELD_OUT_SEED, prefix="held-out", per_kind=50)
    return baseline, changes


@exercise(
    "3.5.2",
    title="A gate that passes noise and blocks regressions, on held-out changes",
    answer_name="gate_passes",
    reference=gate_passes,
    solution=SOLUTION,
    time_limit=90.0,
    hints=(
        "Count on the dev changes first (gate_errors in the lesson). The naive rule blocks "
        "noise-only edits because 161 questions move the mean by more than 0.01 by chance; "
        "lesson 2.4's margin of 0.02 asks for more evidence than 161 questions can give.",
        "Use the pairs: paired_bootstrap(baseline, candidate) knows how many answers changed "
        "and in which direction, the mean does not. Which end of its interval says 'the pairs "
        "show a loss'?",
        "Lesson 2.4's rule asks the interval's low end to clear -0.02, so too little evidence "
        "blocks. What if you blocked only when the interval shows a loss, and at what "
        "confidence? Count gate_errors on the dev changes for each choice you try.",
    ),
)
def _check_gate(answer: Any, probe: Probe) -> str:
    if answer_calls(answer, gate_passes):
        raise NotYet("gate_passes calls the course's reference rule; write your own rule.")
    baseline, changes = _held_out()
    call = f"gate_passes(<{len(baseline)} baseline outcomes>, <a held-out change's outcomes>)"
    got = probe.call_as(call, answer, list(baseline), list(changes[0].outcomes))
    _expect_bool(got, call)
    false_blocks = misses = 0
    for change in changes:
        verdict = _expect_bool(
            probe.call_as(call, answer, list(baseline), list(change.outcomes)), call
        )
        if change.should_pass and not verdict:
            false_blocks += 1
        elif not change.should_pass and verdict:
            misses += 1
    if false_blocks + misses > MAX_WRONG or misses > MAX_MISSES:
        raise NotYet(
            f"not within the target on the {len(changes)} held-out changes (at most {MAX_WRONG} "
            f"decided wrong, at most {MAX_MISSES} worse changes passed). The held-out result is "
            "pass/fail only: count gate_errors on the dev changes to see what goes wrong."
        )
    return (
        f"within the target on the {len(changes)} held-out changes: at most {MAX_WRONG} decided "
        f"wrong, at most {MAX_MISSES} worse changes passed."
    )


def _expect_bool(got: Any, call: str) -> bool:
    if type(got).__name__ == "bool_":  # numpy's bool is a fine answer
        got = bool(got)
    if not isinstance(got, bool):
        raise NotYet(f"{call} returned {type(got).__name__}; return True (ship) or False (block).")
    return got


# -- 3.5.1 the workflow ---------------------------------------------------------------------------


def _reference_workflow() -> str:
    from course_lib.labs.cicd_lab import WORKFLOW

    return WORKFLOW


@exercise(
    "3.5.1",
    title="A workflow actionlint accepts, with the stages in order",
    answer_name="MY_WORKFLOW",
    expects_function=False,
    reference=_reference_workflow(),
    solution=SOLUTION,
    time_limit=30.0,
    hints=(
        "Each of build and deploy lists the job before it under `needs:`, so a failed gate "
        "stops them both.",
        "Each job starts on a fresh machine. build checks out the code (for assistant.toml), "
        "gets the gate's run back with `uses: actions/download-artifact@v7` (`with:` the same "
        "`name:` the gate uploaded, and `path: eval/`), then uploads both files with "
        "`uses: actions/upload-artifact@v6`.",
        "build: needs: gate; steps: checkout; download-artifact with name: candidate-run and "
        "path: eval/; upload-artifact with a name and `path: |` listing assistant.toml and "
        "eval/candidate.json. deploy: needs: build; if: github.ref == 'refs/heads/main'; "
        "runs-on; one `run: echo ...` step.",
    ),
)
def _check_workflow(answer: Any, probe: Probe) -> str:
    from course_lib.labs.cicd_lab import workflow_problems

    if not isinstance(answer, str):
        raise NotYet(
            f"MY_WORKFLOW should be the YAML text of the workflow (a str); got "
            f"{type(answer).__name__}."
        )
    problems = workflow_problems(answer, folder="checker-workflow")
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise NotYet(f"{problems[0]}{more}.")
    return (
        "actionlint accepts it, lint -> test -> gate -> build -> deploy run in order, and the "
        "gate's run reaches the build's artifact."
    )


# -- 3.5.3 rollback ----------------------------------------------------------------------------


def rollback_target(history: Sequence[Mapping[str, Any]], current: str) -> str | None:
    """The reference: the last artifact before ``current``'s last verdict that passed the gate
    and is not ``current``; None when there is none."""
    positions = [i for i, entry in enumerate(history) if entry["artifact"] == current]
    end = positions[-1] if positions else len(history)
    for entry in reversed(history[:end]):
        if entry["passed"] and entry["artifact"] != current:
            return str(entry["artifact"])
    return None


def _h(*entries: str) -> list[dict[str, Any]]:
    """``"a1b2+"`` passed the gate, ``"a1b2-"`` was blocked."""
    return [{"artifact": e[:-1], "passed": e[-1] == "+"} for e in entries]


# (what the case is, history, current)
_ROLLBACK_CASES: list[tuple[str, list[dict[str, Any]], str]] = [
    ("three passing artifacts", _h("aaa1+", "bbb2+", "ccc3+"), "ccc3"),
    ("a blocked artifact just before the current one", _h("aaa1+", "bbb2-", "ccc3+"), "ccc3"),
    (
        "blocked candidates built after the current one",
        _h("aaa1+", "bbb2+", "ccc3-", "ddd4-"),
        "bbb2",
    ),
    ("the current artifact measured twice", _h("aaa1+", "bbb2+", "bbb2+"), "bbb2"),
    (
        "the current one was also deployed earlier",
        _h("aaa1+", "bbb2+", "ccc3+", "bbb2+"),
        "bbb2",
    ),
    ("nothing passed before the current one", _h("aaa1-", "bbb2-", "ccc3+"), "ccc3"),
    ("only the current one", _h("aaa1+"), "aaa1"),
    ("a passing candidate built after the current one", _h("aaa1+", "bbb2+", "ccc3+"), "bbb2"),
]


@exercise(
    "3.5.3",
    title="Roll back to the last artifact that passed the gate",
    answer_name="rollback_target",
    reference=rollback_target,
    solution=SOLUTION,
    hints=(
        "Walk the history backwards, starting just before the current artifact's last entry: "
        "entries after it are candidates built later, not versions that ever served.",
        "Skip blocked entries, and skip entries of the current artifact itself (it can appear "
        "more than once). Return None when nothing is left: there is nothing safe to go back "
        "to.",
        "end = the last index i with history[i]['artifact'] == current; return the first "
        "entry of reversed(history[:end]) that passed and is not current, else None.",
    ),
)
def _check_rollback(answer: Any, probe: Probe) -> str:
    if answer_calls(answer, rollback_target):
        raise NotYet("rollback_target calls the course's reference; write the walk yourself.")
    if answer_calls(answer, _library_rollback()) or answer_calls(answer, _library_target()):
        raise NotYet(
            "rollback_target calls the lab's own rollback; write the walk through the history "
            "yourself (the store's rollback uses a function like yours)."
        )
    for what, history, current in _ROLLBACK_CASES:
        call = f"rollback_target(<history with {what}>, {current!r})"
        got = probe.call_as(call, answer, [dict(e) for e in history], current)
        expected = rollback_target(history, current)
        if got != expected:
            shown = ", ".join(f"{e['artifact']}{'+' if e['passed'] else '-'}" for e in history)
            raise NotYet(
                f"{call} returned {got!r}, expected {expected!r} (history, oldest first, + "
                f"passed the gate: {shown})."
            )
    return f"rollback_target picks the right artifact in all {len(_ROLLBACK_CASES)} histories."


def _library_rollback() -> Any:
    from course_lib.labs.cicd_lab import ArtifactStore

    return ArtifactStore.rollback


def _library_target() -> Any:
    from course_lib.labs import cicd_lab

    return cicd_lab._rollback_target
