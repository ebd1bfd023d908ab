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
  + DatasetError (ValueError)
  + UnknownModelError (KeyError)
  + EmbedderMismatchError (ValueError)
  + OptionalDependencyError (ImportError)
  + PromptNotFoundError (KeyError)
  + PromptError (ValueError)
    - PromptFileError, PromptRenderError, PromptIntegrityError
  + TracingError (RuntimeError)
  + AccessDeniedError (PermissionError)
  + IndexNotFoundError (FileNotFoundError)
  + IndexMismatchError (ValueError)
  + LLMError (RuntimeError)
    - RateLimitError, ServerError, ModelTimeoutError (TimeoutError), CircuitOpenError,
      BudgetExceededError, ModelRequestError (ValueError)
"""

from __future__ import annotations

__all__ = [
    "AccessDeniedError",
    "BudgetExceededError",
    "BuildError",
    "CheckerError",
    "CircuitOpenError",
    "CourseLibError",
    "DatasetError",
    "EmbedderMismatchError",
    "ExerciseNotSolvedError",
    "IndexMismatchError",
    "IndexNotFoundError",
    "LLMError",
    "ModelRequestError",
    "ModelTimeoutError",
    "OptionalDependencyError",
    "PromptError",
    "PromptFileError",
    "PromptIntegrityError",
    "PromptNotFoundError",
    "PromptRenderError",
    "RateLimitError",
    "ServerError",
    "SettingsError",
    "StaleNotebookError",
    "TracingError",
    "UnknownExerciseError",
    "UnknownModelError",
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


class DatasetError(CourseLibError, ValueError):
    """A bundled dataset was asked for in a way it does not exist (unknown split, version...)."""


class UnknownModelError(CourseLibError, KeyError):
    """A model id or role is not in the model registry."""


class LLMError(CourseLibError, RuntimeError):
    """A model call failed in a way the caller should handle (see the subclasses)."""


class RateLimitError(LLMError):
    """The model endpoint said "too many requests" (HTTP 429); ``retry_after`` is in seconds."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ServerError(LLMError):
    """The model endpoint failed (HTTP 5xx); ``status_code`` says which."""

    def __init__(self, message: str, *, status_code: int = 500) -> None:
        super().__init__(message)
        self.status_code = status_code


class ModelTimeoutError(LLMError, TimeoutError):
    """The model did not answer within the read timeout."""


class CircuitOpenError(LLMError):
    """The circuit breaker is open: calls fail fast until it cools down."""


class BudgetExceededError(LLMError):
    """A call would spend more tokens or money than its budget allows."""


class EmbedderMismatchError(CourseLibError, ValueError):
    """Vectors made by one embedder met an index or vectors made by another."""


class OptionalDependencyError(CourseLibError, ImportError):
    """A feature needs an optional extra that is not installed; the message says how to add it."""


class ModelRequestError(LLMError, ValueError):
    """The endpoint refused the request itself (bad parameters, auth, unknown model): retrying
    the same request cannot help."""

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class PromptNotFoundError(CourseLibError, KeyError):
    """No prompt, version or environment of that name is in the prompt library."""


class PromptError(CourseLibError, ValueError):
    """A prompt could not be loaded, rendered or trusted (see the subclasses)."""


class PromptFileError(PromptError):
    """A prompt file (a version or an aliases file) is malformed."""


class PromptRenderError(PromptError):
    """A prompt template could not be rendered with the values given (a missing variable...)."""


class PromptIntegrityError(PromptError):
    """A released prompt version no longer matches the hash its lock file recorded."""


class TracingError(CourseLibError, RuntimeError):
    """Tracing was asked for something its set-up cannot give (e.g. spans from OTLP export)."""


class AccessDeniedError(CourseLibError, PermissionError):
    """A reader asked for a document or chunk that their clearance does not cover."""


class IndexNotFoundError(CourseLibError, FileNotFoundError):
    """No retrieval index exists at the given path; the message says how to build one."""


class IndexMismatchError(CourseLibError, ValueError):
    """An index was built with another schema or chunking than it is being used with."""
