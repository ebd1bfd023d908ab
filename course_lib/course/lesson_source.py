"""Reading a lesson's single source and deriving the learner's version of it.

A lesson is one jupytext percent script under ``solutions/``. Exercise answers are marked
inside code cells; the learner's notebook gets a stub in their place:

.. code-block:: python

    def count_code_lines(source: str) -> int:
        # BEGIN SOLUTION
        return sum(1 for line in source.splitlines() if line.strip())
        # END SOLUTION
        # STUB: ...  # count the lines that hold code
        # STUB: return 0

* ``# BEGIN SOLUTION`` / ``# END SOLUTION`` enclose the answer; they can sit at any
  indentation, but do not nest.
* ``# STUB: <line>`` lines right after ``# END SOLUTION`` are what the learner sees instead,
  with ``# STUB: `` removed. Without them, a region inside a block becomes
  ``raise NotImplementedError(...)``, which the checkers report as "not started yet". A region
  at the top level of a cell must have stub lines, so the learner's notebook still runs top to
  bottom.
* A cell tagged ``solution`` (``# %% tags=["solution"]``) is left out of the learner's notebook
  altogether, e.g. a worked answer to a question.

CONTRIBUTING.md describes the whole authoring workflow.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

from course_lib.course.errors import BuildError

__all__ = [
    "SOLUTION_TAG",
    "LessonSource",
    "learner_cells",
    "read_lesson_source",
    "strip_exercise_regions",
]

SOLUTION_TAG = "solution"
DEFAULT_STUB = 'raise NotImplementedError("Exercise: replace this line with your code")'

_BEGIN = re.compile(r"^(?P<indent>[ \t]*)# BEGIN SOLUTION[ \t]*$")
_END = re.compile(r"^[ \t]*# END SOLUTION[ \t]*$")
_STUB = re.compile(r"^(?P<indent>[ \t]*)# STUB:(?: (?P<code>.*))?$")
_EXERCISE_CALL = re.compile(r"""\bcheck\(\s*["'](?P<id>[0-9][0-9A-Za-z_.]*)["']""")


@dataclass(frozen=True)
class LessonSource:
    """A lesson's source file and the notebook read from it."""

    path: Path
    notebook: nbformat.NotebookNode

    @property
    def exercise_ids(self) -> list[str]:
        """The ids of the exercises the lesson checks, in order of their first check."""
        seen: list[str] = []
        for cell in self.notebook.cells:
            if cell.cell_type == "code":
                for match in _EXERCISE_CALL.finditer(cell.source):
                    if match["id"] not in seen:
                        seen.append(match["id"])
        return seen


def read_lesson_source(path: Path) -> LessonSource:
    """Reads a jupytext percent script into a notebook (tags kept, other metadata dropped)."""
    import jupytext  # heavy; only the build needs it

    try:
        notebook = jupytext.read(path, fmt="py:percent")
    except Exception as exc:  # jupytext raises many types for malformed text
        raise BuildError(f"Cannot read lesson source {str(path)!r}: {exc}") from exc
    for cell in notebook.cells:
        tags = cell.metadata.get("tags")
        cell.metadata = nbformat.NotebookNode({"tags": list(tags)} if tags else {})
    return LessonSource(path=path, notebook=notebook)


def strip_exercise_regions(code: str, *, where: str = "cell") -> str:
    """Returns ``code`` with every solution region replaced by its stub.

    Args:
        code: the source of one code cell.
        where: names the cell in error messages, e.g. ``"solutions/x.py, cell 12"``.

    Raises:
        BuildError: a marker is unmatched or nested, or a top-level region has no stub.
    """
    lines = code.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        begin = _BEGIN.match(line)
        if _END.match(line):
            raise BuildError(f"{where}, line {i + 1}: '# END SOLUTION' without a BEGIN.")
        if not begin:
            out.append(line)
            i += 1
            continue
        indent = begin["indent"]
        end = i + 1
        while end < len(lines) and not _END.match(lines[end]):
            if _BEGIN.match(lines[end]):
                raise BuildError(
                    f"{where}, line {end + 1}: '# BEGIN SOLUTION' inside another solution "
                    "region; regions do not nest."
                )
            end += 1
        if end == len(lines):
            raise BuildError(
                f"{where}, line {i + 1}: '# BEGIN SOLUTION' is never closed; "
                "add '# END SOLUTION' after the answer."
            )
        stub: list[str] = []
        j = end + 1
        while j < len(lines) and (match := _STUB.match(lines[j])):
            stub.append(match["indent"] + (match["code"] or ""))
            j += 1
        if not stub:
            if not indent:
                raise BuildError(
                    f"{where}, line {i + 1}: a solution region at the top level of a cell "
                    "needs '# STUB: ...' lines after '# END SOLUTION' (e.g. "
                    "'# STUB: answer = ...'), so the learner's notebook still runs."
                )
            stub = [indent + DEFAULT_STUB]
        out.extend(stub)
        i = j
    return "\n".join(out)


def learner_cells(source: LessonSource) -> list[nbformat.NotebookNode]:
    """Returns the learner's cells: solution cells dropped, exercise regions stubbed."""
    cells = []
    for index, cell in enumerate(source.notebook.cells, start=1):
        if SOLUTION_TAG in cell.metadata.get("tags", []):
            continue
        cell = copy.deepcopy(cell)
        if cell.cell_type == "code":
            cell.source = strip_exercise_regions(cell.source, where=f"{source.path}, cell {index}")
        cells.append(cell)
    return cells
