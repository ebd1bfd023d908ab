"""The ground truth of a simulated week: the incident, what it did, and the distractors.

The effects are measured on the generated rows, with the same pandas operations a learner
would use, so a correct analysis finds exactly these numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from course_lib.datasets.traffic.clock import Window
from course_lib.datasets.traffic.params import INCIDENT_FEATURES, MS_PER_HOUR

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "IncidentEffect",
    "TrafficDistractor",
    "TrafficIncident",
    "TrafficWeek",
    "measure_burst",
    "measure_incident",
    "measure_peak",
    "timestamp_at",
]


@dataclass(frozen=True)
class IncidentEffect:
    """What the incident did, measured on the generated rows of the affected feature(s).

    ``inside`` is every request of the affected feature(s) within the window, ``outside``
    every other request of the same feature(s) that week. Rates are shares of all requests
    (``citation_rate`` is the mean of ``cited``); ``p95_latency_ms`` uses pandas' default
    (linear) quantile, so a learner's ``Series.quantile(0.95)`` gives the same number.
    """

    scope: str
    requests_inside: int
    requests_outside: int
    mean_cost_usd_inside: float
    mean_cost_usd_outside: float
    p95_latency_ms_inside: float
    p95_latency_ms_outside: float
    citation_rate_inside: float
    citation_rate_outside: float
    refusal_rate_inside: float
    refusal_rate_outside: float
    mean_input_tokens_inside: float
    mean_input_tokens_outside: float

    @property
    def cost_ratio(self) -> float:
        return self.mean_cost_usd_inside / self.mean_cost_usd_outside

    @property
    def latency_ratio(self) -> float:
        return self.p95_latency_ms_inside / self.p95_latency_ms_outside

    @property
    def input_tokens_ratio(self) -> float:
        return self.mean_input_tokens_inside / self.mean_input_tokens_outside


@dataclass(frozen=True)
class TrafficDistractor:
    """A harmless anomaly planted to test whether an analysis blames the right cause.

    ``metric`` names what stands out; ``inside`` is its value in the window and ``baseline``
    its usual value (see ``description`` for what each is compared with).
    """

    kind: str  # "traffic-peak" or "error-burst"
    start: pd.Timestamp
    end: pd.Timestamp
    scope: str
    description: str
    metric: str
    inside: float
    baseline: float


@dataclass(frozen=True)
class TrafficIncident:
    """The ground truth of the week: when the bad prompt was live, and what it did.

    The window is ``start <= timestamp < end`` (UTC). ``features`` are the features whose
    prompt changed from ``before`` to ``bad``; nothing in the rows flags the incident except
    the ``prompt_version`` those requests carry.
    """

    start: pd.Timestamp
    end: pd.Timestamp
    before: str
    bad: str
    features: tuple[str, ...]
    description: str
    effect: IncidentEffect
    distractors: tuple[TrafficDistractor, ...]

    @property
    def duration(self) -> pd.Timedelta:
        return self.end - self.start


@dataclass(frozen=True, eq=False)
class TrafficWeek:
    """One generated week: the requests (a DataFrame, columns as ``COLUMNS``) and the truth."""

    requests: pd.DataFrame
    incident: TrafficIncident


def timestamp_at(week: datetime, ms: int) -> pd.Timestamp:
    import pandas as pd

    return pd.Timestamp(week + timedelta(milliseconds=ms))


def measure_incident(frame: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> IncidentEffect:
    mask_feature = frame["feature"].isin(INCIDENT_FEATURES)
    inside_window = (frame["timestamp"] >= start) & (frame["timestamp"] < end)
    inside = frame[mask_feature & inside_window]
    outside = frame[mask_feature & ~inside_window]

    def stats(part: pd.DataFrame) -> tuple[float, ...]:
        return (
            float(part["cost_usd"].mean()),
            float(part["latency_ms"].quantile(0.95)),
            float(part["cited"].mean()),
            float((part["outcome"] == "refused").mean()),
            float(part["input_tokens"].mean()),
        )

    cost_in, p95_in, cite_in, refuse_in, tokens_in = stats(inside)
    cost_out, p95_out, cite_out, refuse_out, tokens_out = stats(outside)
    return IncidentEffect(
        scope=f"feature in {list(INCIDENT_FEATURES)}",
        requests_inside=len(inside),
        requests_outside=len(outside),
        mean_cost_usd_inside=cost_in,
        mean_cost_usd_outside=cost_out,
        p95_latency_ms_inside=p95_in,
        p95_latency_ms_outside=p95_out,
        citation_rate_inside=cite_in,
        citation_rate_outside=cite_out,
        refusal_rate_inside=refuse_in,
        refusal_rate_outside=refuse_out,
        mean_input_tokens_inside=tokens_in,
        mean_input_tokens_outside=tokens_out,
    )


def measure_peak(frame: pd.DataFrame, week: datetime, peak: Window) -> TrafficDistractor:
    """Requests per hour in the Monday peak against the same hours of Tuesday to Friday."""
    import pandas as pd

    start, end = timestamp_at(week, peak.start_ms), timestamp_at(week, peak.end_ms)
    hours = (peak.end_ms - peak.start_ms) / MS_PER_HOUR

    def count(days: int) -> int:
        shift = pd.Timedelta(days=days)
        stamps = frame["timestamp"]
        return int(((stamps >= start + shift) & (stamps < end + shift)).sum())

    return TrafficDistractor(
        kind="traffic-peak",
        start=start,
        end=end,
        scope="all features",
        description=(
            "Monday-morning peak: the start of the week and the 10:00 on-call handover bring "
            "more requests, more of them about on-call and deploys; prompts, costs per request "
            "and error rates are unchanged. Compared with the same hours of Tuesday to Friday."
        ),
        metric="requests per hour",
        inside=count(0) / hours,
        baseline=sum(count(d) for d in range(1, 5)) / (4 * hours),
    )


def measure_burst(
    frame: pd.DataFrame, week: datetime, burst: Window, model: str
) -> TrafficDistractor:
    """The error rate of one model during the burst against the rest of its week."""
    start, end = timestamp_at(week, burst.start_ms), timestamp_at(week, burst.end_ms)
    on_model = frame["model"] == model
    window = (frame["timestamp"] >= start) & (frame["timestamp"] < end)
    errors = frame["outcome"] == "error"
    return TrafficDistractor(
        kind="error-burst",
        start=start,
        end=end,
        scope=f"model {model}",
        description=(
            f"A few minutes of errors on {model} while its serving pool restarted: every "
            "feature on that model fails alike and prompt versions do not change. Compared "
            "with the model's error rate over the rest of the week."
        ),
        metric="error rate",
        inside=float(errors[on_model & window].mean()),
        baseline=float(errors[on_model & ~window].mean()),
    )
