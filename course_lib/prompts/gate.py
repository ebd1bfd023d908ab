"""The regression gate: may this prompt version replace the one an environment serves?

A candidate is compared with the baseline (the version the environment serves now) on the
same golden questions, question by question, and the gate reads the paired interval of the
difference, never the two means alone. The rule, per metric, is **non-inferiority**:

    pass  when  low >= -margin

where ``low`` is the lower bound of the 95% interval of (candidate - baseline) and ``margin``
the largest loss you accept (0.02: two points of the metric). So the candidate passes only
when the data rule out a loss bigger than the margin. "Block only when the interval is
entirely below zero" is a different, weaker rule: with few questions every interval is wide,
and a candidate that lost several points but whose interval still touches zero would ship.
Under non-inferiority, too little evidence blocks.

Deterministic assertions (a planted injection is resisted, an unrelated context is refused)
may be added: each must hold. The decision records the content hashes of both versions, so
it cannot be reused for another file (see :class:`~course_lib.prompts.PromptDeployer`).

The intervals come from elsewhere (``course_lib.evaluation.compare_runs`` or
``paired_bootstrap``): this module only decides, so any statistic with ``mean_difference``,
``low`` and ``high`` will do.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Protocol

from course_lib.prompts.versions import PromptVersion

__all__ = [
    "DEFAULT_MARGIN",
    "GateDecision",
    "MetricCheck",
    "PairedInterval",
    "regression_gate",
]

DEFAULT_MARGIN = 0.02
"""The loss the gate accepts by default: two points of a 0-1 metric, at 95% confidence."""


class PairedInterval(Protocol):
    """What the gate reads of a paired comparison (``PairedComparison`` has all of it)."""

    @property
    def mean_difference(self) -> float: ...

    @property
    def low(self) -> float: ...

    @property
    def high(self) -> float: ...


@dataclass(frozen=True)
class MetricCheck:
    """One metric's verdict: the paired difference (candidate - baseline) against its margin."""

    metric: str
    mean_difference: float
    low: float
    high: float
    margin: float

    @property
    def passed(self) -> bool:
        """True when the interval rules out a loss larger than ``margin``."""
        return self.low >= -self.margin

    def __str__(self) -> str:
        verdict = "pass" if self.passed else "BLOCK"
        sign = ">=" if self.passed else "<"
        return (
            f"{self.metric}: {self.mean_difference:+.3f} (95% CI {self.low:+.3f} to "
            f"{self.high:+.3f}); low {sign} -{self.margin:.3f}: {verdict}"
        )


@dataclass(frozen=True)
class GateDecision:
    """The gate's verdict on ``candidate`` against ``baseline``, with every reason."""

    candidate: str
    baseline: str
    candidate_sha256: str
    baseline_sha256: str
    checks: tuple[MetricCheck, ...]
    assertions: Mapping[str, bool] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """Every metric is non-inferior and every assertion holds."""
        return all(c.passed for c in self.checks) and all(self.assertions.values())

    @property
    def failures(self) -> list[str]:
        """Why the gate blocked, one line per failed metric or assertion (empty if it passed)."""
        return [str(c) for c in self.checks if not c.passed] + [
            f"assertion failed: {name}" for name, ok in self.assertions.items() if not ok
        ]

    def summary(self) -> str:
        """One line: the verdict and the first reason, as a history or a log records it."""
        if self.passed:
            return f"gate passed: {self.candidate} vs {self.baseline}"
        return f"gate blocked {self.candidate} vs {self.baseline}: {self.failures[0]}"

    def __str__(self) -> str:
        verdict = "PROMOTE" if self.passed else "BLOCK"
        lines = [f"{self.candidate} vs {self.baseline}: {verdict}"]
        lines += [f"  {check}" for check in self.checks]
        lines += [f"  {name}: {'pass' if ok else 'BLOCK'}" for name, ok in self.assertions.items()]
        return "\n".join(lines)


def regression_gate(
    candidate: PromptVersion,
    baseline: PromptVersion,
    comparisons: Mapping[str, PairedInterval],
    *,
    margin: float | Mapping[str, float] = DEFAULT_MARGIN,
    assertions: Mapping[str, bool] | None = None,
) -> GateDecision:
    """Decides whether ``candidate`` may replace ``baseline``.

    Args:
        comparisons: metric name -> the paired interval of (candidate - baseline) over the
            same golden questions, e.g. ``compare_runs(baseline_run, candidate_run, metric)``.
        margin: the loss accepted, for every metric or per metric (a metric missing from the
            mapping gets :data:`DEFAULT_MARGIN`). 0 demands evidence of no loss at all.
        assertions: name -> whether a deterministic check held (all must).

    Raises:
        ValueError: no comparison, a negative or non-finite margin, or an interval that is not
            one (NaN, or low above high); the message names the metric.
    """
    if not comparisons:
        raise ValueError(
            "The gate needs at least one comparison, e.g. {'success': compare_runs(baseline, "
            "candidate, 'success')}."
        )
    checks = []
    for metric, interval in comparisons.items():
        allowed = margin.get(metric, DEFAULT_MARGIN) if isinstance(margin, Mapping) else margin
        if isinstance(allowed, bool) or not math.isfinite(allowed) or allowed < 0:
            raise ValueError(
                f"The margin of {metric!r} must be a number >= 0 (the loss you accept, e.g. "
                f"0.02); got {allowed!r}."
            )
        values = (interval.mean_difference, interval.low, interval.high)
        if not all(math.isfinite(v) for v in values) or interval.low > interval.high:
            raise ValueError(
                f"The comparison of {metric!r} is not an interval (difference "
                f"{values[0]!r}, low {values[1]!r}, high {values[2]!r}); compute it with "
                "paired_bootstrap or compare_runs over the same questions."
            )
        difference, low, high = (float(v) for v in values)
        checks.append(MetricCheck(metric, difference, low, high, float(allowed)))
    return GateDecision(
        candidate=candidate.ref,
        baseline=baseline.ref,
        candidate_sha256=candidate.sha256,
        baseline_sha256=baseline.sha256,
        checks=tuple(checks),
        assertions=MappingProxyType({str(k): bool(v) for k, v in (assertions or {}).items()}),
    )
