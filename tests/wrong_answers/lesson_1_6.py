"""Plausible wrong answers to lesson 1.6's exercises; each must be rejected by its checker."""

from __future__ import annotations

import hashlib
from collections.abc import Hashable, Sequence
from typing import Any

from course_lib.course.exercises.lesson_1_6 import APPROACH_FOR

# -- 1.6.1 macro-F1 ------------------------------------------------------------------------


def _accuracy(true_labels: Sequence[Hashable], predicted: Sequence[Any]) -> float:
    return sum(t == p for t, p in zip(true_labels, predicted, strict=True)) / len(true_labels)


def _counts(truth: Sequence[Hashable], predicted: Sequence[Any], c: Hashable) -> tuple[int, ...]:
    pairs = list(zip(truth, predicted, strict=True))
    tp = sum(1 for t, p in pairs if t == c and p == c)
    fp = sum(1 for t, p in pairs if t != c and p == c)
    fn = sum(1 for t, p in pairs if t == c and p != c)
    return tp, fp, fn


def _f1(tp: int, fp: int, fn: int) -> float:
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def _macro_over_union(true_labels: Sequence[Hashable], predicted: Sequence[Any]) -> float:
    # Counts None and unknown predicted labels as classes (scikit-learn's default labels).
    classes = list(dict.fromkeys([*true_labels, *predicted]))
    return sum(_f1(*_counts(true_labels, predicted, c)) for c in classes) / len(classes)


def _weighted_f1(true_labels: Sequence[Hashable], predicted: Sequence[Any]) -> float:
    classes = set(true_labels)
    return sum(
        _f1(*_counts(true_labels, predicted, c)) * list(true_labels).count(c) for c in classes
    ) / len(true_labels)


def _f1_of_macro_precision_and_recall(
    true_labels: Sequence[Hashable], predicted: Sequence[Any]
) -> float:
    classes = set(true_labels)
    precisions, recalls = [], []
    for c in classes:
        tp, fp, fn = _counts(true_labels, predicted, c)
        precisions.append(tp / (tp + fp) if tp + fp else 0.0)
        recalls.append(tp / (tp + fn) if tp + fn else 0.0)
    p, r = sum(precisions) / len(classes), sum(recalls) / len(classes)
    return 2 * p * r / (p + r) if p + r else 0.0


def _divides_by_zero(true_labels: Sequence[Hashable], predicted: Sequence[Any]) -> float:
    classes = set(true_labels)
    total = 0.0
    for c in classes:
        tp, fp, fn = _counts(true_labels, predicted, c)
        precision, recall = tp / (tp + fp), tp / (tp + fn)  # fails for a class never predicted
        total += 2 * precision * recall / (precision + recall)
    return total / len(classes)


# -- 1.6.2 data fingerprint ----------------------------------------------------------------


def _concatenated(texts: Sequence[str], labels: Sequence[str]) -> str:
    return hashlib.sha256(("".join(texts) + "".join(labels)).encode()).hexdigest()


def _tab_separated_lines(texts: Sequence[str], labels: Sequence[str]) -> str:
    lines = "\n".join(f"{t}\t{label}" for t, label in zip(texts, labels, strict=True))
    return hashlib.sha256(lines.encode()).hexdigest()


def _texts_only(texts: Sequence[str], labels: Sequence[str]) -> str:
    return hashlib.sha256(repr(list(texts)).encode()).hexdigest()


def _sorted_separately(texts: Sequence[str], labels: Sequence[str]) -> str:
    return hashlib.sha256(repr((sorted(texts), sorted(labels))).encode()).hexdigest()


def _md5(texts: Sequence[str], labels: Sequence[str]) -> str:
    return hashlib.md5(repr(list(zip(texts, labels, strict=True))).encode()).hexdigest()


def _python_hash(texts: Sequence[str], labels: Sequence[str]) -> Any:
    return hash(tuple(zip(texts, labels, strict=True)))


def _ascii_only(texts: Sequence[str], labels: Sequence[str]) -> str:
    data = repr(list(zip(texts, labels, strict=True))).encode("ascii")
    return hashlib.sha256(data).hexdigest()


# -- 1.6.3 approaches ----------------------------------------------------------------------


def _swap(mapping: dict[str, str], key: str, value: str) -> dict[str, str]:
    changed = dict(mapping)
    changed[key] = value
    return changed


_ROUTING = next(k for k in APPROACH_FOR if k.startswith("route 40,000"))
_TRAVEL = next(k for k in APPROACH_FOR if "travel policy" in k)
_SALARIES = next(k for k in APPROACH_FOR if "salaries" in k)

WRONG_ANSWERS: dict[str, list[Any]] = {
    "1.6.1": [
        _accuracy,
        _macro_over_union,
        _weighted_f1,
        _f1_of_macro_precision_and_recall,
        _divides_by_zero,
    ],
    "1.6.2": [
        _concatenated,
        _tab_separated_lines,
        _texts_only,
        _sorted_separately,
        _md5,
        _python_hash,
        _ascii_only,
    ],
    "1.6.3": [
        _swap(APPROACH_FOR, _TRAVEL, "fine-tuning"),  # facts baked into weights go stale
        _swap(APPROACH_FOR, _ROUTING, "prompting"),
        _swap(APPROACH_FOR, _SALARIES, "fine-tuning"),
        dict.fromkeys(APPROACH_FOR, "rag"),
        {k: "RAG retrieval" for k in APPROACH_FOR},
        list(APPROACH_FOR.values()),
    ],
}
