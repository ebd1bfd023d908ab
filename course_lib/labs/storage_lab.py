"""Lesson 4.2's lab: the tutorial's storage, evaluation runs to store, and the week of traffic
replayed through exact and semantic caches.

Nothing here is production code. :func:`prototype_save_run` is the storage a tutorial stops at
(a fixed file name, a CSV appended per run), kept so the lesson can measure what breaks; the
production pieces are :mod:`course_lib.artifacts` and :mod:`course_lib.caching`.

The caches are judged against the traffic's truth: every request text comes from one question
of the pool in ``course_lib/datasets/traffic/questions.txt``, lightly varied.
:func:`pool_question` recovers that question from the text, so a cache hit that serves the
answer of *another* pool question is a **false hit**, counted without any model.
:func:`guard_report` measures a guard on a semantic cache's hits against the best threshold
used alone; while a checker measures one, :func:`sealed_truth` keeps the labels out of reach.
"""

from __future__ import annotations

import csv
import json
import math
import shutil
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from course_lib.errors import CourseLibError

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from course_lib.caching import ExactCache, SemanticCache

__all__ = [
    "CACHED_FEATURE",
    "EVALUATION_METHODS",
    "EVALUATION_SCHEMA",
    "FALSE_HIT_LIMIT",
    "GUARD_FALSE_LIMIT",
    "GUARD_MARGIN",
    "HELD_OUT_DAYS",
    "LESSON_PHRASINGS",
    "PROMPT_TEXT",
    "THRESHOLDS",
    "TUNING_DAYS",
    "CacheReplay",
    "GuardReport",
    "ReplayClock",
    "StorageLabError",
    "cache_requests",
    "content_words",
    "evaluation_run",
    "exact_hits",
    "guard_hits",
    "guard_report",
    "nearest_earlier",
    "plot_threshold_sweep",
    "pool_question",
    "prototype_save_run",
    "rephrased_pairs",
    "replay_through_caches",
    "sweep_thresholds",
    "variant_examples",
]

CACHED_FEATURE = "ask"
"""The feature the caches sit in front of: questions answered with citations, 70% of traffic."""
TUNING_DAYS = ("Mon", "Tue", "Wed")
"""Days a threshold may be tuned on."""
HELD_OUT_DAYS = ("Thu", "Fri", "Sat", "Sun")
"""Days a chosen threshold is checked on (the cache stays warm from the days before)."""
FALSE_HIT_LIMIT = 0.01
"""The most false hits per served answer the open-ended exercise allows."""
GUARD_FALSE_LIMIT = 0.001
"""The most false hits per served answer a guarded semantic cache may serve: one in 1,000."""
GUARD_MARGIN = 0.01
"""How far (in share of requests) a guard must beat the best threshold used alone."""
THRESHOLDS: tuple[float, ...] = tuple(round(0.80 + 0.01 * i, 2) for i in range(20))
"""Cosine thresholds swept: 0.80 to 0.99 (1.0 would miss identical texts by rounding)."""
EVALUATION_METHODS = ("bm25", "dense", "hybrid")
"""The retrieval set-ups the lesson's evaluation runs compare."""
PROMPT_TEXT = (
    "You answer questions about the Kestrel Freight handbook. Use only the passages below and "
    "cite each one you use as [doc-id]. If they do not answer the question, say you do not "
    "know.\n\n{passages}\n\nQuestion: {question}\n"
)
"""The prompt every evaluation run stores beside its index (the same bytes each time)."""

EVALUATION_SCHEMA = """
CREATE TABLE runs (
    run_id TEXT PRIMARY KEY, method TEXT NOT NULL, split TEXT NOT NULL,
    index_sha256 TEXT NOT NULL, prompt_sha256 TEXT NOT NULL
);
CREATE TABLE results (
    run_id TEXT NOT NULL REFERENCES runs (run_id), question_id TEXT NOT NULL,
    team TEXT NOT NULL, type TEXT NOT NULL, recall REAL NOT NULL, rr REAL NOT NULL,
    PRIMARY KEY (run_id, question_id)
);
"""
"""The lesson's two tables: a run, with the hashes of what it used; a row per question."""


class StorageLabError(CourseLibError, ValueError):
    """A lab helper was given something it cannot use; the message says what to pass."""


# --- the tutorial's storage -----------------------------------------------------------------


def prototype_save_run(
    folder: Path, run: str, index: bytes, prompt: str, metrics: dict[str, Any]
) -> None:
    """Saves a run the tutorial's way: fixed file names, a copy per run, a CSV appended to."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "index_final.pkl").write_bytes(index)  # the latest run wins
    (folder / "prompt.txt").write_text(prompt)
    keep = folder / "runs" / run  # "keep a copy of every run, just in case"
    keep.mkdir(parents=True, exist_ok=True)
    shutil.copy(folder / "index_final.pkl", keep / "index_final_v2.pkl")
    shutil.copy(folder / "prompt.txt", keep / "prompt.txt")
    results = folder / "results.csv"
    new = not results.exists()
    with results.open("a", newline="") as handle:
        writer = csv.writer(handle)
        if new:
            writer.writerow(metrics)
        writer.writerow(metrics.values())


# --- evaluation runs ------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _unit_vectors() -> bytes:
    import numpy as np

    from course_lib.embeddings import get_embedder
    from course_lib.labs.baselines import retrieval_units

    vectors = get_embedder().embed([unit.text for unit in retrieval_units()])
    return bytes(np.asarray(vectors, dtype=np.float32).tobytes())


def _index_bytes(method: str) -> bytes:
    from course_lib.labs.baselines import retrieval_units

    corpus = json.dumps([u.text for u in retrieval_units()], ensure_ascii=False).encode()
    if method == "bm25":
        return corpus
    if method == "dense":
        return _unit_vectors()
    return corpus + _unit_vectors()


def _fused(first: list[list[Any]], second: list[list[Any]], depth: int) -> list[list[Any]]:
    """Reciprocal rank fusion (k = 60) of two rankings per query, ties by first appearance."""
    fused = []
    for left, right in zip(first, second, strict=True):
        scores: dict[Any, float] = {}
        for ranking in (left, right):
            for position, unit in enumerate(ranking, start=1):
                scores[unit] = scores.get(unit, 0.0) + 1.0 / (60 + position)
        fused.append(sorted(scores, key=lambda u: -scores[u])[:depth])
    return fused


@lru_cache(maxsize=4)
def _rankings(method: str, texts: tuple[str, ...]) -> list[list[Any]]:
    """The baseline rankings, kept: the hybrid run reuses the BM25 and dense runs' work, and
    the dense ranking reuses the unit vectors the dense index stores."""
    import numpy as np

    from course_lib.embeddings import get_embedder, top_k
    from course_lib.labs.baselines import DEPTH, rankings, retrieval_units

    if method != "dense":
        return list(rankings(method, list(texts)))
    units = retrieval_units()
    matrix = np.frombuffer(_unit_vectors(), dtype=np.float32).reshape(len(units), -1)
    indices, _ = top_k(get_embedder().embed(list(texts)), matrix, DEPTH)
    return [[units[int(i)] for i in row] for row in indices]


def evaluation_run(method: str, split: str = "dev") -> tuple[bytes, pd.DataFrame]:
    """One retrieval evaluation on the golden ``split``: the index's bytes and a row per
    answerable question (``question_id``, ``team`` of its first source document, ``type``,
    ``recall`` at 5, ``rr`` the reciprocal rank within 10)."""
    import pandas as pd

    from course_lib.datasets import load_golden_set, load_handbook
    from course_lib.evaluation import unit_recall_at_k, unit_reciprocal_rank

    if method not in EVALUATION_METHODS:
        raise StorageLabError(f"Unknown method {method!r}; choose one of {EVALUATION_METHODS}.")
    questions = [q for q in load_golden_set(split) if q.answerable]
    texts = [q.question for q in questions]
    if method == "hybrid":
        ranked = _fused(_rankings("bm25", tuple(texts)), _rankings("dense", tuple(texts)), 10)
    else:
        ranked = _rankings(method, tuple(texts))
    teams = {doc.id: doc.team for doc in load_handbook("current")}
    rows = []
    for question, units in zip(questions, ranked, strict=True):
        doc_ids = [unit.doc_id for unit in units]
        rows.append(
            {
                "question_id": question.id,
                "team": teams.get(question.doc_ids[0], "unknown"),
                "type": question.type,
                "recall": unit_recall_at_k(doc_ids, question.doc_ids, 5),
                "rr": round(unit_reciprocal_rank(doc_ids, question.doc_ids, 10), 4),
            }
        )
    return _index_bytes(method), pd.DataFrame(rows)


# --- the traffic and its truth --------------------------------------------------------------

_PREFIXES = ("hi, ", "quick question: ", "hey - ", "sorry if this is obvious, ")
_SUFFIXES = (" thanks", " thx", " (asking for a new joiner)")


def _variant_forms(text: str) -> list[tuple[str, str]]:
    """The ways the traffic varies ``text``, named, in the order ``variant_examples`` tries."""
    lowered = text[0].lower() + text[1:]
    return [
        ("as written", text),
        ("first letter in lower case", lowered),
        ("no question mark", text.rstrip("?")),
        *((f"greeting {p!r} in front", p + lowered) for p in _PREFIXES),
        *((f"{s.strip()!r} behind", text + s) for s in _SUFFIXES),
        ("lower case, no question mark", text.lower().rstrip("?")),
    ]


def variant_examples(rows: pd.DataFrame) -> pd.DataFrame:
    """One example of each way the requests vary their pool question, with how many requests
    were varied that way: what a cache key must make equal."""
    import pandas as pd

    kinds: dict[str, list[Any]] = {}
    for text, pool in zip(rows["question"], rows["pool"], strict=True):
        kind = next((k for k, form in _variant_forms(pool) if form == text), "other")
        found = kinds.setdefault(kind, [0, text])
        found[0] += 1
    order = [k for k, _ in _variant_forms("A?")] + ["other"]
    frame = pd.DataFrame(
        [(k, *kinds[k]) for k in order if k in kinds], columns=["variant", "requests", "example"]
    )
    return frame.set_index("variant")


def _variants(text: str) -> set[str]:
    """Every text the traffic's light variation can make of ``text`` (see ``traffic.vary``)."""
    from course_lib.datasets.traffic.questions import search_query

    lowered = text[0].lower() + text[1:]
    found = {text, lowered, text.rstrip("?"), text.lower().rstrip("?"), search_query(text)}
    found.update(prefix + lowered for prefix in _PREFIXES)
    found.update(text + suffix for suffix in _SUFFIXES)
    return found


@lru_cache(maxsize=1)
def _pool_of_texts() -> dict[str, str]:
    from course_lib.datasets.traffic.questions import load_traffic_questions

    owners: dict[str, set[str]] = {}
    for questions in load_traffic_questions().values():
        for question in questions:
            for text in _variants(question):
                owners.setdefault(text, set()).add(question)
    # A text two pool questions can produce has no single truth: leave it out.
    return {text: next(iter(pool)) for text, pool in owners.items() if len(pool) == 1}


_SEALED = [False]


@contextmanager
def sealed_truth() -> Iterator[None]:
    """While open, :func:`pool_question` refuses to answer: a checker measures a guard this
    way, because a cache in production has no labels to read."""
    _SEALED[0] = True
    try:
        yield
    finally:
        _SEALED[0] = False


def pool_question(text: str) -> str:
    """The pool question a traffic text was made from.

    Raises:
        StorageLabError: ``text`` is not a variant of exactly one pool question, or the truth
            is sealed (:func:`sealed_truth`) while a guard is measured.
    """
    if _SEALED[0]:
        raise StorageLabError(
            "pool_question is the truth the checker grades with; a cache in production has no "
            "labels, so a guard may read only the two texts and their similarity."
        )
    found = _pool_of_texts().get(text)
    if found is None:
        raise StorageLabError(
            f"{text[:60]!r} is not a variant of exactly one question of the traffic's pool; "
            "pass the `question` of a row of load_traffic() or generate_traffic()."
        )
    return found


def cache_requests(
    traffic: pd.DataFrame | None = None, *, days: Sequence[str] | None = None
) -> pd.DataFrame:
    """The requests the caches see: the ``ask`` rows in time order, with ``day`` (Mon...),
    ``pool`` (the question each came from) and ``scope`` (model/prompt version/team)."""
    from course_lib.datasets import load_traffic

    frame = load_traffic() if traffic is None else traffic
    rows = frame[frame["feature"] == CACHED_FEATURE].sort_values("timestamp", kind="stable")
    rows = rows[["request_id", "timestamp", "team", "model", "prompt_version", "question"]].join(
        frame[["cost_usd", "outcome"]]
    )
    rows.insert(1, "day", rows["timestamp"].dt.strftime("%a"))
    rows["pool"] = [pool_question(text) for text in rows["question"]]
    rows["scope"] = rows["model"] + "/" + rows["prompt_version"] + "/" + rows["team"]
    if days is not None:
        unknown = sorted(set(days) - {*TUNING_DAYS, *HELD_OUT_DAYS})
        if unknown:
            raise StorageLabError(
                f"Unknown day(s) {unknown}; name days as Mon, Tue, Wed, Thu, Fri, Sat, Sun."
            )
        rows = rows[rows["day"].isin(list(days))]
    return rows.reset_index(drop=True)


def _keys(rows: pd.DataFrame, key: Callable[[str], str] | None, scoped: bool) -> list[str]:
    texts = list(rows["question"]) if key is None else [key(t) for t in rows["question"]]
    scopes = list(rows["scope"]) if scoped else ["all"] * len(rows)
    return [f"{scope}\n{text}" for scope, text in zip(scopes, texts, strict=True)]


def exact_hits(
    rows: pd.DataFrame, key: Callable[[str], str] | None = None, *, scoped: bool = True
) -> pd.DataFrame:
    """Which requests an exact cache serves (``hit``), and which of those get the answer of
    another pool question (``false_hit``): the same key (the text, or ``key(text)``) in the
    same scope was answered before. Only ``ok`` answers are stored; an error is never served."""
    import pandas as pd

    stored: dict[str, str] = {}
    hits, false = [], []
    for full, outcome, pool in zip(
        _keys(rows, key, scoped), rows["outcome"], rows["pool"], strict=True
    ):
        served = stored.get(full)
        hits.append(served is not None)
        false.append(served is not None and served != pool)
        if served is None and outcome == "ok":
            stored[full] = pool
    return pd.DataFrame({"hit": hits, "false_hit": false}, index=rows.index)


def nearest_earlier(
    rows: pd.DataFrame, key: Callable[[str], str] | None = None, *, scoped: bool = True
) -> pd.DataFrame:
    """For each request, the most similar text answered before in its scope, as
    ``SemanticCache.nearest`` would find it: ``similarity``, the ``match``'s pool question and
    ``match_text``, the stored text itself (what a guard on the cache's hits gets to read).

    One pass serves every threshold: the cache here holds every text answered ``ok`` so far,
    hits included (a real cache at one threshold stores only its misses, so it finds a little
    less; the lesson runs the real one too). ``similarity`` is -1 when the scope is empty.
    """
    import numpy as np
    import pandas as pd

    from course_lib.embeddings import cosine_similarity, get_embedder

    texts = list(rows["question"]) if key is None else [key(t) for t in rows["question"]]
    if any(not t.strip() for t in texts):
        raise StorageLabError("key() made an empty text; a semantic cache needs text to embed.")
    unique = sorted(set(texts))
    position = {text: i for i, text in enumerate(unique)}
    vectors = np.asarray(get_embedder().embed(unique), dtype=np.float32)
    scores = cosine_similarity(vectors, vectors)
    scopes = list(rows["scope"]) if scoped else ["all"] * len(rows)
    stored: dict[str, list[int]] = {}
    pool_of: dict[tuple[str, int], str] = {}
    similarity, match, match_text = [], [], []
    for text, scope, outcome, pool in zip(
        texts, scopes, rows["outcome"], rows["pool"], strict=True
    ):
        me, held = position[text], stored.setdefault(scope, [])
        if held:
            row = scores[me, held]
            best = int(np.argmax(row))  # the first of equal scores: the oldest, as the cache
            similarity.append(float(row[best]))
            match.append(pool_of[(scope, held[best])])
            match_text.append(unique[held[best]])
        else:
            similarity.append(-1.0)
            match.append("")
            match_text.append("")
        if outcome == "ok" and (scope, me) not in pool_of:
            held.append(me)
            pool_of[(scope, me)] = pool
    return pd.DataFrame(
        {"similarity": similarity, "match": match, "match_text": match_text}, index=rows.index
    )


def sweep_thresholds(
    rows: pd.DataFrame, nearest: pd.DataFrame, thresholds: Iterable[float] = THRESHOLDS
) -> pd.DataFrame:
    """Hit rate, cost saved and false-hit rate of a semantic cache at each threshold.

    ``rows`` may be a subset of the rows ``nearest`` was computed on (e.g. the held-out days).
    ``false_hit_rate`` is false hits per hit: of the answers the cache served, the share that
    answered another pool question. ``saved_share`` is the cost saved over the rows' cost.
    """
    import pandas as pd

    if not rows.index.isin(nearest.index).all():
        raise StorageLabError(
            "Some rows have no nearest match: compute nearest_earlier() on these rows, or on "
            "the frame they were taken from, and keep its index."
        )
    near = nearest.loc[rows.index]
    wrong = near["match"] != rows["pool"]
    total = float(rows["cost_usd"].sum())
    out = []
    for threshold in thresholds:
        hit = near["similarity"] >= threshold
        hits, false = int(hit.sum()), int((hit & wrong).sum())
        saved = float(rows.loc[hit, "cost_usd"].sum())
        out.append(
            {
                "threshold": float(threshold),
                "hits": hits,
                "hit_rate": hits / len(rows) if len(rows) else 0.0,
                "cost_saved": saved,
                "saved_share": saved / total if total else 0.0,
                "false_hits": false,
                "false_hit_rate": false / hits if hits else 0.0,
            }
        )
    return pd.DataFrame(out)


def guard_hits(
    rows: pd.DataFrame, nearest: pd.DataFrame, serve: Callable[[str, str, float], Any]
) -> pd.DataFrame:
    """Which requests a semantic cache serves when ``serve(question, cached, similarity)``
    decides on its nearest match (``hit``), and which of those are false (``false_hit``).

    ``cached`` is the stored question the cache found (``SemanticHit.question``). A request
    with nothing stored in its scope is a miss whatever ``serve`` says.

    Raises:
        StorageLabError: ``serve`` returned something other than True or False.
    """
    import pandas as pd

    near = nearest.loc[rows.index]
    hits = []
    for question, cached, similarity in zip(
        rows["question"], near["match_text"], near["similarity"], strict=True
    ):
        if similarity < -0.5:
            hits.append(False)
            continue
        verdict = serve(question, cached, float(similarity))
        if not isinstance(verdict, bool) and type(verdict).__name__ != "bool_":
            raise StorageLabError(
                f"serve({question[:40]!r}, {cached[:40]!r}, {similarity:.3f}) returned "
                f"{type(verdict).__name__}; return True (serve the cached answer) or False."
            )
        hits.append(bool(verdict))
    hit = pd.Series(hits, index=rows.index, dtype=bool)
    return pd.DataFrame({"hit": hit, "false_hit": hit & (near["match"] != rows["pool"])})


_FILLER_WORDS = (
    "a an the i do does is are what how who when where which can my for of to in on at be "
    "with and or if hi hey quick question sorry this obvious thanks thx asking new joiner"
)
_FILLER = frozenset(_FILLER_WORDS.split())

LESSON_PHRASINGS: tuple[Callable[[str], str], ...] = (
    lambda text: "hello, " + text[0].lower() + text[1:],
    lambda text: text + " cheers",
    lambda text: text.rstrip("?") + "!!",
)
"""New ways to ask a pool question that the week of traffic never uses."""


def content_words(text: str) -> set[str]:
    """The words of ``text`` that carry its meaning: lower case, without the filler words
    (articles, question words, the greetings and thank-yous the traffic adds)."""
    import re

    return {word for word in re.findall(r"[a-z0-9]+", text.lower()) if word not in _FILLER}


def rephrased_pairs(
    phrasings: Sequence[Callable[[str], str]] = LESSON_PHRASINGS,
) -> pd.DataFrame:
    """Each pool question asked in a way the traffic never uses (the ``phrasings`` in turn),
    beside the question as stored: ``question``, ``cached`` and their cosine ``similarity``.

    An exact cache, even on a normalised key, serves none of them; a semantic cache should
    serve them all: they measure what the semantic layer adds beyond the exact key."""
    import numpy as np
    import pandas as pd

    from course_lib.datasets.traffic.questions import load_traffic_questions
    from course_lib.embeddings import get_embedder

    if not phrasings:
        raise StorageLabError("Pass at least one phrasing: a function from a question to text.")
    pool = sorted({q for questions in load_traffic_questions().values() for q in questions})
    asked = [phrasings[i % len(phrasings)](q) for i, q in enumerate(pool)]
    embedder = get_embedder()
    left = np.asarray(embedder.embed(asked), dtype=np.float64)
    right = np.asarray(embedder.embed(pool), dtype=np.float64)
    left /= np.linalg.norm(left, axis=1, keepdims=True)
    right /= np.linalg.norm(right, axis=1, keepdims=True)
    similarity = np.round((left * right).sum(axis=1), 6)
    return pd.DataFrame({"question": asked, "cached": pool, "similarity": similarity})


@dataclass(frozen=True)
class GuardReport:
    """A guarded semantic cache on some requests, beside the best threshold used alone."""

    requests: int
    hits: int
    false_hits: int
    saved_share: float
    best_threshold: float
    best_hits: int

    @property
    def target(self) -> int:
        """Hits needed: the best lone threshold's, plus :data:`GUARD_MARGIN` of requests."""
        return self.best_hits + math.ceil(GUARD_MARGIN * self.requests)

    @property
    def passes(self) -> bool:
        """False hits within :data:`GUARD_FALSE_LIMIT` of served answers, and the target met."""
        safe = self.false_hits <= GUARD_FALSE_LIMIT * max(self.hits, 1)
        return safe and self.hits >= self.target

    def lines(self) -> list[str]:
        """The report as printable lines (the same on every machine)."""
        served = self.false_hits / max(self.hits, 1)
        return [
            f"served {self.hits / self.requests:.1%} of {self.requests:,} requests "
            f"(target {self.target / self.requests:.1%}), false hits {self.false_hits} "
            f"= {served:.2%} of served (limit {GUARD_FALSE_LIMIT:.1%}), "
            f"cost saved {self.saved_share:.1%}",
            f"best threshold alone within the limit: {self.best_threshold:.3f}, serving "
            f"{self.best_hits / self.requests:.1%}",
        ]


def guard_report(
    rows: pd.DataFrame, nearest: pd.DataFrame, serve: Callable[[str, str, float], Any]
) -> GuardReport:
    """Measures ``serve`` on ``rows`` (see :func:`guard_hits`), and the threshold that serves
    most within :data:`GUARD_FALSE_LIMIT` when used alone, chosen with hindsight on ``rows``:
    the bar a guard has to clear by :data:`GUARD_MARGIN`."""
    found = guard_hits(rows, nearest, serve)
    grid = sweep_thresholds(rows, nearest, [round(0.70 + 0.005 * i, 3) for i in range(60)])
    safe = grid[grid["false_hits"] <= GUARD_FALSE_LIMIT * grid["hits"].clip(lower=1)]
    best = safe.loc[safe["hits"].idxmax()] if len(safe) else grid.iloc[-1]
    total = float(rows["cost_usd"].sum())
    saved = float(rows.loc[found["hit"], "cost_usd"].sum())
    return GuardReport(
        requests=len(rows),
        hits=int(found["hit"].sum()),
        false_hits=int(found["false_hit"].sum()),
        saved_share=saved / total if total else 0.0,
        best_threshold=float(best["threshold"]),
        best_hits=int(best["hits"]),
    )


def plot_threshold_sweep(
    sweep: pd.DataFrame, *, limit: float = FALSE_HIT_LIMIT, title: str = ""
) -> Figure:
    """Hit rate, share of cost saved and false-hit rate against the threshold."""
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
    x = sweep["threshold"]
    left.plot(x, 100 * sweep["hit_rate"], marker="o", label="hit rate")
    left.plot(x, 100 * sweep["saved_share"], marker=".", label="cost saved")
    left.set_ylabel("% of requests / of cost")
    right.plot(x, 100 * sweep["false_hit_rate"], marker="o", color="C3", label="false hits")
    right.axhline(100 * limit, color="grey", linestyle="--", label=f"{100 * limit:g}% limit")
    right.set_ylabel("% of served answers")
    for axes in (left, right):
        axes.set_xlabel("similarity threshold")
        axes.grid(alpha=0.3)
        axes.legend()
    figure.suptitle(title or "A semantic cache on the week of traffic")
    figure.tight_layout()
    plt.close(figure)
    return figure


# --- the production caches, replayed --------------------------------------------------------


class ReplayClock:
    """A virtual clock set to each request's time, so expiry follows the traffic, not the
    machine."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@dataclass(frozen=True)
class CacheReplay:
    """What the production caches did on a run of requests."""

    requests: int
    exact_hits: int
    semantic_hits: int
    false_hits: int
    model_calls: int
    cost_saved: float
    cost: float

    def lines(self) -> list[str]:
        """The summary as lines that are the same on every store."""
        served = self.exact_hits + self.semantic_hits
        return [
            f"requests {self.requests}: exact hits {self.exact_hits}, semantic hits "
            f"{self.semantic_hits}, model calls {self.model_calls}",
            f"cost saved {100 * self.cost_saved / self.cost:.1f}% of the requests' cost; "
            f"false hits {self.false_hits} of {served} served",
        ]


def replay_through_caches(
    rows: pd.DataFrame,
    exact: ExactCache,
    semantic: SemanticCache,
    key: Callable[[str], str] | None = None,
    *,
    clock: ReplayClock | None = None,
    serve: Callable[[str, str, float], bool] | None = None,
) -> CacheReplay:
    """Sends ``rows`` through ``exact`` then ``semantic``, as a service would: a miss calls the
    model (here: the row's logged cost and outcome), and an ``ok`` answer is stored in both.
    The exact cache keys on ``key(text)`` (the text itself by default); the semantic cache
    embeds the text as asked and, given ``serve(question, cached, similarity)``, serves its
    nearest match only when ``serve`` says so (the threshold is then ``serve``'s business).
    The stored answer carries the pool question it answers, so a false hit can be counted."""
    key = key or (lambda text: text)
    exact_count = semantic_count = false = calls = 0
    saved = 0.0
    for row in rows.itertuples(index=False):
        if clock is not None:
            clock.now = row.timestamp.timestamp()
        text = row.question
        request = {"scope": row.scope, "question": key(text)}
        served = exact.get(request)
        if served is not None:
            exact_count += 1
        else:
            if serve is None:
                hit = semantic.lookup(text, scope=row.scope)
            else:
                hit = semantic.nearest(text, scope=row.scope)
                if hit is not None and not serve(text, hit.question, hit.similarity):
                    hit = None
            served = hit.value if hit is not None else None
            semantic_count += hit is not None
        if served is not None:
            saved += row.cost_usd
            false += served["answers"] != row.pool
            continue
        calls += 1
        if row.outcome == "ok":
            answer = {"answers": row.pool, "request_id": row.request_id}
            exact.put(request, answer)
            semantic.put(text, answer, scope=row.scope)
    cost = float(rows["cost_usd"].sum())
    return CacheReplay(len(rows), exact_count, semantic_count, false, calls, saved, cost)
