"""Load the Kestrel Freight handbook: Markdown documents with YAML front matter.

Two snapshots exist. ``current`` is the handbook as it is today. ``v1`` is the handbook as it
was before sixteen documents changed: the documents in ``previous/`` replace their current
versions. The local stand-in model's "parametric memory" is the v1 snapshot, which is why it is
confidently wrong about facts that changed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from course_lib.errors import DatasetError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ACCESS_LEVELS",
    "HANDBOOK_DIR",
    "HandbookDocument",
    "Section",
    "handbook_frame",
    "load_handbook",
    "split_sections",
]

HANDBOOK_DIR = Path(__file__).parent / "handbook"
ACCESS_LEVELS = ("public", "internal", "restricted")
Snapshot = Literal["current", "v1"]
_SNAPSHOTS: tuple[str, ...] = ("current", "v1")
_FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n", re.DOTALL)


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


def _parse(path: Path) -> HandbookDocument:
    import yaml

    raw = path.read_text(encoding="utf-8")
    match = _FRONT_MATTER.match(raw)
    if match is None:
        raise DatasetError(f"{path.name} has no front matter block ('---' lines) at its top.")
    meta = yaml.safe_load(match.group(1))
    missing = {"id", "title", "team", "version", "updated", "access"} - set(meta)
    if missing:
        raise DatasetError(f"{path.name}: front matter lacks {sorted(missing)}.")
    if meta["access"] not in ACCESS_LEVELS:
        raise DatasetError(
            f"{path.name}: access {meta['access']!r} is not one of {list(ACCESS_LEVELS)}."
        )
    updated = meta["updated"]
    if not isinstance(updated, date):
        updated = date.fromisoformat(str(updated))
    return HandbookDocument(
        id=str(meta["id"]),
        title=str(meta["title"]),
        team=str(meta["team"]),
        version=int(meta["version"]),
        updated=updated,
        access=str(meta["access"]),
        text=raw[match.end() :].strip() + "\n",
    )


@lru_cache(maxsize=4)
def _load(folder: str) -> tuple[HandbookDocument, ...]:
    docs = tuple(_parse(p) for p in sorted((HANDBOOK_DIR / folder).glob("*.md")))
    return docs


def load_handbook(
    version: Snapshot = "current", *, access: Iterable[str] | None = None
) -> list[HandbookDocument]:
    """The handbook's documents, sorted by id.

    ``version="v1"`` gives the older snapshot: each document that changed appears in its
    version 1. ``access`` keeps only documents at those access levels (for example
    ``("public", "internal")`` for a reader without clearance).
    """
    if version not in _SNAPSHOTS:
        raise DatasetError(
            f"Unknown handbook version {version!r}. Choose one of {list(_SNAPSHOTS)}."
        )
    docs = {d.id: d for d in _load("current")}
    if version == "v1":
        docs.update({d.id: d for d in _load("previous")})
    selected = sorted(docs.values(), key=lambda d: d.id)
    if access is not None:
        wanted = set(access)
        unknown = wanted - set(ACCESS_LEVELS)
        if unknown:
            raise DatasetError(
                f"Unknown access level(s) {sorted(unknown)}. Choose from {list(ACCESS_LEVELS)}."
            )
        selected = [d for d in selected if d.access in wanted]
    return selected


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


def handbook_frame(version: Snapshot = "current") -> pd.DataFrame:
    """The handbook as a DataFrame, one row per document, with a word count."""
    import pandas as pd

    rows = [
        {
            "id": d.id,
            "title": d.title,
            "team": d.team,
            "version": d.version,
            "updated": pd.Timestamp(d.updated),
            "access": d.access,
            "words": len(d.text.split()),
            "text": d.text,
        }
        for d in load_handbook(version)
    ]
    return pd.DataFrame(rows)
