"""Reciprocal rank fusion: merging rankings whose scores cannot be compared.

BM25 scores are unbounded sums; cosine similarities live in [-1, 1]. Adding or averaging them
needs a normalisation that is wrong for some queries. Reciprocal rank fusion (Cormack, Clarke
and Büttcher, SIGIR 2009) uses ranks only::

    score(d) = sum over rankings r of 1 / (k + rank_r(d))

Ranks start at 1; a ranking that does not contain ``d`` adds nothing. ``k = 60`` is the
paper's constant and the usual default: a larger ``k`` flattens the difference between the top
ranks, so agreement between retrievers counts more than either one's first place.

A ranking can carry a weight (Bruch, Gai and Ingber, 2023, call this weighted RRF): its terms
are multiplied by it, so a retriever known to be less reliable on some kind of question counts
less without being ignored. Weights of 1 (the default) give plain RRF.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

__all__ = ["DEFAULT_RRF_K", "FusedItem", "promote_first_picks", "reciprocal_rank_fusion"]

DEFAULT_RRF_K = 60
Key = TypeVar("Key", bound=Hashable)


@dataclass(frozen=True)
class FusedItem(Generic[Key]):
    """One item of a fused ranking: its key, its RRF score, and its rank in each input."""

    key: Key
    score: float
    ranks: Mapping[str, int]


def reciprocal_rank_fusion(
    rankings: Mapping[str, Sequence[Key]],
    *,
    k: int = DEFAULT_RRF_K,
    weights: Mapping[str, float] | None = None,
) -> list[FusedItem[Key]]:
    """Fuses named rankings (best first) into one, best first.

    Ties are broken by the best rank the item reached in any input, then by the order of the
    inputs and the item's position there, so the result is deterministic.

    Args:
        rankings: e.g. ``{"dense": [id3, id1], "bm25": [id1, id7]}``. Repeats within one
            ranking count at their first position only.
        k: the RRF constant (60 by default); must be positive.
        weights: a non-negative weight per ranking name (1 for a name not given), e.g.
            ``{"bm25": 0.5}`` to count BM25 half as much as the others.

    Example:
        >>> fused = reciprocal_rank_fusion({"a": ["x", "y"], "b": ["y"]})
        >>> [(item.key, round(item.score, 4), item.ranks) for item in fused]
        [('y', 0.0325, {'a': 2, 'b': 1}), ('x', 0.0164, {'a': 1})]
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"The RRF constant k must be a positive integer (got {k!r}); 60 is usual.")
    weight = _check_weights(rankings, weights)
    scores: dict[Key, float] = {}
    ranks: dict[Key, dict[str, int]] = {}
    first_seen: dict[Key, tuple[int, int]] = {}
    for order, (name, ranking) in enumerate(rankings.items()):
        for position, key in enumerate(ranking, start=1):
            item_ranks = ranks.setdefault(key, {})
            if name in item_ranks:
                continue
            item_ranks[name] = position
            scores[key] = scores.get(key, 0.0) + weight[name] / (k + position)
            first_seen.setdefault(key, (order, position))
    ordered = sorted(
        scores, key=lambda key: (-scores[key], min(ranks[key].values()), first_seen[key])
    )
    return [FusedItem(key, scores[key], dict(ranks[key])) for key in ordered]


def _check_weights(
    rankings: Mapping[str, Sequence[object]], weights: Mapping[str, float] | None
) -> dict[str, float]:
    """Each ranking's weight (1 unless given); raises ValueError for a bad or unknown one."""
    given = dict(weights or {})
    unknown = sorted(set(given) - set(rankings))
    if unknown:
        raise ValueError(
            f"Weights given for {unknown}, which are not rankings here ({list(rankings)}); "
            "name each weight after the ranking it scales."
        )
    for name, value in given.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
            raise ValueError(
                f"The weight of {name!r} must be a number of at least 0 (got {value!r})."
            )
    return {name: float(given.get(name, 1.0)) for name in rankings}


def promote_first_picks(
    fused: Sequence[FusedItem[Key]], rankings: Mapping[str, Sequence[Key]]
) -> list[FusedItem[Key]]:
    """``fused`` with each ranking's first item moved into the first places, one per ranking.

    RRF rewards agreement, so a chunk that one retriever ranks first and the others miss can
    sink below chunks with middling support from several: a dense hit for a paraphrased
    question, outvoted by chunks that merely share words with it. Keeping every ranking's
    first pick among the first ``len(rankings)`` results gives each retriever's best guess a
    place in a short list, whatever the others think. The promoted items keep their fused order
    among themselves, and the rest follow in fused order; scores are unchanged, so a promoted
    item can score below one ranked after it.

    Example:
        >>> rankings = {"a": ["x", "y", "z"], "b": ["y", "z", "x"], "c": ["w"]}
        >>> [item.key for item in reciprocal_rank_fusion(rankings)]
        ['y', 'x', 'z', 'w']
        >>> [item.key for item in promote_first_picks(reciprocal_rank_fusion(rankings), rankings)]
        ['y', 'x', 'w', 'z']
    """
    places = len(rankings)
    firsts = {ranking[0] for ranking in rankings.values() if ranking}
    missing = [item.key for item in fused[places:] if item.key in firsts]
    if not missing:
        return list(fused)
    head = [item.key for item in fused[:places]]
    kept = [key for key in head if key in firsts]
    others = [key for key in head if key not in firsts]
    chosen = {*kept, *missing, *others[: places - len(kept) - len(missing)]}
    return [item for item in fused if item.key in chosen] + [
        item for item in fused if item.key not in chosen
    ]
