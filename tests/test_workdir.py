"""The work directory: created on demand, emptied by reset, never someone else's folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from course_lib.errors import WorkDirError
from course_lib.settings import load_settings
from course_lib.workdir import MARKER_FILE, ensure_work_dir, reset_work_dir, work_path


def _settings(path: Path):
    return load_settings({"work_dir": str(path)}, config_file=None)


def test_created_with_marker_and_reset_keeps_it(tmp_path: Path) -> None:
    settings = _settings(tmp_path / "work")
    root = ensure_work_dir(settings)
    assert (root / MARKER_FILE).is_file()
    index = work_path("indexes", "handbook.sqlite", settings=settings)
    index.write_text("x")
    (root / "cache.db").write_text("y")
    assert reset_work_dir(settings) == 2
    assert [p.name for p in root.iterdir()] == [MARKER_FILE]


def test_reset_of_missing_dir_is_a_no_op(tmp_path: Path) -> None:
    assert reset_work_dir(_settings(tmp_path / "never-made")) == 0


def test_refuses_a_folder_it_did_not_create(tmp_path: Path) -> None:
    """A mistyped COURSE_WORK_DIR must never wipe someone's files."""
    folder = tmp_path / "documents"
    folder.mkdir()
    (folder / "thesis.tex").write_text("precious")
    with pytest.raises(WorkDirError, match="did not create"):
        reset_work_dir(_settings(folder))
    with pytest.raises(WorkDirError, match="did not create") as caught:
        ensure_work_dir(_settings(folder))
    assert "writable" not in str(caught.value)  # one message, not wrapped in another
    assert (folder / "thesis.tex").exists()


def test_refuses_a_repository(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    with pytest.raises(WorkDirError, match="repository"):
        reset_work_dir(_settings(tmp_path))


def test_work_path_cannot_escape(tmp_path: Path) -> None:
    with pytest.raises(WorkDirError, match="outside the course work directory"):
        work_path("..", "elsewhere.txt", settings=_settings(tmp_path / "work"))
