"""Plausible wrong answers to lesson 00's exercises; each must be rejected by its checker."""

from __future__ import annotations

import ast
from typing import Any

from course_lib.course.exercises.lesson_00 import LAYER_OF


def _count_all_lines(source: str) -> int:
    return len(source.splitlines())


def _count_non_blank(source: str) -> int:
    return sum(1 for line in source.splitlines() if line.strip())


def _count_non_blank_non_comment(source: str) -> int:
    return sum(
        1 for line in source.splitlines() if line.strip() and not line.strip().startswith("#")
    )


def _count_skipping_only_one_line_docstrings(source: str) -> int:
    return sum(
        1
        for line in source.splitlines()
        if line.strip() and not line.strip().startswith("#") and not line.strip().startswith('"""')
    )


def _count_with_split_newline(source: str) -> int:
    # Off by one on the last line: "a\n".split("\n") == ["a", ""] but "" counts nowhere...
    skip = set()
    for node in ast.walk(ast.parse(source)):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            skip.update(range(body[0].lineno, (body[0].end_lineno or 0) + 1))
    lines = source.split("\n")
    return sum(
        1 for n, line in enumerate(lines, 1) if n not in skip and not line.strip().startswith("#")
    )


def _swap(mapping: dict[str, int], key: str, value: int) -> dict[str, int]:
    changed = dict(mapping)
    changed[key] = value
    return changed


WRONG_ANSWERS: dict[str, list[Any]] = {
    "00.1": [
        _count_all_lines,
        _count_non_blank,
        _count_non_blank_non_comment,
        _count_skipping_only_one_line_docstrings,
        _count_with_split_newline,
    ],
    "00.2": [
        _swap(LAYER_OF, "trace every model call with its tokens and cost", 1),
        _swap(LAYER_OF, "pin every dependency in a lock file", 4),
        {k: str(v) for k, v in LAYER_OF.items()},
        {k: v for k, v in LAYER_OF.items() if "cache" not in k},
        dict.fromkeys(LAYER_OF, 1),
        list(LAYER_OF.items()),
    ],
}
