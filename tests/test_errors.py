"""The exception tree, pinned: what each error subclasses is part of the public API.

A caller that catches ``ValueError`` or ``TimeoutError`` must keep catching the course's errors
that behave like them; moving a class in the tree is a breaking change, so it breaks this test.
"""

from __future__ import annotations

import inspect

import course_lib.errors as errors
from course_lib.course import errors as classroom_errors
from course_lib.datasets import errors as dataset_errors
from course_lib.standin import errors as standin_errors

# class -> (its course_lib parent, the built-in it behaves like, or None)
TREE: dict[str, tuple[str | None, type[BaseException] | None]] = {
    "CourseLibError": (None, Exception),
    "SettingsError": ("CourseLibError", ValueError),
    "WorkDirError": ("CourseLibError", OSError),
    "UnknownModelError": ("CourseLibError", KeyError),
    "EmbedderMismatchError": ("CourseLibError", ValueError),
    "OptionalDependencyError": ("CourseLibError", ImportError),
    "LLMError": ("CourseLibError", RuntimeError),
    "RateLimitError": ("LLMError", None),
    "ServerError": ("LLMError", None),
    "ModelTimeoutError": ("LLMError", TimeoutError),
    "ConnectionFailedError": ("LLMError", ConnectionError),
    "CircuitOpenError": ("LLMError", None),
    "BudgetExceededError": ("LLMError", None),
    "ModelRequestError": ("LLMError", ValueError),
    "JSONExtractionError": ("CourseLibError", ValueError),
    "StrictSchemaError": ("CourseLibError", ValueError),
    "ToolArgumentError": ("CourseLibError", ValueError),
    "UnparseableVerdictError": ("CourseLibError", ValueError),
    "ArtifactError": ("CourseLibError", ValueError),
    "ArtifactNotFoundError": ("ArtifactError", KeyError),
    "CacheError": ("CourseLibError", ValueError),
    "TaskQueueError": ("CourseLibError", RuntimeError),
    "PromptNotFoundError": ("CourseLibError", KeyError),
    "PromptError": ("CourseLibError", ValueError),
    "PromptFileError": ("PromptError", None),
    "PromptRenderError": ("PromptError", None),
    "PromptIntegrityError": ("PromptError", None),
    "TracingError": ("CourseLibError", RuntimeError),
    "AccessDeniedError": ("CourseLibError", PermissionError),
    "IndexNotFoundError": ("CourseLibError", FileNotFoundError),
    "IndexMismatchError": ("CourseLibError", ValueError),
    "EngineUnavailableError": ("CourseLibError", ConnectionError),
    "WorkflowDefinitionError": ("CourseLibError", ValueError),
    "StepOutputError": ("CourseLibError", TypeError),
    "StepTimeoutError": ("CourseLibError", TimeoutError),
    "StepFailedError": ("CourseLibError", RuntimeError),
    "CheckpointMismatchError": ("CourseLibError", ValueError),
    "DataVersionError": ("CourseLibError", ValueError),
    "DataVersionNotFoundError": ("DataVersionError", KeyError),
    "DataIntegrityError": ("DataVersionError", None),
    "DataValidationError": ("CourseLibError", ValueError),
    "LineageError": ("CourseLibError", ValueError),
    "ColumnAccessError": ("AccessDeniedError", PermissionError),
    "UploadRejectedError": ("CourseLibError", ValueError),
}

CLASSROOM_TREE: dict[str, tuple[object, str, type[BaseException] | None]] = {
    "BuildError": (classroom_errors, "CourseLibError", RuntimeError),
    "StaleNotebookError": (classroom_errors, "BuildError", None),
    "ExerciseNotSolvedError": (classroom_errors, "CourseLibError", AssertionError),
    "CheckerError": (classroom_errors, "CourseLibError", RuntimeError),
    "UnknownExerciseError": (classroom_errors, "CourseLibError", KeyError),
    "DatasetError": (dataset_errors, "CourseLibError", ValueError),
    "InvalidRequestError": (standin_errors, "CourseLibError", ValueError),
    "ServerStartError": (standin_errors, "CourseLibError", OSError),
}


def _direct_bases(cls: type) -> list[type]:
    return list(cls.__bases__)


def test_every_production_error_is_in_course_lib_errors_and_the_tree_is_pinned() -> None:
    defined = {
        name
        for name, value in vars(errors).items()
        if inspect.isclass(value) and issubclass(value, BaseException)
    }
    assert defined == set(TREE), "update TREE and the tree in errors.py's docstring together"
    assert sorted(errors.__all__) == sorted(TREE)
    for name, (parent, builtin) in TREE.items():
        cls = getattr(errors, name)
        bases = _direct_bases(cls)
        if parent is not None:
            assert bases[0] is getattr(errors, parent), name
        if builtin is not None:
            assert issubclass(cls, builtin), name
        assert name.endswith("Error"), name


def test_the_docstring_draws_the_same_tree() -> None:
    doc = errors.__doc__ or ""
    for name in TREE:
        assert name in doc, f"{name} is missing from the tree in errors.py's docstring"


def test_classroom_errors_live_with_the_classroom() -> None:
    for name, (module, parent, builtin) in CLASSROOM_TREE.items():
        cls = getattr(module, name)
        assert not hasattr(errors, name), f"{name} is classroom-only; keep it out of errors.py"
        assert issubclass(cls, errors.CourseLibError)
        parent_cls = getattr(errors, parent, None) or getattr(module, parent)
        assert cls.__bases__[0] is parent_cls, name
        if builtin is not None:
            assert issubclass(cls, builtin), name


def test_messages_are_readable_even_for_key_errors() -> None:
    # KeyError quotes its message; the course's errors print it as written.
    assert str(errors.UnknownModelError("No model 'x'.")) == "No model 'x'."
