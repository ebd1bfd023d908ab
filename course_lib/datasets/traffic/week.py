"""Generate a week of traffic from a seed, and the cached default week lessons load."""

from __future__ import annotations

import random
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING

from course_lib.datasets.errors import DatasetError
from course_lib.datasets.traffic.clock import draw_windows, monday_peak, parse_start
from course_lib.datasets.traffic.draws import (
    build_context,
    draw_rows,
    draw_users,
    fill_request,
    to_frame,
)
from course_lib.datasets.traffic.params import INCIDENT_FEATURES, PROMPT_BAD, PROMPT_BEFORE
from course_lib.datasets.traffic.questions import load_traffic_questions
from course_lib.datasets.traffic.truth import (
    TrafficIncident,
    TrafficWeek,
    measure_burst,
    measure_incident,
    measure_peak,
    timestamp_at,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["generate_traffic", "load_traffic", "load_traffic_incident"]


def _check_arguments(seed: int, n_requests: int) -> None:
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise DatasetError(f"seed={seed!r} must be an integer, for example 2026.")
    if isinstance(n_requests, bool) or not isinstance(n_requests, int) or n_requests <= 0:
        raise DatasetError(
            f"n_requests={n_requests!r} must be a positive integer (the default is 20000)."
        )


def generate_traffic(
    seed: int = 2026, n_requests: int = 20_000, start: str | date = "2026-11-02"
) -> TrafficWeek:
    """Simulate one week (Monday to Sunday, UTC) of Handbook Assistant requests.

    The same ``seed`` always gives the same rows and the same incident; another seed moves the
    incident to another weekday afternoon. ``n_requests`` is the exact number of rows.
    ``start`` is the Monday the week begins (an ISO date string or a ``date``).
    """
    _check_arguments(seed, n_requests)
    week = parse_start(start)
    rng = random.Random(seed)
    incident, burst = draw_windows(rng, week)
    peak = monday_peak(week)
    users = draw_users(rng)
    rows = draw_rows(rng, week, users, n_requests, peak)
    ctx = build_context(load_traffic_questions(), incident, burst, peak)
    for row in rows:
        fill_request(rng, ctx, row)
    frame = to_frame(rows, week)
    start_ts, end_ts = timestamp_at(week, incident.start_ms), timestamp_at(week, incident.end_ms)
    truth = TrafficIncident(
        start=start_ts,
        end=end_ts,
        before=PROMPT_BEFORE,
        bad=PROMPT_BAD,
        features=INCIDENT_FEATURES,
        description=(
            f"A prompt rollout moved 'ask' from {PROMPT_BEFORE} to {PROMPT_BAD}, whose worked "
            "examples made prompts longer and answers wordier and uncited, until a rollback."
        ),
        effect=measure_incident(frame, start_ts, end_ts),
        distractors=(
            measure_peak(frame, week, peak),
            measure_burst(frame, week, burst, ctx.small.id),
        ),
    )
    return TrafficWeek(requests=frame, incident=truth)


@lru_cache(maxsize=4)
def _default_week(seed: int) -> TrafficWeek:
    return generate_traffic(seed)


def load_traffic(seed: int = 2026) -> pd.DataFrame:
    """The requests of the default week (20,000 rows from 2026-11-02), cached per seed.

    Returns a copy each time, so a lesson that adds columns cannot change what the next
    lesson (or the checker) sees.
    """
    _check_arguments(seed, 1)
    return _default_week(seed).requests.copy()


def load_traffic_incident(seed: int = 2026) -> TrafficIncident:
    """The ground truth of the default week: the incident, its effect and the distractors."""
    _check_arguments(seed, 1)
    return _default_week(seed).incident
