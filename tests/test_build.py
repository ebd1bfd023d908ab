"""``course build``: generated notebooks follow their source, and staleness is caught."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest
from typer.testing import CliRunner

from course_lib.course.build import (
    GENERATED_TAG,
    build_lesson,
    expected_notebook,
    find_lessons,
    find_stale_files,
)
from course_lib.course.cli import app

ROOT = Path(__file__).resolve().parents[1]

LESSON_SOURCE = """# %% [markdown]
# # A tiny lesson

# %% tags=["parameters"]
seed = 0

# %%
def double(x):
    # BEGIN SOLUTION
    return 2 * x
    # END SOLUTION

# %% tags=["solution"]
print("a worked answer only the solution shows")
"""


@pytest.fixture
def tiny_repo(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'tiny'\n")
    source = tmp_path / "solutions" / "9_tiny" / "90_tiny.py"
    source.parent.mkdir(parents=True)
    source.write_text(LESSON_SOURCE)
    return tmp_path


def test_the_repository_has_no_stale_generated_notebook() -> None:
    """The gate of the test command: run `course build` after editing a lesson source."""
    stale = find_stale_files(ROOT)
    assert not stale, "\n".join(str(s) for s in stale)


def test_build_writes_both_variants_with_a_generated_notice(tiny_repo: Path) -> None:
    (lesson,) = find_lessons(tiny_repo)
    written = build_lesson(lesson, execute=False)
    assert written == [
        Path("solutions/9_tiny/90_tiny.ipynb"),
        Path("notebooks/9_tiny/90_tiny.ipynb"),
    ]
    solution = nbformat.read(tiny_repo / written[0], as_version=4)
    learner = nbformat.read(tiny_repo / written[1], as_version=4)
    for notebook in (solution, learner):
        first = notebook.cells[0]
        assert GENERATED_TAG in first.metadata["tags"]
        assert "solutions/9_tiny/90_tiny.py" in first.source
        assert "course build solutions/9_tiny/90_tiny.py" in first.source
    assert any("return 2 * x" in c.source for c in solution.cells)
    assert not any("return 2 * x" in c.source for c in learner.cells)
    assert any("NotImplementedError" in c.source for c in learner.cells)
    assert any("worked answer" in c.source for c in solution.cells)
    assert not any("worked answer" in c.source for c in learner.cells)
    # Never paired with a .py: saving a generated notebook in JupyterLab must not rewrite the
    # lesson source (jupytext would add its header and drop the generated notice).
    assert "jupytext" not in solution.metadata
    assert "jupytext" not in learner.metadata


def test_unexecuted_build_is_reported_stale(tiny_repo: Path) -> None:
    (lesson,) = find_lessons(tiny_repo)
    build_lesson(lesson, execute=False)
    reasons = {s.path.as_posix(): s.reason for s in find_stale_files(tiny_repo)}
    assert "never executed" in reasons["notebooks/9_tiny/90_tiny.ipynb"]


def _fresh_copy(tiny_repo: Path) -> Path:
    (lesson,) = find_lessons(tiny_repo)
    build_lesson(lesson, execute=False)
    for path in lesson.outputs():  # pretend they were executed
        notebook = nbformat.read(tiny_repo / path, as_version=4)
        for number, cell in enumerate(c for c in notebook.cells if c.cell_type == "code"):
            cell.execution_count = number + 1
        nbformat.write(notebook, tiny_repo / path)
    assert find_stale_files(tiny_repo) == []
    return tiny_repo


def test_editing_the_source_without_rebuilding_is_caught(tiny_repo: Path) -> None:
    repo = _fresh_copy(tiny_repo)
    source = repo / "solutions/9_tiny/90_tiny.py"
    source.write_text(source.read_text().replace("2 * x", "x + x"))
    stale = find_stale_files(repo)
    assert {s.path.as_posix() for s in stale} == {
        "solutions/9_tiny/90_tiny.ipynb",
        "notebooks/9_tiny/90_tiny.ipynb",
    }
    message = str(stale[0])
    assert "is stale: its source solutions/9_tiny/90_tiny.py changed" in message
    assert "Fix: course build solutions/9_tiny/90_tiny.py" in message


def test_hand_edited_notebook_is_caught(tiny_repo: Path) -> None:
    repo = _fresh_copy(tiny_repo)
    path = repo / "notebooks/9_tiny/90_tiny.ipynb"
    notebook = nbformat.read(path, as_version=4)
    notebook.cells[2].source += "\nprint('edited by hand')"
    nbformat.write(notebook, path)
    (stale,) = find_stale_files(repo)
    assert stale.reason == "its cells were edited by hand"


def test_a_notebook_not_stored_as_jupyter_saves_it_is_caught(tiny_repo: Path) -> None:
    """Ctrl+S in an untouched lesson must write back the same bytes; a notebook stored in
    another JSON layout (sources as one string, say) would be rewritten on the first save."""
    repo = _fresh_copy(tiny_repo)
    path = repo / "notebooks/9_tiny/90_tiny.ipynb"
    notebook = nbformat.read(path, as_version=4)
    path.write_text(json.dumps(notebook, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    (stale,) = find_stale_files(repo)
    assert "not stored as Jupyter saves it" in stale.reason


def test_stored_notebooks_are_what_nbformat_writes(tiny_repo: Path) -> None:
    repo = _fresh_copy(tiny_repo)
    for path in find_lessons(repo)[0].outputs():
        text = (repo / path).read_text(encoding="utf-8")
        assert text == nbformat.writes(nbformat.reads(text, as_version=4)) + "\n"


def test_orphaned_notebook_is_caught(tiny_repo: Path) -> None:
    repo = _fresh_copy(tiny_repo)
    shutil.copy(repo / "notebooks/9_tiny/90_tiny.ipynb", repo / "notebooks/9_tiny/91_gone.ipynb")
    (stale,) = find_stale_files(repo)
    assert stale.path == Path("notebooks/9_tiny/91_gone.ipynb")
    assert "no lesson source generates it" in str(stale)


def test_build_check_command_names_stale_file_and_fix(
    tiny_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _fresh_copy(tiny_repo)
    monkeypatch.chdir(repo)
    runner = CliRunner()
    ok = runner.invoke(app, ["build", "--check"])
    assert ok.exit_code == 0, ok.output
    assert "up to date" in ok.output
    (repo / "solutions/9_tiny/90_tiny.py").write_text(LESSON_SOURCE + "\n# %%\n1 + 1\n")
    result = runner.invoke(app, ["build", "--check"])
    assert result.exit_code == 1
    assert "stale: notebooks/9_tiny/90_tiny.ipynb is stale" in result.output
    assert "Fix: course build solutions/9_tiny/90_tiny.py" in result.output


def test_cell_ids_are_stable(tiny_repo: Path) -> None:
    (lesson,) = find_lessons(tiny_repo)
    first = [c.id for c in expected_notebook(lesson, "learner").cells]
    second = [c.id for c in expected_notebook(lesson, "learner").cells]
    assert first == second and len(set(first)) == len(first)


def test_build_outside_a_repository_fails_clearly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["build", "--check"])
    assert result.exit_code == 1
    assert "No course repository found" in result.output


def test_the_repository_config_pairs_no_notebook_on_its_own() -> None:
    """Saving a learner notebook in JupyterLab must not write a .py beside it: the repository's
    jupytext configuration names no formats, and generated notebooks carry no pairing."""
    from jupytext.config import (
        find_jupytext_configuration_file,
        load_jupytext_configuration_file,
    )

    root = Path(__file__).resolve().parents[1]
    found = find_jupytext_configuration_file(str(root / "notebooks" / "0_start_here"))
    assert found is not None, "the jupytext settings (filters) should still be found"
    config = load_jupytext_configuration_file(found)
    assert not any(config.formats or []), config.formats
