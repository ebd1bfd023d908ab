"""A client-side rate limiter: token buckets for requests and tokens per minute.

Providers cap each key at so many requests per minute (RPM) *and* so many tokens per minute
(TPM), and answer a call over either with HTTP 429. Retrying after the 429 wastes a round
trip and, with many callers, turns into a storm. A client that spends from its own buckets
first sends only what the provider will accept:

>>> limiter = RateLimiter(RateLimit(requests_per_minute=500, tokens_per_minute=200_000))
>>> await limiter.acquire(tokens=estimate_tokens(messages, max_tokens=300))  # waits if needed
>>> await client.chat.completions.create(...)

A bucket holds up to ``capacity`` units and refills at ``rate`` units a second; a call takes
its units from every bucket at once, or from none and learns how long to wait. The decision
is the pure function :func:`take_from_buckets`; where the buckets' state lives is a
:class:`~course_lib.compute.bucket_stores.BucketStore` (in memory for one process, SQLite for
several processes on one machine, Redis for many machines), so the same limit can be shared.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from course_lib.compute.clocks import Clock, MonotonicClock
from course_lib.errors import SettingsError

if TYPE_CHECKING:
    from course_lib.compute.bucket_stores import BucketStore

__all__ = [
    "CHARS_PER_TOKEN",
    "RateLimit",
    "RateLimiter",
    "estimate_tokens",
    "take_from_buckets",
]

CHARS_PER_TOKEN = 4
"""The usual rule of thumb for English text: about four characters a token. A provider counts
a request against TPM before it runs, so it too estimates, from the text and ``max_tokens``."""


SHORTFALL_TOLERANCE = 1e-9
"""A bucket short by less than this counts as full enough. After waiting exactly the time it
was told, a caller can find its bucket short by a rounding error; without a tolerance it would
be told to wait 1e-17 s, which a clock reading of 1.0 cannot even add, and wait forever."""


def estimate_tokens(messages: Iterable[Mapping[str, Any]], max_tokens: int = 0) -> int:
    """The tokens a chat request counts against a TPM limit: its text plus ``max_tokens``.

    Providers reserve the largest answer the request allows, so an oversized ``max_tokens``
    spends the budget even when the answer is short: size it to the answers you expect.
    """
    if max_tokens < 0:
        raise SettingsError(f"max_tokens is {max_tokens}; use 0 or more.")
    characters = 0
    for message in messages:
        content = message.get("content") or ""
        characters += len(content) if isinstance(content, str) else len(str(content))
    return math.ceil(characters / CHARS_PER_TOKEN) + max_tokens


def take_from_buckets(
    levels: Sequence[float] | None,
    updated: float,
    now: float,
    amounts: Sequence[float],
    rates: Sequence[float],
    capacities: Sequence[float],
) -> tuple[list[float], float, float]:
    """One decision: refill every bucket to ``now``, then take ``amounts`` from all or none.

    Returns the new levels, the new update time and the wait in seconds (0 when the units
    were taken). ``levels=None`` means a fresh, full set of buckets. A clock that reads
    earlier than ``updated`` (another machine's) refills nothing rather than draining. The
    Redis store runs this same arithmetic in Lua, so both stores decide alike.
    """
    if levels is None or len(levels) != len(amounts):
        levels, updated = list(capacities), now
    elapsed = max(0.0, now - updated)
    current = [
        min(capacity, level + elapsed * rate)
        for level, rate, capacity in zip(levels, rates, capacities, strict=True)
    ]
    wait = 0.0
    for amount, level, rate in zip(amounts, current, rates, strict=True):
        if amount - level > SHORTFALL_TOLERANCE:
            wait = max(wait, (amount - level) / rate)
    if wait == 0.0:
        current = [level - amount for level, amount in zip(current, amounts, strict=True)]
    return current, max(updated, now), wait


@dataclass(frozen=True)
class RateLimit:
    """Requests and tokens per minute, and how much of a minute may arrive at once.

    ``burst_s`` sizes each bucket: a full bucket holds ``burst_s`` seconds of the rate. Sixty
    seconds is a whole minute's allowance at once; some providers check shorter windows
    (Azure OpenAI checks RPM over 1 to 10 seconds), so a burst under the per-minute total can
    still be refused.
    """

    requests_per_minute: float
    tokens_per_minute: float | None = None
    burst_s: float = 60.0

    def __post_init__(self) -> None:
        if not self.requests_per_minute > 0:
            raise SettingsError(
                f"requests_per_minute is {self.requests_per_minute}; a limit must be above 0."
            )
        if self.tokens_per_minute is not None and not self.tokens_per_minute > 0:
            raise SettingsError(
                f"tokens_per_minute is {self.tokens_per_minute}; use a positive number, or "
                "None for no token limit."
            )
        if not self.burst_s > 0:
            raise SettingsError(f"burst_s is {self.burst_s}; use a positive number of seconds.")
        if self.requests_per_minute / 60 * self.burst_s < 1:
            raise SettingsError(
                f"A burst of {self.burst_s} s at {self.requests_per_minute} requests per minute "
                "holds less than one request, so no request could ever pass; raise burst_s to "
                f"at least {60 / self.requests_per_minute:g} s."
            )

    @property
    def rates(self) -> list[float]:
        """Refill rates, units per second: requests, then tokens if limited."""
        rates = [self.requests_per_minute / 60]
        if self.tokens_per_minute is not None:
            rates.append(self.tokens_per_minute / 60)
        return rates

    @property
    def capacities(self) -> list[float]:
        """Bucket sizes: ``burst_s`` seconds of each rate."""
        return [rate * self.burst_s for rate in self.rates]

    def amounts(self, tokens: int) -> list[float]:
        """What one request of ``tokens`` takes from each bucket."""
        if tokens < 0:
            raise SettingsError(f"A request of {tokens} tokens; count 0 or more.")
        amounts = [1.0]
        if self.tokens_per_minute is not None:
            capacity = self.capacities[1]
            if tokens > capacity:
                raise SettingsError(
                    f"A request of {tokens} tokens can never fit a token bucket of "
                    f"{capacity:g} ({self.tokens_per_minute:g} per minute, burst "
                    f"{self.burst_s:g} s); lower max_tokens or split the request."
                )
            amounts.append(float(tokens))
        return amounts


class RateLimiter:
    """Requests and tokens per minute, spent before each call; the state in a store.

    Two limiters with the same ``key`` on the same store share one limit: that is how
    several processes, or several machines on Redis, keep under one provider key's limits.
    """

    def __init__(
        self,
        limit: RateLimit,
        *,
        key: str = "default",
        store: BucketStore | None = None,
        clock: Clock | None = None,
    ) -> None:
        from course_lib.compute.bucket_stores import MemoryBucketStore

        if not key:
            raise SettingsError("A rate limiter needs a non-empty key, e.g. the provider's name.")
        self.limit = limit
        self.key = key
        self.store: BucketStore = store if store is not None else MemoryBucketStore()
        self.clock: Clock = clock if clock is not None else MonotonicClock()

    def try_acquire(self, tokens: int = 0, *, now: float | None = None) -> float:
        """Take one request and ``tokens`` now, or nothing: returns the seconds to wait (0 =
        taken). ``now`` overrides the clock's reading (for replaying a schedule)."""
        at = self.clock.now() if now is None else now
        return self.store.take(
            self.key, self.limit.amounts(tokens), self.limit.rates, self.limit.capacities, at
        )

    async def acquire(self, tokens: int = 0) -> float:
        """Wait until one request of ``tokens`` fits both buckets, take it; returns the wait.

        Several tasks may wait at once; each retries after the time the store said, so no
        task holds a lock while it sleeps.
        """
        waited = 0.0
        while True:
            wait = self.try_acquire(tokens)
            if wait == 0.0:
                return waited
            await self.clock.sleep(wait)
            waited += wait
