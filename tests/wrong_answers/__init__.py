"""Wrong answers per lesson: ``lesson_<id>.py`` modules, each defining ``WRONG_ANSWERS``.

Every exercise needs at least two plausible wrong answers that its checker must reject (see
``tests/test_exercises.py``). Write them as a learner would get them wrong: an off-by-one, a
forgotten case, the right value in the wrong type.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any


def collect_wrong_answers() -> dict[str, list[Any]]:
    """Every lesson module's WRONG_ANSWERS, merged; an exercise id may appear in one only."""
    merged: dict[str, list[Any]] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if not info.name.startswith("lesson_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for exercise_id, answers in module.WRONG_ANSWERS.items():
            if exercise_id in merged:
                raise ValueError(f"{exercise_id} has wrong answers in two modules")
            merged[exercise_id] = list(answers)
    return merged
