"""Where a pipeline keeps its index versions and its own tables: a folder, or one Postgres.

A pipeline writes two kinds of things: the index versions readers search
(:class:`~course_lib.rag.HandbookIndex`), and its own bookkeeping (quarantined records, the
manifest of what was loaded, the alias catalogue, event logs and checkpoints). Both live in
the same place, so a backup, a restore or a move takes them together:

* **a folder** (the embedded default): each index version is ``<name>.sqlite`` there, and the
  bookkeeping is one SQLite file, ``<namespace>_state.sqlite``;
* **a Postgres database** (a ``postgresql://`` URL, e.g. the ``vector_store_url`` setting): each
  index version is a schema of its own (as :class:`HandbookIndex` makes it), and the
  bookkeeping is the schema ``pipeline_<namespace>``.

The bookkeeping SQL is the same on both sides: :class:`StateConnection` turns ``?``
placeholders into psycopg's ``%s`` and gives both the same explicit transactions.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["NAMESPACE_PATTERN", "PipelinePlace", "StateConnection"]

NAMESPACE_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,29}")
"""A namespace names index versions (``<namespace>_v<n>``) and a Postgres schema: short,
lower-case, an identifier that needs no quoting."""

_TABLES = (
    "CREATE TABLE IF NOT EXISTS runs (run INTEGER PRIMARY KEY, kind TEXT NOT NULL, "
    "summary TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS manifest (doc_id TEXT PRIMARY KEY, file_hash TEXT NOT NULL, "
    "run INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS quarantine (file TEXT NOT NULL, content_hash TEXT NOT NULL, "
    "record_id TEXT, reasons TEXT NOT NULL, run INTEGER NOT NULL, "
    "PRIMARY KEY (file, content_hash))",
    "CREATE TABLE IF NOT EXISTS index_versions (name TEXT PRIMARY KEY, alias TEXT NOT NULL, "
    "version INTEGER NOT NULL, chunking TEXT NOT NULL, state TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS aliases (alias TEXT PRIMARY KEY, index_name TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS events (log TEXT NOT NULL, seq INTEGER NOT NULL, "
    "kind TEXT NOT NULL, doc_id TEXT NOT NULL, body TEXT, PRIMARY KEY (log, seq))",
    "CREATE TABLE IF NOT EXISTS checkpoints (consumer TEXT PRIMARY KEY, next_seq INTEGER NOT NULL)",
)
STATE_TABLES = (
    "runs",
    "manifest",
    "quarantine",
    "index_versions",
    "aliases",
    "events",
    "checkpoints",
)


def _is_postgres(location: object) -> bool:
    return isinstance(location, str) and location.split("://", 1)[0] in ("postgresql", "postgres")


def _safe_url(url: str) -> str:
    from course_lib.services.clients import safe_url

    return safe_url(url)


class StateConnection:
    """One connection to a pipeline's bookkeeping tables, SQLite or Postgres, same SQL.

    It runs in autocommit mode; :meth:`transaction` groups statements into one atomic write.
    """

    def __init__(self, raw: Any, *, postgres: bool) -> None:
        self._raw = raw
        self.postgres = postgres

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Runs one statement (``?`` placeholders) and returns its cursor."""
        if self.postgres:
            sql = sql.replace("?", "%s")
        return self._raw.execute(sql, tuple(params))

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """The rows of a query, as tuples."""
        return [tuple(row) for row in self.execute(sql, params).fetchall()]

    @contextmanager
    def transaction(self) -> Iterator[StateConnection]:
        """Everything inside commits together, or not at all (an exception rolls it back)."""
        # SQLite: IMMEDIATE takes the write lock at once, so two writers never interleave.
        self.execute("BEGIN" if self.postgres else "BEGIN IMMEDIATE")
        try:
            yield self
        except BaseException:
            self.execute("ROLLBACK")
            raise
        self.execute("COMMIT")

    def close(self) -> None:
        self._raw.close()

    def __enter__(self) -> StateConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class PipelinePlace:
    """Where one pipeline's index versions and bookkeeping live (see the module docstring).

    Args:
        location: a folder (created if missing), or a ``postgresql://`` URL.
        namespace: the pipeline's name: its index versions are ``<namespace>_v1``,
            ``<namespace>_v2``...; its bookkeeping is ``<namespace>_state.sqlite`` or the
            Postgres schema ``pipeline_<namespace>``.
    """

    def __init__(self, location: str | Path, *, namespace: str = "handbook") -> None:
        if not isinstance(namespace, str) or not NAMESPACE_PATTERN.fullmatch(namespace):
            raise ValueError(
                f"A pipeline namespace is a lower-case identifier (a letter, then letters, "
                f"digits or _; at most 30 characters), not {namespace!r}; e.g. 'handbook'."
            )
        if not isinstance(location, str | Path) or not str(location):
            raise TypeError(
                f"location is a folder or a postgresql:// URL, not {location!r}; e.g. "
                "work_path('pipelines') or the vector_store_url setting."
            )
        self.namespace = namespace
        self.postgres = _is_postgres(location)
        self._url = str(location) if self.postgres else None
        self.folder = None if self.postgres else Path(location)
        self.backend = "postgres" if self.postgres else "sqlite"
        self._tables_ready = False  # created once per object, not on every connection

    @classmethod
    def from_settings(cls, folder: Path, *, namespace: str = "handbook") -> PipelinePlace:
        """Postgres when the ``vector_store_url`` setting is set, else ``folder`` (SQLite)."""
        from course_lib.settings import get_settings

        url = get_settings().vector_store_url
        if url is not None:
            return cls(url.get_secret_value(), namespace=namespace)
        return cls(folder, namespace=namespace)

    def __repr__(self) -> str:
        where = _safe_url(self._url) if self._url else "a SQLite folder"
        return f"PipelinePlace({where}, namespace={self.namespace!r})"

    @property
    def schema(self) -> str:
        """The Postgres schema of the bookkeeping tables."""
        return f"pipeline_{self.namespace}"

    def version_name(self, version: int) -> str:
        """The name of index version ``version``: ``<namespace>_v<version>``."""
        return f"{self.namespace}_v{int(version)}"

    def index_path(self, name: str) -> str | Path:
        """The ``path`` of :class:`HandbookIndex` for index ``name`` (pass ``name=`` too)."""
        if self._url is not None:
            return self._url
        assert self.folder is not None  # NOTE: set whenever there is no URL
        return self.folder / f"{name}.sqlite"

    def connect(self) -> StateConnection:
        """A connection to the bookkeeping tables, created on first use.

        Raises:
            EngineUnavailableError: the Postgres server cannot be reached.
            OptionalDependencyError: psycopg is not installed.
        """
        if self._url is None:
            assert self.folder is not None
            self.folder.mkdir(parents=True, exist_ok=True)
            raw = sqlite3.connect(
                str(self.folder / f"{self.namespace}_state.sqlite"),
                isolation_level=None,  # autocommit: transactions are explicit, as on Postgres
                timeout=30,
                check_same_thread=False,
            )
            connection = StateConnection(raw, postgres=False)
        else:
            connection = StateConnection(_connect_postgres(self._url), postgres=True)
            # The schema name is checked against NAMESPACE_PATTERN: it needs no quoting.
            if not self._tables_ready:
                connection.execute(f"CREATE SCHEMA IF NOT EXISTS {self.schema}")
            connection.execute(f"SET search_path TO {self.schema}")
        if not self._tables_ready:
            for statement in _TABLES:
                connection.execute(statement)
            self._tables_ready = True
        return connection

    def clear(self) -> None:
        """Empties every bookkeeping table: the pipeline starts again (index versions are
        rebuilt from scratch by the next run, which reuses their names)."""
        with self.connect() as connection, connection.transaction():
            for table in STATE_TABLES:
                connection.execute(f"DELETE FROM {table}")


def _connect_postgres(url: str) -> Any:
    from course_lib.services.clients import connect_postgres

    return connect_postgres(url, purpose="A pipeline on Postgres")
