"""Time in the simulated week: UK and Kraków wall clocks, the windows of the anomalies, and when
people send requests.

Times inside the week are milliseconds from its start (Monday 00:00 UTC); a :class:`Window` is
a half-open range of them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from course_lib.datasets.errors import DatasetError
from course_lib.datasets.traffic.params import (
    DAY_PROFILE,
    HOUR_PROFILE,
    MONDAY_PEAK_FACTOR,
    MONDAY_PEAK_LOCAL,
    MS_PER_HOUR,
)

__all__ = [
    "Window",
    "draw_windows",
    "hour_cumulative",
    "monday_peak",
    "parse_start",
    "uk_offset",
    "window",
]


def _last_sunday(year: int, month: int) -> date:
    last = date(year, month + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() + 1) % 7)


def uk_offset(utc: datetime) -> int:
    """Hours the UK (and Lisbon) are ahead of UTC: 1 in EU summer time, else 0."""
    begins = datetime.combine(_last_sunday(utc.year, 3), datetime.min.time(), timezone.utc)
    ends = datetime.combine(_last_sunday(utc.year, 10), datetime.min.time(), timezone.utc)
    return 1 if begins + timedelta(hours=1) <= utc < ends + timedelta(hours=1) else 0


def _uk_local_to_utc(local: datetime) -> datetime:
    """A naive UK wall-clock time (daytime, so never ambiguous) as an aware UTC datetime."""
    guess = local.replace(tzinfo=timezone.utc)
    return guess - timedelta(hours=uk_offset(guess))


def parse_start(start: str | date) -> datetime:
    if isinstance(start, datetime):
        start = start.date()
    if not isinstance(start, date):
        try:
            start = date.fromisoformat(str(start))
        except ValueError:
            raise DatasetError(
                f"start={start!r} is not an ISO date. Pass the Monday that starts the week, "
                "for example '2026-11-02'."
            ) from None
    if start.weekday() != 0:
        raise DatasetError(
            f"start={start.isoformat()} is a {start.strftime('%A')}; the week must start on a "
            f"Monday. Try {(start - timedelta(days=start.weekday())).isoformat()}."
        )
    return datetime.combine(start, datetime.min.time(), timezone.utc)


@dataclass(frozen=True)
class Window:
    start_ms: int  # from the start of the week
    end_ms: int

    def __contains__(self, ms: int) -> bool:
        return self.start_ms <= ms < self.end_ms


def window(week: datetime, day: int, minute: int, minutes: int) -> Window:
    local = week.replace(tzinfo=None) + timedelta(days=day, minutes=minute)
    start = _uk_local_to_utc(local)
    start_ms = round((start - week).total_seconds() * 1000)
    return Window(start_ms, start_ms + minutes * 60_000)


def draw_windows(rng: random.Random, week: datetime) -> tuple[Window, Window]:
    """The incident (a weekday afternoon) and the error burst (another weekday morning).

    Both fall on Tuesday to Friday, on different days, so neither shares a day with the
    Monday peak and each anomaly can be told apart from the others.
    """
    incident_day = 1 + rng.randrange(4)
    start_minute = 12 * 60 + rng.randrange(121)  # 12:00 to 14:00 UK time
    incident = window(week, incident_day, start_minute, 180 + rng.randrange(121))
    burst_days = [d for d in range(1, 5) if d != incident_day]
    burst_day = burst_days[rng.randrange(len(burst_days))]
    burst_minute = 9 * 60 + 15 + rng.randrange(136)  # 09:15 to 11:30 UK time
    burst = window(week, burst_day, burst_minute, 6 + rng.randrange(10))
    return incident, burst


def monday_peak(week: datetime) -> Window:
    first, last = MONDAY_PEAK_LOCAL
    return window(week, 0, first * 60, (last - first) * 60)


def hour_cumulative(week: datetime, extra_offset: int, peak: Window) -> list[float]:
    """Cumulative request weight of each hour of the week for users at one UTC offset."""
    cumulative, total = [], 0.0
    for hour in range(168):
        utc = week + timedelta(hours=hour)
        local = utc + timedelta(hours=uk_offset(utc) + extra_offset)
        weight = DAY_PROFILE[local.weekday()] * HOUR_PROFILE[local.hour]
        if hour * MS_PER_HOUR in peak:
            weight *= MONDAY_PEAK_FACTOR
        total += weight
        cumulative.append(total)
    return cumulative
