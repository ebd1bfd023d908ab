"""Choosing a retriever on evidence: quality on your own questions, latency, memory, licence.

A public leaderboard ranks embedding models on other people's data. What matters in production
is how a candidate does on *your* questions, what it costs per query and per stored vector, and
whether its licence lets you ship it. This module measures those, the same way for every
candidate:

* :class:`BM25Retriever` (sparse, ``bm25s``) and :class:`EmbeddingRetriever` (dense, any
  :class:`~course_lib.embeddings.Embedder`) are built once over the same texts and answer
  ``search(query)`` with the indices of the best texts, best first, ties by lower index. A
  shared base writes ``search`` as one call of ``search_many``, so the two always agree.
* :func:`evaluate_retriever` scores a retriever on golden questions, one row per question, with
  the definitions of the golden set's datasheet (:mod:`course_lib.labs.baselines`), so its
  means match the datasheet's table.
* :func:`comparison_table` puts quality next to dimension, memory per 1,000 vectors and the
  declared licence; :func:`latency_table` times single queries, what a user waits for.

Wall-clock figures change between runs and machines: compare medians and ratios, never one
run's absolute numbers. Everything else here is deterministic.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    import pandas as pd

    from course_lib.datasets.golden import GoldenQuestion
    from course_lib.embeddings.base import Embedder

__all__ = [
    "BM25Retriever",
    "EmbeddingRetriever",
    "IndexFootprint",
    "LatencySummary",
    "Retriever",
    "comparison_table",
    "declared_licence",
    "evaluate_retriever",
    "latency_table",
    "measure_latency",
]

_K = 5  # recall@K, as in the golden set's datasheet
_DEPTH = 10  # rankings and the reciprocal rank look this deep, as in the datasheet


@dataclass(frozen=True)
class IndexFootprint:
    """How big a retriever's index is, computed from the arrays it stores.

    Attributes:
        documents: how many texts are indexed.
        dimension: the length of each vector: the embedder's dimension for a dense index, the
            vocabulary size for BM25 (whose vectors are mostly zeros and stored sparse).
        stored_values: how many numbers the index stores for all its vectors together.
        nbytes: the bytes of the arrays that hold them (a sparse index's lookup structures
            included; Python-side dictionaries, such as BM25's vocabulary, are not).
    """

    documents: int
    dimension: int
    stored_values: int
    nbytes: int

    @property
    def values_per_vector(self) -> float:
        """Stored numbers per text: the dimension when dense, far fewer when sparse."""
        return self.stored_values / self.documents if self.documents else 0.0

    @property
    def bytes_per_1000(self) -> float:
        """Bytes per 1,000 indexed texts: how the index grows with the corpus."""
        return 1000 * self.nbytes / self.documents if self.documents else 0.0


@runtime_checkable
class Retriever(Protocol):
    """Anything that ranks a fixed list of texts for a query: what the benchmark compares."""

    name: str
    kind: str  # "sparse" or "dense"
    licence: str

    def search(self, query: str, depth: int = _DEPTH) -> list[int]:
        """Indices of up to ``depth`` best texts for ``query``, best first."""
        ...

    def search_many(self, queries: Sequence[str], depth: int = _DEPTH) -> list[list[int]]:
        """One :meth:`search` result per query, computed together where that is faster."""
        ...

    @property
    def footprint(self) -> IndexFootprint:
        """The size of the index, from its arrays."""
        ...


class _RankingSearch:
    """Base of the lesson's retrievers: :meth:`search` is one query through :meth:`search_many`.

    A subclass writes only :meth:`search_many`, so one query and many are ranked by the same
    code and cannot drift apart.
    """

    def search(self, query: str, depth: int = _DEPTH) -> list[int]:
        """Indices of up to ``depth`` best texts for ``query``, best first."""
        if not isinstance(query, str):
            raise TypeError(f"search() takes one query string (got {type(query).__name__}).")
        return self.search_many([query], depth)[0]

    def search_many(self, queries: Sequence[str], depth: int = _DEPTH) -> list[list[int]]:
        """One ranking per query, best first; a subclass must define it."""
        raise NotImplementedError(f"{type(self).__name__} must define search_many().")


class BM25Retriever(_RankingSearch):
    """BM25 over a fixed list of texts, with ``bm25s``'s default parameters and English stopwords.

    Texts are lower-cased and split into words of two or more letters or digits; no stemming,
    so "flag" and "flags" are different terms. A text that shares no term with the query scores
    0 and is not returned, so a ranking can be shorter than ``depth`` (a query made only of
    stopwords retrieves nothing). The rankings equal those of
    :func:`course_lib.labs.baselines.bm25_rankings`, which the golden set's datasheet uses.
    """

    kind = "sparse"

    def __init__(self, texts: Sequence[str], *, name: str = "BM25") -> None:
        import bm25s

        items = _check_corpus(texts)
        self.name = name
        self.licence = declared_licence("bm25s")
        self._bm25s = bm25s
        self._retriever = bm25s.BM25()
        self._retriever.index(self._tokenize(items), show_progress=False)
        self._documents = len(items)

    def _tokenize(self, texts: list[str]) -> list[list[str]]:
        from course_lib.rag.bm25 import tokenize

        return tokenize(texts)

    def search_many(self, queries: Sequence[str], depth: int = _DEPTH) -> list[list[int]]:
        """Per query, the indices of up to ``depth`` texts with the highest positive score."""
        from course_lib.rag.bm25 import top_positive

        _check_depth(depth)
        items = _check_queries(queries)
        return [
            top_positive(self._retriever.get_scores(tokens), depth) if tokens else []
            for tokens in self._tokenize(items)
        ]

    @property
    def footprint(self) -> IndexFootprint:
        """The sparse score matrix (values, row indices, column pointers) and its vocabulary."""
        import numpy as np

        arrays = [v for v in self._retriever.scores.values() if isinstance(v, np.ndarray)]
        return IndexFootprint(
            documents=self._documents,
            dimension=len(self._retriever.vocab_dict),
            stored_values=int(self._retriever.scores["data"].size),
            nbytes=int(sum(array.nbytes for array in arrays)),
        )

    def __repr__(self) -> str:
        return f"BM25Retriever(name={self.name!r}, documents={self._documents})"


class EmbeddingRetriever(_RankingSearch):
    """Dense retrieval: texts embedded once, each query embedded and compared by cosine.

    Args:
        embedder: any :class:`~course_lib.embeddings.Embedder` (the default, a transformer, a
            provider's API).
        texts: the texts to search.
        name: the label in tables; the embedder's registry name by default.
        package: the installed distribution whose declared licence applies (e.g. the package
            that ships the weights); ``None`` when unknown.
        batch_size: passed to :meth:`Embedder.embed` when indexing.
    """

    kind = "dense"

    def __init__(
        self,
        embedder: Embedder,
        texts: Sequence[str],
        *,
        name: str | None = None,
        package: str | None = None,
        batch_size: int = 64,
    ) -> None:
        items = _check_corpus(texts)
        self.embedder = embedder
        self.name = name or embedder.identity.name
        self.licence = declared_licence(package) if package else "not declared"
        self.matrix = embedder.embed(items, batch_size=batch_size)

    def search_many(self, queries: Sequence[str], depth: int = _DEPTH) -> list[list[int]]:
        """Per query, the ``depth`` most cosine-similar texts; the queries embedded in one call."""
        from course_lib.embeddings.similarity import top_k

        _check_depth(depth)
        items = _check_queries(queries)
        if not items:
            return []
        indices, _ = top_k(self.embedder.embed(items), self.matrix, depth)
        return [[int(i) for i in row] for row in indices]

    @property
    def footprint(self) -> IndexFootprint:
        """The embedding matrix: one row of ``dimension`` floats per text."""
        rows, dimension = self.matrix.shape
        return IndexFootprint(
            documents=int(rows),
            dimension=int(dimension),
            stored_values=int(self.matrix.size),
            nbytes=int(self.matrix.nbytes),
        )

    def __repr__(self) -> str:
        return f"EmbeddingRetriever(name={self.name!r}, documents={self.matrix.shape[0]})"


def evaluate_retriever(
    retriever: Retriever,
    questions: Sequence[GoldenQuestion],
    doc_ids: Sequence[str],
    *,
    k: int = _K,
    depth: int = _DEPTH,
) -> pd.DataFrame:
    """Scores ``retriever`` on answerable golden questions: one row per question.

    ``doc_ids[i]`` is the document of the retriever's ``i``-th text (several sections share a
    document). Columns: ``id``, ``type``, ``question``, ``recall_at_<k>`` (share of the cited
    documents among the documents of the top ``k`` texts), ``reciprocal_rank`` (1/rank of the
    first text from a cited document within ``depth``, else 0) and ``top_doc_ids``.

    Raises:
        ValueError: ``doc_ids`` does not have one entry per indexed text.
        ValueError: a question cites no document (leave unanswerable questions out).
    """
    import pandas as pd

    from course_lib.evaluation import unit_recall_at_k, unit_reciprocal_rank

    documents = retriever.footprint.documents
    if len(doc_ids) != documents:
        raise ValueError(
            f"doc_ids has {len(doc_ids)} entries but {retriever.name} indexes {documents} texts; "
            "pass the document id of every indexed text, in the same order."
        )
    rankings = retriever.search_many([q.question for q in questions], depth)
    rows = []
    for question, ranking in zip(questions, rankings, strict=True):
        ranked = tuple(doc_ids[i] for i in ranking)
        rows.append(
            {
                "id": question.id,
                "type": question.type,
                "question": question.question,
                f"recall_at_{k}": unit_recall_at_k(ranked, question.doc_ids, k),
                "reciprocal_rank": unit_reciprocal_rank(ranked, question.doc_ids, depth),
                "top_doc_ids": ranked,
            }
        )
    return pd.DataFrame(rows)


def comparison_table(
    retrievers: Sequence[Retriever], evaluations: Mapping[str, pd.DataFrame], *, k: int = _K
) -> pd.DataFrame:
    """One row per retriever: quality (means of :func:`evaluate_retriever`) and index size.

    Columns: ``retriever``, ``kind``, ``dimensions``, ``values per vector``,
    ``KiB per 1,000 vectors`` (1 KiB = 1,024 bytes), ``licence``, ``recall@<k>`` and ``MRR``,
    rounded to 3 decimals (sizes to 1).

    Raises:
        KeyError: a retriever has no evaluation under its name.
    """
    import pandas as pd

    rows = []
    for retriever in retrievers:
        if retriever.name not in evaluations:
            raise KeyError(
                f"No evaluation for retriever {retriever.name!r}; evaluations has "
                f"{sorted(evaluations)}. Run evaluate_retriever on it first."
            )
        scores = evaluations[retriever.name]
        footprint = retriever.footprint
        rows.append(
            {
                "retriever": retriever.name,
                "kind": retriever.kind,
                "dimensions": footprint.dimension,
                "values per vector": round(footprint.values_per_vector, 1),
                "KiB per 1,000 vectors": round(footprint.bytes_per_1000 / 1024, 1),
                "licence": retriever.licence,
                f"recall@{k}": round(float(scores[f"recall_at_{k}"].mean()), 3),
                "MRR": round(float(scores["reciprocal_rank"].mean()), 3),
            }
        )
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class LatencySummary:
    """Wall-clock time of single searches, in milliseconds."""

    queries: int
    median_ms: float
    p95_ms: float


def measure_latency(
    search: Callable[[str], object],
    queries: Sequence[str],
    *,
    repeats: int = 1,
    warmup: int = 1,
    clock: Callable[[], float] = time.perf_counter,
) -> LatencySummary:
    """Times ``search(query)`` once per query (``repeats`` rounds), after ``warmup`` untimed calls.

    The warm-up absorbs one-off costs (lazy imports, caches) that a long-running service pays
    once, not per request. ``clock`` returns seconds; tests pass a fake one.
    """
    import numpy as np

    items = _check_queries(queries)
    if not items:
        raise ValueError("measure_latency needs at least one query.")
    _check_positive(repeats, "repeats")
    for _ in range(max(0, warmup)):
        search(items[0])
    times = []
    for _ in range(repeats):
        for query in items:
            start = clock()
            search(query)
            times.append((clock() - start) * 1000)
    return LatencySummary(
        queries=len(times),
        median_ms=float(np.median(times)),
        p95_ms=float(np.percentile(times, 95)),
    )


def latency_table(
    retrievers: Sequence[Retriever], queries: Sequence[str], *, repeats: int = 1
) -> pd.DataFrame:
    """Median and 95th-percentile latency of one search, per retriever (wall clock)."""
    import pandas as pd

    rows = []
    for retriever in retrievers:
        summary = measure_latency(retriever.search, queries, repeats=repeats)
        rows.append(
            {
                "retriever": retriever.name,
                "searches": summary.queries,
                "median ms": round(summary.median_ms, 3),
                "p95 ms": round(summary.p95_ms, 3),
            }
        )
    return pd.DataFrame(rows)


def declared_licence(distribution: str) -> str:
    """The licence an installed distribution declares in its metadata, in a few words.

    Looks at the SPDX ``License-Expression``, then a short ``License`` field (or the first line
    of a long one, which is often the whole licence text), then the trove classifiers. Check
    the weights' licence too: a model card can differ from the code's licence.

    Raises:
        ValueError: ``distribution`` is not installed.
    """
    import importlib.metadata

    try:
        metadata = importlib.metadata.metadata(distribution)
    except importlib.metadata.PackageNotFoundError:
        raise ValueError(
            f"{distribution!r} is not installed, so its licence cannot be read. Install it, or "
            "read the licence from the project's page or model card."
        ) from None
    return _licence_from_metadata(metadata)


def _licence_from_metadata(metadata: Any) -> str:
    """The licence in a package's metadata (an email.message.Message-like mapping)."""
    expression = (metadata.get("License-Expression") or "").strip()
    if expression:
        return expression
    text = (metadata.get("License") or "").strip()
    first_line = text.splitlines()[0].strip() if text else ""
    if first_line and first_line.upper() != "UNKNOWN" and len(first_line) <= 60:
        return first_line
    classifiers = metadata.get_all("Classifier") or []
    licences = [c.split("::")[-1].strip() for c in classifiers if c.startswith("License ::")]
    return "; ".join(licences) if licences else "not declared"


def _check_corpus(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, str):
        raise TypeError("Pass a list of texts, not one string.")
    items = list(texts)
    if not items:
        raise ValueError("There is nothing to index: pass at least one text.")
    for index, item in enumerate(items):
        if not isinstance(item, str):
            raise TypeError(f"Text {index} is a {type(item).__name__}, not a string.")
    return items


def _check_queries(queries: Sequence[str]) -> list[str]:
    if isinstance(queries, str):
        raise TypeError("search_many() takes a list of queries; for one query, call search().")
    items = list(queries)
    for index, item in enumerate(items):
        if not isinstance(item, str):
            raise TypeError(f"Query {index} is a {type(item).__name__}, not a string.")
    return items


def _check_depth(depth: int) -> None:
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
        raise ValueError(f"depth must be a positive integer (got {depth!r}).")


def _check_positive(value: int, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{what} must be a positive integer (got {value!r}).")
