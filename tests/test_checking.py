"""The checker API: one line of feedback, graded hints, no traceback, strict mode for CI."""

from __future__ import annotations

import pytest

from course_lib.course import answer_or_reference, check, checking, hint
from course_lib.course.checking import CHECK_MIME, NotYet, Probe, evaluate, exercise
from course_lib.course.errors import CheckerError, ExerciseNotSolvedError, UnknownExerciseError


@pytest.fixture
def square_exercise():
    """A throwaway exercise: square a number."""

    @exercise(
        "99.1",
        title="Square",
        answer_name="square",
        reference=lambda x: x * x,
        solution="solutions/x.ipynb",
        hints=("Multiply.", "x * x.", "return x * x"),
    )
    def _check(answer, probe: Probe) -> str:
        for x in (0, 3, -2):
            got = probe.call(answer, x)
            probe.expect_type(got, int, probe.describe_call(x))
            probe.expect_equal(got, x * x, probe.describe_call(x))
        return "it squares."

    @exercise("99.2", title="Broken", answer_name="thing", expects_function=False, hints=("none",))
    def _broken(answer, probe: Probe) -> str:
        raise KeyError("bug in the checker")

    yield
    for key in ("99.1", "99.2"):
        checking._REGISTRY.pop(key, None)
        checking._HINTS_SHOWN.pop(key, None)


@pytest.mark.usefixtures("square_exercise")
@pytest.mark.parametrize(
    ("answer", "fragment"),
    [
        (None, "square is None"),
        (..., "still `...`"),
        (5, "should be a function, but it is an int"),
        (lambda x: None, "returned None; did you forget a `return`?"),
        (lambda x: str(x * x), "returned a str ('0'); expected an int"),
        (lambda x: 1 / 0, "raised ZeroDivisionError: division by zero"),
        (lambda x: x + x, "square(3) returned 6, expected 9"),
    ],
)
def test_wrong_answers_get_one_friendly_line(answer, fragment: str) -> None:
    feedback = evaluate("99.1", answer)
    assert not feedback.solved
    assert fragment in feedback.line
    assert feedback.line.startswith("❌ Exercise 99.1 not solved yet:")
    assert "hint('99.1')" in feedback.line
    assert "\n" not in feedback.line
    assert "Traceback" not in feedback.line


@pytest.mark.usefixtures("square_exercise")
def test_stub_is_reported_as_not_started() -> None:
    def square(x):
        raise NotImplementedError("Exercise: replace this line with your code")

    assert "still raises NotImplementedError" in evaluate("99.1", square).line


@pytest.mark.usefixtures("square_exercise")
def test_solved_answer_and_display_bundle() -> None:
    feedback = check("99.1", lambda x: x * x)
    assert feedback.solved and bool(feedback)
    assert feedback.line == "✅ Exercise 99.1 solved: it squares."
    bundle = feedback._repr_mimebundle_()
    assert bundle[CHECK_MIME] == {"exercise": "99.1", "solved": True}
    assert bundle["text/plain"] == feedback.line


@pytest.mark.usefixtures("square_exercise")
def test_strict_mode_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COURSE_STRICT", "1")
    assert check("99.1", lambda x: x * x).solved
    with pytest.raises(ExerciseNotSolvedError, match="not solved yet"):
        check("99.1", lambda x: x + x)
    with pytest.raises(CheckerError, match="bug in the course"):
        check("99.2", 1)


@pytest.mark.usefixtures("square_exercise")
def test_checker_bug_is_reported_not_raised_for_learners(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COURSE_STRICT", "0")
    feedback = check("99.2", 1)
    assert feedback.checker_failed and not feedback.solved
    assert feedback.line.startswith("⚠️ Exercise 99.2: the checker itself failed (KeyError")


@pytest.mark.usefixtures("square_exercise")
def test_hints_get_more_specific_then_point_at_the_solution() -> None:
    shown = [repr(hint("99.1")) for _ in range(4)]
    assert shown[0].startswith("Hint 1 of 3 for exercise 99.1: Multiply.")
    assert shown[1].startswith("Hint 2 of 3") and shown[2].startswith("Hint 3 of 3")
    assert "again" in shown[0] and "again" not in shown[2]
    assert "No more hints" in shown[3] and "solutions/x.ipynb" in shown[3]
    assert repr(hint("99.1", level=1)).startswith("Hint 1 of 3")


@pytest.mark.usefixtures("square_exercise")
def test_answer_or_reference_falls_back(capsys: pytest.CaptureFixture[str]) -> None:
    mine = lambda x: x * x  # noqa: E731
    assert answer_or_reference("99.1", mine) is mine
    fallback = answer_or_reference("99.1", None)
    assert fallback(4) == 16
    assert "Using the course's reference square" in capsys.readouterr().out


def test_unknown_exercise_lists_known_ones() -> None:
    with pytest.raises(
        UnknownExerciseError, match=r"No exercise '00.9'; known exercises are: 00.1"
    ):
        check("00.9", 1)


def test_duplicate_declaration_is_refused(square_exercise) -> None:
    with pytest.raises(ValueError, match="declared twice"):
        exercise("99.1", title="again", answer_name="x", hints=("h",))(lambda a, p: "")


def test_not_yet_inside_a_checker_is_the_message() -> None:
    with pytest.raises(NotYet, match="why"):
        raise NotYet("why")
