"""Tests of lesson 3.5's lab: course_lib.labs.cicd_lab."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from course_lib.labs import (
    BROKEN_WORKFLOW,
    GATE_COMMAND,
    PIPELINE_STAGES,
    TUTORIAL_WORKFLOW,
    ArtifactError,
    ArtifactStore,
    AssistantConfig,
    ScratchRepo,
    actionlint_report,
    candidate_changes,
    gate_errors,
    naive_gate,
    outcomes_file,
    pipeline_repo_files,
    workflow_problems,
)
from course_lib.labs.cicd_lab import WORKFLOW, _rollback_target

BASELINE = [1] * 40 + [0] * 121


# -- workflows and actionlint -------------------------------------------------------------------


def test_the_pipeline_workflow_has_its_stages_in_order() -> None:
    assert workflow_problems(WORKFLOW) == []
    jobs = yaml.safe_load(WORKFLOW)["jobs"]
    assert list(jobs) == list(PIPELINE_STAGES)
    gate_runs = [step.get("run", "") for step in jobs["gate"]["steps"]]
    assert GATE_COMMAND in gate_runs


def test_actionlint_finds_the_four_planted_mistakes(tmp_path: Path) -> None:
    repo = ScratchRepo.create(tmp_path / "repo")
    repo.write(".github/workflows/ci.yml", BROKEN_WORKFLOW)
    report = actionlint_report(repo)
    assert report.returncode == 1
    kinds = sorted(line.rsplit("[", 1)[1].rstrip("]") for line in report.output.splitlines())
    assert kinds == ["events", "expression", "job-needs", "runner-label"]
    repo.write(".github/workflows/ci.yml", TUTORIAL_WORKFLOW)
    clean = actionlint_report(repo)
    assert (clean.returncode, clean.output) == (0, "")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (TUTORIAL_WORKFLOW, "no job named 'gate'"),
        (WORKFLOW.replace("    needs: build\n", "    needs: test\n"), "'deploy' must need 'build'"),
        (WORKFLOW.replace("actions/upload-artifact@v6", "actions/cache@v4"), "to upload"),
        (WORKFLOW.replace("actions/download-artifact@v7", "actions/cache@v4"), "download"),
        (WORKFLOW.replace("github.ref == 'refs", "github.ref != 'refs"), "only from main"),
        (
            WORKFLOW.replace(
                "  gate:\n    needs: test\n    runs-on: ubuntu-latest\n    steps:\n"
                "      - uses: actions/checkout@v5\n",
                "  gate:\n    needs: test\n    runs-on: ubuntu-latest\n    steps:\n",
            ),
            "check out",
        ),
        (WORKFLOW.replace("python gate.py", "python -m pytest"), "gate command"),
        (WORKFLOW.replace("run: python evaluate.py", "run: echo"), "evaluate.py"),
        (WORKFLOW.replace("    if: github.ref == 'refs/heads/main'\n", ""), "only from main"),
        (BROKEN_WORKFLOW, "actionlint:"),
        ("jobs: [", "not valid YAML"),
        ("", "non-empty string"),
        ("name: x\n", "no `jobs:`"),
    ],
)
def test_workflow_problems_names_what_is_missing(text: str, expected: str) -> None:
    problems = workflow_problems(text)
    assert problems
    assert any(expected in p for p in problems), problems


# -- the repository and the gate script ---------------------------------------------------------


def test_the_gate_script_exits_0_to_ship_and_1_to_block(tmp_path: Path) -> None:
    config = AssistantConfig()
    outcomes = {f"q-{i:03d}": v for i, v in enumerate(BASELINE)}
    baseline = outcomes_file(config, outcomes, measured_on="test")
    assert json.loads(baseline)["config"]["prompt"] == "handbook-answer@v3"
    repo = ScratchRepo.create(tmp_path / "repo", files=pipeline_repo_files(baseline, config))
    repo.write("eval/candidate.json", baseline)
    assert repo.run(*GATE_COMMAND.split(), ok=(0, 1)).returncode == 0
    worse = {key: 0 for key in outcomes}
    repo.write("eval/candidate.json", outcomes_file(config, worse, measured_on="test"))
    step = repo.run(*GATE_COMMAND.split(), ok=(0, 1))
    assert step.returncode == 1
    assert step.output.endswith("block")
    repo.write("eval/candidate.json", outcomes_file(config, {"other": 1}, measured_on="test"))
    assert repo.run(*GATE_COMMAND.split(), ok=(0, 1, 2)).returncode == 2


# -- candidate changes with a known truth -------------------------------------------------------


def test_candidate_changes_are_deterministic_and_balanced() -> None:
    first = candidate_changes(BASELINE, split="dev", per_kind=5)
    assert first == candidate_changes(BASELINE, split="dev", per_kind=5)
    with pytest.raises(ValueError, match="'dev'"):
        candidate_changes(BASELINE, split="held-out", per_kind=5)
    assert [c.kind for c in first].count("worse") == 5
    assert all(len(c.outcomes) == len(BASELINE) for c in first)
    worse = [c for c in first if c.kind == "worse"]
    assert all(c.effect < 0 and not c.should_pass for c in worse)


def test_the_checkers_held_out_changes_are_not_the_dev_ones() -> None:
    import course_lib.labs
    from course_lib.course.exercises import lesson_3_5

    baseline, changes = lesson_3_5._held_out()
    assert len(baseline) == 161 and len(changes) == 150
    assert changes[0].outcomes != candidate_changes(baseline, per_kind=1)[0].outcomes
    assert {"held_out_changes", "HELD_OUT_QUESTIONS"}.isdisjoint(course_lib.labs.__all__)


@pytest.mark.parametrize("baseline", [[1] * 50, [0, 2, 1], [[1, 0]]])
def test_candidate_changes_refuse_a_baseline_they_cannot_perturb(baseline: list) -> None:
    with pytest.raises(ValueError, match="0/1 outcome"):
        candidate_changes(baseline)


def test_gate_errors_counts_false_blocks_and_misses() -> None:
    changes = candidate_changes(BASELINE, per_kind=4)
    assert gate_errors(lambda b, c: True, BASELINE, changes)["misses"] == 4
    blocked = gate_errors(lambda b, c: False, BASELINE, changes)
    assert (blocked["false blocks"], blocked["of them noise-only"]) == (8, 4)
    assert set(gate_errors(naive_gate, BASELINE, changes)) == set(blocked)
    with pytest.raises(TypeError, match="True \\(pass\\) or False"):
        gate_errors(lambda b, c: 0.5, BASELINE, changes)


# -- artifacts and rollback ----------------------------------------------------------------------


def test_artifacts_are_named_by_their_content(tmp_path: Path) -> None:
    store = ArtifactStore.create(tmp_path / "store")
    first = store.put({"a.toml": "k = 3\n", "b.json": "{}\n"})
    assert store.put({"b.json": "{}\n", "a.toml": "k = 3\n"}) == first
    assert store.put({"a.toml": "k = 5\n", "b.json": "{}\n"}) != first
    assert store.files(first) == {"a.toml": "k = 3\n", "b.json": "{}\n"}
    with pytest.raises(ArtifactError, match="No artifact"):
        store.files("nope")


def test_a_changed_artifact_is_refused(tmp_path: Path) -> None:
    store = ArtifactStore.create(tmp_path / "store")
    artifact = store.put({"a.toml": "k = 3\n"})
    for path in (store.root / "objects").iterdir():
        path.write_text("k = 4\n", encoding="utf-8")
    with pytest.raises(ArtifactError, match="changed since it was stored"):
        store.files(artifact)


def test_deploy_needs_a_pass_and_rollback_restores_the_last_passing(tmp_path: Path) -> None:
    store = ArtifactStore.create(tmp_path / "store")
    one, two, bad = (store.put({"a.toml": f"k = {k}\n"}) for k in (1, 2, 3))
    with pytest.raises(ArtifactError, match="Nothing is deployed"):
        store.rollback()
    store.record(one, passed=True)
    store.deploy(one)
    with pytest.raises(ArtifactError, match="No artifact before"):
        store.rollback()
    store.record(two, passed=True)
    store.record(bad, passed=False)
    with pytest.raises(ArtifactError, match="has not passed the gate"):
        store.deploy(bad)
    store.deploy(two)
    assert store.rollback() == one
    assert store.deployed == one
    assert [e["event"] for e in store.history()][-1] == "rollback"


def test_create_refuses_a_folder_that_is_not_a_store(tmp_path: Path) -> None:
    (tmp_path / "keep").mkdir()
    (tmp_path / "keep" / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(ArtifactError, match="not an artifact store"):
        ArtifactStore.create(tmp_path / "keep")


def test_rollback_target_skips_blocked_later_and_current_entries() -> None:
    history = [
        {"artifact": "a", "passed": True},
        {"artifact": "b", "passed": False},
        {"artifact": "c", "passed": True},
        {"artifact": "d", "passed": True},
    ]
    assert _rollback_target(history, "c") == "a"
    assert _rollback_target(history, "a") is None
    assert _rollback_target([*history, {"artifact": "c", "passed": True}], "c") == "d"


def _rule_too_strict(baseline: list[float], candidate: list[float]) -> bool:
    return naive_gate(baseline, candidate, 0.0)


def test_held_out_feedback_is_pass_fail_only() -> None:
    # Counts per side on the held-out changes would let a learner tune on them.
    import re

    from course_lib.course.checking import check

    feedback = check("3.5.2", _rule_too_strict)
    assert not feedback.solved
    numbers = set(re.findall(r"\d+(?:\.\d+)*", feedback.line))
    assert numbers <= {"3.5.2", "150", "10", "6"}, feedback.line
    assert "noise" not in feedback.line and "regressions through" not in feedback.line
