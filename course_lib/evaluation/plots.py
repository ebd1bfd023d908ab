"""Figures for evaluation reports: a bootstrap distribution, and paired differences with intervals.

matplotlib is imported when a function is called, never at import time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from course_lib.evaluation.stats import PairedComparison

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from numpy.typing import NDArray

__all__ = ["bootstrap_means", "plot_bootstrap", "plot_paired"]


def bootstrap_means(
    values: Sequence[float] | NDArray[Any], *, n_resamples: int = 2000, seed: int = 0
) -> NDArray[Any]:
    """The means of ``n_resamples`` resamples of ``values`` (drawn with replacement, same size).

    The same draws as :func:`~course_lib.evaluation.stats.bootstrap_ci` with the same seed, so
    its interval is the 2.5th and 97.5th percentiles of these means.
    """
    import numpy as np

    data = np.asarray(values, dtype=float)
    if data.ndim != 1 or data.size == 0:
        raise ValueError("values must be a non-empty list of numbers (one per item).")
    rng = np.random.default_rng(seed)
    means: NDArray[Any] = data[rng.integers(0, data.size, size=(n_resamples, data.size))].mean(
        axis=1
    )
    return means


def plot_bootstrap(
    values: Sequence[float] | NDArray[Any],
    interval: tuple[float, float],
    *,
    n_resamples: int = 2000,
    seed: int = 0,
    label: str = "mean score",
    ax: Axes | None = None,
) -> Axes:
    """Histogram of the bootstrap means of ``values``, with the observed mean and ``interval``."""
    import matplotlib.pyplot as plt
    import numpy as np

    means = bootstrap_means(values, n_resamples=n_resamples, seed=seed)
    low, high = interval
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.2))
    ax.hist(means, bins=40, color="#9db4cf", edgecolor="white")
    ax.axvspan(low, high, color="#f2c14e", alpha=0.25, label=f"interval {low:.3f} to {high:.3f}")
    ax.axvline(float(np.mean(values)), color="#1d3557", lw=2, label="observed mean")
    for edge in (low, high):
        ax.axvline(edge, color="#c77d00", lw=1.5, ls="--")
    ax.set_xlabel(f"{label} of a resampled golden set")
    ax.set_ylabel("resamples")
    ax.set_title(f"{n_resamples} bootstrap resamples of {np.size(values)} questions")
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    return ax


def plot_paired(
    comparisons: Mapping[str, PairedComparison],
    *,
    label: str = "difference B - A",
    ax: Axes | None = None,
) -> Axes:
    """One row per comparison: the mean difference and its interval, against zero.

    An interval that crosses the zero line is a difference the data cannot tell from noise.
    """
    import matplotlib.pyplot as plt

    if not comparisons:
        raise ValueError("comparisons is empty; pass {name: paired_bootstrap(...)}.")
    names = list(comparisons)
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.6 + 0.55 * len(names)))
    for row, name in enumerate(names):
        c = comparisons[name]
        colour = "#2a9d8f" if c.significant else "#8d99ae"
        ax.plot([c.low, c.high], [row, row], color=colour, lw=3, solid_capstyle="round")
        ax.plot([c.mean_difference], [row], "o", color=colour, ms=7)
    ax.axvline(0, color="black", lw=1)
    ax.set_yticks(range(len(names)), names)
    ax.invert_yaxis()
    ax.set_xlabel(f"{label} (dot: mean; bar: {_confidence(comparisons):.0%} interval)")
    ax.margins(y=0.3)
    return ax


def _confidence(comparisons: Mapping[str, Any]) -> float:
    return float(next(iter(comparisons.values())).confidence)
