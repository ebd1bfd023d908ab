"""Plausible wrong answers to lesson 1.5's exercises; each must be rejected by its checker."""

import inspect
import json
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, Literal

from course_lib.course.exercises.lesson_1_5 import (
    handwritten_validate_arguments,
    reference_tool_schema,
)

# -- 1.5.1 -----------------------------------------------------------------------------------

_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean"}


def _type_of(hint: Any) -> dict[str, Any]:
    if typing.get_origin(hint) is Literal:
        return {"type": "string", "enum": list(typing.get_args(hint))}
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        inner = next(a for a in typing.get_args(hint) if a is not type(None))
        return {**_type_of(inner), "type": [_TYPES[inner], "null"]}
    return {"type": _TYPES[hint]}


def _schema(func: Callable[..., Any], properties: dict[str, Any], required: list[str]) -> dict:
    doc = inspect.getdoc(func) or ""
    return {
        "type": "function",
        "function": {
            "name": func.__name__,
            "description": doc.splitlines()[0] if doc else "",
            "parameters": {"type": "object", "properties": properties, "required": required},
        },
    }


def _all_required(func: Callable[..., Any]) -> dict[str, Any]:
    """Forgets that a parameter with a default is optional."""
    hints = typing.get_type_hints(func)
    params = inspect.signature(func).parameters
    return _schema(func, {n: _type_of(hints[n]) for n in params}, list(params))


def _issubclass_order(func: Callable[..., Any]) -> dict[str, Any]:
    """Maps types with issubclass, int first: bool becomes "integer"."""
    hints = typing.get_type_hints(func)
    params = inspect.signature(func).parameters
    props = {}
    for name in params:
        hint = hints[name]
        if isinstance(hint, type) and issubclass(hint, int):
            props[name] = {"type": "integer"}
        else:
            props[name] = _type_of(hint)
    required = [n for n, p in params.items() if p.default is p.empty]
    return _schema(func, props, required)


def _whole_docstring(func: Callable[..., Any]) -> dict[str, Any]:
    """Sends the whole docstring as the description."""
    schema = reference_tool_schema(func)
    schema["function"]["description"] = inspect.getdoc(func) or ""
    return schema


def _raw_annotations(func: Callable[..., Any]) -> dict[str, Any]:
    """Reads parameter.annotation, which is a string under postponed annotations."""
    params = inspect.signature(func).parameters
    props = {}
    for name, p in params.items():
        try:
            props[name] = _type_of(p.annotation)
        except (KeyError, TypeError, StopIteration):
            props[name] = {"type": "string"}
    required = [n for n, p in params.items() if p.default is p.empty]
    return _schema(func, props, required)


def _no_enum(func: Callable[..., Any]) -> dict[str, Any]:
    """Treats a Literal as a plain string: the model is not told the allowed values."""
    schema = reference_tool_schema(func)
    for prop in schema["function"]["parameters"]["properties"].values():
        prop.pop("enum", None)
    return schema


def _optional_not_nullable(func: Callable[..., Any]) -> dict[str, Any]:
    """Drops None from `X | None`, so the model may not send null."""
    schema = reference_tool_schema(func)
    for prop in schema["function"]["parameters"]["properties"].values():
        if isinstance(prop["type"], list):
            prop["type"] = prop["type"][0]
    return schema


def _python_types(func: Callable[..., Any]) -> dict[str, Any]:
    """Puts Python types in the schema instead of JSON schema names."""
    hints = typing.get_type_hints(func)
    params = inspect.signature(func).parameters
    props = {n: {"type": hints[n]} for n in params}
    return _schema(func, props, [n for n, p in params.items() if p.default is p.empty])


def _library_tool(func: Callable[..., Any]) -> dict[str, Any]:
    """The shortcut: the library's own schema, which section 4.1 names."""
    from course_lib.agents import tool

    return tool(func).schema


def _library_stripped(func: Callable[..., Any]) -> dict[str, Any]:
    """The library's schema builder, with its extras removed to look hand-made."""
    from course_lib.agents.tools import tool_schema

    schema = tool_schema(func)
    parameters = schema["function"]["parameters"]
    parameters.pop("additionalProperties", None)
    for prop in parameters["properties"].values():
        prop.pop("default", None)
        prop.pop("description", None)
    return schema


# -- 1.5.2 -----------------------------------------------------------------------------------


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


# -- 1.5.3 -----------------------------------------------------------------------------------


def _counts_every_step(steps, *, max_steps, max_tokens=None, max_cost_usd=None, max_repeats=2):
    """Counts tool steps as well as model calls against max_steps."""
    from course_lib.agents import stop_reason

    if len(steps) >= max_steps:
        return "max_steps"
    return stop_reason(
        steps,
        max_steps=10**9,
        max_tokens=max_tokens,
        max_cost_usd=max_cost_usd,
        max_repeats=max_repeats,
    )


def _only_consecutive_repeats(
    steps, *, max_steps, max_tokens=None, max_cost_usd=None, max_repeats=2
):
    """Detects a repeat only when the same call comes back to back (misses ping-pong loops)."""
    from course_lib.agents import stop_reason

    reason = stop_reason(
        steps,
        max_steps=max_steps,
        max_tokens=max_tokens,
        max_cost_usd=max_cost_usd,
        max_repeats=None,
    )
    if reason or max_repeats is None:
        return reason
    calls = [s.call for s in steps if s.kind == "model"]
    run = 1
    for earlier in reversed(calls[:-1]):
        if earlier != calls[-1] or calls[-1] is None:
            break
        run += 1
    return "repeated_call" if calls and calls[-1] is not None and run > max_repeats else None


def _raw_text_arguments(steps, *, max_steps, max_tokens=None, max_cost_usd=None, max_repeats=2):
    """Compares the arguments as text, so key order or spacing hides a repeat."""
    from course_lib.agents import stop_reason

    reason = stop_reason(
        steps,
        max_steps=max_steps,
        max_tokens=max_tokens,
        max_cost_usd=max_cost_usd,
        max_repeats=None,
    )
    if reason or max_repeats is None:
        return reason
    model = [s for s in steps if s.kind == "model"]
    last = model[-1]
    if last.tool is None:
        return None
    same = sum(1 for s in model[:-1] if (s.tool, s.arguments) == (last.tool, last.arguments))
    return "repeated_call" if same >= max_repeats else None


def _strict_budget(steps, *, max_steps, max_tokens=None, max_cost_usd=None, max_repeats=2):
    """Stops only once the budget is exceeded (>), one call too late."""
    from course_lib.agents import stop_reason

    cost = sum(s.cost_usd for s in steps)
    tokens = sum(s.tokens for s in steps)
    over = (max_cost_usd is not None and cost > max_cost_usd) or (
        max_tokens is not None and tokens > max_tokens
    )
    reason = stop_reason(steps, max_steps=max_steps, max_repeats=max_repeats)
    if reason == "max_steps":
        return reason
    return "budget" if over else reason


def _repeats_before_budget(steps, *, max_steps, max_tokens=None, max_cost_usd=None, max_repeats=2):
    """Checks repeats before the budget: the wrong reason when both apply."""
    from course_lib.agents import stop_reason

    first = stop_reason(steps, max_steps=max_steps, max_repeats=max_repeats)
    if first:
        return first
    return stop_reason(
        steps,
        max_steps=max_steps,
        max_tokens=max_tokens,
        max_cost_usd=max_cost_usd,
        max_repeats=None,
    )


def _ignores_tokens(steps, *, max_steps, max_tokens=None, max_cost_usd=None, max_repeats=2):
    """Forgets the token budget."""
    from course_lib.agents import stop_reason

    return stop_reason(
        steps, max_steps=max_steps, max_cost_usd=max_cost_usd, max_repeats=max_repeats
    )


def _loads_without_fallback(steps, *, max_steps, max_tokens=None, max_cost_usd=None, max_repeats=2):
    """Parses the arguments with json.loads and no fallback: a malformed call crashes it."""
    from course_lib.agents import stop_reason

    reason = stop_reason(
        steps,
        max_steps=max_steps,
        max_tokens=max_tokens,
        max_cost_usd=max_cost_usd,
        max_repeats=None,
    )
    model = [s for s in steps if s.kind == "model"]
    if reason or max_repeats is None or model[-1].tool is None:
        return reason

    def call(step):
        return (step.tool, json.loads(step.arguments or "{}")) if step.tool else None

    same = sum(1 for s in model[:-1] if call(s) == call(model[-1]))
    return "repeated_call" if same >= max_repeats else None


def _never_stops(steps, *, max_steps, max_tokens=None, max_cost_usd=None, max_repeats=2):
    """The tutorial's loop: nothing ever stops it."""
    return None


WRONG_ANSWERS: dict[str, list[Any]] = {
    "1.5.1": [
        _all_required,
        _issubclass_order,
        _whole_docstring,
        _raw_annotations,
        _no_enum,
        _optional_not_nullable,
        _python_types,
        _library_tool,
        _library_stripped,
    ],
    "1.5.2": [
        handwritten_validate_arguments,
        _one_at_a_time,
        _raises_on_bad_json,
        _message_only,
        _extra_arguments_allowed,
        _validates_the_text,
        _best_match_only,
    ],
    "1.5.3": [
        _counts_every_step,
        _only_consecutive_repeats,
        _raw_text_arguments,
        _strict_budget,
        _repeats_before_budget,
        _ignores_tokens,
        _loads_without_fallback,
        _never_stops,
    ],
    # Budgets: the stub, single knobs aimed at the target, and budgets that cut successes.
    "1.5.4": [
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
    ],
}
