"""The reliability policy of model calls: timeouts, one retry layer, fallback, breaker, budget.

Production model calls fail in ordinary ways: rate limits, overloaded servers, slow responses.
The policy answers each one once, in one place:

* explicit connect and read timeouts, so no call hangs;
* one retry layer (tenacity): capped exponential backoff with full jitter (a wait drawn from
  zero to the backoff, as tenacity's ``wait_random_exponential`` does), honouring
  ``Retry-After``, with the SDK's own retries turned off so retries never multiply;
* a fallback model when the primary keeps failing;
* a circuit breaker that stops calling a model that is down, and probes it again later;
* a per-call budget of tokens and money, checked before the call is sent.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal

from tenacity import RetryCallState
from tenacity.wait import wait_base

from course_lib.errors import (
    CircuitOpenError,
    ConnectionFailedError,
    ModelTimeoutError,
    RateLimitError,
    ServerError,
)

__all__ = [
    "RETRYABLE",
    "CircuitBreaker",
    "ReliabilityPolicy",
    "is_retryable",
    "wait_backoff_or_retry_after",
]


Jitter = Literal["full", "added", "none"]
JITTER_KINDS: tuple[str, ...] = ("full", "added", "none")

RETRYABLE: tuple[type[BaseException], ...] = (
    RateLimitError,
    ServerError,
    ModelTimeoutError,
    ConnectionFailedError,
)


def is_retryable(exc: BaseException) -> bool:
    """Transient failures are retried; bad requests, auth errors and budgets are not."""
    return isinstance(exc, RETRYABLE)


@dataclass(frozen=True)
class ReliabilityPolicy:
    """How the client calls a model. :meth:`bare` is the prototype's "no policy at all".

    Attributes:
        connect_timeout_s, read_timeout_s: how long to wait for a connection and a response.
        max_attempts: tries per model, the first included (1 means no retries).
        backoff_initial_s, backoff_max_s: the exponential backoff's ceiling after failed try
            n is ``min(backoff_max_s, backoff_initial_s * 2**(n-1))``.
        jitter: how the wait is drawn under that ceiling. ``"full"`` (the default, AWS's "full
            jitter"): uniformly from 0 to the ceiling, so clients that failed together spread
            over the whole window. ``"added"``: the ceiling plus up to ``jitter_s``, the common
            counter-example: at the cap every client retries within ``jitter_s`` of the others.
            ``"none"``: exactly the ceiling, for tests.
        jitter_s: the added jitter of ``jitter="added"``; ignored otherwise.
        max_retry_after_s: a Retry-After longer than this is not waited for (the call fails).
        fallback: a role or model id tried when the primary model fails, or None.
        breaker_failure_threshold: consecutive failures that open a model's circuit (0: never).
        breaker_reset_s: how long an open circuit fails fast before letting a probe through.
        max_tokens_per_call: input plus output token budget of one call, or None.
        max_cost_per_call_usd: worst-case cost budget of one call, or None.
    """

    connect_timeout_s: float = 5.0
    read_timeout_s: float = 30.0
    max_attempts: int = 4
    backoff_initial_s: float = 0.2
    backoff_max_s: float = 8.0
    jitter_s: float = 0.2
    jitter: Jitter = "full"
    max_retry_after_s: float = 30.0
    fallback: str | None = None
    breaker_failure_threshold: int = 5
    breaker_reset_s: float = 30.0
    max_tokens_per_call: int | None = None
    max_cost_per_call_usd: float | None = None

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {self.max_attempts}.")
        for name in ("connect_timeout_s", "read_timeout_s"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0 seconds, got {getattr(self, name)}.")
        if self.jitter not in JITTER_KINDS:
            raise ValueError(
                f"jitter must be one of {list(JITTER_KINDS)}, got {self.jitter!r}; 'full' "
                "spreads clients that failed together over the whole backoff window."
            )
        for name in ("backoff_initial_s", "backoff_max_s", "jitter_s", "max_retry_after_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0 seconds, got {getattr(self, name)}.")

    @classmethod
    def bare(cls, **changes: Any) -> ReliabilityPolicy:
        """One attempt, no fallback, no breaker, no budget: what a tutorial's call does."""
        base = cls(max_attempts=1, fallback=None, breaker_failure_threshold=0)
        return replace(base, **changes)

    def with_changes(self, **changes: Any) -> ReliabilityPolicy:
        return replace(self, **changes)

    def backoff_ceiling_s(self, attempt: int) -> float:
        """The capped exponential backoff after failed try ``attempt`` (1 for the first)."""
        exponent = max(attempt - 1, 0)
        # int ** int is typed Any (a negative exponent makes a float): name the result's type.
        ceiling: float = min(self.backoff_max_s, self.backoff_initial_s * 2**exponent)
        return ceiling

    def backoff_s(self, attempt: int, rng: random.Random) -> float:
        """The wait after failed try ``attempt``, drawn with ``rng`` as :attr:`jitter` says."""
        ceiling = self.backoff_ceiling_s(attempt)
        if self.jitter == "full":
            return rng.uniform(0, ceiling)
        if self.jitter == "added":
            return ceiling + rng.uniform(0, self.jitter_s)
        return ceiling

    def worst_case_s(self) -> float:
        """The longest one call can take under this policy, in seconds, before it gives up.

        Every try waits its full connect and read timeouts, and every wait is its longest:
        the backoff's ceiling (plus ``jitter_s`` when added), or a Retry-After of up to
        ``max_retry_after_s``. A fallback model doubles it. This is the number to hold
        against a user's patience or an upstream deadline: a call cannot take longer.
        """
        per_try = self.connect_timeout_s + self.read_timeout_s
        extra = self.jitter_s if self.jitter == "added" else 0.0
        waits = sum(
            max(self.backoff_ceiling_s(n) + extra, self.max_retry_after_s)
            for n in range(1, self.max_attempts)
        )
        models = 2 if self.fallback else 1
        return models * (self.max_attempts * per_try + waits)


class wait_backoff_or_retry_after(wait_base):
    """The policy's jittered backoff, or the server's Retry-After when that is longer."""

    def __init__(self, policy: ReliabilityPolicy, rng: random.Random | None = None) -> None:
        self.policy = policy
        self.rng = rng or random.Random()

    def __call__(self, retry_state: RetryCallState) -> float:
        backoff = self.policy.backoff_s(retry_state.attempt_number, self.rng)
        outcome = retry_state.outcome
        exc = outcome.exception() if outcome is not None else None
        if isinstance(exc, RateLimitError) and exc.retry_after is not None:
            return max(backoff, exc.retry_after)
        return backoff


class CircuitBreaker:
    """Per-model circuit: closed, open after repeated failures, half-open to probe again."""

    def __init__(
        self, failure_threshold: int, reset_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.failure_threshold = failure_threshold
        self.reset_s = reset_s
        self.clock = clock
        self._failures: dict[str, int] = {}
        self._opened_at: dict[str, float] = {}
        self._lock = threading.Lock()

    def state(self, model: str) -> str:
        with self._lock:
            opened = self._opened_at.get(model)
            if opened is None:
                return "closed"
            return "half-open" if self.clock() - opened >= self.reset_s else "open"

    def before_call(self, model: str) -> None:
        """Raise CircuitOpenError while the model's circuit is open."""
        if self.failure_threshold <= 0:
            return
        if self.state(model) == "open":
            with self._lock:
                remaining = self.reset_s - (self.clock() - self._opened_at[model])
            raise CircuitOpenError(
                f"The circuit for {model} is open after {self.failure_threshold} failures in a "
                f"row; calls fail fast for another {remaining:.1f} s. Use a fallback model, or "
                "wait for the endpoint to recover."
            )

    def record_success(self, model: str) -> None:
        with self._lock:
            self._failures[model] = 0
            self._opened_at.pop(model, None)

    def record_failure(self, model: str) -> None:
        if self.failure_threshold <= 0:
            return
        with self._lock:
            count = self._failures.get(model, 0) + 1
            self._failures[model] = count
            if count >= self.failure_threshold or model in self._opened_at:
                self._opened_at[model] = self.clock()  # (re)open; a failed probe re-opens
