"""Statistics for evaluations: is a score, or a difference between two scores, real?

An evaluation on 100 questions is a sample; its mean moves if you draw other questions. The
bootstrap resamples the questions to show how much (Efron and Tibshirani, 1993; Miller,
2024, "Adding error bars to evals"). Comparing two prompts on the same questions, resample the
per-question differences (a paired bootstrap), which is far more sensitive than comparing two
intervals.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = [
    "ConfidenceInterval",
    "PairedComparison",
    "bootstrap_ci",
    "cohen_kappa",
    "paired_bootstrap",
]


@dataclass(frozen=True)
class ConfidenceInterval:
    """A statistic with its bootstrap percentile interval."""

    estimate: float
    low: float
    high: float
    confidence: float
    n: int

    def __str__(self) -> str:
        return (
            f"{self.estimate:.3f} ({self.confidence:.0%} CI {self.low:.3f} to {self.high:.3f}, "
            f"n={self.n})"
        )


@dataclass(frozen=True)
class PairedComparison:
    """The mean difference B - A over paired items, with its interval and a p-value."""

    mean_difference: float
    low: float
    high: float
    p_value: float
    confidence: float
    n: int

    @property
    def significant(self) -> bool:
        """True when the interval excludes zero: the difference is unlikely to be noise."""
        return self.low > 0 or self.high < 0

    def __str__(self) -> str:
        verdict = "a real difference" if self.significant else "not distinguishable from noise"
        return (
            f"B - A = {self.mean_difference:+.3f} ({self.confidence:.0%} CI {self.low:+.3f} to "
            f"{self.high:+.3f}, p={self.p_value:.3f}, n={self.n}): {verdict}"
        )


def _as_array(values: Sequence[float] | NDArray[Any], name: str) -> NDArray[Any]:
    import numpy as np

    array = np.asarray(values, dtype=float)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{name} must be a non-empty list of numbers (one per item).")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite values; drop or fix those items.")
    return array


def _check(confidence: float, n_resamples: int) -> None:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, e.g. 0.95; got {confidence}.")
    if n_resamples < 100:
        raise ValueError(f"n_resamples must be at least 100, got {n_resamples}.")


def bootstrap_ci(
    values: Sequence[float] | NDArray[Any],
    *,
    statistic: Callable[[NDArray[Any]], float] | None = None,
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
) -> ConfidenceInterval:
    """Percentile bootstrap interval of ``statistic`` (default: the mean) over ``values``."""
    import numpy as np

    _check(confidence, n_resamples)
    data = _as_array(values, "values")
    stat = statistic or (lambda a: float(np.mean(a)))
    rng = np.random.default_rng(seed)
    indices = rng.integers(0, data.size, size=(n_resamples, data.size))
    if statistic is None:
        resampled = data[indices].mean(axis=1)
    else:
        resampled = np.array([stat(data[row]) for row in indices])
    alpha = (1 - confidence) / 2
    low, high = np.quantile(resampled, [alpha, 1 - alpha])
    return ConfidenceInterval(float(stat(data)), float(low), float(high), confidence, data.size)


def paired_bootstrap(
    scores_a: Sequence[float] | NDArray[Any],
    scores_b: Sequence[float] | NDArray[Any],
    *,
    confidence: float = 0.95,
    n_resamples: int = 5000,
    seed: int = 0,
) -> PairedComparison:
    """Compare B with A on the same items by resampling the per-item differences."""
    import numpy as np

    _check(confidence, n_resamples)
    a = _as_array(scores_a, "scores_a")
    b = _as_array(scores_b, "scores_b")
    if a.size != b.size:
        raise ValueError(
            f"scores_a has {a.size} items and scores_b {b.size}; a paired comparison needs "
            "the same items, in the same order, scored by both."
        )
    diff = b - a
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, diff.size, size=(n_resamples, diff.size))].mean(axis=1)
    alpha = (1 - confidence) / 2
    low, high = np.quantile(means, [alpha, 1 - alpha])
    # Two-sided p-value: how often the resampled mean falls on the other side of zero.
    observed = float(diff.mean())
    if observed == 0:
        p_value = 1.0
    else:
        other_side = np.mean(means <= 0) if observed > 0 else np.mean(means >= 0)
        p_value = float(min(1.0, 2 * other_side))
    return PairedComparison(observed, float(low), float(high), p_value, confidence, diff.size)


def cohen_kappa(labels_a: Sequence[Hashable], labels_b: Sequence[Hashable]) -> float:
    """Agreement of two raters beyond chance: 1 is perfect, 0 is what chance gives."""
    if len(labels_a) != len(labels_b):
        raise ValueError(
            f"labels_a has {len(labels_a)} labels and labels_b {len(labels_b)}; kappa needs "
            "both raters' labels for the same items."
        )
    n = len(labels_a)
    if n == 0:
        raise ValueError("cohen_kappa needs at least one pair of labels.")
    observed = sum(1 for x, y in zip(labels_a, labels_b, strict=True) if x == y) / n
    categories = set(labels_a) | set(labels_b)
    expected = math.fsum(  # exact, so the same kappa on every Python version
        (sum(1 for x in labels_a if x == c) / n) * (sum(1 for y in labels_b if y == c) / n)
        for c in categories
    )
    if expected == 1.0:
        return 1.0 if observed == 1.0 else 0.0
    return (observed - expected) / (1 - expected)
