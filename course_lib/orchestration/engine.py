"""A workflow engine: named steps over a typed state, checkpointed, resumable, traced.

::

    workflow = Workflow("handbook-answer", [Step("rewrite", rewrite), ...], store=store)
    result = workflow.run("ops-001", AnswerState(question=..., user_id=...))
    result.state.answer, result.executed, result.restored

A run is identified by its run id, which is also its idempotency key: running the same id
again resumes it, skipping every step its checkpoints say finished (and does nothing at all
for a run that is done). Each step is retried and timed out by its
:class:`~course_lib.orchestration.steps.StepPolicy`, and traced as a span ``step {name}``
under the run's ``invoke_workflow {name}`` span.

The state is a dataclass whose fields are JSON values; a step returns the fields it changes,
and exactly that is checkpointed. A run that fails (a step out of attempts) is recorded as
failed, and the next run of the batch goes on: one bad question does not stop the others.
"""

from __future__ import annotations

import dataclasses
import json
import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from course_lib.errors import StepFailedError, StepOutputError, WorkflowDefinitionError
from course_lib.observability import Tracing, disabled_tracing, trace_span, trace_workflow
from course_lib.orchestration.steps import Step, run_attempts
from course_lib.orchestration.store import CheckpointStore, StepRecord, to_json

if TYPE_CHECKING:
    from course_lib.observability import Step as SpanStep

__all__ = [
    "ATTRIBUTE_ATTEMPTS",
    "ATTRIBUTE_RESTORED",
    "ATTRIBUTE_RUN_ID",
    "ATTRIBUTE_STATUS",
    "ATTRIBUTE_STEP",
    "RunResult",
    "Workflow",
    "WorkflowRunner",
    "check_output",
    "resume_state",
    "state_values",
]

S = TypeVar("S")

# Span attributes of the engine (no semantic convention names workflow steps yet).
ATTRIBUTE_RUN_ID = "course.workflow.run_id"
ATTRIBUTE_STEP = "course.workflow.step"
ATTRIBUTE_ATTEMPTS = "course.workflow.attempts"
ATTRIBUTE_RESTORED = "course.workflow.restored_steps"
ATTRIBUTE_STATUS = "course.workflow.status"


def resume_state(
    initial: Mapping[str, Any],
    steps: Sequence[str],
    saved: Mapping[str, Mapping[str, Any]],
) -> tuple[dict[str, Any], list[str]]:
    """The state to resume from, and the steps still to run.

    Saved outputs are applied to a copy of ``initial`` in workflow order, up to the first step
    with no checkpoint; that step and every one after it run again, even one with a
    checkpoint of its own, because its input may change when the earlier step runs again.

    Args:
        initial: the run's initial state, as a dict (left unchanged).
        steps: the workflow's step names, in order.
        saved: step name -> the output its checkpoint recorded.

    Example:
        >>> resume_state({"q": "hi"}, ["a", "b", "c"], {"a": {"x": 1}, "c": {"y": 2}})
        ({'q': 'hi', 'x': 1}, ['b', 'c'])
    """
    state = dict(initial)
    for position, name in enumerate(steps):
        if name not in saved:
            return state, list(steps[position:])
        state.update(saved[name])
    return state, []


@dataclass(frozen=True)
class RunResult(Generic[S]):
    """What one call of ``run`` did.

    Attributes:
        run_id: the run.
        status: ``done`` (every step finished) or ``failed`` (a step ran out of attempts).
        state: the state after the last finished step.
        executed: the steps this call ran (each to the end, or the one that failed).
        restored: the steps whose checkpointed output was reused instead of running them.
        attempts: step -> attempts this call made (2 or more: retries happened).
        error: the failed step's error, one line, or None.
    """

    run_id: str
    status: str
    state: S
    executed: tuple[str, ...] = ()
    restored: tuple[str, ...] = ()
    attempts: Mapping[str, int] = field(default_factory=dict)
    durations_ms: Mapping[str, float] = field(default_factory=dict)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "done"

    def raise_for_status(self) -> RunResult[S]:
        """Returns self when the run is done; raises StepFailedError when it failed."""
        if self.status != "done":
            raise StepFailedError(
                f"Run {self.run_id!r} failed: {self.error}. Its finished steps are "
                "checkpointed: run it again to resume from the failed step."
            )
        return self


class WorkflowRunner(Protocol[S]):
    """What the lesson's code needs from a workflow backend, whichever runs it.

    :class:`Workflow` (the course's engine) and
    :class:`~course_lib.orchestration.LangGraphWorkflow` both satisfy it, so the code that
    submits runs and reads results never imports a framework.
    """

    name: str

    def run(self, run_id: str, initial: S) -> RunResult[S]: ...

    def run_many(self, runs: Iterable[tuple[str, S]]) -> list[RunResult[S]]: ...


def state_values(state: Any) -> dict[str, Any]:
    """The state's fields as plain JSON values (what a checkpoint can hold)."""
    if not dataclasses.is_dataclass(state) or isinstance(state, type):
        raise WorkflowDefinitionError(
            f"A workflow's state must be a dataclass instance, got {type(state).__name__}."
        )
    values = {f.name: getattr(state, f.name) for f in dataclasses.fields(state)}
    loaded: dict[str, Any] = json.loads(to_json(values, where="The state"))
    return loaded


def check_output(step: str, output: Any, fields: Iterable[str]) -> dict[str, Any]:
    """``output`` as a dict of known state fields holding JSON values, as a resume sees it."""
    if not isinstance(output, Mapping):
        raise StepOutputError(
            f"Step {step!r} returned {type(output).__name__}; a step returns a dict of the "
            "state fields it changes, e.g. {'answer': text}."
        )
    unknown = sorted(str(key) for key in output if key not in set(fields))
    if unknown:
        raise StepOutputError(
            f"Step {step!r} returned field(s) {unknown} that the state does not have; "
            f"its fields are {sorted(fields)}."
        )
    checked: dict[str, Any] = json.loads(to_json(dict(output), where=f"The output of {step!r}"))
    return checked


class Workflow(Generic[S]):
    """Named steps run in order over a typed state, with checkpoints, retries and spans.

    Args:
        name: the workflow's name, in checkpoints, spans and idempotency keys.
        steps: the steps, in order; names must be unique.
        store: where checkpoints go; an in-memory store by default (no resume after a
            restart).
        tracing: spans of runs and steps (:func:`~course_lib.observability.setup_tracing`);
            none by default.
        sleep: how retries wait (tests pass a fake).
        seed: seeds the retry jitter, for reproducible runs.
    """

    def __init__(
        self,
        name: str,
        steps: Sequence[Step],
        *,
        store: CheckpointStore | None = None,
        tracing: Tracing | None = None,
        sleep: Callable[[float], None] = time.sleep,
        seed: int | None = None,
    ) -> None:
        if not isinstance(name, str) or not name.strip():
            raise WorkflowDefinitionError(f"A workflow needs a name, got {name!r}.")
        steps = list(steps)
        if not steps:
            raise WorkflowDefinitionError(f"Workflow {name!r} has no steps; give it at least one.")
        for step in steps:
            if not isinstance(step, Step):
                raise WorkflowDefinitionError(
                    f"Workflow {name!r} takes Step objects, got {type(step).__name__}; wrap "
                    "the function: Step('name', function)."
                )
        names = [step.name for step in steps]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise WorkflowDefinitionError(
                f"Workflow {name!r} has more than one step named {duplicates}; names must be "
                "unique, since checkpoints are keyed by them."
            )
        self.name = name
        self.steps = tuple(steps)
        self.store = store or CheckpointStore()
        self.tracing = tracing or disabled_tracing()
        self._sleep = sleep
        self._rng = random.Random(seed)

    def __repr__(self) -> str:
        return f"Workflow({self.name!r}, steps={list(self.step_names)}, store={self.store!r})"

    @property
    def step_names(self) -> tuple[str, ...]:
        return tuple(step.name for step in self.steps)

    def history(self, run_id: str) -> list[StepRecord]:
        """The checkpoints of ``run_id``: its finished steps, in order."""
        return self.store.history(run_id)

    def run_many(self, runs: Iterable[tuple[str, S]]) -> list[RunResult[S]]:
        """Runs (or resumes) each ``(run_id, initial_state)``; a failed run does not stop the
        others. Returns one result per run, in order."""
        return [self.run(run_id, initial) for run_id, initial in runs]

    def run(self, run_id: str, initial: S) -> RunResult[S]:
        """Runs ``run_id`` from ``initial``, or resumes it from its checkpoints.

        Raises:
            CheckpointMismatchError: ``run_id`` was started by another workflow or input.
            StepOutputError: a step returned something that is not a dict of state fields
                with JSON values (a bug in the step, so it is raised, not recorded).
        """
        if not isinstance(run_id, str) or not run_id.strip():
            raise WorkflowDefinitionError(f"A run id is a non-empty string, got {run_id!r}.")
        initial_values = state_values(initial)
        fields = list(initial_values)
        saved = self.store.begin(
            run_id, workflow=self.name, steps=self.step_names, input=initial_values
        )
        values, to_run = resume_state(initial_values, self.step_names, saved)
        state: Any = type(initial)(**values)
        restored = tuple(name for name in self.step_names if name not in to_run)
        executed: list[str] = []
        attempts: dict[str, int] = {}
        durations: dict[str, float] = {}
        attributes = {ATTRIBUTE_RUN_ID: run_id, ATTRIBUTE_RESTORED: list(restored)}
        with trace_workflow(self.tracing, self.name, attributes=attributes) as workflow_span:
            for position, step in enumerate(self.steps):
                if step.name not in to_run:
                    continue
                executed.append(step.name)
                started = time.perf_counter()
                try:
                    output, tries = self._run_step(step, state, run_id)
                except Exception as exc:
                    durations[step.name] = (time.perf_counter() - started) * 1000
                    error = _one_line(f"step {step.name!r}: {type(exc).__name__}: {exc}")
                    self.store.finish(run_id, "failed", error=error)
                    workflow_span.set_attributes({ATTRIBUTE_STATUS: "failed"})
                    return RunResult(
                        run_id=run_id,
                        status="failed",
                        state=state,
                        executed=tuple(executed),
                        restored=restored,
                        attempts=attempts,
                        durations_ms=durations,
                        error=error,
                    )
                durations[step.name] = (time.perf_counter() - started) * 1000
                attempts[step.name] = tries
                changes = check_output(step.name, output, fields)
                state = dataclasses.replace(state, **changes)
                self.store.save_step(
                    run_id,
                    step.name,
                    position=position,
                    output=changes,
                    attempts=tries,
                    duration_ms=durations[step.name],
                )
            workflow_span.set_attributes({ATTRIBUTE_STATUS: "done"})
        self.store.finish(run_id, "done")
        return RunResult(
            run_id=run_id,
            status="done",
            state=state,
            executed=tuple(executed),
            restored=restored,
            attempts=attempts,
            durations_ms=durations,
        )

    def _run_step(self, step: Step, state: Any, run_id: str) -> tuple[Any, int]:
        """One step under its policy, inside its span; returns (output, attempts)."""
        attributes = {ATTRIBUTE_RUN_ID: run_id, ATTRIBUTE_STEP: step.name}
        with trace_span(self.tracing, f"step {step.name}", attributes=attributes) as span:

            def failed_attempt(number: int, exc: BaseException) -> None:
                _record_failed_attempt(span, number, exc)

            output, tries = run_attempts(
                step,
                state,
                workflow=self.name,
                run_id=run_id,
                sleep=self._sleep,
                rng=self._rng,
                on_failed_attempt=failed_attempt,
            )
            span.set_attributes({ATTRIBUTE_ATTEMPTS: tries})
        return output, tries


def _record_failed_attempt(span: SpanStep, number: int, exc: BaseException) -> None:
    """An event on the step's span for an attempt that failed and will be retried."""
    from course_lib.redaction import redact

    kind = type(exc)
    span.span.add_event(
        "attempt failed",
        {
            ATTRIBUTE_ATTEMPTS: number,
            "error.type": f"{kind.__module__}.{kind.__qualname__}",
            "exception.message": redact(_one_line(str(exc))),
        },
    )


def _one_line(text: str, limit: int = 300) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."
