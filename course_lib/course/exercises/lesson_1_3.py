"""Checkers of lesson 1.3, "Embeddings"."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from course_lib.course.checking import NotYet, Probe, exercise

SOLUTION = "solutions/1_ai_capabilities/13_embeddings.ipynb"


# --- 1.3.1 top-k with stable ties ----------------------------------------------------------


def top_k_indices(scores: Sequence[float], k: int) -> list[int]:
    """Indices of the ``k`` highest scores, best first, equal scores by lower index."""
    import numpy as np

    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")
    return [int(i) for i in order[: max(k, 0)]]


def _top_k_cases() -> list[tuple[str, Any, int]]:
    import numpy as np

    rng = np.random.default_rng(1332)
    overlaps = [rng.integers(0, 4, size=n) for n in (300, 1000)]  # word counts: many ties
    return [
        ("distinct scores", [0.1, 0.9, 0.4, 0.7], 2),
        ("a tie at the cut", [0.5, 0.9, 0.5, 0.5], 2),
        ("all scores equal", [0.3, 0.3, 0.3, 0.3, 0.3], 3),
        ("negative scores", [-0.5, -0.1, -0.9], 2),
        ("more wanted than there are scores", [0.2, 0.8], 5),
        ("k = 0", [0.2, 0.8, 0.5], 0),
        ("a numpy float32 array", np.array([0.25, 0.75, 0.5, 0.75], dtype=np.float32), 3),
        ("300 word-overlap counts, full of ties", overlaps[0], 25),
        ("1000 word-overlap counts, full of ties", [int(x) for x in overlaps[1]], 40),
    ]


@exercise(
    "1.3.1",
    title="Top-k with stable ties",
    answer_name="top_k_indices",
    reference=top_k_indices,
    solution=SOLUTION,
    hints=(
        "Sort the indices 0..n-1 by their score, highest first, and keep the first k. Return "
        "positions (indices), not the scores themselves.",
        "Equal scores must keep their original order (lower index first): that is what a "
        "stable sort does. np.argsort's default is not stable, and reversing an ascending "
        "argsort with [::-1] puts equal scores in the wrong order.",
        "Negate the scores, so that an ascending sort puts the highest first, and ask "
        "np.argsort for kind='stable'. Keep the first k and convert each to int.",
    ),
)
def _check_top_k_indices(answer: Any, probe: Probe) -> str:
    import numpy as np

    for what, scores, k in _top_k_cases():
        expected = top_k_indices(scores, k)
        call = f"top_k_indices on {what} (k={k})"
        given = scores.copy() if isinstance(scores, np.ndarray) else list(scores)
        got = probe.call_as(call, answer, given, k)
        if got is None:
            raise NotYet(f"{call} returned None; did you forget a `return`?")
        if isinstance(got, np.ndarray):
            raise NotYet(
                f"{call} returned a numpy array; return a list of ints, as asked (convert each "
                "position with int())."
            )
        if isinstance(got, (str, bytes)) or not isinstance(got, (list, tuple)):
            raise NotYet(f"{call} returned a {type(got).__name__}; return a list of indices.")
        items = list(got)
        for item in items:
            if isinstance(item, (bool, np.bool_)) or not isinstance(item, (int, np.integer)):
                raise NotYet(
                    f"{call} returned {item!r} among its items; return positions (whole "
                    "numbers), not scores."
                )
        got_list = [int(i) for i in items]
        if got_list == expected:
            continue
        if sorted(got_list) == sorted(expected):
            raise NotYet(
                f"{call} returned the right indices in the wrong order: {_short(got_list)}, "
                f"expected {_short(expected)} (best first, equal scores by lower index)."
            )
        tied = len(set(np.asarray(scores).tolist())) < len(scores)
        why = " (best first; equal scores keep the lower index first)" if tied else ""
        raise NotYet(f"{call} returned {_short(got_list)}, expected {_short(expected)}{why}.")
    return "top_k_indices ranks every hidden case right, ties included."


def _short(values: list[int], limit: int = 8) -> str:
    if len(values) <= limit:
        return repr(values)
    return "[" + ", ".join(str(v) for v in values[:limit]) + f", ... ({len(values)} items)]"


# --- 1.3.2 (open-ended) a hybrid retriever, measured on the test split ---------------------


def build_retriever(units: Sequence[Any]) -> Any:
    """The course's answer: BM25 and the embedder mixed, the embedder weighing 0.7 (tuned on
    the dev split only)."""
    from course_lib.labs.hybrid_lab import HybridRetriever

    return HybridRetriever([unit.text for unit in units], weight=0.7)


@lru_cache(maxsize=1)
def _golden_splits() -> dict[str, list[Any]]:
    from course_lib.datasets import load_golden_set

    return {s: [q for q in load_golden_set(s) if q.answerable] for s in ("dev", "test")}


def _recall_on(retriever: Any, questions: list[Any], units: Sequence[Any], probe: Probe) -> float:
    """Recall@5 over the documents of the top 5 sections, validating every ranking."""
    from course_lib.evaluation import unit_recall_at_k

    total, rankings = 0.0, set()
    for question in questions:
        call = f"search({question.question[:50]!r}...)"
        got = probe.call_as(call, retriever.search, question.question, 5)
        if isinstance(got, (str, bytes)) or not isinstance(got, (list, tuple)):
            raise NotYet(f"{call} returned {type(got).__name__}; return a list of section indices.")
        top = list(got)[:5]
        for item in top:
            if isinstance(item, bool) or not isinstance(item, int) or not 0 <= item < len(units):
                raise NotYet(
                    f"{call} returned {item!r}; return section indices, whole numbers from 0 "
                    f"to {len(units) - 1}."
                )
        rankings.add(tuple(top))
        total += unit_recall_at_k([units[i].doc_id for i in top], question.doc_ids, 5)
    if len(rankings) == 1:
        raise NotYet("your retriever returns the same sections for every question: rank by it.")
    return total / len(questions)


@exercise(
    "1.3.2",
    title="A retriever that beats both, checked on the test split",
    answer_name="build_retriever",
    reference=build_retriever,
    solution=SOLUTION,
    time_limit=120.0,
    hints=(
        "Section 4 showed the two retrievers fail on different questions. HybridRetriever mixes "
        "their scores: weight=0 is BM25 alone, weight=1 the embedder alone. Try the weights in "
        "between on the dev split and print each one's recall@5.",
        "Choose the weight on dev only, and prefer a weight in the middle of a plateau of good "
        "ones to the single best: a lone peak on dev is often noise that test does not share.",
        "A unit has doc_id, heading and text (the text starts with the document's title). "
        "Sweep the weight from 0 to 1 in steps of 0.1 on dev; the best range there is wide "
        "enough to choose its middle, with the units as they are.",
    ),
)
def _check_build_retriever(answer: Any, probe: Probe) -> str:
    from course_lib.labs.baselines import retrieval_units
    from course_lib.labs.embedding_benchmark import Retriever
    from course_lib.labs.hybrid_lab import HYBRID_TARGET, sealed_golden_set

    if not callable(answer):
        raise NotYet("build_retriever should be a function build_retriever(units) -> retriever.")
    splits = _golden_splits()
    units = retrieval_units()
    with sealed_golden_set():
        retriever = probe.call_as("build_retriever(the handbook's sections)", answer, units)
        if retriever is None:
            raise NotYet("build_retriever returned None; did you forget a `return`?")
        if not callable(getattr(retriever, "search", None)):
            raise NotYet(
                f"build_retriever returned a {type(retriever).__name__}, which has no "
                "search(question, depth) method; return a retriever such as HybridRetriever."
            )
        if not isinstance(retriever, Retriever):
            raise NotYet(
                f"build_retriever returned a {type(retriever).__name__} without the methods "
                "the lesson's tables use (name, kind, licence, search_many, footprint); return "
                "a HybridRetriever, or wrap your own ranking in one."
            )
        test = _recall_on(retriever, splits["test"], units, probe)
        dev = _recall_on(retriever, splits["dev"], units, probe)
    # Only pass or fail on test: printing its score would let a learner tune on it.
    line = f"recall@5 on dev {dev:.3f}"
    if test < HYBRID_TARGET:
        why = (
            "a setting that does well on dev does not always carry over: try the settings "
            "around yours on dev and choose one in the middle of the best range"
            if dev >= HYBRID_TARGET
            else "it is below the target on dev too: sweep your setting on dev (hint 1) first"
        )
        raise NotYet(
            f"{line}; on the test split it falls short of the target {HYBRID_TARGET:.2f}: "
            f"not yet; {why}."
        )
    return (
        f"{line}; on the test split, which you did not tune on, it reaches the target "
        f"{HYBRID_TARGET:.2f}."
    )


# --- 1.3.3 choose a model on evidence ------------------------------------------------------


def choose_model(
    rows: Sequence[Mapping[str, Any]],
    max_latency_ms: float,
    max_kib_per_1000: float,
    licences: Sequence[str],
) -> str | None:
    """The name of the best row that meets every constraint, or None.

    A row qualifies when ``latency_ms <= max_latency_ms``, ``kib_per_1000 <= max_kib_per_1000``
    and its ``licence`` is in ``licences``. The best has the highest ``recall_at_5``, then the
    highest ``mrr``, then the lowest ``latency_ms``; a full tie goes to the earlier row.
    """
    allowed = [
        (index, row)
        for index, row in enumerate(rows)
        if row["latency_ms"] <= max_latency_ms
        and row["kib_per_1000"] <= max_kib_per_1000
        and row["licence"] in licences
    ]
    if not allowed:
        return None
    _, best = min(
        allowed,
        key=lambda pair: (-pair[1]["recall_at_5"], -pair[1]["mrr"], pair[1]["latency_ms"], pair[0]),
    )
    return str(best["name"])


def _row(
    name: str, recall: float, mrr: float, latency: float, kib: float, licence: str = "MIT"
) -> dict[str, Any]:
    return {
        "name": name,
        "recall_at_5": recall,
        "mrr": mrr,
        "latency_ms": latency,
        "kib_per_1000": kib,
        "licence": licence,
    }


_TABLE = [
    _row("sparse", 0.71, 0.62, 0.4, 480.0, "MIT"),
    _row("small-dense", 0.74, 0.66, 0.9, 1000.0, "MIT"),
    _row("large-dense", 0.86, 0.77, 35.0, 1500.0, "Apache-2.0"),
    _row("api-dense", 0.88, 0.79, 180.0, 6000.0, "proprietary"),
]
_PERMISSIVE = ("MIT", "Apache-2.0", "BSD-3-Clause")

_ANY_LICENCE = (*_PERMISSIVE, "proprietary")
_Case = tuple[str, list[dict[str, Any]], float, float, tuple[str, ...], Any, str]

# (the hidden table, rows, max_latency_ms, max_kib_per_1000, licences, expected, why)
_CHOOSE_CASES: list[_Case] = [
    ("loose limits", _TABLE, 500, 10_000, _ANY_LICENCE, "api-dense", "the best recall wins"),
    (
        "permissive licences only",
        _TABLE,
        500,
        10_000,
        _PERMISSIVE,
        "large-dense",
        "a licence outside the allowed ones rules a row out",
    ),
    (
        "a 10 ms latency limit",
        _TABLE,
        10,
        10_000,
        _PERMISSIVE,
        "small-dense",
        "a row slower than the limit is out",
    ),
    (
        "a 500 KiB memory limit",
        _TABLE,
        500,
        500,
        _PERMISSIVE,
        "sparse",
        "a row bigger than the limit is out",
    ),
    (
        "limits exactly equal to a row's values",
        _TABLE,
        35,
        1500,
        _PERMISSIVE,
        "large-dense",
        "a limit is a maximum: a value equal to it is allowed",
    ),
    (
        "limits nothing meets",
        _TABLE,
        0.1,
        10_000,
        _PERMISSIVE,
        None,
        "with no row left, the answer is None",
    ),
    (
        "MIT only and 999 KiB",
        _TABLE,
        500,
        999,
        ("MIT",),
        "sparse",
        "every limit applies at once",
    ),
    (
        "two rows of equal recall",
        [_row("first", 0.8, 0.60, 1.0, 100.0), _row("second", 0.8, 0.70, 2.0, 100.0)],
        10,
        1000,
        ("MIT",),
        "second",
        "on equal recall, the higher MRR wins",
    ),
    (
        "two rows of equal recall and MRR",
        [_row("slow", 0.8, 0.7, 9.0, 100.0), _row("fast", 0.8, 0.7, 3.0, 100.0)],
        10,
        1000,
        ("MIT",),
        "fast",
        "on equal recall and MRR, the faster row wins",
    ),
    (
        "two rows equal in everything",
        [_row("earlier", 0.8, 0.7, 3.0, 100.0), _row("later", 0.8, 0.7, 3.0, 100.0)],
        10,
        1000,
        ("MIT",),
        "earlier",
        "on a full tie, the earlier row wins",
    ),
    ("an empty table", [], 10, 1000, ("MIT",), None, "with no row at all, the answer is None"),
]


@exercise(
    "1.3.3",
    title="Choose a model from a table",
    answer_name="choose_model",
    reference=choose_model,
    solution=SOLUTION,
    hints=(
        "Two steps: first keep the rows that meet every limit (latency, memory, licence), then "
        "pick the best of those. Return the row's name, or None when no row is left.",
        "A limit is a maximum: a value equal to it is allowed (<=, not <). The licence must be "
        "one of the allowed ones.",
        "Pick the best with min() and a key tuple: negate what should be highest (recall, "
        "MRR), keep what should be lowest (latency). min keeps the earlier row on a full tie.",
    ),
)
def _check_choose_model(answer: Any, probe: Probe) -> str:
    import copy

    for what, rows, latency, kib, licences, expected, why in _CHOOSE_CASES:
        call = f"choose_model on {what}"
        got = probe.call_as(call, answer, copy.deepcopy(rows), latency, kib, licences)
        if isinstance(got, Mapping):
            raise NotYet(f"{call} returned a whole row; return its name (row['name']).")
        if got is not None and not isinstance(got, str):
            raise NotYet(
                f"{call} returned a {type(got).__name__} ({got!r}); return a name or None."
            )
        if got != expected:
            raise NotYet(f"{call} returned {got!r}, expected {expected!r} ({why}).")
    return f"choose_model picks right on all {len(_CHOOSE_CASES)} hidden tables."
