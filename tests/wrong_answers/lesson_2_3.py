"""Plausible wrong answers to lesson 2.3's exercises; each must be rejected by its checker."""

from __future__ import annotations

import uuid
from typing import Any

from course_lib.orchestration import StepPolicy

# -- 2.3.1 resume from checkpoints ---------------------------------------------------------------


def _resume_ignores_checkpoints(initial: dict, steps: Any, saved: dict) -> Any:
    return dict(initial), list(steps)  # runs everything again


def _resume_skips_every_saved_step(initial: dict, steps: Any, saved: dict) -> Any:
    state = dict(initial)
    for name in steps:
        if name in saved:
            state.update(saved[name])
    return state, [name for name in steps if name not in saved]  # no prefix rule: a gap is kept


def _resume_in_saved_order(initial: dict, steps: Any, saved: dict) -> Any:
    state = dict(initial)
    for output in saved.values():  # the store's order, not the workflow's
        state.update(output)
    for i, name in enumerate(steps):
        if name not in saved:
            return state, list(steps[i:])
    return state, []


def _resume_mutates_input(initial: dict, steps: Any, saved: dict) -> Any:
    state = initial  # no copy: the run's recorded input changes
    for i, name in enumerate(steps):
        if name not in saved:
            return state, list(steps[i:])
        state.update(saved[name])
    return state, []


def _resume_off_by_one(initial: dict, steps: Any, saved: dict) -> Any:
    state = dict(initial)
    for i, name in enumerate(steps):
        if name not in saved:
            return state, list(steps[i + 1 :])  # skips the first unfinished step
        state.update(saved[name])
    return state, []


def _resume_forgets_outputs(initial: dict, steps: Any, saved: dict) -> Any:
    for i, name in enumerate(steps):
        if name not in saved:
            return dict(initial), list(steps[i:])
    return dict(initial), []


def _resume_returns_only_steps(initial: dict, steps: Any, saved: dict) -> Any:
    for i, name in enumerate(steps):
        if name not in saved:
            return list(steps[i:])
    return []


def _resume_delegates(initial: dict, steps: Any, saved: dict) -> Any:
    from course_lib.orchestration import resume_state as engine_resume

    return engine_resume(initial, steps, saved)  # the engine's function, not the learner's


# -- 2.3.2 deliver exactly once -------------------------------------------------------------------


def _deliver_without_key(state: Any, ctx: Any, outbox: Any) -> dict:
    return {"message_id": outbox.send(state.user_id, state.answer)}


def _deliver_key_with_attempt(state: Any, ctx: Any, outbox: Any) -> dict:
    key = f"{ctx.workflow}:{ctx.run_id}:{ctx.step}:{ctx.attempt}"
    return {"message_id": outbox.send(state.user_id, state.answer, idempotency_key=key)}


def _deliver_key_from_answer(state: Any, ctx: Any, outbox: Any) -> dict:
    key = state.answer  # two runs with the same answer look like one
    return {"message_id": outbox.send(state.user_id, state.answer, idempotency_key=key)}


def _deliver_key_from_question(state: Any, ctx: Any, outbox: Any) -> dict:
    key = state.question
    return {"message_id": outbox.send(state.user_id, state.answer, idempotency_key=key)}


def _deliver_key_from_asker_and_question(state: Any, ctx: Any, outbox: Any) -> dict:
    key = f"{state.user_id}:{state.question}"  # the same person asking again gets nothing
    return {"message_id": outbox.send(state.user_id, state.answer, idempotency_key=key)}


def _deliver_random_key(state: Any, ctx: Any, outbox: Any) -> dict:
    key = str(uuid.uuid4())
    return {"message_id": outbox.send(state.user_id, state.answer, idempotency_key=key)}


def _deliver_constant_key(state: Any, ctx: Any, outbox: Any) -> dict:
    return {"message_id": outbox.send(state.user_id, state.answer, idempotency_key="deliver")}


def _deliver_returns_the_id(state: Any, ctx: Any, outbox: Any) -> Any:
    key = f"{ctx.workflow}:{ctx.run_id}:{ctx.step}"
    return outbox.send(state.user_id, state.answer, idempotency_key=key)  # not a dict


# -- 2.3.3 a retry and timeout budget -------------------------------------------------------------

WRONG_ANSWERS: dict[str, list[Any]] = {
    "2.3.1": [
        _resume_ignores_checkpoints,
        _resume_skips_every_saved_step,
        _resume_in_saved_order,
        _resume_mutates_input,
        _resume_off_by_one,
        _resume_forgets_outputs,
        _resume_returns_only_steps,
        _resume_delegates,
    ],
    "2.3.2": [
        _deliver_without_key,
        _deliver_key_with_attempt,
        _deliver_key_from_answer,
        _deliver_key_from_question,
        _deliver_key_from_asker_and_question,
        _deliver_random_key,
        _deliver_constant_key,
        _deliver_returns_the_id,
    ],
    "2.3.3": [
        StepPolicy(),  # one attempt, no timeout: the tutorial's call
        StepPolicy(max_attempts=5, backoff_s=0.05),  # retries, but a hung call is waited out
        StepPolicy(timeout_s=0.55),  # cuts hung calls, never retries
        # timeouts set from typical latency, not its tail (these passed an older version of the
        # check): slow requests never finish, and every cut call is billed
        StepPolicy(timeout_s=0.1, max_attempts=5, backoff_s=0.05),
        StepPolicy(timeout_s=0.2, max_attempts=4, backoff_s=0.05),
        StepPolicy(timeout_s=0.3, max_attempts=5, backoff_s=0.05),
        # above every healthy call on the tuning side, without headroom: the check's slower
        # requests are cut
        StepPolicy(timeout_s=0.4, max_attempts=4, backoff_s=0.1),
        StepPolicy(timeout_s=0.45, max_attempts=5, backoff_s=0.05),
        StepPolicy(timeout_s=1.1, max_attempts=4, backoff_s=0.05),  # no room left for a retry
        StepPolicy(timeout_s=0.55, max_attempts=4, backoff_s=1.0),  # backoff eats the SLA
        {"timeout_s": 0.55, "max_attempts": 4},  # the settings, not a StepPolicy
    ],
}
