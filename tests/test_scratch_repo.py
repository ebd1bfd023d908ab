"""Tests of Layer 3's throwaway repository: safe folders, a fixed clock, isolated git."""

from __future__ import annotations

from pathlib import Path

import pytest

from course_lib.errors import CourseLibError
from course_lib.labs import ScratchRepo, ScratchRepoError, course_repository


def _story(root: Path) -> ScratchRepo:
    repo = ScratchRepo.create(root, files={"README.md": "# Handbook assistant\n"})
    repo.commit("Start the handbook assistant", add_all=True)
    repo.write(".gitignore", "data/\n.env\n")
    repo.commit("Keep data and secrets out of git", ".gitignore")
    repo.git("tag", "-a", "v0.1.0", "-m", "First release")
    return repo


def test_the_same_commands_give_the_same_commits_anywhere(tmp_path: Path) -> None:
    first = _story(tmp_path / "one")
    second = _story(tmp_path / "elsewhere" / "two")
    assert first.log("--decorate") == second.log("--decorate")
    assert first.git("rev-parse", "v0.1.0") == second.git("rev-parse", "v0.1.0")
    assert first.commits == 2


def test_commits_advance_an_hour_each_on_the_fixed_clock(tmp_path: Path) -> None:
    repo = _story(tmp_path / "repo")
    dates = repo.git("log", "--format=%aI %an <%ae>").splitlines()
    assert dates == [
        "2026-11-02T10:00:00+00:00 Course Learner <learner@kestrel.example>",
        "2026-11-02T09:00:00+00:00 Course Learner <learner@kestrel.example>",
    ]


def test_the_learners_git_configuration_does_not_leak_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / ".gitconfig").write_text("[user]\n\tname = Someone Else\n[commit]\n\tgpgsign = true\n")
    monkeypatch.setenv("HOME", str(home))
    repo = _story(tmp_path / "repo")
    assert repo.git("log", "-1", "--format=%an") == "Course Learner"
    assert repo.git("symbolic-ref", "--short", "HEAD") == "main"


def test_check_ignore_answers_are_not_failures(tmp_path: Path) -> None:
    repo = _story(tmp_path / "repo")
    assert repo.git("check-ignore", "data/train.csv", ok=(0, 1)) == "data/train.csv"
    assert repo.git("check-ignore", "src/app.py", ok=(0, 1)) == ""


def test_a_failing_command_quotes_git(tmp_path: Path) -> None:
    repo = _story(tmp_path / "repo")
    with pytest.raises(ScratchRepoError, match="exit code 1:") as caught:
        repo.git("checkout", "no-such-branch")
    assert isinstance(caught.value, CourseLibError)
    assert str(tmp_path) not in str(caught.value)


def test_transcript_shows_commands_as_typed_with_short_paths(tmp_path: Path) -> None:
    repo = _story(tmp_path / "repo")
    repo.git("commit", "--allow-empty", "-q", "-m", "An empty commit")
    shown = repo.transcript()
    assert shown.startswith("$ git init -b main\n$ git add -A\n")
    assert '$ git commit --allow-empty -q -m "An empty commit"' in shown
    assert "rev-parse" not in shown
    assert str(tmp_path) not in repo.transcript(outputs=True)


def test_recreating_replaces_only_a_scratch_repository(tmp_path: Path) -> None:
    _story(tmp_path / "repo")
    again = ScratchRepo.create(tmp_path / "repo")
    assert again.files() == []
    foreign = tmp_path / "notes"
    foreign.mkdir()
    (foreign / "mine.txt").write_text("keep me")
    with pytest.raises(ScratchRepoError, match="no lesson made"):
        ScratchRepo.create(foreign)
    assert (foreign / "mine.txt").read_text() == "keep me"


def test_the_course_repository_is_refused() -> None:
    course = course_repository()
    if course is None:
        pytest.skip("course_lib is installed, not a checkout")
    with pytest.raises(ScratchRepoError, match="course's own repository"):
        ScratchRepo.create(course / "scratch")
    assert not (course / "scratch").exists()


def test_paths_outside_the_repository_are_refused(tmp_path: Path) -> None:
    repo = ScratchRepo.create(tmp_path / "repo")
    with pytest.raises(ScratchRepoError, match="outside the scratch repository"):
        repo.write("../escape.txt", "no")
    assert not (tmp_path / "escape.txt").exists()


def test_environment_tools_are_found_first(tmp_path: Path) -> None:
    repo = ScratchRepo.create(tmp_path / "repo")
    step = repo.run("detect-secrets", "--version")
    assert step.returncode == 0 and step.output.strip()
