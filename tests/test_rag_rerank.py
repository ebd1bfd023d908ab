"""Tests of the second stage (sentence re-ranking), stemmed BM25 and weighted fusion.

The re-ranker must be deterministic, must see only the candidates the reader's own queries
returned (access filtering happens first), and ``reranked`` search must be exactly the weighted
RRF of the dense, BM25 and sentence rankings.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence

import numpy as np
import pytest
from test_rag_index import CountingEmbedder  # the embedder that counts what it embeds

from course_lib.datasets import load_handbook
from course_lib.embeddings import Embedder, EmbedderIdentity, get_embedder
from course_lib.rag import Chunk, HandbookIndex, User, content_hash, reciprocal_rank_fusion, search
from course_lib.rag.bm25 import tokenize
from course_lib.rag.fusion import promote_first_picks
from course_lib.rag.rerank import SentenceScorer, split_sentences
from course_lib.rag.retrieval import DEFAULT_WEIGHTS

HANDBOOK = load_handbook()
EMPLOYEE = User("u1", team="sre", clearance={"public", "internal"})
CONTRACTOR = User("c1", team="it", clearance={"public"})
MANAGER = User.manager("m1", team="eng-leadership")


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HandbookIndex]:
    path = tmp_path_factory.mktemp("rag-rerank") / "handbook.sqlite"
    with HandbookIndex.build(HANDBOOK, path=path) as built:
        yield built


def _chunk(text: str, doc_id: str = "doc", position: int = 0) -> Chunk:
    return Chunk(
        id=f"{doc_id}:{position}:{content_hash(text)[:12]}",
        doc_id=doc_id,
        title=doc_id,
        section="Section",
        version=1,
        access="internal",
        team="people",
        text=text,
        content_hash=content_hash(text),
        position=position,
        token_count=len(text.split()),
    )


class BlankEmbedder(Embedder):
    """Maps every text to the zero vector: every similarity is 0, so only ties are left."""

    identity = EmbedderIdentity("blank", 8, "blank-1")

    def _embed_batch(self, texts: list[str], batch_size: int) -> np.ndarray:
        return np.zeros((len(texts), 8), dtype=np.float32)

    def count_tokens(self, text: str) -> int:
        return len(text.split())


# --- stemmed BM25 -----------------------------------------------------------------------------


def test_stemming_makes_inflections_meet_and_keeps_identifiers_whole() -> None:
    assert tokenize(["scanned"]) == tokenize(["scan"]) == tokenize(["scanning"]) == [["scan"]]
    assert tokenize(["policies"]) == tokenize(["policy"])
    assert tokenize(["pg_dump kctl rollback"]) == [["pg_dump", "kctl", "rollback"]]
    assert tokenize(["the of and"]) == [[]]  # stop words still go


def test_a_bm25_query_in_one_inflection_finds_text_in_another(index: HandbookIndex) -> None:
    """No chunk says "reimbursement"; BM25 finds "reimbursed" and "reimbursable" by the stem."""
    assert not any("reimbursement" in chunk.indexed_text.lower() for chunk in index.all_chunks())
    hits = search(index, "reimbursement", user=MANAGER, k=5, mode="bm25")
    assert hits
    assert all("reimburs" in hit.chunk.indexed_text.lower() for hit in hits)


# --- weighted fusion --------------------------------------------------------------------------


def test_weights_scale_each_ranking_and_default_to_one() -> None:
    rankings = {"dense": ["a", "b"], "bm25": ["b", "c"]}
    plain = reciprocal_rank_fusion(rankings)
    same = reciprocal_rank_fusion(rankings, weights={"dense": 1.0, "bm25": 1.0})
    assert [(i.key, i.score) for i in plain] == [(i.key, i.score) for i in same]
    halved = reciprocal_rank_fusion(rankings, weights={"bm25": 0.5})
    assert {i.key: i.score for i in halved} == pytest.approx(
        {"a": 1 / 61, "b": 1 / 62 + 0.5 / 61, "c": 0.5 / 62}
    )
    ignored = reciprocal_rank_fusion(rankings, weights={"bm25": 0})
    assert [i.key for i in ignored][:2] == ["a", "b"]
    assert ignored[-1].ranks == {"bm25": 2}  # still listed, with no score


@pytest.mark.parametrize(
    ("weights", "pattern"),
    [
        ({"sparse": 1.0}, r"Weights given for \['sparse'\]"),
        ({"bm25": -1.0}, r"'bm25' must be a number of at least 0"),
        ({"bm25": float("nan")}, r"'bm25' must be a number of at least 0"),
    ],
)
def test_bad_weights_are_refused(weights: dict[str, float], pattern: str) -> None:
    with pytest.raises(ValueError, match=pattern):
        reciprocal_rank_fusion({"dense": ["a"], "bm25": ["a"]}, weights=weights)


def test_a_weight_for_a_ranking_the_mode_lacks_is_refused(index: HandbookIndex) -> None:
    with pytest.raises(ValueError, match=r"Weights given for \['sentences'\]"):
        search(index, "leave", user=EMPLOYEE, mode="hybrid", weights={"sentences": 1.0})


def test_each_rankings_first_pick_is_kept_in_the_first_places() -> None:
    rankings = {"dense": ["d1", "x", "y"], "bm25": ["b1", "x", "y"], "sentences": ["x", "y"]}
    fused = reciprocal_rank_fusion(rankings)
    assert [item.key for item in fused][:3] == ["x", "y", "d1"]  # agreement outvotes b1
    promoted = promote_first_picks(fused, rankings)
    assert [item.key for item in promoted] == ["x", "d1", "b1", "y"]
    assert sorted(promoted, key=lambda i: i.key) == sorted(fused, key=lambda i: i.key)
    # Nothing to do when the first picks are already in place, or a ranking is empty.
    assert promote_first_picks(fused[:0], rankings) == []
    settled = {"a": ["p", "q"], "b": ["q", "p"], "c": []}
    assert promote_first_picks(reciprocal_rank_fusion(settled), settled) == (
        reciprocal_rank_fusion(settled)
    )


def test_first_picks_can_be_switched_per_search(index: HandbookIndex) -> None:
    query = "my phone died, how do I get back into my work accounts?"
    plain = search(index, query, user=EMPLOYEE, k=10, mode="reranked", first_picks=False)
    assert [h.score for h in plain] == sorted((h.score for h in plain), reverse=True)
    hybrid = search(index, query, user=EMPLOYEE, k=10, mode="hybrid", first_picks=True)
    firsts = {
        search(index, query, user=EMPLOYEE, k=1, mode=mode)[0].chunk.id
        for mode in ("dense", "bm25")
    }
    assert firsts <= {h.chunk.id for h in hybrid[:2]}


# --- the sentence re-ranker -------------------------------------------------------------------


def test_sentences_are_split_at_ends_and_lines_and_short_fragments_dropped() -> None:
    text = (
        "Claims within 30 days. Receipts: over EUR 25 only!\n- Ask Finance first\n|---|---|\nYes."
    )
    assert split_sentences(text) == [
        "Claims within 30 days.",
        "over EUR 25 only!",
        "Ask Finance first",
    ]
    assert split_sentences("Too short.") == ["Too short."]  # nothing long enough: whole text


def test_the_best_sentence_decides_and_the_order_is_deterministic() -> None:
    scorer = SentenceScorer(get_embedder())
    answer = _chunk(
        "Office plants are watered on Mondays. The kitchen is cleaned daily. "
        "Annual leave is 27 days a year plus public holidays.",
        "a",
    )
    topic = _chunk("Leave and holidays are a popular topic in the office kitchen and plants.", "b")
    query = "How many days of annual leave do I get?"
    first = scorer.rank(query, [topic, answer])
    assert [chunk.doc_id for chunk, _ in first] == ["a", "b"]
    assert first == scorer.rank(query, [topic, answer])  # cached vectors, same result
    scores = scorer.similarities(query, [answer])
    assert scores == pytest.approx([max(s for _, s in first)])


def test_ties_keep_the_input_order() -> None:
    scorer = SentenceScorer(BlankEmbedder())
    chunks = [_chunk(f"Sentence number {i} says very little.", "d", i) for i in range(5)]
    shuffled = random.Random(3).sample(chunks, k=5)
    assert [chunk for chunk, _ in scorer.rank("anything at all", shuffled)] == shuffled
    assert scorer.similarities("anything", []) == []


def test_each_chunk_is_embedded_once_and_the_cache_is_bounded() -> None:
    embedder = CountingEmbedder(get_embedder())
    scorer = SentenceScorer(embedder, max_chunks=2)
    chunks = [_chunk(f"Rule {i}: expenses are claimed within {i} days.", "d", i) for i in range(3)]
    scorer.rank("expenses", chunks[:2])
    scorer.rank("claims", chunks[:2])
    assert len(embedder.texts) == 2 + 2  # two chunks' sentences once, plus one query per call
    scorer.rank("expenses", chunks)
    assert len(scorer) == 2
    with pytest.raises(ValueError, match="max_chunks must be at least 1"):
        SentenceScorer(embedder, max_chunks=0)


class RecordingScorer(SentenceScorer):
    """A scorer that records every chunk it was asked to rank."""

    def __init__(self, embedder: Embedder) -> None:
        super().__init__(embedder)
        self.seen: list[Chunk] = []

    def rank(self, query: str, chunks: Sequence[Chunk]) -> list[tuple[Chunk, float]]:
        self.seen.extend(chunks)
        return super().rank(query, chunks)


@pytest.mark.parametrize("user", [EMPLOYEE, CONTRACTOR])
def test_the_reranker_only_sees_what_the_reader_may_read(
    index: HandbookIndex, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Queries aimed at restricted documents: the re-ranker is handed readable chunks only,
    exactly the dense and BM25 candidates, and so returns nothing else."""
    recorder = RecordingScorer(index.embedder)
    monkeypatch.setattr(index, "_sentences", recorder)
    restricted = [doc for doc in HANDBOOK if doc.access == "restricted"]
    for doc in restricted:
        query = f"{doc.title} {doc.text[:200]}"
        recorder.seen.clear()
        hits = search(index, query, user=user, k=10, mode="reranked", candidates=20)
        candidates = {
            chunk.id
            for find in (index.dense_candidates, index.bm25_candidates)
            for chunk, _ in find(query, user=user, limit=20)
        }
        assert recorder.seen
        assert {chunk.id for chunk in recorder.seen} == candidates
        assert all(user.can_read(chunk.access) for chunk in recorder.seen)
        assert all(user.can_read(hit.chunk.access) for hit in hits)


def test_reranked_is_the_weighted_rrf_of_three_rankings_with_first_picks_kept(
    index: HandbookIndex,
) -> None:
    query = "my phone died, how do I get back into my work accounts?"
    dense = search(index, query, user=EMPLOYEE, k=20, mode="dense")
    bm25 = search(index, query, user=EMPLOYEE, k=20, mode="bm25")
    pool = list({hit.chunk.id: hit.chunk for hit in (*dense, *bm25)}.values())
    sentences = index.sentence_scorer.rank(query, pool)
    rankings = {
        "dense": [h.chunk.id for h in dense],
        "bm25": [h.chunk.id for h in bm25],
        "sentences": [chunk.id for chunk, _ in sentences],
    }
    fused = reciprocal_rank_fusion(rankings, weights=DEFAULT_WEIGHTS["reranked"])
    expected = promote_first_picks(fused, rankings)[:5]
    hits = search(index, query, user=EMPLOYEE, k=5, mode="reranked", candidates=20)
    assert [h.chunk.id for h in hits] == [item.key for item in expected]
    assert [h.score for h in hits] == pytest.approx([item.score for item in expected])
    assert all(h.method == "reranked" and h.sentence_rank is not None for h in hits)
    again = search(index, query, user=EMPLOYEE, k=5, mode="reranked", candidates=20)
    assert again == hits
