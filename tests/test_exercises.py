"""Every exercise checker accepts the lesson's own solution and rejects the stub and the
plausible wrong answers below. A checker loosened to accept anything fails here."""

from __future__ import annotations

import ast
import sys
from pathlib import Path
from typing import Any

import pytest

from course_lib.course.build import Lesson, find_lessons
from course_lib.course.checking import all_exercises, check, evaluate, get_exercise
from course_lib.course.lesson_source import SOLUTION_TAG, learner_cells, read_lesson_source

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))

from wrong_answers import collect_wrong_answers  # noqa: E402

# Plausible wrong answers for every exercise, at least two each: one module per lesson in
# tests/wrong_answers/, so lessons are written side by side without editing one shared file.
WRONG_ANSWERS: dict[str, list[Any]] = collect_wrong_answers()


def _exercise_cells(lesson: Lesson, *, learner: bool) -> dict[str, str]:
    """Maps each exercise id to the source of the cell that holds its answer (or its stub)."""
    source = read_lesson_source(lesson.root / lesson.source)
    kept = [c for c in source.notebook.cells if SOLUTION_TAG not in c.metadata.get("tags", [])]
    stubbed = learner_cells(source)
    assert len(kept) == len(stubbed)
    pairs = [
        (full.source, stub.source)
        for full, stub in zip(kept, stubbed, strict=True)
        if full.cell_type == "code" and "# BEGIN SOLUTION" in full.source
    ]
    answers = {}
    for exercise_id in source.exercise_ids:
        spec = get_exercise(exercise_id)
        owner = [pair for pair in pairs if _defines(pair[0], spec.answer_name)]
        assert owner, (
            f"{lesson.source}: no exercise cell defines {spec.answer_name!r} for {exercise_id}"
        )
        answers[exercise_id] = owner[0][1] if learner else owner[0][0]
    return answers


def _defines(code: str, name: str) -> bool:
    tree = ast.parse(code)
    for node in tree.body:
        if (
            isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            and node.name == name
        ):
            return True
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            return True
    return False


def _answer_from(code: str, name: str) -> Any:
    namespace: dict[str, Any] = {}
    # dont_inherit: the cell runs as a notebook runs it, without this module's
    # `from __future__ import annotations` (which would leave pydantic annotations unresolved).
    exec(compile(code, f"<exercise cell defining {name}>", "exec", dont_inherit=True), namespace)
    return namespace[name]


LESSONS = find_lessons(ROOT)
CASES = [
    (lesson, exercise_id)
    for lesson in LESSONS
    for exercise_id in read_lesson_source(ROOT / lesson.source).exercise_ids
]


@pytest.mark.parametrize(("lesson", "exercise_id"), CASES, ids=[c[1] for c in CASES])
def test_accepts_the_lessons_own_solution(lesson: Lesson, exercise_id: str) -> None:
    spec = get_exercise(exercise_id)
    answer = _answer_from(_exercise_cells(lesson, learner=False)[exercise_id], spec.answer_name)
    feedback = evaluate(exercise_id, answer)
    assert feedback.solved, feedback.line


@pytest.mark.parametrize(("lesson", "exercise_id"), CASES, ids=[c[1] for c in CASES])
def test_rejects_the_learners_stub(lesson: Lesson, exercise_id: str) -> None:
    spec = get_exercise(exercise_id)
    answer = _answer_from(_exercise_cells(lesson, learner=True)[exercise_id], spec.answer_name)
    feedback = evaluate(exercise_id, answer)
    assert not feedback.solved and not feedback.checker_failed, feedback.line


WRONG_CASES = [
    (eid, i, wrong) for eid, wrongs in WRONG_ANSWERS.items() for i, wrong in enumerate(wrongs)
]


@pytest.mark.parametrize(
    ("exercise_id", "index", "wrong"), WRONG_CASES, ids=[f"{c[0]}-wrong{c[1]}" for c in WRONG_CASES]
)
def test_rejects_plausible_wrong_answers(exercise_id: str, index: int, wrong: Any) -> None:
    # Through check(), as a learner calls it: some shortcuts (an answer borrowing the course's
    # reference) are refused there, before the exercise's own checker runs.
    feedback = check(exercise_id, wrong)
    assert not feedback.solved, f"wrong answer {index} was accepted: {feedback.line}"
    assert not feedback.checker_failed, feedback.line
    assert "\n" not in feedback.line


def test_every_exercise_is_used_by_a_lesson_and_has_wrong_answers() -> None:
    """A new checker without tests, or without a lesson, fails here."""
    declared = {e.id for e in all_exercises()}
    used = {exercise_id for _, exercise_id in CASES}
    assert declared == used, (
        f"declared but unused: {declared - used}; used but undeclared: {used - declared}"
    )
    thin = {e: len(WRONG_ANSWERS.get(e, [])) for e in declared if len(WRONG_ANSWERS.get(e, [])) < 2}
    assert not thin, f"exercises with fewer than two wrong answers in WRONG_ANSWERS: {thin}"


def test_every_exercise_has_graded_hints_and_a_solution_path() -> None:
    for spec in all_exercises():
        assert len(spec.hints) >= 2, spec.id
        assert spec.solution and (ROOT / spec.solution).exists(), spec.id


def test_reference_passes_its_own_checker() -> None:
    """The fallback later cells use must itself be a correct answer."""
    for spec in all_exercises():
        if spec.reference is not None:
            assert evaluate(spec.id, spec.reference).solved, spec.id
