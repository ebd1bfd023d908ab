"""Checks on a request, made the way OpenAI's API makes them, before the model reads it.

A client written against the stand-in should meet the same refusals a hosted model gives it: a
temperature of 3 or five stop sequences is a 400 naming the parameter, never a silent
success that fails only in production. Every check raises
:class:`~course_lib.standin.errors.InvalidRequestError` with OpenAI's wording where OpenAI has
one, and a sentence on what to change.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

from course_lib.models import ModelSpec
from course_lib.standin.errors import InvalidRequestError

__all__ = [
    "check_chat_request",
    "check_context_window",
    "check_dimensions",
    "check_response_format",
    "check_schema_shape",
    "check_strict_schema",
    "strict_schema_of",
]

MAX_STOP_SEQUENCES = 4
MAX_CHOICES = 128
_TOOL_CHOICES = ("none", "auto", "required")
_FORMAT_TYPES = ("text", "json_object", "json_schema")
_ROLES = ("system", "developer", "user", "assistant", "tool")

_NUMERIC_KEYWORDS = frozenset(
    {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"}
    | {"minItems", "maxItems", "minLength", "maxLength"}
)
# The JSON Schema keywords strict mode accepts; any other keyword is refused, as OpenAI does.
STRICT_KEYWORDS = frozenset(
    {"type", "properties", "required", "additionalProperties", "items", "enum", "const"}
    | {"anyOf", "$ref", "$defs", "definitions", "$schema", "$id", "$comment"}
    | {"title", "description", "default", "examples"}
    | {"pattern", "format", "minLength", "maxLength"}
    | {"multipleOf", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}
    | {"minItems", "maxItems"}
)


def _type_name(value: Any) -> str:
    """The JSON type of ``value`` in OpenAI's words ("a decimal", "a string"...)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, numbers.Integral):
        return "an integer"
    if isinstance(value, numbers.Real):
        return "a decimal"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _wrong_type(name: str, expected: str, value: Any) -> InvalidRequestError:
    return InvalidRequestError(
        f"Invalid type for '{name}': expected {expected}, but got {_type_name(value)} instead.",
        param=name,
        code="invalid_type",
    )


def _number(request: Mapping[str, Any], name: str, low: float, high: float) -> None:
    """A decimal parameter within [low, high], or absent."""
    value = request.get(name)
    if value is None:
        return
    # numbers.Real, not float: numpy's numbers, which lessons pass in process, count too.
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise _wrong_type(name, "a decimal", value)
    value = float(value)
    if not math.isfinite(value):
        raise _wrong_type(name, "a finite decimal", value)
    if value < low:
        raise InvalidRequestError(
            f"Invalid '{name}': decimal below minimum value. Expected a value >= {low:g}, "
            f"but got {value:g} instead.",
            param=name,
            code="decimal_below_min_value",
        )
    if value > high:
        raise InvalidRequestError(
            f"Invalid '{name}': decimal above maximum value. Expected a value <= {high:g}, "
            f"but got {value:g} instead.",
            param=name,
            code="decimal_above_max_value",
        )


def _integer(
    request: Mapping[str, Any], name: str, low: int | None = None, high: int | None = None
) -> int | None:
    """An integer parameter within [low, high], or None when absent."""
    value = request.get(name)
    if value is None:
        return None
    integral_float = isinstance(value, float) and value.is_integer()
    if isinstance(value, bool) or not (isinstance(value, numbers.Integral) or integral_float):
        raise _wrong_type(name, "an integer", value)
    number = int(value)
    if low is not None and number < low:
        raise InvalidRequestError(
            f"Invalid '{name}': integer below minimum value. Expected a value >= {low}, "
            f"but got {number} instead.",
            param=name,
            code="integer_below_min_value",
        )
    if high is not None and number > high:
        raise InvalidRequestError(
            f"Invalid '{name}': integer above maximum value. Expected a value <= {high}, "
            f"but got {number} instead.",
            param=name,
            code="integer_above_max_value",
        )
    return number


def _boolean(request: Mapping[str, Any], name: str) -> None:
    value = request.get(name)
    if value is not None and not isinstance(value, bool):
        raise _wrong_type(name, "a boolean", value)


def check_chat_request(request: Mapping[str, Any], spec: ModelSpec) -> None:
    """Refuse what OpenAI refuses: bad messages, parameters out of range or of the wrong type."""
    _check_messages(request.get("messages"))
    _number(request, "temperature", 0.0, 2.0)
    _number(request, "top_p", 0.0, 1.0)
    _number(request, "presence_penalty", -2.0, 2.0)
    _number(request, "frequency_penalty", -2.0, 2.0)
    for name in ("max_tokens", "max_completion_tokens"):
        limit = _integer(request, name, low=1)
        if limit is not None and spec.max_output_tokens and limit > spec.max_output_tokens:
            raise InvalidRequestError(
                f"{name} is too large: {limit}. This model supports at most "
                f"{spec.max_output_tokens} completion tokens, whereas you provided {limit}.",
                param=name,
                code="invalid_value",
            )
    _integer(request, "n", low=1, high=MAX_CHOICES)
    _integer(request, "seed", low=-(2**63), high=2**63 - 1)
    _boolean(request, "stream")
    if not isinstance(request.get("stream_options"), Mapping | None):
        raise _wrong_type("stream_options", "an object", request["stream_options"])
    _check_stop(request.get("stop"))
    _check_logprobs(request)
    _check_tools(request)
    check_response_format(request.get("response_format"))


def _check_messages(messages: Any) -> None:
    if not isinstance(messages, list) or not messages:
        raise InvalidRequestError(
            "'messages' must be a non-empty list of chat messages.", param="messages"
        )
    for i, m in enumerate(messages):
        if not isinstance(m, Mapping) or m.get("role") not in _ROLES:
            raise InvalidRequestError(
                f"messages[{i}] needs a role of system, developer, user, assistant or tool.",
                param=f"messages[{i}].role",
            )
        _check_content(m, i)
        calls = m.get("tool_calls")
        if calls is not None:
            _check_tool_calls(calls, i)


def _check_content(message: Mapping[str, Any], i: int) -> None:
    """Content is text, or a list of parts; only an assistant's may be missing (tool calls)."""
    content = message.get("content")
    if content is None:
        if message["role"] != "assistant":
            raise InvalidRequestError(
                f"Missing required parameter: 'messages[{i}].content'.",
                param=f"messages[{i}].content",
                code="missing_required_parameter",
            )
        return
    is_parts = isinstance(content, list) and all(isinstance(p, str | Mapping) for p in content)
    if not isinstance(content, str) and not is_parts:
        raise _wrong_type(f"messages[{i}].content", "a string or an array of parts", content)


def _check_tool_calls(calls: Any, i: int) -> None:
    """An assistant's earlier tool calls: each a function with a name and string arguments."""
    if not isinstance(calls, list):
        raise _wrong_type(f"messages[{i}].tool_calls", "an array of tool calls", calls)
    for j, call in enumerate(calls):
        function = call.get("function") if isinstance(call, Mapping) else None
        name = function.get("name") if isinstance(function, Mapping) else None
        arguments = function.get("arguments", "") if isinstance(function, Mapping) else None
        if not isinstance(name, str) or not isinstance(arguments, str):
            raise InvalidRequestError(
                f"Invalid 'messages[{i}].tool_calls[{j}]': each call is "
                '{"id": ..., "type": "function", "function": {"name": ..., "arguments": '
                '"<JSON string>"}}.',
                param=f"messages[{i}].tool_calls[{j}]",
                code="invalid_value",
            )


def _check_stop(stop: Any) -> None:
    if stop is None or isinstance(stop, str):
        return
    if not isinstance(stop, list) or not all(isinstance(s, str) for s in stop):
        raise _wrong_type("stop", "a string or an array of strings", stop)
    if len(stop) > MAX_STOP_SEQUENCES:
        raise InvalidRequestError(
            f"Invalid 'stop': array too long. Expected an array with maximum length "
            f"{MAX_STOP_SEQUENCES}, but got an array with length {len(stop)} instead.",
            param="stop",
            code="array_above_max_length",
        )


def _check_logprobs(request: Mapping[str, Any]) -> None:
    """Refused as a provider without token probabilities refuses them: the stand-in has none."""
    _boolean(request, "logprobs")
    if request.get("logprobs") or request.get("top_logprobs") is not None:
        raise InvalidRequestError(
            "Unsupported parameter: 'logprobs' is not supported with this model: it picks "
            "sentences and has no token probabilities. Remove 'logprobs' and 'top_logprobs' "
            "from the request.",
            param="logprobs",
            code="unsupported_parameter",
        )


def _tool_names(tools: Any) -> list[str]:
    if not isinstance(tools, list):
        raise _wrong_type("tools", "an array of tools", tools)
    names = []
    for i, tool in enumerate(tools):
        function = tool.get("function") if isinstance(tool, Mapping) else None
        name = function.get("name") if isinstance(function, Mapping) else None
        if not isinstance(name, str) or not name:
            raise InvalidRequestError(
                f"Missing required parameter: 'tools[{i}].function.name'. Each tool is "
                '{"type": "function", "function": {"name": ..., "parameters": {...}}}.',
                param=f"tools[{i}].function.name",
                code="missing_required_parameter",
            )
        parameters = function.get("parameters") if isinstance(function, Mapping) else None
        if parameters is not None:
            check_schema_shape(parameters, f"tools[{i}].function.parameters")
        names.append(name)
    return names


def _check_tools(request: Mapping[str, Any]) -> None:
    tools = request.get("tools")
    names = _tool_names(tools) if tools is not None else []
    choice = request.get("tool_choice")
    if choice is None:
        return
    if not names:
        raise InvalidRequestError(
            "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are "
            "specified. Add the tools, or leave 'tool_choice' out.",
            param="tool_choice",
            code="invalid_value",
        )
    if isinstance(choice, str):
        if choice not in _TOOL_CHOICES:
            raise InvalidRequestError(
                f"Invalid value for 'tool_choice': '{choice}'. Supported values are: 'none', "
                "'auto', 'required', or a named function.",
                param="tool_choice",
                code="invalid_value",
            )
        return
    function = choice.get("function") if isinstance(choice, Mapping) else None
    name = function.get("name") if isinstance(function, Mapping) else None
    if not isinstance(name, str):
        raise _wrong_type("tool_choice", 'a string or {"type": "function", ...}', choice)
    if name not in names:
        raise InvalidRequestError(
            f"Invalid value for 'tool_choice': function '{name}' is not in 'tools' "
            f"(the tools are {names}). Name one of them, or use 'auto' or 'required'.",
            param="tool_choice",
            code="invalid_value",
        )


def check_response_format(response_format: Any) -> None:
    """A known ``response_format`` type; a strict JSON schema that strict mode can serve."""
    if response_format is None:
        return
    if not isinstance(response_format, Mapping):
        raise _wrong_type("response_format", "an object", response_format)
    kind = response_format.get("type")
    if kind not in _FORMAT_TYPES:
        raise InvalidRequestError(
            f"Invalid value for 'response_format.type': '{kind}'. Supported values are: "
            "'text', 'json_object', and 'json_schema'.",
            param="response_format.type",
            code="invalid_value",
        )
    if kind != "json_schema":
        return
    json_schema = response_format.get("json_schema")
    if not isinstance(json_schema, Mapping):
        raise InvalidRequestError(
            "Missing required parameter: 'response_format.json_schema'. Give it a 'name' and "
            "the 'schema'.",
            param="response_format.json_schema",
            code="missing_required_parameter",
        )
    schema = json_schema.get("schema")
    if schema is not None:
        check_schema_shape(schema, "response_format.json_schema.schema")
    if json_schema.get("strict") is True:
        check_strict_schema(json_schema)


def check_schema_shape(schema: Any, param: str) -> None:
    """A JSON Schema whose parts have the JSON types JSON Schema gives them.

    The model walks ``properties``, ``items``, ``anyOf`` and ``$defs`` to fill a schema; a part
    of the wrong type (``"properties": "x"``) is the sender's mistake, so it is a 400 naming
    where it is, not a crash.
    """
    if not isinstance(schema, Mapping):
        raise _wrong_type(param, "a JSON Schema object", schema)
    for key in ("properties", "$defs", "definitions"):
        group = schema.get(key)
        if group is None:
            continue
        if not isinstance(group, Mapping):
            raise _wrong_type(f"{param}.{key}", "an object of schemas", group)
        for name, sub in group.items():
            check_schema_shape(sub, f"{param}.{key}.{name}")
    if schema.get("items") is not None:
        check_schema_shape(schema["items"], f"{param}.items")
    for key in ("anyOf", "oneOf", "allOf"):
        branches = schema.get(key)
        if branches is None:
            continue
        if not isinstance(branches, list):
            raise _wrong_type(f"{param}.{key}", "an array of schemas", branches)
        for j, branch in enumerate(branches):
            check_schema_shape(branch, f"{param}.{key}[{j}]")
    for key in ("required", "enum"):
        if schema.get(key) is not None and not isinstance(schema[key], list):
            raise _wrong_type(f"{param}.{key}", "an array", schema[key])
    for key in _NUMERIC_KEYWORDS & set(schema):
        value = schema[key]
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise _wrong_type(f"{param}.{key}", "a number", value)
    kind = schema.get("type")
    if kind is not None and not (
        isinstance(kind, str) or (isinstance(kind, list) and all(isinstance(k, str) for k in kind))
    ):
        raise _wrong_type(f"{param}.type", "a type name or an array of them", kind)


def strict_schema_of(response_format: Any) -> Mapping[str, Any] | None:
    """The schema of a ``json_schema`` response format with ``strict: true``, else None."""
    if not isinstance(response_format, Mapping) or response_format.get("type") != "json_schema":
        return None
    json_schema = response_format.get("json_schema")
    if not isinstance(json_schema, Mapping) or json_schema.get("strict") is not True:
        return None
    schema = json_schema.get("schema")
    return schema if isinstance(schema, Mapping) else None


def _schema_error(name: str, problem: str) -> InvalidRequestError:
    return InvalidRequestError(
        f"Invalid schema for response_format '{name}': {problem}",
        param="response_format",
        code="invalid_json_schema",
    )


def check_strict_schema(json_schema: Mapping[str, Any]) -> None:
    """Refuse a schema strict mode cannot serve, as OpenAI's Structured Outputs does.

    The root is an object; every object sets ``additionalProperties: false`` and lists all its
    properties in ``required`` (an optional field is a required one that allows null); only
    the keywords in :data:`STRICT_KEYWORDS` appear.
    """
    name = str(json_schema.get("name") or "response")
    schema = json_schema.get("schema")
    if not isinstance(schema, Mapping):
        raise _schema_error(name, "strict mode needs a 'schema' (a JSON Schema object).")
    kind = schema.get("type")
    if kind != "object" or "anyOf" in schema:
        got = kind if isinstance(kind, str) else ("anyOf" if "anyOf" in schema else kind)
        raise _schema_error(
            name,
            f"schema must be a JSON Schema of 'type: \"object\"', got 'type: \"{got}\"'. "
            "Wrap the value in an object property, or send the schema without 'strict'.",
        )
    _check_strict_node(schema, (), name)


def _check_strict_node(node: Any, context: tuple[str, ...], name: str) -> None:
    where = f"In context={context!r}, "
    if not isinstance(node, Mapping):
        raise _schema_error(name, f"{where}a schema must be a JSON object.")
    for keyword in node:
        if keyword not in STRICT_KEYWORDS:
            raise _schema_error(
                name,
                f"{where}'{keyword}' is not permitted. Remove it: strict mode supports "
                "type, properties, required, additionalProperties, items, enum, const, anyOf, "
                "$ref and $defs, with pattern, format, lengths, numeric bounds and item counts.",
            )
    kind = node.get("type")
    if kind == "object" or (isinstance(kind, list) and "object" in kind) or "properties" in node:
        _check_strict_object(node, context, name)
    items = node.get("items")
    if items is not None:
        _check_strict_node(items, (*context, "items"), name)
    for i, branch in enumerate(node.get("anyOf") or ()):
        _check_strict_node(branch, (*context, "anyOf", str(i)), name)
    for group in ("$defs", "definitions"):
        definitions = node.get(group) or {}
        if not isinstance(definitions, Mapping):
            raise _schema_error(name, f"{where}'{group}' must be an object of schemas.")
        for key, sub in definitions.items():
            _check_strict_node(sub, (*context, group, str(key)), name)


def _check_strict_object(node: Mapping[str, Any], context: tuple[str, ...], name: str) -> None:
    where = f"In context={context!r}, "
    if node.get("additionalProperties") is not False:
        raise _schema_error(
            name,
            f"{where}'additionalProperties' is required to be supplied and to be false. "
            'Add "additionalProperties": false to that object.',
        )
    properties = node.get("properties") or {}
    if not isinstance(properties, Mapping):
        raise _schema_error(name, f"{where}'properties' must be an object of schemas.")
    required = node.get("required")
    listed = required if isinstance(required, list) else []
    missing = [key for key in properties if key not in listed]
    if not isinstance(required, list) or missing:
        raise _schema_error(
            name,
            f"{where}'required' is required to be supplied and to be an array including every "
            f"key in properties. Missing '{missing[0] if missing else ''}'. List every property "
            'in required; to make one optional, let it be null too ("type": ["string", "null"]).',
        )
    for key, sub in properties.items():
        _check_strict_node(sub, (*context, "properties", str(key)), name)


def check_context_window(spec: ModelSpec, prompt_tokens: int, request: Mapping[str, Any]) -> None:
    """Refuse a request whose prompt and completion limit cannot fit the model's window."""
    limit = request.get("max_completion_tokens") or request.get("max_tokens")
    completion = int(limit) if limit is not None else 0
    window = spec.context_window
    if prompt_tokens + completion <= window:
        return
    if completion:
        detail = (
            f"However, you requested {prompt_tokens + completion} tokens ({prompt_tokens} in "
            f"the messages, {completion} in the completion). Please reduce the length of the "
            "messages or completion."
        )
    else:
        detail = (
            f"However, your messages resulted in {prompt_tokens} tokens. Please reduce the "
            "length of the messages."
        )
    raise InvalidRequestError(
        f"This model's maximum context length is {window} tokens. {detail}",
        param="messages",
        code="context_length_exceeded",
    )


def check_dimensions(request: Mapping[str, Any], spec: ModelSpec, shortenable: bool) -> int | None:
    """The requested embedding length, if the model can shorten its vectors to it."""
    if request.get("dimensions") is None:
        return None
    if not shortenable:
        raise InvalidRequestError(
            f"This model does not support specifying dimensions. {spec.id} always returns "
            f"{spec.dimension} dimensions; leave 'dimensions' out, or use an embedding model "
            "that supports shortened embeddings.",
            param="dimensions",
            code="unsupported_parameter",
        )
    return _integer(request, "dimensions", low=1, high=spec.dimension)
