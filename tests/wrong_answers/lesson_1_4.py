"""Plausible wrong answers to lesson 1.4's exercises; each must be rejected by its checker."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from course_lib.evaluation import normalize_answer

# -- 1.4.1 token F1 ---------------------------------------------------------------------------


def _f1_without_normalising(prediction: str, reference: str) -> float:
    pred, ref = prediction.split(), reference.split()
    if not pred or not ref:
        return float(pred == ref)
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def _f1_with_sets(prediction: str, reference: str) -> float:
    pred, ref = set(normalize_answer(prediction).split()), set(normalize_answer(reference).split())
    if not pred or not ref:
        return float(pred == ref)
    common = len(pred & ref)
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def _recall_only(prediction: str, reference: str) -> float:
    pred, ref = normalize_answer(prediction).split(), normalize_answer(reference).split()
    if not ref:
        return float(not pred)
    return sum((Counter(pred) & Counter(ref)).values()) / len(ref)


def _f1_crashes_on_empty(prediction: str, reference: str) -> float:
    pred, ref = normalize_answer(prediction).split(), normalize_answer(reference).split()
    common = sum((Counter(pred) & Counter(ref)).values())
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall) if common else 0.0


def _jaccard(prediction: str, reference: str) -> float:
    pred, ref = set(normalize_answer(prediction).split()), set(normalize_answer(reference).split())
    if not pred and not ref:
        return 1.0
    return len(pred & ref) / len(pred | ref)


# -- 1.4.2 mean reciprocal rank ---------------------------------------------------------------


def _mrr_counting_repeats(rankings: list[list[str]], relevant: list[set[str]]) -> float:
    total = 0.0
    for ranking, wanted in zip(rankings, relevant, strict=True):
        for position, doc_id in enumerate(ranking, start=1):
            if doc_id in wanted:
                total += 1 / position
                break
    return total / len(rankings)


def _mrr_over_found_only(rankings: list[list[str]], relevant: list[set[str]]) -> float:
    found = []
    for ranking, wanted in zip(rankings, relevant, strict=True):
        for position, doc_id in enumerate(dict.fromkeys(ranking), start=1):
            if doc_id in wanted:
                found.append(1 / position)
                break
    return sum(found) / len(found) if found else 0.0


def _mrr_zero_based(rankings: list[list[str]], relevant: list[set[str]]) -> float:
    total = 0.0
    for ranking, wanted in zip(rankings, relevant, strict=True):
        for position, doc_id in enumerate(dict.fromkeys(ranking)):
            if doc_id in wanted:
                total += 1 / (position + 2) if position else 1.0  # "fixed" the ZeroDivisionError
                break
    return total / len(rankings)


def _mrr_summing_every_relevant(rankings: list[list[str]], relevant: list[set[str]]) -> float:
    total = 0.0
    for ranking, wanted in zip(rankings, relevant, strict=True):
        for position, doc_id in enumerate(dict.fromkeys(ranking), start=1):
            if doc_id in wanted:
                total += 1 / position
    return total / len(rankings)


# -- 1.4.3 bootstrap interval -----------------------------------------------------------------


def _interval_of_the_data(scores, confidence=0.95, n_resamples=2000, seed=0):
    # The spread of the scores themselves, not of their mean.
    alpha = (1 - confidence) / 2
    low, high = np.quantile(np.asarray(scores, dtype=float), [alpha, 1 - alpha])
    return float(low), float(high)


def _resampling_without_replacement(scores, confidence=0.95, n_resamples=2000, seed=0):
    data = np.asarray(scores, dtype=float)
    rng = np.random.default_rng(seed)
    means = [rng.permutation(data).mean() for _ in range(n_resamples)]
    alpha = (1 - confidence) / 2
    low, high = np.quantile(means, [alpha, 1 - alpha])
    return float(low), float(high)


def _unseeded(scores, confidence=0.95, n_resamples=2000, seed=0):
    data = np.asarray(scores, dtype=float)
    rng = np.random.default_rng()
    means = data[rng.integers(0, data.size, size=(n_resamples, data.size))].mean(axis=1)
    alpha = (1 - confidence) / 2
    low, high = np.quantile(means, [alpha, 1 - alpha])
    return float(low), float(high)


def _wrong_quantiles(scores, confidence=0.95, n_resamples=2000, seed=0):
    # Uses 1 - confidence on each side: a 90% interval when 95% was asked for.
    data = np.asarray(scores, dtype=float)
    rng = np.random.default_rng(seed)
    means = data[rng.integers(0, data.size, size=(n_resamples, data.size))].mean(axis=1)
    low, high = np.quantile(means, [1 - confidence, confidence])
    return float(low), float(high)


def _half_size_resamples(scores, confidence=0.95, n_resamples=2000, seed=0):
    data = np.asarray(scores, dtype=float)
    rng = np.random.default_rng(seed)
    size = max(1, data.size // 2)
    means = data[rng.integers(0, data.size, size=(n_resamples, size))].mean(axis=1)
    alpha = (1 - confidence) / 2
    low, high = np.quantile(means, [alpha, 1 - alpha])
    return float(low), float(high)


def _normal_interval_with_data_spread(scores, confidence=0.95, n_resamples=2000, seed=0):
    data = np.asarray(scores, dtype=float)
    return float(data.mean() - 1.96 * data.std()), float(data.mean() + 1.96 * data.std())


# -- 1.4.4 Cohen's kappa ------------------------------------------------------------------------


def _raw_agreement(labels_a: list, labels_b: list) -> float:
    return sum(a == b for a, b in zip(labels_a, labels_b, strict=True)) / len(labels_a)


def _uniform_chance(labels_a: list, labels_b: list) -> float:
    n = len(labels_a)
    observed = sum(a == b for a, b in zip(labels_a, labels_b, strict=True)) / n
    chance = 1 / len(set(labels_a) | set(labels_b))
    return (observed - chance) / (1 - chance)


def _pooled_shares(labels_a: list, labels_b: list) -> float:
    # Scott's pi: one pooled share per label instead of each rater's own.
    n = len(labels_a)
    observed = sum(a == b for a, b in zip(labels_a, labels_b, strict=True)) / n
    pooled = labels_a + labels_b
    chance = sum((pooled.count(c) / (2 * n)) ** 2 for c in set(pooled))
    return (observed - chance) / (1 - chance)


def _forgets_to_normalise(labels_a: list, labels_b: list) -> float:
    n = len(labels_a)
    observed = sum(a == b for a, b in zip(labels_a, labels_b, strict=True)) / n
    chance = sum(
        (labels_a.count(c) / n) * (labels_b.count(c) / n) for c in set(labels_a) | set(labels_b)
    )
    return observed - chance


WRONG_ANSWERS: dict[str, list[Any]] = {
    "1.4.1": [
        _f1_without_normalising,
        _f1_with_sets,
        _recall_only,
        _f1_crashes_on_empty,
        _jaccard,
    ],
    "1.4.2": [
        _mrr_counting_repeats,
        _mrr_over_found_only,
        _mrr_zero_based,
        _mrr_summing_every_relevant,
    ],
    "1.4.3": [
        _interval_of_the_data,
        _resampling_without_replacement,
        _unseeded,
        _wrong_quantiles,
        _half_size_resamples,
        _normal_interval_with_data_spread,
    ],
    "1.4.4": [
        _raw_agreement,
        _uniform_chance,
        _pooled_shares,
        _forgets_to_normalise,
    ],
}
