"""Cosine similarity and exact top-k search over embedding matrices, with numpy only.

A brute-force scan is exact and fast enough for tens of thousands of vectors: it is the
reference an approximate index is measured against. Results are deterministic: equal scores
are ordered by row index, so the same data always gives the same ranking, which keeps
evaluations and regression tests stable.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from course_lib.embeddings.base import normalise_rows
from course_lib.errors import EmbedderMismatchError

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["cosine_similarity", "top_k"]


def cosine_similarity(a: NDArray[Any], b: NDArray[Any]) -> NDArray[Any]:
    """Cosine similarities between the rows of ``a`` (n, d) and of ``b`` (m, d): shape (n, m).

    A 1-D argument is one vector and drops its axis from the result: (d,) with (m, d) gives
    (m,), two 1-D vectors give a 0-d array. Inputs need not be normalised; a zero vector
    scores 0 against everything. Scores are clipped to [-1, 1] against rounding.
    """
    import numpy as np

    left, right = _as_matrix(a, "a"), _as_matrix(b, "b")
    _check_dimensions(left.shape[1], right.shape[1], "a", "b")
    dtype = np.promote_types(np.result_type(left, right), np.float32)
    scores = normalise_rows(left, dtype) @ normalise_rows(right, dtype).T
    np.clip(scores, -1.0, 1.0, out=scores)
    if np.ndim(b) == 1:
        scores = scores[:, 0]
    if np.ndim(a) == 1:
        scores = scores[0]
    return np.asarray(scores)


def top_k(query: NDArray[Any], matrix: NDArray[Any], k: int) -> tuple[NDArray[Any], NDArray[Any]]:
    """The ``k`` rows of ``matrix`` most similar to ``query``, best first.

    Returns ``(indices, scores)``: for a 1-D query, two arrays of length ``min(k, n)``; for a
    2-D query of q rows, arrays of shape (q, min(k, n)), one ranking per query row. Equal
    scores are ordered by lower row index. Scores are cosine similarities.
    """
    import numpy as np

    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0:
        raise ValueError(f"k must be a non-negative integer (got {k!r}).")
    if np.ndim(matrix) != 2:
        raise ValueError(
            f"matrix must be 2-D, one vector per row (got shape {np.shape(matrix)}). "
            "Stack the vectors with numpy.vstack."
        )
    if np.ndim(query) not in (1, 2):
        raise ValueError(f"query must be one vector or a 2-D array (got shape {np.shape(query)}).")
    _check_dimensions(np.shape(query)[-1], np.shape(matrix)[1], "query", "matrix")
    scores = np.atleast_2d(cosine_similarity(np.atleast_2d(query), matrix))
    count = min(int(k), scores.shape[1])
    indices = np.empty((scores.shape[0], count), dtype=np.int64)
    for position, row in enumerate(scores):
        indices[position] = _best(row, count)
    best_scores = np.take_along_axis(scores, indices, axis=1)
    if np.ndim(query) == 1:
        return indices[0], best_scores[0]
    return indices, best_scores


def _best(scores: NDArray[Any], count: int) -> NDArray[Any]:
    """Indices of the ``count`` highest scores, ties by lower index, in O(n) plus O(k log k)."""
    import numpy as np

    keyed = np.where(np.isnan(scores), -np.inf, scores)  # NaN ranks last, never first
    if count == 0:
        return np.zeros(0, dtype=np.int64)
    if count < keyed.size:
        # Every row scoring at least the count-th best is a candidate, so ties at the boundary
        # are all kept and the stable sort below picks the lowest indices among them.
        threshold = np.partition(keyed, keyed.size - count)[keyed.size - count]
        candidates = np.flatnonzero(keyed >= threshold)
    else:
        candidates = np.arange(keyed.size)
    order = np.argsort(-keyed[candidates], kind="stable")
    return candidates[order[:count]]


def _as_matrix(vectors: NDArray[Any], label: str) -> NDArray[Any]:
    import numpy as np

    array = np.asarray(vectors)
    if array.ndim not in (1, 2):
        raise ValueError(f"{label} must be one vector or a 2-D array (got shape {array.shape}).")
    if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise ValueError(f"{label} must hold numbers (got dtype {array.dtype}).")
    return np.atleast_2d(array)


def _check_dimensions(left: int, right: int, left_label: str, right_label: str) -> None:
    if left != right:
        raise EmbedderMismatchError(
            f"Dimension mismatch: {left_label} has {left} dimensions but {right_label} has "
            f"{right}, so they were made by different embedders. Embed both with the same "
            "embedder (compare their EmbedderIdentity), or rebuild the index with the current one."
        )
