"""Extract and transform: handbook files into records, a problem noted instead of a crash.

A pipeline must never stop at the first bad file (a half-loaded index is worse than none) nor
load it as it is. So reading is split in two: :func:`read_record` turns one file's bytes into
a :class:`SourceRecord` whatever they hold, writing down a ``problem`` (not UTF-8, no front
matter, front matter that is not YAML) when it cannot parse them; :func:`records_frame` lays the
records out as a table for validation (:mod:`course_lib.pipelines.validation`), one row per
file, every front-matter field a column, missing ones as ``None``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from course_lib.rag.documents import HandbookDocument

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "FIELDS",
    "RECORD_COLUMNS",
    "SourceRecord",
    "read_record",
    "read_source",
    "record_document",
    "records_frame",
]

FIELDS = ("id", "title", "team", "version", "updated", "access")
"""The front-matter fields of a handbook document."""
RECORD_COLUMNS = ("file", *FIELDS, "text", "words", "size_bytes", "content_hash", "problem")
_FRONT_MATTER = re.compile(r"\A---\r?\n(.*?)\r?\n---\r?\n", re.DOTALL)


@dataclass(frozen=True)
class SourceRecord:
    """One source file as read: its front matter and body, or the problem that stopped it.

    Attributes:
        file: the file's name, e.g. ``oncall-policy.md``; its stem is the document's key.
        content_hash: SHA-256 of the file's bytes: what the manifest and the quarantine key on.
        size_bytes: the file's size.
        fields: the front matter as YAML gave it (values unchecked).
        text: the Markdown body, front matter removed; ``None`` when unreadable.
        problem: why the file could not be parsed, or ``None``.
    """

    file: str
    content_hash: str
    size_bytes: int
    fields: Mapping[str, Any] = field(default_factory=dict)
    text: str | None = None
    problem: str | None = None

    @property
    def key(self) -> str:
        """The file name without ``.md``: the id the document must have."""
        return self.file.removesuffix(".md")


def read_record(file: str, raw: bytes) -> SourceRecord:
    """Parses one file's bytes; never raises on bad content (the record says what is wrong)."""
    if not isinstance(raw, bytes):
        raise TypeError(f"read_record() takes the file's bytes, not {type(raw).__name__}.")
    digest = hashlib.sha256(raw).hexdigest()
    try:
        content = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return SourceRecord(
            file,
            digest,
            len(raw),
            problem=f"not UTF-8 text (byte {raw[exc.start]:#04x} at offset {exc.start}); "
            "re-save the file as UTF-8",
        )
    match = _FRONT_MATTER.match(content)
    if match is None:
        return SourceRecord(
            file,
            digest,
            len(raw),
            problem="no front matter block ('---' lines) at the top of the file",
        )
    import yaml

    try:
        meta = yaml.load(match.group(1), Loader=_loader())  # a SafeLoader: no objects
    except yaml.YAMLError as exc:
        reason = " ".join(str(exc).split())[:80]
        return SourceRecord(
            file, digest, len(raw), problem=f"front matter is not valid YAML ({reason})"
        )
    if not isinstance(meta, dict):
        return SourceRecord(
            file, digest, len(raw), problem="front matter is not a mapping of fields"
        )
    return SourceRecord(
        file, digest, len(raw), fields=meta, text=content[match.end() :].strip() + "\n"
    )


@lru_cache(maxsize=1)
def _loader() -> type[Any]:
    """YAML's safe loader, except that dates stay text: a bad date (``2026-13-01``) is then a
    value validation rejects with a reason, not an exception inside the YAML parser."""
    import yaml

    class TextDates(yaml.SafeLoader):
        pass

    TextDates.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    return TextDates


def read_source(folder: str | Path) -> list[SourceRecord]:
    """Every ``*.md`` file of ``folder``, read and parsed, sorted by file name.

    Raises:
        FileNotFoundError: ``folder`` is not a folder.
    """
    path = Path(folder)
    if not path.is_dir():
        raise FileNotFoundError(
            f"No source folder at {path}; pass the folder that holds the handbook's .md files."
        )
    return [read_record(p.name, p.read_bytes()) for p in sorted(path.glob("*.md"))]


def _field(value: Any) -> Any:
    """A front-matter value as the table shows it: dates as ISO text, the rest unchanged."""
    if isinstance(value, date):
        return value.isoformat()
    return value


def records_frame(records: Iterable[SourceRecord]) -> pd.DataFrame:
    """One row per record: ``file``, the front-matter fields (``None`` if missing), ``text``,
    ``words``, ``size_bytes``, ``content_hash`` and ``problem``."""
    import pandas as pd

    rows = []
    for record in records:
        if not isinstance(record, SourceRecord):
            raise TypeError(
                f"records_frame() takes SourceRecords (from read_source), not "
                f"{type(record).__name__}."
            )
        row: dict[str, Any] = {"file": record.file}
        for name in FIELDS:
            value = record.fields.get(name)
            row[name] = None if value is None else _field(value)
        if row["id"] is not None:
            row["id"] = str(row["id"])
        row["text"] = record.text
        row["words"] = len(record.text.split()) if record.text is not None else 0
        row["size_bytes"] = record.size_bytes
        row["content_hash"] = record.content_hash
        row["problem"] = record.problem
        rows.append(row)
    # Values stay the Python objects the file held, on every pandas version: no column is
    # inferred as float (a stray 1.5 would turn every version 1 into 1.0) or, on pandas 3,
    # as its string type.
    frame = pd.DataFrame(rows, columns=list(RECORD_COLUMNS), dtype=object)
    return frame.astype({"words": "int64", "size_bytes": "int64"})


def record_document(row: Mapping[str, Any]) -> HandbookDocument:
    """The document of a row that passed validation (its values are known to be good)."""
    return HandbookDocument(
        id=str(row["id"]),
        title=str(row["title"]),
        team=str(row["team"]),
        version=int(row["version"]),
        updated=date.fromisoformat(str(row["updated"])),
        access=str(row["access"]),
        text=str(row["text"]),
    )
