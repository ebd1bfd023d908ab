"""Errors raised by course_lib.

Every error names what failed, the offending value, where, and the next step, in one line
that never contains a secret. Each class also subclasses the built-in it behaves like, so
callers can catch either.

The production library's exception hierarchy (``tests/test_errors.py`` pins it):

* CourseLibError
  + SettingsError (ValueError)
  + WorkDirError (OSError)
  + UnknownModelError (KeyError)
  + EmbedderMismatchError (ValueError)
  + OptionalDependencyError (ImportError)
  + LLMError (RuntimeError)
    - RateLimitError
    - ServerError
    - ModelTimeoutError (TimeoutError)
    - ConnectionFailedError (ConnectionError)
    - CircuitOpenError
    - BudgetExceededError
    - ModelRequestError (ValueError)
  + JSONExtractionError (ValueError)
  + StrictSchemaError (ValueError)
  + ToolArgumentError (ValueError)
  + UnparseableVerdictError (ValueError)
  + ArtifactError (ValueError)
    - ArtifactNotFoundError (KeyError)
  + CacheError (ValueError)
  + TaskQueueError (RuntimeError)
  + PromptNotFoundError (KeyError)
  + PromptError (ValueError)
    - PromptFileError
    - PromptRenderError
    - PromptIntegrityError
  + TracingError (RuntimeError)
  + AccessDeniedError (PermissionError)
  + IndexNotFoundError (FileNotFoundError)
  + IndexMismatchError (ValueError)
  + EngineUnavailableError (ConnectionError)
  + WorkflowDefinitionError (ValueError)
  + StepOutputError (TypeError)
  + StepTimeoutError (TimeoutError)
  + StepFailedError (RuntimeError)
  + CheckpointMismatchError (ValueError)
  + DataVersionError (ValueError)
    - DataVersionNotFoundError (KeyError)
    - DataIntegrityError
  + DataValidationError (ValueError)
  + LineageError (ValueError)
  + UploadRejectedError (ValueError)
  + AccessDeniedError (PermissionError)
    - ColumnAccessError

The classroom's errors (a stale notebook, an unsolved exercise, a dataset asked for wrongly,
the stand-in model's refusals) subclass :class:`CourseLibError` too, and live with the
classroom: ``course_lib.course.errors``, ``course_lib.datasets.errors`` and
``course_lib.standin.errors``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "AccessDeniedError",
    "ArtifactError",
    "ArtifactNotFoundError",
    "BudgetExceededError",
    "CacheError",
    "CheckpointMismatchError",
    "CircuitOpenError",
    "ColumnAccessError",
    "ConnectionFailedError",
    "CourseLibError",
    "DataIntegrityError",
    "DataValidationError",
    "DataVersionError",
    "DataVersionNotFoundError",
    "EmbedderMismatchError",
    "EngineUnavailableError",
    "IndexMismatchError",
    "IndexNotFoundError",
    "JSONExtractionError",
    "LLMError",
    "LineageError",
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
    "StepFailedError",
    "StepOutputError",
    "StepTimeoutError",
    "StrictSchemaError",
    "TaskQueueError",
    "ToolArgumentError",
    "TracingError",
    "UnknownModelError",
    "UnparseableVerdictError",
    "UploadRejectedError",
    "WorkDirError",
    "WorkflowDefinitionError",
]


class CourseLibError(Exception):
    """Base class of every error course_lib raises on purpose."""

    def __str__(self) -> str:  # KeyError quotes its message; keep ours readable.
        return str(self.args[0]) if self.args else self.__class__.__name__


class SettingsError(CourseLibError, ValueError):
    """A setting had a value that is not allowed."""


class WorkDirError(CourseLibError, OSError):
    """The course work directory could not be used or reset."""


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


class ConnectionFailedError(LLMError, ConnectionError):
    """The model endpoint could not be reached at all."""


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


class EngineUnavailableError(CourseLibError, ConnectionError):
    """A production engine (Postgres, Redis, an object store) cannot be reached or used."""


class JSONExtractionError(CourseLibError, ValueError):
    """No JSON object could be found in a model's output."""


class StrictSchemaError(CourseLibError, ValueError):
    """A schema that a provider's strict mode would refuse (an unsupported JSON Schema keyword)."""


class ToolArgumentError(CourseLibError, ValueError):
    """A model called a tool with arguments that do not fit the tool's signature."""


class UnparseableVerdictError(CourseLibError, ValueError):
    """A judge model's reply is not a verdict that follows the verdict schema."""

    def __init__(self, problem: str, raw: str) -> None:
        shown = raw if len(raw) <= 200 else raw[:197] + "..."
        super().__init__(
            f"The judge's reply is not a usable verdict: {problem}. Reply: {shown!r}. Ask for "
            "JSON with response_format=RESPONSE_FORMAT, and count replies like this one as "
            "ungraded rather than as passes or fails."
        )
        self.problem = problem
        self.raw = raw


class ArtifactError(CourseLibError, ValueError):
    """A model artifact is missing, incomplete, altered, or made for another environment."""


class ArtifactNotFoundError(ArtifactError, KeyError):
    """No artifact with that content hash (or name) is in the store."""


class CacheError(CourseLibError, ValueError):
    """A cache was opened or used with a value it cannot work with (a name, a threshold)."""


class TaskQueueError(CourseLibError, RuntimeError):
    """A task queue was used in a way it cannot serve (an unknown task, a full queue)."""


class WorkflowDefinitionError(CourseLibError, ValueError):
    """A workflow, one of its steps or a step's policy was defined with a value it cannot run."""


class StepOutputError(CourseLibError, TypeError):
    """A workflow step returned something that cannot update the state or be checkpointed."""


class StepTimeoutError(CourseLibError, TimeoutError):
    """One attempt of a workflow step ran longer than its timeout and was abandoned."""


class StepFailedError(CourseLibError, RuntimeError):
    """A workflow step still failed after every attempt its policy allows; the run can resume."""


class CheckpointMismatchError(CourseLibError, ValueError):
    """A run id's checkpoints were written by another workflow, or for another input."""


class DataVersionError(CourseLibError, ValueError):
    """A dataset name, version reference or commit was not one the store can accept."""


class DataVersionNotFoundError(DataVersionError, KeyError):
    """No dataset, version or file of that name is in the store."""


class DataIntegrityError(DataVersionError):
    """Bytes of a stored version changed after it was written: its hash no longer matches."""


class DataValidationError(CourseLibError, ValueError):
    """Rows of a dataset broke its schema; ``failures`` has one row per problem."""

    def __init__(self, message: str, failures: pd.DataFrame) -> None:
        super().__init__(message)
        self.failures = failures


class LineageError(CourseLibError, ValueError):
    """A lineage record was incomplete, or a query named a result that was never recorded."""


class ColumnAccessError(AccessDeniedError):
    """A role asked for a column its access policy does not grant, or is not in the policy."""


class UploadRejectedError(CourseLibError, ValueError):
    """An uploaded file was refused before any model saw it: its type, size, pixel count or
    content (a decompression bomb, a truncated file, a PDF with scripts or encryption)."""
