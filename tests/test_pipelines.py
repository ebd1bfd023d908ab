"""The handbook pipeline: parsing that never raises, named rules, quarantine, incremental and
idempotent loads, versioned rebuilds behind an alias, micro-batches that survive a crash.

Every behaviour that touches storage runs on both sides (a SQLite folder and Postgres with
pgvector) through the ``place`` fixture, so a difference between them fails a test.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from course_lib.datasets.handbook import HANDBOOK_DIR
from course_lib.embeddings import get_embedder
from course_lib.embeddings.base import Embedder
from course_lib.errors import EngineUnavailableError, IndexNotFoundError
from course_lib.pipelines import (
    MAX_BYTES,
    MIN_WORDS,
    Checkpoint,
    CountingEmbedder,
    EventLog,
    HandbookPipeline,
    IndexCatalogue,
    MicroBatchLoader,
    PipelinePlace,
    plan_load,
    read_record,
    read_source,
    record_schema,
    records_frame,
    split_records,
)

TEAMS = ["data", "it", "people", "platform", "security", "sre"]
GOOD = (
    "---\nid: {id}\ntitle: A page about {id}\nteam: sre\nversion: 1\nupdated: 2026-01-05\n"
    "access: internal\n---\n# Page {id}\n\n" + "Words about depots and parcels and rotas. " * 12
)


def _good(doc_id: str) -> str:
    return GOOD.format(id=doc_id)


@pytest.fixture(params=["sqlite", "postgres"])
def place(request: pytest.FixtureRequest, tmp_path: Path) -> PipelinePlace:
    """A pipeline's place on each side; on Postgres a namespace of its own."""
    namespace = f"t{uuid.uuid4().hex[:10]}"
    if request.param == "sqlite":
        return PipelinePlace(tmp_path / "pipeline", namespace=namespace)
    return PipelinePlace(request.getfixturevalue("postgres_url"), namespace=namespace)


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """A source folder with eight handbook pages."""
    folder = tmp_path / "source"
    folder.mkdir()
    for path in sorted((HANDBOOK_DIR / "current").glob("*.md"))[:8]:
        shutil.copyfile(path, folder / path.name)
    return folder


def _teams() -> list[str]:
    from course_lib.datasets import load_handbook

    return sorted({d.team for d in load_handbook()})


# --- extract and transform ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("café".encode("latin-1"), "not UTF-8"),
        (b"# No front matter\n\nText.\n", "no front matter"),
        (b"---\nid: x\ntitle: [unclosed\n---\nText\n", "not valid YAML"),
        (b"---\n- a list\n---\nText\n", "not a mapping"),
    ],
)
def test_a_file_that_cannot_be_parsed_becomes_a_record_with_a_problem(
    raw: bytes, problem: str
) -> None:
    record = read_record("x.md", raw)
    assert record.problem is not None and problem in record.problem
    assert record.text is None and record.size_bytes == len(raw)


def test_dates_stay_text_so_a_bad_date_is_a_value_not_an_exception() -> None:
    record = read_record("x.md", _good("x").replace("2026-01-05", "2026-13-01").encode())
    assert record.problem is None and record.fields["updated"] == "2026-13-01"
    good = read_record("x.md", _good("x").encode())
    assert good.fields["updated"] == "2026-01-05"


def test_values_keep_their_python_type_in_the_table() -> None:
    """A stray 1.5 must not turn every other version into a float."""
    records = [
        read_record("a.md", _good("a").encode()),
        read_record("b.md", _good("b").replace("version: 1", "version: 1.5").encode()),
    ]
    frame = records_frame(records)
    assert [type(v) for v in frame["version"]] == [int, float]
    assert frame["words"].dtype == np.int64


# --- validate ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (lambda t: t.replace("team: sre", "team: SRE"), "team is a known team"),
        (lambda t: t.replace("access: internal", "access: secret"), "access is public"),
        (lambda t: t.replace("version: 1", "version: two"), "version is a whole number"),
        (lambda t: t.replace("version: 1", "version: 0"), "version is a whole number"),
        (lambda t: t.replace("2026-01-05", "yesterday"), "updated is a YYYY-MM-DD date"),
        (lambda t: t.replace("2026-01-05", "2026-02-30"), "updated is a YYYY-MM-DD date"),
        (lambda t: t.replace("access: internal\n", ""), "access is missing"),
        (lambda t: t[: t.index("# Page")] + "# Draft\n", "body has 20+ words"),
        (lambda t: t + "log line\n" * 30_000, "file is at most"),
        (lambda t: t.replace("id: x", "id: y"), "id equals the file name"),
        (lambda t: t.replace("id: x", "id: X"), "id is lower-case-with-hyphens"),
    ],
)
def test_each_rule_rejects_its_bad_record_with_a_reason(edit: Any, reason: str) -> None:
    good = read_record("good.md", _good("good").encode())
    bad = read_record("x.md", edit(_good("x")).encode())
    split = split_records(records_frame([good, bad]), record_schema(TEAMS))
    assert list(split.valid["file"]) == ["good.md"]
    assert list(split.rejected["file"]) == ["x.md"]
    assert reason in split.rejected["reasons"].iloc[0]


def test_a_record_failing_several_rules_gets_every_reason() -> None:
    text = _good("x").replace("team: sre", "team: SRE").replace("version: 1", "version: 0")
    split = split_records(records_frame([read_record("x.md", text.encode())]), record_schema(TEAMS))
    reasons = split.rejected["reasons"].iloc[0]
    assert "team" in reasons and "version" in reasons


def test_the_course_schema_accepts_the_whole_handbook() -> None:
    frame = records_frame(read_source(HANDBOOK_DIR / "current"))
    split = split_records(frame, record_schema(_teams()))
    assert len(split.valid) == 120 and split.rejected.empty


def test_the_default_limits_leave_a_wide_margin_around_the_handbook() -> None:
    """A good page is far inside both limits: a new page slightly longer or shorter than the
    current ones still loads; only a pasted log or an empty page is quarantined."""
    frame = records_frame(read_source(HANDBOOK_DIR / "current"))
    assert int(frame["size_bytes"].max()) * 10 <= MAX_BYTES
    assert int(frame["words"].min()) >= 5 * MIN_WORDS


# --- the load plan -----------------------------------------------------------------------------


def test_the_plan_loads_what_changed_and_deletes_only_what_is_gone() -> None:
    loaded = {"a": "1", "b": "2", "c": "3", "d": "4"}
    incoming = {"a": "1", "b": "2-edited", "e": "5"}
    plan = plan_load(loaded, incoming, present={"a", "b", "c", "e"})
    assert plan.upsert == ["b", "e"]
    assert plan.delete == ["d"]  # c's file is there (quarantined): it keeps its old version
    assert plan.unchanged == 1


# --- the pipeline, on both sides ---------------------------------------------------------------


def test_a_rerun_embeds_nothing_and_keeps_the_fingerprint(
    place: PipelinePlace, source: Path
) -> None:
    counting = CountingEmbedder(get_embedder())
    pipeline = HandbookPipeline(place, teams=_teams(), embedder=counting)
    first = pipeline.run(source)
    assert first.embedded_texts == counting.count == first.chunks > 0
    counting.reset()
    again = pipeline.run(source)
    assert counting.count == again.embedded_texts == again.upserted == 0
    assert again.fingerprint == first.fingerprint == pipeline.fingerprint()
    assert again.run == first.run + 1


def test_a_drop_quarantines_bad_files_and_loads_only_what_changed(
    place: PipelinePlace, source: Path
) -> None:
    counting = CountingEmbedder(get_embedder())
    pipeline = HandbookPipeline(place, teams=_teams(), embedder=counting)
    pipeline.run(source)
    files = sorted(source.glob("*.md"))
    edited, broken, gone = files[0], files[1], files[2]
    edited.write_text(edited.read_text() + "\nA brand-new closing sentence about kettles.\n")
    broken.write_text(broken.read_text().replace("\nteam: ", "\nteam: nobody-", 1))
    gone.unlink()
    (source / "new-page.md").write_text(_good("new-page"))
    (source / "bad-page.md").write_bytes("café".encode("latin-1"))
    counting.reset()
    report = pipeline.run(source)
    assert (report.upserted, report.deleted, report.quarantined) == (2, 1, 2)
    assert all("kettles" in t or "depots" in t for t in counting.texts)
    with pipeline.open_live() as index:
        ids = index.document_ids()
    assert broken.stem in ids, "a bad new version must keep the good old one"
    assert gone.stem not in ids and "new-page" in ids
    quarantined = pipeline.quarantine.frame()
    assert set(quarantined["file"]) == {broken.name, "bad-page.md"}
    again = pipeline.run(source)
    assert again.newly_quarantined == 0 and len(pipeline.quarantine) == 2
    assert again.fingerprint == report.fingerprint


def test_sqlite_and_postgres_hold_the_same_index(
    tmp_path: Path, source: Path, postgres_url: str
) -> None:
    namespace = f"t{uuid.uuid4().hex[:10]}"
    sides = [PipelinePlace(tmp_path / "p", namespace=namespace)]
    sides.append(PipelinePlace(postgres_url, namespace=namespace))
    reports = [HandbookPipeline(side, teams=_teams()).run(source) for side in sides]
    assert reports[0] == reports[1]


# --- versions behind an alias ------------------------------------------------------------------


def test_readers_see_the_old_version_until_the_switch(place: PipelinePlace, source: Path) -> None:
    pipeline = HandbookPipeline(place, teams=_teams())
    pipeline.run(source)
    old = pipeline.fingerprint()
    steps = pipeline.backfill(source, strategy="headings", batch_size=3, max_tokens=256)
    seen = []
    for step in steps:
        with pipeline.open_live() as index:
            seen.append(
                (step.switched, index.chunking_options["max_tokens"], len(index.document_ids()))
            )
    assert all(count == 8 for _, _, count in seen)
    assert [tokens for switched, tokens, _ in seen if not switched] == [384, 384, 384]
    assert seen[-1][:2] == (True, 256)
    assert pipeline.live_name() == place.version_name(2)
    assert pipeline.fingerprint() != old
    versions = pipeline.catalogue.versions(place.namespace)
    assert [(v.version, v.state, v.live) for v in versions] == [
        (1, "ready", False),
        (2, "ready", True),
    ]


def test_an_unfinished_backfill_leaves_readers_alone(place: PipelinePlace, source: Path) -> None:
    pipeline = HandbookPipeline(place, teams=_teams())
    pipeline.run(source)
    steps = pipeline.backfill(source, strategy="headings", batch_size=3, max_tokens=256)
    next(steps)
    steps.close()  # the job died
    assert pipeline.live_name() == place.version_name(1)
    catalogue = IndexCatalogue(place)
    with pytest.raises(IndexNotFoundError, match="not a complete version"):
        catalogue.switch(place.namespace, place.version_name(2))


def test_the_alias_points_nowhere_before_the_first_run(place: PipelinePlace) -> None:
    with pytest.raises(IndexNotFoundError, match="run the pipeline once"):
        IndexCatalogue(place).live(place.namespace)


# --- micro-batches -----------------------------------------------------------------------------


class _DiesOnCall(Embedder):
    def __init__(self, inner: Embedder, call: int) -> None:
        self.inner, self.identity, self.call, self.calls = inner, inner.identity, call, 0

    def _embed_batch(self, texts: list[str], batch_size: int) -> Any:
        self.calls += 1
        if self.calls == self.call:
            raise RuntimeError("the process died")
        return self.inner.embed(texts, batch_size=batch_size)

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)


def _events(source: Path) -> list[tuple[str, str, str | None]]:
    files = sorted(source.glob("*.md"))
    return [
        ("created", "note-a", _good("note-a")),
        ("updated", files[0].stem, files[0].read_text() + "\nEdited once.\n"),
        ("deleted", files[1].stem, None),
        ("created", "note-b", _good("note-b").replace("team: sre", "team: SRE")),
        ("updated", "note-a", _good("note-a") + "\nEdited.\n"),
        ("created", "note-c", _good("note-c")),
        ("deleted", "note-c", None),
    ]


def test_a_crash_and_restart_loses_and_repeats_nothing(
    place: PipelinePlace, source: Path, tmp_path: Path
) -> None:
    clean_place = PipelinePlace(tmp_path / "clean", namespace="c" + place.namespace[1:])
    results = []
    for where, dies in ((clean_place, None), (place, 2)):
        pipeline = HandbookPipeline(where, teams=_teams())
        pipeline.run(source)
        log = EventLog(where)
        log.append(_events(source))
        if dies is not None:
            dying = HandbookPipeline(
                where, teams=_teams(), embedder=_DiesOnCall(get_embedder(), dies)
            )
            with pytest.raises(RuntimeError, match="died"):
                MicroBatchLoader(dying, log, batch_size=2).run()
            assert 0 < Checkpoint(where).read() < 7  # the batches before the crash
        report = MicroBatchLoader(pipeline, log, batch_size=2).run()
        assert report.next_seq == len(log) == 7
        with pipeline.open_live() as index:
            ids = set(index.document_ids())
        assert "note-a" in ids and "note-b" not in ids and "note-c" not in ids
        results.append(pipeline.fingerprint())
    assert results[0] == results[1]


def test_the_event_log_refuses_malformed_events(place: PipelinePlace) -> None:
    log = EventLog(place)
    with pytest.raises(ValueError, match="not one of"):
        log.append([("renamed", "a", "text")])
    with pytest.raises(ValueError, match="needs the file's text"):
        log.append([("created", "a", None)])
    with pytest.raises(ValueError, match="needs no body"):
        log.append([("deleted", "a", "text")])
    assert len(log) == 0


# --- bad input gets a clear error ---------------------------------------------------------------


def test_bad_arguments_say_what_to_pass(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="namespace is a lower-case identifier"):
        PipelinePlace(tmp_path, namespace="Hand Book")
    with pytest.raises(TypeError, match="folder or a postgresql"):
        PipelinePlace(None, namespace="x")  # type: ignore[arg-type]
    with pytest.raises(FileNotFoundError, match="No source folder"):
        read_source(tmp_path / "missing")
    with pytest.raises(ValueError, match="known teams"):
        record_schema("sre")
    with pytest.raises(ValueError, match="lacks"):
        split_records(records_frame([]).drop(columns=["problem"]), record_schema(TEAMS))
    with pytest.raises(ValueError, match="known teams"):
        HandbookPipeline(PipelinePlace(tmp_path, namespace="x"))
    with pytest.raises(TypeError, match="PipelinePlace"):
        HandbookPipeline(tmp_path, teams=TEAMS)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="bytes"):
        read_record("x.md", "text")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="batch_size"):
        MicroBatchLoader(
            HandbookPipeline(PipelinePlace(tmp_path, namespace="x"), teams=TEAMS),
            EventLog(PipelinePlace(tmp_path, namespace="x")),
            batch_size=0,
        )


def test_an_unreachable_postgres_names_the_fix() -> None:
    pytest.importorskip("psycopg", reason="the engines extra is not installed")
    place = PipelinePlace("postgresql://u:hunter2@127.0.0.1:1/db", namespace="x")
    with pytest.raises(EngineUnavailableError) as caught:
        place.connect()
    assert "./run services up" in str(caught.value) and "hunter2" not in str(caught.value)
