"""Plausible wrong answers to lesson 1.1's exercises; each must be rejected by its checker."""

from __future__ import annotations

from typing import Any

# -- 1.1.1 worth_retrying ------------------------------------------------------------------


def _retry_everything(error: BaseException) -> bool:
    return True  # tenacity's default: any exception is retried


def _only_rate_limits(error: BaseException) -> bool:
    import openai

    return isinstance(error, openai.RateLimitError)  # the popular cookbook decorator


def _by_class_forgetting_quota(error: BaseException) -> bool:
    import openai

    return isinstance(
        error,
        openai.RateLimitError | openai.InternalServerError | openai.APIConnectionError,
    )


def _status_codes_only(error: BaseException) -> bool:
    status = getattr(error, "status_code", None)
    return status is not None and (status in (408, 429) or status >= 500)  # forgets timeouts


def _every_api_error(error: BaseException) -> bool:
    import openai

    if isinstance(error, openai.RateLimitError) and error.code == "insufficient_quota":
        return False
    return isinstance(error, openai.APIError)  # 400, 401 and 404 retried too


def _listed_status_codes(error: BaseException) -> bool:
    import openai

    if isinstance(error, openai.APIConnectionError):
        return True
    if isinstance(error, openai.RateLimitError):
        return error.code != "insufficient_quota"
    # the codes someone has seen: misses 529 and any other 5xx a provider adds
    return isinstance(error, openai.APIStatusError) and error.status_code in (
        408,
        500,
        502,
        503,
        504,
    )


def _any_error_with_a_status(error: BaseException) -> bool:
    import openai

    if isinstance(error, openai.APIConnectionError):
        return True
    status = getattr(error, "status_code", None)  # duck-typed: any exception with a status
    if status == 429:
        return getattr(error, "code", None) != "insufficient_quota"
    return status is not None and (status == 408 or status >= 500)


def _returns_a_string(error: BaseException) -> Any:
    import openai

    return "yes" if isinstance(error, openai.APIConnectionError) else "no"


# -- 1.1.2 policy (open-ended) --------------------------------------------------------------
# Each is a policy a learner could plausibly settle on; each misses a target on unseen seeds.


def _policies() -> list[Any]:
    from course_lib.llm import ReliabilityPolicy

    tuned = ReliabilityPolicy(
        connect_timeout_s=0.5,
        read_timeout_s=1.0,
        max_attempts=5,
        backoff_initial_s=0.1,
        backoff_max_s=1.0,
        max_retry_after_s=1.5,
        breaker_failure_threshold=10,
    )
    return [
        ReliabilityPolicy.bare(),  # no retries: about 70% succeed
        # the production defaults: a 30 s read timeout waits out every stuck request
        ReliabilityPolicy(breaker_failure_threshold=10),
        # four attempts and the default breaker: some calls fail, and the breaker trips
        tuned.with_changes(max_attempts=4, breaker_failure_threshold=5),
        # a read timeout below the slowest answers: those prompts time out on every attempt
        tuned.with_changes(read_timeout_s=0.6),
        # Retry-After (1 s) over max_retry_after_s: every 429 fails the call at once
        tuned.with_changes(max_retry_after_s=0.5),
        # within the worst case, but a read timeout of 1.8 s and slower waits: p95 over target
        tuned.with_changes(
            connect_timeout_s=0.1,
            read_timeout_s=1.8,
            max_retry_after_s=1.0,
            backoff_initial_s=0.3,
        ),
        # retry almost forever: the worst case is far over 15 s
        tuned.with_changes(max_attempts=12),
        # a fallback to the large model with the same short read timeout: its answers are
        # slower than the timeout, so the fallback rarely answers
        tuned.with_changes(max_attempts=3, fallback="chat-large"),
        # a long read timeout kept "to be safe": the p95 and the worst case both suffer
        tuned.with_changes(read_timeout_s=3.0, max_attempts=4),
        # a connect timeout no real provider could meet, to fit 8 attempts into the worst case
        tuned.with_changes(connect_timeout_s=0.001, max_attempts=8),
        # the breaker turned off, so it cannot trip at a 30% fault rate
        tuned.with_changes(max_attempts=4, breaker_failure_threshold=0),
        # the breaker kept in name only: a thousand failures in a row never happen
        tuned.with_changes(max_attempts=4, breaker_failure_threshold=1000),
        # the breaker turned off by its reset: a circuit that closes at once refuses nothing
        tuned.with_changes(breaker_failure_threshold=1, breaker_reset_s=0.0),
        # the default threshold kept, its trips hidden by a reset shorter than a call's gap
        tuned.with_changes(breaker_failure_threshold=5, breaker_reset_s=0.5),
        # four attempts, a breaker this fault rate does not trip and a short reset: about
        # 99.2% succeed (1 - 0.3^4), which clears 99% on a lucky draw but never 99.5%
        tuned.with_changes(max_attempts=4, breaker_failure_threshold=20, breaker_reset_s=5.0),
    ]


WRONG_ANSWERS: dict[str, list[Any]] = {
    "1.1.1": [
        _retry_everything,
        _only_rate_limits,
        _by_class_forgetting_quota,
        _status_codes_only,
        _every_api_error,
        _returns_a_string,
        _listed_status_codes,
        _any_error_with_a_status,
    ],
    "1.1.2": _policies(),
}
