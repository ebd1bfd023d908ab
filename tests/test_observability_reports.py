"""Latency percentiles, cost attribution, review sampling and anomaly detection on request logs.

The detector is checked on generated weeks whose ground truth is known: it must find the
planted incident and no more than the planted error burst, and it must not read a busy hour
as an incident. Its defaults were chosen on seeds 1 to 20; the weeks here are others.
"""

from __future__ import annotations

import math
import random

import pandas as pd
import pytest

from course_lib.datasets import generate_traffic, load_traffic, load_traffic_incident
from course_lib.models import load_registry
from course_lib.observability import (
    REQUEST_METRICS,
    anomaly_table,
    bucket_scores,
    detect_anomalies,
    explain_anomaly,
    latency_report,
    model_prices,
    nearest_rank_percentile,
    request_costs,
    review_sample,
    sample_key,
    usage_report,
)

# -- percentiles ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([15, 20, 35, 40, 50], 5, 15),
        ([15, 20, 35, 40, 50], 30, 20),
        ([15, 20, 35, 40, 50], 40, 20),
        ([15, 20, 35, 40, 50], 50, 35),
        ([15, 20, 35, 40, 50], 100, 50),
        ([3, 1, 2], 0, 1),
        ([7.5], 99, 7.5),
    ],
)
def test_nearest_rank_percentile(values: list[float], q: float, expected: float) -> None:
    assert nearest_rank_percentile(values, q) == expected


def test_a_percentile_is_always_an_observed_value() -> None:
    rng = random.Random(3)
    for _ in range(50):
        values = [rng.lognormvariate(6, 1) for _ in range(rng.randint(1, 40))]
        q = rng.uniform(0, 100)
        assert nearest_rank_percentile(values, q) in values
        assert sum(v <= nearest_rank_percentile(values, q) for v in values) >= q / 100 * len(values)


@pytest.mark.parametrize(
    ("values", "q", "message"),
    [([], 50, "No values"), ([1.0], 101, "between 0 and 100"), ([1.0, math.nan], 50, "NaN")],
)
def test_bad_percentile_requests_are_refused(values: list[float], q: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        nearest_rank_percentile(values, q)


def test_latency_report_per_group() -> None:
    frame = pd.DataFrame(
        {"feature": ["a"] * 4 + ["b"] * 2, "latency_ms": [10.0, 40.0, 20.0, 30.0, 5.0, 7.0]}
    )
    report = latency_report(frame, "feature")
    assert list(report.columns) == ["requests", "mean", "p50", "p95", "p99"]
    assert report.loc["a"].tolist() == [4, 25.0, 20.0, 40.0, 40.0]
    assert report.loc["b", "p50"] == 5.0


def test_pooled_p95_of_the_week_hides_the_busiest_feature() -> None:
    week = load_traffic()
    report = latency_report(week, "feature")
    pooled = nearest_rank_percentile(week["latency_ms"], 95)
    assert report.loc["ask", "p95"] < pooled / 2 < report.loc["summarise", "p95"]


# -- costs -----------------------------------------------------------------------------------


def test_costs_from_tokens_match_the_registry_price_formula() -> None:
    week = load_traffic().head(500)
    prices = model_prices()
    assert set(prices) == {m.id for m in load_registry().chat_models()}
    costs = request_costs(week, prices)
    assert costs.tolist() == pytest.approx(week["cost_usd"].tolist(), rel=1e-12)


def test_failed_requests_with_tokens_are_billed() -> None:
    frame = pd.DataFrame(
        {
            "team": ["x", "x", "y"],
            "model": ["m", "m", "m"],
            "input_tokens": [1_000_000, 2_000_000, 0],
            "output_tokens": [1_000_000, 0, 0],
            "outcome": ["ok", "timeout", "error"],
        }
    )
    report = usage_report(frame, "team", prices={"m": (1.0, 3.0)})
    assert report.loc["x", "cost_usd"] == pytest.approx(6.0)
    assert report.loc["y", "cost_usd"] == 0.0
    assert report.loc["x", "cost_share"] == 1.0
    assert report.loc["x", "cost_per_1k_requests"] == pytest.approx(3000.0)
    assert list(report.index) == ["x", "y"]  # most expensive first


def test_a_model_without_a_price_is_named() -> None:
    frame = pd.DataFrame({"model": ["m", "gpt-x"], "input_tokens": [1, 1], "output_tokens": [1, 1]})
    with pytest.raises(ValueError, match=r"No price for model\(s\) \['gpt-x'\]"):
        request_costs(frame, {"m": (1.0, 1.0)})


def test_a_frame_without_the_columns_is_refused_clearly() -> None:
    with pytest.raises(ValueError, match=r"lacks the column\(s\) \['latency_ms'\]"):
        latency_report(pd.DataFrame({"feature": ["a"]}), "feature")


# -- review sampling -------------------------------------------------------------------------


def _requests(n: int = 400) -> pd.DataFrame:
    rng = random.Random(1)
    return pd.DataFrame(
        {
            "request_id": [f"req-{i:04d}" for i in range(n)],
            "feature": [rng.choice(["ask", "ask", "ask", "search", "summarise"]) for _ in range(n)],
            "trace_id": [f"{rng.getrandbits(128):032x}" for _ in range(n)],
        }
    )


def test_review_sample_is_stratified_and_order_free() -> None:
    frame = _requests()
    sample = review_sample(frame, per_stratum=4, seed=2)
    assert sample["feature"].value_counts().to_dict() == {"ask": 4, "search": 4, "summarise": 4}
    shuffled = frame.sample(frac=1.0, random_state=5)
    again = review_sample(shuffled, per_stratum=4, seed=2)
    assert sorted(again["request_id"]) == sorted(sample["request_id"])
    other = review_sample(frame, per_stratum=4, seed=3)
    assert set(other["request_id"]) != set(sample["request_id"])


def test_review_sample_gives_all_of_a_small_stratum_and_uses_sha256() -> None:
    frame = _requests(30)
    sample = review_sample(frame, per_stratum=100, by=["feature"])
    assert len(sample) == 30
    assert sample_key("abc", 0) == int.from_bytes(
        __import__("hashlib").sha256(b"0:abc").digest()[:8], "big"
    )


@pytest.mark.parametrize("per_stratum", [0, -1, 2.5, True])
def test_review_sample_refuses_a_bad_size(per_stratum: object) -> None:
    with pytest.raises(ValueError, match="positive integer"):
        review_sample(_requests(), per_stratum=per_stratum)  # type: ignore[arg-type]


# -- anomalies -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def week() -> pd.DataFrame:
    return load_traffic()


def test_bucket_scores_have_one_row_per_segment_bucket_and_metric(week: pd.DataFrame) -> None:
    scores = bucket_scores(week)
    assert list(scores.columns) == ["segment", "bucket", "metric", "requests", "mean", "usual", "z"]
    assert set(scores["metric"]) == set(REQUEST_METRICS)
    assert set(scores["segment"]) == set(week["feature"])
    per_bucket = scores.groupby(["segment", "bucket"])["metric"].nunique()
    assert per_bucket.max() == len(REQUEST_METRICS)


def test_the_bundled_week_gives_the_incident_first_and_the_burst_second(
    week: pd.DataFrame,
) -> None:
    truth = load_traffic_incident()
    anomalies = detect_anomalies(week)
    assert len(anomalies) == 2
    incident, burst = anomalies
    assert incident.start <= truth.start < truth.end <= incident.end
    assert incident.duration <= truth.duration + pd.Timedelta(hours=1)
    assert incident.segments == tuple(truth.features)
    assert incident.metrics["input_tokens"] > 6 and incident.metrics["citation_rate"] < -6
    error_burst = next(d for d in truth.distractors if d.kind == "error-burst")
    assert burst.start <= error_burst.start < burst.end
    assert list(burst.metrics) == ["error_rate"]
    table = anomaly_table(anomalies)
    assert list(table["segments"]) == ["feature=ask", "feature=ask"]


def test_explaining_the_incident_names_the_new_prompt_version(week: pd.DataFrame) -> None:
    truth = load_traffic_incident()
    anomalies = detect_anomalies(week)
    incident = explain_anomaly(week, anomalies[0], exclude=anomalies)
    top = incident.iloc[0]
    assert (top["dimension"], top["value"], top["outside"]) == ("prompt_version", truth.bad, 0.0)
    assert incident.set_index("dimension").loc["team", "z"] > -3  # no team stands out
    burst = explain_anomaly(week, anomalies[1], exclude=anomalies)
    assert burst["z"].abs().max() < 3  # no prompt, model or team changed


@pytest.mark.parametrize(("seed", "start"), [(101, "2026-11-09"), (202, "2027-07-05")])
def test_other_weeks_give_their_own_incident(seed: int, start: str) -> None:
    generated = generate_traffic(seed=seed, start=start)
    truth = generated.incident
    anomalies = detect_anomalies(generated.requests)
    assert 1 <= len(anomalies) <= 2
    top = anomalies[0]
    assert top.start - pd.Timedelta(minutes=30) <= truth.start < top.end
    assert explain_anomaly(generated.requests, top).iloc[0]["value"] == truth.bad
    peak = next(d for d in truth.distractors if d.kind == "traffic-peak")
    assert not any(a.start < peak.end and peak.start < a.end for a in anomalies)


def test_a_week_with_nothing_wrong_has_no_anomaly() -> None:
    generated = generate_traffic(seed=303)
    truth = generated.incident
    window = (generated.requests["timestamp"] >= truth.start - pd.Timedelta(hours=1)) & (
        generated.requests["timestamp"] < truth.end + pd.Timedelta(hours=1)
    )
    burst = next(d for d in truth.distractors if d.kind == "error-burst")
    near_burst = (generated.requests["timestamp"] >= burst.start - pd.Timedelta(hours=1)) & (
        generated.requests["timestamp"] < burst.end + pd.Timedelta(hours=1)
    )
    quiet = generated.requests[~window & ~near_burst]
    assert detect_anomalies(quiet) == []


def test_the_detector_refuses_bad_settings_and_frames(week: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="threshold"):
        detect_anomalies(week, threshold=0)
    with pytest.raises(ValueError, match=r"lacks the column\(s\) \['feature'\]"):
        detect_anomalies(week.drop(columns=["feature"]))
    with pytest.raises(ValueError, match="no requests"):
        bucket_scores(week.head(0))
