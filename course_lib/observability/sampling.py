"""Choosing answers for people to review: a stratified sample that is the same on every run.

Dashboards count tokens and milliseconds; only a person (or a judge checked against people)
can say whether an answer was right. Reviewers see a few dozen answers a day, so which ones
matter:

* **stratified**: the same number from every feature (or prompt version), or the busiest one
  fills the whole queue and a small feature is never looked at;
* **deterministic and order-free**: each request's chance of selection comes from a hash of
  its id and a seed (SHA-256, the same on every machine and Python version, unlike ``hash()``
  or a random generator fed the rows in whatever order a query returned them). Re-running the
  sampler, or running it on the same requests in another order, picks the same ones, and a
  new seed picks a fresh sample.

>>> queue = review_sample(requests[requests.outcome == "ok"], per_stratum=5, by="feature")
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["review_sample", "sample_key"]


def sample_key(identifier: str, seed: int = 0) -> int:
    """A request's place in the sampling order: the first 8 bytes of SHA-256 of seed and id."""
    digest = hashlib.sha256(f"{seed}:{identifier}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def review_sample(
    frame: pd.DataFrame,
    *,
    per_stratum: int = 5,
    by: str | Sequence[str] = "feature",
    seed: int = 0,
    key: str = "trace_id",
) -> pd.DataFrame:
    """Up to ``per_stratum`` rows from each group of ``by``: those whose ids hash lowest.

    Args:
        frame: the requests to sample from (filter first: e.g. answered requests only).
        per_stratum: rows per group; a group with fewer rows gives all of them.
        by: the column(s) whose groups each get their share.
        seed: another seed, another sample (use e.g. the date of the review round).
        key: the column identifying a request (a trace id or request id).

    Returns:
        The sampled rows, grouped by stratum, in sampling order within each.

    Raises:
        ValueError: ``per_stratum`` is not a positive integer, or a column is missing.
    """
    if isinstance(per_stratum, bool) or not isinstance(per_stratum, int) or per_stratum < 1:
        raise ValueError(f"per_stratum={per_stratum!r} must be a positive integer, e.g. 5.")
    keys = [by] if isinstance(by, str) else list(by)
    missing = [c for c in [*keys, key] if c not in frame.columns]
    if missing:
        raise ValueError(f"The frame lacks the column(s) {missing} to sample by.")
    order = frame[key].astype(str).map(lambda identifier: sample_key(identifier, seed))
    ranked = frame.assign(_order=order).sort_values([*keys, "_order"], kind="stable")
    return ranked.groupby(keys, sort=True).head(per_stratum).drop(columns="_order")
