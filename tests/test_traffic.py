"""The simulated week of Handbook Assistant traffic: its schema, determinism and ground truth.

Lessons chart this data and a checker grades learners' incident findings against
``load_traffic_incident()``, so the shape of the rows and the size of the planted effects are
part of the course's contract.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pandas as pd
import pandera.pandas as pa
import pytest
from hypothesis import given, settings, strategies as st

from course_lib.datasets import (
    TrafficIncident,
    generate_traffic,
    load_traffic,
    load_traffic_incident,
)
from course_lib.datasets.errors import DatasetError
from course_lib.datasets.traffic import (
    COLUMNS,
    FEATURES,
    OUTCOMES,
    QUESTIONS_FILE,
    TEAMS,
    load_traffic_questions,
)
from course_lib.models import load_registry

WEEK_START = pd.Timestamp("2026-11-02", tz="UTC")
WEEK_END = WEEK_START + pd.Timedelta(days=7)


def _schema(n_requests: int) -> pa.DataFrameSchema:
    registry = load_registry()
    models = [registry.resolve("chat-small").id, registry.resolve("chat-large").id]
    non_negative = pa.Check.ge(0)
    return pa.DataFrameSchema(
        {
            "request_id": pa.Column(str, pa.Check.str_matches(r"^req-\d{6}$"), unique=True),
            "timestamp": pa.Column(
                pd.DatetimeTZDtype("ns", "UTC"),
                [pa.Check.ge(WEEK_START), pa.Check.lt(WEEK_END)],
            ),
            "user_id": pa.Column(str, pa.Check.str_matches(r"^u-\d{4}$")),
            "team": pa.Column(str, pa.Check.isin(list(TEAMS))),
            "feature": pa.Column(str, pa.Check.isin(FEATURES)),
            "question": pa.Column(str, pa.Check.str_length(min_value=3)),
            "model": pa.Column(str, pa.Check.isin(models)),
            "prompt_version": pa.Column(str, pa.Check.str_matches(r"^[a-z-]+@\d+$")),
            "input_tokens": pa.Column("int64", non_negative),
            "output_tokens": pa.Column("int64", non_negative),
            "cost_usd": pa.Column("float64", non_negative),
            "latency_ms": pa.Column("float64", pa.Check.gt(0)),
            "outcome": pa.Column(str, pa.Check.isin(OUTCOMES)),
            "cited": pa.Column(bool),
            "trace_id": pa.Column(str, pa.Check.str_matches(r"^[0-9a-f]{32}$"), unique=True),
        },
        checks=[
            pa.Check(lambda df: df["timestamp"].is_monotonic_increasing, error="sorted by time"),
            pa.Check(lambda df: ~df["cited"] | (df["outcome"] == "ok"), error="cited only if ok"),
            pa.Check(lambda df: abs(len(df) - n_requests) <= 0.02 * n_requests, error="size"),
        ],
        ordered=True,
        strict=True,
        coerce=False,
    )


@pytest.fixture(scope="module")
def week() -> pd.DataFrame:
    return load_traffic()


@pytest.fixture(scope="module")
def incident() -> TrafficIncident:
    return load_traffic_incident()


def test_the_default_week_matches_the_schema(week: pd.DataFrame) -> None:
    _schema(20_000).validate(week, lazy=True)
    assert tuple(week.columns) == COLUMNS


def test_a_small_week_with_another_seed_matches_the_schema_and_size() -> None:
    frame = generate_traffic(seed=11, n_requests=1_234).requests
    _schema(1_234).validate(frame, lazy=True)


def test_the_same_seed_gives_the_same_week_and_another_seed_another() -> None:
    first, again = generate_traffic(seed=7), generate_traffic(seed=7)
    pd.testing.assert_frame_equal(first.requests, again.requests)
    assert first.incident == again.incident
    other = generate_traffic(seed=8)
    assert not first.requests.equals(other.requests)
    assert other.incident.start != first.incident.start
    assert other.incident != first.incident


def test_load_traffic_is_the_default_generation_and_returns_a_copy(week: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(week, generate_traffic().requests)
    week_copy = load_traffic()
    week_copy["cost_usd"] = 0.0
    assert load_traffic()["cost_usd"].sum() > 0


def test_costs_follow_the_registry_price_formula(week: pd.DataFrame) -> None:
    registry = load_registry()
    expected = [
        registry.resolve(model).cost(int(i), int(o))
        for model, i, o in zip(
            week["model"], week["input_tokens"], week["output_tokens"], strict=True
        )
    ]
    assert week["cost_usd"].tolist() == expected


def test_outcomes_are_mostly_ok_with_rare_errors_and_timeouts(week: pd.DataFrame) -> None:
    shares = week["outcome"].value_counts(normalize=True)
    assert shares["ok"] > 0.85
    assert 0.02 < shares["refused"] < 0.12
    assert shares["error"] < 0.02 and shares["timeout"] < 0.01
    errors = week[week["outcome"] == "error"]
    assert (errors["input_tokens"] == 0).all() and (errors["cost_usd"] == 0).all()


def test_the_week_has_office_hours_a_lunch_dip_and_a_quiet_weekend(week: pd.DataFrame) -> None:
    by_day = week.groupby(week["timestamp"].dt.day_of_week).size()
    assert by_day.idxmax() == 0  # Monday
    assert by_day[[5, 6]].max() < 0.25 * by_day[[1, 2, 3]].min()
    by_hour = week.groupby(week["timestamp"].dt.hour).size()
    assert by_hour[[0, 1, 2, 3, 4]].sum() < 0.02 * len(week)
    assert by_hour[12] < by_hour[10] and by_hour[12] < by_hour[14]


def test_users_teams_and_features_have_a_realistic_spread(week: pd.DataFrame) -> None:
    assert 300 <= week["user_id"].nunique() <= 350
    assert (week.groupby("user_id")["team"].nunique() == 1).all()
    per_user = week["user_id"].value_counts()
    assert per_user.iloc[0] > 10 * per_user.median()  # a few heavy users
    features = week["feature"].value_counts(normalize=True)
    assert features.idxmax() == "ask" and features["ask"] > 0.6
    assert set(features.index) == set(FEATURES)
    assert (week["model"] == "local-small").mean() > 0.7


def test_the_question_pool_has_enough_distinct_questions(week: pd.DataFrame) -> None:
    pool = load_traffic_questions()
    asked = [q for section, lines in pool.items() for q in lines if section != "ticket-triage"]
    assert len(set(asked)) >= 150, f"{QUESTIONS_FILE.name} needs at least 150 questions"
    assert week["question"].nunique() >= 300  # light variation on top of the pool


def test_the_incident_is_one_weekday_afternoon(incident: TrafficIncident) -> None:
    start, end = incident.start, incident.end
    assert start.tz is not None and str(start.tz) == "UTC"
    assert start.day_of_week < 5 and end.date() == start.date()
    assert start.hour >= 12 and end.hour < 20  # November: the UK is on UTC
    assert timedelta(hours=3) <= incident.duration <= timedelta(hours=5)
    assert (incident.before, incident.bad) == ("handbook-answer@3", "handbook-answer@4")
    assert incident.features == ("ask",)


def test_only_ask_inside_the_window_carries_the_bad_prompt(
    week: pd.DataFrame, incident: TrafficIncident
) -> None:
    inside = (week["timestamp"] >= incident.start) & (week["timestamp"] < incident.end)
    is_ask = week["feature"] == "ask"
    assert (week.loc[is_ask & inside, "prompt_version"] == incident.bad).all()
    assert (week.loc[is_ask & ~inside, "prompt_version"] == incident.before).all()
    assert not (week.loc[~is_ask, "prompt_version"] == incident.bad).any()


def test_the_incident_effect_is_visible_and_measured_from_the_rows(
    week: pd.DataFrame, incident: TrafficIncident
) -> None:
    ask = week[week["feature"] == "ask"]
    inside_mask = (ask["timestamp"] >= incident.start) & (ask["timestamp"] < incident.end)
    inside, outside = ask[inside_mask], ask[~inside_mask]
    effect = incident.effect
    assert effect.requests_inside == len(inside) > 300
    assert effect.mean_cost_usd_inside == pytest.approx(inside["cost_usd"].mean())
    assert effect.p95_latency_ms_outside == pytest.approx(outside["latency_ms"].quantile(0.95))
    assert effect.citation_rate_inside == pytest.approx(inside["cited"].mean())
    assert effect.cost_ratio > 1.4
    assert 1.2 < effect.latency_ratio < 1.8
    assert 1.6 < effect.input_tokens_ratio < 2.0
    assert effect.citation_rate_outside > 0.8 and effect.citation_rate_inside < 0.65
    assert effect.refusal_rate_inside > effect.refusal_rate_outside


def test_other_features_do_not_change_during_the_incident(
    week: pd.DataFrame, incident: TrafficIncident
) -> None:
    search = week[week["feature"] == "search"]
    inside = (search["timestamp"] >= incident.start) & (search["timestamp"] < incident.end)
    ratio = search.loc[inside, "cost_usd"].mean() / search.loc[~inside, "cost_usd"].mean()
    assert 0.85 < ratio < 1.15


def test_the_distractors_are_recorded_and_do_not_overlap_the_incident(
    week: pd.DataFrame, incident: TrafficIncident
) -> None:
    kinds = {d.kind: d for d in incident.distractors}
    assert set(kinds) == {"traffic-peak", "error-burst"}
    peak, burst = kinds["traffic-peak"], kinds["error-burst"]
    assert peak.start.day_of_week == 0 and peak.inside > 1.5 * peak.baseline
    assert burst.inside > 0.4 and burst.baseline < 0.02
    assert timedelta(minutes=5) <= burst.end - burst.start <= timedelta(minutes=20)
    for distractor in (peak, burst):
        assert distractor.end <= incident.start or distractor.start >= incident.end
        window = (week["timestamp"] >= distractor.start) & (week["timestamp"] < distractor.end)
        assert not (week.loc[window, "prompt_version"] == incident.bad).any()


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32))
def test_every_seed_puts_the_incident_on_a_weekday_afternoon(seed: int) -> None:
    truth = generate_traffic(seed=seed, n_requests=200).incident
    assert 1 <= truth.start.day_of_week <= 4
    assert 12 <= truth.start.hour < 15 and truth.end.date() == truth.start.date()
    assert timedelta(hours=3) <= truth.duration <= timedelta(hours=5)
    burst = next(d for d in truth.distractors if d.kind == "error-burst")
    assert burst.start.date() != truth.start.date()


@pytest.mark.parametrize("n_requests", [0, -5, 2.5, True])
def test_a_bad_request_count_says_what_to_pass(n_requests: object) -> None:
    with pytest.raises(DatasetError, match=r"n_requests=.* must be a positive integer"):
        generate_traffic(n_requests=n_requests)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("start", "hint"),
    [("2026-11-03", "Tuesday.*2026-11-02"), ("2026-11-08", "Sunday"), ("next week", "ISO date")],
)
def test_a_start_that_is_not_a_monday_says_which_monday_to_use(start: str, hint: str) -> None:
    with pytest.raises(ValueError, match=hint):
        generate_traffic(n_requests=10, start=start)


def test_a_non_integer_seed_is_refused() -> None:
    with pytest.raises(DatasetError, match=re.escape("seed='x' must be an integer")):
        load_traffic(seed="x")  # type: ignore[arg-type]
