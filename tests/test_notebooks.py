"""Whole-lesson runs beyond nbval's output regression.

* Every solution notebook runs with non-default parameters (another seed, fast mode) in
  strict mode, and every exercise reports solved.
* Every learner notebook runs top to bottom with every exercise unsolved, and every check
  reports "not solved".
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from course_lib.course.build import find_lessons
from course_lib.course.checking import CHECK_MIME
from course_lib.course.execution import KERNEL_NAME, kernel_environment

ROOT = Path(__file__).resolve().parents[1]
LESSONS = find_lessons(ROOT)
IDS = [lesson.source.stem for lesson in LESSONS]
OTHER_PARAMETERS = {"seed": 7, "fast": True}

pytestmark = pytest.mark.slow


def _run(
    notebook: Path, out: Path, *, strict: bool, parameters: dict, work_dir: Path, monkeypatch
) -> nbformat.NotebookNode:
    import papermill

    for key, value in kernel_environment(strict=strict, work_dir=work_dir).items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("MPLBACKEND", raising=False)
    papermill.execute_notebook(
        str(notebook),
        str(out),
        parameters=parameters,
        kernel_name=KERNEL_NAME,
        cwd=str(notebook.parent),
        execution_timeout=300,
        start_timeout=60,
        progress_bar=False,
    )
    return nbformat.read(out, as_version=4)


def _check_results(notebook: nbformat.NotebookNode) -> dict[str, bool]:
    results = {}
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {}).get(CHECK_MIME)
            if data:
                results[data["exercise"]] = data["solved"]
    return results


def _parameters_injected_after_parameters_cell(notebook: nbformat.NotebookNode) -> bool:
    tags = [c.metadata.get("tags", []) for c in notebook.cells]
    injected = next(i for i, t in enumerate(tags) if "injected-parameters" in t)
    return "parameters" in tags[injected - 1]


@pytest.mark.parametrize("lesson", LESSONS, ids=IDS)
def test_solution_runs_strict_with_other_parameters(lesson, tmp_path: Path, monkeypatch) -> None:
    notebook = _run(
        ROOT / lesson.solution_notebook,
        tmp_path / "solution.ipynb",
        strict=True,
        parameters=OTHER_PARAMETERS,
        work_dir=tmp_path / "work",
        monkeypatch=monkeypatch,
    )
    assert _parameters_injected_after_parameters_cell(notebook)
    expected = notebook.metadata["course"]["exercises"]
    assert _check_results(notebook) == dict.fromkeys(expected, True)


@pytest.mark.parametrize("lesson", LESSONS, ids=IDS)
def test_learner_notebook_runs_with_every_exercise_unsolved(
    lesson, tmp_path: Path, monkeypatch
) -> None:
    notebook = _run(
        ROOT / lesson.learner_notebook,
        tmp_path / "learner.ipynb",
        strict=False,
        parameters={},
        work_dir=tmp_path / "work",
        monkeypatch=monkeypatch,
    )
    expected = notebook.metadata["course"]["exercises"]
    assert expected, "every lesson has exercises"
    assert _check_results(notebook) == dict.fromkeys(expected, False)


def _has_engines_parameter(lesson) -> bool:  # type: ignore[no-untyped-def]
    notebook = nbformat.read(ROOT / lesson.solution_notebook, as_version=4)
    return any(
        "parameters" in cell.metadata.get("tags", [])
        and any(line.startswith("engines =") for line in cell.source.splitlines())
        for cell in notebook.cells
    )


ENGINE_LESSONS = [lesson for lesson in LESSONS if _has_engines_parameter(lesson)]


@pytest.mark.parametrize("lesson", ENGINE_LESSONS, ids=[x.source.stem for x in ENGINE_LESSONS])
def test_production_side_runs_on_the_engines(
    lesson, tmp_path: Path, monkeypatch, engine_environment: dict[str, str]
) -> None:
    """A lesson's production section, run with ``engines=True`` against real engines."""
    for key, value in engine_environment.items():
        monkeypatch.setenv(key, value)
    notebook = _run(
        ROOT / lesson.solution_notebook,
        tmp_path / "engines.ipynb",
        strict=True,
        parameters={**OTHER_PARAMETERS, "engines": True},
        work_dir=tmp_path / "work",
        monkeypatch=monkeypatch,
    )
    expected = notebook.metadata["course"]["exercises"]
    assert _check_results(notebook) == dict.fromkeys(expected, True)
