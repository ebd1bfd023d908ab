"""The Handbook index: chunks, their vectors and BM25, in one SQLite file with sqlite-vec.

(Or in one Postgres schema with pgvector: :mod:`course_lib.rag.pgvector_storage` maps the same
tables and queries there; everything below holds on both sides.)

One file holds everything a search needs:

* ``meta``: the schema version, the identity of the embedder that made the vectors, the
  chunking strategy and options, and a generation counter bumped by every write;
* ``documents``: one row per indexed document (id, title, team, version, access, a text hash);
* ``chunks``: one row per chunk, with the metadata columns retrieval filters on (``doc_id``,
  ``section``, ``version``, ``access``, ``team``) and ``content_hash``;
* ``vec_chunks``: a sqlite-vec ``vec0`` table of the vectors (cosine distance), keyed by the
  chunk's rowid, repeating ``access``, ``team`` and ``version`` as vec0 *metadata columns*.

**Access control lives in the query.** sqlite-vec (0.1.6 and later) evaluates constraints on
metadata columns inside its KNN scan, so ``WHERE embedding MATCH ? AND k = 5 AND access IN
('public', 'internal')`` returns the 5 nearest *readable* chunks, never 5 chunks of which some
are then thrown away. Two alternatives were rejected: a ``partition key`` column (with ``IN``
it returns ``k`` rows per partition, not ``k`` in all, as measured with sqlite-vec 0.1.9), and
``rowid IN (...)`` lists (slow, and with known query-planner bugs). ``IN`` on metadata columns
needs sqlite-vec 0.1.7; 0.1.9 also fixed deletes of rows whose text metadata is longer than 12
characters (a team such as ``eng-leadership``), so 0.1.9 is the minimum checked at open. BM25
follows the same rule with one index per clearance (see :mod:`course_lib.rag.bm25`).

**Upserts are incremental.** Chunk ids are content-addressed, and vectors are found by the
hash of the text that was embedded, so re-ingesting the handbook embeds only text the index
has never seen: an edited section, a new document. A chunk that only moved (its position
changed) reuses its vector. A document missing from the input loses its chunks. Every
:meth:`HandbookIndex.upsert` returns an :class:`UpsertReport` that counts what it did,
embedding calls included.

**The embedder is pinned.** Vectors from two embedders cannot be compared, and nothing would
fail loudly if they were: search would just get worse. Opening an index with another embedder
raises :class:`~course_lib.errors.EmbedderMismatchError` naming both and the rebuild call.

An index object opens one SQLite connection per thread, so a web server's worker threads can
share it; BM25 indexes are shared between threads and rebuilt when another connection or
process has written (the generation counter says so).
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from course_lib.embeddings.identity import EmbedderIdentity
from course_lib.errors import (
    AccessDeniedError,
    EmbedderMismatchError,
    IndexMismatchError,
    IndexNotFoundError,
)
from course_lib.rag.access import User
from course_lib.rag.chunking import (
    Chunk,
    chunk_documents,
    content_hash,
    indexed_text,
    resolve_options,
)
from course_lib.rag.documents import HandbookDocument
from course_lib.rag.pgvector_storage import PgVectorStore, is_postgres_url
from course_lib.rag.storage import (
    CHUNK_COLUMNS,
    SqliteStore,
    chunk_from_row,
    chunk_values,
    json_value,
    metadata_filters,
    placeholders,
    prefixed,
)

if TYPE_CHECKING:
    from course_lib.embeddings.base import Embedder
    from course_lib.rag.bm25 import BM25Corpus
    from course_lib.rag.rerank import SentenceScorer

__all__ = [
    "DEFAULT_INDEX_NAME",
    "HandbookIndex",
    "UpsertReport",
    "default_index_path",
]
DEFAULT_INDEX_NAME = "handbook"


def default_index_path(name: str = DEFAULT_INDEX_NAME) -> Path:
    """The default place of the index ``name``: ``indexes/<name>.sqlite`` in the work directory."""
    from course_lib.workdir import work_path

    return work_path("indexes", f"{name}.sqlite")


@dataclass(frozen=True)
class UpsertReport:
    """What one upsert did, counted in chunks (and texts sent to the embedder).

    Attributes:
        added: chunks that were not in the index (new or edited text, or moved).
        updated: chunks whose text was already indexed but whose metadata changed (a new
            document version number, access level, team or title).
        unchanged: chunks left exactly as they were.
        deleted: chunks removed: edited away, or their document left the input.
        embedded_texts: texts the embedder was called on. Content-addressing keeps this to
            text the index has never seen; a moved chunk reuses its stored vector.
    """

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    embedded_texts: int = 0

    def __str__(self) -> str:
        chunks = "chunk" if self.added == 1 else "chunks"
        texts = "text" if self.embedded_texts == 1 else "texts"
        return (
            f"{self.added} {chunks} added, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.deleted} deleted; {self.embedded_texts} {texts} embedded."
        )


@dataclass(frozen=True)
class _Chunking:
    strategy: str
    options: Mapping[str, int]

    def as_json(self) -> str:
        return json_value({"strategy": self.strategy, "options": dict(self.options)})


@dataclass
class _Plan:
    """What an upsert will do, worked out before anything is written."""

    # The hash of each stored chunk's indexed text, and a rowid whose vector can be reused.
    stored_by_hash: dict[str, int]
    added: list[Chunk] = field(default_factory=list)
    # Stored chunks to update: (rowid, the chunk as it is now, whether its vector changes).
    changed: list[tuple[int, Chunk, bool]] = field(default_factory=list)
    stale: list[int] = field(default_factory=list)  # rowids to delete
    unchanged: int = 0


def _document_key(doc: HandbookDocument) -> tuple[Any, ...]:
    """What the ``documents`` table stores to tell that a document has not changed."""
    return (doc.title, doc.team, doc.version, doc.access, content_hash(doc.text))


_Store = SqliteStore | PgVectorStore


def _store_for(path: str | Path | None, name: str) -> _Store:
    """Where an index lives: a SQLite file, or a schema in a Postgres database.

    ``path`` may be a file path or a ``postgresql://`` URL. Unset, the ``vector_store_url``
    setting decides: a Postgres URL there moves every default index to Postgres.
    """
    if path is None:
        from course_lib.settings import get_settings

        url = get_settings().vector_store_url
        if url is not None:
            return PgVectorStore(url.get_secret_value(), name)
        return SqliteStore(default_index_path(name))
    if is_postgres_url(path):
        return PgVectorStore(str(path), name)
    return SqliteStore(Path(path))


class HandbookIndex:
    """A searchable index of handbook chunks: dense (sqlite-vec or pgvector) and BM25.

    Make one with :meth:`build` (create or update from documents) or :meth:`open` (an index
    built before); search it with :meth:`search`. Use it as a context manager, or call
    :meth:`close`, to release its connections. It lives in a SQLite file by default, or in a
    Postgres database with pgvector (a ``postgresql://`` URL as ``path``, or the
    ``vector_store_url`` setting): the same tables, the same queries, the same results.

    Example:
        >>> from course_lib.datasets import load_handbook
        >>> index = HandbookIndex.build(load_handbook())  # doctest: +SKIP
        >>> reader = User.employee("u1", team="sre")
        >>> hits = search(index, "How many days of leave?", user=reader)  # doctest: +SKIP
    """

    def __init__(self, store: _Store, *, embedder: Embedder, chunking: _Chunking) -> None:
        """Use :meth:`build` or :meth:`open`; this only wires an opened store to its settings."""
        self._store = store
        self.path: Path | None = store.path  # the SQLite file; None on Postgres
        self.location = store.location  # where it lives, fit to print (no password)
        self.embedder = embedder
        self.chunking_strategy = chunking.strategy
        self.chunking_options: Mapping[str, int] = dict(chunking.options)
        # "sqlite3" or "sqlean" (which SQLite loaded sqlite-vec), or "postgres"
        self.backend = store.backend
        self._chunking = chunking
        self._local = threading.local()
        self._connections: list[Any] = []
        self._lock = threading.RLock()
        self._bm25: dict[tuple[str, ...], tuple[int, BM25Corpus]] = {}
        self._sentences: SentenceScorer | None = None
        self.last_report: UpsertReport | None = None

    # --- opening and building -------------------------------------------------------------

    @classmethod
    def open(
        cls,
        path: str | Path | None = None,
        *,
        name: str = DEFAULT_INDEX_NAME,
        embedder: Embedder | None = None,
    ) -> HandbookIndex:
        """Opens an existing index, checking it was built with ``embedder``.

        Args:
            path: the index file, or a ``postgresql://`` URL; by default the
                ``vector_store_url`` setting, else ``indexes/<name>.sqlite`` in the work
                directory.
            name: the index's name: its file name when ``path`` is not given, its schema
                (``handbook_index_<name>``) in a Postgres database.
            embedder: the embedder queries will use; the default embedder when omitted.

        Raises:
            IndexNotFoundError: no index there.
            IndexMismatchError: the file is not an index of this schema version.
            EmbedderMismatchError: the index was built with another embedder.
            EngineUnavailableError: the Postgres server cannot be reached.
        """
        return cls._open(_store_for(path, name), _default_embedder(embedder))

    @classmethod
    def _open(cls, store: _Store, embedder: Embedder) -> HandbookIndex:
        hint = store.rebuild_hint()
        if not store.exists():
            raise IndexNotFoundError(f"No index at {store.location}. Build it with {hint}.")
        connection = store.connect()
        try:
            meta = store.read_meta(connection)
        finally:
            connection.close()
        try:
            stored = EmbedderIdentity.from_dict(json.loads(meta["embedder"]))
        except EmbedderMismatchError as exc:
            raise EmbedderMismatchError(f"{exc} Rebuild: {hint}.") from exc
        if stored != embedder.identity:
            raise EmbedderMismatchError(
                f"The index at {store.location} was built with embedder {stored}, but the "
                f"current embedder is {embedder.identity}; their vectors cannot be compared. "
                f"Rebuild the index with the current embedder: {hint}; or open "
                f"it with the embedder that built it (get_embedder({stored.name!r}))."
            )
        chunking_meta = json.loads(meta["chunking"])
        chunking = _Chunking(chunking_meta["strategy"], chunking_meta["options"])
        return cls(store, embedder=embedder, chunking=chunking)

    @classmethod
    def build(
        cls,
        docs: Iterable[HandbookDocument],
        *,
        path: str | Path | None = None,
        name: str = DEFAULT_INDEX_NAME,
        embedder: Embedder | None = None,
        strategy: str = "headings",
        rebuild: bool = False,
        **chunk_options: int,
    ) -> HandbookIndex:
        """Creates the index, or brings an existing one up to date, from ``docs``.

        Running it again on the same documents embeds nothing (see :meth:`upsert`); the
        report of the run is in :attr:`last_report`.

        Args:
            docs: every document the index should hold; others already in it are deleted.
            path: the index file, or a ``postgresql://`` URL (see :meth:`open`).
            name: the index's name (see :meth:`open`).
            embedder: the embedder for chunks and queries; the default embedder when omitted.
            strategy: ``"headings"``, ``"fixed"`` or ``"semantic"`` (see
                :mod:`course_lib.rag.chunking`).
            rebuild: delete the index first: needed to change embedder or chunking.
            **chunk_options: the strategy's options, e.g. ``max_tokens=256``.

        Raises:
            EmbedderMismatchError: the existing index used another embedder (pass ``rebuild=True``).
            IndexMismatchError: the existing index chunks differently (pass ``rebuild=True``).
        """
        store = _store_for(path, name)
        embedder = _default_embedder(embedder)
        chunking = _Chunking(strategy, resolve_options(strategy, chunk_options))
        if rebuild:
            store.remove()
        if store.exists():
            index = cls._open(store, embedder)
            if index._chunking != chunking:
                index.close()
                raise IndexMismatchError(
                    f"The index at {store.location} chunks with {index._chunking.as_json()}, "
                    f"not {chunking.as_json()} as asked. Rebuild it with the new chunking: "
                    f"{store.rebuild_hint()} plus your chunking arguments."
                )
        else:
            index = cls._create(store, embedder=embedder, chunking=chunking)
        index.last_report = index.upsert(docs)
        return index

    @classmethod
    def _create(cls, store: _Store, *, embedder: Embedder, chunking: _Chunking) -> HandbookIndex:
        from course_lib import __version__

        store.create(
            dimension=embedder.identity.dimension,
            meta={
                "embedder": json_value(embedder.identity.as_dict()),
                "chunking": chunking.as_json(),
                "course_lib_version": __version__,
            },
        )
        return cls(store, embedder=embedder, chunking=chunking)

    # --- connections ------------------------------------------------------------------------

    def _connection(self) -> Any:
        """This thread's connection (SQLite connections must stay in the thread that made them)."""
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._store.connect()
            self._local.connection = connection
            with self._lock:
                self._connections.append(connection)
        return connection

    @contextmanager
    def _write(self) -> Iterator[Any]:
        """One write transaction, taking the write lock at the start.

        SQLite's ``BEGIN IMMEDIATE``, or a lock on Postgres's ``meta`` table: taking the lock
        first means no other writer can change the rows this transaction read before writing,
        and a failure rolls every table back together.
        """
        connection = self._connection()
        self._store.begin_write(connection)
        try:
            yield connection
            connection.execute(
                "UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) "
                "WHERE key = 'generation'"
            )
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise

    def close(self) -> None:
        """Closes the connections this object opened (those of other threads when possible)."""
        with self._lock:
            connections, self._connections = self._connections, []
        for connection in connections:
            # Another thread's connection refuses to close from here; it closes when its
            # thread ends.
            with suppress(Exception):
                connection.close()
        self._local = threading.local()
        self._bm25.clear()

    def __enter__(self) -> HandbookIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"HandbookIndex({self.location}, embedder={self.embedder.identity.name!r}, "
            f"chunking={self.chunking_strategy!r})"
        )

    def __len__(self) -> int:
        """The number of chunks in the index."""
        return int(self._connection().execute("SELECT count(*) FROM chunks").fetchone()[0])

    @property
    def generation(self) -> int:
        """A counter every write increases: caches built at an older generation are stale."""
        row = self._connection().execute("SELECT value FROM meta WHERE key = 'generation'")
        return int(row.fetchone()[0])

    # --- writing --------------------------------------------------------------------------

    def upsert(
        self, docs: Iterable[HandbookDocument], *, delete_missing: bool = True
    ) -> UpsertReport:
        """Brings the index in line with ``docs``, embedding only text it has never seen.

        A document whose text and metadata are as stored is skipped without being chunked
        again. Any other document is chunked with the index's strategy: a chunk whose id is
        already stored is left alone (or has its metadata updated); a new chunk reuses a
        stored vector when the same text was embedded before, and is embedded otherwise; the
        document's stored chunks that the new chunking no longer produces are deleted.

        Args:
            docs: the documents to index.
            delete_missing: when true (the default), ``docs`` is the whole corpus: documents
                in the index but not in ``docs`` are deleted with their chunks. When false,
                only the given documents are touched.

        Raises:
            ValueError: two documents share an id.
        """
        documents = list(docs)
        duplicates = sorted(i for i, n in Counter(d.id for d in documents).items() if n > 1)
        if duplicates:
            raise ValueError(
                f"Documents {duplicates} appear more than once in the input; pass each "
                "document once (a later version replaces an earlier one in the index)."
            )
        with self._write() as connection:
            plan = self._plan(connection, documents, delete_missing=delete_missing)
            vectors, embedded = self._vectors(connection, plan)
            self._apply(connection, plan, vectors)
            self._write_documents(connection, documents, delete_missing=delete_missing)
        return UpsertReport(
            added=len(plan.added),
            updated=len(plan.changed),
            unchanged=plan.unchanged,
            deleted=len(plan.stale),
            embedded_texts=embedded,
        )

    def _plan(
        self, connection: Any, documents: Sequence[HandbookDocument], *, delete_missing: bool
    ) -> _Plan:
        """Sorts stored and incoming chunks into added, changed, unchanged and stale."""
        stored_docs = {
            row[0]: tuple(row[1:])
            for row in connection.execute(
                "SELECT doc_id, title, team, version, access, text_hash FROM documents"
            )
        }
        settled = {d.id for d in documents if stored_docs.get(d.id) == _document_key(d)}
        chunks = chunk_documents(
            [d for d in documents if d.id not in settled],
            self._chunking.strategy,
            embedder=self.embedder,
            **self._chunking.options,
        )
        incoming = {chunk.id: chunk for chunk in chunks}
        input_ids = {d.id for d in documents}
        rows = connection.execute(
            "SELECT chunk_rowid, chunk_id, doc_id, title, section, version, access, team, "
            "indexed_hash FROM chunks"
        ).fetchall()
        plan = _Plan(stored_by_hash={row[8]: row[0] for row in rows})
        existing = {}
        for row in rows:
            if row[2] in settled:
                plan.unchanged += 1
            elif row[1] in incoming:
                existing[row[1]] = row
            elif delete_missing or row[2] in input_ids:
                plan.stale.append(row[0])
        for chunk in chunks:
            row = existing.get(chunk.id)
            if row is None:
                plan.added.append(chunk)
                continue
            indexed_hash = content_hash(chunk.indexed_text)
            metadata = (chunk.title, chunk.section, chunk.version, chunk.access, chunk.team)
            if tuple(row[3:8]) == metadata and row[8] == indexed_hash:
                plan.unchanged += 1
            else:
                plan.changed.append((row[0], chunk, row[8] != indexed_hash))
        return plan

    def _vectors(self, connection: Any, plan: _Plan) -> tuple[dict[str, bytes], int]:
        """Vectors for the plan's new text, keyed by text hash: stored ones reused, the rest
        embedded once each. Returns them and how many texts were embedded."""
        import numpy as np

        wanted = [*plan.added, *(chunk for _, chunk, new_vector in plan.changed if new_vector)]
        to_embed: dict[str, str] = {}
        vectors: dict[str, bytes] = {}
        for chunk in wanted:
            key = content_hash(chunk.indexed_text)
            if key in vectors or key in to_embed:
                continue
            rowid = plan.stored_by_hash.get(key)
            if rowid is None:
                to_embed[key] = chunk.indexed_text
                continue
            (stored,) = connection.execute(  # read now: the stale rows are deleted next
                "SELECT embedding FROM vec_chunks WHERE chunk_rowid = ?", (rowid,)
            ).fetchone()
            vectors[key] = self._store.vector_blob(stored)
        if to_embed:
            embedded = self.embedder.embed(list(to_embed.values()))
            for key, vector in zip(to_embed, embedded, strict=True):
                vectors[key] = np.asarray(vector, dtype=np.float32).tobytes()
        return vectors, len(to_embed)

    def _apply(self, connection: Any, plan: _Plan, vectors: Mapping[str, bytes]) -> None:
        """Writes the plan: deletes, inserts and updates, in both tables together."""
        store = self._store
        for rowid in plan.stale:
            connection.execute("DELETE FROM vec_chunks WHERE chunk_rowid = ?", (rowid,))
            connection.execute("DELETE FROM chunks WHERE chunk_rowid = ?", (rowid,))
        for chunk in plan.added:
            key = content_hash(chunk.indexed_text)
            rowid = store.insert_chunk(
                connection,
                f"INSERT INTO chunks ({CHUNK_COLUMNS}, indexed_hash) VALUES ({placeholders(12)})",
                (*chunk_values(chunk), key),
            )
            connection.execute(
                "INSERT INTO vec_chunks (chunk_rowid, embedding, access, team, version) "
                "VALUES (?, ?, ?, ?, ?)",
                (rowid, store.vector_param(vectors[key]), chunk.access, chunk.team, chunk.version),
            )
        for rowid, chunk, new_vector in plan.changed:
            key = content_hash(chunk.indexed_text)
            connection.execute(
                "UPDATE chunks SET title = ?, section = ?, version = ?, access = ?, team = ?, "
                "indexed_hash = ? WHERE chunk_rowid = ?",
                (chunk.title, chunk.section, chunk.version, chunk.access, chunk.team, key, rowid),
            )
            connection.execute(
                "UPDATE vec_chunks SET access = ?, team = ?, version = ? WHERE chunk_rowid = ?",
                (chunk.access, chunk.team, chunk.version, rowid),
            )
            if new_vector:
                connection.execute(
                    "UPDATE vec_chunks SET embedding = ? WHERE chunk_rowid = ?",
                    (store.vector_param(vectors[key]), rowid),
                )

    @staticmethod
    def _write_documents(
        connection: Any, documents: Sequence[HandbookDocument], *, delete_missing: bool
    ) -> None:
        if delete_missing:
            keep = {d.id for d in documents}
            stored = [row[0] for row in connection.execute("SELECT doc_id FROM documents")]
            for doc_id in stored:
                if doc_id not in keep:
                    connection.execute("DELETE FROM documents WHERE doc_id = ?", (doc_id,))
        connection.executemany(
            "INSERT INTO documents (doc_id, title, team, version, access, updated, text_hash) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (doc_id) DO UPDATE SET "
            "title = excluded.title, team = excluded.team, version = excluded.version, "
            "access = excluded.access, updated = excluded.updated, text_hash = excluded.text_hash",
            [
                (d.id, d.title, d.team, d.version, d.access, str(d.updated), content_hash(d.text))
                for d in documents
            ],
        )

    def delete_documents(self, doc_ids: Iterable[str]) -> UpsertReport:
        """Removes documents and all their chunks (a tombstone is simply the absence)."""
        if isinstance(doc_ids, str):
            raise TypeError(
                f"delete_documents() takes a collection of ids, not one string; write "
                f"delete_documents([{doc_ids!r}])."
            )
        ids = sorted(set(doc_ids))
        deleted = 0
        with self._write() as connection:
            for doc_id in ids:
                rowids = [
                    row[0]
                    for row in connection.execute(
                        "SELECT chunk_rowid FROM chunks WHERE doc_id = ?", (doc_id,)
                    )
                ]
                for rowid in rowids:
                    connection.execute("DELETE FROM vec_chunks WHERE chunk_rowid = ?", (rowid,))
                connection.execute("DELETE FROM chunks WHERE doc_id = ?", (doc_id,))
                connection.execute("DELETE FROM documents WHERE doc_id = ?", (doc_id,))
                deleted += len(rowids)
        return UpsertReport(deleted=deleted)

    # --- reading: every path that returns text takes a user -------------------------------

    def chunk(self, chunk_id: str, *, user: User) -> Chunk:
        """One chunk by id, e.g. to show the passage behind a citation.

        Raises:
            KeyError: no chunk has this id (it may have been edited since it was cited).
            AccessDeniedError: the chunk exists but ``user`` may not read it.
        """
        row = (
            self._connection()
            .execute(f"SELECT {CHUNK_COLUMNS} FROM chunks WHERE chunk_id = ?", (chunk_id,))
            .fetchone()
        )
        if row is None:
            raise KeyError(
                f"No chunk {chunk_id!r} in the index at {self.location}; its document may "
                "have changed since it was cited. Search again for the current text."
            )
        chunk = chunk_from_row(row)
        if not user.can_read(chunk.access):
            raise AccessDeniedError(
                f"User {user.id!r} (clearance {sorted(user.clearance)}) may not read chunk "
                f"{chunk_id!r}, which is {chunk.access}. Ask the document's owners "
                f"({chunk.team}) for access."
            )
        return chunk

    def all_chunks(self, *, doc_id: str | None = None) -> list[Chunk]:
        """Every chunk (of one document), in document and position order, ignoring access.

        For maintenance, tests and offline evaluation only: code serving a user's request
        must go through :meth:`search` or :meth:`chunk`, which take the user.
        """
        sql = f"SELECT {CHUNK_COLUMNS} FROM chunks"
        params: tuple[str, ...] = ()
        if doc_id is not None:
            sql += " WHERE doc_id = ?"
            params = (doc_id,)
        rows = self._connection().execute(sql + " ORDER BY doc_id, position", params)
        return [chunk_from_row(row) for row in rows]

    def document_ids(self) -> list[str]:
        """The ids of the indexed documents, sorted."""
        rows = self._connection().execute("SELECT doc_id FROM documents ORDER BY doc_id")
        return [row[0] for row in rows]

    def dense_candidates(
        self,
        query: str,
        *,
        user: User,
        limit: int,
        teams: Collection[str] | None = None,
        version: int | None = None,
    ) -> list[tuple[Chunk, float]]:
        """The ``limit`` chunks nearest to ``query`` among those ``user`` may read.

        Returns ``(chunk, cosine similarity)`` pairs, best first. The access, team and version
        constraints are part of the KNN query itself (vec0 metadata columns), and the join
        checks the access column of ``chunks`` again: a result the user may not read cannot
        come out, and the ``limit`` nearest readable chunks always do.
        """
        import numpy as np

        levels = user.readable_levels
        if not levels or limit < 1 or (teams is not None and not teams):
            return []
        from course_lib.embeddings.cache import shared_cache

        vector = np.asarray(shared_cache(self.embedder).embed_one(query), dtype=np.float32)
        if not np.any(vector):
            return []  # no known token in the query: it has no direction to compare
        filters, params = metadata_filters(levels, teams, version)
        knn, knn_params = self._store.knn_query(
            vector.tobytes(), min(int(limit), 4096), filters, params
        )
        sql = (
            f"WITH knn AS ({knn}) "
            f"SELECT {prefixed('c.', CHUNK_COLUMNS)}, knn.distance FROM knn "
            "JOIN chunks AS c ON c.chunk_rowid = knn.chunk_rowid "
            f"WHERE c.access IN ({placeholders(len(levels))}) "
            "ORDER BY knn.distance, c.chunk_rowid"
        )
        rows = self._connection().execute(sql, (*knn_params, *levels))
        return [(chunk_from_row(row[:-1]), 1.0 - float(row[-1])) for row in rows]

    def bm25_candidates(
        self,
        query: str,
        *,
        user: User,
        limit: int,
        teams: Collection[str] | None = None,
        version: int | None = None,
    ) -> list[tuple[Chunk, float]]:
        """The ``limit`` best BM25 matches for ``query`` among the chunks ``user`` may read.

        Scores come from a BM25 index built over the readable chunks only (see
        :mod:`course_lib.rag.bm25`); chunks sharing no term with the query are left out.
        """
        levels = user.readable_levels
        if not levels or limit < 1 or (teams is not None and not teams):
            return []
        corpus = self._bm25_corpus(levels)
        hits = corpus.search(query, limit=limit, teams=teams, version=version)
        chunks = self._chunks_by_rowid([rowid for rowid, _ in hits], levels)
        return [(chunks[rowid], score) for rowid, score in hits if rowid in chunks]

    @property
    def sentence_scorer(self) -> SentenceScorer:
        """The re-ranker's sentence vectors for this index's embedder, made on first use.

        It only scores the chunks a search hands it (see :mod:`course_lib.rag.rerank`), so it
        needs no access check of its own; its cache is keyed by chunk text and survives upserts.
        """
        from course_lib.rag.rerank import SentenceScorer

        with self._lock:
            if self._sentences is None:
                self._sentences = SentenceScorer(self.embedder)
            return self._sentences

    def _bm25_corpus(self, levels: tuple[str, ...]) -> BM25Corpus:
        """The BM25 index over the chunks at ``levels``, rebuilt when the index has changed."""
        from course_lib.rag.bm25 import BM25Corpus

        generation = self.generation
        with self._lock:
            cached = self._bm25.get(levels)
            if cached is not None and cached[0] == generation:
                return cached[1]
        rows = (
            self._connection()
            .execute(
                "SELECT chunk_rowid, title, section, text, team, version FROM chunks "
                f"WHERE access IN ({placeholders(len(levels))}) ORDER BY chunk_rowid",
                levels,
            )
            .fetchall()
        )
        texts = [indexed_text(row[1], row[2], row[3]) for row in rows]
        corpus = BM25Corpus.build(
            [row[0] for row in rows], texts, [row[4] for row in rows], [row[5] for row in rows]
        )
        with self._lock:
            self._bm25[levels] = (generation, corpus)
        return corpus

    def _chunks_by_rowid(self, rowids: Sequence[int], levels: tuple[str, ...]) -> dict[int, Chunk]:
        if not rowids:
            return {}
        sql = (
            f"SELECT chunk_rowid, {CHUNK_COLUMNS} FROM chunks "
            f"WHERE chunk_rowid IN ({placeholders(len(rowids))}) "
            f"AND access IN ({placeholders(len(levels))})"
        )
        rows = self._connection().execute(sql, (*rowids, *levels))
        return {row[0]: chunk_from_row(row[1:]) for row in rows}


def _default_embedder(embedder: Embedder | None) -> Embedder:
    if embedder is not None:
        return embedder
    from course_lib.embeddings import get_embedder

    return get_embedder()
