"""Errors raised by course_lib.

Every error names what failed, the offending value, where, and the next step, in one line
that never contains a secret. Each class also subclasses the built-in it behaves like, so
callers can catch either.

Our exception hierarchy:

* CourseLibError
  + SettingsError (ValueError)
  + WorkDirError (OSError)
  + BuildError (RuntimeError)
    - StaleNotebookError
  + ExerciseNotSolvedError (AssertionError)
  + CheckerError (RuntimeError)
  + UnknownExerciseError (KeyError)
"""

from __future__ import annotations

__all__ = [
    "BuildError",
    "CheckerError",
    "CourseLibError",
    "ExerciseNotSolvedError",
    "SettingsError",
    "StaleNotebookError",
    "UnknownExerciseError",
    "WorkDirError",
]


class CourseLibError(Exception):
    """Base class of every error course_lib raises on purpose."""

    def __str__(self) -> str:  # KeyError quotes its message; keep ours readable.
        return str(self.args[0]) if self.args else self.__class__.__name__


class SettingsError(CourseLibError, ValueError):
    """A setting had a value that is not allowed."""


class WorkDirError(CourseLibError, OSError):
    """The course work directory could not be used or reset."""


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
