"""Checkers of lesson 4.2, "Storage and caching"."""

from __future__ import annotations

import random
import re
import sqlite3
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from course_lib.course.checking import NotYet, Probe, exercise

if TYPE_CHECKING:
    from collections.abc import Callable

    import pandas as pd

SOLUTION = "solutions/4_infrastructure/42_storage_and_caching.ipynb"

# --- 4.2.1 the questions a run made worse, in SQL ----------------------------------------------

REGRESSIONS_SQL = """
SELECT b.question_id, b.team, b.recall AS before, a.recall AS after
FROM results AS b
JOIN results AS a ON a.question_id = b.question_id
WHERE b.run_id = :before AND a.run_id = :after AND a.recall < b.recall
ORDER BY b.recall - a.recall DESC, b.question_id
"""


@dataclass(frozen=True)
class ReferenceQuery:
    """The course's reference query, as an object rather than a str, so that ``check`` can
    tell it from a query the learner wrote (a str is a value: two equal ones are one answer)."""

    sql: str

    def __str__(self) -> str:
        return self.sql


REFERENCE_QUERY = ReferenceQuery(REGRESSIONS_SQL)
"""What ``answer_or_reference("4.2.1", ...)`` falls back to."""

_TEAMS = ("payments", "sre", "people", "data", "security")


def _hidden_database() -> sqlite3.Connection:
    """Runs the learner never saw: four runs over 40 questions, recalls on a 1/4 grid."""
    from course_lib.labs.storage_lab import EVALUATION_SCHEMA

    rng = random.Random(42)
    db = sqlite3.connect(":memory:")
    db.executescript(EVALUATION_SCHEMA)
    runs = ("r-101", "r-102", "r-103", "r-104")
    for run in runs:
        db.execute(
            "INSERT INTO runs VALUES (?, ?, 'dev', ?, ?)", (run, "dense", "ab" * 32, "cd" * 32)
        )
    for number in range(40):
        question, team = f"q-{number:03d}", _TEAMS[number % len(_TEAMS)]
        for run in runs:
            recall = rng.choice((0.0, 0.25, 0.5, 0.75, 1.0))
            db.execute(
                "INSERT INTO results VALUES (?, ?, ?, 'fact', ?, ?)",
                (run, question, team, recall, recall / 2),
            )
    return db


def _plain(sql: str) -> str:
    """The query without its comments, whitespace and case: what two copies share."""
    sql = re.sub(r"/\*.*?\*/", "", sql, flags=re.DOTALL)
    sql = re.sub(r"--[^\n]*", "", sql)
    return "".join(sql.lower().split())


def _expected(db: sqlite3.Connection, before: str, after: str) -> list[tuple[Any, ...]]:
    return db.execute(REGRESSIONS_SQL, {"before": before, "after": after}).fetchall()


@exercise(
    "4.2.1",
    title="The questions a run made worse, in SQL",
    answer_name="REGRESSIONS_SQL",
    expects_function=False,
    reference=REFERENCE_QUERY,
    solution=SOLUTION,
    hints=(
        "Join the results table to itself: one copy (say b) holds the :before run's rows, the "
        "other (a) the :after run's; match them on question_id.",
        "Keep only the rows whose after recall is lower than the before one (a tie is no "
        "regression), and name the two recall columns with AS so they read before and after.",
        "Sort by the size of the drop, largest first, then by question id; put the run ids in "
        "as the named parameters :before and :after, never written into the query.",
    ),
)
def _check_regressions(answer: Any, probe: Probe) -> str:
    if isinstance(answer, ReferenceQuery):
        answer = answer.sql
    elif not isinstance(answer, str) or not answer.strip():
        raise NotYet("REGRESSIONS_SQL should be the text of one SELECT statement, as a str.")
    elif _plain(REGRESSIONS_SQL) in _plain(answer):
        raise NotYet(
            "REGRESSIONS_SQL holds the course's own query, word for word: write yours from the "
            "skeleton (hint('4.2.1') helps), then check it."
        )
    if not re.search(r":before\b", answer) or not re.search(r":after\b", answer):
        raise NotYet(
            "the query does not use the named parameters :before and :after: the checker "
            "passes the two run ids in through them, so never write a run id in the text."
        )
    db = _hidden_database()
    pairs = (("r-101", "r-102"), ("r-103", "r-101"), ("r-104", "r-104"), ("r-102", "r-104"))
    for before, after in pairs:
        call = f"REGRESSIONS_SQL with before={before!r}, after={after!r} on runs you have not seen"
        try:
            got = db.execute(answer, {"before": before, "after": after}).fetchall()
        except sqlite3.Error as exc:
            raise NotYet(
                f"{call} failed in SQLite: {exc}. Try it on the lesson's db first."
            ) from None
        expected = _expected(db, before, after)
        if got and len(got[0]) != 4:
            raise NotYet(
                f"{call} returned {len(got[0])} columns; select four: question_id, team, "
                "the before recall, the after recall."
            )
        if sorted(map(tuple, got)) != sorted(expected):
            extra = sorted(set(map(tuple, got)) - set(expected))
            if extra and extra[0][3] >= extra[0][2]:
                raise NotYet(
                    f"{call} lists {extra[0][0]}, whose recall did not drop "
                    f"({extra[0][2]} -> {extra[0][3]}); keep only the questions whose "
                    "recall fell."
                )
            raise NotYet(
                f"{call} returned {len(got)} rows, expected {len(expected)}: one row per "
                "question whose recall dropped, the two runs matched on question_id."
            )
        if list(map(tuple, got)) != expected:
            raise NotYet(
                f"{call} has the right rows in the wrong order: the biggest drop in "
                "recall comes first, and questions with equal drops by their id."
            )
    return "finds every regression between hidden runs, biggest drop first."


# --- 4.2.2 a key that makes variants of one question equal -----------------------------------


def normalise(text: str) -> str:
    """The course's answer: lower case, no greeting, no thanks, no question mark, one space."""
    text = " ".join(text.lower().split())
    for greeting in ("hi, ", "hey - ", "quick question: ", "sorry if this is obvious, "):
        text = text.removeprefix(greeting)
    for thanks in (" thanks", " thx", " (asking for a new joiner)"):
        text = text.removesuffix(thanks)
    return text.rstrip("?").strip()


NORMALISE_CHECK_SEED = 13
"""The seed of the generated week the normaliser is checked on (the lesson's is 2026)."""


@lru_cache(maxsize=1)
def _check_week() -> pd.DataFrame:
    from course_lib.datasets import generate_traffic
    from course_lib.labs.storage_lab import cache_requests

    week = generate_traffic(seed=NORMALISE_CHECK_SEED, n_requests=8_000).requests
    return cache_requests(week)


def _split_pair(rows: pd.DataFrame, keys: dict[str, Any]) -> tuple[str, str]:
    """Two texts of one pool question that ``keys`` keeps apart, the most frequent kind first."""
    counts = rows["question"].value_counts()
    for _, texts in rows.groupby("pool", sort=True)["question"]:
        variants = sorted(set(texts), key=lambda t: (-counts[t], t))
        for text in variants[1:]:
            if keys[text] != keys[variants[0]]:
                return variants[0], text
    return ("", "")


@exercise(
    "4.2.2",
    title="A cache key that makes variants of one question equal",
    answer_name="normalise",
    reference=normalise,
    solution=SOLUTION,
    time_limit=60.0,
    hints=(
        "Print a few texts of one pool question from `rows` (rows[rows.pool == ...]): what "
        "differs between them? Case, a final '?', a greeting in front, a thank-you behind.",
        "text.lower(), then str.removeprefix for each greeting you saw ('hi, ', ...) and "
        "str.removesuffix for each thank-you (' thanks', ...), then .rstrip('?').",
        "Strip only what you saw people add: keep every word of the question itself, or two "
        "different questions can end up with one key (a false hit).",
    ),
)
def _check_normalise(answer: Any, probe: Probe) -> str:
    from course_lib.labs.storage_lab import exact_hits

    if not callable(answer):
        raise NotYet("normalise should be a function from a question's text to a key.")
    sample = "Hi, How do I book leave?"
    got = probe.call_as(f"normalise({sample!r})", answer, sample)
    probe.expect_type(got, str, f"normalise({sample!r})")
    rows = _check_week()
    keys = {}
    for text in sorted(set(rows["question"])):
        keys[text] = probe.call_as("normalise on a question of another week", answer, text)
        if not isinstance(keys[text], str):
            raise NotYet(f"normalise({text!r}) returned {type(keys[text]).__name__}; a str.")
    found = exact_hits(rows, keys.__getitem__)
    best = exact_hits(rows, normalise)
    rate, target = found["hit"].mean(), best["hit"].mean() - 0.005
    false = int(found["false_hit"].sum())
    line = (
        f"on another week ({len(rows)} questions): hit rate {100 * rate:.1f}% "
        f"(target {100 * target:.1f}%), false hits {false} (target 0)"
    )
    if false:
        raise NotYet(
            f"{line}: your key makes different questions equal; strip only what people add "
            "around a question, keep its words."
        )
    if rate < target:
        pair = _split_pair(rows, keys)
        raise NotYet(
            f"{line}: some variants of one question still get different keys, e.g. "
            f"{pair[0]!r} -> {keys[pair[0]]!r} but {pair[1]!r} -> {keys[pair[1]]!r}."
        )
    return f"{line}."


# --- 4.2.3 a guard on the semantic cache's hits, checked on other weeks ------------------------

CHECK_WEEK_SEEDS = (11, 12)
"""Weeks the guard is checked on: generated, never shown in the lesson (the lesson's is 2026)."""
CHECK_WEEK_REQUESTS = 8_000
"""Requests per checked week (about 5,500 of them ``ask`` requests, which the caches see)."""

CHECK_PHRASINGS: tuple[Callable[[str], str], ...] = (
    lambda text: "good morning! " + text,
    lambda text: text.rstrip("?") + " please?",
    lambda text: "Q: " + text,
    lambda text: text + " thank you",
    lambda text: "hey there, " + text[0].lower() + text[1:],
)
"""New ways to ask, none of them in the lesson: the semantic layer's own contribution."""
REPHRASED_TARGET = 0.9
"""The share of the rephrased questions a guard must serve (an exact key serves none)."""


def serve(question: str, cached: str, similarity: float) -> bool:
    """The course's answer: on top of a loose threshold, no hit across different numbers
    (SEV2, SEV3), and most of the words that carry meaning shared."""
    from course_lib.labs.storage_lab import content_words

    if similarity < 0.70:
        return False
    mine, theirs = content_words(question), content_words(cached)
    numbers = {w for w in mine if any(c.isdigit() for c in w)}
    if numbers != {w for w in theirs if any(c.isdigit() for c in w)}:
        return False
    return len(mine & theirs) / len(mine | theirs) >= 0.6


@lru_cache(maxsize=4)
def _check_week_rows(seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    from course_lib.datasets import generate_traffic
    from course_lib.labs.storage_lab import cache_requests, nearest_earlier

    rows = cache_requests(generate_traffic(seed=seed, n_requests=CHECK_WEEK_REQUESTS).requests)
    return rows, nearest_earlier(rows)


@exercise(
    "4.2.3",
    title="A guard that makes a semantic cache safe, checked on weeks you never saw",
    answer_name="serve",
    reference=serve,
    solution=SOLUTION,
    time_limit=120.0,
    hints=(
        "Print the false hits the skeleton still serves (the cell below it does) and read "
        "each pair: what differs between the two questions that the similarity barely sees?",
        "mine and theirs hold the words that carry meaning. Two questions that differ in one of "
        "them (SEV2 and SEV3, annual and parental) are different questions. The traffic's "
        "greetings and thank-yous (hi, hey, thanks) are left out; new ones are not.",
        "Requiring the two sets to be equal refuses new ways of asking ('hello, ...' adds a "
        "word): allow a small difference, as a share of the words, tuned on this week only.",
    ),
)
def _check_guard(answer: Any, probe: Probe) -> str:
    from course_lib.errors import CourseLibError
    from course_lib.labs.storage_lab import GUARD_FALSE_LIMIT, guard_report, sealed_truth

    if not callable(answer):
        raise NotYet("serve should be a function serve(question, cached, similarity) -> bool.")
    sample = ("How long is parental leave?", "how long is parental leave", 0.97)
    got = probe.call_as(f"serve{sample!r}", answer, *sample)
    if not isinstance(got, bool) and type(got).__name__ != "bool_":
        raise NotYet(
            f"serve{sample!r} returned {type(got).__name__}; return True (serve the cached "
            "answer) or False (ask the model)."
        )
    rephrased = _check_rephrased(answer, probe)
    lines = []
    for seed in CHECK_WEEK_SEEDS:
        rows, nearest = _check_week_rows(seed)
        try:
            with sealed_truth():
                report = guard_report(rows, nearest, answer)
        except CourseLibError as exc:
            raise NotYet(f"on another week, {exc}") from None
        except Exception as exc:
            raise NotYet(
                f"serve raised {type(exc).__name__} on a question of another week: {exc}. "
                "It must decide for any two questions."
            ) from None
        line = f"week {seed}: " + "; ".join(report.lines())
        if report.false_hits > GUARD_FALSE_LIMIT * max(report.hits, 1):
            raise NotYet(
                f"{line}. Too many false hits: print the pairs your guard serves wrongly on "
                "this week and find what tells them apart."
            )
        if not report.passes:
            raise NotYet(
                f"{line}. Safe, but it serves no more than a threshold could: accept the "
                "variants of one question that your guard still refuses."
            )
        lines.append(line)
    return " | ".join([*lines, f"new phrasings: served {rephrased:.0%} (target 90%)"])


@lru_cache(maxsize=1)
def _rephrased() -> pd.DataFrame:
    from course_lib.labs.storage_lab import rephrased_pairs

    return rephrased_pairs(CHECK_PHRASINGS)


def _check_rephrased(answer: Any, probe: Probe) -> float:
    """The semantic layer's own contribution: questions asked in ways no exact key has seen,
    and a guard that still decides by similarity (served at similarity 0, it ignores it)."""
    pairs = _rephrased()
    served = []
    for question, cached, similarity in pairs.itertuples(index=False):
        call = f"serve({question!r}, {cached!r}, {similarity:.3f})"
        got = probe.call_as(call, answer, question, cached, float(similarity))
        served.append(bool(got))
        if got and probe.call_as(call, answer, question, cached, 0.0):
            raise NotYet(
                f"serve({question!r}, {cached!r}, 0.0) returns True: your guard ignores the "
                "similarity. A semantic cache's guard sits on top of its threshold; keep the "
                "similarity check."
            )
    share = sum(served) / len(served)
    if share < REPHRASED_TARGET:
        missed = next(pair for pair, ok in zip(pairs.itertuples(), served, strict=True) if not ok)
        raise NotYet(
            f"beyond the exact key: your guard serves {share:.0%} of {len(served)} questions "
            f"asked in new ways (target {REPHRASED_TARGET:.0%}; an exact key serves none), "
            f"e.g. it refuses {missed.question!r} for {missed.cached!r}. Compare the words that "
            "carry meaning, and allow a small difference."
        )
    return share
