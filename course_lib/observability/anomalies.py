"""Finding what went wrong in a request log: departures from the usual, and what explains them.

Two generic steps, usable on any table of requests (or of chat spans) with a time column:

1. :func:`detect_anomalies`: cut time into buckets (30 minutes by default) and, for each
   segment (each ``feature`` by default) and each per-request metric (tokens, cost, latency,
   error, refusal and citation rates), measure how far each bucket's mean is from the segment's
   usual value, in standard errors::

       z = (bucket mean - median of the bucket means) / (sd of single requests / sqrt(n))

   The median ignores the few bad buckets; dividing by ``sqrt(n)`` means a quiet night bucket
   of eight requests needs a much larger departure than a busy afternoon one to count. A rate
   (a metric of flags, such as errors) is compared on the arcsine scale instead,
   ``z = 2 sqrt(n) (asin sqrt(rate) - asin sqrt(usual rate))`` (Anscombe's transform of the
   binomial), because two errors among twenty requests are far from a normal deviation when
   errors are rare. Buckets with ``|z| >= threshold`` and consecutive ones are joined into
   windows; windows of several segments that overlap in time become one :class:`Anomaly`,
   ranked by the requests it touched. Request counts are not a metric: traffic rises every
   morning, and a busy hour is not an incident.
2. :func:`explain_anomaly`: inside the window against outside it (same segments), which value
   of each dimension (prompt version, model, team...) became more or less common? A value
   that appears only inside the window is the first suspect.

Nothing here knows about a particular incident; the defaults were chosen on simulated weeks
other than the ones the course grades on.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "REQUEST_METRICS",
    "Anomaly",
    "MetricSpec",
    "anomaly_table",
    "bucket_scores",
    "detect_anomalies",
    "explain_anomaly",
]

MetricSpec: TypeAlias = "str | Callable[[pd.DataFrame], pd.Series]"
"""A column name, or a function of the frame giving one number (or flag) per request."""


def _answered(column: str) -> Callable[[pd.DataFrame], pd.Series]:
    """``column`` for answered requests, NaN for failed ones (whose zero tokens or time-out
    latency would otherwise move the mean whenever a few calls fail)."""

    def values(frame: pd.DataFrame) -> pd.Series:
        return frame[column].astype(float).where(frame["outcome"].isin(("ok", "refused")))

    values.__name__ = f"answered_{column}"
    return values


def _log_latency(frame: pd.DataFrame) -> pd.Series:
    """Latency on a log scale: a heavy tail (one request stuck behind others for a minute)
    would otherwise decide a quiet bucket's mean on its own."""
    import numpy as np

    return np.log(_answered("latency_ms")(frame))


def _error(frame: pd.DataFrame) -> pd.Series:
    return frame["outcome"].isin(("error", "timeout"))


def _refused(frame: pd.DataFrame) -> pd.Series:
    return frame["outcome"].eq("refused").where(frame["outcome"].isin(("ok", "refused")))


def _cited(frame: pd.DataFrame) -> pd.Series:
    return frame["cited"].where(frame["outcome"].isin(("ok", "refused")))


REQUEST_METRICS: dict[str, MetricSpec] = {
    "input_tokens": _answered("input_tokens"),
    "output_tokens": _answered("output_tokens"),
    "cost_usd": _answered("cost_usd"),
    "log_latency": _log_latency,
    "error_rate": _error,
    "refusal_rate": _refused,
    "citation_rate": _cited,
}
"""The per-request metrics of the course's request log (the week of traffic's columns).
Tokens, cost, latency, refusals and citations are measured on answered requests; failures
have their own metric, ``error_rate`` (errors and time-outs)."""


@dataclass(frozen=True)
class Anomaly:
    """A time window in which some segments' per-request metrics left their usual range.

    Attributes:
        start, end: the window (``start <= t < end``), at the resolution of the buckets.
        dimension: what requests were segmented by (e.g. ``"feature"``).
        segments: the values of ``dimension`` that departed (e.g. ``("ask",)``).
        metrics: each metric that departed, with its most extreme z (its sign is the
            direction: negative means lower than usual).
        requests: requests of those segments inside the window.
    """

    start: pd.Timestamp
    end: pd.Timestamp
    dimension: str
    segments: tuple[str, ...]
    metrics: dict[str, float]
    requests: int

    @property
    def duration(self) -> pd.Timedelta:
        return self.end - self.start


def _metric_values(frame: pd.DataFrame, spec: MetricSpec) -> pd.Series:
    """One float per request (NaN: the metric does not apply to it)."""
    values = frame[spec] if isinstance(spec, str) else spec(frame)
    return values.astype(float)


def _is_rate(values: pd.Series) -> bool:
    present = values.dropna()
    return bool(len(present)) and bool(present.isin((0.0, 1.0)).all())


def bucket_scores(
    frame: pd.DataFrame,
    *,
    by: str = "feature",
    metrics: Mapping[str, MetricSpec] | None = None,
    freq: str = "30min",
    time: str = "timestamp",
) -> pd.DataFrame:
    """One row per (segment, bucket, metric): requests, mean, and its z against the usual.

    Columns: ``segment``, ``bucket`` (its start), ``metric``, ``requests`` (those the metric
    applies to), ``mean``, ``usual`` (the median of the segment's bucket means; for a rate,
    the segment's overall rate) and ``z``. A bucket's ``z`` is NaN when its segment's metric
    never varies.
    """
    import numpy as np
    import pandas as pd

    metrics = REQUEST_METRICS if metrics is None else metrics
    _check_columns(frame, [time, by, *(s for s in metrics.values() if isinstance(s, str))])
    if frame.empty:
        raise ValueError("The frame has no requests to score.")
    buckets = frame[time].dt.floor(freq)
    parts = []
    for name, spec in metrics.items():
        values = _metric_values(frame, spec)
        table = pd.DataFrame({"segment": frame[by], "bucket": buckets, "value": values})
        table = table.dropna(subset=["value"])
        grouped = table.groupby(["segment", "bucket"], sort=True)["value"]
        stats = grouped.agg(["size", "mean"]).rename(columns={"size": "requests"}).reset_index()
        n = stats["requests"].astype(float)
        if _is_rate(table["value"]):
            usual = table.groupby("segment")["value"].mean()
            stats["usual"] = stats["segment"].map(usual)
            # Anscombe: (k + 3/8) / (n + 3/4) keeps a bucket with no events from looking odd.
            shifted = (stats["mean"] * n + 0.375) / (n + 0.75)
            angle = np.arcsin(np.sqrt(shifted)) - np.arcsin(np.sqrt(stats["usual"]))
            varies = (stats["usual"] > 0) & (stats["usual"] < 1)
            stats["z"] = (2 * np.sqrt(n) * angle).where(varies)
        else:
            spread = table.groupby("segment")["value"].std(ddof=1)
            usual = stats.groupby("segment")["mean"].median()
            stats["usual"] = stats["segment"].map(usual)
            scale = stats["segment"].map(spread) / np.sqrt(n)
            stats["z"] = (stats["mean"] - stats["usual"]) / scale.where(scale > 0)
        stats.insert(2, "metric", name)
        parts.append(stats)
    scores = pd.concat(parts, ignore_index=True)
    return scores.sort_values(["segment", "bucket", "metric"], kind="stable").reset_index(drop=True)


def detect_anomalies(
    frame: pd.DataFrame,
    *,
    by: str = "feature",
    metrics: Mapping[str, MetricSpec] | None = None,
    freq: str = "30min",
    threshold: float = 6.0,
    min_requests: int = 20,
    time: str = "timestamp",
) -> list[Anomaly]:
    """Windows in which a segment's per-request metrics departed from their usual values.

    Args:
        frame: one row per request (or per chat span), with ``time`` and ``by`` columns.
        by: the dimension to segment by; each of its values is watched on its own.
        metrics: name -> column or function of the frame; default :data:`REQUEST_METRICS`.
        freq: the bucket width (a pandas frequency such as ``"30min"`` or ``"1h"``).
        threshold: how many standard errors from the usual a bucket's mean must be.
        min_requests: buckets with fewer requests are never flagged (too noisy).

    Returns:
        The anomalies, the one touching the most requests first.
    """
    import pandas as pd

    if threshold <= 0 or min_requests < 1:
        raise ValueError(
            f"threshold={threshold!r} must be positive and min_requests={min_requests!r} at "
            "least 1 (the defaults are 6.0 and 20)."
        )
    scores = bucket_scores(frame, by=by, metrics=metrics, freq=freq, time=time)
    flagged = scores[(scores["requests"] >= min_requests) & (scores["z"].abs() >= threshold)]
    step = pd.Timedelta(freq)
    windows = []
    for segment, rows in flagged.groupby("segment", sort=True):
        windows.extend(_runs(str(segment), rows, step))
    anomalies = [
        _anomaly(group, by, scores) for group in _overlapping(sorted(windows, key=lambda w: w[1]))
    ]
    return sorted(anomalies, key=lambda a: (-a.requests, a.start))


def _runs(
    segment: str, rows: pd.DataFrame, step: pd.Timedelta
) -> list[tuple[str, pd.Timestamp, pd.Timestamp]]:
    """Consecutive flagged buckets of one segment (one quiet bucket between them allowed)."""
    runs: list[tuple[str, pd.Timestamp, pd.Timestamp]] = []
    for bucket in sorted(set(rows["bucket"])):
        if runs and bucket - runs[-1][2] <= step:
            runs[-1] = (segment, runs[-1][1], bucket + step)
        else:
            runs.append((segment, bucket, bucket + step))
    return runs


def _overlapping(
    windows: list[tuple[str, pd.Timestamp, pd.Timestamp]],
) -> list[list[tuple[str, pd.Timestamp, pd.Timestamp]]]:
    groups: list[list[tuple[str, pd.Timestamp, pd.Timestamp]]] = []
    for window in windows:  # sorted by start
        if groups and window[1] < max(w[2] for w in groups[-1]):
            groups[-1].append(window)
        else:
            groups.append([window])
    return groups


def _anomaly(
    group: list[tuple[str, pd.Timestamp, pd.Timestamp]], by: str, scores: pd.DataFrame
) -> Anomaly:
    start = min(w[1] for w in group)
    end = max(w[2] for w in group)
    segments = tuple(sorted({w[0] for w in group}))
    inside = scores[
        scores["segment"].isin(segments) & (scores["bucket"] >= start) & (scores["bucket"] < end)
    ]
    metrics: dict[str, float] = {}
    for metric, rows in inside.groupby("metric", sort=False):
        z = rows["z"].dropna()
        if not z.empty:
            extreme = float(z.loc[z.abs().idxmax()])
            if abs(extreme) >= 3.0:  # report what moved clearly, not the noise beside it
                metrics[str(metric)] = round(extreme, 1)
    counted = inside.drop_duplicates(["segment", "bucket"])
    return Anomaly(
        start=start,
        end=end,
        dimension=by,
        segments=segments,
        metrics=dict(sorted(metrics.items(), key=lambda kv: -abs(kv[1]))),
        requests=int(counted["requests"].sum()),
    )


def anomaly_table(anomalies: Sequence[Anomaly]) -> pd.DataFrame:
    """The anomalies as a table to read: window, segments, what moved, requests touched."""
    import pandas as pd

    rows = [
        {
            "start": a.start,
            "end": a.end,
            "hours": round(a.duration.total_seconds() / 3600, 1),
            "segments": f"{a.dimension}={', '.join(a.segments)}",
            "requests": a.requests,
            "what moved (z)": ", ".join(f"{m} {z:+.0f}" for m, z in a.metrics.items()),
        }
        for a in anomalies
    ]
    return pd.DataFrame(rows)


def explain_anomaly(
    frame: pd.DataFrame,
    anomaly: Anomaly,
    *,
    dimensions: Sequence[str] = ("prompt_version", "model", "team"),
    exclude: Sequence[Anomaly] = (),
    time: str = "timestamp",
) -> pd.DataFrame:
    """Which value of each dimension is over- or under-represented inside the window.

    Compares the anomaly's segments inside its window with the same segments outside it
    (leaving out the windows of ``exclude``: other anomalies are not the usual). For each
    dimension, the value whose share changed most unusually, by a two-proportion z (how many
    standard errors the change is). A value that appears only inside the window (``outside``
    0) is what changed; a dimension whose top value has a small ``z`` is not involved.
    """
    import pandas as pd

    _check_columns(frame, [time, anomaly.dimension, *dimensions])
    scope = frame[frame[anomaly.dimension].isin(anomaly.segments)]
    stamps = scope[time]
    window = (stamps >= anomaly.start) & (stamps < anomaly.end)
    elsewhere = ~window
    for other in exclude:
        if other != anomaly:
            elsewhere &= ~((stamps >= other.start) & (stamps < other.end))
    inside, outside = scope[window], scope[elsewhere]
    rows: list[dict[str, Any]] = []
    for dimension in dimensions:
        share_in = inside[dimension].value_counts(normalize=True)
        share_out = outside[dimension].value_counts(normalize=True)
        candidates = []
        for value in sorted(set(share_in.index) | set(share_out.index), key=str):
            p_in, p_out = float(share_in.get(value, 0.0)), float(share_out.get(value, 0.0))
            z = _two_proportion_z(p_in, len(inside), p_out, len(outside))
            candidates.append((value, p_in, p_out, z))
        if not candidates:
            continue
        # On a tie (one value replacing another), name the value that became more common.
        value, p_in, p_out, z = max(candidates, key=lambda c: (round(abs(c[3]), 6), c[1] > c[2]))
        rows.append(
            {
                "dimension": dimension,
                "value": value,
                "inside": round(p_in, 3),
                "outside": round(p_out, 3),
                "change": round(p_in - p_out, 3),
                "z": round(z, 1),
            }
        )
    table = pd.DataFrame(rows, columns=["dimension", "value", "inside", "outside", "change", "z"])
    return table.sort_values("z", key=lambda z: -z.abs(), kind="stable").reset_index(drop=True)


def _two_proportion_z(p_in: float, n_in: int, p_out: float, n_out: int) -> float:
    if n_in == 0 or n_out == 0:
        return 0.0
    pooled = (p_in * n_in + p_out * n_out) / (n_in + n_out)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / n_in + 1 / n_out))
    return 0.0 if spread == 0 else (p_in - p_out) / spread


def _check_columns(frame: Any, columns: Sequence[str]) -> None:
    missing = [c for c in dict.fromkeys(columns) if c not in getattr(frame, "columns", ())]
    if missing:
        raise ValueError(
            f"The frame lacks the column(s) {missing}; pass a request log such as "
            "load_traffic(), or name your columns with by=, time= and metrics=."
        )
