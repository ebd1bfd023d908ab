"""Tests of routing with solved examples (course_lib.classify.few_shot), the stand-in's planted
use of them (course_lib.standin.examples), router plans priced whole, and the set-ups of
lesson 1.6's section on shipping a model (course_lib.labs.routing_lab)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from course_lib.classify import (
    FEW_SHOT_PROMPT_VERSION,
    EmbeddingClassifier,
    few_shot_messages,
    few_shot_route,
    nearest_indices,
    stratified_indices,
    zero_shot_route,
)
from course_lib.errors import CourseLibError
from course_lib.labs.routing_lab import (
    HumanCosts,
    RouterPlanError,
    RoutingBench,
    normalise_plan,
    rotated_vectors,
    tampered_copy,
    tuning_and_held_out,
    upgraded_embedder,
)
from course_lib.standin import local_client
from course_lib.standin.examples import apply_examples, solved_examples

QUEUES = {
    "hardware": "laptops, monitors, docks and other equipment",
    "access_request": "access to a system, group or repository",
}


# -- few-shot messages and helpers -----------------------------------------------------------


def test_few_shot_messages_pair_each_example_with_a_json_answer() -> None:
    messages = few_shot_messages("my dock is dead", [("screen flickers", "hardware")])
    assert messages == [
        {"role": "user", "content": "screen flickers"},
        {"role": "assistant", "content": json.dumps({"category": "hardware"})},
        {"role": "user", "content": "my dock is dead"},
    ]


def test_few_shot_route_refuses_an_example_label_outside_the_categories() -> None:
    with pytest.raises(ValueError, match="not among"):
        few_shot_route(local_client(), "x", examples=[("y", "payroll")], categories=QUEUES)


def test_stratified_indices_keep_every_label_and_are_seeded() -> None:
    labels = ["a"] * 50 + ["b"] * 30 + ["c"] * 20
    chosen = stratified_indices(labels, 10, seed=3)
    assert len(chosen) == 10 and chosen == sorted(chosen)
    assert [labels[i] for i in chosen].count("a") == 5
    assert stratified_indices(labels, 10, seed=3) == chosen
    assert stratified_indices(labels, 10, seed=4) != chosen
    assert stratified_indices(labels, 500) == list(range(100))
    with pytest.raises(ValueError):
        stratified_indices(labels, 0)


def test_nearest_indices_rank_by_cosine() -> None:
    pool = np.array([[1.0, 0.0], [0.0, 1.0], [0.7, 0.7]])
    queries = np.array([[1.0, 0.1], [0.0, 2.0]])
    assert nearest_indices(queries, pool, 2).tolist() == [[0, 2], [1, 2]]
    assert nearest_indices(queries, pool, 10).shape == (2, 3)
    with pytest.raises(ValueError):
        nearest_indices(queries, pool, 0)


# -- the stand-in's planted use of examples ---------------------------------------------------


def test_solved_examples_are_user_turns_answered_with_json() -> None:
    messages = [
        {"role": "user", "content": "dock broken"},
        {"role": "assistant", "content": '{"category": "hardware"}'},
        {"role": "user", "content": "no json here"},
        {"role": "assistant", "content": "prose answer"},
        {"role": "user", "content": "the ticket"},
    ]
    assert solved_examples(messages) == [("dock broken", {"category": "hardware"})]


def test_close_examples_vote_and_distant_ones_change_nothing() -> None:
    schema = {"properties": {"category": {"type": "string", "enum": list(QUEUES)}}}
    value = {"category": "hardware"}
    close = [
        ("please grant access to the finance repository group", {"category": "access_request"})
    ]
    distant = [("lunch menu for friday", {"category": "access_request"})]
    text = "grant me access to the finance repository"
    assert apply_examples(value, schema, text, close) == {"category": "access_request"}
    assert apply_examples(value, schema, text, distant) == value
    assert apply_examples(value, schema, text, []) == value


def test_the_local_model_follows_a_close_example() -> None:
    client = local_client()
    ticket = "Need the payroll-export group added, my request from Monday"
    alone = zero_shot_route(client, ticket, categories=QUEUES, seed=0)
    wanted = "hardware" if alone.category == "access_request" else "access_request"
    example = [("Need the payroll-export group added, request from Tuesday", wanted)]
    guided = few_shot_route(client, ticket, examples=example, categories=QUEUES, seed=0)
    assert guided.category == wanted
    assert guided.result.prompt_version == FEW_SHOT_PROMPT_VERSION
    assert guided.result.usage.input_tokens > alone.result.usage.input_tokens


# -- router plans ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        ("classifier", "dict"),
        ({"approach": "guess"}, "choose one of"),
        ({"approach": "classifier", "labels": 5}, "at least 10"),
        ({"approach": "zero-shot", "threshold": 0.5}, "classifier only"),
        ({"approach": "few-shot", "labels": 3, "examples": 5}, "at least as many"),
        ({"approach": "retrieved", "labels": 50}, "needs examples"),
        ({"approach": "classifier", "labels": 50, "threshold": 2}, "from 0 to 1"),
        ({"approach": "zero-shot", "model": "gpt"}, "choose one of"),
        ({"approach": "zero-shot", "budget": 3}, "Unknown plan keys"),
        ({"approach": "classifier", "labels": 50.5}, "whole number"),
    ],
)
def test_a_plan_that_cannot_run_gets_a_one_line_reason(plan: object, message: str) -> None:
    with pytest.raises(RouterPlanError, match=message) as info:
        normalise_plan(plan)
    assert isinstance(info.value, CourseLibError) and "\n" not in str(info.value)


def test_human_costs_price_a_persons_time() -> None:
    assert HumanCosts(seconds_per_ticket=36, hourly_rate_usd=50).usd(100) == pytest.approx(50.0)


def test_tuning_and_held_out_cut_in_time() -> None:
    tickets = pd.DataFrame({"id": [f"TCK-{i:04d}" for i in (5, 1, 4, 2, 3)]})
    early, late = tuning_and_held_out(tickets)
    assert early["id"].tolist() == ["TCK-0001", "TCK-0002"]
    assert late["id"].tolist() == ["TCK-0003", "TCK-0004", "TCK-0005"]


def _bench() -> RoutingBench:
    from course_lib.datasets import TICKET_CATEGORIES, load_tickets

    tickets = load_tickets()
    pool, tested = tickets.iloc[:200], tickets.iloc[600:640]
    classifier = EmbeddingClassifier()  # the default embedder, as the lesson's
    return RoutingBench(
        local_client(),
        classifier,
        pool,
        classifier.embed(pool["subject"] + "\n\n" + pool["body"]),
        tested,
        classifier.embed(tested["subject"] + "\n\n" + tested["body"]),
        categories=TICKET_CATEGORIES,
        human=HumanCosts(),
        tickets_per_year=5000,
    )


def test_for_tickets_embeds_what_it_is_not_given() -> None:
    from course_lib.datasets import TICKET_CATEGORIES, load_tickets

    tickets = load_tickets()
    pool, tested = tickets.iloc[:50], tickets.iloc[600:610]
    classifier = EmbeddingClassifier()
    bench = RoutingBench.for_tickets(
        local_client(), classifier, pool, tested, human=HumanCosts(), tickets_per_year=5000
    )
    assert bench.pool_vectors.shape == (50, classifier.embedder_identity.dimension)
    assert bench.ticket_vectors.shape[0] == 10 and bench.categories == dict(TICKET_CATEGORIES)
    given = np.zeros_like(bench.pool_vectors)
    reused = RoutingBench.for_tickets(
        local_client(),
        classifier,
        pool,
        tested,
        human=HumanCosts(),
        tickets_per_year=5000,
        pool_vectors=given,
    )
    assert reused.pool_vectors is given
    assert np.allclose(reused.ticket_vectors, bench.ticket_vectors)


def test_a_higher_threshold_hands_more_to_people_and_scores_higher() -> None:
    bench = _bench()
    low = bench.evaluate({"approach": "classifier", "labels": 200, "threshold": 0.0})
    high = bench.evaluate({"approach": "classifier", "labels": 200, "threshold": 1.0})
    assert low.handed_over == 0 and low.people_usd == 0
    assert high.handed_over == 1 and high.macro_f1 == 1.0
    assert high.people_usd == pytest.approx(HumanCosts().usd(1000))
    assert low.labelling_usd == pytest.approx(HumanCosts().usd(200) / 5000 * 1000)
    assert high.total_usd > low.total_usd


def test_evaluate_draws_averages_one_run_per_seed() -> None:
    bench = _bench()
    plan = {"approach": "classifier", "labels": 50, "threshold": 0.4}
    runs = [bench.evaluate(plan, seed=seed) for seed in (1, 2)]
    draws = bench.evaluate_draws(plan, seeds=(1, 2))
    assert draws.macro_f1 == pytest.approx((runs[0].macro_f1 + runs[1].macro_f1) / 2)
    assert draws.total_usd == pytest.approx((runs[0].total_usd + runs[1].total_usd) / 2)
    assert draws.n == 40 and "mean of 2 label draws on 40 tickets" in draws.line()
    with pytest.raises(ValueError, match="at least one seed"):
        bench.evaluate_draws(plan, seeds=())


@pytest.mark.parametrize(
    "plan",
    [
        # the lesson's margin on the tuning half (0.883 and $119 there); $163 held out
        {"approach": "classifier", "labels": 584, "threshold": 0.45},
        # within the margin (0.849 and $80 on the tuning half); 0.758 held out
        {"approach": "classifier", "labels": 584, "threshold": 0.35},
        # fewer labels, within the margin (0.857 and $124 on the tuning half)
        {"approach": "classifier", "labels": 400, "threshold": 0.425},
        # few labels, within the margin (0.822 and $114 on the tuning half); 0.826 held out
        {"approach": "classifier", "labels": 250, "threshold": 0.375},
    ],
)
def test_the_checker_accepts_plans_aimed_with_the_lessons_margin(plan: object) -> None:
    from course_lib.course.checking import evaluate

    feedback = evaluate("1.6.1", plan)
    assert feedback.solved, feedback.line


def test_the_checker_names_the_tuning_half_when_the_target_is_missed_there() -> None:
    from course_lib.course.checking import evaluate

    # 0.747 on the tuning half, yet within the allowance on the held-out half
    feedback = evaluate("1.6.1", {"approach": "classifier", "labels": 200, "threshold": 0.3})
    assert not feedback.solved
    assert "tuning half" in feedback.line and "0.80 itself" in feedback.line


def test_more_labels_than_the_pool_holds_is_refused() -> None:
    with pytest.raises(RouterPlanError, match="only 200 tickets"):
        _bench().evaluate({"approach": "classifier", "labels": 100_000, "threshold": 0.4})


def test_prompted_plans_pay_for_their_example_tokens() -> None:
    bench = _bench()
    zero = bench.evaluate({"approach": "zero-shot"})
    few = bench.evaluate({"approach": "few-shot", "labels": 10, "examples": 10})
    near = bench.evaluate({"approach": "retrieved", "labels": 200, "examples": 3})
    assert zero.labels == 0 and zero.labelling_usd == 0
    assert few.tokens_per_ticket > near.tokens_per_ticket > zero.tokens_per_ticket
    assert few.model_usd > zero.model_usd
    assert "per 1,000 tickets" in near.line()


def test_the_figures_draw_every_router() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from course_lib.labs.routing_lab import plot_cost_and_quality, plot_learning_curve

    table = pd.DataFrame(
        {"total $": [0.02, 40.6, 42.0], "macro-F1": [0.55, 0.68, 0.67]},
        index=["zero-shot", "head", "retrieved"],
    )
    fig = plot_cost_and_quality(table, cost="total $", quality="macro-F1", xlabel="$ a year")
    assert [t.get_text() for t in fig.axes[0].texts] == ["head", "retrieved", "zero-shot"]
    assert fig.axes[0].get_xlabel() == "$ a year (log scale)"
    summary = pd.DataFrame(
        {"mean": [0.4, 0.6], "min": [0.3, 0.6], "max": [0.5, 0.6]}, index=[25, 584]
    )
    curve = plot_learning_curve(summary, {"zero-shot": 0.55})
    assert len(curve.axes[0].get_legend().get_texts()) == 2
    plt.close("all")


# -- shipping the trained model ---------------------------------------------------------------


def test_rotated_vectors_keep_lengths_and_angles_in_another_space() -> None:
    vectors = np.random.default_rng(1).normal(size=(5, 8)).astype(np.float32)
    moved = rotated_vectors(vectors, seed=0)
    assert moved.dtype == np.float32 and moved.shape == vectors.shape
    assert np.allclose(moved @ moved.T, vectors @ vectors.T, atol=1e-4)
    assert not np.allclose(moved, vectors, atol=1e-2)
    assert np.array_equal(moved, rotated_vectors(vectors, seed=0))
    assert not np.allclose(moved, rotated_vectors(vectors, seed=1), atol=1e-2)


def test_upgraded_embedder_changes_only_the_version() -> None:
    from course_lib.embeddings import get_embedder

    original = get_embedder().identity
    upgraded = upgraded_embedder("wordllama-9/test/256").identity
    assert upgraded.version == "wordllama-9/test/256"
    assert (upgraded.name, upgraded.dimension) == (original.name, original.dimension)
    assert get_embedder().identity == original  # the shared embedder is untouched


def test_tampered_copy_appends_a_byte_and_keeps_the_old_sidecar(tmp_path: Path) -> None:
    from course_lib.classify import metadata_path

    model = tmp_path / "model.joblib"
    model.write_bytes(b"model bytes")
    metadata_path(model).write_text('{"artifact_sha256": "abc"}', encoding="utf-8")
    tampered = tampered_copy(model)
    assert tampered == tmp_path / "tampered.joblib"
    assert tampered.read_bytes() == b"model bytes\x00"
    assert metadata_path(tampered).read_text(encoding="utf-8") == '{"artifact_sha256": "abc"}'
    assert model.read_bytes() == b"model bytes"
