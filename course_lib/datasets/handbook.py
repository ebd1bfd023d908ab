"""Load the Kestrel Freight handbook: Markdown documents with YAML front matter.

Two snapshots exist. ``current`` is the handbook as it is today. ``v1`` is the handbook as it
was before sixteen documents changed: the documents in ``previous/`` replace their current
versions. The local stand-in model's "parametric memory" is the v1 snapshot, which is why it is
confidently wrong about facts that changed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from course_lib.datasets.errors import DatasetError
from course_lib.rag.documents import ACCESS_LEVELS, HandbookDocument, Section, split_sections

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
Snapshot = Literal["current", "v1"]
_SNAPSHOTS: tuple[str, ...] = ("current", "v1")
_FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n", re.DOTALL)


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
