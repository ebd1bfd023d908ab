"""Measuring where course_lib's code goes, for lesson 00's redrawing of Sculley et al.'s boxes.

Sculley et al. (2015) drew the model code of a production ML system as a small box among
much larger ones: configuration, data collection, serving, monitoring. Lesson 00 redraws that
picture from a measurement of this very library instead of a sketch.
"""

from __future__ import annotations

import ast
import io
import tokenize
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

__all__ = [
    "CONCERNS",
    "MODEL_CALL_CONCERN",
    "Concern",
    "count_code_lines",
    "measure_code_size",
    "plot_code_boxes",
    "squarify",
]


class Concern(NamedTuple):
    """What a part of course_lib is for, and which of the course's four layers it belongs to."""

    label: str
    layer: str


MODEL_CALL_CONCERN = "model calls"

# Modules and packages of course_lib (paths inside it, without ".py"), by concern; the longest
# matching path wins. A top-level module not listed here is measured under its own name, so
# nothing new is ever silently left out of the picture. The classroom is what the import
# contracts in pyproject.toml put above the production library: the stand-in model, the
# course's data, the lessons' helpers and the course machinery. A production system calls a
# provider and has its own data.
CONCERNS: dict[str, Concern] = {
    "llm": Concern(MODEL_CALL_CONCERN, "1 AI capabilities"),
    "models": Concern(MODEL_CALL_CONCERN, "1 AI capabilities"),
    "standin": Concern("local stand-in model", "classroom"),
    "labs": Concern("lesson helpers", "classroom"),
    "embeddings": Concern("embeddings", "1 AI capabilities"),
    "evaluation": Concern("evaluation", "1 AI capabilities"),
    "agents": Concern("agents and tools", "1 AI capabilities"),
    "structured": Concern("structured output", "1 AI capabilities"),
    "classify": Concern("classifier head", "1 AI capabilities"),
    "media": Concern("multimodal inputs", "1 AI capabilities"),
    "rag": Concern("retrieval (RAG)", "2 engineering patterns"),
    "assistant": Concern("the assistant", "2 engineering patterns"),
    "prompts": Concern("prompt versioning", "2 engineering patterns"),
    "observability": Concern("observability", "2 engineering patterns"),
    "orchestration": Concern("orchestration", "2 engineering patterns"),
    "data": Concern("dataset lifecycle", "2 engineering patterns"),
    "guardrails": Concern("guardrails", "2 engineering patterns"),
    "personal_data": Concern("guardrails", "2 engineering patterns"),
    "datasets": Concern("course data", "classroom"),
    "settings": Concern("configuration", "3 software engineering"),
    "errors": Concern("error handling", "3 software engineering"),
    "redaction": Concern("secrets", "3 software engineering"),
    "_lazy": Concern("package structure", "3 software engineering"),
    "workdir": Concern("storage", "4 infrastructure"),
    "sqlite_db": Concern("storage", "4 infrastructure"),
    "storage": Concern("storage", "4 infrastructure"),
    "caching": Concern("caching", "4 infrastructure"),
    "tasks": Concern("task queue", "4 infrastructure"),
    "artifacts": Concern("storage", "4 infrastructure"),
    "compute": Concern("compute", "4 infrastructure"),
    "pipelines": Concern("data pipelines", "4 infrastructure"),
    "services": Concern("production engines", "4 infrastructure"),
    "course": Concern("course machinery", "classroom"),
}


def count_code_lines(source: str) -> int:
    """Counts the lines of Python ``source`` that hold code.

    Blank lines, comment-only lines and docstrings do not count; a line with code and a
    trailing comment does, and so does every line of a multi-line statement.

    >>> count_code_lines("def f():\\n    'Doc.'\\n    # note\\n    return 1  # one\\n")
    2
    """
    ignorable = {
        tokenize.COMMENT,
        tokenize.NL,
        tokenize.NEWLINE,
        tokenize.INDENT,
        tokenize.DEDENT,
        tokenize.ENCODING,
        tokenize.ENDMARKER,
    }
    code_lines: set[int] = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in ignorable:
            code_lines.update(range(token.start[0], token.end[0] + 1))
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if (
                body
                and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)
            ):
                end = body[0].end_lineno or body[0].lineno
                code_lines.difference_update(range(body[0].lineno, end + 1))
    return len(code_lines)


def _concern_of(relative: Path) -> Concern:
    parts = [*relative.parts[:-1], relative.name.removesuffix(".py")]
    for length in range(len(parts), 0, -1):
        concern = CONCERNS.get("/".join(parts[:length]))
        if concern is not None:
            return concern
    return Concern(parts[0], "other")


def measure_code_size(
    package_dir: Path | None = None,
    *,
    count: Callable[[str], int] = count_code_lines,
) -> pd.DataFrame:
    """Returns course_lib's lines of code by concern: one row per concern, largest first.

    Args:
        package_dir: the package to measure (default: the installed course_lib).
        count: the line counter to use, so a learner's own counter can draw the picture.
    """
    import pandas as pd

    if package_dir is None:
        import course_lib

        package_dir = Path(course_lib.__file__).parent
    rows = []
    for path in sorted(package_dir.rglob("*.py")):
        relative = path.relative_to(package_dir)
        if relative.name == "__init__.py" and len(relative.parts) == 1:
            continue  # the façade belongs to no concern
        concern = _concern_of(relative)
        rows.append(
            {
                "concern": concern.label,
                "layer": concern.layer,
                "files": 1,
                "lines": count(path.read_text(encoding="utf-8")),
            }
        )
    table = pd.DataFrame(rows, columns=["concern", "layer", "files", "lines"])
    table = table.groupby(["concern", "layer"], as_index=False)[["files", "lines"]].sum()
    return table.sort_values(["lines", "concern"], ascending=[False, True], ignore_index=True)


def squarify(
    sizes: Sequence[float], x: float, y: float, width: float, height: float
) -> list[tuple[float, float, float, float]]:
    """Lays out rectangles with areas proportional to ``sizes`` (sorted largest first).

    The squarified treemap of Bruls, Huizing and van Wijk (2000): rows are filled while the
    worst aspect ratio keeps improving, so boxes stay close to squares and easy to compare.
    Returns ``(x, y, width, height)`` per size, in order.
    """
    values = [float(s) for s in sizes]
    if any(v <= 0 for v in values):
        raise ValueError("squarify needs positive sizes")
    total = sum(values)
    scaled = [v * width * height / total for v in values] if total else []
    boxes: list[tuple[float, float, float, float]] = []

    def worst(row: list[float], side: float) -> float:
        area = sum(row)
        return max(
            max(side * side * r / (area * area), area * area / (side * side * r)) for r in row
        )

    remaining = scaled
    while remaining:
        side = min(width, height)
        row = [remaining[0]]
        rest = remaining[1:]
        while rest and worst([*row, rest[0]], side) <= worst(row, side):
            row.append(rest.pop(0))
        area = sum(row)
        if width >= height:  # lay the row as a column on the left
            column = area / height
            offset = y
            for r in row:
                boxes.append((x, offset, column, r / column))
                offset += r / column
            x, width = x + column, width - column
        else:  # lay the row along the bottom
            band = area / width
            offset = x
            for r in row:
                boxes.append((offset, y, r / band, band))
                offset += r / band
            y, height = y + band, height - band
        remaining = rest
    return boxes


def plot_code_boxes(table: pd.DataFrame, *, highlight: str = MODEL_CALL_CONCERN) -> Figure:
    """Draws each concern as a box whose area is its lines of code, Sculley-style."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    data = table[table["lines"] > 0].sort_values("lines", ascending=False)
    fig, ax = plt.subplots(figsize=(9, 5.5))
    boxes = squarify(data["lines"].tolist(), 0, 0, 16, 9)
    for (bx, by, bw, bh), (_, row) in zip(boxes, data.iterrows(), strict=True):
        special = row["concern"] == highlight
        ax.add_patch(
            Rectangle(
                (bx, by),
                bw,
                bh,
                facecolor="#f4a259" if special else "#dfe7ef",
                edgecolor="#33415c",
                linewidth=2.5 if special else 1,
            )
        )
        label = f"{row['concern']}\n{row['lines']} lines"
        size = max(7, min(12, 3 * min(bw, bh)))
        ax.text(bx + bw / 2, by + bh / 2, label, ha="center", va="center", fontsize=size)
    ax.set_xlim(0, 16)
    ax.set_ylim(0, 9)
    ax.set_aspect("equal")
    ax.axis("off")
    total = int(data["lines"].sum())
    ax.set_title(f"course_lib, {total} lines of code: each box's area is one concern's share")
    fig.tight_layout()
    return fig
