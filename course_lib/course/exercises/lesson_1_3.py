"""Checkers of lesson 1.3, "Embeddings"."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from course_lib.course.checking import NotYet, Probe, exercise

SOLUTION = "solutions/1_ai_capabilities/13_embeddings.ipynb"


# --- 1.3.1 cosine similarity from scratch --------------------------------------------------


def cosine_scores(query: Any, matrix: Any) -> Any:
    """Cosine similarity of ``query`` (d,) with every row of ``matrix`` (n, d): shape (n,).

    The course's answer is the library's own function; a zero vector scores 0.
    """
    from course_lib.embeddings import cosine_similarity

    return cosine_similarity(query, matrix)


def _cosine_cases() -> list[tuple[str, Any, Any]]:
    """(what the case tests, query, matrix): vectors the learner has not seen."""
    import numpy as np

    rng = np.random.default_rng(1303)
    scaled = rng.standard_normal((5, 6)) * np.array([[0.01], [1.0], [7.0], [300.0], [2.5]])
    embedding_like = rng.standard_normal((8, 256)).astype(np.float32)
    return [
        ("unnormalised vectors of different lengths", rng.standard_normal(6) * 40, scaled),
        (
            "a very long query (cosine ignores length: 1000 * q scores like q)",
            1000 * rng.standard_normal(6),
            rng.standard_normal((4, 6)),
        ),
        (
            "opposite, orthogonal and diagonal rows",
            np.array([1.0, 0.0]),
            np.array([[-2.0, 0.0], [0.0, 3.0], [5.0, 5.0]]),
        ),
        (
            "a zero row (the embedding of an empty text)",
            np.array([0.5, -1.0, 2.0]),
            np.array([[1.0, 1.0, 1.0], [0.0, 0.0, 0.0], [-0.5, 1.0, -2.0]]),
        ),
        (
            "a zero query",
            np.zeros(4),
            rng.standard_normal((3, 4)),
        ),
        (
            "integer vectors",
            np.array([1, 2, 2]),
            np.array([[2, 4, 4], [0, 0, 1], [-1, 0, 0]]),
        ),
        ("a matrix of one row", np.array([3.0, 4.0]), np.array([[4.0, 3.0]])),
        ("float32 embeddings of 256 dimensions", embedding_like[0], embedding_like[1:]),
    ]


@exercise(
    "1.3.1",
    title="Cosine similarity from scratch",
    answer_name="cosine_scores",
    reference=cosine_scores,
    solution=SOLUTION,
    hints=(
        "Cosine similarity is the dot product of the two vectors divided by the product of their "
        "lengths. np.linalg.norm gives a length; matrix @ query gives every row's dot product "
        "with the query at once.",
        "Take the row lengths with np.linalg.norm(matrix, axis=1) (one per row), not "
        "np.linalg.norm(matrix), which is one number for the whole matrix.",
        "Divide by (row lengths * query length) only where that product is above 0, and leave "
        "0 elsewhere: np.divide(dots, lengths, out=np.zeros(len(dots)), where=lengths > 0).",
    ),
)
def _check_cosine_scores(answer: Any, probe: Probe) -> str:
    import numpy as np

    for what, query, matrix in _cosine_cases():
        expected = np.asarray(cosine_scores(query, matrix), dtype=np.float64)
        call = f"cosine_scores on {what}"
        got = probe.call_as(call, answer, query.copy(), matrix.copy())
        if got is None:
            raise NotYet(f"{call} returned None; did you forget a `return`?")
        try:
            values = np.asarray(got, dtype=np.float64)
        except (TypeError, ValueError):
            raise NotYet(
                f"{call} returned {type(got).__name__}, not an array of numbers."
            ) from None
        if values.shape != expected.shape:
            raise NotYet(
                f"{call} returned shape {values.shape}; expected {expected.shape}, one score per "
                "row of the matrix."
            )
        if np.isnan(values).any():
            raise NotYet(
                f"{call} returned nan: a zero vector has no direction, so its score should be 0 "
                "rather than a division by its zero length."
            )
        if not np.allclose(values, expected, atol=1e-5):
            worst = int(np.argmax(np.abs(values - expected)))
            raise NotYet(
                f"{call}: row {worst} scored {values[worst]:.4f}, expected {expected[worst]:.4f}."
            )
    return "cosine_scores is right on every hidden case, zero vectors included."


# --- 1.3.2 top-k with stable ties ----------------------------------------------------------


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
    "1.3.2",
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
        "np.argsort(-np.asarray(scores, dtype=float), kind='stable')[:k], converted to a list "
        "of ints; or sorted(range(len(scores)), key=lambda i: scores[i], reverse=True)[:k].",
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
        if isinstance(got, (str, bytes)) or not isinstance(got, (list, tuple, np.ndarray)):
            raise NotYet(f"{call} returned a {type(got).__name__}; return a list of indices.")
        items = list(np.asarray(got).ravel()) if isinstance(got, np.ndarray) else list(got)
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
        "Pick the best with min(allowed, key=lambda r: (-r['recall_at_5'], -r['mrr'], "
        "r['latency_ms'])): min keeps the earlier row on a full tie.",
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
