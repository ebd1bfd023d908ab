"""Checkers of lesson 2.5, "Observability"."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from course_lib.course.checking import NotYet, Probe, answer_calls, exercise
from course_lib.observability import (
    detect_anomalies,
    explain_anomaly,
    review_sample,
    sample_key,
    usage_report,
)

if TYPE_CHECKING:
    import pandas as pd

    from course_lib.datasets import TrafficIncident

SOLUTION = "solutions/2_engineering_patterns/25_observability.ipynb"


# -- 2.5.1 cost by team at new prices --------------------------------------------------------


def cost_by_team(requests: pd.DataFrame, prices: Mapping[str, tuple[float, float]]) -> Any:
    """The reference: each team's cost in USD, from tokens and the price table."""
    price_in = requests["model"].map(lambda model: prices[model][0])
    price_out = requests["model"].map(lambda model: prices[model][1])
    cost = (requests["input_tokens"] * price_in + requests["output_tokens"] * price_out) / 1e6
    return cost.groupby(requests["team"]).sum()


def _cost_frame(seed: int, n: int) -> pd.DataFrame:
    """Requests of a few teams on two models, failures included, with a stale cost column."""
    import pandas as pd

    rng = random.Random(seed)
    rows = []
    for i in range(n):
        model = rng.choice(("alpha-small", "alpha-small", "alpha-large"))
        outcome = rng.choices(("ok", "refused", "error", "timeout"), (80, 8, 6, 6))[0]
        inputs = 0 if outcome == "error" else rng.randint(300, 2500)
        outputs = 0 if outcome in ("error", "timeout") else rng.randint(10, 400)
        rows.append(
            {
                "request_id": f"req-{i:04d}",
                "team": rng.choice(("payments", "sre", "people", "data", "it")),
                "feature": rng.choice(("ask", "search", "summarise")),
                "model": model,
                "input_tokens": inputs,
                "output_tokens": outputs,
                "outcome": outcome,
                # Priced last month: what a log says is not what the new table charges.
                "cost_usd": (inputs * 0.2 + outputs * 0.8) / 1_000_000,
            }
        )
    return pd.DataFrame(rows)


_PRICE_CASES: list[tuple[int, int, dict[str, tuple[float, float]], str]] = [
    (1, 40, {"alpha-small": (0.15, 0.60), "alpha-large": (2.50, 10.00)}, "two models"),
    (2, 300, {"alpha-small": (0.10, 0.40), "alpha-large": (3.00, 12.00)}, "300 requests"),
    (3, 25, {"alpha-small": (1.00, 1.00), "alpha-large": (1.00, 1.00)}, "equal prices"),
]


def _as_costs(got: Any, call: str) -> dict[str, float]:
    import pandas as pd

    if isinstance(got, pd.DataFrame):
        if got.shape[1] != 1:
            raise NotYet(
                f"{call} returned a DataFrame with columns {list(got.columns)[:5]}; return one "
                "number per team (a Series indexed by team, or a dict)."
            )
        got = got.iloc[:, 0]
    if isinstance(got, pd.Series):
        got = got.to_dict()
    if not isinstance(got, Mapping):
        raise NotYet(
            f"{call} returned {type(got).__name__}; return each team's cost (a Series indexed "
            "by team, or a dict team -> USD)."
        )
    costs = {}
    for team, value in got.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise NotYet(f"{call} gave team {team!r} the cost {value!r}; expected a number.")
        costs[str(team)] = float(value)
    return costs


@exercise(
    "2.5.1",
    title="Cost by team at new prices",
    answer_name="cost_by_team",
    reference=cost_by_team,
    solution=SOLUTION,
    hints=(
        "A request costs input_tokens x its model's input price + output_tokens x its output "
        "price. Do not read cost_usd: it holds the old prices.",
        "price_in and price_out are already each request's prices, in USD per million tokens: "
        "multiply by the token columns, add, divide by 1_000_000. Keep every row: a time-out "
        "still billed its prompt.",
        "cost = (requests['input_tokens'] * price_in + requests['output_tokens'] * price_out) "
        "/ 1_000_000",
    ),
)
def _check_cost(answer: Any, probe: Probe) -> str:
    if answer_calls(answer, usage_report):
        raise NotYet(
            "cost_by_team calls usage_report: that is the library's report; write your own "
            "from the tokens and the price table, then compare."
        )
    for seed, n, prices, why in _PRICE_CASES:
        frame = _cost_frame(seed, n)
        call = f"cost_by_team(<{n} requests of 5 teams on 2 models>, {prices})"
        got = _as_costs(probe.call_as(call, answer, frame.copy(), dict(prices)), call)
        report = usage_report(frame, "team", prices=prices)["cost_usd"]
        expected = {str(k): float(v) for k, v in report.items()}
        if set(got) != set(expected):
            raise NotYet(f"{call} returned the teams {sorted(got)}, expected {sorted(expected)}.")
        stale = frame.groupby("team")["cost_usd"].sum()
        for team, value in expected.items():
            if math.isclose(got[team], float(stale[team]), rel_tol=1e-9) and not math.isclose(
                value, float(stale[team]), rel_tol=1e-9
            ):
                raise NotYet(
                    f"{call}: {team!r} costs what the cost_usd column says (the old "
                    "prices); compute the cost from the tokens and the new prices."
                )
            if not math.isclose(got[team], value, rel_tol=1e-6, abs_tol=1e-12):
                raise NotYet(
                    f"{call} gave {team!r} ${got[team]:.6f}, expected ${value:.6f} ({why}). "
                    "Check the per-million scale, which price goes with which tokens, and that "
                    "failed requests with tokens are billed."
                )
    return f"every team's cost right on all {len(_PRICE_CASES)} hidden request logs."


# -- 2.5.2 a review queue --------------------------------------------------------------------

ANSWERED = ("ok", "refused")


def review_queue(requests: pd.DataFrame, per_feature: int = 5, seed: int = 0) -> list[str]:
    """The reference: up to ``per_feature`` answered requests of each feature, hash-sampled."""
    answered = requests[requests["outcome"].isin(ANSWERED)]
    keys = answered["trace_id"].map(lambda trace_id: sample_key(trace_id, seed))
    ranked = answered.assign(key=keys).sort_values(["feature", "key"])
    return ranked.groupby("feature").head(per_feature)["request_id"].tolist()


def _queue_frame(seed: int, n: int) -> pd.DataFrame:
    import pandas as pd

    rng = random.Random(seed)
    start = pd.Timestamp("2026-11-02", tz="UTC")
    rows = []
    for i in range(n):
        feature = rng.choices(("ask", "search", "summarise", "ticket-triage"), (70, 15, 9, 6))[0]
        rows.append(
            {
                "request_id": f"req-{i + 1:06d}",
                "timestamp": start + pd.Timedelta(seconds=30 * i),
                "feature": feature,
                "outcome": rng.choices(("ok", "refused", "error", "timeout"), (85, 7, 5, 3))[0],
                "trace_id": f"{rng.getrandbits(128):032x}",
            }
        )
    return pd.DataFrame(rows)


def _queue(answer: Callable[..., Any], probe: Probe, frame: Any, n: int, seed: int) -> list[str]:
    import pandas as pd

    call = f"review_queue(<{len(frame)} requests>, per_feature={n}, seed={seed})"
    got = probe.call_as(call, answer, frame, n, seed)
    if isinstance(got, pd.DataFrame):
        raise NotYet(f"{call} returned a DataFrame; return the list of the sampled request ids.")
    if isinstance(got, pd.Series | pd.Index | tuple | set):
        got = list(got)
    probe.expect_type(got, list, call)
    if not all(isinstance(item, str) for item in got):
        raise NotYet(f"{call} returned {got[:3]!r}...; expected request ids such as 'req-000042'.")
    if len(set(got)) != len(got):
        raise NotYet(f"{call} returned the same request id twice; sample without replacement.")
    return got


@exercise(
    "2.5.2",
    title="A review queue",
    answer_name="review_queue",
    reference=review_queue,
    solution=SOLUTION,
    hints=(
        "Keep answered requests only (outcome 'ok' or 'refused'), as the stub does. Then, per "
        "feature, give every request a sort key that depends on its id and the seed only, and "
        "take the per_feature smallest keys.",
        "A key that is the same on every machine and in every row order: "
        "sample_key(trace_id, seed) from course_lib.observability (SHA-256 of seed and id). "
        "Python's hash() and df.sample() on rows in another order give other picks.",
        "answered = requests[requests.outcome.isin(['ok', 'refused'])]; "
        "keyed = answered.assign(key=answered.trace_id.map(lambda t: sample_key(t, seed))); "
        "return keyed.sort_values(['feature', 'key']).groupby('feature').head(per_feature)"
        "['request_id'].tolist()",
    ),
)
def _check_queue(answer: Any, probe: Probe) -> str:
    if answer_calls(answer, review_sample):
        raise NotYet(
            "review_queue calls review_sample: that is the library's sampler; write your own, "
            "then compare."
        )
    frame = _queue_frame(5, 900)
    answered = frame[frame["outcome"].isin(ANSWERED)].set_index("request_id")
    queue = _queue(answer, probe, frame.copy(), 6, 3)
    unknown = [rid for rid in queue if rid not in frame["request_id"].values]
    if unknown:
        raise NotYet(f"returned ids not in the requests, e.g. {unknown[0]!r}.")
    failed = [rid for rid in queue if rid not in answered.index]
    if failed:
        raise NotYet(
            f"the queue holds {len(failed)} failed request(s) (errors or time-outs, e.g. "
            f"{failed[0]!r}); reviewers can only judge answers, so keep outcome 'ok' or 'refused'."
        )
    per_feature = answered.loc[queue, "feature"].value_counts().to_dict()
    wanted = {f: min(6, int(c)) for f, c in answered["feature"].value_counts().items()}
    if per_feature != wanted:
        raise NotYet(
            f"per_feature=6 gave {dict(sorted(per_feature.items()))}, expected "
            f"{dict(sorted(wanted.items()))}: the same number from every feature (all of a "
            "feature's answers when it has fewer)."
        )
    if sorted(_queue(answer, probe, frame.copy(), 6, 3)) != sorted(queue):
        raise NotYet("two calls with the same requests and seed gave different queues.")
    shuffled = frame.sample(frac=1.0, random_state=11).reset_index(drop=True)
    if sorted(_queue(answer, probe, shuffled, 6, 3)) != sorted(queue):
        raise NotYet(
            "the same requests in another row order gave another queue; derive each request's "
            "chance from its id and the seed (e.g. sample_key), not from its row position."
        )
    seeds = [_queue(answer, probe, frame.copy(), 6, s) for s in range(8)]
    if len({tuple(sorted(q)) for q in seeds}) < 8:
        raise NotYet("different seeds gave the same queue; the seed must change the sample.")
    picked = answered.loc[
        [rid for q in seeds for rid in q if answered.loc[rid, "feature"] == "ask"]
    ]
    early = float((picked["timestamp"] < answered["timestamp"].median()).mean())
    if not 0.25 <= early <= 0.75:
        raise NotYet(
            f"{early:.0%} of the sampled 'ask' answers come from the first half of the period; "
            "every answer should have the same chance, whenever it came."
        )
    return "stratified, answered only, the same in any row order, and a new sample per seed."


# -- 2.5.3 the incident on weeks you have not seen (open-ended) ------------------------------

TOLERANCE_MINUTES = 5
"""How close the learner's start and end must come to the truth, on every held-out week."""

# (seed, Monday, the prompt version before, the bad one): weeks the lesson never shows, with
# the prompt renamed so that no name learnt on the bundled week carries over, and a canary of
# the bad version before its full rollout. Two of them fall in EU summer time, which moves
# every UTC time of day by an hour.
_HELD_OUT: tuple[tuple[int, str, str, str], ...] = (
    (31, "2026-11-09", "handbook-answer@5", "handbook-answer@6"),
    (59, "2027-06-07", "handbook-answer@11", "handbook-answer@12"),
    (83, "2027-09-13", "handbook-answer@3", "handbook-answer@9"),
)

ROLLING_REQUESTS = 21
"""The reference's window: this many of the feature's requests, centred on each one."""

LIVE_SHARE = 0.5
"""The reference counts the version as rolled out where it serves at least this share."""


@lru_cache(maxsize=len(_HELD_OUT))
def held_out_week(number: int) -> tuple[pd.DataFrame, TrafficIncident]:
    """Held-out week ``number`` (0-based): its requests and its truth, canary added, renamed.

    Generated on first use (under a second each) and kept, so a second check is quick and a
    stub fails before all the weeks are made.
    """
    import dataclasses

    from course_lib.datasets import generate_traffic
    from course_lib.labs import add_canary

    seed, monday, before, bad = _HELD_OUT[number]
    week = generate_traffic(seed=seed, start=monday)
    names = {week.incident.before: before, week.incident.bad: bad}
    requests = add_canary(week.requests, week.incident, seed=seed)
    requests = requests.assign(prompt_version=requests["prompt_version"].replace(names))
    return requests, dataclasses.replace(week.incident, before=before, bad=bad)


def find_incident(requests: pd.DataFrame) -> dict[str, Any]:
    """The reference: the detector names the version; its rolling share dates the rollout.

    A canary serves the version to a few requests hours earlier, so the first request that
    carries it is not the start: the rollout is where it serves most of the feature's requests.
    """
    anomalies = detect_anomalies(requests)
    if not anomalies:
        return {"start": None, "end": None, "prompt_version": None}
    top = anomalies[0]
    version = explain_anomaly(requests, top, exclude=anomalies).iloc[0]["value"]
    features = requests.loc[requests["prompt_version"] == version, "feature"].unique()
    rows = requests[requests["feature"].isin(features)].sort_values("timestamp")
    carrying = (rows["prompt_version"] == version).astype(float)
    share = carrying.rolling(ROLLING_REQUESTS, center=True, min_periods=1).mean()
    rollout = rows.loc[(share >= LIVE_SHARE) & (carrying == 1), "timestamp"]
    return {"start": rollout.min(), "end": rollout.max(), "prompt_version": version}


def _timestamp(value: Any, key: str, call: str) -> pd.Timestamp:
    import pandas as pd

    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise NotYet(
            f"{call}[{key!r}] is {value!r}; expected a timestamp (pd.Timestamp)."
        ) from None
    if stamp is pd.NaT:
        raise NotYet(f"{call}[{key!r}] is missing (NaT); return when the incident {key}ed.")
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _canary_note(start: pd.Timestamp, true_start: pd.Timestamp) -> str:
    if (true_start - start).total_seconds() < 3600:
        return ""
    return (
        " Your start is hours early: is it the first request carrying the version? That one may "
        "be the canary, not the rollout."
    )


@exercise(
    "2.5.3",
    title="Find the incident in weeks you have not seen",
    answer_name="find_incident",
    reference=find_incident,
    solution=SOLUTION,
    time_limit=120.0,
    hints=(
        "The stub's detector window is cut at 30-minute buckets, too coarse for "
        f"{TOLERANCE_MINUTES} minutes. Work from the requests that carry the version. The first "
        "of them is the canary, hours early: plot_version_share shows it as a low step.",
        "The start is the first request once the version serves most of its feature's "
        "requests, the end the last such request. Follow the version's share of its feature's "
        "requests, over a window of nearby requests rather than fixed clock buckets.",
        "Sort the feature's requests by time and mark those that carry the version. A "
        "centred rolling mean of that mark over nearby requests is the version's share; "
        "keep the marked requests where the share says it serves most of them. The first and "
        "last of those are the start and end. Check the window size on the canary week.",
    ),
)
def _check_incident(answer: Any, probe: Probe) -> str:
    errors = []
    for number in range(1, len(_HELD_OUT) + 1):
        requests, truth = held_out_week(number - 1)
        bad = truth.bad
        call = f"find_incident(<held-out week {number}>)"
        got = probe.call_as(call, answer, requests.copy())
        if not isinstance(got, Mapping):
            raise NotYet(
                f"{call} returned {type(got).__name__}; return a dict with 'start', 'end' and "
                "'prompt_version'."
            )
        missing = [k for k in ("start", "end", "prompt_version") if k not in got]
        if missing:
            raise NotYet(f"{call} returned a dict without {missing}.")
        start = _timestamp(got["start"], "start", call)
        end = _timestamp(got["end"], "end", call)
        # Which bound is off and in which direction, never by how much: the held-out weeks
        # judge the method, they are not a second tuning set.
        off = [
            f"{key} is too {'early' if found < true else 'late'}"
            for key, found, true in (("start", start, truth.start), ("end", end, truth.end))
            if abs((found - true).total_seconds()) > TOLERANCE_MINUTES * 60
        ]
        if off:
            raise NotYet(
                f"on held-out week {number} your {' and '.join(off)} (more than "
                f"{TOLERANCE_MINUTES} minutes off).{_canary_note(start, truth.start)} Tune on "
                "the canary week, not on this message."
            )
        if got["prompt_version"] != bad:
            raise NotYet(
                f"on held-out week {number} you named {got['prompt_version']!r} as the prompt "
                "version that caused it; that is not the version that went out with the "
                "incident (prompt names differ from week to week: read them from the data)."
            )
        errors.append(
            max(abs((start - truth.start).total_seconds()), abs((end - truth.end).total_seconds()))
        )
    return (
        f"on all {len(errors)} held-out weeks you found the incident's prompt version and its "
        f"window to within {max(errors) / 60:.1f} minutes."
    )
