"""Reciprocal rank fusion: merging rankings whose scores cannot be compared.

BM25 scores are unbounded sums; cosine similarities live in [-1, 1]. Adding or averaging them
needs a normalisation that is wrong for some queries. Reciprocal rank fusion (Cormack, Clarke
and Büttcher, SIGIR 2009) uses ranks only::

    score(d) = sum over rankings r of 1 / (k + rank_r(d))

Ranks start at 1; a ranking that does not contain ``d`` adds nothing. ``k = 60`` is the
paper's constant and the usual default: a larger ``k`` flattens the difference between the top
ranks, so agreement between retrievers counts more than either one's first place.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

__all__ = ["DEFAULT_RRF_K", "FusedItem", "reciprocal_rank_fusion"]

DEFAULT_RRF_K = 60
Key = TypeVar("Key", bound=Hashable)


@dataclass(frozen=True)
class FusedItem(Generic[Key]):
    """One item of a fused ranking: its key, its RRF score, and its rank in each input."""

    key: Key
    score: float
    ranks: Mapping[str, int]


def reciprocal_rank_fusion(
    rankings: Mapping[str, Sequence[Key]], *, k: int = DEFAULT_RRF_K
) -> list[FusedItem[Key]]:
    """Fuses named rankings (best first) into one, best first.

    Ties are broken by the best rank the item reached in any input, then by the order of the
    inputs and the item's position there, so the result is deterministic.

    Args:
        rankings: e.g. ``{"dense": [id3, id1], "bm25": [id1, id7]}``. Repeats within one
            ranking count at their first position only.
        k: the RRF constant (60 by default); must be positive.

    Example:
        >>> fused = reciprocal_rank_fusion({"a": ["x", "y"], "b": ["y"]})
        >>> [(item.key, round(item.score, 4), item.ranks) for item in fused]
        [('y', 0.0325, {'a': 2, 'b': 1}), ('x', 0.0164, {'a': 1})]
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"The RRF constant k must be a positive integer (got {k!r}); 60 is usual.")
    scores: dict[Key, float] = {}
    ranks: dict[Key, dict[str, int]] = {}
    first_seen: dict[Key, tuple[int, int]] = {}
    for order, (name, ranking) in enumerate(rankings.items()):
        for position, key in enumerate(ranking, start=1):
            item_ranks = ranks.setdefault(key, {})
            if name in item_ranks:
                continue
            item_ranks[name] = position
            scores[key] = scores.get(key, 0.0) + 1.0 / (k + position)
            first_seen.setdefault(key, (order, position))
    ordered = sorted(
        scores, key=lambda key: (-scores[key], min(ranks[key].values()), first_seen[key])
    )
    return [FusedItem(key, scores[key], dict(ranks[key])) for key in ordered]
