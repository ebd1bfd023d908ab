"""Plausible wrong answers to lesson 1.5's exercises; each must be rejected by its checker."""

import json
from collections.abc import Mapping
from typing import Any

from course_lib.course.exercises.lesson_1_5 import handwritten_validate_arguments

# -- 1.5.1 -----------------------------------------------------------------------------------


def _one_at_a_time(parameters: Mapping[str, Any], arguments: str) -> list[str]:
    """jsonschema.validate raises on the first error only: two problems, one reported."""
    import jsonschema

    try:
        jsonschema.validate(json.loads(arguments), {**parameters, "additionalProperties": False})
    except ValueError as exc:
        return [f"not valid JSON ({exc})"]
    except jsonschema.ValidationError as exc:
        return [f"{'.'.join(map(str, exc.absolute_path)) or 'arguments'}: {exc.message}"]
    return []


def _raises_on_bad_json(parameters: Mapping[str, Any], arguments: str) -> list[str]:
    """Lets json.loads raise on cut-off JSON."""
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator({**parameters, "additionalProperties": False})
    values = json.loads(arguments)
    return [
        f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(values)
    ]


def _message_only(parameters: Mapping[str, Any], arguments: str) -> list[str]:
    """error.message alone: "'laptop' is not one of [...]" never names the argument."""
    from jsonschema import Draft202012Validator

    try:
        values = json.loads(arguments)
    except ValueError as exc:
        return [f"not valid JSON ({exc})"]
    validator = Draft202012Validator({**parameters, "additionalProperties": False})
    return [e.message for e in validator.iter_errors(values)]


def _extra_arguments_allowed(parameters: Mapping[str, Any], arguments: str) -> list[str]:
    """Validates against the schema as given: JSON Schema accepts undeclared arguments."""
    from jsonschema import Draft202012Validator

    try:
        values = json.loads(arguments)
    except ValueError as exc:
        return [f"not valid JSON ({exc})"]
    validator = Draft202012Validator(parameters)
    return [
        f"{'.'.join(map(str, e.absolute_path)) or 'arguments'}: {e.message}"
        for e in validator.iter_errors(values)
    ]


def _validates_the_text(parameters: Mapping[str, Any], arguments: str) -> list[str]:
    """Hands the JSON text itself to the validator: every string fails "type": "object"."""
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator({**parameters, "additionalProperties": False})
    return [f"arguments: {e.message}" for e in validator.iter_errors(arguments)]


def _best_match_only(parameters: Mapping[str, Any], arguments: str) -> list[str]:
    """jsonschema.exceptions.best_match: the most relevant error, and only that one."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match

    try:
        values = json.loads(arguments)
    except ValueError as exc:
        return [f"not valid JSON ({exc})"]
    error = best_match(
        Draft202012Validator({**parameters, "additionalProperties": False}).iter_errors(values)
    )
    if error is None:
        return []
    return [f"{'.'.join(map(str, error.absolute_path)) or 'arguments'}: {error.message}"]


def _all_in_one_string(parameters: Mapping[str, Any], arguments: str) -> list[str]:
    """Finds every problem, but joins them into one string: two problems read as one."""
    from jsonschema import Draft202012Validator

    try:
        values = json.loads(arguments)
    except ValueError as exc:
        return [f"not valid JSON ({exc})"]
    validator = Draft202012Validator({**parameters, "additionalProperties": False})
    errors = [
        f"{'.'.join(map(str, e.absolute_path)) or 'arguments'}: {e.message}"
        for e in validator.iter_errors(values)
    ]
    return ["; ".join(errors)] if errors else []


def _changes_the_schema(parameters: dict[str, Any], arguments: str) -> list[str]:
    """Sets additionalProperties on the caller's own schema: the tool's schema changes too."""
    from jsonschema import Draft202012Validator

    try:
        values = json.loads(arguments)
    except ValueError as exc:
        return [f"not valid JSON ({exc})"]
    parameters["additionalProperties"] = False
    return [
        f"{'.'.join(map(str, e.absolute_path)) or 'arguments'}: {e.message}"
        for e in Draft202012Validator(parameters).iter_errors(values)
    ]


WRONG_ANSWERS: dict[str, list[Any]] = {
    "1.5.1": [
        handwritten_validate_arguments,
        _one_at_a_time,
        _raises_on_bad_json,
        _message_only,
        _extra_arguments_allowed,
        _validates_the_text,
        _best_match_only,
        _all_in_one_string,
        _changes_the_schema,
    ],
    # Budgets: the stub, single knobs aimed at the target, and budgets that cut successes.
    "1.5.2": [
        {"max_steps": 12, "max_tokens": None, "max_seconds": None, "max_repeats": None},
        {"max_steps": 12, "max_tokens": 5_000},
        {"max_steps": 12, "max_tokens": 4_000},
        {"max_steps": 12, "max_seconds": 1.5},
        {"max_steps": 12, "max_seconds": 1.2},
        {"max_steps": 2},
        {"max_steps": 1, "max_repeats": 0},
        {"max_steps": "4", "max_repeats": 1},
        {"max_steps": 12, "max_repeats": 5},
        [4, 4_000, 1.2, 1],
        # One budget alone happens to meet the target on this suite: all four are required.
        {"max_steps": 3},
        {"max_steps": 12, "max_tokens": 3_000},
        {"max_steps": 4, "max_repeats": 1},
        {"max_steps": 4, "max_tokens": 4_000, "max_repeats": 1},
        # Step and repeat budgets do all the work; the others are loose, so they guard nothing.
        {"max_steps": 3, "max_tokens": 10**9, "max_seconds": 1e9, "max_repeats": 1},
        {"max_steps": 4, "max_tokens": 4_000, "max_seconds": 1.2, "max_repeats": 1},
        # Token and time budgets set at the target, not at their edges.
        {"max_steps": 6, "max_tokens": 5_000, "max_seconds": 1.5, "max_repeats": 2},
        # "No retries" read as 0: the repeat rule then stops every call.
        {"max_steps": 3, "max_tokens": 2_500, "max_seconds": 0.8, "max_repeats": 0},
        # At the dev tasks' edges, with no margin: a held-out success needs a little more.
        {"max_steps": 3, "max_tokens": 2_200, "max_seconds": 0.75, "max_repeats": 1},
        # A copy of the course's reference budgets, typed in: not the learner's measurement.
        {"max_steps": 3, "max_tokens": 3_000, "max_seconds": 1.0, "max_repeats": 1},
    ],
}
