"""The streaming variant: document events in micro-batches, with a checkpoint.

Documents also arrive one by one: an edit in the wiki, a page deleted. An :class:`EventLog`
holds them in order (``created``, ``updated``, ``deleted``, each with a sequence number), as a
topic of a message broker would. A :class:`MicroBatchLoader` reads the next ``batch_size``
events after its :class:`Checkpoint`, loads them through the same validation, quarantine and
incremental load as a batch run, and only **then** moves the checkpoint past them.

Why that order: a crash before the load commits leaves the checkpoint where it was, so the
restart reads the same batch again (nothing lost); a crash after the load but before the
checkpoint also replays the batch, and the load is idempotent (its documents are already
there: nothing upserted, nothing embedded), so nothing is applied twice. Moving the checkpoint
first would lose the batch; never moving it would replay everything.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from course_lib.pipelines.pipeline import HandbookPipeline, RunReport
from course_lib.pipelines.place import NAMESPACE_PATTERN, PipelinePlace
from course_lib.pipelines.records import read_record

__all__ = [
    "EVENT_KINDS",
    "Checkpoint",
    "DocumentEvent",
    "EventKind",
    "EventLog",
    "MicroBatchLoader",
    "StreamReport",
]

EventKind = Literal["created", "updated", "deleted"]
EVENT_KINDS: tuple[str, ...] = ("created", "updated", "deleted")


@dataclass(frozen=True)
class DocumentEvent:
    """One change to one document: its sequence number, kind, id and (unless deleted) file."""

    seq: int
    kind: str
    doc_id: str
    body: str | None = None


def _check_name(name: object, what: str) -> str:
    if not isinstance(name, str) or not NAMESPACE_PATTERN.fullmatch(name):
        raise ValueError(f"A {what} is a lower-case identifier (letters, digits, _), not {name!r}.")
    return name


class EventLog:
    """An append-only, ordered log of document events in the pipeline's place."""

    def __init__(self, place: PipelinePlace, name: str = "documents") -> None:
        self.place = place
        self.name = _check_name(name, "log name")

    def append(self, events: Iterable[tuple[str, str, str | None]]) -> list[int]:
        """Appends ``(kind, doc_id, body)`` events; returns their sequence numbers.

        Raises:
            ValueError: an unknown kind, or a created/updated event without a body.
        """
        items = list(events)
        for kind, doc_id, body in items:
            if kind not in EVENT_KINDS:
                raise ValueError(f"Event kind {kind!r} is not one of {list(EVENT_KINDS)}.")
            if (body is None) != (kind == "deleted"):
                raise ValueError(
                    f"A {kind} event of {doc_id!r} needs "
                    + ("no body." if kind == "deleted" else "the file's text as its body.")
                )
        with self.place.connect() as connection, connection.transaction():
            (latest,) = connection.rows(
                "SELECT coalesce(max(seq), -1) FROM events WHERE log = ?", (self.name,)
            )[0]
            seqs = list(range(int(latest) + 1, int(latest) + 1 + len(items)))
            for seq, (kind, doc_id, body) in zip(seqs, items, strict=True):
                connection.execute(
                    "INSERT INTO events (log, seq, kind, doc_id, body) VALUES (?, ?, ?, ?, ?)",
                    (self.name, seq, kind, doc_id, body),
                )
        return seqs

    def read(self, start: int, limit: int) -> list[DocumentEvent]:
        """Up to ``limit`` events from sequence number ``start`` on, in order."""
        with self.place.connect() as connection:
            rows = connection.rows(
                "SELECT seq, kind, doc_id, body FROM events WHERE log = ? AND seq >= ? "
                "ORDER BY seq LIMIT ?",
                (self.name, int(start), int(limit)),
            )
        return [DocumentEvent(int(s), str(k), str(d), b) for s, k, d, b in rows]

    def __len__(self) -> int:
        with self.place.connect() as connection:
            return int(
                connection.rows("SELECT count(*) FROM events WHERE log = ?", (self.name,))[0][0]
            )


class Checkpoint:
    """A consumer's position in a log: the sequence number of the next event to process."""

    def __init__(self, place: PipelinePlace, consumer: str = "index_loader") -> None:
        self.place = place
        self.consumer = _check_name(consumer, "consumer name")

    def read(self) -> int:
        with self.place.connect() as connection:
            found = connection.rows(
                "SELECT next_seq FROM checkpoints WHERE consumer = ?", (self.consumer,)
            )
        return int(found[0][0]) if found else 0

    def write(self, next_seq: int) -> None:
        with self.place.connect() as connection, connection.transaction():
            connection.execute(
                "INSERT INTO checkpoints (consumer, next_seq) VALUES (?, ?) "
                "ON CONFLICT (consumer) DO UPDATE SET next_seq = excluded.next_seq",
                (self.consumer, int(next_seq)),
            )


@dataclass
class StreamReport:
    """What a :meth:`MicroBatchLoader.run` did: batches, events, and their runs' totals."""

    batches: int = 0
    events: int = 0
    embedded_texts: int = 0
    quarantined: int = 0
    next_seq: int = 0
    runs: list[RunReport] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"{self.batches} batches, {self.events} events, {self.embedded_texts} texts "
            f"embedded, {self.quarantined} quarantined; next event {self.next_seq}"
        )


class MicroBatchLoader:
    """Loads a log's events into a pipeline's index in micro-batches (see the module)."""

    def __init__(
        self,
        pipeline: HandbookPipeline,
        log: EventLog,
        *,
        checkpoint: Checkpoint | None = None,
        batch_size: int = 10,
    ) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size is a positive whole number, not {batch_size!r}.")
        self.pipeline = pipeline
        self.log = log
        self.checkpoint = checkpoint or Checkpoint(pipeline.place)
        self.batch_size = batch_size

    def run(self, *, max_batches: int | None = None) -> StreamReport:
        """Processes batches until the log is exhausted (or ``max_batches`` are done)."""
        report = StreamReport(next_seq=self.checkpoint.read())
        while max_batches is None or report.batches < max_batches:
            batch = self.log.read(self.checkpoint.read(), self.batch_size)
            if not batch:
                break
            run = self.process(batch)
            self.checkpoint.write(batch[-1].seq + 1)  # only after the load has committed
            report.batches += 1
            report.events += len(batch)
            report.embedded_texts += run.embedded_texts
            report.quarantined += run.quarantined
            report.next_seq = batch[-1].seq + 1
            report.runs.append(run)
        return report

    def process(self, batch: list[DocumentEvent]) -> RunReport:
        """Loads one batch: the last event of each document wins."""
        latest = {event.doc_id: event for event in batch}
        records = [
            read_record(f"{event.doc_id}.md", (event.body or "").encode("utf-8"))
            for event in latest.values()
            if event.kind != "deleted"
        ]
        deleted = {e.doc_id for e in latest.values() if e.kind == "deleted"}
        split = self.pipeline.validate(records)
        present = (set(self.pipeline.manifest()) | {r.key for r in records}) - deleted
        return self.pipeline.load(split, present=present, files=len(records))
