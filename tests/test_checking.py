"""The checker API: one line of feedback, graded hints, no traceback, strict mode for CI."""

from __future__ import annotations

import sys
import time
import types

import pytest

from course_lib.course import answer_or_reference, check, checking, hint
from course_lib.course.checking import (
    CHECK_MIME,
    NotYet,
    Probe,
    evaluate,
    exercise,
    get_exercise,
)
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
def test_an_exception_ending_in_a_full_stop_gets_one() -> None:
    def square(x):
        raise ValueError("x must be positive.")

    line = evaluate("99.1", square).line
    assert "raised ValueError: x must be positive." in line and ".." not in line


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


@pytest.mark.usefixtures("square_exercise")
def test_the_reference_handed_back_is_not_the_learners_answer(
    capsys: pytest.CaptureFixture[str],
) -> None:
    fallback = answer_or_reference("99.1", None)
    feedback = check("99.1", fallback)
    assert not feedback.solved
    assert "the course's reference square" in feedback.line
    assert "pass the square you wrote" in feedback.line
    assert check("99.1", lambda x: x**2).solved  # a function of one's own is checked


@pytest.mark.usefixtures("square_exercise")
def test_a_function_that_borrows_the_reference_is_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    fallback = answer_or_reference("99.1", None)
    capsys.readouterr()

    def wraps_it(x: int) -> int:
        return fallback(x)

    def asks_for_it(x: int) -> int:
        return answer_or_reference("99.1", None)(x)

    reference_module = types.ModuleType("lesson_99")
    reference_module.square = checking._REGISTRY["99.1"].reference  # type: ignore[attr-defined]
    package = types.ModuleType("exercises")
    package.lesson_99 = reference_module  # type: ignore[attr-defined]

    def through_the_module(x: int) -> int:
        return package.lesson_99.square(x)  # type: ignore[attr-defined, no-any-return]

    for borrowed in (wraps_it, lambda x: fallback(x), through_the_module):
        feedback = check("99.1", borrowed)
        assert not feedback.solved
        assert "calls the course's reference answer" in feedback.line
    feedback = check("99.1", asks_for_it)
    assert not feedback.solved and "calls answer_or_reference" in feedback.line

    def imports_it(x: int) -> int:
        from course_lib.course.exercises import lesson_1_1  # noqa: F401 (the module is enough)

        return x * x

    imports_it.__module__ = "tests"
    checking._REGISTRY["99.1"].reference.__module__ = "course_lib.course.exercises.lesson_1_1"
    feedback = check("99.1", imports_it)
    assert not feedback.solved and "calls the course's reference answer" in feedback.line

    def square(x: int) -> int:  # the reference's own name, but the learner's own code
        return x * x if x >= 0 else square(-x)

    assert check("99.1", square).solved


def test_values_equal_to_the_reference_are_checked_as_usual() -> None:
    @exercise(
        "99.3",
        title="Answer",
        answer_name="ANSWER",
        expects_function=False,
        reference=7,
        hints=("Seven.",),
    )
    def _check(answer, probe: Probe) -> str:
        probe.expect_equal(answer, 7, "ANSWER")
        return "right."

    try:
        assert check("99.3", 7).solved  # small ints are one object: a value never counts
    finally:
        checking._REGISTRY.pop("99.3", None)


def test_answer_calls_finds_the_library_function_by_any_name() -> None:
    import json
    from json import dumps as encode

    from course_lib.course import checking as module

    def direct(x):
        return json.dumps(x)

    def aliased(x):
        return encode(x)

    def nested(x):
        def inner():
            return json.dumps(x)

        return inner()

    def own(x):
        return "[" + ",".join(str(v) for v in x) + "]"

    for answer in (direct, aliased, nested, json.dumps):
        assert module.answer_calls(answer, json.dumps) or answer is json.dumps
    assert not module.answer_calls(own, json.dumps)
    assert not module.answer_calls(42, json.dumps)


def test_unknown_exercise_lists_known_ones() -> None:
    with pytest.raises(UnknownExerciseError, match=r"No exercise 'zz'; known exercises are: 00.1"):
        get_exercise("zz")


def test_duplicate_declaration_is_refused(square_exercise) -> None:
    with pytest.raises(ValueError, match="declared twice"):
        exercise("99.1", title="again", answer_name="x", hints=("h",))(lambda a, p: "")


def test_not_yet_inside_a_checker_is_the_message() -> None:
    with pytest.raises(NotYet, match="why"):
        raise NotYet("why")


# --- Learner code that misbehaves: every case still ends in one line, and the kernel lives on.

LIMIT = 1.0
MARGIN = 3.0  # generous: the assertions are on the message, the timing only catches a hang


@pytest.fixture
def guarded_exercises():
    """A square exercise with a one-second limit, and one whose checker calls the answer
    directly and repr()s it, as some lesson checkers do, instead of going through the Probe."""

    @exercise("99.3", title="Quick square", answer_name="square", hints=("x * x",), time_limit=1)
    def _quick(answer, probe: Probe) -> str:
        got = probe.call(answer, 3)
        probe.expect_type(got, int, probe.describe_call(3))
        probe.expect_equal(got, 9, probe.describe_call(3))
        return "it squares."

    @exercise(
        "99.4",
        title="Direct",
        answer_name="thing",
        expects_function=False,
        hints=("h",),
        time_limit=1,
    )
    def _direct(answer, probe: Probe) -> str:
        got = answer(3) if callable(answer) else answer
        if got != 9:
            raise NotYet("thing gave " + repr(got) + ", expected 9.")
        return "fine."

    yield
    for key in ("99.3", "99.4"):
        checking._REGISTRY.pop(key, None)
        checking._HINTS_SHOWN.pop(key, None)


def _one_line_not_solved(line: str, exercise_id: str) -> None:
    assert line.startswith(f"❌ Exercise {exercise_id} not solved yet:"), line
    assert "\n" not in line and "Traceback" not in line and len(line) < 700, line[:300]


def _timed_check(exercise_id: str, answer) -> tuple[str, float]:
    start = time.monotonic()
    line = check(exercise_id, answer).line
    return line, time.monotonic() - start


@pytest.mark.usefixtures("guarded_exercises")
@pytest.mark.parametrize("exercise_id", ["99.3", "99.4"])
def test_an_endless_loop_is_stopped_at_the_time_limit(exercise_id: str) -> None:
    def square(x):
        give_up = time.monotonic() + 20  # endless for the check; ends so a hang cannot last
        while time.monotonic() < give_up:
            pass

    line, elapsed = _timed_check(exercise_id, square)
    _one_line_not_solved(line, exercise_id)
    assert "took longer than 1 s" in line
    assert "still running" not in line, "a Python loop must actually be stopped"
    assert elapsed < LIMIT + MARGIN


@pytest.mark.usefixtures("guarded_exercises")
def test_a_long_sleep_answers_at_the_time_limit_and_says_it_still_runs() -> None:
    line, elapsed = _timed_check("99.3", lambda x: time.sleep(30))
    _one_line_not_solved(line, "99.3")
    assert "square(3) took longer than 1 s" in line
    assert "still running in the background" in line and "restart the kernel" in line
    assert elapsed < LIMIT + MARGIN


@pytest.mark.usefixtures("guarded_exercises")
def test_the_checker_is_usable_after_a_time_out() -> None:
    check("99.3", lambda x: time.sleep(30))
    assert check("99.3", lambda x: x * x).solved


def _interrupt() -> None:
    raise KeyboardInterrupt


@pytest.mark.usefixtures("guarded_exercises")
@pytest.mark.parametrize("exercise_id", ["99.3", "99.4"])
@pytest.mark.parametrize(
    ("stop", "name"),
    [
        (lambda: sys.exit(1), "SystemExit"),
        (lambda: exit(), "SystemExit"),
        (lambda: _interrupt(), "KeyboardInterrupt"),
    ],
)
def test_sys_exit_and_keyboard_interrupt_are_reported_not_raised(
    exercise_id: str, stop, name: str
) -> None:
    line = check(exercise_id, lambda x: stop()).line
    _one_line_not_solved(line, exercise_id)
    assert f"raised {name}" in line


@pytest.mark.usefixtures("guarded_exercises")
def test_a_megabyte_of_print_is_captured_and_cut(capsys: pytest.CaptureFixture[str]) -> None:
    def square(x):
        print("x" * 1_000_000)
        print("more", file=sys.stderr)
        return x * x

    assert check("99.3", square).solved
    shown = capsys.readouterr()
    assert len(shown.out) < 1000
    assert shown.out.startswith("xxx") and "... (999501 more characters)" in shown.out
    assert shown.err == "more\n"


@pytest.mark.usefixtures("guarded_exercises")
def test_short_prints_are_shown_unchanged(capsys: pytest.CaptureFixture[str]) -> None:
    def square(x):
        print("debugging", x)
        return x * x

    assert check("99.3", square).solved
    assert capsys.readouterr().out == "debugging 3\n"


@pytest.mark.usefixtures("guarded_exercises")
@pytest.mark.parametrize("exercise_id", ["99.3", "99.4"])
def test_a_megabyte_exception_message_is_cut(exercise_id: str) -> None:
    def square(x):
        raise ValueError("y" * 1_000_000)

    line = check(exercise_id, square).line
    _one_line_not_solved(line, exercise_id)
    assert "more characters)" in line


class _BrokenRepr:
    def __repr__(self) -> str:
        raise ValueError("no repr for you")


@pytest.mark.usefixtures("guarded_exercises")
@pytest.mark.parametrize(
    ("exercise_id", "answer", "fragment"),
    [
        ("99.3", lambda x: _BrokenRepr(), "returned a _BrokenRepr (<_BrokenRepr object; its"),
        ("99.3", _BrokenRepr(), "should be a function, but it is a _BrokenRepr"),
        ("99.4", _BrokenRepr(), "your __repr__() raised ValueError: no repr for you"),
    ],
)
def test_a_broken_repr_is_the_learners_problem_not_the_courses(
    exercise_id: str, answer, fragment: str
) -> None:
    feedback = check(exercise_id, answer)
    assert not feedback.checker_failed
    _one_line_not_solved(feedback.line, exercise_id)
    assert fragment in feedback.line


@pytest.mark.usefixtures("square_exercise")
@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda: check(None, abs), "needs the exercise id as a string in quotes"),
        (lambda: check(0.1, abs), "it got a float (0.1)"),
        (lambda: check(abs, "99.1"), "takes the exercise id first"),
        (lambda: check(["99.1"], abs), "it got a list"),
        (lambda: hint(None), "hint() needs the exercise id as a string"),
        (lambda: hint("99.1", level="a"), "level is a hint number from 1 to 3"),
        (lambda: hint("99.1", level=0), "has hints 1 to 3"),
        (lambda: hint("nope"), "No exercise 'nope'"),
    ],
)
def test_malformed_calls_answer_in_one_line(
    monkeypatch: pytest.MonkeyPatch, call, fragment: str
) -> None:
    monkeypatch.setenv("COURSE_STRICT", "0")
    line = repr(call())
    assert line.startswith("⚠️ ") and fragment in line, line
    assert "\n" not in line


@pytest.mark.usefixtures("square_exercise")
def test_missing_answer_and_out_of_range_level_answer_in_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COURSE_STRICT", "0")
    assert "needs your answer too, like check('99.1', square)" in check("99.1").line
    assert repr(hint("99.1", level=7)).startswith("No more hints for exercise 99.1")


def test_unknown_id_names_the_nearest_known_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COURSE_STRICT", "0")
    feedback = check("00.9", abs)
    assert not feedback.solved and feedback.usage_error
    assert feedback.line.startswith("⚠️ No exercise '00.9'; did you mean ")
    assert "'00.1'" in feedback.line and "\n" not in feedback.line
    assert "did you mean '1.1.1', '1.1.2' or " in repr(hint("1.1.l"))


def test_malformed_calls_still_fail_in_strict_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COURSE_STRICT", "1")
    with pytest.raises(UnknownExerciseError, match="did you mean"):
        check("00.9", abs)
    with pytest.raises(UnknownExerciseError, match="as a string in quotes"):
        check(None, abs)
