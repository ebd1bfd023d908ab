"""The SQLite layout of a Handbook index: tables, connections, and rows to chunks and back.

Kept apart from :mod:`course_lib.rag.index` so the index reads as what it does (upsert,
search) and this file as where things are stored. The same tables map onto Postgres with
pgvector: ``vec_chunks`` becomes a ``vector(256)`` column with the metadata beside it, and
the queries keep their shape.

Tables:

* ``meta``: ``schema_version``, ``embedder`` (the identity as JSON), ``chunking`` (strategy
  and options as JSON), ``generation`` (bumped by every write), ``course_lib_version``;
* ``documents``: one row per indexed document;
* ``chunks``: one row per chunk: its metadata columns, its text, the hash of its text
  (``content_hash``) and of the text that was embedded (``indexed_hash``);
* ``vec_chunks``: the ``vec0`` table of vectors (cosine distance) keyed by the chunk's rowid,
  with ``access``, ``team`` and ``version`` as metadata columns its KNN search can filter on.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

from course_lib.errors import IndexMismatchError, OptionalDependencyError
from course_lib.rag.chunking import Chunk
from course_lib.rag.documents import ACCESS_LEVELS

__all__ = [
    "CHUNK_COLUMNS",
    "MIN_SQLITE_VEC",
    "SCHEMA_VERSION",
    "SqliteStore",
    "chunk_from_row",
    "chunk_values",
    "connect",
    "create_tables",
    "json_value",
    "metadata_filters",
    "placeholders",
    "prefixed",
    "read_meta",
]

SCHEMA_VERSION = 1
MIN_SQLITE_VEC = (0, 1, 9)

CHUNK_COLUMNS = (
    "chunk_id, doc_id, title, section, version, access, team, text, content_hash, position, "
    "token_count"
)
"""The columns that make a :class:`Chunk`, in the order :func:`chunk_from_row` reads them."""

_SCHEMA = f"""
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE documents (
    doc_id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    team TEXT NOT NULL,
    version INTEGER NOT NULL,
    access TEXT NOT NULL CHECK (access IN {ACCESS_LEVELS!r}),
    updated TEXT NOT NULL,
    text_hash TEXT NOT NULL
);
CREATE TABLE chunks (
    chunk_rowid INTEGER PRIMARY KEY,
    chunk_id TEXT NOT NULL UNIQUE,
    doc_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    title TEXT NOT NULL,
    section TEXT NOT NULL,
    version INTEGER NOT NULL,
    access TEXT NOT NULL CHECK (access IN {ACCESS_LEVELS!r}),
    team TEXT NOT NULL,
    text TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    indexed_hash TEXT NOT NULL,
    token_count INTEGER NOT NULL
);
CREATE INDEX chunks_by_document ON chunks (doc_id, position);
CREATE INDEX chunks_by_indexed_hash ON chunks (indexed_hash);
CREATE INDEX chunks_by_access ON chunks (access);
"""


def _version_tuple(text: str) -> tuple[int, ...]:
    """``"v0.1.9"`` -> ``(0, 1, 9)``; a pre-release suffix is ignored."""
    return tuple(
        int(part) if part.isdigit() else 0 for part in text.lstrip("v").split("-")[0].split(".")
    )


def connect(path: Path) -> tuple[Any, str]:
    """Opens ``path`` with sqlite-vec loaded, in autocommit mode (transactions are explicit).

    Returns the connection and the SQLite backend (``"sqlite3"`` or ``"sqlean"``).

    Raises:
        OptionalDependencyError: the installed sqlite-vec is older than :data:`MIN_SQLITE_VEC`.
    """
    from course_lib.sqlite_db import connect_with_vec

    connection, backend = connect_with_vec(path)
    (version,) = connection.execute("SELECT vec_version()").fetchone()
    if _version_tuple(version) < MIN_SQLITE_VEC:
        connection.close()
        wanted = ".".join(map(str, MIN_SQLITE_VEC))
        raise OptionalDependencyError(
            f"sqlite-vec {version} is too old for the Handbook index: it needs {wanted} or "
            "later (IN filters on metadata columns, deletes of long text metadata). Run: "
            f"pip install 'sqlite-vec>={wanted}'"
        )
    connection.isolation_level = None
    connection.execute("PRAGMA journal_mode = WAL")  # readers never wait for the writer
    # With WAL, NORMAL cannot corrupt the file; a power cut may lose the last commit, which the
    # next upsert redoes. It saves an fsync per transaction.
    connection.execute("PRAGMA synchronous = NORMAL")
    connection.execute("PRAGMA busy_timeout = 5000")
    return connection, backend


def create_tables(connection: Any, *, dimension: int, meta: Mapping[str, str]) -> None:
    """Creates the tables of an empty index and writes its ``meta`` rows."""
    connection.executescript(_SCHEMA)
    connection.execute(
        "CREATE VIRTUAL TABLE vec_chunks USING vec0("
        "chunk_rowid INTEGER PRIMARY KEY, "
        f"embedding float[{int(dimension)}] distance_metric=cosine, "
        "access TEXT, team TEXT, version INTEGER)"
    )
    rows = {"schema_version": str(SCHEMA_VERSION), "generation": "0", **meta}
    connection.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", list(rows.items()))


def read_meta(connection: Any, location: str, *, rebuild_hint: str) -> dict[str, str]:
    """The ``meta`` table as a dict, after checking it is an index of this schema.

    Shared by both stores: ``location`` is where the index lives, fit to print.

    Raises:
        IndexMismatchError: no ``meta`` table, or another schema version.
    """
    try:
        meta = dict(connection.execute("SELECT key, value FROM meta").fetchall())
    except Exception as exc:  # each driver's own error classes: all mean "not an index"
        raise IndexMismatchError(
            f"{location} is not a Handbook index (it has no readable meta table: "
            f"{' '.join(str(exc).split())}). Point at an index, or build one: {rebuild_hint}."
        ) from exc
    stored = meta.get("schema_version")
    if stored != str(SCHEMA_VERSION) or not {"embedder", "chunking"} <= set(meta):
        raise IndexMismatchError(
            f"The index at {location} has schema version {stored!r}; this code reads "
            f"version {SCHEMA_VERSION}. Rebuild it: {rebuild_hint}."
        )
    return meta


def json_value(value: object) -> str:
    """``value`` as the canonical JSON a ``meta`` row stores (sorted keys)."""
    return json.dumps(value, sort_keys=True)


def placeholders(count: int) -> str:
    """``?, ?, ?`` for ``count`` parameters (``count`` must be at least 1: ``IN ()`` is no SQL)."""
    if count < 1:
        raise ValueError("An SQL IN list needs at least one value.")
    return ", ".join("?" * count)


def metadata_filters(
    levels: Sequence[str], teams: Collection[str] | None, version: int | None
) -> tuple[str, list[Any]]:
    """``AND ...`` constraints on vec0 metadata columns, and their parameters.

    ``levels`` (the reader's clearance) is always constrained; callers return early when it or
    ``teams`` is empty.
    """
    clauses = [f"AND access IN ({placeholders(len(levels))})"]
    params: list[Any] = list(levels)
    if teams is not None:
        chosen = sorted(set(teams))
        clauses.append(f"AND team IN ({placeholders(len(chosen))})")
        params.extend(chosen)
    if version is not None:
        clauses.append("AND version = ?")
        params.append(int(version))
    return " ".join(clauses), params


def prefixed(prefix: str, columns: str) -> str:
    """``"a, b"`` -> ``"c.a, c.b"`` for ``prefix="c."``."""
    return ", ".join(prefix + column.strip() for column in columns.split(","))


def chunk_values(chunk: Chunk) -> tuple[Any, ...]:
    """The chunk's values in :data:`CHUNK_COLUMNS` order."""
    return (
        chunk.id,
        chunk.doc_id,
        chunk.title,
        chunk.section,
        chunk.version,
        chunk.access,
        chunk.team,
        chunk.text,
        chunk.content_hash,
        chunk.position,
        chunk.token_count,
    )


def chunk_from_row(row: Sequence[Any]) -> Chunk:
    """A :class:`Chunk` from a row of :data:`CHUNK_COLUMNS`."""
    return Chunk(
        id=row[0],
        doc_id=row[1],
        title=row[2],
        section=row[3],
        version=int(row[4]),
        access=row[5],
        team=row[6],
        text=row[7],
        content_hash=row[8],
        position=int(row[9]),
        token_count=int(row[10]),
    )


class SqliteStore:
    """Where one Handbook index lives on SQLite: a file, with sqlite-vec for the vectors.

    :class:`~course_lib.rag.pgvector_storage.PgVectorStore` has the same methods for Postgres,
    so :class:`~course_lib.rag.index.HandbookIndex` runs one set of SQL on either.
    """

    path: Path

    def __init__(self, path: Path) -> None:
        self.path = path
        self.location = repr(str(path))
        self.backend = "sqlite3"  # which SQLite loaded sqlite-vec; set again on connect

    def rebuild_hint(self) -> str:
        return (
            f"HandbookIndex.build(load_handbook(), path={str(self.path)!r}, rebuild=True) "
            "(course_lib.rag; load_handbook from course_lib.datasets)"
        )

    def connect(self) -> Any:
        connection, self.backend = connect(self.path)
        return connection

    def exists(self) -> bool:
        return self.path.is_file()

    def remove(self) -> None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)

    def create(self, *, dimension: int, meta: Mapping[str, str]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = self.connect()
        try:
            create_tables(connection, dimension=dimension, meta=meta)
        finally:
            connection.close()

    def read_meta(self, connection: Any) -> dict[str, str]:
        return read_meta(connection, self.location, rebuild_hint=self.rebuild_hint())

    @staticmethod
    def begin_write(connection: Any) -> None:
        connection.execute("BEGIN IMMEDIATE")

    @staticmethod
    def insert_chunk(connection: Any, sql: str, values: Sequence[Any]) -> int:
        return int(connection.execute(sql, values).lastrowid)

    @staticmethod
    def vector_param(blob: bytes) -> bytes:
        return blob

    @staticmethod
    def vector_blob(raw: Any) -> bytes:
        return bytes(raw)

    @staticmethod
    def knn_query(
        vector: bytes, k: int, filters: str, filter_params: Sequence[Any]
    ) -> tuple[str, list[Any]]:
        """The ``k`` nearest readable vectors: vec0 applies the metadata filters in its scan."""
        sql = (
            "SELECT chunk_rowid, distance FROM vec_chunks "
            f"WHERE embedding MATCH ? AND k = ? {filters}"
        )
        return sql, [vector, k, *filter_params]
