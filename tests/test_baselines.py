"""The datasheet's baseline retrieval table: current, reproducible, and in the range lessons need.

Later lessons claim improvements over these numbers, so the table must be what the code
computes today, and the golden set must stay hard enough, but not too hard, for plain BM25.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from course_lib.course.cli import app
from course_lib.datasets import load_golden_set, load_handbook
from course_lib.datasets.errors import DatasetError
from course_lib.labs import baselines

BM25_DEV_RECALL_RANGE = (0.5, 0.9)


def _baselines_command(*options: str) -> tuple[int, str]:
    """``course data baselines OPTIONS``: its exit code and what it printed."""
    result = CliRunner().invoke(app, ["data", "baselines", *options])
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def fresh_table() -> str:
    return baselines.baseline_table()


def test_the_datasheet_table_equals_a_fresh_computation() -> None:
    """The ``--check`` path, run for real: what CI runs to catch a stale datasheet."""
    code, output = _baselines_command("--check")
    assert code == 0, output + "Run `course data baselines --write`."
    assert output == "The baseline table in README.md is up to date.\n"


def test_bm25_dev_recall_at_5_is_in_the_range_the_course_needs() -> None:
    frame = baselines.retrieval_baselines("dev", methods=("bm25",))
    overall = frame[frame["type"] == "all"].iloc[0]
    low, high = BM25_DEV_RECALL_RANGE
    assert low <= overall["recall_at_5"] <= high, overall.to_dict()
    assert overall["questions"] == sum(q.answerable for q in load_golden_set("dev"))


def test_the_table_covers_both_splits_methods_and_answerable_types(fresh_table: str) -> None:
    lines = fresh_table.splitlines()
    assert lines[0].startswith("| split | type | questions | BM25 recall@5 | BM25 MRR |")
    rows = [line.strip("| ").split(" | ") for line in lines[2:]]
    assert len(rows) == 2 * 5  # dev and test, "all" plus four answerable types
    assert all(len(row) == 7 for row in rows)
    assert not any("unanswerable" in line for line in lines)
    scores = [float(cell.strip("*")) for row in rows for cell in row[3:]]
    assert all(0.0 <= score <= 1.0 for score in scores)


def test_check_fails_on_a_stale_table_and_write_repairs_it(
    tmp_path: Path, fresh_table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(baselines, "baseline_table", lambda: fresh_table)
    sheet = tmp_path / "README.md"
    stale = f"intro\n\n{baselines.START_MARKER}\n| old |\n{baselines.END_MARKER}\n\noutro\n"
    sheet.write_text(stale, encoding="utf-8")
    code, output = _baselines_command("--check", "--datasheet", str(sheet))
    assert code == 1
    assert "is stale. Run `course data baselines --write`" in output
    code, output = _baselines_command("--write", "--datasheet", str(sheet))
    assert code == 0 and output == f"{fresh_table}\n\nUpdated README.md.\n"
    text = sheet.read_text(encoding="utf-8")
    assert text.startswith("intro\n\n") and text.endswith("\n\noutro\n")
    assert baselines.datasheet_table(sheet) == fresh_table
    assert _baselines_command("--check", "--datasheet", str(sheet))[0] == 0
    assert not baselines.write_table(fresh_table, sheet)  # idempotent


def test_the_command_refuses_check_with_write_and_names_a_missing_marker(
    tmp_path: Path,
) -> None:
    code, output = _baselines_command("--check", "--write")
    assert code == 2 and "error: use --check or --write, not both." in output
    sheet = tmp_path / "README.md"
    sheet.write_text("no table here\n", encoding="utf-8")
    code, output = _baselines_command("--check", "--datasheet", str(sheet))
    assert code == 1 and "error: README.md has no <!-- baselines:start -->" in output


def test_a_datasheet_without_markers_says_how_to_fix_it(tmp_path: Path) -> None:
    sheet = tmp_path / "README.md"
    sheet.write_text("no table here\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="baselines:start"):
        baselines.datasheet_table(sheet)


def test_the_unit_metrics_follow_the_datasheet_definitions() -> None:
    """Sections are units: the top k are k sections, several of one document allowed."""
    from course_lib.evaluation import unit_recall_at_k, unit_reciprocal_rank

    ranked = ["a", "b", "a", "c", "d", "e"]
    assert unit_recall_at_k(ranked, ["a", "e"], k=5) == 0.5
    assert unit_recall_at_k(ranked, ["a", "e"], k=6) == 1.0
    assert unit_reciprocal_rank(ranked, ["c"], depth=10) == pytest.approx(1 / 4)
    assert unit_reciprocal_rank(ranked, ["e"], depth=5) == 0.0
    with pytest.raises(ValueError, match="unanswerable"):
        unit_recall_at_k(ranked, [], k=5)


def test_an_unknown_method_or_split_is_refused() -> None:
    with pytest.raises(DatasetError, match="Unknown retrieval method 'tfidf'"):
        baselines.rankings("tfidf", ["query"])
    with pytest.raises(DatasetError, match="Unknown split"):
        baselines.retrieval_baselines("validation")


def test_retrieval_units_cover_every_document_restricted_included() -> None:
    units = baselines.retrieval_units()
    doc_ids = {unit.doc_id for unit in units}
    assert len(doc_ids) == len(load_handbook())
    restricted = {d.id for d in load_handbook(access=["restricted"])}
    assert restricted <= doc_ids


def test_bm25_retrieves_nothing_for_a_query_without_indexed_terms() -> None:
    units = baselines.retrieval_units()
    empty, unknown, real = baselines.bm25_rankings(units, ["the", "zzzqqq", "on-call allowance"])
    assert empty == [] and unknown == []
    assert 0 < len(real) <= baselines.DEPTH
    assert baselines.bm25_rankings(units, ["on-call allowance"]) == [real]  # deterministic
