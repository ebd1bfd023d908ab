"""Seeded faults: what goes wrong with a model endpoint, on demand and reproducibly.

Real endpoints fail transiently: a request that got a 429 succeeds a moment later. So whether a
call fails depends on the plan's seed, the request and how many times that same request has
been seen: the same seed and the same sequence of calls give the same faults, and retrying a
failed call can succeed, as it does in production.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from course_lib.standin.text import stable_unit

__all__ = ["Fault", "FaultInjector", "FaultPlan"]

_DEFAULT_MIX = MappingProxyType({"rate_limit": 0.5, "server_error": 0.3, "timeout": 0.2})
FAULT_KINDS = ("rate_limit", "server_error", "timeout")


@dataclass(frozen=True)
class FaultPlan:
    """How often and how a model endpoint fails.

    Args:
        rate: share of calls that fail (0 to 1).
        seed: makes the faults reproducible.
        mix: relative weights of ``rate_limit`` (429 with Retry-After), ``server_error``
            (500 or 503) and ``timeout`` (a response slower than the client waits).
        retry_after_s: the Retry-After a 429 carries, in seconds.
        timeout_s: how long a timed-out response takes to come back over HTTP.
        latency_spike_rate: share of calls that succeed but slowly (not counted in ``rate``).
        latency_spike_ms: how much slower.
        malformed_rate: share of structured outputs that are malformed; None keeps each
            model's own rate from the registry.
        models: model ids the faults apply to (None: every model), e.g. to take one
            provider's model down while its fallback stays up.
    """

    rate: float = 0.0
    seed: int = 0
    mix: Mapping[str, float] = field(default_factory=lambda: dict(_DEFAULT_MIX))
    retry_after_s: float = 0.2
    timeout_s: float = 2.0
    latency_spike_rate: float = 0.0
    latency_spike_ms: float = 2000.0
    malformed_rate: float | None = None
    models: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        for name in ("rate", "latency_spike_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"FaultPlan.{name} must be between 0 and 1, got {value!r}.")
        if self.malformed_rate is not None and not 0.0 <= self.malformed_rate <= 1.0:
            raise ValueError(
                f"FaultPlan.malformed_rate must be between 0 and 1, got {self.malformed_rate!r}."
            )
        unknown = set(self.mix) - set(FAULT_KINDS)
        if unknown:
            raise ValueError(
                f"Unknown fault kind(s) {sorted(unknown)} in FaultPlan.mix; "
                f"use {list(FAULT_KINDS)}."
            )
        if sum(self.mix.values()) <= 0:
            raise ValueError("FaultPlan.mix needs at least one positive weight.")


@dataclass(frozen=True)
class Fault:
    """One injected failure (or a latency spike, which is not a failure)."""

    kind: str  # rate_limit | server_error | timeout | latency_spike
    status_code: int | None = None
    retry_after_s: float | None = None
    delay_s: float = 0.0
    extra_latency_ms: float = 0.0


class FaultInjector:
    """Draws the fault of each call from a plan; safe to share between threads."""

    def __init__(self, plan: FaultPlan | None) -> None:
        self.plan = plan or FaultPlan()
        self._seen: dict[str, int] = {}
        self._lock = threading.Lock()

    def draw(self, fingerprint: str, model: str | None = None) -> Fault | None:
        plan = self.plan
        if plan.rate <= 0 and plan.latency_spike_rate <= 0:
            return None
        if plan.models is not None and model not in plan.models:
            return None
        with self._lock:
            occurrence = self._seen.get(fingerprint, 0)
            self._seen[fingerprint] = occurrence + 1
        u = stable_unit("fault", plan.seed, fingerprint, occurrence)
        if u < plan.rate:
            position = u / plan.rate * sum(plan.mix.values())
            kind = FAULT_KINDS[-1]
            for name in FAULT_KINDS:
                weight = plan.mix.get(name, 0.0)
                if position < weight:
                    kind = name
                    break
                position -= weight
            if kind == "rate_limit":
                return Fault(kind, 429, retry_after_s=plan.retry_after_s)
            if kind == "server_error":
                status = (
                    503 if stable_unit("status", plan.seed, fingerprint, occurrence) < 0.5 else 500
                )
                return Fault(kind, status)
            return Fault(kind, None, delay_s=plan.timeout_s)
        v = stable_unit("spike", plan.seed, fingerprint, occurrence)
        if v < plan.latency_spike_rate:
            return Fault("latency_spike", extra_latency_ms=plan.latency_spike_ms)
        return None
