"""Finding the JSON object in what a model wrote around it.

Asked for JSON in the prompt only, models wrap it: a Markdown fence, a preamble ("Here is the
JSON you asked for:"), a comment or a sentence after it. ``json.loads`` rejects all of these.
:func:`extract_json` finds the first complete JSON object instead, and says clearly why when
there is none (prose only, or an object cut off by a token limit).
"""

from __future__ import annotations

import json
from typing import Any

from course_lib.errors import JSONExtractionError

__all__ = ["JSONExtractionError", "extract_json"]


def _scan(text: str, start: int, *, drop_comments: bool = False) -> tuple[int | None, str]:
    """From the ``{`` at ``start``: where its matching ``}`` is (None if never closed), and
    the text of that span (without ``//`` comments if asked). Braces and ``//`` inside JSON
    strings do not count."""
    out: list[str] = []
    depth = 0
    in_string = escaped = False
    i = start
    while i < len(text):
        char = text[i]
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif drop_comments and text.startswith("//", i):
            while i < len(text) and text[i] != "\n":
                i += 1
            continue
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                out.append(char)
                return i, "".join(out)
        out.append(char)
        i += 1
    return None, "".join(out)


def _decode_object(text: str) -> tuple[dict[str, Any] | None, str | None]:
    """The first top-level JSON object in ``text``, or why there is none.

    Each ``{`` is tried in turn; a candidate that does not decode is skipped as a whole (to
    its matching ``}``), so an object nested inside a broken one is never mistaken for the
    answer. A candidate that is never closed means the output was cut off.
    """
    decoder = json.JSONDecoder()
    first_error: str | None = None
    start = text.find("{")
    while start != -1:
        try:
            value, _ = decoder.raw_decode(text, start)
        except json.JSONDecodeError as exc:
            error = f"{exc.msg} (line {exc.lineno}, column {exc.colno})"
        else:
            return value, None
        end, _ = _scan(text, start)
        if end is None:
            return None, (
                f"the object that starts at character {start} is never closed, so the output "
                f"looks truncated (by max_tokens?); the parser says: {error}"
            )
        _, cleaned = _scan(text, start, drop_comments=True)
        try:
            value = json.loads(cleaned)
        except json.JSONDecodeError:
            first_error = first_error or (
                f"the object that starts at character {start} does not parse: {error}"
            )
        else:
            if isinstance(value, dict):
                return value, None
        start = text.find("{", end + 1)
    return None, first_error


def extract_json(text: str | None) -> dict[str, Any]:
    """The first JSON object in a model's output, whatever is written around it.

    Handles Markdown code fences (with or without ``json``), a preamble, a comment or prose
    after the object, ``//`` comments inside it, and braces inside strings. Only an object
    counts: a model asked for an object that returns a list or a number has not done so.

    Raises:
        JSONExtractionError: the output is empty, holds no ``{``, or no object in it parses
            (for example, it was cut off by ``max_tokens``); the message says which.

    >>> extract_json('Here is the JSON:\\n```json\\n{"priority": "P2"}\\n```')
    {'priority': 'P2'}
    """
    if text is None or not text.strip():
        raise JSONExtractionError(
            "The model output is empty, so it holds no JSON object; check finish_reason and "
            "whether the model refused."
        )
    value, error = _decode_object(text)
    if value is not None:
        return value
    start = " ".join(text.strip().split())[:60]
    if error is None:
        raise JSONExtractionError(
            f"No JSON object in the model output ({len(text)} characters, starting "
            f"{start!r}); ask for JSON, or use a response_format with a schema."
        )
    raise JSONExtractionError(f"No complete JSON object in the model output: {error}.")
