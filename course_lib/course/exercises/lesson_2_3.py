"""Checkers of lesson 2.3, "Orchestration"."""

from __future__ import annotations

import copy
import functools
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from course_lib.course.checking import NotYet, Probe, answer_calls, exercise
from course_lib.orchestration import StepPolicy, deliver_answer, resume_state

SOLUTION = "solutions/2_engineering_patterns/23_orchestration.ipynb"


# -- 2.3.1 resume from checkpoints ---------------------------------------------------------------

_STEPS = ["rewrite", "retrieve", "answer", "verify", "deliver"]
_START = {"question": "How long is the deploy freeze?", "query": "", "answer": "", "ok": False}

# (initial, steps, saved, why)
_RESUME_CASES: list[tuple[dict[str, Any], Sequence[str], dict[str, dict[str, Any]], str]] = [
    (_START, _STEPS, {}, "nothing saved yet: every step runs"),
    (
        _START,
        _STEPS,
        {"rewrite": {"query": "deploy freeze"}, "retrieve": {"passages": ["p1"]}},
        "two steps saved: their outputs are applied, the other three run",
    ),
    (
        _START,
        _STEPS,
        {
            "deliver": {"message_id": "m-1"},
            "verify": {"ok": True},
            "answer": {"answer": "1 to 31 December."},
            "retrieve": {"passages": ["p1"]},
            "rewrite": {"query": "deploy freeze"},
        },
        "every step saved (listed last step first): nothing runs, the state is final",
    ),
    (
        _START,
        _STEPS,
        {"rewrite": {"query": "deploy freeze"}, "answer": {"answer": "an old answer"}},
        "a gap: retrieve has no checkpoint, so answer runs again even though it has one",
    ),
    (
        _START,
        ["draft", "revise", "send"],
        {"revise": {"answer": "final text"}, "draft": {"answer": "draft text"}},
        "two saved steps write the same field: the later step in the workflow wins",
    ),
    (
        {"n": 0},
        ("one", "two"),
        {"one": {"n": 1}},
        "steps given as a tuple",
    ),
]


def _delegates(answer: Any) -> bool:
    """Whether ``answer`` calls the engine's own ``resume_state``. (The function itself, handed
    in as the answer, is refused by ``check`` as the course's reference.)"""
    return answer_calls(answer, resume_state)


@exercise(
    "2.3.1",
    title="Resume from checkpoints",
    answer_name="resume",
    reference=resume_state,
    solution=SOLUTION,
    hints=(
        "Start from a copy of the initial state (dict(initial)) and walk the steps in workflow "
        "order. While a step has a checkpoint, apply its saved output to the copy.",
        "Stop at the first step without a checkpoint: it and every step after it run again, "
        "even a later one that has a checkpoint (its input may change). Never modify the "
        "initial dict you were given.",
        "state = dict(initial); for i, name in enumerate(steps): if name not in saved: return "
        "state, list(steps[i:]); state.update(saved[name]). After the loop: return state, [].",
    ),
)
def _check_resume(answer: Any, probe: Probe) -> str:
    if _delegates(answer):
        raise NotYet(
            "resume calls the engine's resume_state: that is the function this exercise asks "
            "you to write. Walk the steps yourself and apply the saved outputs."
        )
    for initial, steps, saved, why in _RESUME_CASES:
        given = copy.deepcopy(initial)
        call = probe.describe_call(given, steps, saved)
        got = probe.call(answer, given, steps, copy.deepcopy(saved))
        probe.expect_type(got, tuple, call)
        if len(got) != 2:
            raise NotYet(f"{call} returned {len(got)} values; return (state, steps_to_run).")
        state, to_run = got
        expected_state, expected_run = resume_state(initial, steps, saved)
        probe.expect_type(state, dict, f"{call}[0]")
        if given != initial:
            raise NotYet(
                f"{call} changed the initial state it was given ({why}); work on a copy, so "
                "the run's input stays what the checkpoint store recorded."
            )
        if isinstance(to_run, str) or not isinstance(to_run, Sequence):
            raise NotYet(f"{call} gave the steps to run as {to_run!r}; return a list of names.")
        if list(to_run) != expected_run:
            raise NotYet(f"{call} would run {list(to_run)}, expected {expected_run} ({why}).")
        if state != expected_state:
            raise NotYet(
                f"{call} resumed from the state {state}, expected {expected_state} ({why})."
            )
    return (
        f"resume rebuilds the state and skips exactly the finished prefix in all "
        f"{len(_RESUME_CASES)} hidden cases."
    )


# -- 2.3.2 deliver exactly once -------------------------------------------------------------------

_FREEZE = "The peak deploy freeze runs from 1 to 31 December [deploy-freeze-policy]."
_UNKNOWN = "I don't know: the handbook passages do not cover this."

# (run id, asker, question, the answer the run delivers)
_DELIVERIES: list[tuple[str, str, str, str]] = [
    ("chk-1", "ana", "When is the deploy freeze?", _FREEZE),
    ("chk-2", "ben", "When is the deploy freeze?", _FREEZE),
    ("chk-3", "ana", "Who approves a EUR 12k database?", _UNKNOWN),
    ("chk-4", "caro", "Is there a dress code on Fridays?", _UNKNOWN),
    ("chk-5", "ana", "When is the deploy freeze?", _FREEZE),
]
_LOST_REPLY_ON = 2  # the second send is stored, but its reply never arrives
_CRASH_AFTER = 4  # the process dies right after the fourth send returns


class _Crash(BaseException):
    """The checker's process dies."""


class _FlakySender:
    """The outbox as one process sees it: a reply lost on one send, a crash after another."""

    def __init__(self, outbox: Any, *, lose_reply_on: int | None, crash_after: int | None):
        self.outbox = outbox
        self.lose_reply_on = lose_reply_on
        self.crash_after = crash_after
        self.sends = 0

    def send(self, to: str, text: str, *, idempotency_key: str | None = None) -> str:
        from course_lib.errors import ConnectionFailedError

        message_id: str = self.outbox.send(to, text, idempotency_key=idempotency_key)
        self.sends += 1
        if self.sends == self.lose_reply_on:
            raise ConnectionFailedError("The connection dropped before the outbox replied.")
        if self.sends == self.crash_after:
            raise _Crash("the process died after a send, before its checkpoint")
        return message_id


def _delivery_runs(deliver: Callable[..., Any]) -> tuple[list[Any], list[Any], Any]:
    """The checker's batch: one process with a lost reply that dies after a send, then a
    restart. Returns the first process's results (None if it crashed), the second's, and the
    outbox."""
    from course_lib.labs.orchestration_lab import Outbox, orchestration_file
    from course_lib.orchestration import AnswerState, CheckpointStore, Step, Workflow

    answers = {(user, question): text for _, user, question, text in _DELIVERIES}
    batch = [
        (run_id, AnswerState(question=question, user_id=user))
        for run_id, user, question, _ in _DELIVERIES
    ]
    outbox = Outbox()
    path = orchestration_file("checker-2.3.2.sqlite")

    def answer(state: Any) -> dict[str, Any]:
        return {"answer": answers[(state.user_id, state.question)], "cited": []}

    def process(sender: _FlakySender) -> list[Any]:
        steps = [
            Step("answer", answer),
            Step(
                "deliver",
                functools.partial(deliver, outbox=sender),
                StepPolicy(max_attempts=3, backoff_s=0.0, jitter_s=0.0),
            ),
        ]
        with CheckpointStore(path) as store:
            workflow: Workflow[Any] = Workflow(
                "handbook-answer", steps, store=store, sleep=lambda _: None
            )
            return workflow.run_many(batch)

    try:
        first = process(
            _FlakySender(outbox, lose_reply_on=_LOST_REPLY_ON, crash_after=_CRASH_AFTER)
        )
    except _Crash:
        first = []
    second = process(_FlakySender(outbox, lose_reply_on=None, crash_after=None))
    return first, second, outbox


def _first_failure(results: Sequence[Any]) -> str | None:
    """Why the learner's deliver failed in a run, in one sentence, or None."""
    for result in results:
        if result.ok:
            continue
        error = str(result.error)
        if "NotImplementedError" in error:
            return "deliver still raises NotImplementedError; replace the stub with your code."
        detail = error.split(": ", 1)[-1]
        return f"deliver failed in run {result.run_id!r} with {detail}"
    return None


@exercise(
    "2.3.2",
    title="Deliver exactly once",
    answer_name="deliver",
    reference=deliver_answer,
    solution=SOLUTION,
    time_limit=30.0,
    hints=(
        "Pass an idempotency_key to outbox.send(...). The outbox delivers nothing for a key it "
        "has seen before, so the key decides what counts as the same message.",
        "The key must be the same for every attempt and every resume of this run's deliver "
        "step (so not the attempt number, a random id or a time), and different for every "
        "other run (so not the answer text, the question or the asker alone).",
        "Build it from the context: f'{ctx.workflow}:{ctx.run_id}:{ctx.step}'. Then return "
        "{'message_id': outbox.send(state.user_id, state.answer, idempotency_key=key)}.",
    ),
)
def _check_deliver(answer: Any, probe: Probe) -> str:
    from course_lib.errors import StepOutputError

    probe.running = "deliver(state, ctx, outbox)"
    try:
        first, results, outbox = _delivery_runs(answer)
    except StepOutputError as exc:
        raise NotYet(f"{exc} Return {{'message_id': the id outbox.send() returned}}.") from None
    probe.running = None
    failure = _first_failure(first) or _first_failure(results)
    if failure:
        raise NotYet(failure)
    if first:
        raise NotYet(
            "deliver never called outbox.send(), so nothing was delivered; send the answer "
            "with outbox.send(state.user_id, state.answer, idempotency_key=...)."
        )
    expected = Counter((user, text) for _, user, _, text in _DELIVERIES)
    got = Counter((m.to, m.text) for m in outbox.messages)
    for (user, text), count in expected.items():
        received = got.get((user, text), 0)
        what = "the deploy-freeze answer" if text == _FREEZE else 'an "I don\'t know" answer'
        if received < count:
            raise NotYet(
                f"{user} asked for {what} in {count} run(s) but received {received}: your key "
                "made a different run's message look like a repeat. The key must differ "
                "between runs, even when the asker, question or answer are the same."
            )
        if received > count:
            raise NotYet(
                f"{user} received {what} {received} times for {count} run(s): a retry after a "
                "lost reply, or the resume after the crash, sent it again. The key must be the "
                "same for every attempt and resume of one run's deliver step."
            )
    if sum(got.values()) != len(_DELIVERIES):
        raise NotYet(
            f"the outbox holds {sum(got.values())} messages for {len(_DELIVERIES)} runs; send "
            "state.answer to state.user_id, once per run."
        )
    ids = {m.id for m in outbox.messages}
    for result in results:
        if result.state.message_id not in ids:
            raise NotYet(
                f"run {result.run_id!r} recorded message_id={result.state.message_id!r}; "
                "return {'message_id': the id outbox.send() returned}."
            )
    return (
        f"{len(_DELIVERIES)} runs, a lost reply and a crash right after a send: every asker "
        "got each answer exactly once."
    )


# -- 2.3.3 a retry and timeout budget (open-ended, measured on questions and seeds not tuned on) --

CHECK_SPLIT = "test"
"""The golden-set split of the check's questions: the learner tunes on dev-split questions."""
CHECK_QUESTIONS = 40
"""How many test-split questions the check runs (spread over the split)."""
CHECK_SEEDS = (1, 2, 3)
"""Fault seeds of the check: the learner tunes on the lab's TUNING_SEEDS, never on these."""

REFERENCE_POLICY = StepPolicy(timeout_s=0.55, max_attempts=4, backoff_s=0.1)


def _diagnosis(report: Any, policy: StepPolicy) -> str:
    """What to change, from what went wrong in the measured batch."""
    from course_lib.labs.orchestration_lab import SLA_S

    notes = []
    if report.healthy_cut:
        notes.append(
            f"Your {policy.timeout_s:g} s timeout cut healthy calls: a slow "
            "request is slow on every attempt, so it may never finish, and every cut call is "
            "billed. Set the timeout above the slowest healthy request, with headroom for "
            "requests slower than any you tuned on (these questions are not those)."
        )
    elif report.answered < report.runs:
        notes.append(
            "Some questions ran out of attempts; allow more "
            "(attempts cost nothing until a call fails)."
        )
    if report.within_sla < report.answered and not report.healthy_cut:
        if policy.timeout_s is None:
            notes.append(
                "Without a timeout a hung call is waited out, far beyond the SLA; give the "
                "step a timeout_s."
            )
        else:
            notes.append(
                f"Some answers took longer than {SLA_S:g} s: a hung call costs the whole "
                "timeout before the retry starts, so timeout + backoff + one slow call must fit "
                "inside the SLA. Shorten the timeout (not below the slowest healthy call) or "
                "the backoff."
            )
    return " ".join(notes)


@exercise(
    "2.3.3",
    title="A retry and timeout budget",
    answer_name="answer_policy",
    expects_function=False,
    reference=REFERENCE_POLICY,
    solution=SOLUTION,
    time_limit=180.0,
    hints=(
        "Start from the stub's measurement: it lists how long healthy calls take. A timeout "
        "below a slow request's latency cuts it on every attempt, so that question never gets "
        "an answer and every cut call is billed.",
        "The other side: a hung call costs the whole timeout before the retry starts, so "
        "timeout + backoff + one slow call must fit inside the 1.2 s SLA. Leave headroom above "
        "the slowest healthy request you measured: the check's requests can be slower. Then "
        "allow enough attempts for a few failures in a row.",
        "StepPolicy(timeout_s=0.55, max_attempts=4, backoff_s=0.1): 0.55 s leaves 0.08 s of "
        "headroom above the slowest healthy request on the tuning side (0.47 s), and a hang "
        "followed by the slowest request, 0.55 + 0.1 + 0.47 s, fits in 1.2 s.",
    ),
)
def _check_policy(answer: Any, probe: Probe) -> str:
    from course_lib.datasets import load_golden_set
    from course_lib.labs.orchestration_lab import (
        CALL_BUDGET,
        SLA_S,
        SLA_SHARE,
        lesson_batch,
        measure_policy,
        orchestration_index,
    )
    from course_lib.rag import HandbookIndex

    if not isinstance(answer, StepPolicy):
        raise NotYet(
            f"answer_policy should be a StepPolicy(timeout_s=..., max_attempts=..., ...), got "
            f"{type(answer).__name__}."
        )
    batch = lesson_batch(load_golden_set(CHECK_SPLIT), CHECK_QUESTIONS)
    with HandbookIndex.open(orchestration_index(fresh=False)) as index:
        report = measure_policy(answer, index=index, batch=batch, seeds=CHECK_SEEDS)
    missed = report.missed_targets()
    held_out = (
        f"on {report.runs} held-out runs ({len(batch)} {CHECK_SPLIT}-split questions x "
        f"{len(CHECK_SEEDS)} fault seeds you did not tune on)"
    )
    measured = (
        f"{held_out}: {report.within_sla} answered "
        f"within the {SLA_S:g} s SLA ({report.within_sla_share:.0%}, target {SLA_SHARE:.0%}), "
        f"{report.calls_per_question:.2f} model calls per question (budget {CALL_BUDGET:g}), "
        f"{report.healthy_cut} healthy calls cut by the timeout (target 0)"
    )
    if missed:
        what = " and ".join(
            {
                "sla": "the SLA target",
                "budget": "the call budget",
                "cuts": "the no-healthy-call-cut target",
            }[target]
            for target in missed
        )
        # Which target, never by how much: figures from held-out runs would let a learner
        # tune on them. The tuning side's own report shows every figure.
        raise NotYet(
            f"Your policy misses {what} {held_out}. {_diagnosis(report, answer)} Tune on the "
            "lesson's measurement (dev questions, tuning seeds), then check again."
        )
    return measured + ": every target met."
