"""Lesson 2.3's lab: processes that crash on cue, a provider's bill, an outbox, and the
measurements that compare a loop, the course's workflow engine and LangGraph.

Nothing here is production code. A :class:`LessonProcess` stands in for one run of a batch
job in its own operating-system process: it has its own model client, it counts every model
request it sends and every step call it makes, and it can die at a chosen point
(:class:`SimulatedCrash`, which no ``except Exception`` catches, so no step or retry layer
handles it). Unlike a real kill it unwinds the stack, so ``finally`` blocks and ``with`` exits
still run (open spans end and are exported); the job keeps nothing in memory it could save
there, so only what is on disk, or in another service (the :class:`Outbox`), outlives it.
``tests/test_orchestration.py`` repeats the crash with a real ``kill -9`` of a child process
and gets the same result.

For the faults section a process's model endpoint delivers the planted faults and latency of
:mod:`~course_lib.labs.orchestration_faults` (whose names this module re-exports), drawn when
each call starts; given a :class:`SimulatedClock`, it adds the planted latency to that clock
instead of sleeping, so what is measured does not depend on how busy the machine is.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from course_lib.labs.orchestration_faults import (
    CALL_BUDGET,
    FAULT_MIX,
    FAULT_RATE,
    HANG_S,
    RETRY_AFTER_S,
    SLA_S,
    SLA_SHARE,
    TUNING_QUESTIONS,
    TUNING_SEEDS,
    LatencyPlan,
    PolicyReport,
    SimulatedClock,
    describe_endpoint,
    fault_plan,
    measure_policy,
)
from course_lib.orchestration import AnswerState, HandbookSteps, StepContext

if TYPE_CHECKING:
    from course_lib.llm import LLMClient
    from course_lib.observability import Tracing
    from course_lib.orchestration import (
        MessageSender,
        RunResult,
    )
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
    "LessonProcess",
    "Outbox",
    "OutboxMessage",
    "PolicyReport",
    "SimulatedClock",
    "SimulatedCrash",
    "crash_summary",
    "delivery_scenario",
    "describe_endpoint",
    "fault_plan",
    "langgraph_sync_timeout_error",
    "lesson_batch",
    "measure_policy",
    "orchestration_file",
    "orchestration_index",
]

T = TypeVar("T")


class SimulatedCrash(BaseException):
    """The process running the job died here (a kill, an out-of-memory, a deploy).

    A ``BaseException``, like ``KeyboardInterrupt``: no ``except Exception`` in a step, a
    retry layer or a framework catches it. Unlike ``kill -9`` it unwinds the stack, so
    ``finally`` blocks and ``with`` exits still run.
    """


# -- the outside world: a message service ----------------------------------------------------


@dataclass(frozen=True)
class OutboxMessage:
    """One message the outbox delivered."""

    id: str
    to: str
    text: str
    idempotency_key: str | None


class Outbox:
    """A message service (think Slack or e-mail) that honours idempotency keys.

    A send with a key it has already seen delivers nothing and returns the first message's
    id; a send without a key always delivers. It lives outside every :class:`LessonProcess`,
    as a real service does: a crashed job cannot take back what it sent.
    """

    def __init__(self) -> None:
        self.messages: list[OutboxMessage] = []
        self._by_key: dict[str, str] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Outbox({len(self.messages)} messages)"

    def send(self, to: str, text: str, *, idempotency_key: str | None = None) -> str:
        if not isinstance(to, str) or not to:
            raise ValueError(f"send() needs the recipient's id as a string, got {to!r}.")
        if not isinstance(text, str):
            raise TypeError(f"send() needs the message text as a string, got {text!r}.")
        if idempotency_key is not None and not isinstance(idempotency_key, str):
            raise TypeError(
                f"idempotency_key must be a string (or None), got {type(idempotency_key).__name__}."
            )
        with self._lock:
            if idempotency_key is not None and idempotency_key in self._by_key:
                return self._by_key[idempotency_key]
            message = OutboxMessage(f"msg-{len(self.messages) + 1:04d}", to, text, idempotency_key)
            self.messages.append(message)
            if idempotency_key is not None:
                self._by_key[idempotency_key] = message.id
            return message.id

    def received(self) -> Counter[str]:
        """Messages per recipient."""
        return Counter(message.to for message in self.messages)

    def sent_twice(self) -> int:
        """Recipients who got more than one message (each asker asked once)."""
        return sum(1 for count in self.received().values() if count > 1)


class _CrashAfterSends:
    """Forwards sends to an outbox; the process dies right after the ``after``-th returns."""

    def __init__(self, outbox: MessageSender, after: int) -> None:
        self.outbox = outbox
        self.after = after
        self.sends = 0

    def send(self, to: str, text: str, *, idempotency_key: str | None = None) -> str:
        message_id = self.outbox.send(to, text, idempotency_key=idempotency_key)
        self.sends += 1
        if self.sends == self.after:
            raise SimulatedCrash(
                f"the process died right after send number {self.after} returned, before "
                "anything could record it"
            )
        return message_id


# -- one process: a client, what it sent, and how it ended -----------------------------------


@dataclass(frozen=True)
class _Call:
    """One model request as the endpoint saw it: what it was and what was planted on it."""

    fingerprint: str
    fault: str | None  # rate_limit | server_error | timeout (a hung call) | None (healthy)
    latency_s: float  # the healthy latency (a hung call takes HANG_S more)


class _MeteredProvider:
    """The stand-in's provider behind a metered, misbehaving endpoint.

    It counts every request that reaches it (what a provider bills), dies on cue when the
    ``crash_at``-th request is in flight, and delivers the process's planted faults and
    latency: a 429 or 5xx at once, a healthy answer after its latency, a hung one after
    :data:`HANG_S` more.
    """

    def __init__(self, inner: Any, process: LessonProcess) -> None:
        self.inner = inner
        self.process = process
        self.name = getattr(inner, "name", "local")

    def _deliver(self, call: _Call) -> float:
        """Raises the planted error, or returns how long the answer takes."""
        from course_lib.errors import RateLimitError, ServerError

        if call.fault == "rate_limit":
            raise RateLimitError(
                f"Rate limit reached (429); retry after {RETRY_AFTER_S} s.",
                retry_after=RETRY_AFTER_S,
            )
        if call.fault == "server_error":
            raise ServerError("The model endpoint failed with HTTP 503.", status_code=503)
        return call.latency_s + (HANG_S if call.fault == "timeout" else 0.0)

    def complete(self, request: Mapping[str, Any], **options: Any) -> dict[str, Any]:
        started = time.perf_counter()
        delay = self._deliver(self.process._record_call(request))
        result: dict[str, Any] = self.inner.complete(request, **options)
        clock = self.process.clock
        if clock is not None:
            clock.spend(delay)
            return result
        remaining = delay - (time.perf_counter() - started)
        if remaining > 0:
            time.sleep(remaining)
        return result

    def stream(self, request: Mapping[str, Any], **options: Any) -> Any:
        delay = self._deliver(self.process._record_call(request))
        if self.process.clock is not None:
            self.process.clock.spend(delay)
        elif delay > 0:
            time.sleep(delay)
        return self.inner.stream(request, **options)

    def embed(self, texts: list[str], model: str) -> Any:
        return self.inner.embed(texts, model)

    def count_tokens(self, text: str) -> int:
        return int(self.inner.count_tokens(text))


class _CountedSteps(HandbookSteps):
    """The production steps, each call written in the process's step ledger."""

    ledger: list[tuple[str, str, bool]]

    def _counted(self, name: str, state: AnswerState, call: Callable[[], dict[str, Any]]) -> Any:
        self.ledger.append((state.user_id, name, False))
        output = call()
        self.ledger.append((state.user_id, name, True))
        return output

    def rewrite(self, state: AnswerState) -> dict[str, Any]:
        return self._counted("rewrite", state, lambda: super(_CountedSteps, self).rewrite(state))

    def retrieve(self, state: AnswerState) -> dict[str, Any]:
        return self._counted("retrieve", state, lambda: super(_CountedSteps, self).retrieve(state))

    def answer(self, state: AnswerState) -> dict[str, Any]:
        return self._counted("answer", state, lambda: super(_CountedSteps, self).answer(state))

    def verify(self, state: AnswerState) -> dict[str, Any]:
        return self._counted("verify", state, lambda: super(_CountedSteps, self).verify(state))

    def deliver(self, state: AnswerState, context: StepContext) -> dict[str, Any]:
        return self._counted(
            "deliver", state, lambda: super(_CountedSteps, self).deliver(state, context)
        )


class LessonProcess:
    """One run of a job, as if in its own process: its client, its counts, how it ended.

    Args:
        name: what the process is, for tables.
        index: the handbook index (a file: every process opens the same one).
        crash_at_call: the process dies while its n-th model request is in flight.
        crash_after_sends: the process dies right after its n-th outbox send returns.
        faults: the model endpoint's fault plan (rate limits, server errors, hung calls).
        latency: how long healthy calls take; None answers at once.
        clock: when given, the planted latency is added to it instead of slept.

    Its client has no retries of its own (``ReliabilityPolicy.bare()``): retrying is the
    workflow's job. ``call_log`` lists each request with its planted fault and latency.
    """

    def __init__(
        self,
        name: str,
        index: HandbookIndex,
        *,
        crash_at_call: int | None = None,
        crash_after_sends: int | None = None,
        faults: FaultPlan | None = None,
        latency: LatencyPlan | None = None,
        clock: SimulatedClock | None = None,
    ) -> None:
        from course_lib.llm import LLMClient, ReliabilityPolicy
        from course_lib.standin import LocalProvider
        from course_lib.standin.faults import FaultInjector

        self.name = name
        self.index = index
        self.crash_at_call = crash_at_call
        self.crash_after_sends = crash_after_sends
        self.latency = latency
        self.clock = clock
        self.calls: list[str] = []
        self.call_log: list[_Call] = []
        self.ledger: list[tuple[str, str, bool]] = []
        self.crash: str | None = None
        self._lock = threading.Lock()
        self._faults = FaultInjector(faults) if faults is not None else None
        self._seen: Counter[str] = Counter()
        provider = _MeteredProvider(LocalProvider(), self)
        self.client: LLMClient = LLMClient(provider, policy=ReliabilityPolicy.bare())

    def __repr__(self) -> str:
        ended = f"crashed: {self.crash}" if self.crash else "ran to the end"
        return f"LessonProcess({self.name!r}, {len(self.calls)} model calls, {ended})"

    def _record_call(self, request: Mapping[str, Any]) -> _Call:
        """Counts the request and draws its fault and latency, in the order calls start."""
        text = json.dumps(request.get("messages"), sort_keys=True, ensure_ascii=False)
        fingerprint = hashlib.sha256(text.encode()).hexdigest()[:16]
        with self._lock:
            self.calls.append(fingerprint)
            number = len(self.calls)
            occurrence = self._seen[fingerprint]
            self._seen[fingerprint] += 1
            fault = self._faults.draw(fingerprint) if self._faults is not None else None
            latency = self.latency.latency(fingerprint, occurrence) if self.latency else 0.0
            call = _Call(fingerprint, fault.kind if fault is not None else None, latency)
            self.call_log.append(call)
        if number == self.crash_at_call:
            raise SimulatedCrash(f"the process died while model call number {number} was in flight")
        return call

    def handbook_steps(
        self,
        *,
        outbox: MessageSender | None = None,
        tracing: Tracing | None = None,
        deliver: Callable[..., Mapping[str, Any]] | None = None,
    ) -> HandbookSteps:
        """The production :class:`~course_lib.orchestration.HandbookSteps` over this process's
        client, with every step call counted (and the outbox wrapped to crash on cue)."""
        if outbox is not None and self.crash_after_sends is not None:
            outbox = _CrashAfterSends(outbox, self.crash_after_sends)
        steps = _CountedSteps(
            self.index, client=self.client, outbox=outbox, tracing=tracing, deliver=deliver
        )
        steps.ledger = self.ledger
        return steps

    def run(self, job: Callable[[LessonProcess], T], *, quiet: bool = False) -> T | None:
        """Runs ``job(self)``; returns its result, or None when the process crashed (which it
        reports in one line unless ``quiet``)."""
        try:
            return job(self)
        except SimulatedCrash as crash:
            self.crash = str(crash)
            if not quiet:
                print(f"💥 {self.name}: {crash}.")
            return None

    def finished_steps(self) -> set[tuple[str, str]]:
        """(asker, step) pairs this process ran to the end."""
        return {(user, step) for user, step, done in self.ledger if done}

    def started_steps(self) -> list[tuple[str, str]]:
        """(asker, step) pairs this process started, one per call."""
        return [(user, step) for user, step, done in self.ledger if not done]


def crash_summary(
    name: str,
    crashed: LessonProcess,
    restarted: LessonProcess,
    answers: Mapping[str, str],
    reference: Mapping[str, str],
    *,
    outbox: Outbox | None = None,
) -> dict[str, Any]:
    """One row comparing a crashed process with the one that finished the job after it."""
    before = set(crashed.calls)
    repeated_steps = [s for s in restarted.started_steps() if s in crashed.finished_steps()]
    row: dict[str, Any] = {
        "orchestration": name,
        "model calls before the crash": len(crashed.calls),
        "model calls after the restart": len(restarted.calls),
        "calls repeated": sum(1 for call in restarted.calls if call in before),
        "finished steps run again": len(repeated_steps),
        "answers as uninterrupted": f"{sum(answers.get(k) == v for k, v in reference.items())}"
        f" of {len(reference)}",
    }
    if outbox is not None:
        row["askers messaged twice"] = outbox.sent_twice()
    return row


# -- the lesson's data and files -------------------------------------------------------------


def orchestration_file(name: str) -> Path:
    """A fresh path in the work directory's ``lesson_2_3`` folder (an old file is removed,
    with SQLite's ``-wal`` and ``-shm`` companions), so every run of the lesson starts clean."""
    from course_lib.workdir import work_path

    path = work_path("lesson_2_3", name)
    for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
        candidate.unlink(missing_ok=True)
    return path


def orchestration_index(*, fresh: bool = True) -> Path:
    """Builds the handbook index for the lesson in the work directory; returns its path.

    Without ``fresh`` an index already there is reused when it opens (the checkers use the
    one the lesson built).
    """
    from course_lib.datasets import load_handbook
    from course_lib.rag import HandbookIndex
    from course_lib.workdir import work_path

    if not fresh:
        path = work_path("lesson_2_3", "handbook.sqlite")
        if path.exists():
            try:
                HandbookIndex.open(path).close()
                return path
            except Exception:  # a stale or broken file: build it again below
                pass
    path = orchestration_file("handbook.sqlite")
    HandbookIndex.build(load_handbook(), path=path).close()
    return path


def lesson_batch(questions: Sequence[Any], n: int) -> list[tuple[str, AnswerState]]:
    """``n`` questions spread over ``questions``, each asked by its own employee (a manager
    for a restricted one): ``(run id, initial state)`` pairs. The run id is the question id."""
    from course_lib.rag import User

    if not 1 <= n <= len(questions):
        raise ValueError(f"n must be between 1 and {len(questions)}, got {n}.")
    stride = len(questions) // n
    batch = []
    for question in list(questions)[::stride][:n]:
        make = User.manager if question.type == "restricted" else User.employee
        user = make(f"u-{question.id}")
        batch.append((question.id, AnswerState.ask(question.question, user)))
    return batch


# -- idempotent delivery -----------------------------------------------------------------------


def delivery_scenario(
    deliver: Callable[..., Mapping[str, Any]],
    *,
    index: HandbookIndex,
    batch: Sequence[tuple[str, AnswerState]],
    crash_after_sends: int = 2,
    name: str = "delivery",
) -> dict[str, Any]:
    """The batch with ``deliver`` as its last step, a crash right after a send returned, and
    a restart: how many messages went out, and to how many askers twice."""
    from course_lib.orchestration import CheckpointStore

    outbox = Outbox()
    path = orchestration_file(f"{name}.sqlite")

    def job(process: LessonProcess) -> list[RunResult[AnswerState]]:
        steps = process.handbook_steps(outbox=outbox, deliver=deliver)
        return steps.workflow(store=CheckpointStore(path)).run_many(batch)

    LessonProcess(f"{name}", index, crash_after_sends=crash_after_sends).run(job)
    results = LessonProcess(f"{name}, restarted", index).run(job) or []
    return {
        "askers": len(batch),
        "runs done": sum(r.ok for r in results),
        "messages sent": len(outbox.messages),
        "askers messaged twice": outbox.sent_twice(),
        "askers never messaged": sum(
            1 for _, state in batch if outbox.received()[state.user_id] == 0
        ),
    }


def langgraph_sync_timeout_error() -> str:
    """What LangGraph says when a synchronous node is given a timeout (its first sentence)."""
    from langgraph.graph import END, START, StateGraph

    def node(state: dict[str, Any]) -> dict[str, Any]:
        return {}

    builder: Any = StateGraph(dict)
    builder.add_node("answer", node, timeout=1.0)
    builder.add_edge(START, "answer")
    builder.add_edge("answer", END)
    try:
        builder.compile()
    except ValueError as exc:
        return f"{type(exc).__name__}: {str(exc).split(' because ')[0]}."
    return "compiled: this LangGraph version accepts timeouts on synchronous nodes."
