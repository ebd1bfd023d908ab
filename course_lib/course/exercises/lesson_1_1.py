"""Checkers of lesson 1.1, "Calling a model"."""

from __future__ import annotations

import math
import random
from dataclasses import replace
from typing import Any

from course_lib.course.checking import NotYet, Probe, exercise

SOLUTION = "solutions/1_ai_capabilities/11_calling_a_model.ipynb"

__all__ = ["backoff_wait", "call_cost", "worth_retrying"]


# -- 1.1.1 Which errors are worth retrying? ------------------------------------------------


def worth_retrying(error: BaseException) -> bool:
    """The course's answer: retry what is transient (408, 429, 5xx, timeouts, no connection),
    except a 429 that means the account is out of credit; never anything else."""
    import openai

    if isinstance(error, openai.APIConnectionError):  # APITimeoutError is one of these
        return True
    if isinstance(error, openai.APIStatusError):
        if error.status_code == 429:
            return error.code != "insufficient_quota"
        return error.status_code == 408 or error.status_code >= 500
    return False


def _http() -> Any:
    """The HTTP library the installed openai SDK builds its errors from."""
    import importlib

    try:
        return importlib.import_module("httpx2")
    except ImportError:  # pragma: no cover - SDK versions built on httpx
        return importlib.import_module("httpx")


def _status_error(status: int, code: str | None = None) -> BaseException:
    """The exception the SDK raises for an HTTP ``status`` (as its own client maps them)."""
    import openai

    http = _http()
    request = http.Request("POST", "http://127.0.0.1:8000/v1/chat/completions")
    response = http.Response(status, request=request)
    classes = {
        400: openai.BadRequestError,
        401: openai.AuthenticationError,
        403: openai.PermissionDeniedError,
        404: openai.NotFoundError,
        422: openai.UnprocessableEntityError,
        429: openai.RateLimitError,
    }
    cls = classes.get(
        status, openai.InternalServerError if status >= 500 else openai.APIStatusError
    )
    body = {"message": f"HTTP {status}", "type": "error", "param": None, "code": code}
    return cls(f"Error code: {status}", response=response, body=body)


def _retry_cases() -> list[tuple[BaseException, bool, str, str]]:
    """(error, worth retrying?, how the learner sees it, why)."""
    import openai

    from course_lib.errors import BudgetExceededError

    request = _http().Request("POST", "http://127.0.0.1:8000/v1/chat/completions")
    # Plain cases first, so the first failing case names the basic mistake; subtleties last.
    return [
        (_status_error(429, "rate_limit_exceeded"), True, "a 429 rate limit", "wait and retry"),
        (_status_error(500), True, "a 500 server error", "the server failed; it may not next time"),
        (_status_error(503), True, "a 503 (overloaded)", "an overloaded server recovers"),
        (openai.APITimeoutError(request=request), True, "a read timeout", "no answer in time"),
        (
            openai.APIConnectionError(request=request),
            True,
            "a connection error",
            "the network or the endpoint was briefly unreachable",
        ),
        (_status_error(400), False, "a 400 bad request", "the same request fails the same way"),
        (_status_error(401), False, "a 401 bad API key", "the key stays wrong"),
        (_status_error(404), False, "a 404 unknown model", "the model will not appear"),
        (ValueError("bad input"), False, "a ValueError from your code", "a bug, not a fault"),
        (
            BudgetExceededError("over the per-call budget"),
            False,
            "a BudgetExceededError",
            "the call was refused before sending; retrying spends nothing and changes nothing",
        ),
        (_status_error(502), True, "a 502 bad gateway", "every 5xx is the server's fault"),
        (_status_error(408), True, "a 408 request timeout", "the server timed out; try again"),
        (_status_error(403), False, "a 403 permission denied", "permissions do not change"),
        (_status_error(422), False, "a 422 unprocessable request", "the request itself is wrong"),
        (
            _status_error(400, "context_length_exceeded"),
            False,
            "a 400 'context_length_exceeded'",
            "the prompt is too long; shorten it or use a larger model",
        ),
        (
            _status_error(429, "insufficient_quota"),
            False,
            "a 429 with code 'insufficient_quota'",
            "the account is out of credit; waiting does not refill it",
        ),
    ]


@exercise(
    "1.1.1",
    title="Which errors are worth retrying?",
    answer_name="worth_retrying",
    reference=worth_retrying,
    solution=SOLUTION,
    hints=(
        "Retry only what is transient: the server was busy, failed or was slow, or no answer "
        "came at all. A request that is wrong (bad parameters, bad key, unknown model) fails "
        "the same way every time.",
        "Every status error of the SDK is an openai.APIStatusError with a .status_code; "
        "timeouts and network failures are openai.APIConnectionError (APITimeoutError is a "
        "subclass). Anything that is neither is not a model-call fault at all.",
        "Return True for APIConnectionError; for APIStatusError, True when the status is "
        "408, 429 or 500 and above, except a 429 whose error.code is 'insufficient_quota'; "
        "False for everything else.",
    ),
)
def _check_worth_retrying(answer: Any, probe: Probe) -> str:
    cases = _retry_cases()
    for error, expected, shown, why in cases:
        call = f"worth_retrying({shown})"
        got = probe.call(answer, error)
        if not isinstance(got, bool):
            probe.expect_type(got, bool, call)
        if got != expected:
            verdict = "worth retrying" if expected else "not worth retrying"
            raise NotYet(f"{call} returned {got}, but it is {verdict}: {why}.")
    return f"worth_retrying classifies all {len(cases)} hidden errors right."


# -- 1.1.2 The wait before a retry ---------------------------------------------------------


def backoff_wait(
    attempt: int,
    retry_after: float | None = None,
    *,
    initial: float = 0.2,
    cap: float = 8.0,
    jitter: float = 0.2,
    rng: random.Random | None = None,
) -> float:
    """The course's answer: capped exponential backoff plus jitter, never below Retry-After."""
    rng = rng or random.Random()
    wait = min(cap, initial * 2 ** (attempt - 1)) + rng.uniform(0, jitter)
    if retry_after is not None:
        wait = max(wait, retry_after)
    return wait


# (attempt, retry_after, initial, cap, jitter, low, high, must_vary, why)
_WAIT_CASES: list[tuple[int, float | None, float, float, float, float, float, bool, str]] = [
    (1, None, 0.5, 10.0, 0.0, 0.5, 0.5, False, "the first retry waits `initial`"),
    (2, None, 0.5, 10.0, 0.0, 1.0, 1.0, False, "the wait doubles after each failed attempt"),
    (4, None, 0.5, 10.0, 0.0, 4.0, 4.0, False, "attempt 4 waits initial x 2**3"),
    (9, None, 0.5, 10.0, 0.0, 10.0, 10.0, False, "the backoff never goes above `cap`"),
    (2, 3.0, 0.5, 10.0, 0.0, 3.0, 3.0, False, "a longer Retry-After wins over the backoff"),
    (4, 1.0, 0.5, 10.0, 0.0, 4.0, 4.0, False, "a longer backoff wins over a short Retry-After"),
    (3, 0.0, 0.25, 10.0, 0.0, 1.0, 1.0, False, "Retry-After 0 means no extra wait"),
    (1, None, 1.0, 8.0, 0.5, 1.0, 1.5, True, "jitter adds between 0 and `jitter` seconds"),
    (3, None, 1.0, 8.0, 0.5, 4.0, 4.5, True, "jitter adds between 0 and `jitter` seconds"),
    (7, None, 1.0, 8.0, 0.5, 8.0, 8.5, True, "cap the backoff first, then add the jitter"),
    (2, 5.0, 1.0, 8.0, 0.5, 5.0, 5.5, False, "never wait less than Retry-After"),
]


class _SeededRandom(random.Random):
    """A seeded generator whose repr stays short and the same in feedback lines."""

    def __repr__(self) -> str:
        return "random.Random(...)"


@exercise(
    "1.1.2",
    title="The wait before a retry",
    answer_name="backoff_wait",
    reference=backoff_wait,
    solution=SOLUTION,
    hints=(
        "Start from the exponential part: the first retry (attempt 1) waits `initial`, the "
        "next twice that, then four times, and so on: initial * 2 ** (attempt - 1).",
        "Cap that with min(cap, ...), then add rng.uniform(0, jitter). Only then compare with "
        "Retry-After.",
        "If retry_after is not None, return max(wait, retry_after); otherwise return wait.",
    ),
)
def _check_backoff_wait(answer: Any, probe: Probe) -> str:
    for attempt, retry_after, initial, cap, jitter, low, high, must_vary, why in _WAIT_CASES:
        call = (
            f"backoff_wait({attempt}, {retry_after}, initial={initial}, cap={cap}, "
            f"jitter={jitter}, rng=...)"
        )
        draws = []
        for k in range(60 if jitter else 1):
            got = probe.call(
                answer,
                attempt,
                retry_after,
                initial=initial,
                cap=cap,
                jitter=jitter,
                rng=_SeededRandom(1000 + k),
            )
            probe.expect_type(got, (int, float), call)
            if not math.isfinite(got) or not low - 1e-9 <= got <= high + 1e-9:
                where = f"{low:g}" if low == high else f"between {low:g} and {high:g}"
                raise NotYet(f"{call} returned {got:g}, expected {where} ({why}).")
            draws.append(float(got))
        if must_vary and max(draws) - min(draws) < jitter / 4:
            raise NotYet(
                f"{call} returned about {draws[0]:g} every time; draw the jitter with "
                f"rng.uniform(0, jitter) so that clients do not retry in lockstep ({why})."
            )
    return f"backoff_wait stays in the right range on all {len(_WAIT_CASES)} hidden cases."


# -- 1.1.3 What a call costs ---------------------------------------------------------------


def call_cost(usage: Any, spec: Any) -> float:
    """The course's answer: tokens times the price per million tokens, input and output."""
    return (
        usage.prompt_tokens * spec.input_price_per_million
        + usage.completion_tokens * spec.output_price_per_million
    ) / 1_000_000


def _cost_cases() -> list[tuple[Any, Any, float, str]]:
    from openai.types import CompletionUsage

    from course_lib.models import get_registry

    base = get_registry().resolve("chat-small")

    def usage(prompt: int, completion: int) -> Any:
        return CompletionUsage(
            prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion
        )

    def spec(input_price: float, output_price: float) -> Any:
        return replace(
            base,
            id="model-under-test",
            input_price_per_million=input_price,
            output_price_per_million=output_price,
        )

    return [
        (usage(1_000, 0), spec(2.0, 8.0), 0.002, "1,000 input tokens at $2 per million"),
        (usage(0, 1_000), spec(2.0, 8.0), 0.008, "1,000 output tokens at $8 per million"),
        (usage(1_000_000, 500_000), spec(0.15, 0.60), 0.45, "input and output add up"),
        (usage(286, 36), spec(2.5, 10.0), 0.001075, "a typical grounded answer"),
        (usage(4_000, 250), spec(3.0, 15.0), 0.01575, "output tokens cost more than input"),
        (usage(0, 0), spec(1.0, 1.0), 0.0, "no tokens cost nothing"),
    ]


@exercise(
    "1.1.3",
    title="What a call costs",
    answer_name="call_cost",
    reference=call_cost,
    solution=SOLUTION,
    hints=(
        "The usage says how many tokens went in (usage.prompt_tokens) and came out "
        "(usage.completion_tokens); the spec says what a million of each costs.",
        "Input and output have different prices: spec.input_price_per_million and "
        "spec.output_price_per_million. Multiply each count by its own price.",
        "Return (usage.prompt_tokens * spec.input_price_per_million + usage.completion_tokens "
        "* spec.output_price_per_million) / 1_000_000, in dollars.",
    ),
)
def _check_call_cost(answer: Any, probe: Probe) -> str:
    cases = _cost_cases()
    for usage, spec, expected, why in cases:
        call = (
            f"call_cost(usage with {usage.prompt_tokens} in / {usage.completion_tokens} out, "
            f"${spec.input_price_per_million:g} / ${spec.output_price_per_million:g} per million)"
        )
        got = probe.call(answer, usage, spec)
        probe.expect_type(got, (int, float), call)
        if not math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-12):
            raise NotYet(f"{call} returned {got!r}, expected ${expected:g} ({why}).")
    return f"call_cost prices all {len(cases)} hidden calls right, to the cent and below."
