"""course_lib.labs.agent_budgets and agent_figures: the suite over seeds, budgets scored."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest

from course_lib.agents import Step
from course_lib.labs import (
    GENEROUS,
    HELD_OUT_SEEDS,
    HELD_OUT_TASKS,
    TASKS,
    budget_report,
    compare_success,
    lost_and_gained,
    outcome_counts,
    plot_outcomes,
    plot_runaway,
    production_solver,
    run_loops,
    run_seeds,
    run_with_budgets,
    success_by_kind,
    success_table,
    time_limited,
)
from course_lib.labs.agent_budgets import budget_edges, loose_budgets
from course_lib.standin import local_client


@pytest.fixture(scope="module")
def client():  # type: ignore[no-untyped-def]
    return local_client()


def _model(latency_ms: float) -> Step:
    return Step("model", "parcel_status", "{}", None, 100, 0.0, latency_ms)


def test_time_limited_stops_on_modelled_time_only_when_asked() -> None:
    steps = [_model(600.0), _model(600.0)]
    assert time_limited(1.0)(steps, max_steps=10, max_repeats=None) == "budget"
    assert time_limited(1.5)(steps, max_steps=10, max_repeats=None) is None
    assert time_limited(None)(steps, max_steps=10, max_repeats=None) is None
    # The loop's own limits still come first.
    assert time_limited(1.0)(steps, max_steps=2, max_repeats=None) == "max_steps"


def test_held_out_tasks_differ_from_the_lesson_suite() -> None:
    assert {t.id for t in HELD_OUT_TASKS}.isdisjoint(t.id for t in TASKS)
    assert {t.request for t in HELD_OUT_TASKS}.isdisjoint(t.request for t in TASKS)


@pytest.mark.parametrize(
    ("budgets", "message"),
    [
        ([4], "must be a dict"),
        ({"max_steps": 4, "max_turns": 2}, "unknown budget"),
        ({"max_steps": 0}, "at least 1"),
        ({"max_steps": "4"}, "whole number"),
    ],
)
def test_bad_budgets_get_a_one_line_message(client, budgets, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises((TypeError, ValueError), match=message):
        run_with_budgets(client, budgets, seeds=(0,), tasks=TASKS[:1])


def test_tight_budgets_lose_runs_and_loose_ones_spend(client) -> None:  # type: ignore[no-untyped-def]
    tasks = [t for t in TASKS if t.id in ("search-then-read", "parcel-unknown")]
    baseline = run_with_budgets(client, GENEROUS, seeds=(0, 1), tasks=tasks)
    assert set(baseline["seed"]) == {0, 1} and len(baseline) == 4
    generous = budget_report(baseline, baseline)
    assert not generous.meets_target  # the runaway task spends 12 model calls
    assert generous.worst_tokens > 5_000
    tight = budget_report(
        run_with_budgets(client, {"max_steps": 2}, seeds=(0, 1), tasks=tasks), baseline
    )
    assert tight.lost  # the two-step task needs three model calls
    assert tight.lost[0] == "search-then-read@0, ended by max_steps"
    assert "2 lost (first: search-then-read@0, ended by max_steps)" in str(tight)
    good = {"max_steps": 3, "max_tokens": 3_000, "max_seconds": 1.0, "max_repeats": 1}
    report = budget_report(run_with_budgets(client, good, seeds=(0, 1), tasks=tasks), baseline)
    assert report.meets_target and "meets the target" in str(report)
    # Steps and repeats end every runaway here; budgets far above their edges guard nothing.
    loose = {"max_steps": 3, "max_tokens": 10**9, "max_seconds": 1e9, "max_repeats": 1}
    report = budget_report(run_with_budgets(client, loose, seeds=(0, 1), tasks=tasks), baseline)
    assert report.loose == ("max_tokens", "max_seconds") and not report.meets_target
    assert "loose: max_tokens, max_seconds" in str(report)
    # max_repeats=0 refuses every call, even a first one: every success is lost.
    none = {**good, "max_repeats": 0}
    report = budget_report(run_with_budgets(client, none, seeds=(0,), tasks=tasks), baseline)
    assert report.correct == 0 and "ended by max_repeats" in report.lost[0]


def test_run_suite_records_what_each_budget_must_let_through(client) -> None:  # type: ignore[no-untyped-def]
    tasks = [t for t in TASKS if t.id in ("search-then-read", "parcel-unknown")]
    frame = run_with_budgets(client, GENEROUS, seeds=(0,), tasks=tasks).set_index("task")
    two_steps, runaway = frame.loc["search-then-read"], frame.loc["parcel-unknown"]
    assert two_steps["outcome"] == "correct" and two_steps["model_calls"] == 3
    assert 0 < two_steps["tokens_before_last"] < two_steps["tokens"]
    assert 0 < two_steps["seconds_before_last"] < two_steps["model_seconds"]
    assert two_steps["most_repeats"] == 1
    assert runaway["most_repeats"] == runaway["model_calls"] == 12  # the same call each time
    edges = budget_edges(frame.reset_index())
    assert edges["max_steps"] == 3 and edges["max_repeats"] == 1
    assert edges["max_tokens"] == two_steps["tokens_before_last"]


def test_a_budget_is_loose_far_above_its_edge() -> None:
    edges = {"max_steps": 3, "max_tokens": 2_000, "max_seconds": 0.8, "max_repeats": 1}
    at_edge = {"max_steps": 4, "max_tokens": 3_000, "max_seconds": 1.2, "max_repeats": 2}
    assert loose_budgets(at_edge, edges) == ()
    above = {"max_steps": 5, "max_tokens": 3_001, "max_seconds": 1.21, "max_repeats": 3}
    assert loose_budgets(above, edges) == tuple(above)
    assert loose_budgets(GENEROUS, edges) == tuple(GENEROUS)
    with pytest.raises(ValueError, match="solved nothing"):
        budget_edges(pd.DataFrame({"outcome": ["crashed"]}))


def test_the_checkers_budgets_keep_every_held_out_success_at_the_edge(client) -> None:  # type: ignore[no-untyped-def]
    """A learner's budgets a margin above the lesson's edges pass on the held-out tasks."""
    dev = budget_edges(run_with_budgets(client, GENEROUS))
    held_out = budget_edges(
        run_with_budgets(client, GENEROUS, tasks=HELD_OUT_TASKS, seeds=HELD_OUT_SEEDS)
    )
    # Not loose on the lesson's tasks means not loose on the checker's either...
    for key in ("max_tokens", "max_seconds"):
        assert held_out[key] >= dev[key]
    assert held_out["max_steps"] == dev["max_steps"]
    assert held_out["max_repeats"] == dev["max_repeats"]
    # ...and a 15% margin above the lesson's edges keeps every held-out success.
    for key in ("max_tokens", "max_seconds"):
        assert held_out[key] < 1.15 * dev[key]


def test_compare_success_pairs_by_task(client) -> None:  # type: ignore[no-untyped-def]
    tasks = TASKS[:4]
    a = run_seeds(lambda s: production_solver(GENEROUS, seed=s), client, seeds=(0, 1), tasks=tasks)
    same = compare_success(a, a)
    assert same.n == 4 and same.mean_difference == 0
    with pytest.raises(ValueError, match="same tasks"):
        compare_success(a, a[a["task"] != tasks[0].id])


def test_figures_and_tables_draw_from_a_suite(client) -> None:  # type: ignore[no-untyped-def]
    runs = run_seeds(
        lambda s: production_solver({"max_steps": 3}, seed=s), client, seeds=(0,), tasks=TASKS[:3]
    )
    suite = pd.concat([runs.assign(model="chat-small", loop="production")])
    order = [("chat-small", "production")]
    assert int(outcome_counts(suite, order).to_numpy().sum()) == 3
    assert success_table(suite, order).loc[order[0], "runs"] == 3
    plot_outcomes(suite, order)
    replies = [client.chat("Where is parcel KF-20931?") for _ in range(2)]
    assert plot_runaway(replies).axes


def test_run_loops_stacks_every_model_and_loop(client) -> None:  # type: ignore[no-untyped-def]
    def make(budgets: dict[str, Any]) -> Callable[[str, int], Any]:
        return lambda model, seed: production_solver(budgets, seed=seed, model=model)

    loops = {"tight": make({"max_steps": 1}), "loose": make(GENEROUS)}
    suite = run_loops(loops, client, models=("chat-small",), seeds=(0, 1), hard_cap=12)
    assert len(suite) == 2 * 2 * len(TASKS)
    assert list(dict.fromkeys(suite["loop"])) == ["tight", "loose"]
    assert set(suite["model"]) == {"chat-small"} and set(suite["seed"]) == {0, 1}


def test_success_by_kind_and_lost_and_gained_pair_runs() -> None:
    rows = [
        ("small", "a", "t1", "lookup", 0, "correct"),
        ("small", "b", "t1", "lookup", 0, "wrong answer"),
        ("small", "a", "t2", "action", 0, "crashed"),
        ("small", "b", "t2", "action", 0, "correct"),
        ("small", "a", "t3", "action", 0, "correct"),
        ("small", "b", "t3", "action", 0, "correct"),
    ]
    suite = pd.DataFrame(rows, columns=["model", "loop", "task", "kind", "seed", "outcome"])
    by_kind = success_by_kind(suite)
    assert list(by_kind.index) == [("small", "a"), ("small", "b")]
    # Rows in the order the suite ran its loops, not sorted by name.
    assert list(success_by_kind(suite.iloc[::-1]).index) == [("small", "b"), ("small", "a")]
    assert by_kind.loc[("small", "a"), "lookup"] == 1.0
    assert by_kind.loc[("small", "b"), "action"] == 1.0
    lost, gained = lost_and_gained(suite, "a", "b")
    assert list(lost.index) == [("small", "t1", 0)]
    assert list(gained.index) == [("small", "t2", 0)]
    assert list(lost.columns) == ["a", "b"]


@pytest.mark.parametrize(
    "budgets",
    [
        # Just below loose on the lesson's tasks, with a generous repeat budget.
        {"max_steps": 4, "max_tokens": 3_286, "max_seconds": 1.09, "max_repeats": 2},
        # A small margin above the lesson's edges.
        {"max_steps": 3, "max_tokens": 2_300, "max_seconds": 0.85, "max_repeats": 2},
        # Measured on the lesson's generous runs, as its text says, plus 20%.
        {"max_steps": 3, "max_tokens": 2_629, "max_seconds": 0.87, "max_repeats": 1},
    ],
)
def test_the_checker_accepts_fair_budgets_it_was_not_given(budgets: dict[str, Any]) -> None:
    from course_lib.course import check

    feedback = check("1.5.2", budgets)
    assert feedback.solved, feedback.line
