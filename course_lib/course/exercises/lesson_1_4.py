"""Checkers of lesson 1.4, "Evaluation"."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from course_lib.course.checking import NotYet, Probe, exercise
from course_lib.evaluation import cohen_kappa, reciprocal_rank, token_f1

SOLUTION = "solutions/1_ai_capabilities/14_evaluation.ipynb"


def _expect_number(value: Any, what: str) -> float:
    if value is None:
        raise NotYet(f"{what} returned None; did you forget a `return`?")
    if isinstance(value, bool):
        raise NotYet(f"{what} returned a bool ({value!r}); expected a number.")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise NotYet(
            f"{what} returned {type(value).__name__} ({str(value)[:40]!r}); expected a number."
        ) from None
    if math.isnan(number):
        raise NotYet(f"{what} returned NaN; expected a number.")
    return number


# -- 1.4.1 token F1 ------------------------------------------------------------------------

# (prediction, reference, why) – the expected value comes from course_lib's token_f1.
_F1_CASES: list[tuple[str, str, str]] = [
    ("Monday at 10:00", "Monday at 10:00", "identical answers score 1"),
    ("MONDAY, at 10:00!", "monday at 10:00", "case and punctuation are normalised away"),
    ("The handover is on Monday", "handover is on Monday", "articles (a, an, the) are dropped"),
    ("every 180 days", "rotated every 180 days with overlap", "a partial answer: some recall"),
    (
        "the fee is 300 300 300 euros",
        "300 euros",
        "a repeated token counts only as often as it appears in the reference",
    ),
    ("EUR 300 per week", "Monday at 10:00", "no token in common scores 0"),
    ("", "", "two empty answers agree: 1"),
    ("", "Monday", "an empty prediction of a non-empty reference scores 0"),
    ("Monday", "", "a prediction of an empty reference scores 0"),
    ("the", "a", "answers that are only articles normalise to empty: they agree"),
    (
        "Partial weeks are paid pro rata per day.",
        "Yes, partial weeks are paid pro rata per day.",
        "precision and recall both count",
    ),
]


def _match_reference(
    answer: Any,
    probe: Probe,
    cases: Sequence[tuple[Any, Any, str]],
    reference: Callable[[Any, Any], float],
) -> None:
    """Raise NotYet at the first hidden case where ``answer`` differs from ``reference``."""
    for first, second, why in cases:
        call = probe.describe_call(first, second)
        got = _expect_number(probe.call(answer, first, second), call)
        expected = reference(first, second)
        if not math.isclose(got, expected, abs_tol=1e-9):
            raise NotYet(f"{call} returned {got:.4f}, expected {expected:.4f} ({why}).")


@exercise(
    "1.4.1",
    title="Token F1 from scratch",
    answer_name="token_f1",
    reference=token_f1,
    solution=SOLUTION,
    hints=(
        "Normalise both strings with normalize_answer, then split them into lists of tokens. "
        "Handle the empty cases first: if either list is empty, the score is 1.0 when both are "
        "empty and 0.0 otherwise.",
        "Count the tokens the two lists share as multisets: collections.Counter(pred) & "
        "Counter(ref) keeps each token min(count in pred, count in ref) times; sum its values.",
        "With common = that sum (return 0.0 when it is 0): precision = common / len(pred), "
        "recall = common / len(ref), F1 = 2 * precision * recall / (precision + recall).",
    ),
)
def _check_token_f1(answer: Any, probe: Probe) -> str:
    _match_reference(answer, probe, _F1_CASES, token_f1)
    return f"token_f1 matches SQuAD's F1 on all {len(_F1_CASES)} hidden cases."


# -- 1.4.2 mean reciprocal rank --------------------------------------------------------------


def mean_reciprocal_rank(rankings: list[list[str]], relevant: list[set[str]]) -> float:
    """The reference: the mean over queries of 1 / rank of the first relevant document."""
    if len(rankings) != len(relevant) or not rankings:
        raise ValueError("rankings and relevant need one entry per query, at least one query.")
    return sum(reciprocal_rank(r, s) for r, s in zip(rankings, relevant, strict=True)) / len(
        rankings
    )


# (rankings, relevant, why)
_MRR_CASES: list[tuple[list[list[str]], list[set[str]], str]] = [
    ([["a", "b", "c"]], [{"a"}], "the relevant document first: reciprocal rank 1"),
    ([["a", "b", "c"]], [{"c"}], "the relevant document third: 1/3"),
    ([["x", "y", "z"]], [{"a"}], "no relevant document in the ranking: 0"),
    (
        [["a", "b"], ["x", "b"], ["x", "y"]],
        [{"a"}, {"b"}, {"a"}],
        "the mean over every query, including the one that found nothing: (1 + 1/2 + 0) / 3",
    ),
    ([["x", "b", "a"]], [{"a", "b"}], "several relevant documents: only the first one counts"),
    (
        [["x", "x", "x", "a"]],
        [{"a"}],
        "a document listed several times (several of its sections) counts once: rank 2",
    ),
    (
        [["p", "q", "p", "r", "s"], ["s"], []],
        [{"r", "s"}, {"s"}, {"s"}],
        "repeats, a one-item ranking and an empty ranking",
    ),
]


@exercise(
    "1.4.2",
    title="Mean reciprocal rank",
    answer_name="mean_reciprocal_rank",
    reference=mean_reciprocal_rank,
    solution=SOLUTION,
    hints=(
        "For each query, walk its ranking from the top with a 1-based position; the first "
        "document in that query's relevant set gives 1 / position, and a query with no relevant "
        "document scores 0. MRR is the mean over all queries.",
        "Count each document once, at its first position: build the ranking without repeats "
        "first, e.g. list(dict.fromkeys(ranking)), then enumerate(..., start=1).",
        "Divide by len(rankings), not by the number of queries that found something: a query "
        "whose documents were never retrieved is a failure the metric must show.",
    ),
)
def _check_mrr(answer: Any, probe: Probe) -> str:
    _match_reference(answer, probe, _MRR_CASES, mean_reciprocal_rank)
    return f"mean_reciprocal_rank is right on all {len(_MRR_CASES)} hidden cases."


# -- 1.4.3 bootstrap interval ---------------------------------------------------------------


def bootstrap_interval(
    scores: Any, confidence: float = 0.95, n_resamples: int = 2000, seed: int = 0
) -> tuple[float, float]:
    """The reference: percentile bootstrap interval of the mean of ``scores``."""
    import numpy as np

    data = np.asarray(scores, dtype=float)
    rng = np.random.default_rng(seed)
    means = data[rng.integers(0, data.size, size=(n_resamples, data.size))].mean(axis=1)
    alpha = (1 - confidence) / 2
    low, high = np.quantile(means, [alpha, 1 - alpha])
    return float(low), float(high)


_DATASETS = 100  # hidden datasets per calibration check
_RESAMPLES = 1000


def _hidden_datasets(kind: str) -> tuple[list[Any], float]:
    """Seeded datasets with a known true mean: pass/fail scores, or skewed F1-like scores."""
    import numpy as np

    rng = np.random.default_rng(20240 if kind == "binary" else 51)
    if kind == "binary":
        return [rng.binomial(1, 0.65, 80).astype(float) for _ in range(_DATASETS)], 0.65
    return [rng.beta(0.6, 1.6, 60) for _ in range(_DATASETS)], 0.6 / (0.6 + 1.6)


def _interval(
    answer: Callable[..., Any], probe: Probe, data: Any, **kwargs: Any
) -> tuple[float, float]:
    call = f"bootstrap_interval(<{len(data)} scores>, " + ", ".join(
        f"{k}={v!r}" for k, v in kwargs.items()
    )
    call += ")"
    got = probe.call(answer, data, **kwargs)
    if not isinstance(got, tuple | list) or len(got) != 2:
        raise NotYet(f"{call} returned {str(got)[:40]!r}; expected a tuple (low, high).")
    low, high = (_expect_number(v, call) for v in got)
    if low > high:
        raise NotYet(f"{call} returned low {low:.4f} above high {high:.4f}; return (low, high).")
    return low, high


def _calibration(
    answer: Callable[..., Any], probe: Probe, kind: str, confidence: float
) -> tuple[float, float]:
    """Coverage of the true mean, and the mean width relative to the reference's."""
    datasets, truth = _hidden_datasets(kind)
    covered, widths, reference_widths = 0, 0.0, 0.0
    for i, data in enumerate(datasets):
        options: dict[str, Any] = {"confidence": confidence, "n_resamples": _RESAMPLES, "seed": i}
        low, high = _interval(answer, probe, data, **options)
        mean = float(data.mean())
        if not low <= mean <= high:
            raise NotYet(
                f"on a hidden dataset the interval ({low:.3f}, {high:.3f}) does not contain the "
                f"sample mean {mean:.3f}; the bootstrap resamples means of the data itself."
            )
        covered += low <= truth <= high
        widths += high - low
        ref_low, ref_high = bootstrap_interval(data, **options)
        reference_widths += ref_high - ref_low
    return covered / len(datasets), widths / reference_widths


@exercise(
    "1.4.3",
    title="A bootstrap confidence interval by hand",
    answer_name="bootstrap_interval",
    reference=bootstrap_interval,
    solution=SOLUTION,
    hints=(
        "Make a generator with rng = np.random.default_rng(seed). Draw n_resamples resamples of "
        "the scores, each as many scores as the data has, WITH replacement, and take each "
        "resample's mean.",
        "rng.integers(0, n, size=(n_resamples, n)) gives the indices of every resample at once; "
        "scores[indices].mean(axis=1) gives the n_resamples means.",
        "The interval is the (1 - confidence) / 2 and 1 - (1 - confidence) / 2 quantiles of "
        "those means: np.quantile(means, [alpha, 1 - alpha]). Return them as two floats.",
    ),
)
def _check_bootstrap(answer: Any, probe: Probe) -> str:
    import numpy as np

    constant = _interval(answer, probe, np.full(20, 0.7), seed=0)
    if not all(math.isclose(v, 0.7, abs_tol=1e-9) for v in constant):
        raise NotYet(
            f"scores that are all 0.7 gave {constant}; every resample of them has mean 0.7, so "
            "the interval should be (0.7, 0.7)."
        )
    report = []
    for kind, confidence in (("binary", 0.95), ("skewed", 0.95), ("binary", 0.8)):
        coverage, width = _calibration(answer, probe, kind, confidence)
        label = f"{confidence:.0%} intervals on {_DATASETS} hidden {kind} datasets"
        if not 0.93 <= width <= 1.07:
            raise NotYet(
                f"{label} are {width:.2f} times as wide as the bootstrap's (they contain the true "
                f"mean {coverage:.0%} of the time). Resample the scores with replacement, the "
                "same number as the data, take each resample's mean, and use the quantiles "
                "(1 - confidence) / 2 and 1 - (1 - confidence) / 2."
            )
        if abs(coverage - confidence) > 0.1:
            raise NotYet(f"{label} contain the true mean {coverage:.0%} of the time.")
        report.append(f"{coverage:.0%}")
    # Thirty distinct values: with few distinct scores, two unseeded runs can land on the same
    # quantiles by chance, and a checker must not depend on luck.
    data = (np.arange(1, 31) * 0.6180339887) % 1.0
    first = _interval(answer, probe, data, seed=3)
    again = _interval(answer, probe, data, seed=3)
    if first != again:
        raise NotYet(
            "two calls with the same seed gave different intervals "
            f"({first[0]:.4f}, {first[1]:.4f}) and ({again[0]:.4f}, {again[1]:.4f}); build the "
            "random generator from the seed argument: np.random.default_rng(seed)."
        )
    if _interval(answer, probe, data, seed=4) == first:
        raise NotYet(
            "seeds 3 and 4 gave exactly the same interval; the seed argument must drive the "
            "random draws (np.random.default_rng(seed))."
        )
    return (
        "bootstrap_interval is deterministic under a seed, and calibrated: its intervals "
        f"contained the true mean {', '.join(report)} of the time on three hidden sets "
        "(targets 95%, 95%, 80%)."
    )


# -- 1.4.4 Cohen's kappa ----------------------------------------------------------------------

# (labels_a, labels_b, why)
_KAPPA_CASES: list[tuple[list[Any], list[Any], str]] = [
    ([True, False, True, True], [True, False, True, True], "perfect agreement is 1"),
    (
        [True, True, False, False, True, False],
        [True, False, True, False, True, False],
        "some agreement beyond chance",
    ),
    (
        [True, True, True, True, True, True, True, False],
        [True, True, True, True, True, True, False, True],
        "high raw agreement (75%) but both raters say True most of the time: kappa is below 0",
    ),
    (
        ["pass", "pass", "fail", "fail"],
        ["fail", "fail", "pass", "pass"],
        "raters who always disagree score -1",
    ),
    (
        ["pass", "pass", "pass", "fail", "fail", "pass", "pass", "fail", "pass", "pass"],
        ["pass", "fail", "pass", "fail", "pass", "pass", "pass", "pass", "pass", "pass"],
        "raters with different label frequencies: each rater's own frequencies count",
    ),
    (
        ["fact", "multi_doc", "fact", "unanswerable", "fact", "multi_doc"],
        ["fact", "fact", "fact", "unanswerable", "multi_doc", "multi_doc"],
        "three categories, given as strings",
    ),
]


@exercise(
    "1.4.4",
    title="Cohen's kappa by hand",
    answer_name="cohen_kappa",
    reference=cohen_kappa,
    solution=SOLUTION,
    hints=(
        "Kappa = (observed agreement - chance agreement) / (1 - chance agreement). Observed "
        "agreement is the share of items where the two raters give the same label.",
        "Chance agreement: for each label c, multiply the share of items rater A labelled c by "
        "the share rater B labelled c, and sum over every label either rater used.",
        "Use each rater's own label shares (not their average, and not 1 / number of labels): "
        "p_a = labels_a.count(c) / n and p_b = labels_b.count(c) / n.",
    ),
)
def _check_kappa(answer: Any, probe: Probe) -> str:
    for labels_a, labels_b, why in _KAPPA_CASES:
        call = probe.describe_call(labels_a, labels_b)
        got = _expect_number(probe.call(answer, labels_a, labels_b), call)
        expected = cohen_kappa(labels_a, labels_b)
        if not math.isclose(got, expected, abs_tol=1e-9):
            raise NotYet(f"{call} returned {got:.4f}, expected {expected:.4f} ({why}).")
    return f"cohen_kappa matches on all {len(_KAPPA_CASES)} hidden cases."
