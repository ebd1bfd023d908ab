"""Every exercise checker accepts the lesson's own solution and rejects the stub and the
plausible wrong answers below. A checker loosened to accept anything fails here."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from course_lib.course.build import Lesson, find_lessons
from course_lib.course.checking import all_exercises, evaluate, get_exercise
from course_lib.course.exercises.lesson_00 import LAYER_OF
from course_lib.course.lesson_source import SOLUTION_TAG, learner_cells, read_lesson_source

ROOT = Path(__file__).resolve().parents[1]


def _count_all_lines(source: str) -> int:
    return len(source.splitlines())


def _count_non_blank(source: str) -> int:
    return sum(1 for line in source.splitlines() if line.strip())


def _count_non_blank_non_comment(source: str) -> int:
    return sum(
        1 for line in source.splitlines() if line.strip() and not line.strip().startswith("#")
    )


def _count_skipping_only_one_line_docstrings(source: str) -> int:
    return sum(
        1
        for line in source.splitlines()
        if line.strip() and not line.strip().startswith("#") and not line.strip().startswith('"""')
    )


def _count_with_split_newline(source: str) -> int:
    # Off by one on the last line: "a\n".split("\n") == ["a", ""] but "" counts nowhere...
    skip = set()
    for node in ast.walk(ast.parse(source)):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            skip.update(range(body[0].lineno, (body[0].end_lineno or 0) + 1))
    lines = source.split("\n")
    return sum(
        1 for n, line in enumerate(lines, 1) if n not in skip and not line.strip().startswith("#")
    )


def _swap(mapping: dict[str, int], key: str, value: int) -> dict[str, int]:
    changed = dict(mapping)
    changed[key] = value
    return changed


# Plausible wrong answers for every exercise: at least two each.
WRONG_ANSWERS: dict[str, list[Any]] = {
    "00.1": [
        _count_all_lines,
        _count_non_blank,
        _count_non_blank_non_comment,
        _count_skipping_only_one_line_docstrings,
        _count_with_split_newline,
    ],
    "00.2": [
        _swap(LAYER_OF, "trace every model call with its tokens and cost", 1),
        _swap(LAYER_OF, "pin every dependency in a lock file", 4),
        {k: str(v) for k, v in LAYER_OF.items()},
        {k: v for k, v in LAYER_OF.items() if "cache" not in k},
        dict.fromkeys(LAYER_OF, 1),
        list(LAYER_OF.items()),
    ],
}


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
    exec(compile(code, f"<exercise cell defining {name}>", "exec"), namespace)
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
    feedback = evaluate(exercise_id, wrong)
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
