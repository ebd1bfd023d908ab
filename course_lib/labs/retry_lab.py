"""Retry experiments on a modelled clock: a retry storm, and a policy tried against faults.

Two questions about a retry policy need many calls and a clock you can trust:

* How do clients that failed at the same moment spread their retries? :func:`retry_storm`
  draws every client's retry times from the policy itself (full or added-on jitter), and
  :func:`storm_summary` counts the busiest slot; :func:`plot_retry_storm` draws them.
* Does a policy meet a success rate and a latency target? :func:`trial_policy` runs prompts
  through the real client and the stand-in model under a planted fault plan, on a modelled
  clock: waits between tries, timeouts and answers advance the clock instead of sleeping. So
  a trial of hundreds of calls takes a second, gives the same numbers on every machine, and
  the latency it reports is what a user would have waited with these production-sized times.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from course_lib.errors import (
    LLMError,
    ModelRequestError,
    ModelTimeoutError,
    RateLimitError,
    ServerError,
    UnknownModelError,
)
from course_lib.llm import CircuitBreaker, LLMClient
from course_lib.standin.errors import InvalidRequestError
from course_lib.standin.faults import FaultPlan
from course_lib.standin.provider import LocalProvider

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from course_lib.llm import ReliabilityPolicy
    from course_lib.llm.client import Messages

__all__ = [
    "TRIAL_PLAN",
    "PolicyTrial",
    "plot_retry_storm",
    "retry_storm",
    "storm_summary",
    "trial_policy",
]

# The planted fault plan of the policy trial: 30% of requests fail. A 429 asks for 1 s, and a
# stuck request would answer after 20 s if the client kept waiting.
TRIAL_PLAN = FaultPlan(
    rate=0.3,
    mix={"rate_limit": 0.4, "server_error": 0.35, "timeout": 0.25},
    retry_after_s=1.0,
    timeout_s=20.0,
)
ERROR_RESPONSE_S = 0.05  # how long a 429 or 5xx takes to come back
ARRIVAL_S = 1.0  # a new call every second: an open circuit fails calls until it resets


# -- many clients after one outage -----------------------------------------------------------


def retry_storm(policy: ReliabilityPolicy, *, clients: int = 1000, seed: int = 0) -> pd.DataFrame:
    """When each of ``clients`` retries, if all failed at t = 0 and the outage goes on.

    Every try fails (the endpoint is still down), so each client walks through all its
    retries; the waits come from ``policy.backoff_s``, the same code the client runs.

    Returns:
        One row per retry: ``client``, ``retry`` (1 for the first retry) and ``time_s``.
    """
    import pandas as pd

    rng = random.Random(seed)
    rows = []
    for client in range(clients):
        now = 0.0
        for attempt in range(1, policy.max_attempts):
            now += policy.backoff_s(attempt, rng)
            rows.append({"client": client, "retry": attempt, "time_s": now})
    return pd.DataFrame(rows, columns=["client", "retry", "time_s"])


def storm_summary(storms: Mapping[str, pd.DataFrame], *, slot_s: float = 0.1) -> pd.DataFrame:
    """Per scheme and retry: how spread out the clients' retries are.

    Returns:
        One row per (scheme, retry): ``spread_s``, the time between the 5th and the 95th
        percentile of that retry's times (the window 90% of the clients retry in), and
        ``busiest_slot``, the most retries of that wave landing in one ``slot_s`` window:
        what the endpoint meets at once.
    """
    import pandas as pd

    rows = []
    for name, times in storms.items():
        for retry, wave in times.groupby("retry"):
            slots = (wave["time_s"] // slot_s).astype(int)
            rows.append(
                {
                    "scheme": name,
                    "retry": int(retry),
                    "spread_s": float(
                        wave["time_s"].quantile(0.95) - wave["time_s"].quantile(0.05)
                    ),
                    "busiest_slot": int(slots.value_counts().max()),
                }
            )
    return pd.DataFrame(rows)


def plot_retry_storm(storms: Mapping[str, pd.DataFrame], *, slot_s: float = 0.1) -> Figure:
    """Retries per ``slot_s`` against time, one panel per scheme, on a shared y axis."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(
        len(storms), 1, figsize=(7, 1.9 * len(storms)), sharex=True, sharey=True
    )
    axes = axes if len(storms) > 1 else [axes]
    end = max(float(t["time_s"].max()) for t in storms.values())
    bins = [i * slot_s for i in range(int(end / slot_s) + 2)]
    for ax, (name, times) in zip(axes, storms.items(), strict=True):
        ax.hist(times["time_s"], bins=bins, color="tab:blue")
        ax.set(ylabel=f"retries per {slot_s:g} s", title=name)
    axes[-1].set(xlabel="seconds after the outage began")
    fig.tight_layout()
    return fig


# -- a policy against planted faults, on a modelled clock -------------------------------------


class _Clock:
    """Modelled seconds; the client's sleep and the provider's waits advance it."""

    def __init__(self) -> None:
        self.now = 0.0

    def read(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(float(seconds), 0.0)


class _ModelledTimeProvider(LocalProvider):
    """The in-process stand-in, charging each request's time to a clock instead of sleeping.

    The same model, faults and refusals as :class:`LocalProvider`; what a request costs in
    time is modelled: a 429 or 5xx comes back after ``ERROR_RESPONSE_S``, a stuck request
    after the plan's ``timeout_s``, an answer after the registry's latency formula; a
    response slower than the read timeout costs the read timeout and raises a timeout.
    """

    def __init__(self, plan: FaultPlan, clock: _Clock) -> None:
        super().__init__(faults=plan)
        self.clock = clock

    def complete(
        self, request: Mapping[str, Any], *, connect_timeout_s: float, read_timeout_s: float
    ) -> dict[str, Any]:
        name = request.get("model")
        try:
            prepared = self.model.prepare(request)
        except InvalidRequestError as exc:
            if exc.code == "model_not_found":
                raise UnknownModelError(str(exc)) from exc
            raise ModelRequestError(str(exc), status_code=exc.status) from exc
        fault = prepared.fault
        if fault is not None and fault.kind in ("rate_limit", "server_error"):
            self.clock.sleep(ERROR_RESPONSE_S)
            if fault.kind == "rate_limit":
                raise RateLimitError(
                    f"Rate limit reached for {name} (429).", retry_after=fault.retry_after_s
                )
            raise ServerError(f"HTTP {fault.status_code}.", status_code=fault.status_code or 500)
        response = self.model.answer(request, prepared)
        took = response["course"]["latency_ms"] / 1000
        if fault is not None and fault.kind == "timeout":
            took = fault.delay_s + took
        if took > read_timeout_s:
            self.clock.sleep(read_timeout_s)
            raise ModelTimeoutError(f"No response from {name} within {read_timeout_s} s.")
        self.clock.sleep(took)
        return response


@dataclass(frozen=True)
class PolicyTrial:
    """What a policy achieved in :func:`trial_policy`."""

    calls: int
    success_rate: float
    p95_latency_s: float  # of every call, failed ones included: what users waited
    worst_case_s: float  # the policy's bound, from ReliabilityPolicy.worst_case_s
    requests_per_call: float
    per_seed: tuple[float, ...]  # the success rate on each seed
    # Why the failed calls failed: the error each raised in the end, by type. A
    # CircuitOpenError is a call the breaker refused without sending it.
    errors: Mapping[str, int] = field(default_factory=dict)

    @property
    def failures(self) -> int:
        """How many calls failed, over every seed."""
        return sum(self.errors.values())

    def meets(self, *, success: float, p95_s: float, worst_case_s: float) -> bool:
        """True when every target is met."""
        return (
            self.success_rate >= success
            and self.p95_latency_s <= p95_s
            and self.worst_case_s <= worst_case_s
        )


def trial_policy(
    policy: ReliabilityPolicy,
    prompts: Sequence[Messages],
    *,
    seeds: Sequence[int] = (0, 1),
    plan: FaultPlan = TRIAL_PLAN,
    model: str = "chat-small",
) -> PolicyTrial:
    """Run ``prompts`` once per seed under ``policy`` and the planted ``plan``, modelled time.

    Each seed is a fresh fault plan (``plan`` with that seed) and a fresh client, so the
    circuit breaker and the jitter start anew; a trial on seeds you did not tune on tells
    whether a policy generalises or only fits the faults it was tuned against.
    """
    import numpy as np

    from course_lib.llm import ReliabilityPolicy

    if not isinstance(policy, ReliabilityPolicy):
        raise TypeError(f"trial_policy needs a ReliabilityPolicy, got {type(policy).__name__}.")
    latencies: list[float] = []
    requests = 0
    per_seed = []
    errors: Counter[str] = Counter()
    for seed in seeds:
        clock = _Clock()
        provider = _ModelledTimeProvider(FaultPlan(**{**plan.__dict__, "seed": seed}), clock)
        client = LLMClient(provider, policy=policy, sleep=clock.sleep, jitter_seed=seed)
        # The breaker must read the same modelled clock, or an open circuit would stay open
        # for its reset time in real seconds while the trial's time races ahead.
        client._breaker = CircuitBreaker(
            policy.breaker_failure_threshold, policy.breaker_reset_s, clock=clock.read
        )
        ok = 0
        for i, messages in enumerate(prompts):
            clock.now = max(clock.now, i * ARRIVAL_S)  # calls arrive one a second
            started = clock.now
            try:
                client.chat(messages, model=model)
                ok += 1
            except LLMError as exc:
                errors[type(exc).__name__] += 1
            latencies.append(clock.now - started)
        requests += client.stats.attempts
        per_seed.append(ok / len(prompts) if prompts else float("nan"))
    calls = len(latencies)
    return PolicyTrial(
        calls=calls,
        success_rate=float(np.mean(per_seed)) if per_seed else float("nan"),
        p95_latency_s=float(np.percentile(latencies, 95)) if latencies else float("nan"),
        worst_case_s=policy.worst_case_s(),
        requests_per_call=requests / calls if calls else float("nan"),
        per_seed=tuple(per_seed),
        errors=dict(sorted(errors.items())),
    )
