"""Lesson 2.3's faults section: a model endpoint with planted faults and latency, and the
measurement of an answer-step policy against the lesson's SLA and call budget.

The endpoint misbehaves on a seeded plan: some calls are rate limited, fail or hang
(:func:`fault_plan`), and healthy calls take a planted latency with a tail
(:class:`LatencyPlan`): most requests are quick, a few are slow on every attempt. A
:class:`~course_lib.labs.orchestration_lab.LessonProcess` delivers them; every fault and latency
is drawn when the call starts, from the seed, the request and how often that request was sent
before. :func:`measure_policy` runs on a :class:`SimulatedClock`: planted latencies, timeouts and
retry waits are added up, never slept, so its figures are the same on an idle laptop and on a
loaded server, and it takes seconds.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import TYPE_CHECKING, Any

from course_lib.orchestration import AnswerState, rewrite_query

if TYPE_CHECKING:
    from course_lib.orchestration import RunResult, StepContext, StepPolicy
    from course_lib.rag import HandbookIndex
    from course_lib.standin import FaultPlan

__all__ = [
    "CALL_BUDGET",
    "FAULT_MIX",
    "FAULT_RATE",
    "HANG_S",
    "RETRY_AFTER_S",
    "SLA_S",
    "SLA_SHARE",
    "TUNING_QUESTIONS",
    "TUNING_SEEDS",
    "LatencyPlan",
    "PolicyReport",
    "SimulatedClock",
    "describe_endpoint",
    "fault_plan",
    "measure_policy",
]

FAULT_RATE = 0.25
"""Share of model calls that go wrong in the faults section: 429s, 5xx and hung calls."""
FAULT_MIX: Mapping[str, float] = {"rate_limit": 0.3, "server_error": 0.1, "timeout": 0.6}
"""How the faulty calls split: rate limited (429), server errors (5xx), hung."""
HANG_S = 2.0
"""How much longer than usual a hung model call takes before it answers after all."""
RETRY_AFTER_S = 0.2
"""The Retry-After a rate-limited call carries."""
SLA_S = 1.2
"""The service-level target for one question's answer step, retries and waits included."""
SLA_SHARE = 0.9
"""Share of questions that must be answered within :data:`SLA_S` (a 90th-percentile SLA)."""
CALL_BUDGET = 1.5
"""Model calls per question the budget allows on average (abandoned calls are billed too)."""
TUNING_SEEDS = (21, 22)
"""The fault seeds the lesson tunes its answer-step policy on (the checker uses others)."""
TUNING_QUESTIONS = 161
"""How many dev-split questions the tuning batch holds: the whole dev split, so its slowest
healthy requests show the latency tail (the checker uses test-split questions)."""


@dataclass(frozen=True)
class LatencyPlan:
    """How long the faults section's endpoint takes to answer a healthy call (planted).

    Most requests are quick; a share of them is consistently slow (think a long context or a
    long answer), so their every call is slow; each call varies a little around its request's
    latency. Draws are bounded (no request is slower than about ``slow_s`` x 1.4), so a
    timeout well above the slowest request never cuts a healthy call.

    Args:
        seed: varies each call's jitter (a request's own latency depends on the request only).
        fast_s, slow_s: the median latency of quick and of slow requests, in seconds.
        slow_share: the share of requests that are slow.
        jitter: each call is within this fraction of its request's latency.
    """

    seed: int = 0
    fast_s: float = 0.08
    slow_s: float = 0.35
    slow_share: float = 0.15
    jitter: float = 0.08

    def __post_init__(self) -> None:
        if not 0 < self.fast_s <= self.slow_s:
            raise ValueError(
                f"LatencyPlan needs 0 < fast_s <= slow_s, got {self.fast_s!r} and {self.slow_s!r}."
            )
        if not 0 <= self.slow_share <= 1 or not 0 <= self.jitter < 1:
            raise ValueError(
                "LatencyPlan.slow_share must be between 0 and 1 and jitter in [0, 1), got "
                f"{self.slow_share!r} and {self.jitter!r}."
            )

    def latency(self, fingerprint: str, occurrence: int) -> float:
        """Seconds the ``occurrence``-th call (0 first) of the request ``fingerprint`` takes."""
        from course_lib.standin.text import stable_unit

        slow = stable_unit("latency-slow", fingerprint) < self.slow_share
        median, spread = (self.slow_s, 0.12) if slow else (self.fast_s, 0.3)
        # the request's own latency: a log-normal draw, cut at its 1st and 99th percentiles
        z = NormalDist().inv_cdf(0.01 + 0.98 * stable_unit("latency-base", fingerprint))
        base = median * math.exp(spread * z)
        wobble = 2 * stable_unit("latency", self.seed, fingerprint, occurrence) - 1
        return base * (1 + self.jitter * wobble)


def fault_plan(seed: int, *, rate: float = FAULT_RATE) -> FaultPlan:
    """The faults section's model endpoint: ``rate`` of calls go wrong, split as
    :data:`FAULT_MIX` (429s with a short Retry-After, server errors, calls that hang for
    :data:`HANG_S` seconds more before they answer)."""
    from course_lib.standin import FaultPlan

    return FaultPlan(
        rate=rate, seed=seed, mix=dict(FAULT_MIX), timeout_s=HANG_S, retry_after_s=RETRY_AFTER_S
    )


def describe_endpoint(seed: int = TUNING_SEEDS[0]) -> str:
    """The faults section's endpoint in two sentences, computed from its plans."""
    plan, latency = fault_plan(seed), LatencyPlan(seed)
    total = sum(plan.mix.values())
    share = {kind: plan.rate * weight / total for kind, weight in plan.mix.items()}
    return (
        f"{plan.rate:.0%} of model calls go wrong: {share['rate_limit']:.1%} are rate limited "
        f"(Retry-After {plan.retry_after_s:g} s), {share['server_error']:.1%} fail with a "
        f"server error, and {share['timeout']:.0%} hang: they answer {plan.timeout_s:g} s late.\n"
        f"Healthy calls take about {latency.fast_s:g} s, but {latency.slow_share:.0%} of "
        f"requests are slow every time (about {latency.slow_s:g} s)."
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank ``q`` percentile of ``values`` (0 when empty)."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


@dataclass(frozen=True)
class PolicyReport:
    """How a batch did under faults with one answer-step policy.

    Everything comes from the planted faults and latencies and each run's outcome; times are
    on the :class:`SimulatedClock`. ``healthy_latencies_s`` lists every healthy call (so it
    grows with retries); ``request_latencies_s`` lists each run's request once, at its first
    call, so it is the same whatever the policy.
    """

    runs: int
    answered: int
    within_sla: int
    model_calls: int
    healthy_latencies_s: tuple[float, ...] = ()
    faults: Mapping[str, int] = field(default_factory=dict)
    healthy_cut: int = 0
    slowest_s: float = 0.0
    errors: tuple[str, ...] = ()
    request_latencies_s: tuple[float, ...] = ()

    @property
    def calls_per_question(self) -> float:
        return self.model_calls / self.runs if self.runs else 0.0

    @property
    def within_sla_share(self) -> float:
        return self.within_sla / self.runs if self.runs else 0.0

    def missed_targets(self) -> list[str]:
        """Which targets the batch missed: ``"sla"``, ``"budget"``, ``"cuts"`` (the timeout
        cut a healthy call: it is there for hung ones), any of them or none."""
        missed = []
        if self.within_sla_share < SLA_SHARE - 1e-9:
            missed.append("sla")
        if self.calls_per_question > CALL_BUDGET + 1e-9:
            missed.append("budget")
        if self.healthy_cut:
            missed.append("cuts")
        return missed

    def summary(self) -> str:
        """Three lines: the targets, the calls, and the planted latency and faults met."""
        latencies = self.request_latencies_s or self.healthy_latencies_s
        faults = self.faults
        return (
            f"{self.within_sla} of {self.runs} questions answered within the {SLA_S:g} s SLA "
            f"({self.within_sla_share:.0%}, target {SLA_SHARE:.0%}); {self.answered} answered "
            f"in all\n{self.calls_per_question:.2f} model calls per question (budget "
            f"{CALL_BUDGET:g}); {_count(self.healthy_cut, 'healthy call')} cut by the timeout "
            f"(target 0)\n"
            f"healthy latency per request: median {_percentile(latencies, 50):.2f} s, "
            f"slowest {max(latencies, default=0.0):.2f} s; "
            f"faults: {faults.get('rate_limit', 0)} rate limited, "
            f"{_count(faults.get('server_error', 0), 'server error')}, "
            f"{faults.get('timeout', 0)} hung"
        )


class SimulatedClock:
    """The time one run spends on the planted endpoint, added up instead of waited for.

    The endpoint adds each call's planted latency with :meth:`spend`; the workflow's retry
    waits go through :meth:`sleep`; :meth:`attempt` applies a timeout to one attempt. ``now``
    is the seconds the run has taken so far.
    """

    def __init__(self) -> None:
        self.now = 0.0
        self._spent = 0.0

    def __repr__(self) -> str:
        return f"SimulatedClock(now={self.now:.3f})"

    def sleep(self, seconds: float) -> None:
        """A retry's wait: the clock moves on, nothing sleeps."""
        if seconds < 0:
            raise ValueError(f"Cannot sleep a negative time, got {seconds!r}.")
        self.now += seconds

    def spend(self, seconds: float) -> None:
        """A model call's planted latency, inside the attempt being timed."""
        self._spent += seconds

    def attempt(
        self, call: Callable[[], dict[str, Any]], timeout_s: float | None, context: StepContext
    ) -> dict[str, Any]:
        """``call()`` as an attempt with ``timeout_s``: one that spends longer is abandoned at
        the timeout with :class:`~course_lib.errors.StepTimeoutError`, as the engine does
        (its call was already sent, so it is billed)."""
        from course_lib.errors import StepTimeoutError

        self._spent = 0.0
        try:
            output = call()
        finally:
            spent, self._spent = self._spent, 0.0
        if timeout_s is not None and spent > timeout_s:
            self.now += timeout_s
            raise StepTimeoutError(
                f"Step {context.step!r} of run {context.run_id!r} took longer than its "
                f"{timeout_s:g} s timeout on attempt {context.attempt}; the attempt was "
                "abandoned."
            )
        self.now += spent
        return output


def _with_gold_passages(batch: Sequence[tuple[str, AnswerState]]) -> list[tuple[str, AnswerState]]:
    """The batch's states as the answer step receives them, with the passages the golden set
    says answer each question (its quotes; none for an unanswerable question) in place of a
    retrieval: what is measured is the answer step, and this keeps the measurement cheap."""
    import dataclasses

    from course_lib.datasets import load_golden_set

    golden = {question.id: question for question in load_golden_set()}
    prepared = []
    for run_id, state in batch:
        question = golden.get(run_id)
        if question is None:
            raise ValueError(
                f"Run id {run_id!r} is not a golden-set question id; build the batch with "
                "lesson_batch(load_golden_set(split), n)."
            )
        passages = [
            {
                "cite_id": source.doc_id,
                "chunk_id": f"{source.doc_id}#{number}",
                "doc_id": source.doc_id,
                "text": source.quote,
            }
            for number, source in enumerate(question.sources, start=1)
        ]
        ready = dataclasses.replace(state, query=rewrite_query(state.question), passages=passages)
        prepared.append((run_id, ready))
    return prepared


def _timed(
    answer: Callable[[AnswerState], dict[str, Any]], clock: SimulatedClock, timeout_s: float | None
) -> Callable[[AnswerState, StepContext], dict[str, Any]]:
    """The answer step with ``timeout_s`` applied on ``clock``."""
    import functools

    def step(state: AnswerState, context: StepContext) -> dict[str, Any]:
        return clock.attempt(functools.partial(answer, state), timeout_s, context)

    return step


def measure_policy(
    policy: StepPolicy,
    *,
    index: HandbookIndex,
    batch: Sequence[tuple[str, AnswerState]],
    seeds: Sequence[int] = TUNING_SEEDS,
    rate: float = FAULT_RATE,
) -> PolicyReport:
    """Runs the answer step of every question of ``batch`` once per fault seed, with
    ``policy``, the endpoint failing as :func:`fault_plan` ``(seed, rate=rate)`` says and
    healthy calls taking :class:`LatencyPlan` ``(seed)``'s latency.

    Each question gets the passages the golden set gives it (no retrieval) and runs in its
    own one-step workflow, whose retry jitter is seeded by the fault seed and run id. Time is
    a :class:`SimulatedClock`: the policy's timeout, attempts and waits are applied to the
    planted latencies as the engine applies them to real ones, so the report is the same on
    any machine. Counts what was answered within :data:`SLA_S`, the calls billed, and the
    healthy calls the timeout cut.
    """
    import dataclasses

    from course_lib.labs.orchestration_lab import LessonProcess
    from course_lib.orchestration import Step, StepPolicy, Workflow
    from course_lib.standin.text import stable_hash

    if not isinstance(policy, StepPolicy):
        raise TypeError(f"policy must be a StepPolicy, got {type(policy).__name__}.")
    if not seeds:
        raise ValueError("measure_policy needs at least one fault seed.")
    prepared = _with_gold_passages(batch)
    timeout = policy.timeout_s
    in_caller = dataclasses.replace(policy, timeout_s=None)  # the clock applies the timeout
    results: list[RunResult[AnswerState]] = []
    durations: list[float] = []
    calls: list[Any] = []
    requests: list[float] = []
    for seed in seeds:
        clock = SimulatedClock()
        plan = LatencyPlan(seed)
        process = LessonProcess(
            f"faults, seed {seed}",
            index,
            faults=fault_plan(seed, rate=rate),
            latency=plan,
            clock=clock,
        )
        step = Step("answer", _timed(process.handbook_steps().answer, clock, timeout), in_caller)
        for run_id, state in prepared:
            clock.now = 0.0
            first = len(process.call_log)
            workflow: Workflow[AnswerState] = Workflow(
                "handbook-answer",
                [step],
                sleep=clock.sleep,
                seed=stable_hash("jitter", seed, run_id),
            )
            results.append(workflow.run(run_id, state))
            durations.append(clock.now)
            requests.append(plan.latency(process.call_log[first].fingerprint, 0))
        calls += process.call_log
    return PolicyReport(
        runs=len(results),
        answered=sum(r.ok for r in results),
        within_sla=sum(r.ok and d <= SLA_S for r, d in zip(results, durations, strict=True)),
        model_calls=len(calls),
        healthy_latencies_s=tuple(c.latency_s for c in calls if c.fault is None),
        faults=dict(Counter(c.fault for c in calls if c.fault is not None)),
        healthy_cut=sum(
            1 for c in calls if c.fault is None and timeout is not None and c.latency_s > timeout
        ),
        slowest_s=max(durations, default=0.0),
        errors=tuple(r.error for r in results if r.error),
        request_latencies_s=tuple(requests),
    )
