"""Strict mode: a structured output made to fit its JSON schema, every time.

A hosted model with ``strict: true`` decodes under the schema's constraints, so its output
always validates. The stand-in fills the schema as usual (:mod:`~course_lib.standin.structured`)
and then makes the value fit: each part that breaks a rule is filled again from the input, and
what still does not fit becomes the schema's simplest valid value. Only ``max_tokens`` can
still cut the output short, as it can a hosted model's.
"""

from __future__ import annotations

import importlib
import math
import re
import sys
from collections.abc import Mapping
from datetime import date
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from course_lib.standin.ranking import Tier
from course_lib.standin.structured import (
    _DATE as DATE,
    _MAX_FILL_DEPTH as MAX_FILL_DEPTH,
    _choose_enum as choose_enum,
    _enum_options as enum_options,
    fill_schema,
)
from course_lib.standin.text import split_sentences

__all__ = ["conform"]

_FORMAT_PLACEHOLDERS = {
    "date": "1970-01-01",
    "date-time": "1970-01-01T00:00:00Z",
    "time": "00:00:00Z",
    "duration": "P0D",
    "email": "unknown@example.com",
    "hostname": "example.com",
    "ipv4": "0.0.0.0",
    "ipv6": "::1",
    "uuid": "00000000-0000-0000-0000-000000000000",
}
_FORMAT_SHAPES = {
    "date": re.compile(r"\d{4}-\d{2}-\d{2}"),
    "date-time": re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})"),
    "time": re.compile(r"\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})"),
    "duration": re.compile(r"P(?=\d|T\d)(?:\d+[YMWD])*(?:T(?:\d+[HMS])+)?"),
    "email": re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
    "hostname": re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)*"),
    "ipv4": re.compile(
        r"(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
    ),
    "ipv6": re.compile(r"[0-9A-Fa-f:]*:[0-9A-Fa-f:]*"),
    "uuid": re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}"),
}
_CLOCK = re.compile(r"\b(\d{1,2}):(\d{2})(?::(\d{2}))?\b")


def conform(
    value: Any,
    schema: Mapping[str, Any],
    text: str,
    tier: Tier,
    *,
    root: Mapping[str, Any] | None = None,
    name: str = "value",
    depth: int = 0,
) -> Any:
    """``value`` made valid against ``schema``, keeping every part of it that already is."""
    root = root if root is not None else schema
    if depth > 2 * MAX_FILL_DEPTH:
        return _minimal(schema, root, depth)
    schema = _dereference(schema, root)
    if "const" in schema:
        return schema["const"]
    if "anyOf" in schema:
        return _conform_any_of(value, schema, text, tier, root, name, depth)
    if "enum" in schema:
        allowed = list(schema["enum"])
        if any(_same(value, option) for option in allowed):
            return value
        return choose_enum(enum_options(schema), text, tier) if allowed else None
    kinds = _kinds(schema)
    if not kinds:
        return value
    kind = next((k for k in kinds if _fits(value, k)), None)
    if kind is None:
        value = fill_schema(schema, text, tier, name=name, root=root, depth=depth)
        kind = next((k for k in kinds if _fits(value, k)), None)
        if kind is None:
            return _minimal(schema, root, depth)
    return _conform_kind(value, kind, schema, text, tier, root, name, depth)


def _conform_kind(
    value: Any,
    kind: str,
    schema: Mapping[str, Any],
    text: str,
    tier: Tier,
    root: Mapping[str, Any],
    name: str,
    depth: int,
) -> Any:
    if kind == "object":
        out = {}
        for key, sub in (schema.get("properties") or {}).items():
            if key not in value:
                filled = fill_schema(sub, text, tier, name=key, root=root, depth=depth + 1)
                out[key] = conform(filled, sub, text, tier, root=root, name=key, depth=depth + 1)
            else:
                out[key] = conform(
                    value[key], sub, text, tier, root=root, name=key, depth=depth + 1
                )
        return out  # strict objects allow no other keys
    if kind == "array":
        items = schema.get("items") or {}
        out_items = [
            conform(v, items, text, tier, root=root, name=name, depth=depth + 1) for v in value
        ]
        while len(out_items) < int(schema.get("minItems", 0)):
            out_items.append(
                conform(None, items, text, tier, root=root, name=name, depth=depth + 1)
            )
        if "maxItems" in schema:
            out_items = out_items[: int(schema["maxItems"])]
        return out_items
    if kind == "string":
        return _conform_string(value, schema, text)
    if kind in ("integer", "number"):
        return _conform_number(value, schema, integer=kind == "integer")
    return value  # boolean or null: fits already


def _dereference(schema: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    """Follow ``$ref`` (and nothing else: ``anyOf`` branches are chosen by the value)."""
    for _ in range(20):
        if "$ref" not in schema:
            return schema
        target: Any = root
        for part in str(schema["$ref"]).lstrip("#/").split("/"):
            target = target.get(part, {}) if part else target
        schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema


def _kinds(schema: Mapping[str, Any]) -> list[str]:
    kind = schema.get("type")
    if isinstance(kind, list):
        return [str(k) for k in kind]
    if isinstance(kind, str):
        return [kind]
    if "properties" in schema:
        return ["object"]
    if "items" in schema:
        return ["array"]
    return []


def _fits(value: Any, kind: str) -> bool:
    """Whether ``value`` has the JSON type ``kind`` (a bool is never a number)."""
    if kind == "null":
        return value is None
    if kind == "boolean":
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if kind == "integer":
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if kind == "number":
        return isinstance(value, int | float) and math.isfinite(value)
    types = {"string": str, "array": list, "object": dict}
    return kind in types and isinstance(value, types[kind])


def _same(value: Any, option: Any) -> bool:
    return bool(value == option and type(value) is type(option)) or (
        _fits(value, "number") and _fits(option, "number") and value == option
    )


def _conform_any_of(
    value: Any,
    schema: Mapping[str, Any],
    text: str,
    tier: Tier,
    root: Mapping[str, Any],
    name: str,
    depth: int,
) -> Any:
    """The branch the value already has the type of; else the first non-null branch."""
    rest = {k: v for k, v in schema.items() if k != "anyOf"}
    branches = [{**_dereference(b, root), **rest} for b in schema["anyOf"]]
    for branch in branches:
        options = branch.get("enum", [branch["const"]] if "const" in branch else None)
        if options is not None:
            if any(_same(value, o) for o in options):
                return value
            continue
        if any(_fits(value, k) for k in _kinds(branch)):
            return conform(value, branch, text, tier, root=root, name=name, depth=depth + 1)
    if value is None and any("null" in _kinds(b) for b in branches):
        return None
    target = next((b for b in branches if "null" not in _kinds(b)), branches[0])
    return conform(None, target, text, tier, root=root, name=name, depth=depth + 1)


def _conform_string(value: str, schema: Mapping[str, Any], text: str) -> str:
    fmt, pattern = schema.get("format"), schema.get("pattern")
    if fmt in _FORMAT_SHAPES:
        value = _in_format(value, str(fmt), text)
    if isinstance(pattern, str) and not _search(pattern, value):
        value = _matching(pattern, text) or value
    if fmt in _FORMAT_SHAPES or isinstance(pattern, str):
        return value  # lengths cannot move a formatted value without breaking it
    if "maxLength" in schema:
        value = value[: int(schema["maxLength"])]
    shortest = int(schema.get("minLength", 0))
    if len(value) < shortest:
        value = f"{value} {text}".strip()[: max(shortest, len(value))].ljust(shortest, ".")
    return value


def _valid_format(value: str, fmt: str) -> bool:
    if not _FORMAT_SHAPES[fmt].fullmatch(value):
        return False
    if fmt in ("date", "date-time"):
        try:
            date.fromisoformat(value[:10])
        except ValueError:
            return False
    if fmt in ("time", "date-time"):
        clock = _CLOCK.search(value[11:] if fmt == "date-time" else value)
        return clock is not None and int(clock.group(1)) < 24 and int(clock.group(2)) < 60
    return True


def _in_format(value: str, fmt: str, text: str) -> str:
    """``value`` in ``format``: as is, rewritten (a date as a date-time), or found in the text."""
    for candidate in (value, text):
        if _valid_format(candidate, fmt):
            return candidate
        if fmt in ("date", "date-time") and (found := DATE.search(candidate)):
            day = found.group(0)[:10]
            clock = _CLOCK.search(found.group(0)[10:])
            stamp = f"{day}T{_clock_text(clock)}Z"
            if _valid_format(day, "date"):
                return day if fmt == "date" else stamp
        clock = _CLOCK.search(candidate) if fmt == "time" else None
        if clock is not None and _valid_format(f"{_clock_text(clock)}Z", "time"):
            return f"{_clock_text(clock)}Z"
        for match in _FORMAT_SHAPES[fmt].finditer(candidate):
            if _valid_format(match.group(0), fmt):
                return match.group(0)
    return _FORMAT_PLACEHOLDERS[fmt]


def _clock_text(clock: re.Match[str] | None) -> str:
    if clock is None:
        return "00:00:00"
    return f"{int(clock.group(1)):02d}:{clock.group(2)}:{clock.group(3) or '00'}"


def _search(pattern: str, value: str) -> bool:
    try:
        return re.search(pattern, value) is not None
    except re.error:
        return True  # a pattern Python cannot read cannot be checked here either


def _matching(pattern: str, text: str) -> str | None:
    """A string matching ``pattern``: a piece of the input if one matches, else one built."""
    for piece in (*re.findall(r"\S+", text), *split_sentences(text)):
        if _search(pattern, piece.strip(".,;:!?()\"'")):
            return piece.strip(".,;:!?()\"'")
    return _example_of(pattern)


def _example_of(pattern: str) -> str | None:
    """The shortest string the parsed regular expression obviously matches, if it can tell."""
    parser: Any = importlib.import_module(
        "re._parser" if sys.version_info >= (3, 11) else "sre_parse"
    )
    try:
        built = _emit(parser.parse(pattern), {})
    except (re.error, ValueError, RecursionError):
        return None
    return built if _search(pattern, built) else None


_CATEGORY_CHARS = {
    "CATEGORY_DIGIT": "0",
    "CATEGORY_NOT_DIGIT": "a",
    "CATEGORY_SPACE": " ",
    "CATEGORY_NOT_SPACE": "a",
    "CATEGORY_WORD": "a",
    "CATEGORY_NOT_WORD": "-",
}


def _emit(items: Any, groups: dict[int, str]) -> str:
    parts = []
    for op, arg in items:
        kind = str(op)
        if kind == "LITERAL":
            parts.append(chr(arg))
        elif kind == "NOT_LITERAL":
            parts.append("b" if chr(arg) == "a" else "a")
        elif kind == "ANY":
            parts.append("a")
        elif kind == "IN":
            parts.append(_emit_class(arg))
        elif kind in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            parts.append(_emit(arg[2], groups) * int(arg[0]))
        elif kind == "SUBPATTERN":
            built = _emit(arg[-1], groups)
            if arg[0]:
                groups[int(arg[0])] = built
            parts.append(built)
        elif kind == "BRANCH":
            parts.append(_emit(arg[1][0], groups))
        elif kind == "ATOMIC_GROUP":
            parts.append(_emit(arg, groups))
        elif kind == "GROUPREF":
            parts.append(groups.get(int(arg), ""))
        elif kind not in ("AT", "ASSERT", "ASSERT_NOT"):  # anchors and lookarounds add nothing
            raise ValueError(kind)
    return "".join(parts)


def _emit_class(items: Any) -> str:
    if items and str(items[0][0]) == "NEGATE":
        return "a"  # checked afterwards: a class that excludes it makes no example
    op, arg = items[0]
    kind = str(op)
    if kind == "LITERAL":
        return chr(arg)
    if kind == "RANGE":
        return chr(arg[0])
    if kind == "CATEGORY":
        return _CATEGORY_CHARS.get(str(arg), "a")
    raise ValueError(kind)


def _conform_number(value: Any, schema: Mapping[str, Any], *, integer: bool) -> int | float:
    """The number nearest ``value`` that keeps the bounds and ``multipleOf``."""
    low, high = -math.inf, math.inf
    if "minimum" in schema:
        low = float(schema["minimum"])
    if "exclusiveMinimum" in schema:
        low = max(low, math.nextafter(float(schema["exclusiveMinimum"]), math.inf))
    if "maximum" in schema:
        high = float(schema["maximum"])
    if "exclusiveMaximum" in schema:
        high = min(high, math.nextafter(float(schema["exclusiveMaximum"]), -math.inf))
    if integer:
        low, high = math.ceil(low) if low > -math.inf else low, high
        high = math.floor(high) if high < math.inf else high
    number = min(max(float(value), low), high)
    step = schema.get("multipleOf")
    if step:
        unit = Decimal(str(step))
        quotient = Decimal(str(number)) / unit
        for k in (quotient.to_integral_value(), quotient.to_integral_value(ROUND_FLOOR) + 1):
            candidate = float(k * unit)
            if low <= candidate <= high:
                number = candidate
                break
        else:
            candidate = float(quotient.to_integral_value(ROUND_FLOOR) * unit)
            number = candidate if low <= candidate <= high else number
    if integer:
        return round(number)
    return value if number == value else number  # an integer that fits stays one


def _minimal(schema: Mapping[str, Any], root: Mapping[str, Any], depth: int = 0) -> Any:
    """The simplest value valid against ``schema``: what constrained decoding falls back on."""
    schema = _dereference(schema, root)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    if "anyOf" in schema:
        branches = [_dereference(b, root) for b in schema["anyOf"]]
        if any("null" in _kinds(b) for b in branches) or depth > 4 * MAX_FILL_DEPTH:
            return None
        return _minimal(branches[0], root, depth + 1)
    kinds = _kinds(schema)
    kind = "null" if "null" in kinds else (kinds[0] if kinds else "null")
    if kind == "object":
        props = schema.get("properties") or {}
        return {key: _minimal(sub, root, depth + 1) for key, sub in props.items()}
    if kind == "array":
        item = schema.get("items") or {}
        return [_minimal(item, root, depth + 1) for _ in range(int(schema.get("minItems", 0)))]
    if kind == "string":
        return _conform_string("", schema, "")
    if kind in ("integer", "number"):
        return _conform_number(0, schema, integer=kind == "integer")
    return False if kind == "boolean" else None
