"""Structured output: filling a JSON schema from the text of a request.

Fields are filled the way the behaviour contract says: enum fields by the value (and its
description) closest to the input, booleans from cues, numbers and dates by pattern, strings
from the most relevant sentence; required fields are always present. A per-model share of
outputs is malformed (truncated, a wrong type, a missing field), decided from the seed and the
input, so validation and repair can be measured.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from course_lib.standin.ranking import Candidate, Tier, candidates_from_passages, ranker
from course_lib.standin.text import split_sentences, stable_unit, terms

__all__ = [
    "fill_from_request",
    "fill_response",
    "fill_schema",
    "loose_json",
    "malform",
    "malformed_unit",
    "schema_from_prompt",
]

_NUMBER = re.compile(
    r"(?<![\w.])-?\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\w])|(?<![\w.])-?\d+(?:[.,]\d+)?(?![\w])"
)
_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?Z?)?\b")
_TIME = re.compile(r"\b\d{1,2}:\d{2}(?:\s?(?:UTC|CET|Europe/\w+))?\b")
_WEEKDAY = re.compile(r"\b(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day\b")
_MONEY = re.compile(
    r"(?:EUR|USD|GBP|€|\$|£)\s?\d[\d,]*(?:\.\d+)?|\d[\d,]*(?:\.\d+)?\s?(?:EUR|USD|GBP)"
)
_URL = re.compile(r"https?://\S+")
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_MAX_FILL_DEPTH = 8  # a recursive schema is filled this deep, then left to its minimum


_IDENTIFIER = re.compile(
    r"`([^`\s]{2,60})`|\b([A-Z]{2,}[-_]?\d{3,}[A-Z0-9]*|[A-Za-z]+-\d{2,}|\d{4,})\b"
)
_KEBAB = re.compile(r"`([a-z0-9][a-z0-9._-]{1,60})`|\b([a-z][a-z0-9]*(?:-[a-z0-9]+)+)\b")
_PLACE = re.compile(r"\b(?:in|to|from|at|for)\s+([A-Z][a-z]+(?:\s[A-Z][a-z]+)?)")
_ID_PARTS = {"id", "number", "code", "tracking", "reference", "ref", "ticket", "order", "sku"}
_QUERY_PARTS = {"query", "question", "search", "q", "keywords", "topic", "text", "prompt"}
_NAME_PARTS = {"service", "team", "doc", "document", "repo", "repository", "component"}
_PLACE_PARTS = {"city", "location", "country", "place", "destination", "depot", "hub"}


def _name_parts(name: str) -> set[str]:
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", "_", name)
    return {part for part in re.split(r"[_\-\s]+", spaced.lower()) if part}


def _string_by_name(name: str, text: str, question: str) -> str | None:
    """A string argument found by what its name asks for: an id, a query, a name, a place."""
    parts = _name_parts(name)
    if parts & _QUERY_PARTS:
        return question.strip()
    if parts & _ID_PARTS:
        for match in _IDENTIFIER.finditer(text):
            return match.group(1) or match.group(2)
    if parts & _NAME_PARTS:
        for match in _KEBAB.finditer(text):
            return match.group(1) or match.group(2)
    if parts & _PLACE_PARTS and (place := _PLACE.search(text)):
        return place.group(1)
    return None


_NAMED_PATTERNS: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    (_TIME, ("time", "hour")),
    (_WEEKDAY, ("day", "weekday")),
    (_MONEY, ("amount", "price", "cost", "budget", "limit")),
    (_URL, ("url", "link")),
)


def _parse_number(text: str) -> float:
    """A number as people write it: "1,200" is twelve hundred, "2,5" is two and a half."""
    if re.fullmatch(r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?", text):
        return float(text.replace(",", ""))
    return float(text.replace(",", "."))


def _resolve(schema: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    """Follow ``$ref`` and pick the non-null branch of ``anyOf``/``oneOf``."""
    seen = 0
    while seen < 20:
        seen += 1
        if "$ref" in schema:
            path = str(schema["$ref"]).lstrip("#/").split("/")
            target: Any = root
            for part in path:
                target = target.get(part, {})
            merged = {k: v for k, v in schema.items() if k != "$ref"}
            schema = {**target, **merged}
            continue
        for key in ("anyOf", "oneOf"):
            if key in schema and not _is_enum_branches(schema[key]):
                branches = [b for b in schema[key] if b.get("type") != "null"]
                if branches:
                    rest = {k: v for k, v in schema.items() if k != key}
                    schema = {**branches[0], **rest}
                    break
        else:
            return schema
    return schema


def _is_enum_branches(branches: Any) -> bool:
    return isinstance(branches, list) and bool(branches) and all("const" in b for b in branches)


def _nullable(schema: Mapping[str, Any]) -> bool:
    for key in ("anyOf", "oneOf"):
        if any(b.get("type") == "null" for b in schema.get(key, ())):
            return True
    kind = schema.get("type")
    return kind == "null" or (isinstance(kind, list) and "null" in kind)


def _enum_options(schema: Mapping[str, Any]) -> list[tuple[Any, str]]:
    """(value, description) pairs of an enum field; descriptions parsed from the field's."""
    if "enum" in schema:
        values = list(schema["enum"])
        notes = _value_notes(str(schema.get("description", "")), values)
        return [(v, notes.get(str(v), "")) for v in values]
    for key in ("anyOf", "oneOf"):
        if _is_enum_branches(schema.get(key)):
            return [(b["const"], str(b.get("description", ""))) for b in schema[key]]
    if "const" in schema:
        return [(schema["const"], "")]
    return []


def _value_notes(description: str, values: list[Any]) -> dict[str, str]:
    """Per-value notes written as ``value: note`` (or ``value - note``) inside a description."""
    spots: list[tuple[int, int, str]] = []
    for value in values:
        pattern = rf"(?:^|(?<=[\s;,.(]))`?{re.escape(str(value))}`?\s*(?::|=|-|–)\s*"
        if match := re.search(pattern, description):
            spots.append((match.start(), match.end(), str(value)))
    spots.sort()
    notes: dict[str, str] = {}
    for i, (_, end, value) in enumerate(spots):
        stop = spots[i + 1][0] if i + 1 < len(spots) else len(description)
        notes[value] = description[end:stop].strip(" .;,\n")
    return notes


_NEGATIONS = frozenset(
    {"not", "no", "never", "without", "cannot", "can't", "won't", "isn't", "aren't"}
    | {"wasn't", "weren't", "don't", "doesn't", "didn't"}
)


def _negated(sentence: str, name: str) -> bool:
    """Whether ``sentence`` negates the field's name ("not urgent", "isn't really urgent")."""
    wanted = set(terms(name.replace("_", " ")))
    for clause in re.split(r"[,;:!?()]", sentence.lower().replace("\u2019", "'")):
        words = re.findall(r"[a-z0-9']+", clause)
        for i, word in enumerate(words):
            if set(terms(word)) & wanted and _NEGATIONS & set(words[max(0, i - 2) : i]):
                return True
    return False


def _field_query(name: str, schema: Mapping[str, Any]) -> str:
    return f"{name.replace('_', ' ')} {schema.get('title', '')} {schema.get('description', '')}"


def _choose_enum(options: list[tuple[Any, str]], text: str, tier: Tier) -> Any:
    labelled = [
        Candidate(f"{str(v).replace('_', ' ').replace('-', ' ')} {note}", str(i), i)
        for i, (v, note) in enumerate(options)
    ]
    # Reverse the usual direction: which option's words does the input contain?
    scored = ranker(tier).score(text, labelled) if tier == "large" else None
    text_terms = set(terms(text))
    best, best_score = options[0][0], -1.0
    for i, (value, _) in enumerate(options):
        option_terms = set(terms(labelled[i].text))
        lexical = len(option_terms & text_terms) / (len(option_terms) ** 0.5 or 1.0)
        score = lexical
        if scored is not None:
            cosine = next(s.score for s in scored if s.candidate.position == i)
            score = 0.5 * lexical + 0.5 * cosine * 3
        if score > best_score + 1e-9:
            best, best_score = value, score
    return best


def _best_sentence(query: str, text: str, tier: Tier) -> tuple[str, float]:
    candidates = candidates_from_passages([("input", text)])
    if not candidates:
        return text.strip()[:200], 0.0
    ranked = ranker(tier).score(query, candidates)
    return ranked[0].candidate.text, ranked[0].score


def fill_schema(
    schema: Mapping[str, Any],
    text: str,
    tier: Tier,
    *,
    name: str = "value",
    root: Mapping[str, Any] | None = None,
    depth: int = 0,
) -> Any:
    """A value for ``schema`` drawn from ``text``; ``depth`` stops a recursive schema."""
    root = root if root is not None else schema
    original = schema
    schema = _resolve(schema, root)
    options = _enum_options(schema) or _enum_options(original)
    if options:
        return _choose_enum(options, text, tier)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind == "object" or "properties" in schema:
        props: Mapping[str, Any] = schema.get("properties", {})
        if depth > _MAX_FILL_DEPTH:
            return {}
        return {
            key: fill_schema(sub, text, tier, name=key, root=root, depth=depth + 1)
            for key, sub in props.items()
        }
    if kind == "array":
        item = _resolve(schema.get("items", {}), root)
        item_options = _enum_options(item)
        count = max(int(schema.get("minItems", 1)), 1)
        if item_options:
            return [_choose_enum(item_options, text, tier)][:count] or []
        if depth > _MAX_FILL_DEPTH:
            return []
        return [
            fill_schema(item, text, tier, name=name, root=root, depth=depth + 1)
            for _ in range(count)
        ]
    if kind == "boolean":
        sentence, score = _best_sentence(_field_query(name, schema), text, tier)
        return score >= 0.3 and not _negated(sentence, name)
    if kind in ("integer", "number"):
        sentence, _ = _best_sentence(_field_query(name, schema), text, tier)
        found = _NUMBER.findall(sentence) or _NUMBER.findall(text)
        if not found and _nullable(original):
            return None
        value: float = _parse_number(found[0]) if found else 0.0
        if "minimum" in schema:
            value = max(value, float(schema["minimum"]))
        if "maximum" in schema:
            value = min(value, float(schema["maximum"]))
        return int(value) if kind == "integer" else value
    if kind == "null":
        return None
    fmt = schema.get("format", "")
    if fmt in ("date", "date-time"):
        match = _DATE.search(text)
        if match:
            return match.group(0)[:10] if fmt == "date" else match.group(0)
        return None if _nullable(original) else ""
    if fmt == "email":
        match = _EMAIL.search(text)
        return match.group(0) if match else (None if _nullable(original) else "")
    if (found_string := _string_by_name(name, text, text)) is not None:
        return found_string[: int(schema.get("maxLength", 280))]
    for pattern, words in _NAMED_PATTERNS:
        if any(w in name.lower() for w in words):
            sentence, _ = _best_sentence(_field_query(name, schema), text, tier)
            match = pattern.search(sentence) or pattern.search(text)
            if match:
                return match.group(0)
    sentence, score = _best_sentence(_field_query(name, schema), text, tier)
    if score < 0.15:
        sentences = split_sentences(text)
        sentence = sentences[0] if sentences else text.strip()
    limit = int(schema.get("maxLength", 280))
    return sentence[:limit]


def malform(value: Any, schema: Mapping[str, Any] | None, unit: float) -> str:
    """The JSON of ``value``, broken in one of the ways real models break it.

    Every broken output fails validation against ``schema``: a truncated document, a value of
    the wrong type (never one a lenient validator coerces back), or a missing required field.
    An array or a single value (a schema whose root is not an object) comes back truncated,
    or a number as a string, since a truncated number can still be a number.
    """
    if not isinstance(value, dict):
        if isinstance(value, int | float) and not isinstance(value, bool):
            return json.dumps(f"{value} (approx.)")
        text = json.dumps(value, ensure_ascii=False)
        return text[: max(1, int(len(text) * 0.6))]
    kinds = ["truncated", "wrong_type", "missing_field"]
    kind = kinds[int(unit * len(kinds)) % len(kinds)]
    root = schema or {}
    required = [k for k in root.get("required", list(value)) if k in value]
    typed = [k for k in value if value[k] is not None]  # a wrong type for null may be valid
    if kind == "missing_field" and required:
        victim = required[int(unit * 1000) % len(required)]
        broken = {k: v for k, v in value.items() if k != victim}
        return json.dumps(broken, ensure_ascii=False)
    if kind == "wrong_type" and typed:
        victim = typed[int(unit * 1000) % len(typed)]
        current = value[victim]
        field = _resolve(root.get("properties", {}).get(victim, {}), root)
        if isinstance(current, bool):
            replacement: Any = "Yes." if current else "No."  # "yes" would pass lax validators
        elif isinstance(current, (int, float)):
            replacement = str(current) + " (approx.)"
        elif isinstance(current, str) and current:
            titled = current.replace("_", " ").title()
            # A near-miss for an enum value; any other string comes back as a list.
            replacement = titled if _enum_options(field) and titled != current else [current]
        elif isinstance(current, str):
            replacement = 0
        else:
            replacement = str(current)
        return json.dumps({**value, victim: replacement}, ensure_ascii=False)
    text = json.dumps(value, ensure_ascii=False)
    return text[: max(1, int(len(text) * 0.6))]


def _example_type(raw: str) -> dict[str, Any]:
    """The schema of one value of a JSON example: ``true`` is a boolean, ``3`` a number..."""
    raw = raw.strip()
    if raw in ("true", "false"):
        return {"type": "boolean"}
    if raw == "null":
        return {"type": ["string", "null"]}
    if re.fullmatch(r"-?\d+", raw):
        return {"type": "integer"}
    if re.fullmatch(r"-?\d+\.\d+", raw):
        return {"type": "number"}
    options = [o.strip() for o in raw.strip('"').split("|")] if "|" in raw else []
    return {"type": "string", **({"enum": options} if len(options) > 1 else {})}


def schema_from_prompt(prompt: str) -> dict[str, Any]:
    """A rough schema from a prompt that asks for JSON without giving a schema.

    Keys and their types come from a JSON example in the prompt (``{"category": ...,
    "urgent": false}``: a ``true``/``false`` value makes a boolean, a number a number, ``null``
    a nullable string); options from ``"a|b|c"`` values or a ``key: one of a, b, c`` line.
    """
    properties: dict[str, Any] = {}
    for key, raw in re.findall(r"\"([A-Za-z_]\w*)\"\s*:\s*(\"[^\"]*\"|[^,}\n]+)", prompt):
        if key not in properties:  # the first example of a key decides its type
            properties[key] = _example_type(raw)
    for key, listed in re.findall(
        r"\b([A-Za-z_]\w*)\b[^\n:]{0,20}:?\s*(?:is\s+)?one of\s*:?\s*([^\n.]+)", prompt
    ):
        options = [o.strip(" `'\"") for o in re.split(r",\s*|\s+or\s+", listed) if o.strip(" `'\"")]
        if options and key in properties:
            properties[key] = {"type": "string", "enum": options}
    return {"type": "object", "properties": properties, "required": list(properties)}


def loose_json(value: dict[str, Any], unit: float) -> str:
    """JSON the way models write it when only the prompt asks for JSON."""
    body = json.dumps(value, ensure_ascii=False, indent=2)
    if unit < 0.3:
        return f"```json\n{body}\n```"
    if unit < 0.45:
        return f"Here is the JSON you asked for:\n{body}"
    if unit < 0.55:
        return f"{body}\n// fields inferred from the message"
    return body


def fill_from_request(schema: Mapping[str, Any], text: str, tier: Tier) -> dict[str, Any]:
    """Fill an object schema; a non-object schema is wrapped as ``{"value": ...}``."""
    value = fill_schema(schema, text, tier)
    return value if isinstance(value, dict) else {"value": value}


def fill_response(schema: Mapping[str, Any], text: str, tier: Tier) -> Any:
    """The document a ``json_schema`` response format asks for, of the schema's own root type.

    An array schema gets a JSON array and a string schema a JSON string, as a hosted model
    writes them; a schema that names no type gets an object, as models write by default.
    """
    kind = _resolve(schema, schema).get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind in ("array", "string", "number", "integer", "boolean"):
        return fill_schema(schema, text, tier)
    return fill_from_request(schema, text, tier)


def malformed_unit(seed: Any, fingerprint: str) -> float:
    return stable_unit("malformed", seed, fingerprint)
