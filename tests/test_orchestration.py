"""The workflow engine: steps over a state, checkpoints, resume, retries, timeouts, spans, and
the same workflow run by LangGraph behind the same interface."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from course_lib.errors import (
    CheckpointMismatchError,
    OptionalDependencyError,
    RateLimitError,
    ServerError,
    StepFailedError,
    StepOutputError,
    StepTimeoutError,
    WorkflowDefinitionError,
)
from course_lib.observability import setup_tracing, spans_frame
from course_lib.orchestration import (
    AnswerState,
    CheckpointStore,
    LangGraphWorkflow,
    Step,
    StepContext,
    StepPolicy,
    Workflow,
    deliver_answer,
    delivery_key,
    is_transient,
    resume_state,
    rewrite_query,
    verify_answer,
)


@dataclass(frozen=True)
class Doc:
    """A small state for the engine's tests."""

    text: str
    words: list[str] = field(default_factory=list)
    count: int = 0
    summary: str = ""


class Crash(BaseException):
    """The process dies (no ``except Exception`` catches it)."""


class Counted:
    """Three steps that count their calls, and can crash or fail on cue."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.crash_in: str | None = None
        self.failures: dict[str, list[BaseException]] = {}

    def _enter(self, name: str, state: Doc) -> None:
        self.calls.append((state.text, name))
        if self.crash_in == f"{state.text}/{name}":
            raise Crash(name)
        pending = self.failures.get(name)
        if pending:
            raise pending.pop(0)

    def split(self, state: Doc) -> dict[str, Any]:
        self._enter("split", state)
        return {"words": state.text.split()}

    def count(self, state: Doc) -> dict[str, Any]:
        self._enter("count", state)
        return {"count": len(state.words)}

    def summarise(self, state: Doc, context: StepContext) -> dict[str, Any]:
        self._enter("summarise", state)
        return {"summary": f"{context.run_id}: {state.count} words"}

    def steps(self, **policies: StepPolicy) -> list[Step]:
        functions: list[tuple[str, Callable[..., Any]]] = [
            ("split", self.split),
            ("count", self.count),
            ("summarise", self.summarise),
        ]
        return [Step(name, fn, policies.get(name, StepPolicy())) for name, fn in functions]


def _no_sleep(seconds: float) -> None:
    pass


BATCH = [(f"run-{i}", Doc(text)) for i, text in enumerate(["a b", "c d e", "f", "g h i j"])]


# -- definitions and their errors -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"max_attempts": 0}, "max_attempts"),
        ({"max_attempts": True}, "max_attempts"),
        ({"timeout_s": 0}, "timeout_s"),
        ({"timeout_s": float("nan")}, "timeout_s"),
        ({"backoff_s": -1}, "backoff_s"),
        ({"jitter_s": "0.1"}, "jitter_s"),
        ({"retry_on": "yes"}, "retry_on"),
    ],
)
def test_a_policy_with_a_bad_value_is_refused_naming_the_field(
    changes: dict[str, Any], named: str
) -> None:
    with pytest.raises(WorkflowDefinitionError, match=named):
        StepPolicy(**changes)


def test_steps_and_workflows_refuse_what_they_cannot_run() -> None:
    with pytest.raises(WorkflowDefinitionError, match="step name"):
        Step("Answer Step", lambda state: {})
    with pytest.raises(WorkflowDefinitionError, match="function"):
        Step("answer", "not a function")  # type: ignore[arg-type]
    with pytest.raises(WorkflowDefinitionError, match="more than one step named"):
        Workflow("w", [Step("a", lambda s: {}), Step("a", lambda s: {})])
    with pytest.raises(WorkflowDefinitionError, match="no steps"):
        Workflow("w", [])
    with pytest.raises(WorkflowDefinitionError, match="Step objects"):
        Workflow("w", [lambda s: {}])  # type: ignore[list-item]
    with pytest.raises(WorkflowDefinitionError, match="dataclass"):
        Workflow("w", [Step("a", lambda s: {})]).run("r", {"text": "x"})


def test_a_step_gets_the_context_only_when_it_takes_two_arguments() -> None:
    counted = Counted()
    split, _, summarise = counted.steps()
    assert not split.takes_context
    assert summarise.takes_context


# -- resume ---------------------------------------------------------------------------------------


def test_resume_state_applies_the_finished_prefix_in_workflow_order() -> None:
    initial = {"q": "x", "a": ""}
    saved = {"c": {"a": "stale"}, "a": {"a": "first"}}
    state, to_run = resume_state(initial, ["a", "b", "c"], saved)
    assert state == {"q": "x", "a": "first"}
    assert to_run == ["b", "c"]  # c has a checkpoint, but it comes after the gap
    assert initial == {"q": "x", "a": ""}
    assert resume_state(initial, ("a",), {"a": {"a": "done"}}) == ({"q": "x", "a": "done"}, [])


def test_a_run_checkpoints_each_step_and_a_second_run_does_nothing(tmp_path: Path) -> None:
    counted = Counted()
    store = CheckpointStore(tmp_path / "runs.sqlite")
    workflow = Workflow("words", counted.steps(), store=store)
    result = workflow.run("run-1", Doc("one two three"))
    assert result.ok and result.executed == ("split", "count", "summarise")
    assert result.state.summary == "run-1: 3 words"
    assert [r.step for r in store.history("run-1")] == ["split", "count", "summarise"]
    assert store.history("run-1")[1].output == {"count": 3}
    again = workflow.run("run-1", Doc("one two three"))
    assert again.executed == () and again.restored == ("split", "count", "summarise")
    assert again.state == result.state
    assert len(counted.calls) == 3
    assert store.count_rows() == {"runs": 1, "steps": 3}


def test_after_a_crash_a_resume_repeats_no_finished_step_and_gives_the_same_answers(
    tmp_path: Path,
) -> None:
    reference = Workflow("words", Counted().steps()).run_many(BATCH)
    path = tmp_path / "runs.sqlite"
    first = Counted()
    first.crash_in = "c d e/count"
    with pytest.raises(Crash):
        Workflow("words", first.steps(), store=CheckpointStore(path)).run_many(BATCH)
    assert [r.run_id for r in CheckpointStore(path).runs(status="running")] == ["run-1"]
    second = Counted()  # a new process: new objects, the same file
    results = Workflow("words", second.steps(), store=CheckpointStore(path)).run_many(BATCH)
    finished_before = {call for call in first.calls if call != ("c d e", "count")}
    assert not finished_before & set(second.calls)
    assert ("c d e", "count") in second.calls  # the step in flight runs again
    assert [r.state for r in results] == [r.state for r in reference]
    assert results[1].restored == ("split",) and results[1].executed == ("count", "summarise")


def test_a_resume_refuses_another_workflow_or_another_input(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path / "runs.sqlite")
    Workflow("words", Counted().steps(), store=store).run("run-1", Doc("a b"))
    with pytest.raises(CheckpointMismatchError, match="with steps"):
        Workflow("words", Counted().steps()[:2], store=store).run("run-1", Doc("a b"))
    with pytest.raises(CheckpointMismatchError, match="another input"):
        Workflow("words", Counted().steps(), store=store).run("run-1", Doc("a b c"))
    assert store.delete_run("run-1")
    assert Workflow("words", Counted().steps(), store=store).run("run-1", Doc("a b c")).ok


def test_invalidating_a_step_reruns_it_and_every_step_after_it(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path / "runs.sqlite")
    Workflow("words", Counted().steps(), store=store).run("run-1", Doc("a b"))
    assert store.invalidate("run-1", "count") == 2
    assert store.invalidate("run-1", "count") == 0
    counted = Counted()
    result = Workflow("words", counted.steps(), store=store).run("run-1", Doc("a b"))
    assert result.executed == ("count", "summarise")
    assert [name for _, name in counted.calls] == ["count", "summarise"]


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ("just text", "returned str"),
        ({"colour": "red"}, "does not have"),
        ({"count": {1, 2}}, "cannot be saved"),
        ({"count": float("nan")}, "cannot be saved"),
    ],
)
def test_a_step_output_that_cannot_be_checkpointed_is_refused(output: Any, message: str) -> None:
    workflow = Workflow("w", [Step("bad", lambda state: output)])
    with pytest.raises(StepOutputError, match=message):
        workflow.run("r", Doc("x"))


# -- retries, timeouts, failures -----------------------------------------------------------------


def test_transient_errors_are_retried_and_permanent_ones_fail_the_run_not_the_batch() -> None:
    counted = Counted()
    counted.failures["count"] = [RateLimitError("429", retry_after=0.1), ServerError("503")]
    waits: list[float] = []
    workflow = Workflow(
        "words", counted.steps(count=StepPolicy(max_attempts=3)), sleep=waits.append, seed=1
    )
    first = workflow.run("run-0", Doc("a b"))
    assert first.ok and first.attempts["count"] == 3
    assert waits[0] >= 0.1  # the Retry-After, longer than the backoff
    counted.failures["count"] = [ValueError("a bad request")]
    results = workflow.run_many(BATCH[1:3])
    assert [r.status for r in results] == ["failed", "done"]
    assert "ValueError: a bad request" in (results[0].error or "")
    assert results[0].attempts == {"split": 1}  # the failed step has no finished attempt
    with pytest.raises(StepFailedError, match="resume"):
        results[0].raise_for_status()
    resumed = workflow.run(*BATCH[1])
    assert resumed.ok and resumed.restored == ("split",)


def test_a_slow_attempt_is_abandoned_after_its_timeout_and_retried() -> None:
    calls: list[int] = []

    def slow_first(state: Doc, context: StepContext) -> dict[str, Any]:
        calls.append(context.attempt)
        if context.attempt == 1:
            time.sleep(1.0)
        return {"summary": f"attempt {context.attempt}"}

    policy = StepPolicy(timeout_s=0.1, max_attempts=2, backoff_s=0.0, jitter_s=0.0)
    started = time.perf_counter()
    result = Workflow("w", [Step("slow", slow_first, policy)], sleep=_no_sleep).run("r", Doc("x"))
    assert time.perf_counter() - started < 0.9
    assert result.ok and result.state.summary == "attempt 2" and calls == [1, 2]
    assert is_transient(StepTimeoutError("x"))


def test_a_crash_inside_a_timed_attempt_still_reaches_the_caller() -> None:
    def dies(state: Doc) -> dict[str, Any]:
        raise Crash("gone")

    policy = StepPolicy(timeout_s=5.0, max_attempts=3)
    with pytest.raises(Crash):
        Workflow("w", [Step("dies", dies, policy)]).run("r", Doc("x"))


def test_steps_are_spans_with_attempts_and_failed_attempts_as_events() -> None:
    tracing = setup_tracing("memory")
    counted = Counted()
    counted.failures["count"] = [ServerError("503")]
    steps = counted.steps(count=StepPolicy(max_attempts=2))
    Workflow("words", steps, tracing=tracing, sleep=_no_sleep).run("run-7", Doc("a b"))
    frame = spans_frame(tracing)
    assert list(frame["name"]) == [
        "invoke_workflow words",
        "step split",
        "step count",
        "step summarise",
    ]
    count = frame[frame["name"] == "step count"].iloc[0]
    assert count["course.workflow.attempts"] == 2
    assert count["course.workflow.run_id"] == "run-7"
    span = next(s for s in tracing.spans() if s.name == "step count")
    assert [event.name for event in span.events] == ["attempt failed"]


# -- the Handbook Assistant's steps ----------------------------------------------------------------


def test_rewrite_query_drops_greetings_thanks_and_secrets() -> None:
    assert rewrite_query("Hi team,  how long is the freeze?  Thanks!") == "how long is the freeze?"
    assert "sk-" not in rewrite_query("my key sk-abcdefghijklmnopqrstuvwx fails, why?")
    assert len(rewrite_query("why " * 400)) <= 500
    with pytest.raises(ValueError, match="no question"):
        rewrite_query("Hello!")


def test_verify_answer_checks_each_citation_against_its_passage() -> None:
    passages = [
        {
            "cite_id": "oncall",
            "chunk_id": "c1",
            "doc_id": "oncall",
            "text": "On-call pays EUR 300.",
        },
        {"cite_id": "leave", "chunk_id": "c2", "doc_id": "leave", "text": "Leave is 26 days."},
    ]
    good = verify_answer("On-call: EUR 300 [oncall].", passages)
    assert good == {"cited": ["oncall"], "verified": True, "unsupported": []}
    bad = verify_answer("Leave is 26 days [oncall]. It pays EUR 300 [ghost].", passages)
    assert bad == {
        "cited": ["oncall", "ghost"],
        "verified": False,
        "unsupported": ["oncall", "ghost"],
    }
    assert verify_answer("I don't know.", passages)["verified"] is False


class _Outbox:
    def __init__(self) -> None:
        self.sent: dict[str, tuple[str, str]] = {}
        self.keys: dict[str, str] = {}

    def send(self, to: str, text: str, *, idempotency_key: str | None = None) -> str:
        if idempotency_key in self.keys:
            return self.keys[idempotency_key]
        message_id = f"m{len(self.sent)}"
        self.sent[message_id] = (to, text)
        if idempotency_key is not None:
            self.keys[idempotency_key] = message_id
        return message_id


def test_deliver_answer_sends_once_per_run_whatever_the_attempt() -> None:
    outbox = _Outbox()
    state = AnswerState(question="q", user_id="ana", answer="Yes [doc].", cited=["doc"])
    first = StepContext("handbook-answer", "run-1", "deliver", 1)
    retry = dataclasses.replace(first, attempt=2)
    other = dataclasses.replace(first, run_id="run-2")
    assert delivery_key(first) == delivery_key(retry) != delivery_key(other)
    ids = [deliver_answer(state, ctx, outbox)["message_id"] for ctx in (first, retry, other)]
    assert ids[0] == ids[1] != ids[2]
    assert outbox.sent[ids[0]] == (
        "ana",
        "Yes [doc].\n\n(Check this answer: a cited passage does not support it.)",
    )


# -- LangGraph behind the same interface --------------------------------------------------------


def test_langgraph_resumes_a_crashed_run_without_repeating_finished_steps(tmp_path: Path) -> None:
    reference = Workflow("words", Counted().steps()).run_many(BATCH)
    path = tmp_path / "graph.sqlite"
    first = Counted()
    first.crash_in = "c d e/count"
    with pytest.raises(Crash):
        LangGraphWorkflow(Workflow("words", first.steps()), path, state_type=Doc).run_many(BATCH)
    second = Counted()
    graph = LangGraphWorkflow(Workflow("words", second.steps()), path, state_type=Doc)
    results = graph.run_many(BATCH)
    finished_before = {call for call in first.calls if call != ("c d e", "count")}
    assert not finished_before & set(second.calls)
    assert [r.state for r in results] == [r.state for r in reference]
    assert results[1].restored == ("split",) and results[1].executed == ("count", "summarise")
    assert [h["step"] for h in graph.history("run-1")] == [-1, 0, 1, 2, 3]
    with pytest.raises(CheckpointMismatchError, match="another input"):
        graph.run("run-1", Doc("something else"))
    short = LangGraphWorkflow(Workflow("words", Counted().steps()[:2]), path, state_type=Doc)
    with pytest.raises(CheckpointMismatchError, match="with steps"):
        short.run("run-1", Doc("c d e"))


def test_langgraph_retries_failed_steps_and_records_failed_runs(tmp_path: Path) -> None:
    counted = Counted()
    counted.failures["count"] = [ServerError("503")]
    policy = StepPolicy(max_attempts=2, backoff_s=0.0, jitter_s=0.0)
    workflow = Workflow("words", counted.steps(count=policy))
    graph = LangGraphWorkflow(workflow, tmp_path / "graph.sqlite", state_type=Doc)
    retried = graph.run(*BATCH[0])
    assert retried.ok and retried.attempts["count"] == 2
    counted.failures["count"] = [ValueError("bad")]  # not transient: no retry
    failed = graph.run(*BATCH[1])
    assert failed.status == "failed" and "ValueError" in (failed.error or "")
    assert graph.run(*BATCH[1]).ok


def test_langgraph_runs_with_langsmith_tracing_off_whatever_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from langsmith.utils import tracing_is_enabled

    monkeypatch.setenv("LANGSMITH_TRACING", "true")
    monkeypatch.setenv("LANGCHAIN_TRACING_V2", "true")
    seen: list[object] = []

    def probe(state: Doc) -> dict[str, Any]:
        seen.append(tracing_is_enabled())
        return {}

    workflow = Workflow("w", [Step("probe", probe)])
    assert LangGraphWorkflow(workflow, tmp_path / "g.sqlite", state_type=Doc).run("r", Doc("x")).ok
    assert seen == [False]


def test_an_unsupported_langgraph_version_is_refused_with_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.metadata

    real = importlib.metadata.version
    monkeypatch.setattr(
        importlib.metadata,
        "version",
        lambda name: "0.2.0" if name == "langgraph" else real(name),
    )
    with pytest.raises(OptionalDependencyError, match="supports langgraph"):
        LangGraphWorkflow(Workflow("w", Counted().steps()), tmp_path / "g.sqlite", state_type=Doc)


# -- a real crash: the process is killed ---------------------------------------------------------

_CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from dataclasses import dataclass
    from course_lib.orchestration import CheckpointStore, Step, Workflow

    @dataclass(frozen=True)
    class Doc:
        text: str
        words: int = 0
        done: bool = False

    store_path, ledger_path, kill_in = sys.argv[1], sys.argv[2], sys.argv[3]

    def step(name, update):
        def run(state):
            with open(ledger_path, "a") as ledger:
                ledger.write(f"{state.text}/{name}\\n")
            if f"{state.text}/{name}" == kill_in:
                os.kill(os.getpid(), signal.SIGKILL)
            return update(state)
        return Step(name, run)

    steps = [step("count", lambda s: {"words": len(s.text.split())}),
             step("finish", lambda s: {"done": True})]
    batch = [(f"run-{i}", Doc(t)) for i, t in enumerate(["a b", "c d e", "f"])]
    results = Workflow("kill", steps, store=CheckpointStore(store_path)).run_many(batch)
    print(sum(r.ok for r in results))
    """
)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_a_process_killed_with_sigkill_resumes_without_repeating_finished_steps(
    tmp_path: Path,
) -> None:
    script = tmp_path / "child.py"
    script.write_text(_CHILD)
    store, ledger = tmp_path / "runs.sqlite", tmp_path / "ledger.txt"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    killed = subprocess.run(
        [sys.executable, str(script), str(store), str(ledger), "c d e/finish"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert killed.returncode == -signal.SIGKILL
    before = ledger.read_text().splitlines()
    assert before == ["a b/count", "a b/finish", "c d e/count", "c d e/finish"]
    resumed = subprocess.run(
        [sys.executable, str(script), str(store), str(ledger), "never"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert resumed.stdout.strip() == "3"
    after = ledger.read_text().splitlines()[len(before) :]
    assert after == ["c d e/finish", "f/count", "f/finish"]  # only the step in flight repeats
