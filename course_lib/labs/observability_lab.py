"""Lesson 2.5's bench: requests that carry personal data, span attributes side by side, the
week's anomalies as a picture, and a finding scored against the ground truth.

Nothing here is production code: the tracing, the reports and the anomaly detector the lesson
measures live in :mod:`course_lib.observability`, the personal-data detector its spans are
redacted with in :mod:`course_lib.personal_data`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure
    from opentelemetry.sdk.trace import ReadableSpan

    from course_lib.datasets import TrafficIncident
    from course_lib.observability import Anomaly

__all__ = [
    "PERSONAL_DATA_QUESTIONS",
    "add_canary",
    "canary_week",
    "compare_span_attributes",
    "plot_version_share",
    "plot_week",
    "score_finding",
]

PERSONAL_DATA_QUESTIONS: tuple[str, ...] = (
    "Parcel KF4820193375 for Anna Nowak was not delivered, she is on +48 601 234 567. "
    "How do I escalate a delivery complaint?",
    "I'm jan.kowalski@kestrel.example and I lost my phone with the Okta Verify app. "
    "What should I do?",
    "Refund to IBAN GB33BUKB20201555555555 for the shipper, which approval do I need?",
)
"""Questions of the kind users type into a support tool: personal data in free text. Written
for this lesson (the numbers are fictional; the IBAN is the standard documentation example)."""

# Values that differ on every run (a free port), shown as a placeholder.
_RANDOM_VALUES = ("server.port",)


def _show(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, tuple | list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def compare_span_attributes(
    ours: ReadableSpan,
    theirs: ReadableSpan,
    *,
    labels: Sequence[str] = ("course_lib", "openai-v2"),
    only: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Every attribute either span carries, one row each: both values and whether they agree.

    Rows follow the conventions' groups: ``gen_ai.*`` first, then ``server.*``, then the
    rest (``course.*``, vendor names). A missing attribute shows as ``-``; a free port as
    ``<port>``. ``only`` keeps just those attributes (in the same order).
    """
    import pandas as pd

    mine, other = dict(ours.attributes or {}), dict(theirs.attributes or {})
    group = {"gen_ai": 0, "server": 1, "course": 2}

    def order(name: str) -> tuple[int, str]:
        return (group.get(name.split(".")[0], 3), name)

    names = set(mine) | set(other)
    if only is not None:
        names = set(only)
    rows = []
    for name in sorted(names, key=order):
        left, right = mine.get(name), other.get(name)
        if name in _RANDOM_VALUES:
            left = None if left is None else "<port>"
            right = None if right is None else "<port>"
        same = "yes" if left == right else ("-" if left is None or right is None else "no")
        rows.append(
            {"attribute": name, labels[0]: _show(left), labels[1]: _show(right), "same": same}
        )
    return pd.DataFrame(rows).set_index("attribute")


def plot_week(
    requests: pd.DataFrame,
    scores: pd.DataFrame,
    anomalies: Sequence[Anomaly] = (),
    *,
    threshold: float = 6.0,
    min_requests: int = 20,
) -> Figure:
    """Requests per bucket over the week (top), and each segment's largest |z| (bottom).

    ``scores`` is :func:`course_lib.observability.bucket_scores` of ``requests``; anomalies
    are shaded in both panels.
    """
    import matplotlib.pyplot as plt

    counted = scores.drop_duplicates(["segment", "bucket"])
    volume = counted.groupby("bucket")["requests"].sum()
    usable = scores[scores["requests"] >= min_requests]
    worst = usable.assign(size=usable["z"].abs()).groupby(["segment", "bucket"])["size"].max()
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(10, 5), sharex=True)
    top.plot(volume.index, volume.to_numpy(), color="tab:grey", linewidth=1)
    top.set_ylabel("requests per bucket")
    for segment, series in worst.groupby(level="segment"):
        # Every bucket of the week, so that a quiet night shows as a gap, not a straight line.
        values = series.droplevel("segment").reindex(volume.index)
        bottom.plot(values.index, values.clip(upper=50).to_numpy(), linewidth=1, label=segment)
    bottom.axhline(threshold, color="black", linestyle=":", label=f"|z| = {threshold:g}")
    bottom.set_ylabel("largest |z| of any metric\n(capped at 50)")
    bottom.legend(loc="upper right", ncols=5, fontsize="small")
    for anomaly in anomalies:
        for axis in (top, bottom):
            axis.axvspan(anomaly.start, anomaly.end, color="tab:red", alpha=0.15)
    for axis in (top, bottom):
        axis.grid(alpha=0.3)
    bottom.xaxis.set_major_formatter(_day_formatter())
    figure.tight_layout()
    return figure


def plot_version_share(
    requests: pd.DataFrame, version: str, *, freq: str = "10min", margin_hours: float = 1.0
) -> Figure:
    """The share of its feature's requests that ``version`` serves, per ``freq`` bucket.

    Only the feature(s) that ever ran ``version``, and only from ``margin_hours`` before its
    first request to as long after its last: a canary shows as a low step, a full rollout as
    a plateau near 1. The dotted line marks a share of one half.
    """
    import matplotlib.pyplot as plt
    import pandas as pd

    from course_lib.errors import CourseLibError

    carrying = requests["prompt_version"] == version
    if not carrying.any():
        raise CourseLibError(
            f"No request carries prompt version {version!r}; pick one from "
            "requests['prompt_version'].unique()."
        )
    features = requests.loc[carrying, "feature"].unique()
    rows = requests[requests["feature"].isin(features)]
    margin = pd.Timedelta(hours=margin_hours)
    first, last = rows.loc[carrying, "timestamp"].agg(["min", "max"])
    near = rows[(rows["timestamp"] >= first - margin) & (rows["timestamp"] <= last + margin)]
    share = (near["prompt_version"] == version).groupby(near["timestamp"].dt.floor(freq)).mean()
    figure, axis = plt.subplots(figsize=(10, 2.6))
    axis.step(share.index, share.to_numpy(), where="post", color="tab:red", linewidth=1.2)
    axis.axhline(0.5, color="black", linestyle=":", linewidth=1)
    axis.set_ylim(-0.03, 1.05)
    axis.set_ylabel(f"share per {freq}")
    axis.set_title(f"{version}: its share of {', '.join(features)} requests", fontsize="medium")
    axis.grid(alpha=0.3)
    from matplotlib.dates import DateFormatter

    axis.xaxis.set_major_formatter(DateFormatter("%a %H:%M"))
    figure.tight_layout()
    return figure


def _day_formatter() -> Any:
    from matplotlib.dates import DateFormatter

    return DateFormatter("%a %d")


def score_finding(found: Mapping[str, Any], truth: TrafficIncident) -> pd.DataFrame:
    """A finding (``start``, ``end``, ``prompt_version``) against the ground truth, row by row.

    The ``error`` column is in minutes for times (positive: later than the truth) and says
    whether a name is right.
    """
    import pandas as pd

    rows = []
    for key, expected in (("start", truth.start), ("end", truth.end)):
        got = pd.Timestamp(found[key]) if found.get(key) is not None else None
        error = "-" if got is None else f"{(got - expected).total_seconds() / 60:+.0f} min"
        rows.append({"": key, "found": _clock(got), "truth": _clock(expected), "error": error})
    version = found.get("prompt_version")
    rows.append(
        {
            "": "prompt_version",
            "found": str(version),
            "truth": truth.bad,
            "error": "right" if version == truth.bad else "wrong",
        }
    )
    return pd.DataFrame(rows).set_index("")


def _clock(stamp: Any) -> str:
    return "-" if stamp is None else stamp.strftime("%a %d %b %H:%M")


CANARY_SHARE = 0.1
"""The share of the affected feature's requests the bad prompt version serves as a canary."""

CANARY_HOURS = (3.0, 1.0)
"""The canary runs from this many hours before the full rollout until this many before it."""


def add_canary(requests: pd.DataFrame, truth: TrafficIncident, *, seed: int = 0) -> pd.DataFrame:
    """A copy of a week in which the incident's prompt version first ran as a quiet canary.

    From :data:`CANARY_HOURS` before the full rollout, about :data:`CANARY_SHARE` of the
    affected feature's requests carry the bad version, with no change to their metrics (the
    canary looked healthy). The truth's start and end stay those of the full rollout, so the
    first and last request carrying the version no longer mark the incident.
    """
    import numpy as np
    import pandas as pd

    features = requests.loc[requests["prompt_version"] == truth.bad, "feature"].unique()
    first, last = (truth.start - pd.Timedelta(hours=h) for h in CANARY_HOURS)
    eligible = (
        requests["feature"].isin(features)
        & (requests["timestamp"] >= first)
        & (requests["timestamp"] < last)
        & (requests["prompt_version"] == truth.before)
    )
    chosen = np.random.default_rng(seed).random(len(requests)) < CANARY_SHARE
    out = requests.copy()
    out.loc[eligible & chosen, "prompt_version"] = truth.bad
    return out


def canary_week(requests: pd.DataFrame | None = None) -> tuple[pd.DataFrame, TrafficIncident]:
    """The course's bundled week with a canary added (:func:`add_canary`), and its truth.

    ``requests`` is the bundled week already loaded (:func:`course_lib.datasets.load_traffic`),
    to save loading it again; by default it is loaded here.
    """
    from course_lib.datasets import load_traffic, load_traffic_incident

    truth = load_traffic_incident()
    week = load_traffic() if requests is None else requests
    return add_canary(week, truth, seed=2026), truth
