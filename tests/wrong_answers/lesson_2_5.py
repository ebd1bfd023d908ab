"""Plausible wrong answers to lesson 2.5's exercises; each must be rejected by its checker."""

from __future__ import annotations

from typing import Any

import pandas as pd

from course_lib.datasets import load_traffic_incident
from course_lib.observability import (
    detect_anomalies,
    explain_anomaly,
    review_sample,
    sample_key,
    usage_report,
)

# -- 2.5.1 cost by team ---------------------------------------------------------------------------


def _cost_from_stale_column(requests: pd.DataFrame, prices: Any) -> Any:
    return requests.groupby("team")["cost_usd"].sum()


def _cost_prices_swapped(requests: pd.DataFrame, prices: Any) -> Any:
    price_in = requests["model"].map(lambda m: prices[m][1])
    price_out = requests["model"].map(lambda m: prices[m][0])
    cost = (requests["input_tokens"] * price_in + requests["output_tokens"] * price_out) / 1e6
    return cost.groupby(requests["team"]).sum()


def _cost_per_thousand(requests: pd.DataFrame, prices: Any) -> Any:
    price_in = requests["model"].map(lambda m: prices[m][0])
    price_out = requests["model"].map(lambda m: prices[m][1])
    cost = (requests["input_tokens"] * price_in + requests["output_tokens"] * price_out) / 1e3
    return cost.groupby(requests["team"]).sum()


def _cost_only_ok(requests: pd.DataFrame, prices: Any) -> Any:
    ok = requests[requests["outcome"] == "ok"]  # the time-outs' billed prompts are dropped
    price_in = ok["model"].map(lambda m: prices[m][0])
    price_out = ok["model"].map(lambda m: prices[m][1])
    cost = (ok["input_tokens"] * price_in + ok["output_tokens"] * price_out) / 1e6
    return cost.groupby(ok["team"]).sum()


def _cost_input_only(requests: pd.DataFrame, prices: Any) -> Any:
    price_in = requests["model"].map(lambda m: prices[m][0])
    return (requests["input_tokens"] * price_in / 1e6).groupby(requests["team"]).sum()


def _cost_one_price_for_all(requests: pd.DataFrame, prices: Any) -> Any:
    price_in, price_out = next(iter(prices.values()))
    cost = (requests["input_tokens"] * price_in + requests["output_tokens"] * price_out) / 1e6
    return cost.groupby(requests["team"]).sum()


def _cost_via_usage_report(requests: pd.DataFrame, prices: Any) -> Any:
    return usage_report(requests, "team", prices=prices)["cost_usd"]  # the library's answer


# -- 2.5.2 review queue ---------------------------------------------------------------------------

_ANSWERED = ["ok", "refused"]


def _queue_first_per_feature(requests: pd.DataFrame, per_feature: int = 5, seed: int = 0) -> Any:
    answered = requests[requests["outcome"].isin(_ANSWERED)]
    return answered.groupby("feature").head(per_feature)["request_id"].tolist()  # seed ignored


def _queue_not_stratified(requests: pd.DataFrame, per_feature: int = 5, seed: int = 0) -> Any:
    answered = requests[requests["outcome"].isin(_ANSWERED)]
    return answered.sample(4 * per_feature, random_state=seed)["request_id"].tolist()


def _queue_row_order(requests: pd.DataFrame, per_feature: int = 5, seed: int = 0) -> Any:
    answered = requests[requests["outcome"].isin(_ANSWERED)]
    # depends on the order of the rows, not on the requests
    picked = answered.groupby("feature").sample(per_feature, random_state=seed)
    return picked["request_id"].tolist()


def _queue_includes_failures(requests: pd.DataFrame, per_feature: int = 5, seed: int = 0) -> Any:
    keys = requests["trace_id"].map(lambda t: sample_key(t, seed))
    ranked = requests.assign(key=keys).sort_values(["feature", "key"])
    return ranked.groupby("feature").head(per_feature)["request_id"].tolist()


def _queue_total_not_per_feature(
    requests: pd.DataFrame, per_feature: int = 5, seed: int = 0
) -> Any:
    answered = requests[requests["outcome"].isin(_ANSWERED)]
    keys = answered["trace_id"].map(lambda t: sample_key(t, seed))
    return answered.assign(key=keys).nsmallest(per_feature, "key")["request_id"].tolist()


def _queue_returns_frame(requests: pd.DataFrame, per_feature: int = 5, seed: int = 0) -> Any:
    answered = requests[requests["outcome"].isin(_ANSWERED)]
    keys = answered["trace_id"].map(lambda t: sample_key(t, seed))
    ranked = answered.assign(key=keys).sort_values(["feature", "key"])
    return ranked.groupby("feature").head(per_feature)


def _queue_via_review_sample(requests: pd.DataFrame, per_feature: int = 5, seed: int = 0) -> Any:
    answered = requests[requests["outcome"].isin(_ANSWERED)]
    return review_sample(answered, per_stratum=per_feature, seed=seed)["request_id"].tolist()


# -- 2.5.3 the incident ---------------------------------------------------------------------------


def _incident_bucket_window(requests: pd.DataFrame) -> Any:
    """The detector's window as it is: cut at 30-minute bucket edges."""
    anomalies = detect_anomalies(requests)
    top = anomalies[0]
    version = explain_anomaly(requests, top, exclude=anomalies).iloc[0]["value"]
    return {"start": top.start, "end": top.end, "prompt_version": version}


def _incident_busiest_hour(requests: pd.DataFrame) -> Any:
    """The tallest spike in request counts (the Monday peak)."""
    hours = requests["timestamp"].dt.floor("1h")
    busiest = hours.value_counts().idxmax()
    inside = requests[hours == busiest]
    return {
        "start": busiest,
        "end": busiest + pd.Timedelta(hours=1),
        "prompt_version": inside["prompt_version"].mode().iloc[0],
    }


def _incident_most_errors(requests: pd.DataFrame) -> Any:
    """The window with the highest error rate (the error burst)."""
    buckets = requests["timestamp"].dt.floor("30min")
    errors = (requests["outcome"] == "error").groupby(buckets).mean()
    worst = errors.idxmax()
    inside = requests[buckets == worst]
    return {
        "start": worst,
        "end": worst + pd.Timedelta(minutes=30),
        "prompt_version": inside["prompt_version"].mode().iloc[0],
    }


def _incident_memorised(requests: pd.DataFrame) -> Any:
    """The bundled week's answer, whatever the week."""
    truth = load_traffic_incident()
    return {"start": truth.start, "end": truth.end, "prompt_version": truth.bad}


def _incident_version_before(requests: pd.DataFrame) -> Any:
    """The right window, but the prompt version that was live before the rollout."""
    anomalies = detect_anomalies(requests)
    top = anomalies[0]
    version = explain_anomaly(requests, top, exclude=anomalies).iloc[0]["value"]
    carrying = requests[requests["prompt_version"] == version]["timestamp"]
    feature = requests.loc[requests["prompt_version"] == version, "feature"].iloc[0]
    usual = requests.loc[requests["feature"] == feature, "prompt_version"].mode().iloc[0]
    return {"start": carrying.min(), "end": carrying.max(), "prompt_version": usual}


def _incident_first_last(requests: pd.DataFrame) -> Any:
    """The version's first and last request: the canary makes the start hours early."""
    anomalies = detect_anomalies(requests)
    version = explain_anomaly(requests, anomalies[0], exclude=anomalies).iloc[0]["value"]
    carrying = requests[requests["prompt_version"] == version]["timestamp"]
    return {"start": carrying.min(), "end": carrying.max(), "prompt_version": version}


def _incident_share_any(requests: pd.DataFrame) -> Any:
    """The rolling share, but any share above zero counts as live (the canary too)."""
    anomalies = detect_anomalies(requests)
    version = explain_anomaly(requests, anomalies[0], exclude=anomalies).iloc[0]["value"]
    rows = requests[requests["feature"] == "ask"].sort_values("timestamp")
    on = (rows["prompt_version"] == version).astype(float)
    share = on.rolling(21, center=True, min_periods=1).mean()
    live = rows[(share > 0) & (on == 1)]
    return {
        "start": live["timestamp"].min(),
        "end": live["timestamp"].max(),
        "prompt_version": version,
    }


def _incident_as_tuple(requests: pd.DataFrame) -> Any:
    anomalies = detect_anomalies(requests)
    top = anomalies[0]
    version = explain_anomaly(requests, top, exclude=anomalies).iloc[0]["value"]
    carrying = requests[requests["prompt_version"] == version]["timestamp"]
    return carrying.min(), carrying.max(), version


WRONG_ANSWERS: dict[str, list[Any]] = {
    "2.5.1": [
        _cost_from_stale_column,
        _cost_prices_swapped,
        _cost_per_thousand,
        _cost_only_ok,
        _cost_input_only,
        _cost_one_price_for_all,
        _cost_via_usage_report,
    ],
    "2.5.2": [
        _queue_first_per_feature,
        _queue_not_stratified,
        _queue_row_order,
        _queue_includes_failures,
        _queue_total_not_per_feature,
        _queue_returns_frame,
        _queue_via_review_sample,
    ],
    "2.5.3": [
        _incident_bucket_window,
        _incident_busiest_hour,
        _incident_most_errors,
        _incident_memorised,
        _incident_version_before,
        _incident_as_tuple,
        _incident_first_last,
        _incident_share_any,
    ],
}
