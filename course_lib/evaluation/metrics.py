"""Metrics for answers and for retrieval, in plain Python so every line can be read.

Answer metrics follow the SQuAD conventions (lower-case, drop punctuation and articles, then
compare tokens). Retrieval metrics take a ranked list of ids and the set of relevant ids;
relevance is binary, as in the course's golden set.

Two ways to count a ranking, with two names, so two lessons cannot report different recall for
the same ranking under one name:

* :func:`recall_at_k`, :func:`reciprocal_rank`, :func:`precision_at_k`, :func:`ndcg_at_k`
  rank **distinct ids**: repeats are dropped first, so the top ``k`` holds ``k`` different ids;
* :func:`unit_recall_at_k` and :func:`unit_reciprocal_rank` rank **retrieved units** (chunks,
  sections) labelled with the id they belong to: the top ``k`` is ``k`` units, and five chunks
  of one document fill five places. This is what a retriever hands the model.
"""

from __future__ import annotations

import math
import re
import string
from collections import Counter
from collections.abc import Collection, Sequence

__all__ = [
    "exact_match",
    "ndcg_at_k",
    "normalize_answer",
    "precision_at_k",
    "recall_at_k",
    "reciprocal_rank",
    "token_f1",
    "unit_recall_at_k",
    "unit_reciprocal_rank",
]

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = str.maketrans("", "", string.punctuation)


def normalize_answer(text: str) -> str:
    """Lower-case, remove punctuation and articles, collapse whitespace (SQuAD style)."""
    text = text.lower().translate(_PUNCTUATION)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def exact_match(prediction: str, reference: str) -> float:
    """1.0 when the normalised strings are equal, else 0.0."""
    return float(normalize_answer(prediction) == normalize_answer(reference))


def token_f1(prediction: str, reference: str) -> float:
    """Harmonic mean of token precision and recall between two normalised answers."""
    pred = normalize_answer(prediction).split()
    ref = normalize_answer(reference).split()
    if not pred or not ref:
        return float(pred == ref)
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def _check_k(k: int) -> None:
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}.")


def _distinct(ranked: Sequence[str]) -> list[str]:
    """The ranking with repeats removed (several chunks of one document count once)."""
    return list(dict.fromkeys(ranked))


def recall_at_k(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    """Share of the relevant ids found in the top ``k`` of the ranking (distinct ids)."""
    _check_k(k)
    wanted = set(relevant)
    if not wanted:
        raise ValueError(
            "recall@k is undefined for a question with no relevant ids; leave unanswerable "
            "questions out of retrieval metrics."
        )
    return len(wanted & set(_distinct(ranked)[:k])) / len(wanted)


def precision_at_k(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    """Share of the top ``k`` distinct ids that are relevant."""
    _check_k(k)
    top = _distinct(ranked)[:k]
    if not top:
        return 0.0
    wanted = set(relevant)
    return sum(1 for item in top if item in wanted) / k


def reciprocal_rank(
    ranked: Sequence[str], relevant: Collection[str], k: int | None = None
) -> float:
    """1 / rank of the first relevant id (within the top ``k`` if given), else 0."""
    wanted = set(relevant)
    ranking = _distinct(ranked)
    if k is not None:
        _check_k(k)
        ranking = ranking[:k]
    for position, item in enumerate(ranking, start=1):
        if item in wanted:
            return 1.0 / position
    return 0.0


def ndcg_at_k(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    """Normalised discounted cumulative gain at ``k`` with binary relevance."""
    _check_k(k)
    wanted = set(relevant)
    if not wanted:
        raise ValueError("nDCG is undefined for a question with no relevant ids.")
    top = _distinct(ranked)[:k]
    dcg = sum(1.0 / math.log2(i + 2) for i, item in enumerate(top) if item in wanted)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(len(wanted), k)))
    return dcg / ideal


def _gold(relevant: Collection[str], metric: str) -> set[str]:
    wanted = set(relevant)
    if not wanted:
        raise ValueError(
            f"{metric} is undefined for a question with no relevant ids; leave unanswerable "
            "questions out of retrieval metrics."
        )
    return wanted


def unit_recall_at_k(ranked_units: Sequence[str], relevant: Collection[str], k: int) -> float:
    """Share of the relevant ids found among the ids of the top ``k`` units (repeats allowed).

    Example:
        >>> unit_recall_at_k(["a", "a", "b", "c"], {"b", "c"}, k=3)
        0.5
    """
    _check_k(k)
    wanted = _gold(relevant, "recall@k")
    return len(wanted & set(ranked_units[:k])) / len(wanted)


def unit_reciprocal_rank(
    ranked_units: Sequence[str], relevant: Collection[str], depth: int
) -> float:
    """1 / the position of the first unit whose id is relevant, within ``depth`` units, else 0.

    Example:
        >>> unit_reciprocal_rank(["a", "a", "b"], {"b"}, depth=10)
        0.3333333333333333
    """
    _check_k(depth)
    wanted = set(relevant)
    for position, item in enumerate(ranked_units[:depth], start=1):
        if item in wanted:
            return 1.0 / position
    return 0.0
