"""Plausible wrong answers to lesson 1.6's exercises; each must be rejected by its checker."""

from __future__ import annotations

from typing import Any

from course_lib.course.exercises.lesson_1_6 import APPROACH_FOR

# -- 1.6.1 router plans -------------------------------------------------------------------

_PLANS: list[Any] = [
    # the best prompt alone: cheap, far below the target
    {"approach": "zero-shot", "model": "chat-large"},
    # retrieved examples from every label: higher, still below, and the labels cost
    {"approach": "retrieved", "model": "chat-small", "labels": 584, "examples": 5},
    # the classifier alone, nothing handed to a person
    {"approach": "classifier", "labels": 584},
    # aimed exactly at the target on the tuning half (0.81 there), 0.70 on the held-out half
    {"approach": "classifier", "labels": 584, "threshold": 0.3},
    # the same edge with fewer labels (0.81 on the tuning half, 0.745 on the held-out half)
    {"approach": "classifier", "labels": 550, "threshold": 0.35},
    # everything to a person: perfect and far over budget
    {"approach": "classifier", "labels": 584, "threshold": 1.0},
    # few labels, a high threshold: reaches the target, over budget
    {"approach": "classifier", "labels": 100, "threshold": 0.6},
    # a threshold on a prompted router, which gives no probability
    {"approach": "retrieved", "labels": 584, "examples": 5, "threshold": 0.5},
    # the approach's name only
    "classifier",
    # more labels than the pool holds: refused, not silently capped at 584
    {"approach": "classifier", "labels": 100_000, "threshold": 0.4},
    # aimed at the budget's edge on the tuning half ($144 there), $176 on the held-out half
    {"approach": "classifier", "labels": 350, "threshold": 0.45},
    # over the budget on the tuning half already ($192 there)
    {"approach": "classifier", "labels": 584, "threshold": 0.525},
    # below the target on the tuning half (0.747 there), within the allowance held out (0.754)
    {"approach": "classifier", "labels": 200, "threshold": 0.3},
    # few labels, a low threshold: 0.720 on the tuning half, 0.768 held out
    {"approach": "classifier", "labels": 50, "threshold": 0.25},
    # just under the target on the tuning half (0.796), 0.819 held out
    {"approach": "classifier", "labels": 150, "threshold": 0.35},
    # over the budget on the tuning half ($176 there), within the allowance held out ($167)
    {"approach": "classifier", "labels": 150, "threshold": 0.4},
]

# -- 1.6.2 approaches ----------------------------------------------------------------------


def _swap(mapping: dict[str, str], key: str, value: str) -> dict[str, str]:
    changed = dict(mapping)
    changed[key] = value
    return changed


_ROUTING = next(k for k in APPROACH_FOR if k.startswith("route 40,000"))
_TRAVEL = next(k for k in APPROACH_FOR if "travel policy" in k)
_SALARIES = next(k for k in APPROACH_FOR if "salaries" in k)

WRONG_ANSWERS: dict[str, list[Any]] = {
    "1.6.1": _PLANS,
    "1.6.2": [
        _swap(APPROACH_FOR, _TRAVEL, "training"),  # facts baked into weights go stale
        _swap(APPROACH_FOR, _ROUTING, "prompting"),
        _swap(APPROACH_FOR, _SALARIES, "training"),
        _swap(APPROACH_FOR, _ROUTING, "fine-tuning"),  # the head is not a fine-tune
        dict.fromkeys(APPROACH_FOR, "rag"),
        {k: "RAG retrieval" for k in APPROACH_FOR},
        list(APPROACH_FOR.values()),
    ],
}
