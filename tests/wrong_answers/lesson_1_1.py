"""Plausible wrong answers to lesson 1.1's exercises; each must be rejected by its checker."""

from __future__ import annotations

import random
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


def _returns_a_string(error: BaseException) -> Any:
    import openai

    return "yes" if isinstance(error, openai.APIConnectionError) else "no"


# -- 1.1.2 backoff_wait --------------------------------------------------------------------


def _no_cap(attempt, retry_after=None, *, initial=0.2, cap=8.0, jitter=0.2, rng=None):
    rng = rng or random.Random()
    wait = initial * 2 ** (attempt - 1) + rng.uniform(0, jitter)
    return wait if retry_after is None else max(wait, retry_after)


def _exponent_off_by_one(attempt, retry_after=None, *, initial=0.2, cap=8.0, jitter=0.2, rng=None):
    rng = rng or random.Random()
    wait = min(cap, initial * 2**attempt) + rng.uniform(0, jitter)
    return wait if retry_after is None else max(wait, retry_after)


def _ignores_retry_after(attempt, retry_after=None, *, initial=0.2, cap=8.0, jitter=0.2, rng=None):
    rng = rng or random.Random()
    return min(cap, initial * 2 ** (attempt - 1)) + rng.uniform(0, jitter)


def _retry_after_replaces_backoff(
    attempt, retry_after=None, *, initial=0.2, cap=8.0, jitter=0.2, rng=None
):
    rng = rng or random.Random()
    if retry_after is not None:
        return retry_after
    return min(cap, initial * 2 ** (attempt - 1)) + rng.uniform(0, jitter)


def _no_jitter(attempt, retry_after=None, *, initial=0.2, cap=8.0, jitter=0.2, rng=None):
    wait = min(cap, initial * 2 ** (attempt - 1))
    return wait if retry_after is None else max(wait, retry_after)


def _full_jitter(attempt, retry_after=None, *, initial=0.2, cap=8.0, jitter=0.2, rng=None):
    rng = rng or random.Random()
    wait = rng.uniform(0, min(cap, initial * 2 ** (attempt - 1)))  # a different formula
    return wait if retry_after is None else max(wait, retry_after)


def _jitter_inside_the_cap(
    attempt, retry_after=None, *, initial=0.2, cap=8.0, jitter=0.2, rng=None
):
    rng = rng or random.Random()
    wait = min(cap, initial * 2 ** (attempt - 1) + rng.uniform(0, jitter))
    return wait if retry_after is None else max(wait, retry_after)


# -- 1.1.3 call_cost -----------------------------------------------------------------------


def _per_thousand(usage, spec):
    return (
        usage.prompt_tokens * spec.input_price_per_million
        + usage.completion_tokens * spec.output_price_per_million
    ) / 1_000


def _total_tokens_at_input_price(usage, spec):
    return usage.total_tokens * spec.input_price_per_million / 1_000_000


def _prices_swapped(usage, spec):
    return (
        usage.prompt_tokens * spec.output_price_per_million
        + usage.completion_tokens * spec.input_price_per_million
    ) / 1_000_000


def _input_only(usage, spec):
    return usage.prompt_tokens * spec.input_price_per_million / 1_000_000


def _in_cents(usage, spec):
    return (
        usage.prompt_tokens * spec.input_price_per_million
        + usage.completion_tokens * spec.output_price_per_million
    ) / 10_000


def _rounded_to_cents(usage, spec):
    dollars = (
        usage.prompt_tokens * spec.input_price_per_million
        + usage.completion_tokens * spec.output_price_per_million
    ) / 1_000_000
    return round(dollars, 2)


WRONG_ANSWERS: dict[str, list[Any]] = {
    "1.1.1": [
        _retry_everything,
        _only_rate_limits,
        _by_class_forgetting_quota,
        _status_codes_only,
        _every_api_error,
        _returns_a_string,
    ],
    "1.1.2": [
        _no_cap,
        _exponent_off_by_one,
        _ignores_retry_after,
        _retry_after_replaces_backoff,
        _no_jitter,
        _full_jitter,
        _jitter_inside_the_cap,
    ],
    "1.1.3": [
        _per_thousand,
        _total_tokens_at_input_price,
        _prices_swapped,
        _input_only,
        _in_cents,
        _rounded_to_cents,
    ],
}
