"""Steps of a workflow: a name, a function of the state, and how each attempt runs.

A step function takes the run's state (and, if it has a second parameter, a
:class:`StepContext`) and returns a mapping of the state fields it changes::

    def retrieve(state: AnswerState) -> dict[str, object]:
        return {"passages": search_passages(state.query)}

    Step("retrieve", retrieve, StepPolicy(max_attempts=2))

Its :class:`StepPolicy` says how an attempt runs and when to try again:

* ``timeout_s``: an attempt that runs longer is abandoned and counts as failed
  (:class:`~course_lib.errors.StepTimeoutError`, which is transient). Python cannot stop a
  running thread, so the abandoned attempt goes on in the background and may still finish
  its work: a step with a timeout must be safe to run twice, which is what idempotency keys
  are for. Without a timeout the attempt runs in the caller's thread, for as long as it takes.
* ``max_attempts``, ``backoff_s``, ``max_backoff_s``, ``jitter_s``: retries of transient errors
  (rate limits, server errors, timeouts, dropped connections) with exponential backoff and
  jitter, honouring a rate limit's Retry-After. They are the retry layer of a workflow, built
  on tenacity like the model client's; give the client no retries of its own
  (``ReliabilityPolicy.bare()``), or the two layers multiply.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import math
import random
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_base

from course_lib.errors import RateLimitError, StepTimeoutError, WorkflowDefinitionError
from course_lib.llm import RETRYABLE

__all__ = [
    "TRANSIENT_ERRORS",
    "Step",
    "StepContext",
    "StepFunction",
    "StepPolicy",
    "call_with_timeout",
    "is_transient",
    "run_attempts",
]

StepFunction = Callable[..., Mapping[str, Any]]
"""``f(state)`` or ``f(state, context)``, returning the state fields it changes."""

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (*RETRYABLE, StepTimeoutError)
"""Errors another attempt can cure: the model client's transient errors and step timeouts."""

_STEP_NAME = re.compile(r"[a-z][a-z0-9_-]{0,62}")


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` is worth another attempt (see :data:`TRANSIENT_ERRORS`)."""
    return isinstance(exc, TRANSIENT_ERRORS)


def _number(name: str, value: object, *, minimum: float, strict: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise WorkflowDefinitionError(
            f"StepPolicy.{name} must be a finite number of seconds, got {value!r}."
        )
    if value < minimum or (strict and value == minimum):
        relation = "greater than" if strict else "at least"
        raise WorkflowDefinitionError(
            f"StepPolicy.{name} must be {relation} {minimum:g} seconds, got {value!r}."
        )
    return float(value)


@dataclass(frozen=True)
class StepPolicy:
    """How one step runs: a timeout per attempt, and how often and how patiently to retry.

    Attributes:
        timeout_s: seconds one attempt may take before it is abandoned (and, if attempts
            remain, retried); None runs the attempt in the caller's thread without a limit.
        max_attempts: tries of the step, the first included (1: no retries).
        backoff_s: the wait before the first retry; it doubles with each retry, up to
            ``max_backoff_s``, plus up to ``jitter_s`` of random jitter. A rate limit's
            Retry-After is waited for instead when it is longer.
        retry_on: which errors deserve another attempt; :func:`is_transient` by default.
            Anything else fails the step at once (retrying a bad request cannot help).

    Example:
        >>> StepPolicy(timeout_s=0.5, max_attempts=4, backoff_s=0.05)
    """

    timeout_s: float | None = None
    max_attempts: int = 1
    backoff_s: float = 0.1
    max_backoff_s: float = 2.0
    jitter_s: float = 0.05
    retry_on: Callable[[BaseException], bool] = field(default=is_transient, repr=False)

    def __post_init__(self) -> None:
        if self.timeout_s is not None:
            _number("timeout_s", self.timeout_s, minimum=0.0, strict=True)
        attempts = self.max_attempts
        if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
            raise WorkflowDefinitionError(
                f"StepPolicy.max_attempts must be a whole number of at least 1 (1 means no "
                f"retries), got {attempts!r}."
            )
        for name in ("backoff_s", "max_backoff_s", "jitter_s"):
            _number(name, getattr(self, name), minimum=0.0)
        if not callable(self.retry_on):
            raise WorkflowDefinitionError(
                f"StepPolicy.retry_on must be a function of the exception, got {self.retry_on!r}."
            )

    def wait_before(self, retry: int, exc: BaseException | None, rng: random.Random) -> float:
        """Seconds to wait before retry number ``retry`` (1 for the first) after ``exc``."""
        backoff: float = min(self.max_backoff_s, self.backoff_s * 2 ** max(retry - 1, 0))
        backoff += rng.uniform(0, self.jitter_s) if self.jitter_s else 0.0
        if isinstance(exc, RateLimitError) and exc.retry_after is not None:
            return max(backoff, exc.retry_after)
        return backoff


@dataclass(frozen=True)
class StepContext:
    """Where an attempt stands: which workflow, run and step, and which attempt it is.

    The same ``(workflow, run_id, step)`` names one logical operation across every attempt,
    retry and resume, so it is what an idempotency key for a side effect is made from;
    ``attempt`` (1 for the first try) changes with each retry.
    """

    workflow: str
    run_id: str
    step: str
    attempt: int


def _takes_context(function: Callable[..., Any]) -> bool:
    """Whether ``function`` accepts a second positional argument (the step context)."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):  # some builtins have no signature: give them the state
        return False
    positional = 0
    for parameter in parameters:
        if parameter.kind is inspect.Parameter.VAR_POSITIONAL:
            return True
        if parameter.kind in (
            inspect.Parameter.POSITIONAL_ONLY,
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
        ):
            positional += 1
    return positional >= 2


@dataclass(frozen=True)
class Step:
    """A named step of a workflow: its function and its policy.

    Args:
        name: lower case letters, digits, ``-`` and ``_``; unique in its workflow, and part
            of every checkpoint, span and idempotency key of the step.
        function: ``f(state)`` or ``f(state, context)`` returning the fields it changes.
        policy: timeout and retries; by default one attempt in the caller's thread.
    """

    name: str
    function: StepFunction
    policy: StepPolicy = field(default_factory=StepPolicy)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _STEP_NAME.fullmatch(self.name):
            raise WorkflowDefinitionError(
                f"A step name must be lower case letters, digits, '-' or '_', starting with a "
                f"letter (at most 63 characters), got {self.name!r}."
            )
        if not callable(self.function):
            raise WorkflowDefinitionError(
                f"Step {self.name!r} needs a function of the state, got {self.function!r}."
            )
        if not isinstance(self.policy, StepPolicy):
            raise WorkflowDefinitionError(
                f"Step {self.name!r} needs a StepPolicy, got {type(self.policy).__name__}."
            )

    @property
    def takes_context(self) -> bool:
        """Whether the function is called as ``f(state, context)``."""
        return _takes_context(self.function)

    def call(self, state: Any, context: StepContext) -> Any:
        """One attempt, in this thread: the function's raw return value."""
        if self.takes_context:
            return self.function(state, context)
        return self.function(state)


def call_with_timeout(
    timeout_s: float | None, attempt: Callable[[], Any], context: StepContext
) -> Any:
    """``attempt()``, abandoned with StepTimeoutError after ``timeout_s`` seconds.

    The attempt runs in a daemon thread carrying the caller's context variables (so its
    spans nest under the step's span). A thread cannot be stopped from outside: after the
    timeout it runs on, and its result is ignored.
    """
    if timeout_s is None:
        return attempt()
    outcome: dict[str, Any] = {}
    finished = threading.Event()
    variables = contextvars.copy_context()

    def target() -> None:
        try:
            outcome["value"] = variables.run(attempt)
        except BaseException as exc:  # re-raised in the caller, whatever it is
            outcome["error"] = exc
        finally:
            finished.set()

    worker = threading.Thread(
        target=target, name=f"step-{context.step}-{context.attempt}", daemon=True
    )
    worker.start()
    if not finished.wait(timeout_s):
        raise StepTimeoutError(
            f"Step {context.step!r} of run {context.run_id!r} took longer than its "
            f"{timeout_s:g} s timeout on attempt {context.attempt}; the attempt was abandoned "
            "and may still finish in the background."
        )
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


class _PolicyWait(wait_base):
    """The policy's backoff for tenacity."""

    def __init__(self, policy: StepPolicy, rng: random.Random) -> None:
        self.policy = policy
        self.rng = rng

    def __call__(self, retry_state: RetryCallState) -> float:
        outcome = retry_state.outcome
        exc = outcome.exception() if outcome is not None else None
        return self.policy.wait_before(retry_state.attempt_number, exc, self.rng)


def run_attempts(
    step: Step,
    state: Any,
    *,
    workflow: str,
    run_id: str,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
    on_failed_attempt: Callable[[int, BaseException], None] | None = None,
) -> tuple[Any, int]:
    """Runs ``step`` on ``state`` under its policy; returns (the function's result, attempts).

    Raises the last error when the attempts run out or an error is not worth retrying. An
    exception that is not an ``Exception`` (``KeyboardInterrupt``, ``SystemExit``: the
    process is going down) is never retried or recorded, only re-raised.
    """
    policy = step.policy
    attempts = 0

    def should_retry(exc: BaseException) -> bool:
        return isinstance(exc, Exception) and bool(policy.retry_on(exc))

    def before_sleep(retry_state: RetryCallState) -> None:
        outcome = retry_state.outcome
        exc = outcome.exception() if outcome is not None else None
        if on_failed_attempt is not None and exc is not None:
            on_failed_attempt(retry_state.attempt_number, exc)

    retrying = Retrying(
        stop=stop_after_attempt(policy.max_attempts),
        wait=_PolicyWait(policy, rng or random.Random()),
        retry=retry_if_exception(should_retry),
        before_sleep=before_sleep,
        sleep=sleep,
        reraise=True,
    )
    for attempt in retrying:
        with attempt:
            attempts = attempt.retry_state.attempt_number
            context = StepContext(workflow, run_id, step.name, attempts)
            call = functools.partial(step.call, state, context)
            result = call_with_timeout(policy.timeout_s, call, context)
            return result, attempts
    raise AssertionError("unreachable")  # pragma: no cover - tenacity returns or raises
