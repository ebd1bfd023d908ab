"""Tests of lesson 3.1's lab: the tutorial's project, notebook diffs, clones, ignore rules,
the largest blobs of a history and release tags."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from course_lib.errors import CourseLibError
from course_lib.labs import ScratchRepo
from course_lib.labs.version_control_lab import (
    KEEP_IN,
    KEEP_OUT,
    TUTORIAL_MODEL,
    TUTORIAL_NOTEBOOK,
    VersionControlLabError,
    clone_objects_size,
    diff_size,
    explore_notebook,
    ignore_report,
    largest_blobs,
    mask_value,
    merge,
    notebook_diffs,
    parse_manifest,
    save_notebook,
    tag_release,
    tutorial_project,
    write_project_files,
)


def test_the_project_is_the_same_for_a_seed_and_its_key_is_never_in_clear() -> None:
    one = tutorial_project(model_bytes=1000, seed=3)
    assert one == tutorial_project(model_bytes=1000, seed=3)
    assert one[TUTORIAL_MODEL] != tutorial_project(model_bytes=1000, seed=4)[TUTORIAL_MODEL]
    assert len(one[TUTORIAL_MODEL]) == 1000
    key = one[".env"].decode().strip().partition("=")[2]
    assert key.startswith("sk-") and len(key) > 20
    shown = mask_value(key)
    assert shown.startswith("sk-") and key[8:] not in shown and len(shown) == len(key)
    with pytest.raises(VersionControlLabError):
        tutorial_project(model_bytes=0)


def test_the_notebook_is_valid_json_and_a_rerun_changes_what_a_rerun_changes() -> None:
    first = json.loads(explore_notebook(chunk_size=384, run=1))
    again = json.loads(explore_notebook(chunk_size=384, run=1))
    second = json.loads(explore_notebook(chunk_size=256, run=2))
    assert first == again
    assert first["cells"][2]["source"] != second["cells"][2]["source"]
    assert first["cells"][1]["source"] == second["cells"][1]["source"]
    assert first["cells"][4]["outputs"] != second["cells"][4]["outputs"]
    png = first["cells"][4]["outputs"][0]["data"]["image/png"]
    import base64

    assert base64.b64decode(png).startswith(b"\x89PNG\r\n\x1a\n")
    with pytest.raises(VersionControlLabError):
        explore_notebook(chunk_size=0, run=1)


def test_diff_size_counts_changed_lines_not_headers() -> None:
    diff = "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-old\n+new line\n context\n"
    assert diff_size(diff).lines == 2
    assert diff_size(diff).chars == len("-old") + len("+new line")


def test_a_rerun_notebook_diff_is_smaller_with_nbdime(tmp_path: Path) -> None:
    repo = ScratchRepo.create(tmp_path / "repo")
    save_notebook(repo, TUTORIAL_NOTEBOOK, explore_notebook(chunk_size=384, run=1))
    repo.commit("notebook", add_all=True)
    save_notebook(repo, TUTORIAL_NOTEBOOK, explore_notebook(chunk_size=256, run=2))
    sizes = notebook_diffs(repo)
    assert sizes["nbdiff"].chars < sizes["git diff"].chars / 10
    assert sizes["git diff"].lines > 0


def test_a_deleted_file_stays_in_every_clone(tmp_path: Path) -> None:
    repo = ScratchRepo.create(tmp_path / "repo", files={"README.md": "# x\n"})
    repo.write_bytes("models/w.bin", __import__("random").Random(0).randbytes(200_000))
    repo.commit("add", add_all=True)
    repo.git("rm", "-q", "models/w.bin")
    repo.commit("remove")
    size = clone_objects_size(repo, "clone")
    assert size > 200_000
    assert clone_objects_size(repo, "clone") == size  # a second clone replaces the first
    (tmp_path / "mine").mkdir()
    with pytest.raises(CourseLibError, match="no lesson made it"):
        clone_objects_size(repo, "mine")
    with pytest.raises(VersionControlLabError):
        clone_objects_size(repo, "../escape")


def test_ignore_report_uses_git_check_ignore() -> None:
    folder = ("lesson_3_1_tests", "check")
    report = ignore_report(
        "data/\n", ["data/x.csv", ".env"], ["tests/data/f.csv", "src/a.py"], folder=folder
    )
    assert report.tracked_but_should_not_be == (".env",)
    assert report.ignored_but_should_not_be == ("tests/data/f.csv",)
    assert report.passed == 2 and not report.ok
    assert "would be committed: .env" in str(report)
    with pytest.raises(VersionControlLabError, match="str"):
        ignore_report(["data/"], folder=folder)  # type: ignore[arg-type]


def test_the_reference_gitignore_sorts_the_visible_lists() -> None:
    from course_lib.course.exercises.lesson_3_1 import GITIGNORE

    report = ignore_report(GITIGNORE, KEEP_OUT, KEEP_IN, folder=("lesson_3_1_tests", "check"))
    assert report.ok, str(report)


def test_largest_blobs_sees_deleted_files_branches_and_tags(tmp_path: Path) -> None:
    repo = ScratchRepo.create(tmp_path / "repo", files={"a.txt": "a" * 10})
    repo.write("big.txt", "b" * 5000)
    repo.commit("start", add_all=True)
    repo.git("rm", "-q", "big.txt")
    repo.commit("remove")
    repo.git("switch", "-q", "-c", "side")
    repo.write("side.txt", "s" * 3000)
    repo.commit("side", "side.txt")
    repo.git("switch", "-q", "main")
    assert largest_blobs(repo, 2) == [("big.txt", 5000), ("side.txt", 3000)]
    with pytest.raises(VersionControlLabError):
        largest_blobs(repo, 0)
    assert largest_blobs(ScratchRepo.create(tmp_path / "empty"), 3) == []


def test_tag_release_pins_bytes_and_refuses_a_dirty_tree(tmp_path: Path) -> None:
    repo = ScratchRepo.create(
        tmp_path / "repo", files={".gitignore": "/data/\n", "app.py": "x = 1\n"}
    )
    repo.write_bytes("data/d.csv", b"a,b\r\n1,2\r\n")
    repo.commit("start", add_all=True)
    manifest = tag_release(repo, "v1", data_file="data/d.csv", prompt_version="p@1", model="m")
    assert manifest["data_sha256"] == hashlib.sha256(b"a,b\r\n1,2\r\n").hexdigest()
    assert repo.git("cat-file", "-t", "v1") == "tag"
    message = repo.git("tag", "--list", "--format=%(contents)", "v1")
    assert parse_manifest(message) == manifest
    repo.write("app.py", "x = 2\n")
    with pytest.raises(ValueError, match="Commit"):
        tag_release(repo, "v2", data_file="data/d.csv", prompt_version="p@1", model="m")
    assert "v2" not in repo.git("tag", "--list").split()


def test_write_project_files_writes_text_and_bytes(tmp_path: Path) -> None:
    repo = ScratchRepo.create(tmp_path / "repo")
    assert write_project_files(repo, {"b.bin": b"\x00\x01", "a.txt": "hi\n"}) == ["a.txt", "b.bin"]
    assert repo.read("a.txt") == "hi\n" and repo.file("b.bin").read_bytes() == b"\x00\x01"


def test_merge_makes_a_merge_commit_on_the_clock_and_deletes_the_branch(tmp_path: Path) -> None:
    repo = ScratchRepo.create(tmp_path / "repo", files={"README.md": "# x\n"})
    repo.commit("start", add_all=True)
    repo.git("switch", "-q", "-c", "exp/one")
    repo.write("README.md", "# y\n")
    repo.commit("Experiment", "README.md")
    repo.git("switch", "-q", "main")
    merged = merge(repo, "exp/one", "Merge the experiment")
    assert merged == repo.head()
    assert repo.git("log", "-1", "--format=%P").split().__len__() == 2
    dates = repo.git("log", "--format=%ad", "--date=iso-strict").split()
    assert len(set(dates)) == 3  # the merge took the next hour, after the experiment's
    assert "exp/one" not in repo.git("branch", "--list")
    with pytest.raises(VersionControlLabError):
        merge(repo, "--all", "x")
