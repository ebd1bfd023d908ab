"""Workflows as explicit steps over a state, with checkpoints, resume, timeouts and retries.

A multi-step AI workflow (rewrite, retrieve, answer, verify, deliver) is a distributed job:
it calls paid, flaky services and it can die half-way. This package runs one as named steps
over a typed state, saving each finished step, so that a run picks up where it stopped::

    from course_lib.orchestration import AnswerState, CheckpointStore, HandbookSteps

    steps = HandbookSteps(index, client=client, outbox=outbox)
    workflow = steps.workflow(store=CheckpointStore(path))
    results = workflow.run_many((q.id, AnswerState.ask(q.question, user)) for q in batch)
    # after a crash, the same call resumes every run: finished steps are not run again

* :mod:`~course_lib.orchestration.steps`: :class:`Step`, :class:`StepPolicy` (a timeout per
  attempt, retries with backoff on transient errors) and :class:`StepContext`;
* :mod:`~course_lib.orchestration.store`: :class:`CheckpointStore`, one SQLite row per run and
  per finished step;
* :mod:`~course_lib.orchestration.engine`: :class:`Workflow`, :class:`RunResult` and
  :func:`resume_state`; spans ``invoke_workflow {name}`` and ``step {name}``;
* :mod:`~course_lib.orchestration.handbook`: the Handbook Assistant's steps
  (:class:`HandbookSteps`, :class:`AnswerState`) and its side effect with an idempotency key
  (:func:`deliver_answer`);
* :mod:`~course_lib.orchestration.langgraph_backend`: the same workflow run by LangGraph with
  its SQLite checkpointer (:class:`LangGraphWorkflow`), behind the same
  :class:`WorkflowRunner` interface; the only production module that imports LangGraph.

Importing this package is cheap: each name loads its module on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from course_lib._lazy import lazy_exports

if TYPE_CHECKING:
    from course_lib.orchestration.engine import RunResult, Workflow, WorkflowRunner, resume_state
    from course_lib.orchestration.handbook import (
        DEFAULT_POLICIES,
        UNVERIFIED_NOTE,
        AnswerState,
        HandbookSteps,
        MessageSender,
        answer_from_passages,
        deliver_answer,
        delivery_key,
        retrieve_passages,
        rewrite_query,
        verify_answer,
    )
    from course_lib.orchestration.langgraph_backend import (
        SUPPORTED_LANGGRAPH,
        LangGraphWorkflow,
        langgraph_version,
    )
    from course_lib.orchestration.steps import (
        TRANSIENT_ERRORS,
        Step,
        StepContext,
        StepPolicy,
        is_transient,
    )
    from course_lib.orchestration.store import CheckpointStore, RunRecord, StepRecord

_EXPORTS = {
    "RunResult": "course_lib.orchestration.engine",
    "Workflow": "course_lib.orchestration.engine",
    "WorkflowRunner": "course_lib.orchestration.engine",
    "resume_state": "course_lib.orchestration.engine",
    "DEFAULT_POLICIES": "course_lib.orchestration.handbook",
    "UNVERIFIED_NOTE": "course_lib.orchestration.handbook",
    "AnswerState": "course_lib.orchestration.handbook",
    "HandbookSteps": "course_lib.orchestration.handbook",
    "MessageSender": "course_lib.orchestration.handbook",
    "answer_from_passages": "course_lib.orchestration.handbook",
    "deliver_answer": "course_lib.orchestration.handbook",
    "delivery_key": "course_lib.orchestration.handbook",
    "retrieve_passages": "course_lib.orchestration.handbook",
    "rewrite_query": "course_lib.orchestration.handbook",
    "verify_answer": "course_lib.orchestration.handbook",
    "SUPPORTED_LANGGRAPH": "course_lib.orchestration.langgraph_backend",
    "LangGraphWorkflow": "course_lib.orchestration.langgraph_backend",
    "langgraph_version": "course_lib.orchestration.langgraph_backend",
    "TRANSIENT_ERRORS": "course_lib.orchestration.steps",
    "Step": "course_lib.orchestration.steps",
    "StepContext": "course_lib.orchestration.steps",
    "StepPolicy": "course_lib.orchestration.steps",
    "is_transient": "course_lib.orchestration.steps",
    "CheckpointStore": "course_lib.orchestration.store",
    "RunRecord": "course_lib.orchestration.store",
    "StepRecord": "course_lib.orchestration.store",
}

__all__ = [
    "DEFAULT_POLICIES",
    "SUPPORTED_LANGGRAPH",
    "TRANSIENT_ERRORS",
    "UNVERIFIED_NOTE",
    "AnswerState",
    "CheckpointStore",
    "HandbookSteps",
    "LangGraphWorkflow",
    "MessageSender",
    "RunRecord",
    "RunResult",
    "Step",
    "StepContext",
    "StepPolicy",
    "StepRecord",
    "Workflow",
    "WorkflowRunner",
    "answer_from_passages",
    "deliver_answer",
    "delivery_key",
    "is_transient",
    "langgraph_version",
    "resume_state",
    "retrieve_passages",
    "rewrite_query",
    "verify_answer",
]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
