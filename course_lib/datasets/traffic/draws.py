"""One request at a time: who asks, when, about what, on which model, and how it went.

Every draw comes from the one ``random.Random`` of the week, in a fixed order: changing the
order of draws here changes every row after it.
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from course_lib.datasets.traffic.clock import Window, hour_cumulative
from course_lib.datasets.traffic.params import (
    BAD_CITATION_RATE,
    BAD_EXTRA_REFUSAL,
    BAD_OUTPUT_FACTOR,
    BURST_ERROR_RATE,
    CITATION_RATE,
    COLUMNS,
    ERROR_RATE,
    FEATURE_MIX,
    FEATURE_MIX_DEFAULT,
    FEATURES,
    HEAVY_USER_WEIGHT,
    HEAVY_USERS,
    INCIDENT_FEATURES,
    KRAKOW_SHARE,
    LARGE_FEATURES,
    MONDAY_PEAK_TOPICS,
    MS_PER_HOUR,
    OUT_OF_SCOPE,
    PROMPT_BAD,
    PROMPT_TOKENS,
    PROMPT_VERSIONS,
    REFUSAL_RATE,
    REFUSAL_RATE_OUT_OF_SCOPE,
    TEAM_TOPIC_BOOST,
    TEAMS,
    TIMEOUT_MS,
    TIMEOUT_RATE,
    TOPIC_WEIGHTS,
    TOPICS,
)
from course_lib.datasets.traffic.questions import count_tokens, search_query, vary

if TYPE_CHECKING:
    import pandas as pd

    from course_lib.models import ModelSpec

__all__ = ["Row", "User", "build_context", "draw_rows", "draw_users", "fill_request", "to_frame"]

Row = dict[str, Any]  # one request's columns (and its time, "ms"), filled in draw order


@dataclass(frozen=True)
class User:
    user_id: str
    team: str
    extra_offset: int  # 0 for the UK and Lisbon, 1 for Kraków
    weight: float


def draw_users(rng: random.Random) -> list[User]:
    teams = [team for team, size in TEAMS.items() for _ in range(size)]
    rng.shuffle(teams)
    heavy = set(rng.sample(range(len(teams)), HEAVY_USERS))
    users = []
    for i, team in enumerate(teams):
        extra = 1 if rng.random() < KRAKOW_SHARE else 0
        weight = HEAVY_USER_WEIGHT if i in heavy else rng.lognormvariate(0.0, 0.9)
        users.append(User(f"u-{i + 1:04d}", team, extra, weight))
    return users


def _cumulative(weights: Sequence[float]) -> list[float]:
    out, total = [], 0.0
    for w in weights:
        total += w
        out.append(total)
    return out


def _pick(rng: random.Random, cumulative: Sequence[float]) -> int:
    """An index drawn in proportion to its weight (as ``random.choices`` does it)."""
    return bisect.bisect_right(cumulative, rng.random() * cumulative[-1], 0, len(cumulative) - 1)


def _topic_cumulative(team: str, monday_peak: bool) -> list[float]:
    boost = TEAM_TOPIC_BOOST.get(team, {})
    weights = []
    for topic, base in TOPIC_WEIGHTS.items():
        weight = base * boost.get(topic, 1.0)
        if monday_peak:
            weight *= MONDAY_PEAK_TOPICS.get(topic, 1.0)
        weights.append(weight)
    return _cumulative(weights)


@dataclass(frozen=True)
class _Context:
    """Everything a request's draws depend on besides the random stream."""

    questions: dict[str, tuple[str, ...]]
    question_cumulative: dict[str, list[float]]
    topic_cumulative: dict[tuple[str, bool], list[float]]
    feature_cumulative: dict[str, list[float]]
    small: ModelSpec
    large: ModelSpec
    incident: Window
    burst: Window
    peak: Window


def _draw_question(
    rng: random.Random, ctx: _Context, team: str, feature: str, ms: int
) -> tuple[str, str]:
    """The user's text and its section (a topic, or the feature's own section)."""
    if feature in ("ask", "search"):
        topics = ctx.topic_cumulative[(team, ms in ctx.peak)]
        section = TOPICS[_pick(rng, topics)]
    else:
        section = feature
    pool = ctx.questions[section]
    text = pool[_pick(rng, ctx.question_cumulative[section])]
    if feature == "search":
        return search_query(text), section
    return vary(rng, text), section


def _input_tokens(rng: random.Random, feature: str, prompt: str, question: str) -> int:
    base = PROMPT_TOKENS[prompt] + count_tokens(question)
    if feature == "ask":
        return base + sum(rng.randint(130, 270) for _ in range(5))  # five retrieved chunks
    if feature == "search":
        return base + sum(rng.randint(40, 80) for _ in range(12))  # twelve snippets to rerank
    if feature == "summarise":
        return base + rng.randint(420, 1700)  # one handbook document
    return base + sum(rng.randint(150, 260) for _ in range(3))  # ticket-triage: three chunks


def _output_tokens(rng: random.Random, feature: str, outcome: str, bad: bool) -> int:
    if outcome == "refused":
        return rng.randint(12, 32)
    if feature == "ask":
        tokens = rng.lognormvariate(math.log(72), 0.35) * (BAD_OUTPUT_FACTOR if bad else 1.0)
    elif feature == "search":
        tokens = rng.randint(30, 90)
    elif feature == "summarise":
        tokens = rng.lognormvariate(math.log(190), 0.3)
    else:
        tokens = rng.lognormvariate(math.log(95), 0.3)
    return max(8, round(tokens))


def _outcome(rng: random.Random, ctx: _Context, row: Row, section: str, bad: bool) -> str:
    small = row["model"] == ctx.small.id
    if small and row["ms"] in ctx.burst and rng.random() < BURST_ERROR_RATE:
        return "error"
    if rng.random() < ERROR_RATE:
        return "error"
    if rng.random() < TIMEOUT_RATE["small" if small else "large"]:
        return "timeout"
    feature = row["feature"]
    refusal = REFUSAL_RATE[feature]
    if section == OUT_OF_SCOPE:
        refusal = REFUSAL_RATE_OUT_OF_SCOPE.get(feature, refusal)
    if bad:
        refusal += BAD_EXTRA_REFUSAL
    return "refused" if rng.random() < refusal else "ok"


def _latency_noise(rng: random.Random) -> float:
    """Mostly within +-25%, with a heavy tail: a few requests queue behind long ones."""
    noise = rng.lognormvariate(0.0, 0.25)
    if rng.random() < 0.03:
        noise *= rng.paretovariate(1.6)
    return noise


def fill_request(rng: random.Random, ctx: _Context, row: Row) -> None:
    """Draw every column of one request whose user and time are already known."""
    feature = FEATURES[_pick(rng, ctx.feature_cumulative[row["team"]])]
    spec = ctx.large if feature in LARGE_FEATURES else ctx.small
    bad = feature in INCIDENT_FEATURES and row["ms"] in ctx.incident
    prompt = PROMPT_BAD if bad else PROMPT_VERSIONS[feature]
    question, section = _draw_question(rng, ctx, row["team"], feature, row["ms"])
    row.update(feature=feature, question=question, model=spec.id, prompt_version=prompt)
    outcome = _outcome(rng, ctx, row, section, bad)
    input_tokens = _input_tokens(rng, feature, prompt, question)
    output_tokens = _output_tokens(rng, feature, outcome, bad)
    latency = spec.latency_ms(input_tokens, output_tokens) * _latency_noise(rng)
    if outcome in ("ok", "refused") and latency >= TIMEOUT_MS:
        outcome = "timeout"  # the client gave up before the answer came back
    if outcome == "error":  # the call failed before the model ran: no usage is billed
        input_tokens, output_tokens, latency = 0, 0, 60.0 + rng.random() * 500.0
    elif outcome == "timeout":  # the prompt was processed and billed, the answer was lost
        output_tokens, latency = 0, TIMEOUT_MS + rng.random() * 400.0
    cite_rate = BAD_CITATION_RATE if bad else CITATION_RATE[feature]
    row.update(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cost_usd=spec.cost(input_tokens, output_tokens),
        latency_ms=round(latency, 1),
        outcome=outcome,
        cited=outcome == "ok" and rng.random() < cite_rate,
        trace_id=f"{rng.getrandbits(128):032x}",
    )


def build_context(
    questions: dict[str, tuple[str, ...]], incident: Window, burst: Window, peak: Window
) -> _Context:
    from course_lib.models import load_registry

    registry = load_registry()  # the bundled registry: the same numbers for every learner
    return _Context(
        questions=questions,
        question_cumulative={
            name: _cumulative([1.0 / (rank + 1) ** 0.7 for rank in range(len(pool))])
            for name, pool in questions.items()
        },
        topic_cumulative={
            (team, flag): _topic_cumulative(team, flag) for team in TEAMS for flag in (False, True)
        },
        feature_cumulative={
            team: _cumulative(FEATURE_MIX.get(team, FEATURE_MIX_DEFAULT)) for team in TEAMS
        },
        small=registry.resolve("chat-small"),
        large=registry.resolve("chat-large"),
        incident=incident,
        burst=burst,
        peak=peak,
    )


def draw_rows(
    rng: random.Random, week: datetime, users: list[User], n: int, peak: Window
) -> list[Row]:
    """Who asked and when, sorted by time; the other columns are drawn in time order."""
    by_offset = {e: hour_cumulative(week, e, peak) for e in (0, 1)}
    user_cumulative = _cumulative([u.weight for u in users])
    drawn = []
    for _ in range(n):
        user = users[_pick(rng, user_cumulative)]
        hour = _pick(rng, by_offset[user.extra_offset])
        drawn.append((hour * MS_PER_HOUR + rng.randrange(MS_PER_HOUR), user))
    drawn.sort(key=lambda pair: pair[0])  # stable: equal times keep their draw order
    return [{"ms": ms, "user_id": u.user_id, "team": u.team} for ms, u in drawn]


def to_frame(rows: list[Row], week: datetime) -> pd.DataFrame:
    import pandas as pd

    start = pd.Timestamp(week)
    data = {
        "request_id": [f"req-{i + 1:06d}" for i in range(len(rows))],
        "timestamp": start + pd.to_timedelta([r["ms"] for r in rows], unit="ms"),
    }
    for column in COLUMNS[2:]:
        data[column] = [r[column] for r in rows]
    frame = pd.DataFrame(data, columns=list(COLUMNS))
    frame["timestamp"] = frame["timestamp"].astype("datetime64[ns, UTC]")
    return frame.astype(
        {
            "input_tokens": "int64",
            "output_tokens": "int64",
            "cost_usd": "float64",
            "latency_ms": "float64",
            "cited": "bool",
        }
    )
