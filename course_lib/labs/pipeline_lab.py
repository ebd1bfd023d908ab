"""Lesson 4.3's lab: a handbook source folder, seeded drops of files, the tutorial's ingest
script, event streams, crashes on cue, and the measurements the lesson compares.

Nothing here is production code. :func:`prototype_ingest` is the script a tutorial stops at
(read every file, chunk, embed, ``INSERT``), kept so the lesson can measure what breaks; the
production version is :mod:`course_lib.pipelines`.
"""

from __future__ import annotations

import random
import shutil
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from course_lib.embeddings.base import Embedder
    from course_lib.pipelines import HandbookPipeline

__all__ = [
    "BAD_KINDS",
    "DROP_PAGES",
    "TUNING_DROP_SEED",
    "CrashingEmbedder",
    "Drop",
    "ProcessDied",
    "PrototypeRun",
    "RulesScore",
    "consume_checkpoint_first",
    "copy_handbook",
    "crash_and_restart",
    "document_events",
    "drop_records",
    "expected_documents",
    "handbook_teams",
    "plot_reader_views",
    "prototype_ingest",
    "prototype_verdicts",
    "reader_views",
    "score_rules",
    "stream_outcome",
    "write_drop",
]

TUNING_DROP_SEED = 0
"""The seed of the drop the lesson shows; the checker's drops use others."""
DROP_PAGES = 40
"""Handbook pages a scored drop starts from (the first 40 by file name, as in the lesson)."""

BAD_KINDS = (
    "bad encoding",
    "no front matter",
    "missing field",
    "unknown team",
    "unknown access level",
    "version not a number",
    "bad date",
    "empty body",
    "duplicate id",
    "huge file",
)
# Each kind's variants: the lesson's drop (seed 0) uses the first; other seeds draw any.
_TEAM_TYPOS = ("SRE", "finance", "Sre", "Platform", "platform-team", "ops", "security-team")
_ACCESS_TYPOS = ("confidential", "Internal", "secret", "private", "PUBLIC", "staff-only")
_VERSIONS = ("two", 0, "v2", -1, 1.5, "3rd")
_DATES = ("2026-13-01", "yesterday", "12/05/2026", "2026-02-30", "2026-5-1", "May 2026")
_EMPTY = ("", "# Draft\n", "   \n\n", "TODO: write this page.\n", "# Notes\n\nTBD\n")
_MISSING = ("access", "team", "title", "version", "updated")
_TOPICS = (
    ("forklift-charging-rota", "Forklift charging rota", "shipments"),
    ("depot-visitor-badges", "Depot visitor badges", "security"),
    ("guest-wifi-at-depots", "Guest Wi-Fi at depots", "it"),
    ("returns-desk-hours", "Returns desk opening hours", "shipments"),
    ("night-shift-handover", "Night-shift handover checklist", "sre"),
    ("api-sandbox-accounts", "API sandbox accounts", "platform"),
    ("data-catalogue-tags", "Data catalogue tags", "data"),
    ("payroll-cutoff-dates", "Payroll cut-off dates", "people"),
    ("route-replay-tool", "Route replay tool", "routing"),
    ("mobile-beta-testers", "Mobile beta testers", "mobile"),
    ("invoice-dispute-desk", "Invoice dispute desk", "payments"),
    ("badge-photo-policy", "Badge photo policy", "identity"),
    ("quarterly-okr-template", "Quarterly OKR template", "eng-leadership"),
    ("laptop-loaner-pool", "Laptop loaner pool", "it"),
    ("depot-fire-drills", "Depot fire drills", "people"),
    ("edge-cache-purges", "Edge cache purges", "platform"),
)
_WORDS = [
    "depot",
    "driver",
    "parcel",
    "route",
    "shift",
    "team",
    "ticket",
    "review",
    "rota",
    "badge",
    "label",
    "scanner",
    "manager",
    "customer",
    "window",
    "weekly",
    "backup",
    "schedule",
    "checklist",
    "escalation",
    "channel",
    "owner",
    "request",
    "approval",
    "access",
    "training",
    "handover",
    "dashboard",
    "report",
    "deadline",
    "region",
    "warehouse",
]


class ProcessDied(RuntimeError):
    """The process died here (raised on cue by the lab, to test a restart)."""


def handbook_teams() -> list[str]:
    """The teams that own handbook documents: the valid values of ``team``."""
    from course_lib.datasets import load_handbook

    return sorted({doc.team for doc in load_handbook()})


def copy_handbook(folder: Path, limit: int | None = None) -> int:
    """Empties ``folder`` and copies the handbook's current files (the first ``limit``) into
    it; returns how many."""
    from course_lib.datasets.handbook import HANDBOOK_DIR

    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    files = sorted((HANDBOOK_DIR / "current").glob("*.md"))[:limit]
    for path in files:
        shutil.copyfile(path, folder / path.name)
    return len(files)


def _front(fields: dict[str, Any]) -> str:
    lines = [f"{k}: {v}" if v != "" else f'{k}: ""' for k, v in fields.items()]
    return "---\n" + "\n".join(lines) + "\n---\n"


def _body(rng: random.Random, title: str, words: int) -> str:
    sentences = []
    count = 0
    while count < words:
        length = rng.randint(8, 16)
        sentence = " ".join(rng.choice(_WORDS) for _ in range(length)).capitalize() + "."
        sentences.append(sentence)
        count += length
    half = len(sentences) // 2
    return (
        f"# {title}\n\n{' '.join(sentences[:half])}\n\n## Details\n\n{' '.join(sentences[half:])}\n"
    )


def _fields(doc_id: str, title: str, team: str, **changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "id": doc_id,
        "title": title,
        "team": team,
        "version": 1,
        "updated": "2026-06-01",
        "access": "internal",
    }
    fields.update(changes)
    return fields


@dataclass
class Drop:
    """What :func:`write_drop` did to the source folder, by file name."""

    new: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    bad: dict[str, str] = field(default_factory=dict)  # file -> kind

    def __str__(self) -> str:
        return (
            f"{len(self.new)} new, {len(self.changed)} changed, {len(self.deleted)} deleted "
            f"and {len(self.bad)} bad files"
        )


def write_drop(folder: Path, seed: int = TUNING_DROP_SEED) -> Drop:
    """Writes a seeded drop into a copy of the handbook: new, changed, deleted and bad files.

    Every kind of :data:`BAD_KINDS` appears once; seed 0 (the lesson's) uses each kind's first
    variant, other seeds draw variants, sizes and documents at random.
    """
    rng = random.Random(seed)
    pick: Callable[[Sequence[Any]], Any] = (lambda xs: xs[0]) if seed == 0 else rng.choice
    existing = sorted(p.name for p in folder.glob("*.md"))
    drop = Drop()
    topics = rng.sample(_TOPICS, 3 + len(BAD_KINDS))
    for doc_id, title, team in topics[:3]:
        body = _body(rng, title, rng.randint(60, 220))
        access = rng.choice(("internal", "internal", "public", "restricted"))
        text = _front(_fields(doc_id, title, team, access=access)) + body
        (folder / f"{doc_id}.md").write_text(text, encoding="utf-8")
        drop.new.append(f"{doc_id}.md")
    touched = rng.sample(existing, 6)
    for name in touched[:4]:
        path = folder / name
        text = path.read_text(encoding="utf-8")
        head, version, rest = _split_version(text)
        extra = f"\n\nReviewed in June 2026: {rng.choice(_WORDS)} owners confirmed this page.\n"
        path.write_text(f"{head}version: {version + 1}{rest.rstrip()}{extra}", encoding="utf-8")
        drop.changed.append(name)
    for name in touched[4:]:
        (folder / name).unlink()
        drop.deleted.append(name)
    remaining = sorted(set(existing) - set(touched[4:]))
    for kind, (doc_id, title, team) in zip(BAD_KINDS, topics[3:], strict=True):
        name, raw = _bad_file(kind, doc_id, title, team, rng, pick, remaining)
        (folder / name).write_bytes(raw)
        drop.bad[name] = kind
    return drop


def _split_version(text: str) -> tuple[str, int, str]:
    start = text.index("\nversion: ") + 1
    end = text.index("\n", start)
    return text[:start], int(text[start + len("version: ") : end]), text[end:]


def _bad_file(
    kind: str,
    doc_id: str,
    title: str,
    team: str,
    rng: random.Random,
    pick: Callable[[Sequence[Any]], Any],
    existing: list[str],
) -> tuple[str, bytes]:
    body = _body(rng, title, rng.randint(60, 200))
    fields = _fields(doc_id, title, team)
    if kind == "bad encoding":
        encoding = pick(("latin-1", "utf-16", "cp1252"))
        text = _front(fields) + body.replace("depot", "dépôt").replace("team", "team’s")
        return f"{doc_id}.md", text.encode(encoding, errors="replace")
    if kind == "no front matter":
        variant = pick(("none", "unclosed", "yaml"))
        if variant == "none":
            return f"{doc_id}.md", body.encode()
        if variant == "unclosed":
            return f"{doc_id}.md", _front(fields)[:-4].encode() + body.encode()
        return f"{doc_id}.md", (f"---\nid: {doc_id}\ntitle: [unclosed\n---\n" + body).encode()
    if kind == "missing field":
        del fields[pick(_MISSING)]
    elif kind == "unknown team":
        fields["team"] = pick(_TEAM_TYPOS)
    elif kind == "unknown access level":
        fields["access"] = pick(_ACCESS_TYPOS)
    elif kind == "version not a number":
        fields["version"] = pick(_VERSIONS)
    elif kind == "bad date":
        fields["updated"] = pick(_DATES)
    elif kind == "empty body":
        body = pick(_EMPTY)
    elif kind == "duplicate id":
        original = pick(existing).removesuffix(".md")
        fields["id"] = original
        return f"{original}-copy.md", (_front(fields) + body).encode()
    elif kind == "huge file":
        line = "2026-06-01T03:12:44Z WARN depot-sync retry=3 parcel=KF-0000 queue=lag\n"
        size = pick((240_000, 205_000, 220_000, 235_000, 400_000, 900_000))
        body += "\n## Log\n\n" + line * (size // len(line))
    return f"{doc_id}.md", (_front(fields) + body).encode()


def drop_records(seed: int) -> tuple[pd.DataFrame, dict[str, str]]:
    """A fresh copy of the handbook with drop ``seed`` in it, as ``records_frame`` rows (the
    parseable ones), and the bad ones among them (file -> kind): what a schema is scored on."""
    import tempfile

    from course_lib.pipelines import read_source, records_frame

    with tempfile.TemporaryDirectory(prefix="course-drop-") as tmp:
        folder = Path(tmp) / "source"
        copy_handbook(folder, limit=DROP_PAGES)
        drop = write_drop(folder, seed)
        frame = records_frame(read_source(folder))
    parsed = frame[frame["problem"].isna()].reset_index(drop=True)
    files = set(parsed["file"])
    return parsed, {name: kind for name, kind in drop.bad.items() if name in files}


@dataclass(frozen=True)
class RulesScore:
    """A schema's record on drops: bad records caught (and the kinds missed), good rejected."""

    bad: int
    caught: int
    good: int
    rejected_good: int
    missed_kinds: tuple[str, ...]
    rejected_examples: tuple[str, ...]

    def __str__(self) -> str:
        missed = f" (missed: {', '.join(self.missed_kinds)})" if self.missed_kinds else ""
        return (
            f"bad records caught: {self.caught} of {self.bad}{missed}; good records "
            f"rejected: {self.rejected_good} of {self.good}"
        )


def score_rules(schema: Any, seeds: Sequence[int] = (TUNING_DROP_SEED,)) -> RulesScore:
    """How ``schema`` splits the parseable records of the drops ``seeds``."""
    from course_lib.pipelines import split_records

    bad = caught = good = rejected_good = 0
    missed: list[str] = []
    examples: list[str] = []
    for seed in seeds:
        frame, bad_files = _drop_records_cached(seed)
        rejected = set(split_records(frame.copy(), schema).rejected["file"])
        bad += len(bad_files)
        caught += len(rejected & set(bad_files))
        missed += [kind for name, kind in bad_files.items() if name not in rejected]
        wrongly = sorted(rejected - set(bad_files))
        good += len(frame) - len(bad_files)
        rejected_good += len(wrongly)
        examples += wrongly
    return RulesScore(
        bad, caught, good, rejected_good, tuple(sorted(set(missed))), tuple(examples[:3])
    )


@lru_cache(maxsize=16)
def _drop_records_cached(seed: int) -> tuple[pd.DataFrame, dict[str, str]]:
    return drop_records(seed)


# --- the prototype -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PrototypeRun:
    """One run of the tutorial's script: files read, rows inserted, texts embedded, the
    exception that stopped it (``None`` if it finished)."""

    files: int
    rows_inserted: int
    texts_embedded: int
    rows_in_table: int
    crashed_on: str | None
    error: str | None

    def __str__(self) -> str:
        end = "finished" if self.crashed_on is None else f"CRASHED on {self.crashed_on}: "
        return (
            f"{self.files} files read, {self.rows_inserted} rows inserted, "
            f"{self.texts_embedded} texts embedded, {self.rows_in_table} rows in the table; "
            f"{end}{self.error or ''}"
        )


def prototype_ingest(folder: Path, db_path: Path, embedder: Embedder) -> PrototypeRun:
    """The tutorial's ingest script: every file, parsed, chunked, embedded, INSERTed."""
    import yaml

    from course_lib.rag import HandbookDocument, chunk_documents

    db = sqlite3.connect(db_path)
    db.execute("CREATE TABLE IF NOT EXISTS chunks (doc_id, team, access, text, vector)")
    files = rows = texts = 0
    for path in sorted(folder.glob("*.md")):
        try:
            _, front, body = path.read_text(encoding="utf-8").split("---\n", 2)
            meta = yaml.safe_load(front)
            doc = HandbookDocument(**meta, text=body)
            chunks = chunk_documents([doc])
            vectors = embedder.embed([chunk.text for chunk in chunks])
        except Exception as exc:  # the script dies here; rows so far stay committed
            (count,) = db.execute("SELECT count(*) FROM chunks").fetchone()
            db.close()
            error = f"{type(exc).__name__}: {str(exc)[:70]}"
            return PrototypeRun(files + 1, rows, texts, count, path.name, error)
        files += 1
        texts += len(chunks)
        for chunk, vector in zip(chunks, vectors, strict=True):
            db.execute(
                "INSERT INTO chunks VALUES (?, ?, ?, ?, ?)",
                (doc.id, doc.team, doc.access, chunk.text, vector.tobytes()),
            )
            rows += 1
        db.commit()
    (count,) = db.execute("SELECT count(*) FROM chunks").fetchone()
    db.close()
    return PrototypeRun(files, rows, texts, count, None, None)


def prototype_verdicts(drop: Drop, folder: Path, work: Path, embedder: Embedder) -> pd.DataFrame:
    """What the prototype does with each bad file of ``drop``, run on that file alone."""
    import pandas as pd

    rows = []
    for name, kind in sorted(drop.bad.items(), key=lambda item: BAD_KINDS.index(item[1])):
        alone = work / "alone"
        if alone.exists():
            shutil.rmtree(alone)
        alone.mkdir(parents=True)
        shutil.copyfile(folder / name, alone / name)
        db = work / "alone.sqlite"
        db.unlink(missing_ok=True)
        run = prototype_ingest(alone, db, embedder)
        if run.error is not None:
            verdict = f"crashes: {run.error.split(':')[0]}"
        elif run.rows_inserted == 0:
            verdict = "loads nothing, says nothing"
        else:
            verdict = f"loads it: {run.rows_inserted} rows"
        rows.append({"file": name, "kind": kind, "prototype": verdict})
    return pd.DataFrame(rows)


# --- streaming ---------------------------------------------------------------------------------


def document_events(
    folder: Path, seed: int = 0, count: int = 40
) -> list[tuple[str, str, str | None]]:
    """A seeded stream of ``(kind, doc_id, body)`` events on the documents in ``folder``:
    edits, new pages, deletions, and one page created with an unknown team."""
    rng = random.Random(1000 + seed)
    from course_lib.pipelines import (
        read_source,
        record_schema,
        records_frame as frame_of,
        split_records,
    )

    valid = split_records(frame_of(read_source(folder)), record_schema(handbook_teams())).valid
    live = {
        str(row.id): (folder / str(row.file)).read_text(encoding="utf-8")
        for row in valid.itertuples()
    }
    events: list[tuple[str, str, str | None]] = []
    created = 0
    for number in range(count):
        roll = rng.random()
        if roll < 0.2 or number == count // 2:
            created += 1
            doc_id, title = f"stream-note-{created:02d}", f"Stream note {created}"
            team = "SRE" if number == count // 2 else rng.choice(("sre", "it", "data"))
            body = _front(_fields(doc_id, title, team)) + _body(rng, title, rng.randint(50, 90))
            if team != "SRE":  # the bad page is never edited again: it stays one event
                live[doc_id] = body
            events.append(("created", doc_id, body))
        elif roll < 0.3 and len(live) > 10:
            doc_id = rng.choice(sorted(live))
            del live[doc_id]
            events.append(("deleted", doc_id, None))
        else:
            doc_id = rng.choice(sorted(live))
            head, version, rest = _split_version(live[doc_id])
            body = f"{head}version: {version + 1}{rest.rstrip()}\n\nEdit {number}: checked.\n"
            live[doc_id] = body
            events.append(("updated", doc_id, body))
    return events


def expected_documents(
    folder: Path, events: Sequence[tuple[str, str, str | None]], teams: Sequence[str]
) -> dict[str, str]:
    """The valid documents after every event, applied once in order: id -> file hash."""
    import hashlib

    from course_lib.pipelines import read_record, record_schema, records_frame, split_records

    state = {p.stem: p.read_bytes() for p in sorted(folder.glob("*.md"))}
    for kind, doc_id, body in events:
        if kind == "deleted":
            state.pop(doc_id, None)
        else:
            state[doc_id] = (body or "").encode("utf-8")
    records = [read_record(f"{k}.md", v) for k, v in sorted(state.items())]
    split = split_records(records_frame(records), record_schema(teams))
    return {
        str(row["id"]): hashlib.sha256(state[str(row["id"])]).hexdigest()
        for row in split.valid.to_dict(orient="records")
    }


def stream_outcome(pipeline: HandbookPipeline, expected: dict[str, str]) -> dict[str, int]:
    """Documents lost (missing or stale in the index) and extra (should be gone), counted
    against ``expected``; the manifest says what was loaded, the index is checked too."""
    loaded = pipeline.manifest()
    with pipeline.open_live() as index:
        indexed = set(index.document_ids())
    lost = sum(1 for d, h in expected.items() if loaded.get(d) != h or d not in indexed)
    extra = len(indexed - set(expected))
    return {"documents lost or stale": lost, "documents that should be gone": extra}


def consume_checkpoint_first(
    log: Any, checkpoint: Any, load: Callable[[Any], Any], batch_size: int
) -> None:
    """The naive consumer the lesson measures: it saves the checkpoint as soon as it has read a
    batch ("got them"), then loads it, so a crash during the load loses the batch."""
    while batch := log.read(checkpoint.read(), batch_size):
        checkpoint.write(batch[-1].seq + 1)
        load(batch)


def crash_and_restart(
    consume: Callable[..., Any],
    pipeline: HandbookPipeline,
    events: Sequence[tuple[str, str, str | None]],
    *,
    crash_on: int = 2,
    batch_size: int = 8,
) -> bool:
    """Loads ``events`` with ``consume(log, checkpoint, load, batch_size)``; the process dies
    in embedding call ``crash_on``, then restarts and runs ``consume`` again. Returns whether
    the crash happened."""
    from course_lib.pipelines import Checkpoint, EventLog, HandbookPipeline, MicroBatchLoader

    log = EventLog(pipeline.place)
    log.append(events)
    checkpoint = Checkpoint(pipeline.place)
    dying = HandbookPipeline(
        pipeline.place,
        schema=pipeline.schema,
        embedder=CrashingEmbedder(pipeline.embedder, crash_on),
    )
    try:
        consume(log, checkpoint, MicroBatchLoader(dying, log).process, batch_size)
    except ProcessDied:
        crashed = True
    else:
        crashed = False
    consume(log, checkpoint, MicroBatchLoader(pipeline, log).process, batch_size)
    return crashed


class CrashingEmbedder:
    """Wraps an embedder and raises :class:`ProcessDied` on call number ``crash_on``
    (counted from 1); every other call goes through. Same identity as the inner one."""

    def __new__(cls, inner: Embedder, crash_on: int) -> Any:
        from course_lib.embeddings.base import Embedder as Base

        class _Crashing(Base):
            def __init__(self) -> None:
                self.identity = inner.identity
                self.calls = 0

            def _embed_batch(self, texts: list[str], batch_size: int) -> Any:
                self.calls += 1
                if self.calls == crash_on:
                    raise ProcessDied(f"the process died while embedding (call {crash_on})")
                return inner.embed(texts, batch_size=batch_size)

            def count_tokens(self, text: str) -> int:
                return inner.count_tokens(text)

        return _Crashing()


# --- the backfill, seen by a reader ------------------------------------------------------------


def _reader(open_index: Callable[[], Any]) -> tuple[int, str]:
    """What a reader gets now: the documents it can find, and the chunking behind them."""
    try:
        index = open_index()
    except Exception:  # the index file is being rebuilt: nothing to read
        return 0, "none"
    with index:
        return len(index.document_ids()), str(dict(index.chunking_options))


def reader_views(
    pipeline: HandbookPipeline,
    source: Path,
    in_place: Path,
    *,
    batch_size: int = 20,
    **options: int,
) -> pd.DataFrame:
    """A reader's view after each batch of two rebuilds with the chunking ``options``: one
    in place (the tutorial's), one as a new version behind the alias (the pipeline's)."""
    import pandas as pd

    from course_lib.pipelines import read_source
    from course_lib.rag import HandbookIndex

    split = pipeline.validate(read_source(source))
    from course_lib.pipelines import record_document

    docs = [record_document(row) for row in split.valid.to_dict(orient="records")]
    live = pipeline.place.index_path(pipeline.live_name())
    shutil.copyfile(live, in_place)  # the tutorial's single index, as the live version holds it
    rows = []

    def in_place_steps() -> Iterator[None]:
        index = None
        for start in range(0, len(docs), batch_size):
            batch = docs[start : start + batch_size]
            if index is None:
                chunking: dict[str, Any] = dict(options)
                index = HandbookIndex.build(
                    batch, path=in_place, rebuild=True, embedder=pipeline.embedder, **chunking
                )
            else:
                index.upsert(batch, delete_missing=False)
            yield None
        if index is not None:
            index.close()

    open_in_place = lambda: HandbookIndex.open(in_place, embedder=pipeline.embedder)  # noqa: E731
    for step, _ in enumerate(in_place_steps(), start=1):
        count, chunking = _reader(open_in_place)
        rows.append({"step": step, "rebuild": "in place", "documents": count, "chunking": chunking})
    steps = pipeline.backfill(source, strategy="headings", batch_size=batch_size, **options)
    for step, backfill in enumerate(steps, start=1):
        count, chunking = _reader(pipeline.open_live)
        rows.append(
            {
                "step": step,
                "rebuild": "new version + alias",
                "documents": count,
                "chunking": chunking,
                "live": backfill.live,
            }
        )
    return pd.DataFrame(rows)


def plot_reader_views(views: pd.DataFrame, total: int) -> Figure:
    """Documents a reader finds after each step of both rebuilds."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    figure, axis = plt.subplots(figsize=(7, 2.8))
    for (name, group), style in zip(
        views.groupby("rebuild", sort=False), ("o-", "s--"), strict=False
    ):
        axis.plot(group["step"], group["documents"], style, label=name)
    axis.axhline(total, color="grey", linewidth=0.8, linestyle=":")
    switched = views[views["rebuild"] != "in place"].tail(1)  # the last step: the switch
    for _, row in switched.iterrows():
        axis.annotate("alias switched", (row["step"], row["documents"]), xytext=(-90, -30),
                      textcoords="offset points", arrowprops={"arrowstyle": "->"})  # fmt: skip
    axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    axis.set_xlabel("step of the rebuild (a reader queries after each batch)")
    axis.set_ylabel("documents a reader finds")
    axis.set_ylim(0, total * 1.1)
    axis.legend(loc="lower right")
    figure.tight_layout()
    plt.close(figure)
    return figure
