"""Lesson 2.3's faults section: a model endpoint with planted faults and latency, and the
measurement of an answer-step policy against the lesson's SLA and call budget.

The endpoint misbehaves on a seeded plan: some calls are rate limited, fail or hang
(:func:`fault_plan`), and healthy calls take a planted latency with a tail
(:class:`LatencyPlan`): most requests are quick, a few are slow on every attempt. A
:class:`~course_lib.labs.orchestration_lab.LessonProcess` delivers them; every fault and latency
is drawn when the call starts, from the seed, the request and how often that request was sent
before, so :func:`measure_policy` gives the same counts whatever order its workers run in.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import TYPE_CHECKING

from course_lib.orchestration import AnswerState, rewrite_query

if TYPE_CHECKING:
    from course_lib.orchestration import RunResult, StepPolicy
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
TUNING_QUESTIONS = 20
"""How many dev-split questions the tuning batch holds (the checker uses test-split ones)."""


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

    Counts come from the planted faults and latencies and from each run's outcome; only
    ``slowest_s`` is a wall-clock time.
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

    @property
    def calls_per_question(self) -> float:
        return self.model_calls / self.runs if self.runs else 0.0

    @property
    def within_sla_share(self) -> float:
        return self.within_sla / self.runs if self.runs else 0.0

    def missed_targets(self) -> list[str]:
        """Which targets the batch missed: ``"sla"``, ``"budget"``, both or none."""
        missed = []
        if self.within_sla_share < SLA_SHARE - 1e-9:
            missed.append("sla")
        if self.calls_per_question > CALL_BUDGET + 1e-9:
            missed.append("budget")
        return missed

    def summary(self) -> str:
        """Three lines of counts (no timings, which vary from machine to machine)."""
        latencies = self.healthy_latencies_s
        faults = self.faults
        return (
            f"{self.within_sla} of {self.runs} questions answered within the {SLA_S:g} s SLA "
            f"({self.within_sla_share:.0%}, target {SLA_SHARE:.0%}); {self.answered} answered "
            f"in all\n{self.calls_per_question:.2f} model calls per question (budget "
            f"{CALL_BUDGET:g}); {_count(self.healthy_cut, 'healthy call')} cut by the timeout\n"
            f"healthy calls: median {_percentile(latencies, 50):.2f} s, 90th percentile "
            f"{_percentile(latencies, 90):.2f} s, slowest {max(latencies, default=0.0):.2f} s; "
            f"faults: {faults.get('rate_limit', 0)} rate limited, "
            f"{_count(faults.get('server_error', 0), 'server error')}, "
            f"{faults.get('timeout', 0)} hung"
        )


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


def measure_policy(
    policy: StepPolicy,
    *,
    index: HandbookIndex,
    batch: Sequence[tuple[str, AnswerState]],
    seeds: Sequence[int] = TUNING_SEEDS,
    rate: float = FAULT_RATE,
    workers: int = 32,
) -> PolicyReport:
    """Runs the answer step of every question of ``batch`` once per fault seed, with
    ``policy``, the endpoint failing as :func:`fault_plan` ``(seed, rate=rate)`` says and
    healthy calls taking :class:`LatencyPlan` ``(seed)``'s latency.

    Each question gets the passages the golden set gives it (no retrieval); then
    ``workers`` threads run the questions, each in its own one-step workflow whose retry
    jitter is seeded by the fault seed and run id, so the counts do not depend on which
    worker runs what. Counts what was answered within :data:`SLA_S`, the calls billed, and
    the healthy calls the timeout cut.
    """
    import dataclasses
    from concurrent.futures import ThreadPoolExecutor

    from course_lib.labs.orchestration_lab import LessonProcess
    from course_lib.orchestration import Step, StepPolicy, Workflow
    from course_lib.standin.text import stable_hash

    if not isinstance(policy, StepPolicy):
        raise TypeError(f"policy must be a StepPolicy, got {type(policy).__name__}.")
    if not seeds:
        raise ValueError("measure_policy needs at least one fault seed.")
    prepared = _with_gold_passages(batch)
    if prepared:  # the stand-in loads what it needs on its first answers: not in the timings
        warm_up = LessonProcess("warm-up", index).handbook_steps()
        state = prepared[0][1]
        for passages in (state.passages, []):  # no passages: it answers from "memory"
            warm_up.answer(dataclasses.replace(state, passages=passages))
    processes = {
        seed: LessonProcess(
            f"faults, seed {seed}",
            index,
            faults=fault_plan(seed, rate=rate),
            latency=LatencyPlan(seed),
        )
        for seed in seeds
    }
    answer_steps = {seed: process.handbook_steps().answer for seed, process in processes.items()}

    def one(job: tuple[int, str, AnswerState]) -> RunResult[AnswerState]:
        seed, run_id, state = job
        step = Step("answer", answer_steps[seed], policy)
        workflow: Workflow[AnswerState] = Workflow(
            "handbook-answer", [step], seed=stable_hash("jitter", seed, run_id)
        )
        return workflow.run(run_id, state)

    jobs = [(seed, run_id, state) for seed in seeds for run_id, state in prepared]
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        results = list(pool.map(one, jobs))
    durations = [r.durations_ms.get("answer", 0.0) / 1000 for r in results]
    calls = [call for process in processes.values() for call in process.call_log]
    timeout = policy.timeout_s
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
    )
