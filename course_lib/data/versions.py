"""Dataset versions: immutable, content-addressed, each described by a manifest.

A version is named by what it holds: the SHA-256 of its files' canonical content
(:mod:`course_lib.data.canonical`), so equal data gets the same version wherever it was
exported, and any changed value gets a new one. Its manifest records the files with their
hashes, row counts and column types, the key column, the parent version it was derived from,
who made it, when, and why. Nothing is ever rewritten: a version's bytes and manifest are
written once, made read-only, and checked against their hashes on every read.

The manifest is to a dataset what a commit is to code; the version id is to its content what
git's tree hash is to a folder. :class:`~course_lib.data.store.DatasetStore` keeps them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from course_lib.errors import DataVersionError, DataVersionNotFoundError

__all__ = ["MANIFEST_FORMAT", "DatasetVersion", "FileEntry", "check_name", "version_id"]

MANIFEST_FORMAT = "course-dataset/1"
SHORT = 12
"""Hex digits of a version shown in a reference such as ``tickets@3f2a9c1b2d4e``."""

_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")


def check_name(value: str, what: str) -> str:
    """Returns ``value`` if it is a safe dataset or file name (also a safe path part)."""
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise DataVersionError(
            f"{what.capitalize()} {value!r} is not allowed; use 1 to 64 lower-case letters, "
            "digits, '.', '_' or '-', starting with a letter or digit (e.g. 'tickets', 'train')."
        )
    return value


def version_id(file_hashes: Mapping[str, str]) -> str:
    """The version of a set of files: SHA-256 over their sorted ``name<TAB>sha256`` lines."""
    lines = "".join(f"{name}\t{sha}\n" for name, sha in sorted(file_hashes.items()))
    return hashlib.sha256(lines.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class FileEntry:
    """One file of a version: its canonical content's hash, size, rows and columns."""

    name: str
    sha256: str
    rows: int
    bytes: int
    columns: tuple[tuple[str, str], ...]
    """(column, pandas dtype) pairs, in the order the table was committed."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "sha256": self.sha256,
            "rows": self.rows,
            "bytes": self.bytes,
            "columns": [list(pair) for pair in self.columns],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FileEntry:
        return cls(
            name=str(data["name"]),
            sha256=str(data["sha256"]),
            rows=int(data["rows"]),
            bytes=int(data["bytes"]),
            columns=tuple((str(c), str(t)) for c, t in data["columns"]),
        )


@dataclass(frozen=True)
class DatasetVersion:
    """A version's manifest: what it holds (files) and where it came from (provenance)."""

    name: str
    version: str
    key: str
    files: tuple[FileEntry, ...]
    parent: str | None
    created_by: str
    created_at: str
    message: str = ""

    @property
    def ref(self) -> str:
        """The short reference people read and write, e.g. ``tickets@3f2a9c1b2d4e``."""
        return f"{self.name}@{self.version[:SHORT]}"

    @property
    def parent_ref(self) -> str | None:
        return None if self.parent is None else f"{self.name}@{self.parent[:SHORT]}"

    @property
    def rows(self) -> dict[str, int]:
        """Rows per file."""
        return {f.name: f.rows for f in self.files}

    def file(self, name: str | None = None) -> FileEntry:
        """The entry of file ``name`` (or the only file); a clear error names the files."""
        names = [f.name for f in self.files]
        if name is None:
            if len(self.files) == 1:
                return self.files[0]
            raise DataVersionError(
                f"{self.ref} has {len(names)} files ({', '.join(names)}); say which one to read."
            )
        for entry in self.files:
            if entry.name == name:
                return entry
        raise DataVersionNotFoundError(
            f"{self.ref} has no file {name!r}; its files are {', '.join(names)}."
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": MANIFEST_FORMAT,
            "name": self.name,
            "version": self.version,
            "key": self.key,
            "parent": self.parent,
            "created_by": self.created_by,
            "created_at": self.created_at,
            "message": self.message,
            "files": [f.to_dict() for f in self.files],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DatasetVersion:
        if data.get("format") != MANIFEST_FORMAT:
            raise DataVersionError(
                f"Manifest format {data.get('format')!r} is not {MANIFEST_FORMAT!r}; it was "
                "written by another tool or version. Re-commit the data with this store."
            )
        return cls(
            name=str(data["name"]),
            version=str(data["version"]),
            key=str(data["key"]),
            files=tuple(FileEntry.from_dict(f) for f in data["files"]),
            parent=None if data.get("parent") is None else str(data["parent"]),
            created_by=str(data["created_by"]),
            created_at=str(data["created_at"]),
            message=str(data.get("message", "")),
        )

    def describe(self) -> str:
        """The manifest in a few lines (without the time, which differs on every run)."""
        lines = [
            f"{self.ref}   parent: {self.parent_ref or 'none'}   key: {self.key}",
            f"made by {self.created_by}: {self.message or '(no message)'}",
        ]
        for f in self.files:
            columns = ", ".join(c for c, _ in f.columns)
            lines.append(
                f"  {f.name:<6} {f.rows:>5,} rows {f.bytes:>9,} bytes  sha256 {f.sha256[:SHORT]}  "
                f"[{columns}]"
            )
        return "\n".join(lines)

    def summary(self) -> dict[str, Any]:
        """The manifest in one flat dict, for a table of versions."""
        return {
            "version": self.ref,
            "parent": self.parent_ref,
            "rows": sum(f.rows for f in self.files),
            **{f"{f.name} rows": f.rows for f in self.files},
            "created_by": self.created_by,
            "message": self.message,
        }
