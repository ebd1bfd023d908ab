"""A passage cut into the units an extractive answer is made of: sentences, list items, rows.

A reader answering from a page never quotes a heading on its own, nor a table row without its
header ("Budget; EUR 350" means nothing; "Hotel, per night: EUR 350" does). So each unit keeps
what it needs to read as an answer: a table row carries its header cells, a list item the
sentence that introduced its list ("Severity levels:"), and every unit the heading it sits
under, which ranking reads as context but the answer does not repeat.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from course_lib.standin.text import clean_markdown

__all__ = ["Unit", "split_units"]

_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*)$")
_ITEM = re.compile(r"^\s{0,3}(?:[-*+]|\d+[.)])\s+")
_RULE = re.compile(r"^\|?[\s:|-]+\|?$")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9`*])")


@dataclass(frozen=True)
class Unit:
    """One unit of a passage an answer can be made of.

    ``text`` is what an answer says; ``heading`` and ``lead`` are context for ranking:
    the section heading above the unit, and the sentence that introduced its list.
    """

    text: str
    kind: str  # "sentence", "item" or "row"
    heading: str = ""
    lead: str = ""


def _row(cells: list[str], header: list[str]) -> str:
    """A table row as a sentence: each cell after its column's header."""
    parts = []
    for i, cell in enumerate(cells):
        if not cell:
            continue
        name = header[i] if i < len(header) else ""
        if name and i > 0:
            parts.append(f"{name}: {cell}")
        else:
            parts.append(cell)
    return clean_markdown("; ".join(parts))


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _table(lines: list[str], heading: str, lead: str) -> list[Unit]:
    rows = [line for line in lines if not _RULE.fullmatch(line.strip())]
    if not rows:
        return []
    header = [clean_markdown(c) for c in _cells(rows[0])]
    has_header = len(lines) > 1 and bool(_RULE.fullmatch(lines[1].strip()))
    body = rows[1:] if has_header else rows
    out = []
    for line in body:
        text = _row(_cells(line), header if has_header else [])
        if len(text) >= 3:
            out.append(Unit(text, "row", heading, lead))
    return out


def _sentences(paragraph: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(clean_markdown(paragraph)) if len(s) >= 3]


def _blocks(text: str) -> list[tuple[str, list[str]]]:
    """The passage as (kind, lines) blocks: heading, table, item, paragraph or code."""
    blocks: list[tuple[str, list[str]]] = []
    fenced = False
    for raw in text.splitlines():
        line = raw.rstrip()
        if line.strip().startswith("```"):
            fenced = not fenced
            continue
        if fenced:
            continue
        if not line.strip():
            blocks.append(("blank", []))
        elif _HEADING.match(line):
            blocks.append(("heading", [_HEADING.match(line).group(1)]))  # type: ignore[union-attr]
        elif line.lstrip().startswith("|"):
            if blocks and blocks[-1][0] == "table":
                blocks[-1][1].append(line)
            else:
                blocks.append(("table", [line]))
        elif _ITEM.match(line):
            blocks.append(("item", [_ITEM.sub("", line, count=1)]))
        elif blocks and blocks[-1][0] in ("item", "paragraph"):
            blocks[-1][1].append(line.strip())
        else:
            blocks.append(("paragraph", [line.strip()]))
    return [b for b in blocks if b[0] != "blank"]


def _json_lines(text: str) -> str:
    """A JSON document (a tool result, say) as "key: value" list items, one per field."""
    try:
        value = json.loads(text)
    except ValueError:
        return text
    lines: list[str] = []

    def walk(item: object, path: str) -> None:
        if isinstance(item, dict):
            for key, child in item.items():
                walk(child, f"{path} {key}".strip())
        elif isinstance(item, list) and any(isinstance(c, (dict, list)) for c in item):
            for child in item:
                walk(child, path)
        else:
            shown = ", ".join(map(str, item)) if isinstance(item, list) else str(item)
            lines.append(f"- {path.replace('_', ' ')}: {shown}" if path else f"- {shown}")

    walk(value, "")
    return "\n".join(lines)


def split_units(text: str) -> list[Unit]:
    """The answer units of a passage, in order (questions and headings are not units)."""
    if text.lstrip()[:1] in ("{", "["):
        text = _json_lines(text)
    units: list[Unit] = []
    heading, lead = "", ""
    for kind, lines in _blocks(text):
        if kind == "heading":
            heading, lead = clean_markdown(lines[0]), ""
        elif kind == "table":
            units.extend(_table(lines, heading, lead))
        elif kind == "item":
            item = clean_markdown(" ".join(lines))
            if len(item) >= 3 and not item.endswith("?"):
                units.append(Unit(item, "item", heading, lead))
        else:
            sentences = _sentences(" ".join(lines))
            lead = ""
            for sentence in sentences:
                if sentence.endswith("?"):  # a question in a FAQ is not an answer
                    continue
                if sentence.endswith(":") and sentence is sentences[-1]:
                    lead = sentence.rstrip(":")  # introduces the list or table below
                    continue
                units.append(Unit(sentence, "sentence", heading, lead=""))
    return units
