"""The shape of the simulated week: columns, features, teams, profiles, token sizes and rates.

Every number the simulation draws with lives here, so that a lesson (or a reviewer) can read
what the traffic is made of in one place. The datasheet describes the same numbers in prose.
"""

from __future__ import annotations

__all__ = [
    "BAD_CITATION_RATE",
    "BAD_EXTRA_REFUSAL",
    "BAD_OUTPUT_FACTOR",
    "BURST_ERROR_RATE",
    "CITATION_RATE",
    "COLUMNS",
    "DAY_PROFILE",
    "ERROR_RATE",
    "FEATURES",
    "FEATURE_MIX",
    "FEATURE_MIX_DEFAULT",
    "HEAVY_USERS",
    "HEAVY_USER_WEIGHT",
    "HOUR_PROFILE",
    "INCIDENT_FEATURES",
    "KRAKOW_SHARE",
    "LARGE_FEATURES",
    "MONDAY_PEAK_FACTOR",
    "MONDAY_PEAK_LOCAL",
    "MONDAY_PEAK_TOPICS",
    "MS_PER_HOUR",
    "OUTCOMES",
    "OUT_OF_SCOPE",
    "PROMPT_BAD",
    "PROMPT_BEFORE",
    "PROMPT_TOKENS",
    "PROMPT_VERSIONS",
    "REFUSAL_RATE",
    "REFUSAL_RATE_OUT_OF_SCOPE",
    "TEAMS",
    "TEAM_TOPIC_BOOST",
    "TIMEOUT_MS",
    "TIMEOUT_RATE",
    "TOPICS",
    "TOPIC_WEIGHTS",
]

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

MS_PER_HOUR = 3_600_000
