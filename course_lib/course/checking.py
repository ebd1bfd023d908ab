"""Exercises that check themselves: ``check``, ``hint`` and ``answer_or_reference``.

A lesson calls ``check("00.1", count_code_lines)`` after an exercise. The checker runs the
learner's answer on cases the learner has not seen and prints one line: solved, or not yet and
why. ``hint("00.1")`` gives hints that get more specific each time it is called.

Nothing a learner writes can make a checker print a traceback: ``None``, ``...``, a wrong type
or an exception inside the learner's code each get a plain sentence. In strict mode
(``COURSE_STRICT=1``, which CI and ``course build`` set for solution notebooks) a failing check
raises :class:`~course_lib.course.errors.ExerciseNotSolvedError` instead, so a broken
solution cannot pass unnoticed.

Checkers live in ``course_lib.course.exercises.lesson_<lesson>`` modules and are declared with
:func:`exercise`; CONTRIBUTING.md shows how to write and test one.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from course_lib.course.errors import CheckerError, ExerciseNotSolvedError, UnknownExerciseError

__all__ = [
    "CHECK_MIME",
    "Exercise",
    "Feedback",
    "NotYet",
    "Probe",
    "all_exercises",
    "answer_or_reference",
    "check",
    "evaluate",
    "exercise",
    "get_exercise",
    "hint",
]

CHECK_MIME = "application/vnd.course.check+json"
_REGISTRY: dict[str, Exercise] = {}
_HINTS_SHOWN: dict[str, int] = {}

Checker = Callable[[Any, "Probe"], str]


class NotYet(Exception):
    """Raised inside a checker: the answer is not right yet; the message says why."""


@dataclass(frozen=True)
class Exercise:
    """One exercise: its checker, its hints, and the reference later cells fall back to."""

    id: str
    title: str
    checker: Checker
    hints: tuple[str, ...]
    answer_name: str
    expects_function: bool = True
    reference: Any = None
    solution: str = ""

    def __post_init__(self) -> None:
        if not self.hints:
            raise ValueError(f"exercise {self.id!r} needs at least one hint")


@dataclass(frozen=True)
class Feedback:
    """The verdict of one check, shown as a single line."""

    exercise_id: str
    solved: bool
    message: str
    checker_failed: bool = field(default=False)

    @property
    def line(self) -> str:
        if self.checker_failed:
            return f"⚠️ Exercise {self.exercise_id}: {self.message}"
        if self.solved:
            return f"✅ Exercise {self.exercise_id} solved: {self.message}"
        return (
            f"❌ Exercise {self.exercise_id} not solved yet: {self.message} "
            f"For a hint, run hint({self.exercise_id!r})."
        )

    def __str__(self) -> str:
        return self.line

    def __repr__(self) -> str:
        return self.line

    def __bool__(self) -> bool:
        return self.solved

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        data = {"exercise": self.exercise_id, "solved": self.solved}
        return {"text/plain": self.line, CHECK_MIME: data}


class Probe:
    """What a checker uses to run the learner's code and compare results politely."""

    def __init__(self, name: str) -> None:
        self.name = name

    def call(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Calls the learner's function, turning any exception into a :class:`NotYet`."""
        shown = self.describe_call(*args, **kwargs)
        try:
            return function(*args, **kwargs)
        except NotImplementedError:
            raise NotYet(
                f"{self.name} still raises NotImplementedError; replace the stub with your code."
            ) from None
        except Exception as exc:
            detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            raise NotYet(
                f"{shown} raised {type(exc).__name__}" + (f": {detail}" if detail else "") + "."
            ) from None

    def describe_call(self, *args: Any, **kwargs: Any) -> str:
        parts = [_short_repr(a) for a in args] + [
            f"{k}={_short_repr(v)}" for k, v in kwargs.items()
        ]
        return f"{self.name}({', '.join(parts)})"

    def expect_type(self, value: Any, expected: type | tuple[type, ...], what: str) -> None:
        """Fails with a friendly sentence unless ``value`` is an instance of ``expected``."""
        if value is None:
            raise NotYet(f"{what} returned None; did you forget a `return`?")
        if isinstance(expected, type) and expected is int and isinstance(value, bool):
            raise NotYet(f"{what} returned a bool ({value!r}); expected an int.")
        if not isinstance(value, expected):
            names = (
                expected.__name__
                if isinstance(expected, type)
                else " or ".join(t.__name__ for t in expected)
            )
            raise NotYet(
                f"{what} returned {_article(type(value).__name__)} ({_short_repr(value)}); "
                f"expected {_article(names)}."
            )

    def expect_equal(self, got: Any, expected: Any, what: str, why: str = "") -> None:
        """Fails unless ``got == expected``; ``why`` explains the case to the learner."""
        if got != expected:
            reason = f" ({why})" if why else ""
            raise NotYet(
                f"{what} returned {_short_repr(got)}, expected {_short_repr(expected)}{reason}."
            )


def _article(noun: str) -> str:
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun


def _short_repr(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def exercise(
    id: str,
    *,
    title: str,
    hints: tuple[str, ...] | list[str],
    answer_name: str,
    expects_function: bool = True,
    reference: Any = None,
    solution: str = "",
) -> Callable[[Checker], Checker]:
    """Declares the checker of exercise ``id``: ``@exercise("00.1", title=..., hints=[...])``.

    The checker receives the learner's answer and a :class:`Probe`; it raises :class:`NotYet`
    with a reason when the answer is wrong, and returns a short sentence of praise when right.
    """

    def register(checker: Checker) -> Checker:
        if id in _REGISTRY and _REGISTRY[id].checker is not checker:
            raise ValueError(f"exercise {id!r} is declared twice")
        _REGISTRY[id] = Exercise(
            id=id,
            title=title,
            checker=checker,
            hints=tuple(hints),
            answer_name=answer_name,
            expects_function=expects_function,
            reference=reference,
            solution=solution,
        )
        return checker

    return register


def _lesson_module(exercise_id: str) -> str:
    lesson = exercise_id.rsplit(".", 1)[0]
    return f"course_lib.course.exercises.lesson_{lesson.replace('.', '_')}"


def get_exercise(exercise_id: str) -> Exercise:
    """Returns the exercise registered as ``exercise_id``, importing its lesson's checkers."""
    if exercise_id not in _REGISTRY:
        module = _lesson_module(exercise_id)
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
    if exercise_id not in _REGISTRY:
        known = ", ".join(sorted(e.id for e in all_exercises())) or "none"
        raise UnknownExerciseError(
            f"No exercise {exercise_id!r}; known exercises are: {known}. "
            "Check the id in the exercise's heading."
        )
    return _REGISTRY[exercise_id]


def all_exercises() -> list[Exercise]:
    """Returns every registered exercise, importing all lesson checker modules."""
    from course_lib.course import exercises

    for info in pkgutil.iter_modules(exercises.__path__):
        importlib.import_module(f"{exercises.__name__}.{info.name}")
    return sorted(
        _REGISTRY.values(), key=lambda e: [int(p) if p.isdigit() else p for p in e.id.split(".")]
    )


def evaluate(exercise_id: str, answer: Any) -> Feedback:
    """Runs the checker and returns its verdict; never raises for anything the learner wrote."""
    spec = get_exercise(exercise_id)
    if answer is Ellipsis:
        return Feedback(
            exercise_id, False, f"{spec.answer_name} is still `...`; replace it with your answer."
        )
    if answer is None:
        return Feedback(
            exercise_id,
            False,
            f"{spec.answer_name} is None; "
            + (
                "define the function and run its cell."
                if spec.expects_function
                else "assign your answer to it."
            ),
        )
    if spec.expects_function and not callable(answer):
        return Feedback(
            exercise_id,
            False,
            f"{spec.answer_name} should be a function, but it is "
            f"{_article(type(answer).__name__)} ({_short_repr(answer)}).",
        )
    try:
        praise = spec.checker(answer, Probe(spec.answer_name))
    except NotYet as verdict:
        return Feedback(exercise_id, False, str(verdict))
    except Exception as exc:  # a bug in the checker itself, not in the learner's answer
        return Feedback(
            exercise_id,
            False,
            f"the checker itself failed ({type(exc).__name__}: {exc}). This is a bug in the "
            "course, not in your answer; please report it.",
            checker_failed=True,
        )
    return Feedback(exercise_id, True, praise)


def _strict() -> bool:
    from course_lib.settings import load_settings

    return load_settings().strict


def check(exercise_id: str, answer: Any) -> Feedback:
    """Checks the learner's answer to ``exercise_id`` and returns a one-line verdict.

    Raises:
        ExerciseNotSolvedError: in strict mode, when the answer is not right.
        CheckerError: in strict mode, when the checker itself is broken.
    """
    feedback = evaluate(exercise_id, answer)
    if not feedback.solved and _strict():
        error = CheckerError if feedback.checker_failed else ExerciseNotSolvedError
        raise error(feedback.line)
    return feedback


@dataclass(frozen=True)
class _Hint:
    text: str

    def __repr__(self) -> str:
        return self.text


def hint(exercise_id: str, level: int | None = None) -> _Hint:
    """Shows the next hint for ``exercise_id``; each call is more specific than the last.

    Args:
        exercise_id: the exercise, e.g. ``"00.1"``.
        level: show this hint (1 is the gentlest) instead of the next one.
    """
    spec = get_exercise(exercise_id)
    count = len(spec.hints)
    if level is None:
        level = _HINTS_SHOWN.get(exercise_id, 0) + 1
    if level > count:
        where = f" The worked answer is in {spec.solution}." if spec.solution else ""
        return _Hint(f"No more hints for exercise {exercise_id} (there are {count}).{where}")
    if level < 1:
        raise ValueError(f"level must be 1 or more (got {level})")
    _HINTS_SHOWN[exercise_id] = max(level, _HINTS_SHOWN.get(exercise_id, 0))
    more = " Run hint() again for a more specific one." if level < count else ""
    return _Hint(
        f"Hint {level} of {count} for exercise {exercise_id}: {spec.hints[level - 1]}{more}"
    )


def answer_or_reference(exercise_id: str, answer: Any) -> Any:
    """Returns the learner's answer when it passes its check, else the course's reference.

    Later cells call this so the lesson's story goes on even when an exercise is skipped.
    """
    spec = get_exercise(exercise_id)
    if spec.reference is None:
        raise CheckerError(f"Exercise {exercise_id!r} declares no reference to fall back to.")
    if evaluate(exercise_id, answer).solved:
        print(f"Using your {spec.answer_name} from exercise {exercise_id}.")
        return answer
    print(
        f"Using the course's reference {spec.answer_name} until your answer to exercise "
        f"{exercise_id} passes."
    )
    return spec.reference
