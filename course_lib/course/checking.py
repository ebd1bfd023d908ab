"""Exercises that check themselves: ``check``, ``hint`` and ``answer_or_reference``.

A lesson calls ``check("00.1", count_code_lines)`` after an exercise. The checker runs the
learner's answer on cases the learner has not seen and prints one line: solved, or not yet and
why. ``hint("00.1")`` gives hints that get more specific each time it is called.

Nothing a learner writes can make a checker print a traceback: ``None``, ``...``, a wrong type,
an exception inside the learner's code, a function that never returns (stopped after the
exercise's ``time_limit``, see :mod:`course_lib.course.guard`), ``sys.exit()``, a megabyte of
output or a ``__repr__`` that raises each get a plain sentence, and so does a malformed call
such as ``check(None, f)``, an unknown id (with the nearest known ids) or ``hint(id, level="a")``.
In strict mode (``COURSE_STRICT=1``, which CI and ``course build`` set for solution notebooks) a
failing check raises :class:`~course_lib.course.errors.ExerciseNotSolvedError` instead, so a
broken solution cannot pass unnoticed.

Checkers live in ``course_lib.course.exercises.lesson_<lesson>`` modules and are declared with
:func:`exercise`; CONTRIBUTING.md shows how to write and test one.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import os
import pkgutil
import re
import sys
import sysconfig
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from course_lib.course.errors import CheckerError, ExerciseNotSolvedError, UnknownExerciseError
from course_lib.course.guard import Outcome, run_guarded, safe_repr, shorten

__all__ = [
    "CHECK_MIME",
    "DEFAULT_TIME_LIMIT",
    "Exercise",
    "Feedback",
    "NotYet",
    "Probe",
    "all_exercises",
    "answer_calls",
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

DEFAULT_TIME_LIMIT = 5.0
"""Seconds a checker may run the learner's code: every current checker needs well under two
even on a cold start; an exercise that needs longer declares its own ``time_limit``."""

DETAIL_LIMIT = 200
"""Characters of a learner's exception message quoted in a verdict."""

MESSAGE_LIMIT = 600
"""Characters of a whole verdict: one line stays readable however long the learner's text."""

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
    time_limit: float | None = DEFAULT_TIME_LIMIT

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
    usage_error: bool = field(default=False)

    @property
    def line(self) -> str:
        if self.usage_error:
            return f"⚠️ {self.message}"
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
        self.running: str | None = None
        """The call in progress, named in the verdict if it never returns."""

    def call(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Calls the learner's function, turning any exception into a :class:`NotYet`."""
        return self.call_as(self.describe_call(*args, **kwargs), function, *args, **kwargs)

    def call_as(self, shown: str, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """:meth:`call`, naming the call ``shown`` in a verdict: for arguments too large to
        print, a checker describes the hidden case in words instead."""
        self.running = shown  # left set if the call never returns: the time limit names it
        try:
            result = function(*args, **kwargs)
        except NotImplementedError:
            raise NotYet(
                f"{self.name} still raises NotImplementedError; replace the stub with your code."
            ) from None
        except (SystemExit, KeyboardInterrupt) as exc:
            raise NotYet(_stopping_exception(shown, exc)) from None
        except Exception as exc:
            detail = _exception_detail(exc)
            raise NotYet(
                f"{shown} raised {type(exc).__name__}"
                + (f": {detail.rstrip('.')}" if detail else "")
                + "."
            ) from None
        self.running = None
        return result

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
    return safe_repr(value, limit)


def _exception_detail(exc: BaseException) -> str:
    """The first line of ``exc``'s message, cut to :data:`DETAIL_LIMIT` characters."""
    try:
        text = str(exc).strip()
    except Exception:  # a learner's exception whose __str__ itself raises
        return ""
    return shorten(text.splitlines()[0], DETAIL_LIMIT) if text else ""


def _stopping_exception(where: str, exc: BaseException) -> str:
    """Why ``SystemExit`` or ``KeyboardInterrupt`` from learner code is not an answer."""
    if isinstance(exc, SystemExit):
        return (
            f"{where} raised SystemExit (sys.exit(), exit() or quit()), which would stop the "
            "notebook's kernel; return your answer instead."
        )
    return (
        f"{where} raised KeyboardInterrupt; if you pressed Interrupt, run the check again, "
        "otherwise return your answer instead of raising it."
    )


def exercise(
    id: str,
    *,
    title: str,
    hints: tuple[str, ...] | list[str],
    answer_name: str,
    expects_function: bool = True,
    reference: Any = None,
    solution: str = "",
    time_limit: float | None = DEFAULT_TIME_LIMIT,
) -> Callable[[Checker], Checker]:
    """Declares the checker of exercise ``id``: ``@exercise("00.1", title=..., hints=[...])``.

    The checker receives the learner's answer and a :class:`Probe`; it raises :class:`NotYet`
    with a reason when the answer is wrong, and returns a short sentence of praise when right.
    It runs for at most ``time_limit`` seconds (``None``: in the calling thread, unguarded, for
    answers that cannot leave it; see :mod:`course_lib.course.guard`).
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
            time_limit=time_limit,
        )
        return checker

    return register


_ID_SHAPE = re.compile(r"[0-9A-Za-z_.]+")
_NO_ANSWER: Any = object()
_COURSE_DIR = os.path.normcase(str(Path(__file__).resolve().parents[1]))


def _lesson_module(exercise_id: str) -> str:
    lesson = exercise_id.rsplit(".", 1)[0]
    return f"course_lib.course.exercises.lesson_{lesson.replace('.', '_')}"


def _import_lesson(exercise_id: str) -> None:
    """Imports the checkers of ``exercise_id``'s lesson, if that lesson has any."""
    if not _ID_SHAPE.fullmatch(exercise_id):  # not an id: nothing to import
        return
    module = _lesson_module(exercise_id)
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise


def _unknown_id_message(exercise_id: str) -> str:
    """One line naming the known ids nearest to ``exercise_id``, or all of them."""
    known = [e.id for e in all_exercises()]
    near = set(difflib.get_close_matches(exercise_id, known, n=3, cutoff=0.6))
    if near:
        quoted = [repr(k) for k in known if k in near]  # in the course's order
        listed = quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"
        return (
            f"No exercise {exercise_id!r}; did you mean {listed}? "
            "Check the id in the exercise's heading."
        )
    return (
        f"No exercise {exercise_id!r}; known exercises are: {', '.join(known) or 'none'}. "
        "Check the id in the exercise's heading."
    )


def get_exercise(exercise_id: str) -> Exercise:
    """Returns the exercise registered as ``exercise_id``, importing its lesson's checkers."""
    if exercise_id not in _REGISTRY:
        _import_lesson(exercise_id)
    if exercise_id not in _REGISTRY:
        raise UnknownExerciseError(_unknown_id_message(exercise_id))
    return _REGISTRY[exercise_id]


def _find(exercise_id: object, function: str) -> Exercise | str:
    """The exercise ``check`` or ``hint`` (``function``) was called for, or the one line that
    tells the learner how to fix the call."""
    example = "check('00.1', count_code_lines)" if function == "check" else "hint('00.1')"
    if callable(exercise_id):
        return f"{function}() takes the exercise id first, in quotes, like {example}."
    if not isinstance(exercise_id, str):
        given = "None" if exercise_id is None else _article(type(exercise_id).__name__)
        if exercise_id is not None:
            given += f" ({_short_repr(exercise_id)})"
        return (
            f"{function}() needs the exercise id as a string in quotes, like {example}; "
            f"it got {given}."
        )
    try:
        return get_exercise(exercise_id)
    except UnknownExerciseError as exc:
        return str(exc.args[0])


def all_exercises() -> list[Exercise]:
    """Returns every registered exercise, importing all lesson checker modules."""
    from course_lib.course import exercises

    for info in pkgutil.iter_modules(exercises.__path__):
        importlib.import_module(f"{exercises.__name__}.{info.name}")
    return sorted(
        _REGISTRY.values(), key=lambda e: [int(p) if p.isdigit() else p for p in e.id.split(".")]
    )


def _not_an_answer(spec: Exercise, answer: Any) -> str | None:
    """Why ``answer`` cannot be checked at all (``...``, ``None``, not a function), if it can't."""
    if answer is Ellipsis:
        return f"{spec.answer_name} is still `...`; replace it with your answer."
    if answer is None:
        return f"{spec.answer_name} is None; " + (
            "define the function and run its cell."
            if spec.expects_function
            else "assign your answer to it."
        )
    if spec.expects_function and not callable(answer):
        return (
            f"{spec.answer_name} should be a function, but it is "
            f"{_article(type(answer).__name__)} ({_short_repr(answer)})."
        )
    return None


def evaluate(exercise_id: str, answer: Any) -> Feedback:
    """Runs the checker and returns its verdict; never raises for anything the learner wrote.

    The learner's code runs under :func:`~course_lib.course.guard.run_guarded`: at most the
    exercise's ``time_limit``, its output captured, then shown again cut to a few hundred
    characters, before the verdict, where it would have appeared anyway.
    """
    spec = get_exercise(exercise_id)
    reason = _not_an_answer(spec, answer)
    if reason is not None:
        return Feedback(exercise_id, False, reason)
    probe = Probe(spec.answer_name)
    outcome = run_guarded(lambda: spec.checker(answer, probe), spec.time_limit)
    if outcome.stdout:
        sys.stdout.write(outcome.stdout)
    if outcome.stderr:
        sys.stderr.write(outcome.stderr)
    solved, message, checker_failed = _verdict(spec, probe, outcome)
    return Feedback(exercise_id, solved, _one_line(message), checker_failed=checker_failed)


def _verdict(spec: Exercise, probe: Probe, outcome: Outcome) -> tuple[bool, str, bool]:
    """``(solved, message, checker_failed)`` for what happened when the checker ran."""
    where = probe.running or spec.answer_name
    if outcome.timed_out:
        message = (
            f"{where} took longer than {spec.time_limit:g} s, so the check stopped waiting; "
            "look for a loop that never ends or a long sleep or wait."
        )
        if outcome.still_running:
            message += (
                " It is still running in the background: if the notebook gets slow, restart "
                "the kernel and run the cells again."
            )
        return False, message, False
    if outcome.interrupted:
        return False, "the check was interrupted; run it again when you are ready.", False
    error = outcome.error
    if error is None:
        return True, str(outcome.value), False
    if isinstance(error, NotYet):
        return False, str(error), False
    if isinstance(error, SystemExit | KeyboardInterrupt):
        return False, _stopping_exception(where, error), False
    raised = f"{type(error).__name__}" + (f": {d}" if (d := _exception_detail(error)) else "")
    learner_function = _learner_frame(error, spec.checker)
    if learner_function is not None:
        return (
            False,
            f"your {learner_function}() raised {raised} while the checker was looking at "
            f"{spec.answer_name}; fix it and run the check again.",
            False,
        )
    return (
        False,
        f"the checker itself failed ({raised}). This is a bug in the course, not in your "
        "answer; please report it.",
        True,
    )


def _library_dirs() -> tuple[str, ...]:
    """Folders of the Python installation: code there is neither the course's nor yours."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    paths.update(sysconfig.get_paths().get(key, "") for key in ("stdlib", "purelib", "platlib"))
    return tuple(os.path.normcase(os.path.abspath(p)) + os.sep for p in paths if p)


def _learner_frame(error: BaseException, checker: Checker) -> str | None:
    """The name of the innermost function in ``error``'s traceback that is the learner's:
    neither the checker, the course's package, nor the Python installation. An exception
    raised there (say, in the learner's ``__repr__``) is the learner's bug, not the course's."""
    checker_code = getattr(checker, "__code__", None)
    library = _library_dirs()
    found: str | None = None
    trace: types.TracebackType | None = error.__traceback__
    while trace is not None:
        code = trace.tb_frame.f_code
        path = os.path.normcase(os.path.abspath(code.co_filename))
        ours = path.startswith((_COURSE_DIR + os.sep, *library)) or code is checker_code
        if not ours and not code.co_filename.startswith("<frozen"):
            found = code.co_name
        trace = trace.tb_next
    return found


def _one_line(text: str) -> str:
    """``text`` on one line and at most :data:`MESSAGE_LIMIT` characters long."""
    return shorten(re.sub(r"\s*[\r\n]+\s*", " ", text), MESSAGE_LIMIT)


def _strict() -> bool:
    from course_lib.settings import load_settings

    return load_settings().strict


def check(exercise_id: str, answer: Any = _NO_ANSWER) -> Feedback:
    """Checks the learner's answer to ``exercise_id`` and returns a one-line verdict.

    A malformed call (no id, an unknown id, no answer) also gets one line, not a traceback.
    Every check of a known exercise goes into the learner's progress record
    (:mod:`course_lib.course.progress`), which ``course progress`` shows.

    Raises:
        ExerciseNotSolvedError: in strict mode, when the answer is not right.
        CheckerError: in strict mode, when the checker itself is broken.
        UnknownExerciseError: in strict mode, when the call names no known exercise.
    """
    spec = _find(exercise_id, "check")
    if isinstance(spec, str):
        shown = exercise_id if isinstance(exercise_id, str) else _short_repr(exercise_id)
        feedback = Feedback(shown, False, spec, usage_error=True)
    elif answer is _NO_ANSWER:
        feedback = Feedback(
            spec.id,
            False,
            f"check() needs your answer too, like check({spec.id!r}, {spec.answer_name}).",
        )
    elif _is_the_reference(spec, answer):
        feedback = Feedback(
            spec.id,
            False,
            f"That is the course's reference {spec.answer_name} (what answer_or_reference falls "
            f"back to), not yours: pass the {spec.answer_name} you wrote.",
        )
    elif (borrowed := _borrows_the_reference(spec, answer)) is not None:
        feedback = Feedback(spec.id, False, borrowed)
    else:
        feedback = evaluate(spec.id, answer)
    if not isinstance(spec, str):
        from course_lib.course.progress import record_check

        record_check(spec.id, feedback.solved)
    if not feedback.solved and _strict():
        error: type[Exception] = ExerciseNotSolvedError
        if feedback.usage_error:
            error = UnknownExerciseError
        elif feedback.checker_failed:
            error = CheckerError
        raise error(feedback.line)
    return feedback


def answer_calls(answer: Any, function: Callable[..., Any]) -> bool:
    """Whether the learner's function ``answer`` calls the library's ``function``.

    An exercise that asks the learner to write what the library already does refuses an answer
    that just calls the library. Found by name, through another name bound to the same
    function, or through ``module.function``, in the answer's own code or in functions defined
    inside it. A determined learner can still hide a call; this stops the obvious shortcut.
    """
    code = getattr(answer, "__code__", None)
    if code is None:
        return False
    names: set[str] = set()
    pending = [code]
    while pending:
        current = pending.pop()
        names.update(current.co_names)
        pending += [const for const in current.co_consts if hasattr(const, "co_names")]
    scope = getattr(answer, "__globals__", {})
    enclosed = []
    for cell in getattr(answer, "__closure__", None) or ():
        try:
            enclosed.append(cell.cell_contents)
        except ValueError:  # a variable of the enclosing function not yet assigned
            continue
    return (
        getattr(function, "__name__", None) in names
        or any(scope.get(name) is function for name in names)
        or any(value is function for value in enclosed)
    )


def _borrows_the_reference(spec: Exercise, answer: Any) -> str | None:
    """Why ``answer`` is the course's answer rather than the learner's, if it is.

    Catches a function that calls the reference (imported from the exercise module, by any
    name or module path, or imported inside it) or ``answer_or_reference``. A value (a text,
    a number) never counts: the solution notebooks publish every value answer anyway.
    """
    reference = spec.reference
    if not callable(answer) or not hasattr(answer, "__code__"):
        return None
    if answer_calls(answer, answer_or_reference):
        return (
            f"Your {spec.answer_name} calls answer_or_reference, which hands back the course's "
            "answer: write the code yourself."
        )
    if callable(reference) and (
        _reaches(answer, reference) or _imports_exercise_module(answer, reference)
    ):
        return (
            f"Your {spec.answer_name} calls the course's reference answer from the exercise "
            "module: write the code yourself."
        )
    return None


def _code_names(answer: Any) -> set[str]:
    """Every global, attribute and imported name the code of ``answer`` (and of the functions
    defined inside it) uses."""
    names: set[str] = set()
    pending = [answer.__code__]
    while pending:
        current = pending.pop()
        names.update(current.co_names)
        pending += [const for const in current.co_consts if hasattr(const, "co_names")]
    return names


def _imports_exercise_module(answer: Any, reference: Any) -> bool:
    """Whether ``answer`` imports the module that holds the reference (``from
    course_lib.course.exercises import lesson_3_4`` inside the function body, say)."""
    module = getattr(reference, "__module__", "") or ""
    leaf = module.rsplit(".", 1)[-1]
    return module.startswith("course_lib.course.exercises.") and leaf in _code_names(answer)


def _reaches(answer: Any, target: Any) -> bool:
    """Whether ``answer``'s code refers to the object ``target`` itself: by a global or
    enclosed name bound to it, or as an attribute of a module it names (``a.b.target``)."""
    names = _code_names(answer)
    scope = getattr(answer, "__globals__", {})
    values = [scope[name] for name in names if name in scope]
    for cell in getattr(answer, "__closure__", None) or ():
        try:
            values.append(cell.cell_contents)
        except ValueError:  # a variable of the enclosing function not yet assigned
            continue
    modules = [value for value in values if inspect.ismodule(value)]
    seen: set[int] = set()
    while modules:  # follow a.b.c through the names the code uses
        module = modules.pop()
        if id(module) in seen:
            continue
        seen.add(id(module))
        for name in names:
            value = getattr(module, name, None)
            values.append(value)
            if inspect.ismodule(value):
                modules.append(value)
    return any(value is target for value in values)


_VALUE_TYPES = (bool, int, float, complex, str, bytes, tuple, frozenset, type(None))


def _is_the_reference(spec: Exercise, answer: Any) -> bool:
    """Whether ``answer`` is the reference object itself, handed back by answer_or_reference.

    Only objects a learner builds (functions, classes, lists, configured objects) count: two
    equal numbers or strings may be one object, so values never do.
    """
    reference = spec.reference
    return reference is not None and answer is reference and not isinstance(reference, _VALUE_TYPES)


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
    spec = _find(exercise_id, "hint")
    if isinstance(spec, str):
        return _Hint(f"⚠️ {spec}")
    count = len(spec.hints)
    if level is not None and (isinstance(level, bool) or not isinstance(level, int)):
        return _Hint(
            f"⚠️ level is a hint number from 1 to {count}, like hint({spec.id!r}, level=1); "
            f"it got {_article(type(level).__name__)} ({_short_repr(level)})."
        )
    if level is None:
        level = _HINTS_SHOWN.get(spec.id, 0) + 1
    if level > count:
        where = f" The worked answer is in {spec.solution}." if spec.solution else ""
        return _Hint(f"No more hints for exercise {spec.id} (there are {count}).{where}")
    if level < 1:
        return _Hint(
            f"⚠️ Exercise {spec.id} has hints 1 to {count}, so level={level} shows none; "
            f"run hint({spec.id!r}) for the next one."
        )
    _HINTS_SHOWN[spec.id] = max(level, _HINTS_SHOWN.get(spec.id, 0))
    more = " Run hint() again for a more specific one." if level < count else ""
    return _Hint(f"Hint {level} of {count} for exercise {spec.id}: {spec.hints[level - 1]}{more}")


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
