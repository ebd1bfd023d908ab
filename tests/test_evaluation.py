"""Evaluation metrics and statistics, checked against hand-computed values and scikit-learn."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from course_lib.evaluation import (
    bootstrap_ci,
    cohen_kappa,
    exact_match,
    ndcg_at_k,
    normalize_answer,
    paired_bootstrap,
    precision_at_k,
    recall_at_k,
    reciprocal_rank,
    token_f1,
)


def test_answer_normalisation_and_exact_match() -> None:
    assert normalize_answer("The  Handover, is Monday!") == "handover is monday"
    assert exact_match("Monday.", "monday") == 1.0
    assert exact_match("Monday at 10", "Monday") == 0.0


def test_token_f1() -> None:
    assert token_f1("Monday at 10:00", "Monday at 10:00") == 1.0
    assert token_f1("nothing shared", "Monday") == 0.0
    # 2 common tokens; precision 2/3, recall 2/2.
    assert token_f1("handover on monday", "handover monday") == pytest.approx(0.8)
    assert token_f1("", "") == 1.0


def test_retrieval_metrics_by_hand() -> None:
    ranked = ["a", "b", "a", "c", "d"]  # the repeated "a" counts once
    assert recall_at_k(ranked, {"c", "z"}, 3) == 0.5
    assert recall_at_k(ranked, {"c", "z"}, 2) == 0.0
    assert precision_at_k(ranked, {"a", "c"}, 2) == 0.5
    assert reciprocal_rank(ranked, {"c"}) == pytest.approx(1 / 3)
    assert reciprocal_rank(ranked, {"c"}, k=2) == 0.0
    assert reciprocal_rank(ranked, {"x"}) == 0.0
    expected = (1 / math.log2(3)) / (1 + 1 / math.log2(3))
    assert ndcg_at_k(["x", "a", "b"], {"a", "b"}, 2) == pytest.approx(expected)
    assert ndcg_at_k(["a", "b"], {"a", "b"}, 2) == pytest.approx(1.0)


def test_retrieval_metrics_refuse_undefined_cases() -> None:
    with pytest.raises(ValueError, match="unanswerable"):
        recall_at_k(["a"], set(), 5)
    with pytest.raises(ValueError, match="at least 1"):
        recall_at_k(["a"], {"a"}, 0)


def test_bootstrap_interval_covers_the_mean_and_narrows_with_more_data() -> None:
    rng = np.random.default_rng(1)
    small = bootstrap_ci(rng.binomial(1, 0.7, 50), seed=3)
    large = bootstrap_ci(rng.binomial(1, 0.7, 2000), seed=3)
    assert small.low <= small.estimate <= small.high
    assert (large.high - large.low) < (small.high - small.low) / 3
    assert large.low < 0.7 < large.high
    assert str(small).startswith(f"{small.estimate:.3f} (95% CI")
    again = bootstrap_ci(rng.binomial(1, 0.7, 50), seed=3)
    assert bootstrap_ci([1, 0, 1], seed=3) == bootstrap_ci([1, 0, 1], seed=3)
    assert again.n == 50


def test_bootstrap_with_a_custom_statistic() -> None:
    interval = bootstrap_ci([1.0, 2.0, 3.0, 100.0], statistic=lambda a: float(np.median(a)))
    assert interval.estimate == 2.5


def test_paired_bootstrap_tells_noise_from_a_real_difference() -> None:
    rng = np.random.default_rng(0)
    base = rng.binomial(1, 0.6, 300).astype(float)
    noise = base.copy()
    flip = rng.choice(300, 10, replace=False)
    noise[flip] = 1 - noise[flip]  # a few answers change either way
    better = base.copy()
    better[np.flatnonzero(base == 0)[:40]] = 1.0  # 40 more questions right
    assert not paired_bootstrap(base, noise).significant
    real = paired_bootstrap(base, better)
    assert real.significant and real.mean_difference == pytest.approx(40 / 300)
    assert real.p_value < 0.01
    with pytest.raises(ValueError, match="same items"):
        paired_bootstrap([1, 0], [1])


def test_cohen_kappa_matches_scikit_learn() -> None:
    a = ["pass", "pass", "fail", "pass", "fail", "fail", "pass", "pass"]
    b = ["pass", "fail", "fail", "pass", "fail", "pass", "pass", "pass"]
    assert cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(a, b))
    assert cohen_kappa(a, a) == 1.0
    with pytest.raises(ValueError, match="same items"):
        cohen_kappa(a, b[:-1])


def test_statistics_reject_bad_input() -> None:
    with pytest.raises(ValueError, match="NaN"):
        bootstrap_ci([1.0, float("nan")])
    with pytest.raises(ValueError, match="non-empty"):
        bootstrap_ci([])
    with pytest.raises(ValueError, match="confidence"):
        bootstrap_ci([1.0], confidence=95)


# -- does an answer state the reference's fact ---------------------------------------------


def test_contains_fact_accepts_a_longer_answer_with_the_same_fact() -> None:
    from course_lib.evaluation.facts import contains_fact

    reference = "Within 30 days of starting, then again every March."
    answer = "Security awareness training: within 30 days of your start date, then every March."
    assert contains_fact(answer, reference)


@pytest.mark.parametrize(
    "answer",
    [
        "Within 14 days of starting, then again every March.",  # a wrong number
        "Within 30 of something.",  # the number without the fact's words
        "I don't know: the handbook passages do not cover this.",
    ],
)
def test_contains_fact_rejects_wrong_numbers_and_missing_words(answer: str) -> None:
    from course_lib.evaluation.facts import contains_fact

    assert not contains_fact(answer, "Within 30 days of starting, then again every March.")


def test_numbers_compare_as_values_and_words_as_stems() -> None:
    from course_lib.evaluation.facts import answer_numbers, contains_fact, content_stems

    assert answer_numbers("EUR 1,200 or 5.00") == {"1200", "5"}
    assert content_stems("scanned parcels") == content_stems("scan parcel")
    assert contains_fact("The cap is EUR 1200 per night.", "EUR 1,200 per night")


def test_contains_fact_validates_its_thresholds() -> None:
    from course_lib.evaluation.facts import contains_fact

    with pytest.raises(ValueError, match="min_recall"):
        contains_fact("a", "b", min_recall=2)
