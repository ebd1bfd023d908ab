"""Plausible wrong answers to lesson 3.5's exercises; each must be rejected by its checker."""

from __future__ import annotations

from typing import Any

from course_lib.evaluation import bootstrap_ci, paired_bootstrap
from course_lib.labs import BROKEN_WORKFLOW, TUTORIAL_WORKFLOW, naive_gate
from course_lib.labs.cicd_lab import WORKFLOW

# -- 3.5.1 the workflow --------------------------------------------------------------------------

_ALL_PARALLEL = "\n".join(line for line in WORKFLOW.splitlines() if "needs:" not in line)
_DEPLOY_SKIPS_GATE = WORKFLOW.replace("    needs: build\n", "    needs: test\n")
_GATE_RUNS_ONLY_TESTS = WORKFLOW.replace(
    "        run: python gate.py", "        run: python -m pytest -q tests  # python gate"
).replace("python gate.py", "python -m pytest")
_NO_UPLOAD = WORKFLOW.replace("actions/upload-artifact@v6", "actions/cache@v4")
_BAD_YAML = WORKFLOW.replace("jobs:\n", "jobs:\n  - lint\n", 1)
_GATE_TYPO_NEEDS = WORKFLOW.replace("    needs: test\n", "    needs: tset\n")
_NO_EVALUATION = WORKFLOW.replace("run: python evaluate.py --out eval/candidate.json", "run: ls")
_GATE_WITHOUT_CHECKOUT = WORKFLOW.replace(
    WORKFLOW[WORKFLOW.index("  gate:") :].split("      - run: pip install")[0],
    "  gate:\n    needs: test\n    runs-on: ubuntu-latest\n    steps:\n",
)
_DEPLOY_NOT_FROM_MAIN = WORKFLOW.replace(
    "github.ref == 'refs/heads/main'", "github.ref != 'refs/heads/main'"
)
_BUILD_SHIPS_THE_OLD_BASELINE = WORKFLOW.replace(
    "actions/download-artifact@v7", "actions/checkout@v5"
)
_DEPLOYS_FROM_EVERY_BRANCH = WORKFLOW.replace("    if: github.ref == 'refs/heads/main'\n", "")

_BUILD = WORKFLOW[WORKFLOW.index("  build:") :]


def _in_build(old: str, new: str) -> str:
    """The reference with one change made in its build job only."""
    return WORKFLOW.replace(_BUILD, _BUILD.replace(old, new))


# The shortcuts a build job can take and still "download and upload something":
_DOWNLOAD_WITHOUT_PATH = _in_build("          path: eval/\n", "")
_DOWNLOAD_ANOTHER_NAME = _in_build("name: candidate-run", "name: gate-run")
_BUILD_SHIPS_ONLY_THE_RUN = _in_build("            assistant.toml\n", "")
_BUILD_WITHOUT_CHECKOUT = _in_build("      - uses: actions/checkout@v5\n", "")
_GATE_UPLOADS_ANOTHER_PATH = WORKFLOW.replace(
    "          path: eval/candidate.json\n", "          path: candidate.json\n", 1
)

# -- 3.5.2 the gate's rule -----------------------------------------------------------------------


def _gate_naive(baseline, candidate):
    return naive_gate(baseline, candidate, 0.01)


def _gate_naive_wider(baseline, candidate):
    return naive_gate(baseline, candidate, 0.03)


def _gate_lesson_2_4(baseline, candidate):
    return paired_bootstrap(baseline, candidate).low >= -0.02


def _gate_always_ships(baseline, candidate):
    return True


def _gate_always_blocks(baseline, candidate):
    return False


def _gate_unpaired_overlap(baseline, candidate):
    # Two separate intervals that overlap: "no difference".
    return bootstrap_ci(candidate).high >= bootstrap_ci(baseline).low


def _gate_95_significant_loss(baseline, candidate):
    return paired_bootstrap(baseline, candidate).high >= 0


def _gate_returns_the_interval(baseline, candidate):
    return paired_bootstrap(baseline, candidate, confidence=0.8)


# -- 3.5.3 rollback ------------------------------------------------------------------------------


def _rollback_previous_entry(history, current):
    return history[-2]["artifact"] if len(history) > 1 else None


def _rollback_last_passed(history, current):
    passed = [e["artifact"] for e in history if e["passed"] and e["artifact"] != current]
    return passed[-1] if passed else None


def _rollback_first_passed(history, current):
    passed = [e["artifact"] for e in history if e["passed"] and e["artifact"] != current]
    return passed[0] if passed else None


def _rollback_keeps_current(history, current):
    end = max(i for i, e in enumerate(history) if e["artifact"] == current)
    passed = [e["artifact"] for e in history[:end] if e["passed"]]
    return passed[-1] if passed else None


def _rollback_ignores_gate(history, current):
    end = max(i for i, e in enumerate(history) if e["artifact"] == current)
    earlier = [e["artifact"] for e in history[:end] if e["artifact"] != current]
    return earlier[-1] if earlier else None


def _rollback_empty_string(history, current):
    end = max(i for i, e in enumerate(history) if e["artifact"] == current)
    passed = [e["artifact"] for e in history[:end] if e["passed"] and e["artifact"] != current]
    return passed[-1] if passed else ""


def _gate_the_checkers_reference(baseline, candidate):
    from course_lib.course.exercises import lesson_3_5

    return lesson_3_5.gate_passes(baseline, candidate)


def _rollback_the_checkers_reference(history, current):
    from course_lib.course.exercises.lesson_3_5 import rollback_target

    return rollback_target(history, current)


def _rollback_library(history, current):
    from course_lib.labs import cicd_lab

    return cicd_lab._rollback_target(history, current)


WRONG_ANSWERS: dict[str, list[Any]] = {
    "3.5.1": [
        BROKEN_WORKFLOW,
        TUTORIAL_WORKFLOW,
        _ALL_PARALLEL,
        _DEPLOY_SKIPS_GATE,
        _GATE_RUNS_ONLY_TESTS,
        _NO_UPLOAD,
        _BAD_YAML,
        _GATE_TYPO_NEEDS,
        _NO_EVALUATION,
        _DEPLOYS_FROM_EVERY_BRANCH,
        _GATE_WITHOUT_CHECKOUT,
        _DEPLOY_NOT_FROM_MAIN,
        _BUILD_SHIPS_THE_OLD_BASELINE,
        _DOWNLOAD_WITHOUT_PATH,
        _DOWNLOAD_ANOTHER_NAME,
        _BUILD_SHIPS_ONLY_THE_RUN,
        _BUILD_WITHOUT_CHECKOUT,
        _GATE_UPLOADS_ANOTHER_PATH,
        None,
    ],
    "3.5.2": [
        _gate_naive,
        _gate_naive_wider,
        _gate_lesson_2_4,
        _gate_always_ships,
        _gate_always_blocks,
        _gate_unpaired_overlap,
        _gate_95_significant_loss,
        _gate_returns_the_interval,
        _gate_the_checkers_reference,
    ],
    "3.5.3": [
        _rollback_previous_entry,
        _rollback_last_passed,
        _rollback_first_passed,
        _rollback_keeps_current,
        _rollback_ignores_gate,
        _rollback_empty_string,
        _rollback_library,
        _rollback_the_checkers_reference,
    ],
}
