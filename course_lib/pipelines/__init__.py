"""Data pipelines for the Handbook index: validate, quarantine, load incrementally, version.

A folder of handbook Markdown files (or a stream of document events) becomes the live version
of a :class:`~course_lib.rag.HandbookIndex`, and a bad file never stops it or reaches it::

    from course_lib.pipelines import HandbookPipeline, PipelinePlace

    place = PipelinePlace.from_settings(work_path("pipelines"))  # SQLite, or Postgres
    pipeline = HandbookPipeline(place, teams=known_teams)
    print(pipeline.run(source_folder))      # run 1: ... 0 quarantined ... texts embedded
    print(pipeline.run(source_folder))      # the same drop again: nothing upserted or embedded
    for step in pipeline.backfill(source_folder, strategy="fixed"):
        ...                                 # readers keep the live version until the switch

The modules, one step each:

* :mod:`~course_lib.pipelines.records`: extract and transform; a file becomes a
  :class:`SourceRecord` (a parse ``problem`` noted, never raised), records become a table;
* :mod:`~course_lib.pipelines.validation`: :func:`record_schema` (pandera) and
  :func:`split_records` into valid rows and rejected rows with every reason;
* :mod:`~course_lib.pipelines.quarantine`: :class:`Quarantine`, the rejected rows in a table;
* :mod:`~course_lib.pipelines.pipeline`: :class:`HandbookPipeline`, :func:`plan_load` (only
  what changed), :func:`index_fingerprint`, and :meth:`HandbookPipeline.backfill`;
* :mod:`~course_lib.pipelines.catalogue`: :class:`IndexCatalogue`, index versions and the
  alias switched in one transaction;
* :mod:`~course_lib.pipelines.stream`: :class:`EventLog`, :class:`Checkpoint` and
  :class:`MicroBatchLoader`, the micro-batch variant;
* :mod:`~course_lib.pipelines.place`: :class:`PipelinePlace`, a folder (SQLite) or a Postgres
  database holding both the index versions and the bookkeeping, with the same SQL;
* :mod:`~course_lib.pipelines.metering`: :class:`CountingEmbedder`, texts embedded, counted.

Importing this package loads no pandas, pandera or yaml: they load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from course_lib._lazy import lazy_exports

if TYPE_CHECKING:
    from course_lib.pipelines.catalogue import IndexCatalogue, IndexVersion
    from course_lib.pipelines.metering import CountingEmbedder
    from course_lib.pipelines.pipeline import (
        BackfillStep,
        HandbookPipeline,
        LoadPlan,
        RunReport,
        index_fingerprint,
        plan_load,
    )
    from course_lib.pipelines.place import NAMESPACE_PATTERN, PipelinePlace, StateConnection
    from course_lib.pipelines.quarantine import QUARANTINE_COLUMNS, Quarantine
    from course_lib.pipelines.records import (
        FIELDS,
        RECORD_COLUMNS,
        SourceRecord,
        read_record,
        read_source,
        record_document,
        records_frame,
    )
    from course_lib.pipelines.stream import (
        EVENT_KINDS,
        Checkpoint,
        DocumentEvent,
        EventKind,
        EventLog,
        MicroBatchLoader,
        StreamReport,
    )
    from course_lib.pipelines.validation import (
        ID_PATTERN,
        MAX_BYTES,
        MIN_WORDS,
        REJECTED_COLUMNS,
        RecordSplit,
        record_schema,
        split_records,
    )

_MODULES = {
    "catalogue": "IndexCatalogue IndexVersion",
    "metering": "CountingEmbedder",
    "pipeline": "BackfillStep HandbookPipeline LoadPlan RunReport index_fingerprint plan_load",
    "place": "NAMESPACE_PATTERN PipelinePlace StateConnection",
    "quarantine": "QUARANTINE_COLUMNS Quarantine",
    "records": "FIELDS RECORD_COLUMNS SourceRecord read_record read_source record_document "
    "records_frame",
    "stream": "EVENT_KINDS Checkpoint DocumentEvent EventKind EventLog MicroBatchLoader "
    "StreamReport",
    "validation": "ID_PATTERN MAX_BYTES MIN_WORDS REJECTED_COLUMNS RecordSplit record_schema "
    "split_records",
}
_EXPORTS = {
    name: f"course_lib.pipelines.{module}"
    for module, names in _MODULES.items()
    for name in names.split()
}

__all__ = [
    "EVENT_KINDS",
    "FIELDS",
    "ID_PATTERN",
    "MAX_BYTES",
    "MIN_WORDS",
    "NAMESPACE_PATTERN",
    "QUARANTINE_COLUMNS",
    "RECORD_COLUMNS",
    "REJECTED_COLUMNS",
    "BackfillStep",
    "Checkpoint",
    "CountingEmbedder",
    "DocumentEvent",
    "EventKind",
    "EventLog",
    "HandbookPipeline",
    "IndexCatalogue",
    "IndexVersion",
    "LoadPlan",
    "MicroBatchLoader",
    "PipelinePlace",
    "Quarantine",
    "RecordSplit",
    "RunReport",
    "SourceRecord",
    "StateConnection",
    "StreamReport",
    "index_fingerprint",
    "plan_load",
    "read_record",
    "read_source",
    "record_document",
    "record_schema",
    "records_frame",
    "split_records",
]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
