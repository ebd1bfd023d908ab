"""The same workflow run by LangGraph, behind the course's own interface.

LangGraph is a real, well-kept orchestration framework: a ``StateGraph`` of nodes, and a
checkpointer that saves the graph's state after every super-step (one round of nodes; in a
straight line, one node) into a *thread*. This module is the only production module of
``course_lib`` that imports it (lesson 2.3's lab calls it directly once, to show an error), and
it imports it lazily: the rest of the code talks to a
:class:`~course_lib.orchestration.WorkflowRunner` and never sees a LangGraph type, so
upgrading the framework, or replacing it, touches this file alone. ::

    runner = LangGraphWorkflow(workflow, work_path("lesson_2_3", "langgraph.sqlite"),
                               state_type=AnswerState)
    result = runner.run("ops-001", AnswerState.ask(question, user))   # thread id = run id

What maps to what:

* each :class:`~course_lib.orchestration.Step` becomes a node, in a straight line from
  ``START`` to ``END``; the run id is the thread id;
* checkpoints go to LangGraph's ``SqliteSaver`` in their own file;
* a step's retries become LangGraph's ``RetryPolicy`` (its own backoff: it does not honour a
  rate limit's Retry-After);
* a step's timeout stays the course's: LangGraph refuses node timeouts on synchronous nodes;
* each node runs inside the course's ``step {name}`` span, so traces look the same whichever
  backend ran them. LangSmith tracing is switched off around every call: nothing leaves the
  machine.

The supported LangGraph versions are pinned in :data:`SUPPORTED_LANGGRAPH` and checked when a
runner is made: an untested major version fails with a clear error, not deep inside a run.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from course_lib.errors import (
    CheckpointMismatchError,
    OptionalDependencyError,
    WorkflowDefinitionError,
)
from course_lib.observability import trace_span, trace_workflow
from course_lib.orchestration.engine import (
    ATTRIBUTE_ATTEMPTS,
    ATTRIBUTE_RESTORED,
    ATTRIBUTE_RUN_ID,
    ATTRIBUTE_STATUS,
    ATTRIBUTE_STEP,
    RunResult,
    Workflow,
    check_output,
    state_values,
)
from course_lib.orchestration.steps import Step, StepContext, call_with_timeout
from course_lib.orchestration.store import to_json

__all__ = ["SUPPORTED_LANGGRAPH", "LangGraphWorkflow", "langgraph_version"]

S = TypeVar("S")

SUPPORTED_LANGGRAPH = ">=1.0,<2"
"""The LangGraph versions this backend is written and tested against (the lock pins one)."""

_META_WORKFLOW = "course_workflow"
_META_STEPS = "course_steps"
_META_INPUT = "course_input_sha256"
_INSTALL = "pip install 'langgraph>=1.0,<2' 'langgraph-checkpoint-sqlite>=2'"


def langgraph_version() -> str:
    """The installed LangGraph version, checked against :data:`SUPPORTED_LANGGRAPH`.

    Raises:
        OptionalDependencyError: LangGraph is missing, or its version is not supported.
    """
    from importlib.metadata import PackageNotFoundError, version

    from packaging.specifiers import SpecifierSet

    try:
        installed = version("langgraph")
        version("langgraph-checkpoint-sqlite")
    except PackageNotFoundError as exc:
        raise OptionalDependencyError(
            f"The LangGraph backend needs the package {exc.name}, which is not installed. "
            f"Install it with: {_INSTALL}"
        ) from None
    if installed not in SpecifierSet(SUPPORTED_LANGGRAPH):
        raise OptionalDependencyError(
            f"The LangGraph backend supports langgraph {SUPPORTED_LANGGRAPH}, but {installed} is "
            f"installed; its API may differ. Install the version the lock file pins, or: "
            f"{_INSTALL}"
        )
    return installed


class LangGraphWorkflow(Generic[S]):
    """A :class:`~course_lib.orchestration.Workflow`'s steps, run by LangGraph.

    Args:
        workflow: the workflow whose steps, policies, name and tracing to use (its own
            checkpoint store is not used).
        path: the SQLite file of LangGraph's checkpoints (created if missing).
        state_type: the dataclass of the state, which LangGraph needs before the first run.

    Raises:
        OptionalDependencyError: LangGraph is missing or of an unsupported version.
        WorkflowDefinitionError: ``state_type`` is not a dataclass.
    """

    def __init__(self, workflow: Workflow[S], path: str | Path, *, state_type: type[S]) -> None:
        self.version = langgraph_version()
        if not (isinstance(state_type, type) and is_dataclass(state_type)):
            raise WorkflowDefinitionError(
                f"state_type must be the state's dataclass, got {state_type!r}."
            )
        self.name = workflow.name
        self.steps = workflow.steps
        self.tracing = workflow.tracing
        self.state_type = state_type
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fields = [f.name for f in fields(state_type)]
        self._executed: list[str] = []
        self._attempts: dict[tuple[str, str], int] = {}
        # LangGraph may run a node in a worker thread, so the connection may cross threads.
        self._connection = sqlite3.connect(str(self.path), check_same_thread=False)
        self.graph = self._compile()

    def __repr__(self) -> str:
        steps = [step.name for step in self.steps]
        return f"LangGraphWorkflow({self.name!r}, steps={steps}, langgraph={self.version})"

    def close(self) -> None:
        self._connection.close()

    def _compile(self) -> Any:
        from langgraph.checkpoint.sqlite import SqliteSaver
        from langgraph.graph import END, START, StateGraph
        from langgraph.types import RetryPolicy

        builder: Any = StateGraph(self.state_type)
        previous = START
        for step in self.steps:
            policy = step.policy
            retry = RetryPolicy(
                initial_interval=policy.backoff_s,
                backoff_factor=2.0,
                max_interval=max(policy.max_backoff_s, policy.backoff_s),
                max_attempts=policy.max_attempts,
                jitter=policy.jitter_s > 0,
                retry_on=policy.retry_on,
            )
            builder.add_node(step.name, self._node(step), retry_policy=retry)
            builder.add_edge(previous, step.name)
            previous = step.name
        builder.add_edge(previous, END)
        return builder.compile(checkpointer=SqliteSaver(self._connection))

    def _node(self, step: Step) -> Any:
        """The node function of ``step``: the course's span, timeout and output check."""

        from langgraph.config import get_config

        def node(state: Any) -> dict[str, Any]:
            run_id = str(get_config()["configurable"]["thread_id"])
            key = (run_id, step.name)
            self._attempts[key] = attempt = self._attempts.get(key, 0) + 1
            context = StepContext(self.name, run_id, step.name, attempt)
            attributes = {
                ATTRIBUTE_RUN_ID: run_id,
                ATTRIBUTE_STEP: step.name,
                ATTRIBUTE_ATTEMPTS: attempt,
            }
            if not self._executed or self._executed[-1] != step.name:
                self._executed.append(step.name)
            with trace_span(self.tracing, f"step {step.name}", attributes=attributes):
                output = call_with_timeout(
                    step.policy.timeout_s, lambda: step.call(state, context), context
                )
            return check_output(step.name, output, self._fields)

        node.__name__ = step.name
        return node

    def _config(self, run_id: str, values: dict[str, Any] | None = None) -> dict[str, Any]:
        config: dict[str, Any] = {"configurable": {"thread_id": run_id}}
        if values is not None:
            # Saved with every checkpoint of the thread, so a resume can check them.
            config["metadata"] = {
                _META_WORKFLOW: self.name,
                _META_STEPS: json.dumps([step.name for step in self.steps]),
                _META_INPUT: hashlib.sha256(
                    to_json(values, where="The input").encode()
                ).hexdigest(),
            }
        return config

    def _check_thread(
        self, run_id: str, metadata: dict[str, Any], expected: dict[str, Any]
    ) -> None:
        """LangGraph resumes a thread under whatever graph it is given; refuse, as the course's
        engine does, a thread started by another workflow or for another input."""
        if any(metadata.get(key) != value for key, value in expected.items() if key != _META_INPUT):
            raise CheckpointMismatchError(
                f"Run {run_id!r} was started by workflow {metadata.get(_META_WORKFLOW)!r} with "
                f"steps {metadata.get(_META_STEPS)}; this is {self.name!r} with steps "
                f"{expected[_META_STEPS]}. Use a new run id."
            )
        if metadata.get(_META_INPUT) != expected[_META_INPUT]:
            raise CheckpointMismatchError(
                f"Run {run_id!r} was started with another input; a run id names one request. "
                "Use a new run id for a new request."
            )

    def run(self, run_id: str, initial: S) -> RunResult[S]:
        """Runs ``run_id`` (a LangGraph thread) from ``initial``, or resumes it from its last
        checkpoint. A finished thread is returned as it is, without running anything."""
        from langsmith import tracing_context

        if not isinstance(run_id, str) or not run_id.strip():
            raise WorkflowDefinitionError(f"A run id is a non-empty string, got {run_id!r}.")
        values = state_values(initial)
        config = self._config(run_id, values)
        names = [step.name for step in self.steps]
        snapshot = self.graph.get_state(config)
        started = bool(snapshot.values)
        if started:
            self._check_thread(run_id, dict(snapshot.metadata or {}), config["metadata"])
        pending = list(snapshot.next) if started else names
        first = names.index(pending[0]) if pending else len(names)
        restored = tuple(names[:first])
        self._executed = []
        self._attempts = {k: v for k, v in self._attempts.items() if k[0] != run_id}
        status, error = "done", None
        attributes = {ATTRIBUTE_RUN_ID: run_id, ATTRIBUTE_RESTORED: list(restored)}
        with (
            tracing_context(enabled=False),
            trace_workflow(self.tracing, self.name, attributes=attributes) as span,
        ):
            try:
                if pending:
                    self.graph.invoke(None if started else values, config)
            except Exception as exc:
                status = "failed"
                failed = self._executed[-1] if self._executed else "?"
                error = " ".join(f"step {failed!r}: {type(exc).__name__}: {exc}".split())[:300]
            span.set_attributes({ATTRIBUTE_STATUS: status})
        final = self.graph.get_state(config).values
        state: Any = self.state_type(**{k: final[k] for k in self._fields if k in final})
        attempts = {name: n for (rid, name), n in self._attempts.items() if rid == run_id}
        return RunResult(
            run_id=run_id,
            status=status,
            state=state,
            executed=tuple(self._executed),
            restored=restored,
            attempts=attempts,
            error=error,
        )

    def run_many(self, runs: Iterable[tuple[str, S]]) -> list[RunResult[S]]:
        """Runs (or resumes) each ``(run_id, initial_state)``, one thread each."""
        return [self.run(run_id, initial) for run_id, initial in runs]

    def history(self, run_id: str) -> list[dict[str, Any]]:
        """LangGraph's checkpoints of ``run_id``, oldest first: ``{"step", "source", "next"}``
        each (``step`` -1 is the input; each super-step adds one)."""
        snapshots = list(self.graph.get_state_history(self._config(run_id)))
        return [
            {
                "step": snapshot.metadata.get("step") if snapshot.metadata else None,
                "source": snapshot.metadata.get("source") if snapshot.metadata else None,
                "next": tuple(snapshot.next),
            }
            for snapshot in reversed(snapshots)
        ]

    def count_rows(self) -> dict[str, int]:
        """How many rows LangGraph's tables hold: what one more run costs in storage."""
        return {
            table: int(self._connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
            for table in ("checkpoints", "writes")
        }
