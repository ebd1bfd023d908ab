"""Plausible wrong answers to lesson 1.3's exercises; each must be rejected by its checker."""

from __future__ import annotations

from typing import Any

import numpy as np

# --- 1.3.1 cosine_scores --------------------------------------------------------------------


def _dot_product_only(query, matrix):
    return np.asarray(matrix, dtype=float) @ np.asarray(query, dtype=float)


def _normalises_the_rows_but_not_the_query(query, matrix):
    matrix = np.asarray(matrix, dtype=float)
    lengths = np.linalg.norm(matrix, axis=1)
    return np.divide(
        matrix @ np.asarray(query, dtype=float),
        lengths,
        out=np.zeros(len(matrix)),
        where=lengths > 0,
    )


def _no_guard_for_zero_vectors(query, matrix):
    matrix, query = np.asarray(matrix, dtype=float), np.asarray(query, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (matrix @ query) / (np.linalg.norm(matrix, axis=1) * np.linalg.norm(query))


def _whole_matrix_norm(query, matrix):
    matrix, query = np.asarray(matrix, dtype=float), np.asarray(query, dtype=float)
    lengths = np.linalg.norm(matrix) * np.linalg.norm(query)  # one number, not one per row
    return matrix @ query / lengths if lengths else np.zeros(len(matrix))


def _cosine_distance_instead(query, matrix):
    from course_lib.embeddings import cosine_similarity

    return 1.0 - cosine_similarity(query, matrix)


def _loop_returning_a_float(query, matrix):
    total = 0.0
    for row in matrix:
        total = float(np.dot(row, query))
    return total


# --- 1.3.2 top_k_indices --------------------------------------------------------------------


def _reversed_ascending_argsort(scores, k):
    return [int(i) for i in np.argsort(scores)[::-1][:k]]


def _default_unstable_argsort(scores, k):
    return [int(i) for i in np.argsort(-np.asarray(scores, dtype=float))[:k]]


def _returns_the_scores(scores, k):
    return sorted(scores, reverse=True)[:k]


def _argpartition_unsorted(scores, k):
    scores = np.asarray(scores, dtype=float)
    if k >= len(scores):
        return list(range(len(scores)))
    return [int(i) for i in np.sort(np.argpartition(-scores, k)[:k])]


def _off_by_one(scores, k):
    return [int(i) for i in np.argsort(-np.asarray(scores, dtype=float), kind="stable")[: k + 1]]


def _sorted_last_k_reversed(scores, k):
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    return order[::-1][:k]


# --- 1.3.3 choose_model ---------------------------------------------------------------------


def _ignores_the_licence(rows, max_latency_ms, max_kib_per_1000, licences):
    ok = [
        r
        for r in rows
        if r["latency_ms"] <= max_latency_ms and r["kib_per_1000"] <= max_kib_per_1000
    ]
    return max(ok, key=lambda r: (r["recall_at_5"], r["mrr"]))["name"] if ok else None


def _strict_limits(rows, max_latency_ms, max_kib_per_1000, licences):
    ok = [
        r
        for r in rows
        if r["latency_ms"] < max_latency_ms
        and r["kib_per_1000"] < max_kib_per_1000
        and r["licence"] in licences
    ]
    return (
        min(ok, key=lambda r: (-r["recall_at_5"], -r["mrr"], r["latency_ms"]))["name"]
        if ok
        else None
    )


def _recall_only(rows, max_latency_ms, max_kib_per_1000, licences):
    ok = [
        r
        for r in rows
        if r["latency_ms"] <= max_latency_ms
        and r["kib_per_1000"] <= max_kib_per_1000
        and r["licence"] in licences
    ]
    return max(ok, key=lambda r: r["recall_at_5"])["name"] if ok else None


def _returns_the_row(rows, max_latency_ms, max_kib_per_1000, licences):
    ok = [
        r
        for r in rows
        if r["latency_ms"] <= max_latency_ms
        and r["kib_per_1000"] <= max_kib_per_1000
        and r["licence"] in licences
    ]
    return min(ok, key=lambda r: (-r["recall_at_5"], -r["mrr"], r["latency_ms"])) if ok else None


def _fastest_allowed(rows, max_latency_ms, max_kib_per_1000, licences):
    ok = [
        r
        for r in rows
        if r["latency_ms"] <= max_latency_ms
        and r["kib_per_1000"] <= max_kib_per_1000
        and r["licence"] in licences
    ]
    return min(ok, key=lambda r: r["latency_ms"])["name"] if ok else None


def _crashes_when_nothing_qualifies(rows, max_latency_ms, max_kib_per_1000, licences):
    ok = [
        r
        for r in rows
        if r["latency_ms"] <= max_latency_ms
        and r["kib_per_1000"] <= max_kib_per_1000
        and r["licence"] in licences
    ]
    return min(ok, key=lambda r: (-r["recall_at_5"], -r["mrr"], r["latency_ms"]))["name"]


WRONG_ANSWERS: dict[str, list[Any]] = {
    "1.3.1": [
        _dot_product_only,
        _normalises_the_rows_but_not_the_query,
        _no_guard_for_zero_vectors,
        _whole_matrix_norm,
        _cosine_distance_instead,
        _loop_returning_a_float,
    ],
    "1.3.2": [
        _reversed_ascending_argsort,
        _default_unstable_argsort,
        _returns_the_scores,
        _argpartition_unsorted,
        _off_by_one,
        _sorted_last_k_reversed,
    ],
    "1.3.3": [
        _ignores_the_licence,
        _strict_limits,
        _recall_only,
        _returns_the_row,
        _fastest_allowed,
        _crashes_when_nothing_qualifies,
    ],
}
