"""Tests of reciprocal rank fusion, the search modes, and the public surface of course_lib.rag."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import course_lib.rag
from course_lib.datasets import load_handbook
from course_lib.rag import HandbookIndex, User, reciprocal_rank_fusion, search

READER = User.employee("u1", team="people")


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HandbookIndex]:
    path = tmp_path_factory.mktemp("rag-retrieval") / "handbook.sqlite"
    with HandbookIndex.build(load_handbook(), path=path) as built:
        yield built


# --- reciprocal rank fusion -----------------------------------------------------------------


def test_rrf_on_a_hand_example() -> None:
    """dense: a b c; bm25: c a d. With k = 60:
    a = 1/61 + 1/62, c = 1/63 + 1/61, b = 1/62, d = 1/63."""
    fused = reciprocal_rank_fusion({"dense": ["a", "b", "c"], "bm25": ["c", "a", "d"]})
    assert [item.key for item in fused] == ["a", "c", "b", "d"]
    expected = {"a": 1 / 61 + 1 / 62, "c": 1 / 63 + 1 / 61, "b": 1 / 62, "d": 1 / 63}
    assert {item.key: item.score for item in fused} == pytest.approx(expected)
    assert fused[1].ranks == {"dense": 3, "bm25": 1}


def test_rrf_constant_changes_scores_and_can_change_the_order() -> None:
    """k = 1 rewards a single first place; k = 60 rewards agreement."""
    rankings = {"dense": ["x", "a", "b", "y"], "bm25": ["c", "d", "e", "y"]}
    assert reciprocal_rank_fusion(rankings, k=60)[0].key == "y"  # 2/64 > 1/61
    assert reciprocal_rank_fusion(rankings, k=1)[0].key == "x"  # 1/2 > 2/5
    assert reciprocal_rank_fusion(rankings, k=1)[0].score == pytest.approx(1 / 2)


def test_rrf_ties_are_deterministic_and_repeats_count_once() -> None:
    fused = reciprocal_rank_fusion({"a": ["p", "q", "p"], "b": ["q", "p"]})
    assert [item.key for item in fused] == ["p", "q"]  # equal scores: p was first in "a"
    assert fused[0].score == pytest.approx(1 / 61 + 1 / 62)
    assert reciprocal_rank_fusion({}) == []
    with pytest.raises(ValueError, match="positive integer"):
        reciprocal_rank_fusion({"a": ["x"]}, k=0)


# --- search -----------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["dense", "bm25", "hybrid"])
def test_each_mode_ranks_from_one_with_descending_scores(index: HandbookIndex, mode: str) -> None:
    hits = search(index, "How many days of annual leave do I get?", user=READER, k=7, mode=mode)
    assert [hit.rank for hit in hits] == list(range(1, 8))
    assert all(hit.method == mode for hit in hits)
    scores = [hit.score for hit in hits]
    assert scores == sorted(scores, reverse=True)
    assert "leave-policy" in {hit.chunk.doc_id for hit in hits[:3]}
    assert len({hit.chunk.id for hit in hits}) == 7


def test_hybrid_is_the_rrf_of_dense_and_bm25_candidates(index: HandbookIndex) -> None:
    query = "who approves a production database break-glass request"
    manager = User.manager("m1")
    dense = search(index, query, user=manager, k=20, mode="dense")
    bm25 = search(index, query, user=manager, k=20, mode="bm25")
    hybrid = search(index, query, user=manager, k=5, mode="hybrid", candidates=20)
    expected = reciprocal_rank_fusion(
        {"dense": [h.chunk.id for h in dense], "bm25": [h.chunk.id for h in bm25]}
    )[:5]
    assert [h.chunk.id for h in hybrid] == [item.key for item in expected]
    assert [h.score for h in hybrid] == pytest.approx([item.score for item in expected])
    for hit, item in zip(hybrid, expected, strict=True):
        assert (hit.dense_rank, hit.bm25_rank) == (item.ranks.get("dense"), item.ranks.get("bm25"))


def test_bm25_finds_exact_identifiers_and_skips_stop_word_queries(index: HandbookIndex) -> None:
    hits = search(index, "pg_dump", user=User.manager("m1"), k=3, mode="bm25")
    assert hits and all("pg_dump" in hit.chunk.text for hit in hits)
    assert search(index, "the of and", user=READER, mode="bm25") == []


@pytest.mark.parametrize(
    ("kwargs", "error", "pattern"),
    [
        ({"mode": "sparse"}, ValueError, r"Unknown search mode 'sparse'"),
        ({"k": 0}, ValueError, r"'k' must be a positive integer"),
        ({"candidates": -1}, ValueError, r"'candidates' must be a positive integer"),
        ({"rrf_k": 0}, ValueError, r"'rrf_k' must be a positive integer"),
        ({"teams": "sre"}, TypeError, r"teams=\['sre'\]"),
    ],
)
def test_search_arguments_are_checked(
    index: HandbookIndex, kwargs: dict, error: type[Exception], pattern: str
) -> None:
    with pytest.raises(error, match=pattern):
        search(index, "leave", user=READER, **kwargs)


def test_an_empty_query_is_refused(index: HandbookIndex) -> None:
    with pytest.raises(ValueError, match="The query is empty"):
        search(index, "   ", user=READER)


# --- public surface ---------------------------------------------------------------------------


def test_the_public_api_is_sorted_and_complete() -> None:
    exported = course_lib.rag.__all__
    assert exported == sorted(
        exported, key=lambda name: (not name.isupper(), name[0].islower(), name)
    )
    assert all(hasattr(course_lib.rag, name) for name in exported)


@pytest.mark.parametrize(
    "module",
    ["access", "bm25", "chunking", "fusion", "packing", "rerank", "retrieval", "retrieval_eval"],
)
def test_the_docstring_examples_run(module: str) -> None:
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(f"course_lib.rag.{module}"))
    assert result.failed == 0


def test_importing_course_lib_rag_loads_no_heavy_library() -> None:
    heavy = ["numpy", "pandas", "bm25s", "sqlite_vec", "sqlean", "wordllama", "yaml"]
    code = f"import sys, course_lib.rag; print([m for m in {heavy!r} if m in sys.modules])"
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
