"""The JSON schema of a pydantic model, made acceptable to a provider's strict mode.

With ``"strict": true`` in a ``json_schema`` response format, a provider such as OpenAI
decodes under the schema's constraints, so the reply always has the schema's shape. It accepts
only a subset of JSON Schema, and refuses the request otherwise:

* every object sets ``additionalProperties: false`` and lists *all* its properties in
  ``required``; an optional field is written as a required one that may be null;
* only the keywords in :data:`STRICT_KEYWORDS` appear (no ``allOf``, ``oneOf``, ``not``,
  ``uniqueItems``, ``prefixItems``, free-form ``dict`` values...).

pydantic's schemas break the first rule on every optional field (it leaves them out of
``required`` and gives them a ``default``). :func:`strict_json_schema` rewrites a schema to
follow it, and refuses, in one line that says what to change, a schema that cannot follow the
second. The ``openai`` SDK applies much the same rewrite in its ``parse`` helper.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from course_lib.errors import StrictSchemaError

__all__ = ["STRICT_KEYWORDS", "strict_json_schema"]

# The JSON Schema keywords strict mode accepts (OpenAI, "Supported schemas"); anything else
# is refused by the provider, so it is refused here first, with a clearer message.
STRICT_KEYWORDS = frozenset(
    {"type", "properties", "required", "additionalProperties", "items", "enum", "const"}
    | {"anyOf", "$ref", "$defs", "definitions", "$schema", "$id", "$comment"}
    | {"title", "description", "examples"}
    | {"pattern", "format", "minLength", "maxLength"}
    | {"multipleOf", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}
    | {"minItems", "maxItems"}
)
# Keywords that hold schemas (walked into), and those that hold names of schemas.
_SCHEMA_MAPS = ("properties", "$defs", "definitions")

# What to write instead of the keywords pydantic emits most often that strict mode refuses.
_ADVICE = {
    "allOf": "inline the combined fields into one model",
    "oneOf": "use a plain union (anyOf) instead of a discriminated one",
    "uniqueItems": "use list[...] instead of set[...]",
    "prefixItems": "use a list or a nested model instead of a tuple",
    "patternProperties": "use a nested model with fixed fields",
    "propertyNames": "use a nested model with fixed fields",
}


def _refuse(name: str, where: str, problem: str, advice: str) -> StrictSchemaError:
    return StrictSchemaError(
        f"{name} cannot be sent in strict mode: {problem} at {where or 'the top level'}; "
        f"{advice}, or send it with strict=False."
    )


def _walk(node: Any, where: str, name: str) -> None:
    """Make ``node`` (and every schema inside it) strict, in place; refuse what cannot be."""
    if not isinstance(node, dict):
        return
    node.pop("default", None)  # every field is sent, so a default means nothing to the model
    for keyword in node:
        if keyword not in STRICT_KEYWORDS:
            advice = _ADVICE.get(keyword, f"remove the constraint that produces {keyword!r}")
            raise _refuse(name, where, f"the keyword {keyword!r} is not supported", advice)
    is_object = node.get("type") == "object" or "properties" in node
    extra = node.get("additionalProperties")
    if is_object:
        if extra not in (None, False):
            raise _refuse(
                name,
                where,
                "an object with free-form keys (a dict field)",
                "use a nested model with fixed fields",
            )
        node["additionalProperties"] = False
        node["required"] = list(node.get("properties") or {})
    for group in _SCHEMA_MAPS:
        for key, sub in (node.get(group) or {}).items():
            _walk(sub, f"{where}.{key}" if where and group == "properties" else str(key), name)
    if "items" in node:
        _walk(node["items"], f"{where}[]", name)
    for branch in node.get("anyOf") or ():
        _walk(branch, where, name)


def strict_json_schema(schema: Mapping[str, Any], *, name: str = "The schema") -> dict[str, Any]:
    """A copy of ``schema`` that strict mode accepts, or :class:`StrictSchemaError`.

    Every object gets ``additionalProperties: false`` and all its properties in ``required``.
    An optional pydantic field (``service: str | None = None``) is already nullable in its
    schema, so "may be left out" becomes "is null"; a field with another default becomes
    required with its own type. ``default`` values are dropped.

    Args:
        schema: a JSON schema, such as ``Model.model_json_schema()``.
        name: how the refusal message names the schema (the model's class name).

    Raises:
        StrictSchemaError: the schema's root is not an object, or it uses a keyword strict
            mode does not support (the message names it, where, and what to change).

    >>> strict_json_schema({"type": "object", "properties": {"a": {"type": "string"}}})
    {'type': 'object', 'properties': {'a': {'type': 'string'}}, 'additionalProperties': False, 'required': ['a']}
    """  # noqa: E501
    if schema.get("type") != "object":
        raise _refuse(
            name,
            "",
            f"the root is {schema.get('type') or 'not typed'!r}, not an object",
            "wrap the value in a model with one field",
        )
    strict = copy.deepcopy(dict(schema))
    _walk(strict, "", name)
    return strict
