"""Tests of lesson 2.3's lab: the crashing processes, the outbox and the measurements."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from course_lib.datasets import load_golden_set, load_handbook
from course_lib.errors import RateLimitError, ServerError
from course_lib.labs.orchestration_lab import (
    HANG_S,
    LatencyPlan,
    LessonProcess,
    Outbox,
    PolicyReport,
    SimulatedClock,
    SimulatedCrash,
    crash_summary,
    delivery_scenario,
    describe_endpoint,
    fault_plan,
    langgraph_sync_timeout_error,
    lesson_batch,
    measure_policy,
    orchestration_file,
    orchestration_index,
)
from course_lib.orchestration import CheckpointStore, StepPolicy, deliver_answer
from course_lib.rag import HandbookIndex


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HandbookIndex]:
    path = Path(tmp_path_factory.mktemp("orchestration")) / "handbook.sqlite"
    with HandbookIndex.build(load_handbook(), path=path) as built:
        yield built


@pytest.fixture(scope="module")
def batch() -> list[Any]:
    return lesson_batch(load_golden_set("dev"), 4)


def test_the_outbox_honours_idempotency_keys_and_counts_repeats() -> None:
    outbox = Outbox()
    first = outbox.send("ana", "hello", idempotency_key="k1")
    assert outbox.send("ana", "hello again", idempotency_key="k1") == first
    outbox.send("ana", "hello")
    outbox.send("ben", "hi")
    assert len(outbox.messages) == 3
    assert outbox.received() == {"ana": 2, "ben": 1}
    assert outbox.sent_twice() == 1
    with pytest.raises(ValueError, match="recipient"):
        outbox.send("", "x")
    with pytest.raises(TypeError, match="idempotency_key"):
        outbox.send("ana", "x", idempotency_key=3)  # type: ignore[arg-type]


def test_lesson_batch_spreads_questions_and_gives_each_its_asker() -> None:
    dev = load_golden_set("dev")
    batch = lesson_batch(dev, 10)
    assert len(batch) == 10 and len({state.user_id for _, state in batch}) == 10
    for run_id, state in batch:
        question = next(q for q in dev if q.id == run_id)
        assert state.question == question.question
        assert ("restricted" in state.clearance) == (question.type == "restricted")
    with pytest.raises(ValueError, match="between 1"):
        lesson_batch(dev, 0)


def test_a_process_dies_at_the_chosen_call_and_counts_what_it_sent(
    index: HandbookIndex, batch: list[Any]
) -> None:
    process = LessonProcess("p", index, crash_at_call=2)
    steps = process.handbook_steps()

    def job(p: LessonProcess) -> None:
        for _, state in batch:
            for step in (steps.rewrite, steps.retrieve, steps.answer):
                state = dataclasses.replace(state, **step(state))

    assert process.run(job, quiet=True) is None
    assert process.crash is not None and "model call number 2" in process.crash
    assert len(process.calls) == 2
    first_user = batch[0][1].user_id
    assert (first_user, "answer") in process.finished_steps()
    assert (batch[1][1].user_id, "answer") not in process.finished_steps()


def test_crash_summary_counts_repeated_calls_and_steps(
    index: HandbookIndex, batch: list[Any]
) -> None:
    path = orchestration_file("test-crash.sqlite")
    outbox = Outbox()

    def job(process: LessonProcess) -> Any:
        workflow = process.handbook_steps(outbox=outbox).workflow(store=CheckpointStore(path))
        return workflow.run_many(batch)

    crashed = LessonProcess("engine", index, crash_at_call=3)
    crashed.run(job, quiet=True)
    restarted = LessonProcess("engine, restarted", index)
    results = restarted.run(job)
    answers = {r.run_id: r.state.answer for r in results}
    row = crash_summary("engine", crashed, restarted, answers, answers, outbox=outbox)
    assert row["model calls before the crash"] == 3
    assert row["model calls after the restart"] == len(batch) - 2
    assert row["calls repeated"] == 1
    assert row["finished steps run again"] == 0
    assert row["askers messaged twice"] == 0
    assert row["answers as uninterrupted"] == f"{len(batch)} of {len(batch)}"


def test_delivery_scenario_shows_the_duplicate_and_the_key_removes_it(
    index: HandbookIndex, batch: list[Any]
) -> None:
    def unkeyed(state: Any, ctx: Any, outbox: Any) -> dict[str, Any]:
        return {"message_id": outbox.send(state.user_id, state.answer)}

    bad = delivery_scenario(unkeyed, index=index, batch=batch, name="test-unkeyed")
    good = delivery_scenario(deliver_answer, index=index, batch=batch, name="test-keyed")
    assert bad["askers messaged twice"] == 1 and bad["messages sent"] == len(batch) + 1
    assert good["askers messaged twice"] == 0 and good["messages sent"] == len(batch)
    assert good["askers never messaged"] == 0 and good["runs done"] == len(batch)


def test_faults_fail_the_loop_and_a_policy_is_measured(
    index: HandbookIndex, batch: list[Any]
) -> None:
    flaky = LessonProcess("flaky", index, faults=fault_plan(seed=21, rate=1.0))
    with pytest.raises((RateLimitError, ServerError)):
        for _ in range(20):  # hung calls answer in the end; the first 429 or 5xx stops it
            flaky.handbook_steps().answer(dataclasses.replace(batch[0][1], passages=[]))
    report = measure_policy(StepPolicy(), index=index, batch=batch, seeds=(3,), rate=0.0)
    assert (report.runs, report.answered, report.within_sla) == (len(batch),) * 3
    assert report.model_calls == len(batch) and report.faults == {}
    assert report.healthy_cut == 0 and len(report.healthy_latencies_s) == len(batch)
    assert report.missed_targets() == []
    assert f"{len(batch)} of {len(batch)} questions answered within" in report.summary()


def test_measure_policy_counts_retries_cuts_and_misses(
    index: HandbookIndex, batch: list[Any]
) -> None:
    patient = StepPolicy(timeout_s=1.0, max_attempts=8, backoff_s=0.0, jitter_s=0.0)
    retried = measure_policy(patient, index=index, batch=batch[:2], seeds=(5,), rate=0.5)
    assert retried.answered == 2 and retried.model_calls > 2
    none = measure_policy(StepPolicy(), index=index, batch=batch[:2], seeds=(5, 6), rate=1.0)
    assert none.within_sla == 0 and none.model_calls == 4 and sum(none.faults.values()) == 4
    assert none.answered == none.faults.get("timeout", 0)  # a hung call answers, 2 s late
    assert none.missed_targets() == ["sla"]  # one call each: within the budget, no timeout
    cut = measure_policy(
        StepPolicy(timeout_s=0.01, max_attempts=2, backoff_s=0.0, jitter_s=0.0),
        index=index,
        batch=batch[:2],
        seeds=(5,),
        rate=0.0,
    )
    assert cut.answered == 0 and cut.healthy_cut == 4 and cut.model_calls == 4
    assert cut.missed_targets() == ["sla", "budget", "cuts"]
    with pytest.raises(TypeError, match="StepPolicy"):
        measure_policy({"timeout_s": 1.0}, index=index, batch=batch, seeds=(1,))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="golden-set"):
        measure_policy(StepPolicy(), index=index, batch=[("x-1", batch[0][1])], seeds=(1,))


def test_measure_policy_runs_on_a_simulated_clock(index: HandbookIndex, batch: list[Any]) -> None:
    """Hung calls take seconds on the planted endpoint, yet nothing sleeps, and two
    measurements agree to the last digit (the figures cannot drift on a loaded machine)."""
    import time

    policy = StepPolicy(timeout_s=0.6, max_attempts=4, backoff_s=0.05)
    started = time.perf_counter()
    one = measure_policy(policy, index=index, batch=batch, seeds=(21, 22), rate=0.5)
    two = measure_policy(policy, index=index, batch=batch, seeds=(21, 22), rate=0.5)
    assert one == two and one.faults.get("timeout", 0) > 0
    assert time.perf_counter() - started < one.faults["timeout"] * HANG_S
    # a hung call is abandoned at the timeout: the slowest run paid whole timeouts
    assert one.slowest_s >= 0.6
    requests = one.request_latencies_s
    assert len(requests) == one.runs
    patient = StepPolicy(timeout_s=0.6, max_attempts=8, backoff_s=0.05)
    other = measure_policy(patient, index=index, batch=batch, seeds=(21, 22), rate=0.5)
    assert other.request_latencies_s == requests  # the same whatever the policy


def test_the_simulated_clock_times_an_attempt_out() -> None:
    from course_lib.errors import StepTimeoutError
    from course_lib.orchestration import StepContext

    clock = SimulatedClock()
    context = StepContext("w", "run-1", "answer", 1)

    def slow() -> dict[str, Any]:
        clock.spend(0.5)
        return {}

    with pytest.raises(StepTimeoutError, match=r"0\.2 s timeout"):
        clock.attempt(slow, 0.2, context)
    assert clock.now == pytest.approx(0.2)
    clock.sleep(0.1)
    assert clock.attempt(slow, 1.0, context) == {} and clock.now == pytest.approx(0.8)
    with pytest.raises(ValueError, match="negative"):
        clock.sleep(-1)


def test_policy_report_targets_and_summary() -> None:
    report = PolicyReport(
        runs=10,
        answered=10,
        within_sla=9,
        model_calls=15,
        healthy_latencies_s=(0.1, 0.2, 0.3),
        faults={"timeout": 2, "server_error": 1},
        healthy_cut=1,
    )
    assert report.missed_targets() == ["cuts"]
    late = PolicyReport(runs=10, answered=9, within_sla=8, model_calls=16)
    assert late.missed_targets() == ["sla", "budget"]
    text = report.summary()
    assert "9 of 10 questions answered within the 1.2 s SLA (90%, target 90%)" in text
    assert "1.50 model calls per question (budget 1.5); 1 healthy call cut" in text
    assert "median 0.20 s, slowest 0.30 s" in text
    assert "1 server error, 2 hung" in text


def test_latency_plan_is_bounded_seeded_and_per_request() -> None:
    plan = LatencyPlan(seed=1)
    draws = [plan.latency(f"request-{i}", 0) for i in range(400)]
    assert plan.latency("request-1", 0) == draws[1]
    assert min(draws) > 0 and max(draws) < plan.slow_s * 1.4
    slow = sum(d > 0.2 for d in draws) / len(draws)
    assert 0.08 < slow < 0.22  # about slow_share of the requests
    again = [plan.latency("request-1", n) for n in range(5)]  # one request: close each time
    assert max(again) / min(again) < (1 + plan.jitter) / (1 - plan.jitter) + 1e-9
    assert LatencyPlan(seed=2).latency("request-1", 0) != draws[1]
    with pytest.raises(ValueError, match="fast_s"):
        LatencyPlan(fast_s=0.5, slow_s=0.1)
    with pytest.raises(ValueError, match="slow_share"):
        LatencyPlan(slow_share=2.0)


def test_a_process_delivers_its_planted_faults_and_latency(
    index: HandbookIndex, batch: list[Any]
) -> None:
    process = LessonProcess(
        "slow", index, faults=fault_plan(seed=4, rate=0.0), latency=LatencyPlan(seed=4)
    )
    state = dataclasses.replace(batch[0][1], passages=[])
    process.handbook_steps().answer(state)
    (call,) = process.call_log
    assert call.fault is None and call.latency_s > 0
    assert "25% of model calls go wrong" in describe_endpoint(21)


def test_the_index_is_reused_when_asked() -> None:
    path = orchestration_index(fresh=False)
    assert path.exists() and orchestration_index(fresh=False) == path
    assert langgraph_sync_timeout_error().startswith("ValueError: Node timeouts")


def test_simulated_crash_is_not_an_exception() -> None:
    assert not issubclass(SimulatedCrash, Exception)


def test_the_reference_policy_has_headroom_and_a_tight_timeout_has_not() -> None:
    """The reference timeout clears every healthy call of the tuning and check batches by
    50 ms; 0.45 s, just below the slowest request of the tuning side (the whole dev split),
    cuts healthy calls there and in the check alike, so the tuning report shows it fails."""
    from course_lib.course.exercises.lesson_2_3 import (
        CHECK_QUESTIONS,
        CHECK_SEEDS,
        CHECK_SPLIT,
        REFERENCE_POLICY,
    )
    from course_lib.labs.orchestration_faults import TUNING_QUESTIONS, TUNING_SEEDS

    timeout = REFERENCE_POLICY.timeout_s
    assert timeout is not None
    with HandbookIndex.open(orchestration_index(fresh=False)) as index:
        for split, n, seeds in (
            ("dev", TUNING_QUESTIONS, TUNING_SEEDS),
            (CHECK_SPLIT, CHECK_QUESTIONS, CHECK_SEEDS),
        ):
            batch = lesson_batch(load_golden_set(split), n)
            report = measure_policy(REFERENCE_POLICY, index=index, batch=batch, seeds=seeds)
            assert report.healthy_cut == 0 and report.missed_targets() == []
            assert max(report.healthy_latencies_s) < timeout - 0.05
            tight = dataclasses.replace(REFERENCE_POLICY, timeout_s=0.45)
            missed = measure_policy(tight, index=index, batch=batch, seeds=seeds)
            assert missed.missed_targets() == ["cuts"]
