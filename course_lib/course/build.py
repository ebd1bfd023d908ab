"""``course build``: from each lesson's single source to its two executed notebooks.

For ``solutions/<module>/<lesson>.py`` the build writes

* ``solutions/<module>/<lesson>.ipynb``: the solution notebook, run in strict mode, so a
  lesson whose own answers fail its checks does not build;
* ``notebooks/<module>/<lesson>.ipynb``: the learner's notebook, exercise regions stubbed,
  run with every exercise unsolved.

Both keep their outputs: they are the baseline nbval compares every later run against.
``course build --check`` finds generated files that no longer match their source without
executing anything, so it is cheap enough for a pre-commit hook.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import nbformat

from course_lib.course.errors import BuildError
from course_lib.course.execution import WIDGET_VIEW_MIME, execute_notebook
from course_lib.course.lesson_source import LessonSource, learner_cells, read_lesson_source

__all__ = [
    "GENERATED_TAG",
    "Lesson",
    "StaleFile",
    "build_lesson",
    "expected_notebook",
    "find_lessons",
    "find_project_root",
    "find_stale_files",
    "notebook_text",
]

GENERATED_TAG = "generated-notice"
SOLUTIONS_DIR = "solutions"
NOTEBOOKS_DIR = "notebooks"
_NBVAL_SKIP_TAGS = {"nbval-skip", "skip-execution"}


@dataclass(frozen=True)
class Lesson:
    """One lesson: its source and the two notebooks generated from it."""

    root: Path
    source: Path  # relative to root, e.g. solutions/0_start_here/00_start_here.py

    @property
    def solution_notebook(self) -> Path:
        return self.source.with_suffix(".ipynb")

    @property
    def learner_notebook(self) -> Path:
        return Path(NOTEBOOKS_DIR, *self.source.parts[1:]).with_suffix(".ipynb")

    @property
    def rebuild_command(self) -> str:
        return f"course build {self.source.as_posix()}"

    def outputs(self) -> tuple[Path, Path]:
        return self.solution_notebook, self.learner_notebook


@dataclass(frozen=True)
class StaleFile:
    """A generated file that does not match its source, and the command that fixes it."""

    path: Path
    reason: str
    fix: str

    def __str__(self) -> str:
        return f"{self.path.as_posix()} is stale: {self.reason}. Fix: {self.fix}"


def find_project_root(start: Path | None = None) -> Path:
    """Returns the repository folder holding ``solutions/`` and ``pyproject.toml``."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / SOLUTIONS_DIR).is_dir() and (folder / "pyproject.toml").is_file():
            return folder
    raise BuildError(
        f"No course repository found at or above {str(here)!r} (looked for a folder with "
        f"'{SOLUTIONS_DIR}/' and 'pyproject.toml'); run the command from the repository."
    )


def find_lessons(root: Path, only: Iterable[Path | str] = ()) -> list[Lesson]:
    """Returns the lessons under ``root/solutions`` (or only the given sources), sorted."""
    wanted = [Path(p) for p in only]
    if not wanted:
        sources = sorted((root / SOLUTIONS_DIR).glob("*/*.py"))
        return [Lesson(root=root, source=p.relative_to(root)) for p in sources]
    lessons = []
    for path in wanted:
        absolute = (path if path.is_absolute() else Path.cwd() / path).resolve()
        if absolute.suffix == ".ipynb":  # accept a generated notebook and map it back
            relative = absolute.relative_to(root)
            absolute = root / SOLUTIONS_DIR / Path(*relative.parts[1:]).with_suffix(".py")
        try:
            relative = absolute.relative_to(root)
        except ValueError:
            raise BuildError(f"{str(path)!r} is not inside the course repository.") from None
        if relative.parts[0] != SOLUTIONS_DIR or not absolute.is_file():
            raise BuildError(
                f"{str(path)!r} is not a lesson source; sources are "
                f"'{SOLUTIONS_DIR}/<module>/<lesson>.py'."
            )
        lessons.append(Lesson(root=root, source=relative))
    return lessons


def _source_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _notice(lesson: Lesson, variant: str) -> str:
    source = lesson.source.as_posix()
    if variant == "solution":
        return (
            f"> *Generated from `{source}` by `{lesson.rebuild_command}`: edit that source "
            "and rebuild; changes made to this file are overwritten.*"
        )
    return (
        "> *This is your copy of the lesson: work in it freely. It is generated from "
        f"`{source}` by `{lesson.rebuild_command}`; course authors edit that source, "
        "never this file.*"
    )


def _cell_id(cell: nbformat.NotebookNode, taken: set[str]) -> str:
    # Content-derived ids stay put when other cells change, so diffs stay small.
    digest = hashlib.sha1(f"{cell.cell_type}\n{cell.source}".encode()).hexdigest()[:8]
    candidate, n = digest, 1
    while candidate in taken:
        candidate, n = f"{digest}-{n}", n + 1
    taken.add(candidate)
    return candidate


def expected_notebook(
    lesson: Lesson, variant: str, source: LessonSource | None = None
) -> nbformat.NotebookNode:
    """Returns the unexecuted notebook the build makes for ``variant`` (solution or learner)."""
    source = source or read_lesson_source(lesson.root / lesson.source)
    if variant == "solution":
        cells = [copy.deepcopy(c) for c in source.notebook.cells]
    elif variant == "learner":
        cells = learner_cells(source)
    else:
        raise ValueError(f"variant must be 'solution' or 'learner' (got {variant!r})")
    notice = nbformat.v4.new_markdown_cell(_notice(lesson, variant))
    notice.metadata = nbformat.NotebookNode({"tags": [GENERATED_TAG]})
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [notice, *cells]
    taken: set[str] = set()
    for cell in notebook.cells:
        cell.id = _cell_id(cell, taken)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    notebook.metadata = nbformat.NotebookNode(
        {
            "kernelspec": {
                "name": "python3",
                "display_name": "Python 3 (ipykernel)",
                "language": "python",
            },
            "language_info": {"name": "python"},
            "course": {
                "generated_from": lesson.source.as_posix(),
                "source_sha256": _source_digest(lesson.root / lesson.source),
                "variant": variant,
                "exercises": source.exercise_ids,
            },
        }
    )
    return notebook


def _strip_noise(notebook: nbformat.NotebookNode) -> None:
    """Removes what changes on every run without meaning anything (timings, widget ids)."""
    notebook.metadata.pop("widgets", None)
    notebook.metadata.get("language_info", {}).pop("version", None)
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
        for k, output in enumerate(cell.get("outputs", [])):
            view = output.get("data", {}).get(WIDGET_VIEW_MIME)
            if view:
                view["model_id"] = f"{cell.id}-{k}"


def notebook_text(notebook: nbformat.NotebookNode) -> str:
    """The notebook as Jupyter's own save writes it, byte for byte.

    JupyterLab saves through nbformat (sources and outputs split into lists of lines, one
    space of indent, sorted keys). Storing lessons in that same form means a learner who
    presses Ctrl+S in an untouched lesson writes back the identical file: no diff, no
    conflict on the next ``git pull``.
    """
    text = nbformat.writes(notebook, version=nbformat.NO_CONVERT)
    return text if text.endswith("\n") else text + "\n"


def _write(notebook: nbformat.NotebookNode, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.validate(notebook)
    path.write_text(notebook_text(notebook), encoding="utf-8")


def build_lesson(lesson: Lesson, *, execute: bool = True) -> list[Path]:
    """Generates (and by default executes) both notebooks of ``lesson``; returns their paths.

    Raises:
        BuildError: the source is malformed, or a cell failed; the message names the cell.
    """
    from nbclient.exceptions import CellExecutionError

    source = read_lesson_source(lesson.root / lesson.source)
    written = []
    for variant, target in (
        ("solution", lesson.solution_notebook),
        ("learner", lesson.learner_notebook),
    ):
        notebook = expected_notebook(lesson, variant, source)
        if execute:
            try:
                execute_notebook(
                    notebook, cwd=(lesson.root / target).parent, strict=variant == "solution"
                )
            except CellExecutionError as exc:
                summary = f"{exc.ename}: {exc.evalue}".strip()
                raise BuildError(
                    f"Building the {variant} notebook of {lesson.source.as_posix()} failed: "
                    f"{summary}. Fix the source and run {lesson.rebuild_command}."
                ) from exc
            _strip_noise(notebook)
        _write(notebook, lesson.root / target)
        written.append(target)
    return written


def _cells_signature(notebook: nbformat.NotebookNode) -> list[tuple[str, str, list[str]]]:
    return [(c.cell_type, c.source, sorted(c.metadata.get("tags", []))) for c in notebook.cells]


def _stale_reason(
    lesson: Lesson, variant: str, target: Path, digest: str, expected: nbformat.NotebookNode
) -> str | None:
    path = lesson.root / target
    if not path.exists():
        return "it is missing"
    try:
        stored = nbformat.read(path, as_version=4)
    except Exception as exc:  # a hand-merged conflict, truncated file, ...
        return f"it cannot be read ({exc.__class__.__name__})"
    meta = stored.metadata.get("course", {})
    if meta.get("source_sha256") != digest:
        return f"its source {lesson.source.as_posix()} changed since it was built"
    if _cells_signature(stored) != _cells_signature(expected):
        return "its cells were edited by hand"
    unexecuted = [
        i
        for i, c in enumerate(stored.cells)
        if c.cell_type == "code"
        and c.execution_count is None
        and not _NBVAL_SKIP_TAGS & set(c.metadata.get("tags", []))
    ]
    if unexecuted:
        return f"{len(unexecuted)} code cells have no stored output (it was never executed)"
    if path.read_text(encoding="utf-8") != notebook_text(stored):
        return "it is not stored as Jupyter saves it, so saving it unchanged would rewrite it"
    return None


def find_stale_files(root: Path, lessons: Sequence[Lesson] | None = None) -> list[StaleFile]:
    """Returns every generated notebook that is missing, outdated, hand-edited or orphaned."""
    lessons = list(lessons) if lessons is not None else find_lessons(root)
    stale: list[StaleFile] = []
    expected_paths: set[Path] = set()
    for lesson in lessons:
        source = read_lesson_source(lesson.root / lesson.source)
        digest = _source_digest(lesson.root / lesson.source)
        for variant, target in zip(("solution", "learner"), lesson.outputs(), strict=True):
            expected_paths.add(target)
            expected = expected_notebook(lesson, variant, source)
            reason = _stale_reason(lesson, variant, target, digest, expected)
            if reason:
                stale.append(StaleFile(target, reason, lesson.rebuild_command))
    if lessons == find_lessons(root) or not lessons:
        for folder in (SOLUTIONS_DIR, NOTEBOOKS_DIR):
            for path in sorted((root / folder).glob("*/*.ipynb")):
                relative = path.relative_to(root)
                if relative not in expected_paths:
                    stale.append(
                        StaleFile(
                            relative,
                            "no lesson source generates it",
                            f"delete it, or restore its source under {SOLUTIONS_DIR}/",
                        )
                    )
    return stale
