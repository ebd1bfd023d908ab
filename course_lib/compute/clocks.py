"""Clocks a rate limiter reads and sleeps on: the real one, and a virtual one for tests.

A limiter that calls ``time.monotonic`` and ``asyncio.sleep`` directly can only be tested in
real time, slowly and with flaky margins. Every limiter here takes a :class:`Clock` instead;
:class:`VirtualClock` makes a minute of traffic run in microseconds and gives the same
decisions on every machine.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol

from course_lib.errors import SettingsError

__all__ = ["Clock", "MonotonicClock", "VirtualClock"]


class Clock(Protocol):
    """What a limiter needs of time: a reading in seconds, and a way to wait."""

    def now(self) -> float:
        """Seconds on a clock that never goes backwards (its zero is arbitrary)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` on this clock."""
        ...


class MonotonicClock:
    """Real time: ``time.monotonic`` and ``asyncio.sleep`` (wall-clock changes cannot move it)."""

    def now(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(seconds, 0.0))


class VirtualClock:
    """Time that moves only when someone sleeps or calls :meth:`advance`.

    ``sleep`` advances the clock by the time asked and returns at once (after yielding to the
    event loop). That models one caller waiting its turn, which is what the tests and the
    lesson's deterministic figures need; it does not interleave concurrent sleepers.
    """

    def __init__(self, start: float = 0.0) -> None:
        self._now = float(start)

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds`` (never backwards)."""
        if seconds < 0:
            raise SettingsError(
                f"A clock cannot go back ({seconds} s); advance it by zero or more seconds."
            )
        self._now += seconds

    def set(self, now: float) -> None:
        """Jump to ``now`` if it is later than the current reading."""
        self._now = max(self._now, float(now))

    async def sleep(self, seconds: float) -> None:
        self.advance(max(seconds, 0.0))
        await asyncio.sleep(0)
