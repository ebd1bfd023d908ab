"""A week of Handbook Assistant production traffic, with one hidden incident.

Observability, cost and incident lessons need logs that look like a real service's: office-hour
peaks, heavy users, a long latency tail, rare errors, and something that went wrong. This
module simulates one week of requests to the assistant. Somewhere on a weekday afternoon a
prompt rollout makes the ``ask`` feature dearer, slower and worse at citing; two harmless
anomalies (a Monday-morning traffic peak and a few minutes of errors on one model) sit
elsewhere in the week to mislead a hasty analyst.

* ``generate_traffic``: build a week from a seed. Every draw comes from one ``random.Random``,
  whose algorithms, unlike numpy's generators, have not changed across Python versions, so a
  seed gives the same rows wherever the course runs;
* ``load_traffic``: the requests of the default week, cached per seed;
* ``load_traffic_incident``: the ground truth (the incident, its measured effect and the
  distractors). Lessons should let learners search before they look at it.

Prices and latencies come from the bundled model registry (``course_lib/models.toml``),
never from the learner's settings, so every copy of the course sees the same numbers. The
datasheet is the "Traffic" part of ``course_lib/datasets/README.md``.
"""

from __future__ import annotations

import bisect
import math
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from course_lib.datasets.errors import DatasetError

if TYPE_CHECKING:
    import pandas as pd

    from course_lib.models import ModelSpec

__all__ = [
    "COLUMNS",
    "FEATURES",
    "OUTCOMES",
    "PROMPT_VERSIONS",
    "QUESTIONS_FILE",
    "TEAMS",
    "IncidentEffect",
    "TrafficDistractor",
    "TrafficIncident",
    "TrafficWeek",
    "generate_traffic",
    "load_traffic",
    "load_traffic_incident",
    "load_traffic_questions",
]

QUESTIONS_FILE = Path(__file__).with_name("traffic_questions.txt")

COLUMNS = (
    "request_id",
    "timestamp",
    "user_id",
    "team",
    "feature",
    "question",
    "model",
    "prompt_version",
    "input_tokens",
    "output_tokens",
    "cost_usd",
    "latency_ms",
    "outcome",
    "cited",
    "trace_id",
)
FEATURES = ("ask", "search", "summarise", "ticket-triage")
OUTCOMES = ("ok", "refused", "error", "timeout")

PROMPT_BEFORE = "handbook-answer@3"
PROMPT_BAD = "handbook-answer@4"
PROMPT_VERSIONS = {
    "ask": PROMPT_BEFORE,
    "search": "handbook-search@2",
    "summarise": "handbook-summarise@1",
    "ticket-triage": "ticket-triage@2",
}
INCIDENT_FEATURES = ("ask",)

# Team ids from COMPANY.md with the number of assistant users in each (350 in all). The
# handbook is read company-wide, so "people" also stands for the non-engineering staff whose
# questions are mostly about policies.
TEAMS = {
    "platform": 36,
    "sre": 22,
    "payments": 34,
    "routing": 28,
    "shipments": 44,
    "mobile": 30,
    "data": 32,
    "identity": 18,
    "security": 16,
    "it": 20,
    "people": 46,
    "eng-leadership": 24,
}
HEAVY_USERS = 6  # a handful of people who ask all day long
HEAVY_USER_WEIGHT = 8.0

# Requests per local hour (0..23): quiet night, morning ramp, lunch dip, afternoon, evening tail.
HOUR_PROFILE = (
    0.02, 0.015, 0.01, 0.01, 0.01, 0.02, 0.05, 0.2, 0.6, 1.0, 1.0, 0.95,
    0.55, 0.7, 0.95, 0.9, 0.75, 0.45, 0.2, 0.12, 0.08, 0.06, 0.04, 0.03,
)  # fmt: skip
DAY_PROFILE = (1.1, 1.0, 1.0, 0.95, 0.8, 0.12, 0.1)  # Monday..Sunday, local time
KRAKOW_SHARE = 0.35  # users one hour ahead of the UK and Lisbon (CET instead of GMT/WET)

MONDAY_PEAK_LOCAL = (8, 11)  # UK local hours of the Monday peak: start of week, on-call handover
MONDAY_PEAK_FACTOR = 1.6
MONDAY_PEAK_TOPICS = {"oncall": 3.0, "deploys": 1.5}

FEATURE_MIX_DEFAULT = (0.74, 0.15, 0.08, 0.03)  # in the order of FEATURES
FEATURE_MIX = {
    "it": (0.58, 0.12, 0.07, 0.23),
    "people": (0.58, 0.12, 0.07, 0.23),
    "sre": (0.60, 0.12, 0.08, 0.20),
    "eng-leadership": (0.60, 0.10, 0.26, 0.04),
}
LARGE_FEATURES = ("summarise", "ticket-triage")  # the rest run on the small model

# How often each handbook topic is asked, before a team's own interests multiply it.
TOPIC_WEIGHTS = {
    "oncall": 10.0,
    "deploys": 10.0,
    "observability": 6.0,
    "services": 12.0,
    "payments": 4.0,
    "data": 5.0,
    "security": 8.0,
    "it": 9.0,
    "people": 16.0,
    "practices": 7.0,
    "onboarding": 5.0,
    "out-of-scope": 4.0,
}
TEAM_TOPIC_BOOST: dict[str, dict[str, float]] = {
    "platform": {"deploys": 3.0, "observability": 2.0, "services": 1.5},
    "sre": {"oncall": 3.0, "observability": 3.0, "deploys": 1.5},
    "payments": {"payments": 5.0, "oncall": 1.5},
    "routing": {"services": 2.0, "oncall": 1.5},
    "shipments": {"services": 2.5, "deploys": 1.5},
    "mobile": {"deploys": 2.0, "services": 1.5},
    "data": {"data": 5.0, "observability": 1.5},
    "identity": {"security": 2.5, "services": 1.5},
    "security": {"security": 4.0},
    "it": {"it": 4.0, "security": 1.5},
    "people": {
        "people": 4.0,
        "onboarding": 2.0,
        "oncall": 0.2,
        "deploys": 0.2,
        "observability": 0.2,
        "services": 0.2,
        "data": 0.3,
        "payments": 0.3,
    },
    "eng-leadership": {"practices": 4.0, "people": 1.5},
}
TOPICS = tuple(TOPIC_WEIGHTS)
OUT_OF_SCOPE = "out-of-scope"

# Token shapes: the fixed prompt of each prompt version, retrieved context, answer lengths.
PROMPT_TOKENS = {
    PROMPT_BEFORE: 420,
    PROMPT_BAD: 1560,  # @4 adds worked examples: about 1.8x the input of @3
    "handbook-search@2": 240,
    "handbook-summarise@1": 310,
    "ticket-triage@2": 540,
}
BAD_OUTPUT_FACTOR = 1.5  # @4 asks for a short explanation before the answer

# Outcome rates.
ERROR_RATE = 0.003
TIMEOUT_RATE = {"small": 0.0012, "large": 0.004}
REFUSAL_RATE = {"ask": 0.035, "search": 0.03, "summarise": 0.01, "ticket-triage": 0.03}
REFUSAL_RATE_OUT_OF_SCOPE = {"ask": 0.7, "search": 0.5}
BAD_EXTRA_REFUSAL = 0.035
CITATION_RATE = {"ask": 0.955, "search": 0.985, "summarise": 0.97, "ticket-triage": 0.62}
BAD_CITATION_RATE = 0.55
TIMEOUT_MS = 30_000.0

# The distractor error burst: a few minutes in which most calls to the small model fail.
BURST_ERROR_RATE = 0.7

_MS_PER_HOUR = 3_600_000
_SEARCH_STOPWORDS = frozenset(
    (
        "a", "an", "and", "are", "at", "be", "by", "can", "do", "does", "for", "from", "get",
        "how", "i", "i'm", "if", "in", "is", "it", "me", "my", "of", "on", "our", "should",
        "that", "the", "there", "this", "to", "we", "what", "what's", "when", "where", "which",
        "who", "why", "with", "you",
    )
)  # fmt: skip


# ---------------------------------------------------------------------------- ground truth


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


# ---------------------------------------------------------------------------- questions


@lru_cache(maxsize=1)
def load_traffic_questions() -> dict[str, tuple[str, ...]]:
    """The question pool, by section, in file order (earlier lines are asked more often)."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for number, raw in enumerate(QUESTIONS_FILE.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if line.startswith("# section:"):
            current = sections.setdefault(line.split(":", 1)[1].strip(), [])
        elif line and not line.startswith("#"):
            if current is None:
                raise DatasetError(
                    f"{QUESTIONS_FILE.name} line {number} comes before any '# section:' line; "
                    "put every question under a section."
                )
            current.append(line)
    expected = {*TOPIC_WEIGHTS, "summarise", "ticket-triage"}
    missing = sorted(s for s in expected if not sections.get(s))
    if missing:
        raise DatasetError(f"{QUESTIONS_FILE.name} lacks questions in section(s) {missing}.")
    return {name: tuple(lines) for name, lines in sections.items()}


def _vary(rng: random.Random, text: str) -> str:
    """Light, human variation: lower case, a dropped question mark, a greeting, a thank-you."""
    r = rng.random()
    if r < 0.62:
        return text
    if r < 0.72:
        return text[0].lower() + text[1:]
    if r < 0.82:
        return text.rstrip("?")
    if r < 0.88:
        prefix = ("hi, ", "quick question: ", "hey - ", "sorry if this is obvious, ")
        return prefix[rng.randrange(len(prefix))] + text[0].lower() + text[1:]
    if r < 0.94:
        suffix = (" thanks", " thx", " (asking for a new joiner)")
        return text + suffix[rng.randrange(len(suffix))]
    return text.lower().rstrip("?")


def _search_query(text: str) -> str:
    """What people type into a search box: the question's key words, lower case."""
    words = [w for w in re.findall(r"[\w'`-]+", text.lower()) if w not in _SEARCH_STOPWORDS]
    return " ".join(words[:6]) or text.lower()


def _tokens(text: str) -> int:
    """A rough token count (about 1.35 tokens per English word)."""
    return max(3, round(len(text.split()) * 1.35))


# ---------------------------------------------------------------------------- calendar


def _last_sunday(year: int, month: int) -> date:
    last = date(year, month + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() + 1) % 7)


def _uk_offset(utc: datetime) -> int:
    """Hours the UK (and Lisbon) are ahead of UTC: 1 in EU summer time, else 0."""
    begins = datetime.combine(_last_sunday(utc.year, 3), datetime.min.time(), timezone.utc)
    ends = datetime.combine(_last_sunday(utc.year, 10), datetime.min.time(), timezone.utc)
    return 1 if begins + timedelta(hours=1) <= utc < ends + timedelta(hours=1) else 0


def _uk_local_to_utc(local: datetime) -> datetime:
    """A naive UK wall-clock time (daytime, so never ambiguous) as an aware UTC datetime."""
    guess = local.replace(tzinfo=timezone.utc)
    return guess - timedelta(hours=_uk_offset(guess))


def _parse_start(start: str | date) -> datetime:
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


def _check_arguments(seed: int, n_requests: int) -> None:
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise DatasetError(f"seed={seed!r} must be an integer, for example 2026.")
    if isinstance(n_requests, bool) or not isinstance(n_requests, int) or n_requests <= 0:
        raise DatasetError(
            f"n_requests={n_requests!r} must be a positive integer (the default is 20000)."
        )


# ---------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class _Window:
    start_ms: int  # from the start of the week
    end_ms: int

    def __contains__(self, ms: int) -> bool:
        return self.start_ms <= ms < self.end_ms


@dataclass(frozen=True)
class _User:
    user_id: str
    team: str
    extra_offset: int  # 0 for the UK and Lisbon, 1 for Kraków
    weight: float


def _window(week: datetime, day: int, minute: int, minutes: int) -> _Window:
    local = week.replace(tzinfo=None) + timedelta(days=day, minutes=minute)
    start = _uk_local_to_utc(local)
    start_ms = round((start - week).total_seconds() * 1000)
    return _Window(start_ms, start_ms + minutes * 60_000)


def _draw_windows(rng: random.Random, week: datetime) -> tuple[_Window, _Window]:
    """The incident (a weekday afternoon) and the error burst (another weekday morning).

    Both fall on Tuesday to Friday, on different days, so neither shares a day with the
    Monday peak and each anomaly can be told apart from the others.
    """
    incident_day = 1 + rng.randrange(4)
    start_minute = 12 * 60 + rng.randrange(121)  # 12:00 to 14:00 UK time
    incident = _window(week, incident_day, start_minute, 180 + rng.randrange(121))
    burst_days = [d for d in range(1, 5) if d != incident_day]
    burst_day = burst_days[rng.randrange(len(burst_days))]
    burst_minute = 9 * 60 + 15 + rng.randrange(136)  # 09:15 to 11:30 UK time
    burst = _window(week, burst_day, burst_minute, 6 + rng.randrange(10))
    return incident, burst


def _draw_users(rng: random.Random) -> list[_User]:
    teams = [team for team, size in TEAMS.items() for _ in range(size)]
    rng.shuffle(teams)
    heavy = set(rng.sample(range(len(teams)), HEAVY_USERS))
    users = []
    for i, team in enumerate(teams):
        extra = 1 if rng.random() < KRAKOW_SHARE else 0
        weight = HEAVY_USER_WEIGHT if i in heavy else rng.lognormvariate(0.0, 0.9)
        users.append(_User(f"u-{i + 1:04d}", team, extra, weight))
    return users


def _monday_peak(week: datetime) -> _Window:
    first, last = MONDAY_PEAK_LOCAL
    return _window(week, 0, first * 60, (last - first) * 60)


def _hour_cumulative(week: datetime, extra_offset: int, peak: _Window) -> list[float]:
    """Cumulative request weight of each hour of the week for users at one UTC offset."""
    cumulative, total = [], 0.0
    for hour in range(168):
        utc = week + timedelta(hours=hour)
        local = utc + timedelta(hours=_uk_offset(utc) + extra_offset)
        weight = DAY_PROFILE[local.weekday()] * HOUR_PROFILE[local.hour]
        if hour * _MS_PER_HOUR in peak:
            weight *= MONDAY_PEAK_FACTOR
        total += weight
        cumulative.append(total)
    return cumulative


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


# ---------------------------------------------------------------------------- one request


@dataclass(frozen=True)
class _Context:
    """Everything a request's draws depend on besides the random stream."""

    questions: dict[str, tuple[str, ...]]
    question_cumulative: dict[str, list[float]]
    topic_cumulative: dict[tuple[str, bool], list[float]]
    feature_cumulative: dict[str, list[float]]
    small: ModelSpec
    large: ModelSpec
    incident: _Window
    burst: _Window
    peak: _Window


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
        return _search_query(text), section
    return _vary(rng, text), section


def _input_tokens(rng: random.Random, feature: str, prompt: str, question: str) -> int:
    base = PROMPT_TOKENS[prompt] + _tokens(question)
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


def _outcome(rng: random.Random, ctx: _Context, row: dict, section: str, bad: bool) -> str:
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


def _fill(rng: random.Random, ctx: _Context, row: dict) -> None:
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


# ---------------------------------------------------------------------------- assembly


def _context(
    questions: dict[str, tuple[str, ...]], incident: _Window, burst: _Window, peak: _Window
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


def _draw_rows(
    rng: random.Random, week: datetime, users: list[_User], n: int, peak: _Window
) -> list[dict]:
    """Who asked and when, sorted by time; the other columns are drawn in time order."""
    by_offset = {e: _hour_cumulative(week, e, peak) for e in (0, 1)}
    user_cumulative = _cumulative([u.weight for u in users])
    drawn = []
    for _ in range(n):
        user = users[_pick(rng, user_cumulative)]
        hour = _pick(rng, by_offset[user.extra_offset])
        drawn.append((hour * _MS_PER_HOUR + rng.randrange(_MS_PER_HOUR), user))
    drawn.sort(key=lambda pair: pair[0])  # stable: equal times keep their draw order
    return [{"ms": ms, "user_id": u.user_id, "team": u.team} for ms, u in drawn]


def _frame(rows: list[dict], week: datetime) -> pd.DataFrame:
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


def _timestamp(week: datetime, ms: int) -> pd.Timestamp:
    import pandas as pd

    return pd.Timestamp(week + timedelta(milliseconds=ms))


def _measure_incident(
    frame: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp
) -> IncidentEffect:
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


def _measure_peak(frame: pd.DataFrame, week: datetime, peak: _Window) -> TrafficDistractor:
    """Requests per hour in the Monday peak against the same hours of Tuesday to Friday."""
    import pandas as pd

    start, end = _timestamp(week, peak.start_ms), _timestamp(week, peak.end_ms)
    hours = (peak.end_ms - peak.start_ms) / _MS_PER_HOUR

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


def _measure_burst(
    frame: pd.DataFrame, week: datetime, burst: _Window, model: str
) -> TrafficDistractor:
    """The error rate of one model during the burst against the rest of its week."""
    start, end = _timestamp(week, burst.start_ms), _timestamp(week, burst.end_ms)
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


def generate_traffic(
    seed: int = 2026, n_requests: int = 20_000, start: str | date = "2026-11-02"
) -> TrafficWeek:
    """Simulate one week (Monday to Sunday, UTC) of Handbook Assistant requests.

    The same ``seed`` always gives the same rows and the same incident; another seed moves the
    incident to another weekday afternoon. ``n_requests`` is the exact number of rows.
    ``start`` is the Monday the week begins (an ISO date string or a ``date``).
    """
    _check_arguments(seed, n_requests)
    week = _parse_start(start)
    rng = random.Random(seed)
    incident, burst = _draw_windows(rng, week)
    peak = _monday_peak(week)
    users = _draw_users(rng)
    rows = _draw_rows(rng, week, users, n_requests, peak)
    ctx = _context(load_traffic_questions(), incident, burst, peak)
    for row in rows:
        _fill(rng, ctx, row)
    frame = _frame(rows, week)
    start_ts, end_ts = _timestamp(week, incident.start_ms), _timestamp(week, incident.end_ms)
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
        effect=_measure_incident(frame, start_ts, end_ts),
        distractors=(
            _measure_peak(frame, week, peak),
            _measure_burst(frame, week, burst, ctx.small.id),
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
