"""The learner's progress record: kept by check(), shown by `course progress`, kept by reset's
question, and never in the way of an answer."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from course_lib.course.checking import all_exercises, check
from course_lib.course.cli import app
from course_lib.course.progress import (
    progress_by_lesson,
    progress_path,
    record_check,
    solved_exercises,
)
from course_lib.settings import get_settings


@pytest.fixture
def work(workspace: Path) -> Path:
    """The fresh work directory of the clean workspace (conftest.py)."""
    return workspace / "work"


def _count_code_lines(*args: object, **kwargs: object) -> object:
    """Lesson 00's first exercise answered right (the course's reference, called through)."""
    reference = next(e for e in all_exercises() if e.id == "00.1").reference
    return reference(*args, **kwargs)


def test_check_records_attempts_and_keeps_a_solve(work: Path) -> None:
    assert solved_exercises() == {}
    assert not check("00.1", lambda source: 0).solved
    assert solved_exercises() == {}
    assert check("00.1", _count_code_lines).solved
    assert not check("00.1", lambda source: 0).solved  # a later experiment does not undo it
    assert solved_exercises() == {"00.1": 3}
    assert progress_path().parent == work


def test_unknown_ids_are_not_recorded(work: Path) -> None:
    check("9.9.9", _count_code_lines)
    assert not progress_path().exists() or solved_exercises() == {}


def test_the_record_survives_a_new_process_view(work: Path) -> None:
    record_check("2.1.1", True)
    get_settings.cache_clear()  # a kernel restart rebuilds the settings
    assert solved_exercises() == {"2.1.1": 1}


def test_progress_groups_exercises_by_lesson_in_course_order(work: Path) -> None:
    record_check("2.1.2", True)
    lessons = progress_by_lesson(["00.1", "2.1.1", "2.1.2", "2.1.3"])
    assert [(p.lesson, p.solved, p.remaining) for p in lessons] == [
        ("00", (), ("00.1",)),
        ("2.1", ("2.1.2",), ("2.1.1", "2.1.3")),
    ]


def test_a_record_that_cannot_be_written_does_not_break_check(
    work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocked = work.parent / "a-file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("COURSE_WORK_DIR", str(blocked))
    get_settings.cache_clear()
    assert check("00.1", _count_code_lines).solved
    assert record_check("00.1", True) is False


def test_course_progress_lists_what_is_left(work: Path) -> None:
    record_check("00.1", True)
    result = CliRunner().invoke(app, ["progress"])
    assert result.exit_code == 0, result.output
    total = len(all_exercises())
    assert result.output.splitlines()[0].startswith(f"1 of {total} exercises solved")
    assert "  00   1/2  to do: 00.2" in result.output
    assert "to do: 2.1.1" in result.output


def test_a_damaged_record_gets_one_clear_line(work: Path) -> None:
    work.mkdir(parents=True)
    (work / "progress.sqlite").write_text("this is not a database")
    result = CliRunner().invoke(app, ["progress"])
    assert result.exit_code == 1
    assert result.stderr.strip().startswith("error: ")
    assert "course reset" in result.stderr
    assert "Traceback" not in result.output


def test_reset_says_what_progress_it_would_delete_and_keeps_it_on_no(work: Path) -> None:
    record_check("00.1", True)
    record_check("1.1.1", True)
    result = CliRunner().invoke(app, ["reset"], input="n\n")
    assert "including your record of 2 solved exercises" in result.output
    assert result.exit_code != 0
    assert solved_exercises() == {"00.1": 1, "1.1.1": 1}
    assert CliRunner().invoke(app, ["reset", "--yes"]).exit_code == 0
    assert solved_exercises() == {}


def test_progress_table_for_a_notebook_cell(work: Path) -> None:
    from course_lib.course import progress_table

    record_check("00.2", True)
    table = progress_table()
    assert table.loc["00", "solved"] == "1/2"
    assert table.loc["00", "to do"] == "00.1"
    assert table.loc["2.1", "solved"] == "0/3"
