"""Scores for a classifier or a router: accuracy, macro-F1 and the confusion matrix.

Accuracy alone hides the small classes: on the tickets, a router that never says
``security_report`` loses only 6% of accuracy but misses every phishing report. Macro-F1
averages the F1 of each class with equal weight, so a class that is always missed costs its
full share.

A prediction of ``None`` (an answer that could not be parsed) is simply wrong: it counts
against the true class's recall and adds no class of its own.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["ClassificationScores", "classification_scores", "confusion_counts", "macro_f1"]


@dataclass(frozen=True)
class ClassificationScores:
    """Accuracy and macro-F1 over ``n`` items, and how many predictions were invalid."""

    accuracy: float
    macro_f1: float
    n: int
    invalid: int

    def as_dict(self) -> dict[str, float | int]:
        """A JSON-ready dict, e.g. for an artifact's metadata."""
        return {
            "accuracy": round(self.accuracy, 4),
            "macro_f1": round(self.macro_f1, 4),
            "n": self.n,
            "invalid": self.invalid,
        }


def _check_pair(true_labels: Sequence[Hashable], predicted: Sequence[Hashable | None]) -> None:
    if len(true_labels) != len(predicted):
        raise ValueError(
            f"{len(true_labels)} true labels but {len(predicted)} predictions; score the same "
            "items, in the same order."
        )
    if not true_labels:
        raise ValueError("Nothing to score: the lists of labels are empty.")


def macro_f1(
    true_labels: Sequence[Hashable],
    predicted: Sequence[Hashable | None],
    *,
    labels: Sequence[Hashable] | None = None,
) -> float:
    """The mean over classes of each class's F1 (harmonic mean of precision and recall).

    The classes are ``labels`` if given, else those in ``true_labels``: a label that only
    appears among the predictions (a typo, ``None``) is an error, not a class. A class with
    no correct prediction has F1 0.
    """
    _check_pair(true_labels, predicted)
    classes = list(dict.fromkeys(labels if labels is not None else true_labels))
    total = 0.0
    for cls in classes:
        tp = sum(1 for t, p in zip(true_labels, predicted, strict=True) if t == cls and p == cls)
        fp = sum(1 for t, p in zip(true_labels, predicted, strict=True) if t != cls and p == cls)
        fn = sum(1 for t, p in zip(true_labels, predicted, strict=True) if t == cls and p != cls)
        total += 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return total / len(classes)


def classification_scores(
    true_labels: Sequence[Hashable],
    predicted: Sequence[Hashable | None],
    *,
    labels: Sequence[Hashable] | None = None,
) -> ClassificationScores:
    """Accuracy, macro-F1 (see :func:`macro_f1`) and the count of ``None`` predictions."""
    _check_pair(true_labels, predicted)
    correct = sum(1 for t, p in zip(true_labels, predicted, strict=True) if t == p)
    return ClassificationScores(
        accuracy=correct / len(true_labels),
        macro_f1=macro_f1(true_labels, predicted, labels=labels),
        n=len(true_labels),
        invalid=sum(1 for p in predicted if p is None),
    )


def confusion_counts(
    true_labels: Sequence[Hashable],
    predicted: Sequence[Hashable | None],
    *,
    labels: Sequence[Hashable],
) -> NDArray[Any]:
    """Counts with rows = true class, columns = predicted class, in the order of ``labels``.

    One extra last column counts predictions outside ``labels`` (``None``, an unknown value),
    so every row sums to the number of items of its class.
    """
    import numpy as np

    _check_pair(true_labels, predicted)
    index = {label: i for i, label in enumerate(labels)}
    counts = np.zeros((len(labels), len(labels) + 1), dtype=int)
    for t, p in zip(true_labels, predicted, strict=True):
        if t not in index:
            raise ValueError(f"True label {t!r} is not among the labels {list(labels)!r}.")
        counts[index[t], index.get(p, len(labels))] += 1
    return counts
