"""Lesson 4.2's lab: the pool mapping, the one-pass cache replays against the production
caches, the sweep's arithmetic, the tutorial's storage and the evaluation runs."""

from __future__ import annotations

import uuid
from pathlib import Path

import pandas as pd
import pytest

from course_lib.caching import ExactCache, SemanticCache
from course_lib.datasets import generate_traffic, load_traffic
from course_lib.datasets.traffic.questions import load_traffic_questions
from course_lib.labs.storage_lab import (
    GUARD_MARGIN,
    ReplayClock,
    StorageLabError,
    cache_requests,
    content_words,
    evaluation_run,
    exact_hits,
    guard_hits,
    guard_report,
    nearest_earlier,
    pool_question,
    prototype_save_run,
    rephrased_pairs,
    replay_through_caches,
    sealed_truth,
    sweep_thresholds,
    variant_examples,
)


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    return cache_requests()


def test_every_text_of_two_weeks_maps_to_one_pool_question() -> None:
    pool = {q for questions in load_traffic_questions().values() for q in questions}
    for frame in (load_traffic(), generate_traffic(seed=3, n_requests=3_000).requests):
        found = {pool_question(text) for text in frame["question"].unique()}
        assert found <= pool
    assert all(pool_question(question) == question for question in pool)


def test_a_variant_maps_back_and_a_stranger_is_refused() -> None:
    question = load_traffic_questions()["oncall"][0]
    assert pool_question("hi, " + question[0].lower() + question[1:]) == question
    assert pool_question(question.lower().rstrip("?")) == question
    with pytest.raises(StorageLabError, match="not a variant"):
        pool_question("What is the airspeed of an unladen swallow?")


def test_cache_requests_are_ask_rows_in_time_order(rows: pd.DataFrame) -> None:
    assert rows["timestamp"].is_monotonic_increasing
    assert set(rows["scope"].str.count("/")) == {2}
    monday = cache_requests(days=("Mon",))
    assert set(monday["day"]) == {"Mon"} and len(monday) < len(rows)
    with pytest.raises(StorageLabError, match="Unknown day"):
        cache_requests(days=("Monday",))


def test_exact_hits_match_the_production_exact_cache(rows: pd.DataFrame) -> None:
    part = rows.head(400)
    cache = ExactCache(f"t{uuid.uuid4().hex[:10]}", url="")
    served = []
    for row in part.itertuples():
        request = {"scope": row.scope, "question": row.question.lower()}
        served.append(cache.get(request) is not None)
        if not served[-1] and row.outcome == "ok":
            cache.put(request, row.pool)
    found = exact_hits(part, str.lower)
    assert found["hit"].tolist() == served
    assert not found["false_hit"].any()
    assert found["hit"].sum() > exact_hits(part)["hit"].sum()  # a key finds more


def test_a_key_that_merges_questions_makes_false_hits(rows: pd.DataFrame) -> None:
    found = exact_hits(rows.head(300), lambda text: text[:6])
    assert found["false_hit"].sum() > 0


def test_nearest_earlier_is_what_the_semantic_cache_finds(rows: pd.DataFrame) -> None:
    part = rows.head(150)
    cache = SemanticCache(f"t{uuid.uuid4().hex[:10]}", url="")
    near = nearest_earlier(part)
    kept: set[tuple[str, str]] = set()
    for row, (_, mine) in zip(part.itertuples(), near.iterrows(), strict=True):
        hit = cache.nearest(row.question, scope=row.scope)
        if hit is None:
            assert mine["similarity"] == -1.0
        else:
            assert mine["similarity"] == pytest.approx(hit.similarity, abs=1e-5)
            assert mine["match"] == hit.value
            assert mine["match_text"] == hit.question
        if row.outcome == "ok" and (row.scope, row.question) not in kept:
            kept.add((row.scope, row.question))
            cache.put(row.question, row.pool, scope=row.scope)


def test_the_sweep_counts_hits_savings_and_false_hits() -> None:
    rows = pd.DataFrame(
        {"pool": ["a", "b", "c", "d"], "cost_usd": [1.0, 2.0, 3.0, 4.0]}, index=[5, 6, 7, 8]
    )
    nearest = pd.DataFrame(
        {"similarity": [-1.0, 0.99, 0.85, 0.7], "match": ["", "b", "x", "d"]}, index=rows.index
    )
    sweep = sweep_thresholds(rows, nearest, [0.8, 0.9]).set_index("threshold")
    assert sweep.loc[0.8, "hits"] == 2 and sweep.loc[0.8, "false_hits"] == 1
    assert sweep.loc[0.8, "false_hit_rate"] == 0.5
    assert sweep.loc[0.8, "saved_share"] == pytest.approx(0.5)
    assert sweep.loc[0.9, "hits"] == 1 and sweep.loc[0.9, "false_hit_rate"] == 0.0
    part = sweep_thresholds(rows.loc[[7, 8]], nearest, [0.8]).iloc[0]
    assert part["hits"] == 1 and part["hit_rate"] == 0.5
    with pytest.raises(StorageLabError, match="nearest_earlier"):
        sweep_thresholds(rows, nearest.loc[[5, 6]], [0.8])


def test_the_replay_reads_the_same_on_sqlite_and_redis(
    rows: pd.DataFrame, store_url: str | None
) -> None:
    part = rows.head(120)
    clock = ReplayClock()
    name = f"t{uuid.uuid4().hex[:10]}"
    exact = ExactCache(name, url=store_url or "", clock=clock)
    semantic = SemanticCache(f"{name}s", url=store_url or "", threshold=0.8, clock=clock)
    replay = replay_through_caches(part, exact, semantic, str.lower, clock=clock)
    assert replay.requests == 120
    assert replay.exact_hits + replay.semantic_hits + replay.model_calls == 120
    assert 0 < replay.cost_saved < replay.cost
    assert clock.now == part["timestamp"].iloc[-1].timestamp()
    again = replay_through_caches(part, exact, semantic, str.lower, clock=clock)
    assert again.model_calls < replay.model_calls  # the entries outlived the first pass
    assert replay.lines()[0].startswith("requests 120: exact hits")


def test_the_tutorials_csv_breaks_on_a_new_column(tmp_path: Path) -> None:
    prototype_save_run(tmp_path, "one", b"first", "prompt", {"run": "one", "recall": 0.5})
    prototype_save_run(tmp_path, "two", b"second", "prompt", {"run": "two", "recall": 0.6, "x": 1})
    assert (tmp_path / "index_final.pkl").read_bytes() == b"second"
    assert (tmp_path / "runs" / "one" / "index_final_v2.pkl").read_bytes() == b"first"
    with pytest.raises(pd.errors.ParserError):
        pd.read_csv(tmp_path / "results.csv")


def test_an_evaluation_run_scores_each_answerable_question() -> None:
    index, results = evaluation_run("bm25")
    assert index and list(results.columns) == ["question_id", "team", "type", "recall", "rr"]
    assert results["recall"].between(0, 1).all() and results["question_id"].is_unique
    assert "unknown" not in set(results["team"])
    with pytest.raises(StorageLabError, match="Unknown method"):
        evaluation_run("grep")


def test_variant_examples_name_every_way_a_question_varies(rows: pd.DataFrame) -> None:
    kinds = variant_examples(rows)
    assert "other" not in kinds.index and kinds["requests"].sum() == len(rows)
    assert kinds.loc["as written", "requests"] > kinds["requests"].drop("as written").max()
    assert kinds.loc["greeting 'hi, ' in front", "example"].startswith("hi, ")


def _frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = pd.DataFrame(
        {
            "question": ["q1", "q1 again", "SEV2?", "SEV3?"],
            "pool": ["a", "a", "b", "c"],
            "cost_usd": [1.0, 1.0, 1.0, 1.0],
        }
    )
    nearest = pd.DataFrame(
        {
            "similarity": [-1.0, 0.9, 0.2, 0.95],
            "match": ["", "a", "a", "b"],
            "match_text": ["", "q1", "q1", "SEV2?"],
        }
    )
    return rows, nearest


def test_a_guard_decides_on_the_nearest_match_and_false_hits_are_counted() -> None:
    rows, nearest = _frames()
    everything = guard_hits(rows, nearest, lambda q, c, s: True)
    assert everything["hit"].tolist() == [False, True, True, True]  # nothing stored: a miss
    assert everything["false_hit"].tolist() == [False, False, True, True]
    digits = guard_hits(rows, nearest, lambda q, c, s: s > 0.5 and c == "q1")
    assert digits["hit"].tolist() == [False, True, False, False]
    with pytest.raises(StorageLabError, match="return True"):
        guard_hits(rows, nearest, lambda q, c, s: s)


def test_the_guard_report_sets_the_bar_at_the_best_lone_threshold(rows: pd.DataFrame) -> None:
    part = rows.head(1_500)
    near = nearest_earlier(part)
    lone = guard_report(part, near, lambda q, c, s: s >= 0.9)
    assert lone.best_hits >= lone.hits or lone.false_hits > 0
    assert lone.target == lone.best_hits + int(-(-GUARD_MARGIN * len(part) // 1))
    assert not lone.passes
    lines = lone.lines()
    assert lines[0].startswith("served ") and "best threshold alone" in lines[1]


def test_the_truth_is_sealed_while_a_guard_is_measured() -> None:
    question = load_traffic_questions()["oncall"][0]
    with sealed_truth(), pytest.raises(StorageLabError, match="no labels"):
        pool_question(question)
    assert pool_question(question) == question


def test_a_guarded_replay_serves_only_what_the_guard_accepts(rows: pd.DataFrame) -> None:
    part = rows.head(120)
    name = f"t{uuid.uuid4().hex[:10]}"
    refused = replay_through_caches(
        part,
        ExactCache(name, url=""),
        SemanticCache(f"{name}s", url=""),
        serve=lambda q, c, s: False,
    )
    plain = replay_through_caches(
        part, ExactCache(f"{name}x", url=""), SemanticCache(f"{name}y", url="")
    )
    assert refused.semantic_hits == 0 and refused.exact_hits == plain.exact_hits


def test_the_production_side_prints_the_same_lines_on_both_stores(
    rows: pd.DataFrame, store_url: str | None
) -> None:
    from course_lib.course.exercises.lesson_4_2 import normalise, serve

    part = rows.head(200)

    def lines(url: str) -> list[str]:
        clock = ReplayClock()
        name = f"t{uuid.uuid4().hex[:10]}"
        exact = ExactCache(name, url=url, clock=clock, ttl_s=7 * 24 * 3600)
        semantic = SemanticCache(f"{name}s", url=url, clock=clock)
        replay = replay_through_caches(part, exact, semantic, normalise, clock=clock, serve=serve)
        return replay.lines()

    assert lines(store_url or "") == lines("")


def test_the_artifacts_get_the_same_digests_on_both_stores(
    object_store_url: str, tmp_path: Path
) -> None:
    from course_lib.artifacts import ArtifactStore

    blobs = [b"bm25 index", b"dense index", b"hybrid index"]
    here = [ArtifactStore(tmp_path / "local").put_bytes(blob).sha256 for blob in blobs]
    there = ArtifactStore(object_store_url)
    assert [there.put_bytes(blob).sha256 for blob in blobs] == here
    assert [there.get_bytes(digest) for digest in here] == blobs


def test_content_words_drop_case_filler_and_punctuation() -> None:
    assert content_words("Hi, how do I book annual leave? thanks") == {"book", "annual", "leave"}
    assert content_words("Who handles a SEV2?") == {"handles", "sev2"}


def test_rephrased_pairs_ask_each_pool_question_in_a_new_way(rows: pd.DataFrame) -> None:
    pairs = rephrased_pairs()
    pool = {q for questions in load_traffic_questions().values() for q in questions}
    assert set(pairs["cached"]) == pool and len(pairs) == len(pool)
    assert not set(pairs["question"]) & set(rows["question"])  # never in the week
    assert pairs["similarity"].between(0.5, 1.0).all()
    assert (pairs["question"] == rephrased_pairs()["question"]).all()  # deterministic
    with pytest.raises(StorageLabError, match="at least one phrasing"):
        rephrased_pairs(())
