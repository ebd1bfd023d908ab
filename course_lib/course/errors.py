"""The classroom's errors: building lessons and checking exercises."""

from __future__ import annotations

from course_lib.errors import CourseLibError

__all__ = [
    "BuildError",
    "CheckerError",
    "ExerciseNotSolvedError",
    "StaleNotebookError",
    "UnknownExerciseError",
]


class BuildError(CourseLibError, RuntimeError):
    """A lesson could not be built from its source."""


class StaleNotebookError(BuildError):
    """A generated notebook no longer matches its lesson source."""


class ExerciseNotSolvedError(CourseLibError, AssertionError):
    """An exercise check failed while strict mode was on."""


class CheckerError(CourseLibError, RuntimeError):
    """An exercise checker itself failed: a bug in the course, not in the learner's answer."""


class UnknownExerciseError(CourseLibError, KeyError):
    """No exercise is registered under the given id."""
