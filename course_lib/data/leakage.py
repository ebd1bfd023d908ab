"""Leakage between splits: test rows that also sit, copied or lightly edited, in training data.

A model scored on rows it was trained on looks better than it is. Two detectors, cheapest
first:

* **exact**, after normalising: case folded, punctuation and runs of whitespace turned into
  one space (:func:`normalise_text`), then a SHA-256 per row (:func:`text_fingerprint`): a
  hash join, linear in the rows, catches re-exports and copies that only changed case or
  spacing;
* **near**: the Jaccard similarity of the rows' sets of character 5-grams ("shingles") of the
  normalised text: the shared pieces over all the pieces of both texts. A typo changes at
  most six shingles (a swapped pair of letters), a dropped sentence a few dozen, so edited
  copies stay similar while unrelated texts share little.

Jaccard divides by both texts, so it falls whenever their lengths differ much: a copy kept
inside a longer text (a forwarded mail, say), or cut down to a part, can score as low as
unrelated pairs. Look at what a threshold misses on your own data before trusting it.

:func:`jaccard_matrix` compares every pair exactly, with a sparse matrix product: fine up to
tens of thousands of rows a side. Beyond that, MinHash signatures with locality-sensitive
hashing (e.g. the ``datasketch`` package) estimate the same similarity without comparing
every pair.

The threshold is a decision, not a constant of nature: :data:`NEAR_DUPLICATE_THRESHOLD` was
chosen on the course's support tickets (planted edited copies against the most similar
unrelated pairs of a template-disjoint split) and must be re-checked on other data.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from course_lib.errors import DataVersionError

if TYPE_CHECKING:
    import pandas as pd
    from numpy.typing import NDArray

__all__ = [
    "LEAK_COLUMNS",
    "NEAR_DUPLICATE_THRESHOLD",
    "SHINGLE_SIZE",
    "find_leaks",
    "jaccard_matrix",
    "normalise_text",
    "remove_leaks",
    "row_texts",
    "shingles",
    "text_fingerprint",
]

SHINGLE_SIZE = 5
NEAR_DUPLICATE_THRESHOLD = 0.4
"""Jaccard similarity of 5-shingles at or above which two rows count as near-duplicates."""

LEAK_COLUMNS = ("train_key", "test_key", "similarity", "kind")
_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)


def normalise_text(text: str | None) -> str:
    """Lower case (NFKC, case folded), every run of non-alphanumerics one space, stripped."""
    if text is None:
        return ""
    folded = unicodedata.normalize("NFKC", str(text)).casefold()
    return _NOT_WORD.sub(" ", folded).strip()


def text_fingerprint(text: str | None) -> str:
    """The hex SHA-256 of :func:`normalise_text`: copies differing in case or spacing match."""
    return hashlib.sha256(normalise_text(text).encode("utf-8")).hexdigest()


def shingles(text: str | None, size: int = SHINGLE_SIZE) -> frozenset[str]:
    """The set of ``size``-character pieces of the normalised text (the text itself if shorter)."""
    if size < 1:
        raise ValueError(f"A shingle has at least one character; got size={size}.")
    norm = normalise_text(text)
    if len(norm) <= size:
        return frozenset([norm]) if norm else frozenset()
    return frozenset(norm[i : i + size] for i in range(len(norm) - size + 1))


def jaccard_matrix(
    left: Sequence[str | None], right: Sequence[str | None], size: int = SHINGLE_SIZE
) -> NDArray[Any]:
    """Jaccard similarity of the shingle sets of every (left, right) pair, as a matrix.

    Two empty texts score 0: nothing in common is not evidence of a copy.
    """
    import numpy as np
    from sklearn.feature_extraction.text import CountVectorizer

    if not left or not right:
        return np.zeros((len(left), len(right)))
    vectorizer = CountVectorizer(analyzer=lambda t: shingles(t, size), binary=True, dtype=np.int32)
    matrix = vectorizer.fit_transform(list(left) + list(right))
    a, b = matrix[: len(left)], matrix[len(left) :]
    inter = np.asarray((a @ b.T).todense(), dtype=np.float64)
    sizes_a = np.asarray(a.sum(axis=1), dtype=np.float64).reshape(-1, 1)
    sizes_b = np.asarray(b.sum(axis=1), dtype=np.float64).reshape(1, -1)
    union = sizes_a + sizes_b - inter
    result: NDArray[Any] = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    return result


def row_texts(frame: pd.DataFrame, text: str | Sequence[str]) -> list[str]:
    """Each row's text: the ``text`` columns joined by a blank line, missing values skipped."""
    columns = [text] if isinstance(text, str) else list(text)
    absent = [c for c in columns if c not in frame.columns]
    if absent:
        raise DataVersionError(
            f"No column {absent[0]!r} to compare; the table has {list(map(str, frame.columns))}."
        )
    values = frame[columns].astype(object).where(frame[columns].notna(), None)
    return [
        "\n\n".join(str(v) for v in row if v is not None and str(v) != "")
        for row in values.itertuples(index=False, name=None)
    ]


def find_leaks(
    train: pd.DataFrame,
    test: pd.DataFrame,
    *,
    text: str | Sequence[str] = ("subject", "body"),
    key: str = "id",
    threshold: float = NEAR_DUPLICATE_THRESHOLD,
    size: int = SHINGLE_SIZE,
) -> pd.DataFrame:
    """Every (train row, test row) pair that is an exact or near duplicate.

    Returns one row per pair with ``train_key``, ``test_key``, ``similarity`` (Jaccard of
    shingles) and ``kind`` (``exact`` when the normalised texts are equal, else ``near``),
    most similar first.
    """
    import numpy as np
    import pandas as pd

    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold is a Jaccard similarity in (0, 1]; got {threshold!r}.")
    for name, frame in (("train", train), ("test", test)):
        if key not in frame.columns:
            raise DataVersionError(f"The {name} table has no key column {key!r}.")
    left, right = row_texts(train, text), row_texts(test, text)
    similarity = jaccard_matrix(left, right, size)
    left_prints = [text_fingerprint(t) if normalise_text(t) else None for t in left]
    right_prints = [text_fingerprint(t) if normalise_text(t) else None for t in right]
    positions: dict[str, list[int]] = {}
    for j, p in enumerate(right_prints):
        if p is not None:
            positions.setdefault(p, []).append(j)
    pairs = {(int(i), int(j)) for i, j in zip(*np.nonzero(similarity >= threshold), strict=True)}
    pairs |= {(i, j) for i, p in enumerate(left_prints) if p in positions for j in positions[p]}
    train_keys, test_keys = list(train[key]), list(test[key])
    rows = [
        (
            train_keys[i],
            test_keys[j],
            round(float(similarity[i, j]), 4),
            "exact" if left_prints[i] is not None and left_prints[i] == right_prints[j] else "near",
        )
        for i, j in pairs
    ]
    leaks = pd.DataFrame(rows, columns=list(LEAK_COLUMNS))
    order = ["similarity", "train_key", "test_key"]
    return leaks.sort_values(order, ascending=[False, True, True], ignore_index=True)


def remove_leaks(train: pd.DataFrame, leaks: pd.DataFrame, *, key: str = "id") -> pd.DataFrame:
    """``train`` without the rows that duplicate a test row (the test split stays as it is).

    Removing from training keeps the test split, and so every earlier score on it, comparable.
    """
    if "train_key" not in leaks.columns:
        raise DataVersionError(
            "Expected the table find_leaks returns (with a 'train_key' column); got columns "
            f"{list(map(str, leaks.columns))}."
        )
    flagged = set(leaks["train_key"])
    return train[~train[key].isin(flagged)].reset_index(drop=True)
