"""Tools a model may call: a Chat Completions schema from a typed function, and validation.

Write the tool as an ordinary Python function with type hints and a docstring, and let the code
derive what the model sees from it. The schema then cannot drift from the function:

>>> @tool
... def parcel_status(tracking_number: str) -> str:
...     '''Look up the delivery status of a parcel by its tracking number.'''
...     return "in transit"
>>> parcel_status.schema["function"]["parameters"]["required"]
['tracking_number']

* the name is the function's name; the description is the first line of its docstring;
* each parameter's type comes from its hint (``str``, ``int``, ``float``, ``bool``,
  ``Literal[...]`` as an enum, ``list[...]``, ``X | None`` as nullable) and its description from
  the docstring's ``Args:`` section; a parameter with a default is optional.

Arguments the model sends are checked against the same signature (with pydantic) before the
function runs. A problem becomes a :class:`ToolArgumentError` whose message is written for the
model to read and fix, because an agent loop sends it back as the tool's result.
"""

from __future__ import annotations

import inspect
import json
import re
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal, Union

from course_lib.errors import ToolArgumentError

if TYPE_CHECKING:
    from pydantic_core import ErrorDetails

__all__ = ["Tool", "ToolArgumentError", "parse_arguments", "tool", "tool_help", "tool_schema"]


_JSON_TYPES: dict[Any, str] = {str: "string", int: "integer", float: "number", bool: "boolean"}


def _parameter_schema(annotation: Any, where: str) -> dict[str, Any]:
    """The JSON schema of one parameter type."""
    origin = typing.get_origin(annotation)
    if annotation in _JSON_TYPES:
        return {"type": _JSON_TYPES[annotation]}
    if origin is Literal:
        values = list(typing.get_args(annotation))
        kinds = {type(v) for v in values}
        if len(kinds) != 1 or next(iter(kinds)) not in _JSON_TYPES:
            raise TypeError(f"{where}: a Literal's values must all be str, int, float or bool.")
        return {"type": _JSON_TYPES[next(iter(kinds))], "enum": values}
    if origin in (Union, types.UnionType):
        args = typing.get_args(annotation)
        others = [a for a in args if a is not type(None)]
        if len(others) != 1 or len(args) != 2:
            raise TypeError(f"{where}: only `X | None` unions are supported, got {annotation}.")
        inner = _parameter_schema(others[0], where)
        schema = {**inner, "type": [inner["type"], "null"]}
        if "enum" in inner:
            schema["enum"] = [*inner["enum"], None]
        return schema
    if origin is list:
        (item,) = typing.get_args(annotation) or (str,)
        return {"type": "array", "items": _parameter_schema(item, where)}
    raise TypeError(
        f"{where}: type {annotation!r} has no tool schema; use str, int, float, bool, "
        "Literal[...], list[...] or X | None."
    )


_ARGS_HEADING = re.compile(r"^\s*(?:Args|Arguments|Parameters):\s*$")
_ARG_LINE = re.compile(r"^\s*(\w+)(?:\s*\([^)]*\))?\s*:\s*(.*)$")


def _docstring_parts(func: Callable[..., Any]) -> tuple[str, dict[str, str]]:
    """The first line of the docstring, and each parameter's text from its ``Args:`` section."""
    doc = inspect.getdoc(func) or ""
    lines = doc.splitlines()
    summary = lines[0].strip() if lines else ""
    described: dict[str, str] = {}
    inside, current, indent = False, None, None
    for line in lines[1:]:
        if _ARGS_HEADING.match(line):
            inside, current, indent = True, None, None
            continue
        if not inside:
            continue
        if not line.strip():
            continue
        depth = len(line) - len(line.lstrip())
        if indent is None:
            indent = depth
        if depth < indent or (depth == 0 and line.rstrip().endswith(":")):
            inside = False  # the next section (Returns:, Raises:...) begins
            continue
        match = _ARG_LINE.match(line)
        if depth == indent and match:
            current = match.group(1)
            described[current] = match.group(2).strip()
        elif current is not None:
            described[current] = f"{described[current]} {line.strip()}".strip()
    return summary, described


def tool_schema(func: Callable[..., Any]) -> dict[str, Any]:
    """The Chat Completions tool schema of a typed function.

    Args:
        func: a function whose parameters all have type hints, with a docstring whose first
            line says what the tool does (the model chooses tools by that line).

    Returns:
        ``{"type": "function", "function": {"name", "description", "parameters"}}``.

    Raises:
        TypeError: a parameter has no type hint, or one that has no JSON schema.
    """
    name = func.__name__
    summary, described = _docstring_parts(func)
    hints = typing.get_type_hints(func)
    properties: dict[str, Any] = {}
    required: list[str] = []
    for parameter in inspect.signature(func).parameters.values():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            raise TypeError(f"{name}: *args and **kwargs cannot be described to a model.")
        if parameter.name not in hints:
            raise TypeError(
                f"{name}: parameter {parameter.name!r} has no type hint; the model needs one."
            )
        schema = _parameter_schema(hints[parameter.name], f"{name}({parameter.name})")
        if parameter.name in described:
            schema["description"] = described[parameter.name]
        if parameter.default is parameter.empty:
            required.append(parameter.name)
        else:
            schema["default"] = parameter.default
        properties[parameter.name] = schema
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": summary,
            "parameters": {
                "type": "object",
                "properties": properties,
                "required": required,
                "additionalProperties": False,
            },
        },
    }


def _type_text(annotation: Any) -> str:
    """A type hint as source writes it: ``float``, ``Literal['a', 'b']``, ``str | None``."""
    if annotation is None or annotation is type(None):
        return "None"
    if isinstance(annotation, str):
        return annotation
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is Literal:
        return f"Literal[{', '.join(repr(value) for value in args)}]"
    if origin in (Union, types.UnionType):
        return " | ".join(_type_text(arg) for arg in args)
    if origin is not None and args:
        name = getattr(origin, "__qualname__", None) or str(origin).replace("typing.", "")
        return f"{name}[{', '.join(_type_text(arg) for arg in args)}]"
    if isinstance(annotation, type):
        return annotation.__qualname__
    return repr(annotation).replace("typing.", "")


def tool_help(func: Callable[..., Any] | Tool) -> str:
    """A tool's signature and docstring, as text that is the same on every Python version.

    What ``help()`` shows, without pydoc's layout, which changes from one Python to the next
    (3.13 wraps a long signature over several lines, for one). Types are written as in source
    (``float``, ``Literal['GBP', 'USD']``, ``str | None``), hints written as strings are
    resolved, and a bound method leaves out ``self``.

    >>> def parcel_status(tracking_number: str, detailed: bool = False) -> str:
    ...     "Look up the delivery status of a parcel by its tracking number."
    >>> print(tool_help(parcel_status))
    parcel_status(tracking_number: str, detailed: bool = False) -> str
        Look up the delivery status of a parcel by its tracking number.
    """
    function = func.function if isinstance(func, Tool) else func
    try:
        hints = typing.get_type_hints(function)
    except (NameError, TypeError):  # a hint names something this module cannot resolve
        hints = dict(getattr(function, "__annotations__", {}))
    parameters = []
    for parameter in inspect.signature(function).parameters.values():
        text = parameter.name
        if parameter.kind is parameter.VAR_POSITIONAL:
            text = f"*{text}"
        elif parameter.kind is parameter.VAR_KEYWORD:
            text = f"**{text}"
        if parameter.name in hints:
            text += f": {_type_text(hints[parameter.name])}"
        if parameter.default is not parameter.empty:
            equals = " = " if parameter.name in hints else "="
            text += f"{equals}{parameter.default!r}"
        parameters.append(text)
    returns = f" -> {_type_text(hints['return'])}" if "return" in hints else ""
    lines = [f"{function.__name__}({', '.join(parameters)}){returns}"]
    lines += [f"    {line}".rstrip() for line in (inspect.getdoc(function) or "").splitlines()]
    return "\n".join(lines)


def _format_errors(name: str, errors: Sequence[ErrorDetails]) -> str:
    problems = []
    for error in errors:
        where = ".".join(str(part) for part in error.get("loc", ())) or "arguments"
        kind = error.get("type", "")
        if kind == "missing":
            problems.append(f"{where} is missing")
        elif kind == "extra_forbidden":
            problems.append(f"{where} is not a parameter of {name}")
        else:
            got = error.get("input")
            problems.append(f"{where}: {error.get('msg', 'invalid')} (got {got!r})")
    return "; ".join(problems)


def parse_arguments(name: str, arguments: str | Mapping[str, Any]) -> dict[str, Any]:
    """A tool call's arguments as a dict: the model's JSON text parsed, or a dict copied.

    Raises:
        ToolArgumentError: the text is not JSON, or not a JSON object; the message says so in
            words the model can act on.
    """
    if isinstance(arguments, str):
        try:
            parsed = json.loads(arguments or "{}")
        except json.JSONDecodeError as exc:
            raise ToolArgumentError(
                f"the arguments of {name} are not valid JSON ({exc.msg}): {arguments[:120]!r}. "
                "Send a JSON object."
            ) from None
    else:
        parsed = dict(arguments)
    if not isinstance(parsed, dict):
        raise ToolArgumentError(f"the arguments of {name} must be a JSON object, got {parsed!r}.")
    return parsed


@dataclass(frozen=True)
class Tool:
    """A function a model may call, with the schema it is shown and a validator.

    Build one with :func:`tool` (as a decorator or a call). Calling the tool object calls the
    function directly, unvalidated, as ordinary Python code would.
    """

    function: Callable[..., Any]
    schema: dict[str, Any]
    side_effects: bool = False  # changes something (a ticket, a page): worth an allow-list

    @property
    def name(self) -> str:
        return str(self.schema["function"]["name"])

    @property
    def description(self) -> str:
        return str(self.schema["function"]["description"])

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.function(*args, **kwargs)

    def validate(self, arguments: str | Mapping[str, Any]) -> dict[str, Any]:
        """The arguments, parsed and checked against the function's signature.

        Args:
            arguments: the JSON text the model wrote, or an already parsed dict.

        Raises:
            ToolArgumentError: not JSON, not an object, a missing or unknown argument, or a
                value of the wrong type or outside an enum. The message says which, for the
                model to correct.
        """
        from pydantic import ValidationError

        parsed = parse_arguments(self.name, arguments)
        try:
            model = self._validator.model_validate(parsed)
        except ValidationError as exc:
            problem = _format_errors(self.name, exc.errors(include_url=False))
            raise ToolArgumentError(
                f"invalid arguments for {self.name}: {problem}. Fix them and call it again."
            ) from None
        return {key: getattr(model, key) for key in type(model).model_fields}

    def run(self, arguments: str | Mapping[str, Any]) -> Any:
        """Validates ``arguments``, then calls the function with them."""
        return self.function(**self.validate(arguments))

    @cached_property
    def _validator(self) -> Any:
        """A pydantic model of the parameters that forbids unknown ones (built on first use)."""
        from pydantic import ConfigDict, create_model

        hints = typing.get_type_hints(self.function)
        fields: dict[str, Any] = {}
        for parameter in inspect.signature(self.function).parameters.values():
            default = ... if parameter.default is parameter.empty else parameter.default
            fields[parameter.name] = (hints[parameter.name], default)
        return create_model(
            f"{self.name}_arguments", __config__=ConfigDict(extra="forbid"), **fields
        )


@typing.overload
def tool(func: Callable[..., Any], /) -> Tool: ...


@typing.overload
def tool(*, side_effects: bool = False) -> Callable[[Callable[..., Any]], Tool]: ...


def tool(
    func: Callable[..., Any] | None = None, /, *, side_effects: bool = False
) -> Tool | Callable[[Callable[..., Any]], Tool]:
    """Makes a :class:`Tool` of a typed function: ``@tool`` or ``@tool(side_effects=True)``.

    Args:
        func: the function (when used as ``@tool`` or ``tool(func)``).
        side_effects: the tool changes the world (opens a ticket, pages someone), rather than
            only reading it; such tools are the ones to keep off an allow-list by default.
    """

    def make(function: Callable[..., Any]) -> Tool:
        return Tool(function, tool_schema(function), side_effects)

    return make(func) if func is not None else make
