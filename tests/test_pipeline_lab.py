"""Lesson 4.3's lab: drops are seeded and hold every bad kind, the prototype fails as the lesson
says, the stream's expected outcome is reached by a crash-safe consumer and missed by a naive
one, and the reader's view of the two rebuilds is what the figure shows."""

from __future__ import annotations

from pathlib import Path

import pytest

from course_lib.embeddings import get_embedder
from course_lib.labs.pipeline_lab import (
    BAD_KINDS,
    ProcessDied,
    consume_checkpoint_first,
    copy_handbook,
    crash_and_restart,
    document_events,
    drop_records,
    expected_documents,
    handbook_teams,
    prototype_ingest,
    reader_views,
    score_rules,
    stream_outcome,
    write_drop,
)
from course_lib.pipelines import HandbookPipeline, PipelinePlace, record_schema


def test_a_drop_is_seeded_and_holds_every_bad_kind(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    for folder in (first, second):
        copy_handbook(folder, limit=20)
    drop = write_drop(first, 3)
    assert write_drop(second, 3) == drop
    assert sorted(drop.bad.values()) == sorted(BAD_KINDS)
    assert (len(drop.new), len(drop.changed), len(drop.deleted)) == (3, 4, 2)
    assert all((first / name).read_bytes() == (second / name).read_bytes() for name in drop.bad)


def test_the_course_rules_score_perfectly_on_the_lessons_drop_and_held_out_ones() -> None:
    from course_lib.course.exercises.lesson_4_3 import HELD_OUT_SEEDS

    score = score_rules(record_schema(handbook_teams()), (0, *HELD_OUT_SEEDS))
    assert score.caught == score.bad > 0 and score.rejected_good == 0


def test_drop_records_marks_only_parseable_bad_files() -> None:
    frame, bad = drop_records(0)
    assert set(bad) <= set(frame["file"]) and frame["problem"].isna().all()
    assert "bad encoding" not in bad.values()


def test_the_prototype_duplicates_on_a_rerun_and_crashes_on_a_bad_file(tmp_path: Path) -> None:
    source = tmp_path / "source"
    copy_handbook(source, limit=6)
    db = tmp_path / "proto.sqlite"
    first = prototype_ingest(source, db, get_embedder())
    second = prototype_ingest(source, db, get_embedder())
    assert second.rows_in_table == 2 * first.rows_in_table and first.crashed_on is None
    (source / "aaa-broken.md").write_bytes("café".encode("latin-1"))
    crashed = prototype_ingest(source, db, get_embedder())
    assert crashed.crashed_on == "aaa-broken.md" and crashed.rows_inserted == 0


def _consume(log, checkpoint, load, batch_size):  # type: ignore[no-untyped-def]
    while batch := log.read(checkpoint.read(), batch_size):
        load(batch)
        checkpoint.write(batch[-1].seq + 1)


@pytest.mark.parametrize(("consume", "lost"), [(_consume, False), (consume_checkpoint_first, True)])
def test_only_the_naive_consumer_loses_events(tmp_path: Path, consume, lost: bool) -> None:  # type: ignore[no-untyped-def]
    source = tmp_path / "source"
    copy_handbook(source, limit=10)
    events = document_events(source, 0, count=24)
    assert events == document_events(source, 0, count=24)
    teams = handbook_teams()
    pipeline = HandbookPipeline(PipelinePlace(tmp_path / "p", namespace="s"), teams=teams)
    pipeline.run(source)
    assert crash_and_restart(consume, pipeline, events)
    outcome = stream_outcome(pipeline, expected_documents(source, events, teams))
    assert (outcome["documents lost or stale"] > 0) is lost


def test_a_reader_sees_a_half_built_index_only_when_it_is_rebuilt_in_place(tmp_path: Path) -> None:
    source = tmp_path / "source"
    copy_handbook(source, limit=9)
    pipeline = HandbookPipeline(
        PipelinePlace(tmp_path / "p", namespace="r"), teams=handbook_teams()
    )
    pipeline.run(source)
    views = reader_views(
        pipeline, source, tmp_path / "in_place.sqlite", batch_size=4, max_tokens=256
    )
    in_place = views[views["rebuild"] == "in place"]["documents"].tolist()
    versioned = views[views["rebuild"] != "in place"]["documents"].tolist()
    assert in_place == [4, 8, 9]
    assert versioned == [9, 9, 9, 9]
    assert issubclass(ProcessDied, RuntimeError)
