"""BM25 over the chunks one clearance may read, built with ``bm25s`` from the chunks table.

Why one BM25 index per clearance, and not one index with a filter: BM25's inverse document
frequency is computed over the whole corpus. In a shared index, the words of restricted
documents change the scores (and so the ranking) of public chunks for everyone, a small but
real side channel, and a filter applied after scoring would leave fewer than ``k`` results.
Indexing only the readable chunks gives scores that restricted text never touched. The index
for a clearance is built on first use (about 50 ms for the handbook) and cached until the
chunks change; team and version filters then apply as a ``weight_mask`` before ranking.

Tokenization: lower case, English stop words removed (bm25s's list), then each word cut to its
stem by the Snowball English stemmer (PyStemmer, the stemmer bm25s supports), so "scanned",
"scanning" and "scans" all meet "scan" and "policies" meets "policy": people ask in their own
inflections. Measured on the golden dev split (147 answerable questions, default chunking):
recall@5 0.704 -> 0.718 for BM25, 0.748 -> 0.779 for hybrid and 0.796 -> 0.816 for reranked
search with the stemmer. On the ``paraphrase`` slice it cuts both ways (BM25 0.350 -> 0.300,
since a stem also meets more incidental words; hybrid 0.400 -> 0.475; reranked 0.525 ->
0.500); every difference is within noise, and the overall direction decided. Keeping stop
words lowered BM25 (0.718 -> 0.694). Identifiers survive: the token
pattern keeps ``pg_dump`` whole and the stemmer leaves such tokens alone.

:func:`tokenize` and :func:`top_positive` are the course's one BM25 set-up: the lessons'
benchmarks and the datasheet's baselines use them too, so every BM25 figure in the course
means the same thing.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["BM25Corpus", "tokenize", "top_positive"]

_STOPWORDS = "en"
_STEMMER_LANGUAGE = "english"
_stemmers = threading.local()


def _stemmer() -> Any:
    """This thread's Snowball stemmer: a PyStemmer object keeps state and must not be shared
    between threads that search at the same time."""
    stemmer = getattr(_stemmers, "stemmer", None)
    if stemmer is None:
        import Stemmer

        stemmer = Stemmer.Stemmer(_STEMMER_LANGUAGE)
        _stemmers.stemmer = stemmer
    return stemmer


def tokenize(texts: Sequence[str]) -> list[list[str]]:
    """Lower-cased, stemmed word tokens without stop words, one list per text.

    Example:
        >>> tokenize(["Parcels scanned at the depot", "Scan a parcel"])
        [['parcel', 'scan', 'depot'], ['scan', 'parcel']]
    """
    import bm25s

    tokens: list[list[str]] = bm25s.tokenize(
        list(texts),
        stopwords=_STOPWORDS,
        stemmer=_stemmer(),
        return_ids=False,
        show_progress=False,
    )
    return tokens


def top_positive(scores: NDArray[Any], limit: int) -> list[int]:
    """Indices of the ``limit`` best positive scores, ties broken by lower index.

    A zero score shares no term with the query: BM25 did not retrieve it, so it is left out
    rather than ranked in arbitrary order (a query of stop words alone retrieves nothing).
    """
    import numpy as np

    order = np.argsort(-scores, kind="stable")[:limit]
    return [int(i) for i in order if scores[i] > 0]


@dataclass(frozen=True)
class BM25Corpus:
    """A BM25 index over some chunks, remembering each one's rowid, team and version.

    Build it with :meth:`build`; rows are in the order given (the index sorts them by rowid,
    so ties are broken the same way on every machine).
    """

    rowids: NDArray[Any]
    teams: NDArray[Any]
    versions: NDArray[Any]
    retriever: Any  # bm25s.BM25, or None for an empty corpus

    @classmethod
    def build(
        cls,
        rowids: Sequence[int],
        texts: Sequence[str],
        teams: Sequence[str],
        versions: Sequence[int],
    ) -> BM25Corpus:
        """Indexes ``texts`` (the chunks' indexed text) under their rowids."""
        import bm25s
        import numpy as np

        retriever = None
        if texts:
            retriever = bm25s.BM25()
            retriever.index(tokenize(texts), show_progress=False)
        return cls(
            rowids=np.asarray(rowids, dtype=np.int64),
            teams=np.asarray(teams, dtype=object),
            versions=np.asarray(versions, dtype=np.int64),
            retriever=retriever,
        )

    def __len__(self) -> int:
        return int(self.rowids.size)

    def search(
        self,
        query: str,
        *,
        limit: int,
        teams: Collection[str] | None = None,
        version: int | None = None,
    ) -> list[tuple[int, float]]:
        """The ``limit`` best ``(rowid, score)`` pairs for ``query``, best first.

        Only chunks sharing at least one term with the query are returned (a zero score means
        BM25 found nothing), so the list can be shorter than ``limit``. Equal scores keep the
        corpus order.
        """
        import numpy as np

        if self.retriever is None or limit < 1:
            return []
        (tokens,) = tokenize([query])
        if not tokens:
            return []  # only stop words: nothing to match
        mask = None
        if teams is not None or version is not None:
            keep = np.ones(len(self), dtype=bool)
            if teams is not None:
                keep &= np.isin(self.teams, list(teams))
            if version is not None:
                keep &= self.versions == version
            mask = keep.astype(np.float32)
        scores = self.retriever.get_scores(tokens, weight_mask=mask)
        return [(int(self.rowids[i]), float(scores[i])) for i in top_positive(scores, limit)]
