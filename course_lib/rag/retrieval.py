"""Search: dense, BM25, both fused with reciprocal rank fusion, or fused and re-ranked.

Dense retrieval finds paraphrases ("time off" for "annual leave"); BM25 finds exact terms
that embeddings blur (``PAY-4417``, ``pg_dump``, a team name). Hybrid search asks both for
``candidates`` results each and fuses the two rankings with RRF
(:func:`~course_lib.rag.fusion.reciprocal_rank_fusion`), which needs no score normalisation.
``reranked`` adds a second stage: the same candidates ordered by their sentence closest to the
question (:mod:`course_lib.rag.rerank`) are a third ranking, weighted 0.5, and each ranking's
first pick is kept in the top three (:func:`~course_lib.rag.fusion.promote_first_picks`), so a
confident dense hit is not outvoted by chunks that merely share words with the question.

Measured on the golden dev split (147 answerable questions, 40 of them in the ``paraphrase``
slice written in everyday words; default chunking; ``benchmarks/rag.py`` and
``docs/benchmarks.md``): recall@5 is 0.731 dense, 0.718 BM25, 0.779 hybrid and 0.816
reranked. On the paraphrase slice the order changes: dense 0.638, BM25 0.300, hybrid 0.475,
reranked 0.500. BM25 matches the question's incidental words, and fusing it in costs the
paraphrases what it gains on questions that use the handbook's terms. No weighting of the two
retrievers tried on dev removed that trade-off (down-weighting BM25, or a smaller RRF
constant, gains on paraphrases what it loses elsewhere), so the fused modes weight them
equally. ``reranked`` is the Handbook
Assistant's default, the best overall on dev; ``hybrid`` stays plain RRF, as the lessons
build it, and is :func:`search`'s default. The second stage costs about a millisecond per
search once the candidates' sentences are embedded (they are cached by chunk text). On the
test split, measured once after these choices, the two fused modes swapped places (recall@5
0.767 hybrid, 0.729 reranked; 0.512 and 0.450 on its paraphrase slice): both the dev gain and
the test loss are within noise, so neither split shows the second stage to matter.

Tried on dev and left out, because none improved recall@5 consistently (each gained or lost a
few questions depending on its setting, within noise):
expanding queries with the handbook's glossary (terms and meanings read from the indexed
glossary tables), score-normalised fusion instead of RRF, 100 candidates per retriever,
other RRF constants, BM25 over titles and headings, whole-document vectors, pseudo-relevance
feedback, and adding the corpus words nearest to each query word to BM25. The paraphrase
slice is limited by the static embedder: dense search's ten nearest chunks hold only 70% of
the documents its questions cite (recall@10 0.700), and no fusion ranks what no retriever
finds.

Access control is applied by the index inside each query (see :mod:`course_lib.rag.index`),
before anything is ranked: every result is one the user may read, and asking for ``k``
results returns ``k`` whenever that many readable chunks match. Team and version filters work
the same way. The re-ranker only reorders those candidates.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from course_lib.rag.access import User
from course_lib.rag.chunking import Chunk
from course_lib.rag.fusion import DEFAULT_RRF_K, promote_first_picks, reciprocal_rank_fusion

if TYPE_CHECKING:
    from course_lib.rag.index import HandbookIndex

__all__ = ["DEFAULT_WEIGHTS", "FIRST_PICKS", "MODES", "Retrieved", "SearchMode", "search"]

SearchMode = Literal["dense", "bm25", "hybrid", "reranked"]
MODES: tuple[SearchMode, ...] = ("dense", "bm25", "hybrid", "reranked")
DEFAULT_WEIGHTS: Mapping[str, Mapping[str, float]] = {
    "hybrid": {"dense": 1.0, "bm25": 1.0},
    "reranked": {"dense": 1.0, "bm25": 1.0, "sentences": 0.5},
}
"""The fusion weight of each ranking, per fused mode (chosen on the golden dev split)."""
FIRST_PICKS: Mapping[str, bool] = {"hybrid": False, "reranked": True}
"""Per fused mode, whether each ranking's first pick is kept among the first results (see
:func:`~course_lib.rag.fusion.promote_first_picks`); ``hybrid`` stays plain RRF."""


@dataclass(frozen=True)
class Retrieved:
    """One search result.

    Attributes:
        chunk: the chunk found.
        score: cosine similarity (``dense``), BM25 score (``bm25``) or RRF score (``hybrid``,
            ``reranked``): comparable within one result list only (in ``reranked``, a
            retriever's promoted first pick can score below a result ranked after it).
        rank: 1 for the best result.
        method: the mode that produced the list.
        dense_rank: the chunk's rank among the dense candidates, if it was one.
        bm25_rank: the chunk's rank among the BM25 candidates, if it was one.
        sentence_rank: the chunk's rank when the candidates are ordered by their best
            sentence (``reranked`` only).
    """

    chunk: Chunk
    score: float
    rank: int
    method: str
    dense_rank: int | None = None
    bm25_rank: int | None = None
    sentence_rank: int | None = None


def _check_positive(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name!r} must be a positive integer (got {value!r}).")
    return value


def search(
    index: HandbookIndex,
    query: str,
    *,
    user: User,
    k: int = 5,
    mode: SearchMode | str = "hybrid",
    teams: Collection[str] | None = None,
    version: int | None = None,
    rrf_k: int = DEFAULT_RRF_K,
    candidates: int = 50,
    weights: Mapping[str, float] | None = None,
    first_picks: bool | None = None,
) -> list[Retrieved]:
    """The ``k`` chunks ``user`` may read that best match ``query``, best first.

    Args:
        index: the index to search.
        query: the question or keywords.
        user: who is asking; only chunks at their clearance are ever considered.
        k: how many results.
        mode: ``"dense"``, ``"bm25"``, ``"hybrid"`` (the default) or ``"reranked"`` (hybrid
            plus the sentence re-ranker); see ``docs/benchmarks.md`` for how each does on the
            golden set.
        teams: only chunks of documents owned by these teams.
        version: only chunks of documents at this version number.
        rrf_k: the RRF constant (hybrid and reranked).
        candidates: how many results each retriever contributes before fusion (hybrid and
            reranked; at least ``k``).
        weights: the weight of each ranking in the fusion, by name (``"dense"``, ``"bm25"``,
            and ``"sentences"`` when reranked); :data:`DEFAULT_WEIGHTS` for the mode when
            omitted, and 1 for a name left out.
        first_picks: keep each ranking's first pick among the first results (fused modes);
            :data:`FIRST_PICKS` for the mode when omitted.

    Returns:
        Up to ``k`` :class:`Retrieved`, ranked 1 to ``k``. BM25 returns only chunks sharing a
        term with the query, so it (and hybrid, rarely) can return fewer.

    Raises:
        ValueError: an unknown mode, a non-positive ``k``, ``rrf_k`` or ``candidates``, a
            negative weight or one for a ranking the mode does not have, or an empty query.
        TypeError: ``user`` is not a :class:`User`, or ``teams`` is a single string.

    Example:
        >>> hits = search(index, "on-call pay", user=User.employee("u1"), k=3)  # doctest: +SKIP
        >>> [hit.chunk.doc_id for hit in hits]                                   # doctest: +SKIP
    """
    _check_arguments(
        query, user=user, k=k, mode=mode, teams=teams, rrf_k=rrf_k, candidates=candidates
    )
    if mode == "dense":
        hits = index.dense_candidates(query, user=user, limit=k, teams=teams, version=version)
        return [
            Retrieved(chunk, score, rank, "dense", dense_rank=rank)
            for rank, (chunk, score) in enumerate(hits, start=1)
        ]
    if mode == "bm25":
        hits = index.bm25_candidates(query, user=user, limit=k, teams=teams, version=version)
        return [
            Retrieved(chunk, score, rank, "bm25", bm25_rank=rank)
            for rank, (chunk, score) in enumerate(hits, start=1)
        ]
    return _fused(
        index,
        query,
        user=user,
        k=k,
        teams=teams,
        version=version,
        rrf_k=rrf_k,
        depth=max(candidates, k),
        rerank=mode == "reranked",
        weights=DEFAULT_WEIGHTS[mode] if weights is None else weights,
        first_picks=FIRST_PICKS[mode] if first_picks is None else first_picks,
    )


def _check_arguments(
    query: str,
    *,
    user: User,
    k: int,
    mode: str,
    teams: Collection[str] | None,
    rrf_k: int,
    candidates: int,
) -> None:
    """Raises the TypeError or ValueError :func:`search` documents for a bad argument."""
    if not isinstance(user, User):
        raise TypeError(
            f"search() needs the User who is asking (got {type(user).__name__}); access "
            "control depends on it. Pass user=User(...)."
        )
    if mode not in MODES:
        raise ValueError(f"Unknown search mode {mode!r}. Choose one of {list(MODES)}.")
    _check_positive("k", k)
    _check_positive("rrf_k", rrf_k)
    _check_positive("candidates", candidates)
    if not isinstance(query, str) or not query.strip():
        raise ValueError(f"The query is empty ({query!r}); pass the user's question or keywords.")
    if isinstance(teams, str):
        raise TypeError(
            f"teams takes a collection of team ids, not one string; write teams=[{teams!r}]."
        )


def _fused(
    index: HandbookIndex,
    query: str,
    *,
    user: User,
    k: int,
    teams: Collection[str] | None,
    version: int | None,
    rrf_k: int,
    depth: int,
    rerank: bool,
    weights: Mapping[str, float],
    first_picks: bool,
) -> list[Retrieved]:
    """The ``k`` best of ``depth`` dense and ``depth`` BM25 candidates, fused with RRF; when
    ``rerank``, the candidates ordered by their best sentence are a third ranking."""
    dense = index.dense_candidates(query, user=user, limit=depth, teams=teams, version=version)
    lexical = index.bm25_candidates(query, user=user, limit=depth, teams=teams, version=version)
    by_id = {chunk.id: chunk for chunk, _ in (*dense, *lexical)}
    rankings = {"dense": [c.id for c, _ in dense], "bm25": [c.id for c, _ in lexical]}
    if rerank:  # only the readable candidates above: the re-ranker sees nothing else
        ranked = index.sentence_scorer.rank(query, list(by_id.values()))
        rankings["sentences"] = [chunk.id for chunk, _ in ranked]
    fused = reciprocal_rank_fusion(rankings, k=rrf_k, weights=weights)
    if first_picks:
        fused = promote_first_picks(fused, rankings)
    method = "reranked" if rerank else "hybrid"
    return [
        Retrieved(
            by_id[item.key],
            item.score,
            rank,
            method,
            dense_rank=item.ranks.get("dense"),
            bm25_rank=item.ranks.get("bm25"),
            sentence_rank=item.ranks.get("sentences"),
        )
        for rank, item in enumerate(fused[:k], start=1)
    ]
