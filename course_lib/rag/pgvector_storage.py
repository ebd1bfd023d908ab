"""The Handbook index on Postgres with pgvector: the same tables and queries as on SQLite.

The production counterpart of :mod:`course_lib.rag.storage`. Each index lives in its own
Postgres schema (``handbook_index_<name>``), so several indexes share one database as several
SQLite files share a folder, and the SQL of :mod:`course_lib.rag.index` runs unchanged: the
connection wrapper below turns its ``?`` placeholders into psycopg's ``%s``.

What differs, and why:

* ``vec_chunks.embedding`` is a ``vector(<dimension>)`` column. Vectors travel as pgvector's
  text form (``[0.1,0.2]``), which carries a float32 exactly, so no adapter package is needed.
* **Access control stays inside the query.** The KNN query filters ``access``, ``team`` and
  ``version`` in the same ``WHERE`` as the ``ORDER BY embedding <=> query LIMIT k``, so it
  returns the ``k`` nearest *readable* chunks. Without an approximate index Postgres scans
  every readable row (exact, like sqlite-vec). With ``hnsw=True`` an HNSW index answers the
  query, and ``hnsw.iterative_scan = strict_order`` (pgvector 0.8) keeps scanning the graph
  until ``k`` rows pass the filters: without it, a filter that rejects most of the first
  ``ef_search`` candidates returns fewer than ``k`` rows.
* Writers take a lock on ``meta`` at the start of the transaction, as SQLite's
  ``BEGIN IMMEDIATE`` takes the database's write lock: two upserts never plan on the same rows.

Needs the ``engines`` extra (``psycopg``); the server comes from ``./run services up`` or any
Postgres with the ``vector`` extension available.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from course_lib.errors import EngineUnavailableError
from course_lib.rag.documents import ACCESS_LEVELS
from course_lib.rag.storage import SCHEMA_VERSION, read_meta
from course_lib.services.clients import connect_postgres, safe_url

__all__ = ["PgVectorStore", "is_postgres_url", "safe_url"]

_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")
_SCHEMA_PREFIX = "handbook_index_"
# pgvector 0.8 brought iterative index scans, which filtered HNSW queries need.
_MIN_PGVECTOR = (0, 8, 0)


def is_postgres_url(location: object) -> bool:
    """True for ``postgresql://`` and ``postgres://`` URLs (an index location on Postgres)."""
    return isinstance(location, str) and location.split("://", 1)[0] in ("postgresql", "postgres")


def _connect_raw(url: str) -> Any:
    return connect_postgres(url, purpose="An index on Postgres")


class _Connection:
    """A psycopg connection that speaks the index's SQL: ``?`` placeholders, executemany."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.raw.execute(sql.replace("?", "%s"), tuple(params))

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with self.raw.cursor() as cursor:
            cursor.executemany(sql.replace("?", "%s"), [tuple(row) for row in rows])

    def close(self) -> None:
        self.raw.close()


def _schema_sql(dimension: int) -> list[str]:
    levels = ", ".join(f"'{level}'" for level in ACCESS_LEVELS)
    return [
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        "CREATE TABLE documents (doc_id TEXT PRIMARY KEY, title TEXT NOT NULL, "
        "team TEXT NOT NULL, version INTEGER NOT NULL, "
        f"access TEXT NOT NULL CHECK (access IN ({levels})), updated TEXT NOT NULL, "
        "text_hash TEXT NOT NULL)",
        "CREATE TABLE chunks (chunk_rowid BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
        "chunk_id TEXT NOT NULL UNIQUE, doc_id TEXT NOT NULL, position INTEGER NOT NULL, "
        "title TEXT NOT NULL, section TEXT NOT NULL, version INTEGER NOT NULL, "
        f"access TEXT NOT NULL CHECK (access IN ({levels})), team TEXT NOT NULL, "
        "text TEXT NOT NULL, content_hash TEXT NOT NULL, indexed_hash TEXT NOT NULL, "
        "token_count INTEGER NOT NULL)",
        "CREATE INDEX chunks_by_document ON chunks (doc_id, position)",
        "CREATE INDEX chunks_by_indexed_hash ON chunks (indexed_hash)",
        "CREATE INDEX chunks_by_access ON chunks (access)",
        "CREATE TABLE vec_chunks (chunk_rowid BIGINT PRIMARY KEY "
        "REFERENCES chunks (chunk_rowid) ON DELETE CASCADE, "
        f"embedding vector({int(dimension)}) NOT NULL, access TEXT NOT NULL, "
        "team TEXT NOT NULL, version INTEGER NOT NULL)",
        "CREATE INDEX vec_chunks_by_access ON vec_chunks (access)",
    ]


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else 0 for part in text.split("."))


class PgVectorStore:
    """Where one Handbook index lives on Postgres: a database URL and the index's name."""

    backend = "postgres"
    path: Path | None = None

    def __init__(self, url: str, name: str) -> None:
        if not _NAME.fullmatch(name):
            raise ValueError(
                f"An index name on Postgres is a lower-case identifier (letters, digits, _; "
                f"at most 40 characters), not {name!r}; e.g. name='handbook'."
            )
        self.url = url
        self.name = name
        self.schema = _SCHEMA_PREFIX + name
        self.location = f"{safe_url(url)} (index {name!r})"

    def rebuild_hint(self) -> str:
        return (
            f"HandbookIndex.build(load_handbook(), path={safe_url(self.url)!r}, "
            f"name={self.name!r}, rebuild=True) (course_lib.rag; load_handbook from "
            "course_lib.datasets)"
        )

    def connect(self) -> _Connection:
        """A connection whose unqualified table names are this index's (its search path)."""
        raw = _connect_raw(self.url)
        # The schema name is checked against _NAME, so it needs no quoting.
        raw.execute(f"SET search_path TO {self.schema}, public")
        # Filtered searches through an HNSW index keep scanning until k rows pass (pgvector
        # 0.8); without an HNSW index the setting is unused.
        raw.execute("SET hnsw.iterative_scan = strict_order")
        return _Connection(raw)

    def exists(self) -> bool:
        raw = _connect_raw(self.url)
        try:
            row = raw.execute(
                "SELECT 1 FROM information_schema.tables WHERE table_schema = %s "
                "AND table_name = 'meta'",
                (self.schema,),
            ).fetchone()
        finally:
            raw.close()
        return row is not None

    def remove(self) -> None:
        raw = _connect_raw(self.url)
        try:
            raw.execute(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE")
        finally:
            raw.close()

    def create(self, *, dimension: int, meta: Mapping[str, str]) -> None:
        """Creates the index's schema and tables, and the ``vector`` extension if needed."""
        connection = self.connect()
        raw = connection.raw
        try:
            self._ensure_pgvector(raw)
            with raw.transaction():
                raw.execute(f"CREATE SCHEMA {self.schema}")
                for statement in _schema_sql(dimension):
                    raw.execute(statement)
                rows = {"schema_version": str(SCHEMA_VERSION), "generation": "0", **meta}
                connection.executemany(
                    "INSERT INTO meta (key, value) VALUES (?, ?)", list(rows.items())
                )
        finally:
            connection.close()

    def _ensure_pgvector(self, raw: Any) -> None:
        row = raw.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()
        if row is None:
            try:
                raw.execute("CREATE EXTENSION IF NOT EXISTS vector")
            except Exception as exc:
                raise EngineUnavailableError(
                    f"The Postgres at {safe_url(self.url)} cannot create the pgvector extension "
                    f"({' '.join(str(exc).split())}). Use the course's Postgres (./run services "
                    "up), or ask the database's owner to run CREATE EXTENSION vector."
                ) from exc
            row = raw.execute(
                "SELECT extversion FROM pg_extension WHERE extname = 'vector'"
            ).fetchone()
        if _version_tuple(row[0]) < _MIN_PGVECTOR:
            wanted = ".".join(map(str, _MIN_PGVECTOR))
            raise EngineUnavailableError(
                f"pgvector {row[0]} at {safe_url(self.url)} is too old: the index needs {wanted} "
                "or later (iterative scans keep filtered searches at k results). Update the "
                "extension: ALTER EXTENSION vector UPDATE."
            )

    def read_meta(self, connection: _Connection) -> dict[str, str]:
        """The ``meta`` table, after checking it is an index of this schema version."""
        return read_meta(connection, self.location, rebuild_hint=self.rebuild_hint())

    @staticmethod
    def begin_write(connection: _Connection) -> None:
        connection.execute("BEGIN")
        # Writers queue here; readers (plain SELECTs) are not blocked.
        connection.execute("LOCK TABLE meta IN SHARE ROW EXCLUSIVE MODE")

    @staticmethod
    def insert_chunk(connection: _Connection, sql: str, values: Sequence[Any]) -> int:
        (rowid,) = connection.execute(sql + " RETURNING chunk_rowid", values).fetchone()
        return int(rowid)

    @staticmethod
    def vector_param(blob: bytes) -> str:
        import numpy as np

        values = np.frombuffer(blob, dtype=np.float32)
        # repr of each float32, as a Python float, parses back to the same float32.
        return "[" + ",".join(repr(float(value)) for value in values) + "]"

    @staticmethod
    def vector_blob(raw: Any) -> bytes:
        import numpy as np

        text = str(raw).strip("[]")
        return np.array([float(part) for part in text.split(",")], dtype=np.float32).tobytes()

    @staticmethod
    def knn_query(
        vector: bytes, k: int, filters: str, filter_params: Sequence[Any]
    ) -> tuple[str, list[Any]]:
        """The ``k`` nearest readable vectors: filters and ``LIMIT`` in one query.

        Returns the SQL (columns ``chunk_rowid, distance``) and its parameters; the caller
        joins ``chunks`` around it.
        """
        query = PgVectorStore.vector_param(vector)
        sql = (
            "SELECT chunk_rowid, embedding <=> ?::vector AS distance FROM vec_chunks "
            f"WHERE TRUE {filters} ORDER BY embedding <=> ?::vector, chunk_rowid LIMIT ?"
        )
        return sql, [query, *filter_params, query, k]

    def add_hnsw(self, connection: _Connection) -> None:
        """An HNSW index on the vectors (cosine), and iterative scans for filtered queries."""
        connection.execute(
            "CREATE INDEX IF NOT EXISTS vec_chunks_hnsw ON vec_chunks "
            "USING hnsw (embedding vector_cosine_ops)"
        )
