"""A rate and its interval: attack success and false blocks are counted, and counts are small.

An attack suite holds tens of cases, split by category into a few each; "0 of 6 succeeded"
does not mean the risk is zero. The Wilson score interval (Wilson, 1927) is honest at small
counts and at 0 or 1, where the usual normal interval collapses to a point and a bootstrap of
zeros does too.

>>> rate(0, 6)
Rate(0/6 = 0.00, 95% CI 0.00 to 0.39)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

__all__ = ["Rate", "rate"]


@dataclass(frozen=True)
class Rate:
    """``count`` of ``total``, as a share with a confidence interval."""

    count: int
    total: int
    low: float
    high: float
    confidence: float = 0.95

    @property
    def value(self) -> float:
        return self.count / self.total if self.total else float("nan")

    def __repr__(self) -> str:
        share = round(self.confidence * 100)
        return (
            f"Rate({self.count}/{self.total} = {self.value:.2f}, {share}% CI "
            f"{self.low:.2f} to {self.high:.2f})"
        )

    def __str__(self) -> str:
        return f"{self.value:.2f} ({self.count}/{self.total}; CI {self.low:.2f}-{self.high:.2f})"


def rate(count: int, total: int, *, confidence: float = 0.95) -> Rate:
    """``count`` successes in ``total`` trials, with a Wilson score interval.

    Raises:
        ValueError: a negative count, a count above the total, or a confidence outside (0, 1).
    """
    if isinstance(count, bool) or isinstance(total, bool):
        raise ValueError("count and total are numbers of cases, not True/False.")
    if total < 0 or count < 0 or count > total:
        raise ValueError(f"need 0 <= count <= total, got count={count}, total={total}.")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence is a share between 0 and 1, got {confidence}.")
    if total == 0:
        return Rate(0, 0, float("nan"), float("nan"), confidence)
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = count / total
    denominator = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denominator
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denominator
    low = 0.0 if count == 0 else max(0.0, centre - half)
    high = 1.0 if count == total else min(1.0, centre + half)
    return Rate(count, total, round(low, 6), round(high, 6), confidence)
