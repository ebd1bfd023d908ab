"""The documents a retrieval index holds: typed front matter, Markdown text, access level.

A document's ``access`` level decides who may ever see it, and the index enforces it inside
each query (see :mod:`~course_lib.rag.access`). Loaders of any corpus produce these; the
course's handbook loader is one (``course_lib.datasets.load_handbook``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

__all__ = ["ACCESS_LEVELS", "HandbookDocument", "Section", "split_sections"]

ACCESS_LEVELS = ("public", "internal", "restricted")
"""Access levels from least to most restricted; a reader's clearance is a set of them."""


@dataclass(frozen=True)
class Section:
    """One Markdown section: its heading (without the #s) and its text, heading line excluded."""

    heading: str
    text: str


@dataclass(frozen=True)
class HandbookDocument:
    """One handbook document with its front matter as typed fields."""

    id: str
    title: str
    team: str
    version: int
    updated: date
    access: str
    text: str  # the Markdown body, front matter removed

    @property
    def sections(self) -> list[Section]:
        return split_sections(self.text)


def split_sections(markdown: str) -> list[Section]:
    """Split Markdown into sections at level-1 and level-2 headings.

    Text before the first ``##`` heading belongs to the document title's section. Level-3 and
    deeper headings stay inside their parent section, which keeps sections long enough to
    answer a question on their own.
    """
    sections: list[Section] = []
    heading = ""
    lines: list[str] = []
    in_fence = False
    for line in markdown.splitlines():
        if line.startswith("```"):
            in_fence = not in_fence
        match = None if in_fence else re.match(r"^(#{1,2})\s+(.*\S)\s*$", line)
        if match:
            if heading or any(x.strip() for x in lines):
                sections.append(Section(heading, "\n".join(lines).strip()))
            heading, lines = match.group(2), []
        else:
            lines.append(line)
    if heading or any(x.strip() for x in lines):
        sections.append(Section(heading, "\n".join(lines).strip()))
    return sections
