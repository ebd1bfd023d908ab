"""Optional limits of the local model server: a provider's rate limits and a GPU's slots.

Both are off by default, so the server behaves as it always has. Turned on, they make it act
like the two things a production client meets:

* **rate limits** (``requests_per_minute``, ``tokens_per_minute``): a request over either is
  refused with HTTP 429, ``Retry-After`` and ``retry-after-ms``; every chat response carries
  the ``x-ratelimit-*`` headers hosted providers send. Tokens are counted as a provider
  estimates them before running a request: its text plus ``max_tokens``
  (:func:`course_lib.compute.estimate_tokens`).
* **capacity** (``slots``, ``service_time_s``): a "GPU server" that works on at most
  ``slots`` requests at once, each for ``service_time_s`` seconds; the others queue.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from course_lib.compute import MemoryBucketStore, RateLimit, RateLimiter, estimate_tokens
from course_lib.standin.errors import InvalidRequestError

__all__ = ["ServerCapacity", "ServerLimits"]


@dataclass(frozen=True)
class ServerLimits:
    """What the server enforces; ``None`` (the default) turns each limit off.

    ``burst_s`` sizes the rate buckets in seconds of the rate: 60 holds a whole minute's
    allowance, as most providers do; a smaller value refuses bursts sooner, like a provider
    that checks over windows of a few seconds.
    """

    requests_per_minute: float | None = None
    tokens_per_minute: float | None = None
    burst_s: float = 60.0
    slots: int | None = None
    service_time_s: float = 0.0

    def __post_init__(self) -> None:
        if self.tokens_per_minute is not None and self.requests_per_minute is None:
            raise InvalidRequestError(
                "ServerLimits: set requests_per_minute as well as tokens_per_minute (a "
                "provider limits both)."
            )
        if self.slots is not None and self.slots < 1:
            raise InvalidRequestError("ServerLimits.slots must be 1 or more, or None for no cap.")
        if self.service_time_s < 0:
            raise InvalidRequestError("ServerLimits.service_time_s must be 0 or more seconds.")

    @property
    def rate_limit(self) -> RateLimit | None:
        if self.requests_per_minute is None:
            return None
        return RateLimit(self.requests_per_minute, self.tokens_per_minute, self.burst_s)


@dataclass
class _Counters:
    accepted: int = 0
    refused: int = 0
    busiest: int = 0


@dataclass
class ServerCapacity:
    """The limits of one running server, and what they did; swap them with :meth:`set`."""

    limits: ServerLimits = field(default_factory=ServerLimits)
    counters: _Counters = field(default_factory=_Counters)

    def __post_init__(self) -> None:
        self.set(self.limits)

    def set(self, limits: ServerLimits | None) -> None:
        """New limits, with fresh buckets, slots and counters."""
        self.limits = limits or ServerLimits()
        rate = self.limits.rate_limit
        self._store = MemoryBucketStore()
        self._limiter = RateLimiter(rate, key="server", store=self._store) if rate else None
        self._slots: asyncio.Semaphore | None = None
        self._busy = 0
        self.counters = _Counters()

    @property
    def active(self) -> bool:
        return self._limiter is not None or self.limits.slots is not None

    def admit(self, body: Mapping[str, Any]) -> dict[str, str] | tuple[float, dict[str, str]]:
        """The rate-limit headers of an admitted request, or (retry after, headers) for a
        refused one."""
        if self._limiter is None:
            return {}
        limit = self._limiter.limit
        messages = body.get("messages") or []
        max_tokens = body.get("max_completion_tokens") or body.get("max_tokens") or 0
        if not isinstance(messages, list) or not isinstance(max_tokens, int):
            return {}  # the model's own validation answers malformed requests
        tokens = estimate_tokens([m for m in messages if isinstance(m, dict)], max_tokens)
        if limit.tokens_per_minute is not None and tokens > limit.capacities[1]:
            raise InvalidRequestError(
                f"This request counts {tokens} tokens against a limit of "
                f"{limit.capacities[1]:g} per window; lower max_tokens or shorten the prompt.",
                status=429,
                code="tokens_exceeded",
            )
        wait = self._limiter.try_acquire(tokens)
        headers = self._headers(limit)
        if wait > 0:
            self.counters.refused += 1
            return wait, headers
        self.counters.accepted += 1
        return headers

    def _headers(self, limit: RateLimit) -> dict[str, str]:
        assert self._limiter is not None
        levels = self._store.levels("server") or limit.capacities
        resets = [
            (capacity - level) / rate
            for capacity, level, rate in zip(limit.capacities, levels, limit.rates, strict=True)
        ]
        headers = {
            "x-ratelimit-limit-requests": f"{limit.requests_per_minute:g}",
            "x-ratelimit-remaining-requests": str(max(0, math.floor(levels[0]))),
            "x-ratelimit-reset-requests": f"{resets[0]:.3f}s",
        }
        if limit.tokens_per_minute is not None:
            headers.update(
                {
                    "x-ratelimit-limit-tokens": f"{limit.tokens_per_minute:g}",
                    "x-ratelimit-remaining-tokens": str(max(0, math.floor(levels[1]))),
                    "x-ratelimit-reset-tokens": f"{resets[1]:.3f}s",
                }
            )
        return headers

    async def serve(self) -> None:
        """Hold one of the slots for the service time (queueing for a free slot first)."""
        if self.limits.slots is None:
            if self.limits.service_time_s:
                await asyncio.sleep(self.limits.service_time_s)
            return
        if self._slots is None:  # made in the server's own event loop
            self._slots = asyncio.Semaphore(self.limits.slots)
        async with self._slots:
            self._busy += 1
            self.counters.busiest = max(self.counters.busiest, self._busy)
            try:
                await asyncio.sleep(self.limits.service_time_s)
            finally:
                self._busy -= 1
