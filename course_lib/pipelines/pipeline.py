"""The handbook pipeline: extract, transform, validate, quarantine, load; incremental, idempotent.

:class:`HandbookPipeline` turns a folder of handbook Markdown files into the live version of
a :class:`~course_lib.rag.HandbookIndex`:

1. **extract and transform**: every file read into a record, a parse problem noted, never
   raised (:mod:`~course_lib.pipelines.records`);
2. **validate**: a pandera schema splits good records from bad ones, with every reason
   (:mod:`~course_lib.pipelines.validation`);
3. **quarantine**: the bad ones go to a table, not to the index, not to the floor
   (:mod:`~course_lib.pipelines.quarantine`);
4. **load, incrementally**: a ``manifest`` table records the hash of each loaded file, and
   :func:`plan_load` compares it with the source: only new or changed documents are upserted
   (and the index embeds only text it has never seen); a document whose file is gone is
   deleted; a document whose new file is quarantined **keeps its last good version**.

Running it again on the same folder is a no-op: nothing upserted, nothing embedded, no new
quarantine row, the same :func:`index_fingerprint`. :meth:`HandbookPipeline.backfill` rebuilds
the index (a chunker change) as a new version and switches readers to it atomically
(:mod:`~course_lib.pipelines.catalogue`); :mod:`~course_lib.pipelines.stream` feeds it events in
micro-batches.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from course_lib.pipelines.catalogue import IndexCatalogue
from course_lib.pipelines.place import PipelinePlace
from course_lib.pipelines.quarantine import Quarantine
from course_lib.pipelines.records import (
    SourceRecord,
    read_source,
    record_document,
    records_frame,
)
from course_lib.pipelines.validation import RecordSplit, record_schema, split_records

if TYPE_CHECKING:
    from course_lib.embeddings.base import Embedder
    from course_lib.rag.documents import HandbookDocument
    from course_lib.rag.index import HandbookIndex

__all__ = [
    "BackfillStep",
    "HandbookPipeline",
    "LoadPlan",
    "RunReport",
    "index_fingerprint",
    "plan_load",
]


@dataclass(frozen=True)
class LoadPlan:
    """What a load will do, by document id: ``upsert`` (new or changed) and ``delete`` (file
    gone), both sorted; ``unchanged`` counts the documents left alone."""

    upsert: list[str]
    delete: list[str]
    unchanged: int


def plan_load(
    loaded: Mapping[str, str], incoming: Mapping[str, str], present: Collection[str]
) -> LoadPlan:
    """Decides what to load from hashes, before anything is read from the index.

    Args:
        loaded: the manifest: each loaded document's id and the hash of its file.
        incoming: each valid record's id and the hash of its file.
        present: the keys (file names without ``.md``) of every file in the source, valid or
            not.

    Returns:
        New or changed documents to upsert; loaded documents whose file is gone to delete. A
        loaded document whose file is present but quarantined is neither: it keeps its last
        good version until its file is fixed.
    """
    for name, value in (("loaded", loaded), ("incoming", incoming)):
        if not isinstance(value, Mapping):
            raise TypeError(f"plan_load(): {name} maps document ids to file hashes (a dict).")
    upsert = sorted(doc_id for doc_id, digest in incoming.items() if loaded.get(doc_id) != digest)
    keep = set(present) | set(incoming)
    delete = sorted(doc_id for doc_id in loaded if doc_id not in keep)
    unchanged = sum(1 for doc_id, digest in incoming.items() if loaded.get(doc_id) == digest)
    return LoadPlan(upsert=upsert, delete=delete, unchanged=unchanged)


def index_fingerprint(index: HandbookIndex) -> str:
    """A 16-hex id of what an index holds: every chunk's id, text hash and metadata.

    Equal on two indexes exactly when a reader would get the same chunks from both, whatever
    the insertion order, row ids or backend (SQLite or Postgres).
    """
    lines = sorted(
        "|".join((c.id, c.content_hash, c.title, c.section, str(c.version), c.access, c.team))
        for c in index.all_chunks()
    )
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class RunReport:
    """What one run did, counted in files, documents, chunks and embedded texts."""

    run: int
    files: int
    valid: int
    quarantined: int
    newly_quarantined: int
    upserted: int
    deleted: int
    unchanged: int
    embedded_texts: int
    chunks: int
    fingerprint: str

    def __str__(self) -> str:
        return (
            f"run {self.run}: {self.files} files, {self.valid} valid, {self.quarantined} "
            f"quarantined ({self.newly_quarantined} new); documents {self.upserted} upserted, "
            f"{self.deleted} deleted, {self.unchanged} unchanged; {self.embedded_texts} "
            f"{'text' if self.embedded_texts == 1 else 'texts'} embedded; index {self.chunks} "
            f"chunks, fingerprint {self.fingerprint}"
        )


@dataclass(frozen=True)
class BackfillStep:
    """One step of a backfill: the version being built, how far, and what readers get."""

    building: str
    done: int
    total: int
    live: str | None
    switched: bool


class HandbookPipeline:
    """Loads a folder of handbook files into the live index version, as the module says.

    Args:
        place: where the index versions and the bookkeeping live; its namespace is the alias
            readers use.
        teams: the teams a document may belong to (for the default schema).
        schema: a pandera schema over ``records_frame`` columns, instead of
            ``record_schema(teams)``.
        embedder: the embedder; the default embedder when omitted.
        strategy: the chunking of the first index version (a backfill changes it).
        **chunk_options: that strategy's options.
    """

    def __init__(
        self,
        place: PipelinePlace,
        *,
        teams: Collection[str] | None = None,
        schema: Any = None,
        embedder: Embedder | None = None,
        strategy: str = "headings",
        **chunk_options: int,
    ) -> None:
        if not isinstance(place, PipelinePlace):
            raise TypeError(
                f"HandbookPipeline() takes a PipelinePlace, not {type(place).__name__}; e.g. "
                "PipelinePlace(work_path('pipelines'))."
            )
        if schema is None:
            if teams is None:
                raise ValueError(
                    "HandbookPipeline() needs the known teams (teams=...) or a schema "
                    "(schema=...) to validate records with."
                )
            schema = record_schema(teams)
        if embedder is None:
            from course_lib.embeddings import get_embedder

            embedder = get_embedder()
        self.place = place
        self.alias = place.namespace
        self.schema = schema
        self.embedder = embedder
        self.strategy = strategy
        self.chunk_options = dict(chunk_options)
        self.quarantine = Quarantine(place)
        self.catalogue = IndexCatalogue(place)

    def __repr__(self) -> str:
        return f"HandbookPipeline({self.place!r}, alias={self.alias!r})"

    # --- running ---------------------------------------------------------------------------

    def validate(self, records: Iterable[SourceRecord]) -> RecordSplit:
        """The records split by the pipeline's schema into valid and rejected rows."""
        return split_records(records_frame(records), self.schema)

    def run(self, source: str | Path) -> RunReport:
        """One batch run over every file of ``source`` (see the module docstring)."""
        records = read_source(source)
        split = self.validate(records)
        return self.load(split, present={r.key for r in records}, files=len(records))

    def load(self, split: RecordSplit, *, present: Collection[str], files: int) -> RunReport:
        """Quarantines ``split.rejected`` and loads what changed of ``split.valid``.

        ``present`` holds the keys of every file in the source: loaded documents not in it
        are deleted.
        """
        run = self._start_run()
        newly = self.quarantine.add(split.rejected, run=run)
        loaded = self.manifest()
        valid = split.valid.to_dict(orient="records")
        incoming = {str(row["id"]): str(row["content_hash"]) for row in valid}
        plan = plan_load(loaded, incoming, present)
        wanted = set(plan.upsert)
        docs = [record_document(row) for row in valid if str(row["id"]) in wanted]
        index, embedded = self._write_live(docs)
        with index:
            if plan.delete:
                index.delete_documents(plan.delete)
            report = RunReport(
                run=run,
                files=files,
                valid=len(valid),
                quarantined=len(split.rejected),
                newly_quarantined=newly,
                upserted=len(docs),
                deleted=len(plan.delete),
                unchanged=plan.unchanged,
                embedded_texts=embedded,
                chunks=len(index),
                fingerprint=index_fingerprint(index),
            )
        self._record(run, report, {d: incoming[d] for d in plan.upsert}, plan.delete)
        return report

    def _write_live(self, docs: list[HandbookDocument]) -> tuple[HandbookIndex, int]:
        """Upserts ``docs`` into the live version (building version 1 if there is none)."""
        from course_lib.errors import IndexNotFoundError
        from course_lib.rag.index import HandbookIndex

        try:
            name = self.catalogue.live(self.alias)
        except IndexNotFoundError:
            name = self.catalogue.new_version(
                self.alias, {"strategy": self.strategy, "options": self.chunk_options}
            )
            index = HandbookIndex.build(
                docs,
                embedder=self.embedder,
                strategy=self.strategy,
                rebuild=True,
                **self.chunk_options,
                path=self.place.index_path(name),
                name=name,
            )
            self.catalogue.mark_ready(name)
            self.catalogue.switch(self.alias, name)
            report = index.last_report
            return index, report.embedded_texts if report is not None else 0
        index = HandbookIndex.open(self.place.index_path(name), name=name, embedder=self.embedder)
        if not docs:
            return index, 0
        return index, index.upsert(docs, delete_missing=False).embedded_texts

    # --- the bookkeeping -------------------------------------------------------------------

    def manifest(self) -> dict[str, str]:
        """Each loaded document's id and the hash of the file it was loaded from."""
        with self.place.connect() as connection:
            rows = connection.rows("SELECT doc_id, file_hash FROM manifest ORDER BY doc_id")
        return {str(doc_id): str(digest) for doc_id, digest in rows}

    def _start_run(self) -> int:
        with self.place.connect() as connection:
            (latest,) = connection.rows("SELECT coalesce(max(run), 0) FROM runs")[0]
        return int(latest) + 1

    def _record(
        self,
        run: int,
        report: RunReport | None,
        upserted: Mapping[str, str],
        deleted: Iterable[str],
        *,
        kind: str = "load",
        replace: bool = False,
    ) -> None:
        """Writes the manifest's changes and the run's summary in one transaction."""
        summary = json.dumps(report.__dict__ if report is not None else {}, sort_keys=True)
        with self.place.connect() as connection, connection.transaction():
            if replace:
                connection.execute("DELETE FROM manifest")
            for doc_id in deleted:
                connection.execute("DELETE FROM manifest WHERE doc_id = ?", (doc_id,))
            for doc_id, digest in upserted.items():
                connection.execute(
                    "INSERT INTO manifest (doc_id, file_hash, run) VALUES (?, ?, ?) "
                    "ON CONFLICT (doc_id) DO UPDATE SET file_hash = excluded.file_hash, "
                    "run = excluded.run",
                    (doc_id, digest, run),
                )
            connection.execute(
                "INSERT INTO runs (run, kind, summary) VALUES (?, ?, ?)", (run, kind, summary)
            )

    # --- reading ---------------------------------------------------------------------------

    def live_name(self) -> str:
        """The name of the index version readers get now."""
        return self.catalogue.live(self.alias)

    def open_live(self) -> HandbookIndex:
        """Opens the version the alias points at now: call it per query, never cache it."""
        from course_lib.rag.index import HandbookIndex

        name = self.live_name()
        return HandbookIndex.open(self.place.index_path(name), name=name, embedder=self.embedder)

    def fingerprint(self) -> str:
        """The :func:`index_fingerprint` of the live version."""
        with self.open_live() as index:
            return index_fingerprint(index)

    # --- rebuilding ------------------------------------------------------------------------

    def backfill(
        self, source: str | Path, *, strategy: str, batch_size: int = 20, **options: int
    ) -> Iterator[BackfillStep]:
        """Rebuilds the index from ``source`` with a new chunking, as a new version.

        A generator: it yields after each batch of ``batch_size`` documents (readers keep
        getting the live version meanwhile), then marks the new version ready, switches the
        alias to it in one transaction, and yields a last step with ``switched=True``. Left
        unfinished, it leaves the live version untouched.
        """
        from course_lib.rag.index import HandbookIndex

        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size is a positive whole number, not {batch_size!r}.")
        records = read_source(source)
        split = self.validate(records)
        run = self._start_run()
        self.quarantine.add(split.rejected, run=run)
        valid = split.valid.to_dict(orient="records")
        docs = [record_document(row) for row in valid]
        name = self.catalogue.new_version(self.alias, {"strategy": strategy, "options": options})
        index: HandbookIndex | None = None
        for start in range(0, len(docs), batch_size):
            batch = docs[start : start + batch_size]
            if index is None:
                index = HandbookIndex.build(
                    batch,
                    embedder=self.embedder,
                    strategy=strategy,
                    rebuild=True,
                    **options,
                    path=self.place.index_path(name),
                    name=name,
                )
            else:
                index.upsert(batch, delete_missing=False)
            yield BackfillStep(name, start + len(batch), len(docs), self._live_or_none(), False)
        if index is not None:
            index.close()
        self.catalogue.mark_ready(name)
        self.catalogue.switch(self.alias, name)
        hashes = {str(row["id"]): str(row["content_hash"]) for row in valid}
        self._record(run, None, hashes, (), kind="backfill", replace=True)
        yield BackfillStep(name, len(docs), len(docs), name, True)

    def _live_or_none(self) -> str | None:
        from course_lib.errors import IndexNotFoundError

        try:
            return self.live_name()
        except IndexNotFoundError:
            return None
