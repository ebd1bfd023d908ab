"""Each lesson's prose stays within what a learner reads in its stated time.

A lesson is meant to take about 45 minutes (60 for a Layer 1 lesson, which also teaches the
vocabulary the later layers use). Prose is what a learner reads slowest, so its length is
capped: at most 3,500 words for a Layer 1 lesson and 3,000 for any other. The words are
counted in the markdown cells of the lesson's source, with HTML tags, link targets and
code blocks left out (code is read differently, and its size is kept down by moving long
set-up into ``course_lib``).
"""

from __future__ import annotations

import re
from pathlib import Path

import jupytext
import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted(ROOT.glob("solutions/*/*.py"))
LIMITS = {"1_ai_capabilities": 3_500}
DEFAULT_LIMIT = 3_000

_FENCE = re.compile(r"```.*?```", re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_LINK_TARGET = re.compile(r"\]\([^)]*\)")
_WORD = re.compile(r"[^\W_][\w'’.,%/-]*")


def prose_words(markdown: str) -> int:
    """Words a learner reads in one markdown cell."""
    text = _FENCE.sub(" ", markdown)
    text = _LINK_TARGET.sub("]", text)
    text = _TAG.sub(" ", text)
    return len(_WORD.findall(text))


def lesson_words(source: Path) -> int:
    notebook = jupytext.read(source)
    return sum(prose_words(cell.source) for cell in notebook.cells if cell.cell_type == "markdown")


def test_prose_words_skip_code_tags_and_link_targets() -> None:
    cell = "Two words <b>bold</b> [a link](https://example.org/x y)\n```python\nx = 1\n```\n"
    assert prose_words(cell) == 5  # Two, words, bold, a, link


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_lesson_prose_within_limit(source: Path) -> None:
    limit = LIMITS.get(source.parent.name, DEFAULT_LIMIT)
    words = lesson_words(source)
    assert words <= limit, (
        f"{source.relative_to(ROOT)} has {words:,} words of prose, over its limit of "
        f"{limit:,}: cut repetition, move set-up into course_lib, or split the lesson"
    )
