"""The evaluation runner, the model judge and the evaluation figures."""

from __future__ import annotations

import json
from dataclasses import dataclass

import matplotlib
import numpy as np
import pandas as pd
import pytest

from course_lib.evaluation import (
    JudgeVerdict,
    UnparseableVerdictError,
    bootstrap_ci,
    bootstrap_means,
    compare_runs,
    grade,
    grade_all,
    is_refusal,
    parse_verdict,
    plot_bootstrap,
    plot_paired,
    rescore,
    run_golden,
    summarize,
    token_f1,
)
from course_lib.evaluation.judge import JUDGE_TEMPLATE, RESPONSE_FORMAT, judge_prompt
from course_lib.evaluation.runner import RUN_COLUMNS
from course_lib.standin import local_client

matplotlib.use("Agg")


@dataclass(frozen=True)
class Item:
    id: str
    question: str
    answer: str
    type: str = "fact"


ITEMS = [
    Item("q1", "When is the handover?", "Monday at 10:00"),
    Item("q2", "What is the allowance?", "EUR 300 per week"),
    Item("q3", "What is the bonus?", "The handbook does not cover it.", "unanswerable"),
]


def f1_scorer(item: Item, answer: str) -> float:
    return token_f1(answer, item.answer)


# -- refusals ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "I don't know: the provided documents do not cover this.",
        "I do not know.",
        "Sorry, I cannot answer that from these documents.",
        "The handbook does not give the number of depots.",
        "That is not covered by the documents.",
    ],
)
def test_refusals_are_recognised(text: str) -> None:
    assert is_refusal(text)


@pytest.mark.parametrize(
    "text",
    [
        "Handover is Monday at 10:00.",
        "If you cannot find the runbook, page the on-call engineer.",
        "You don't need approval for that.",
        "",
    ],
)
def test_answers_are_not_refusals(text: str) -> None:
    assert not is_refusal(text)


def test_no_handbook_sentence_reads_as_a_refusal() -> None:
    """A model answering from the handbook must never be scored as refusing."""
    from course_lib.datasets import load_handbook

    for version in ("current", "v1"):
        for doc in load_handbook(version):
            for line in doc.text.splitlines():
                assert not is_refusal(line), (doc.id, line)


# -- run_golden --------------------------------------------------------------------------------


def test_run_golden_keeps_one_row_per_question_with_scores_and_usage() -> None:
    client = local_client()
    frame = run_golden(
        lambda item: client.chat(f"Question: {item.question}"),
        ITEMS,
        scorers={"f1": f1_scorer},
        run="v1",
    )
    assert list(frame.columns) == [*RUN_COLUMNS, "f1"]
    assert frame["id"].tolist() == ["q1", "q2", "q3"]
    assert (frame["run"] == "v1").all()
    assert frame["error"].isna().all()
    assert (frame["input_tokens"] > 0).all() and (frame["cost_usd"] > 0).all()
    assert frame["simulated_latency_ms"].notna().all()
    assert frame["f1"].between(0, 1).all()
    assert frame.loc[0, "reference"] == "Monday at 10:00"


def test_run_golden_accepts_plain_text_answers() -> None:
    frame = run_golden(lambda item: item.answer, ITEMS, scorers={"f1": f1_scorer})
    assert frame["f1"].tolist() == [1.0, 1.0, 1.0]
    assert frame["cost_usd"].isna().all()


def test_a_failed_call_is_recorded_and_scores_zero() -> None:
    def flaky(item: Item) -> str:
        if item.id == "q2":
            raise TimeoutError("the model took too long")
        return item.answer

    frame = run_golden(flaky, ITEMS, scorers={"f1": f1_scorer})
    assert frame["f1"].tolist() == [1.0, 0.0, 1.0]
    assert frame.loc[1, "error"] == "TimeoutError: the model took too long"
    assert frame.loc[1, "answer"] == ""
    with pytest.raises(TimeoutError):
        run_golden(flaky, ITEMS, scorers={"f1": f1_scorer}, on_error="raise")


def test_a_broken_scorer_is_never_mistaken_for_a_bad_answer() -> None:
    def broken(item: Item, answer: str) -> float:
        return item.reference_answer  # type: ignore[attr-defined]

    with pytest.raises(AttributeError):
        run_golden(lambda item: item.answer, ITEMS, scorers={"f1": broken})


def test_run_golden_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="at least one scorer"):
        run_golden(lambda item: "x", ITEMS, scorers={})
    with pytest.raises(ValueError, match="clash"):
        run_golden(lambda item: "x", ITEMS, scorers={"answer": f1_scorer})
    with pytest.raises(ValueError, match="twice"):
        run_golden(lambda item: "x", [ITEMS[0], ITEMS[0]], scorers={"f1": f1_scorer})
    with pytest.raises(TypeError, match="str or a ChatResult"):
        run_golden(lambda item: 42, ITEMS, scorers={"f1": f1_scorer}, on_error="raise")


def test_rescore_adds_metrics_without_calling_the_model() -> None:
    frame = run_golden(lambda item: "Monday", ITEMS, scorers={"f1": f1_scorer})
    rescored = rescore(frame, ITEMS, {"short": lambda item, answer: float(len(answer) < 10)})
    assert rescored["short"].tolist() == [1.0, 1.0, 1.0]
    assert "short" not in frame.columns  # the original run is untouched
    with pytest.raises(ValueError, match="no golden question"):
        rescore(frame, ITEMS[:1], {"short": lambda item, answer: 1.0})


# -- summarize and compare_runs ------------------------------------------------------------------


def _run(scores: list[float], *, ids: list[str] | None = None) -> pd.DataFrame:
    ids = ids or [f"q{i}" for i in range(len(scores))]
    return pd.DataFrame(
        {
            "id": ids,
            "type": ["fact" if i % 2 else "multi_doc" for i in range(len(scores))],
            "score": scores,
            "cost_usd": 0.001,
        }
    )


def test_summarize_gives_means_with_intervals_per_group() -> None:
    frame = _run([1.0, 0.0, 1.0, 1.0, 0.5, 0.0, 1.0, 1.0])
    overall = summarize(frame, ["score"])
    assert overall.index.tolist() == ["all"]
    row = overall.loc["all"]
    assert row["n"] == 8 and row["score"] == pytest.approx(0.6875)
    expected = bootstrap_ci(frame["score"].to_numpy(), seed=0)
    assert (row["score_low"], row["score_high"]) == pytest.approx((expected.low, expected.high))
    assert row["cost_usd"] == pytest.approx(0.008)
    by_type = summarize(frame, ["score"], by="type")
    assert by_type.index.tolist() == ["fact", "multi_doc"]
    assert by_type["n"].tolist() == [4, 4]
    with pytest.raises(KeyError, match="no column 'f1'"):
        summarize(frame, ["f1"])


def test_compare_runs_pairs_rows_by_question_id() -> None:
    rng = np.random.default_rng(0)
    base = rng.binomial(1, 0.5, 200).astype(float)
    better = base.copy()
    better[np.flatnonzero(base == 0)[:40]] = 1.0
    run_a = _run(base.tolist())
    run_b = _run(better.tolist()).sample(frac=1.0, random_state=1)  # another order
    result = compare_runs(run_a, run_b, "score")
    assert result.significant and result.mean_difference == pytest.approx(40 / 200)
    assert not compare_runs(run_a, run_a.iloc[::-1], "score").significant


def test_compare_runs_refuses_unfair_comparisons() -> None:
    run_a = _run([1.0, 0.0, 1.0])
    with pytest.raises(ValueError, match="different questions"):
        compare_runs(run_a, _run([1.0, 0.0, 1.0], ids=["q0", "q1", "q9"]), "score")
    with pytest.raises(ValueError, match="twice"):
        compare_runs(run_a, _run([1.0, 0.0, 1.0], ids=["q0", "q0", "q1"]), "score")
    with pytest.raises(KeyError, match="no column"):
        compare_runs(run_a, run_a, "f1")


# -- the judge ---------------------------------------------------------------------------------


def test_parse_verdict_reads_json_with_or_without_decoration() -> None:
    plain = '{"score": 4, "passed": true, "reason": "States the key facts."}'
    assert parse_verdict(plain) == JudgeVerdict(4, True, "States the key facts.")
    fenced = f"Here is my verdict:\n```json\n{plain}\n```"
    assert parse_verdict(fenced) == JudgeVerdict(4, True, "States the key facts.")
    assert parse_verdict(plain.replace("4", "4.0")).score == 4


@pytest.mark.parametrize(
    ("reply", "problem"),
    [
        ("", "empty"),
        ("Score: 4/5, looks right.", "not JSON"),
        ("[1, 2]", "not an object"),
        ('{"score": 4, "reason": "ok"}', "'passed' is missing"),
        ('{"score": "four", "passed": true, "reason": "ok"}', "whole number"),
        ('{"score": true, "passed": true, "reason": "ok"}', "whole number"),
        ('{"score": 9, "passed": true, "reason": "ok"}', "from 1 to 5"),
        ('{"score": 4, "passed": "yes", "reason": "ok"}', "true or false"),
        ('{"score": 4, "passed": true, "reason": 3}', "text"),
    ],
)
def test_parse_verdict_refuses_what_it_cannot_trust(reply: str, problem: str) -> None:
    with pytest.raises(UnparseableVerdictError, match=problem) as info:
        parse_verdict(reply)
    assert info.value.raw == reply
    assert isinstance(info.value, ValueError)


def test_judge_prompt_needs_every_field() -> None:
    text = judge_prompt("Q?", "Monday", "Monday at 10")
    assert "Question: Q?" in text and "Reference answer: Monday" in text
    assert "Candidate answer: Monday at 10" in text
    with pytest.raises(ValueError, match=r"no \{reference\} field"):
        judge_prompt("Q?", "ref", "ans", template="Grade {answer} for {question}.")


def test_the_local_judge_grades_right_above_wrong() -> None:
    client = local_client()
    reference = "Monday at 10:00 Lisbon time; the outgoing engineer stays reachable until 12:00."
    right = grade(
        client,
        question="When is the handover?",
        reference=reference,
        answer="Handover is Monday at 10:00 Europe/Lisbon; stay reachable until 12:00.",
    )
    wrong = grade(
        client,
        question="When is the handover?",
        reference=reference,
        answer="Monday at 09:00 Lisbon time.",
    )
    assert right.verdict.passed and not wrong.verdict.passed
    assert right.verdict.score > wrong.verdict.score
    assert right.result.model == client.registry.model_id("judge")
    assert json.loads(right.result.content)["passed"] is True
    assert RESPONSE_FORMAT["json_schema"]["schema"]["required"] == ["score", "passed", "reason"]
    assert "{question}" in JUDGE_TEMPLATE


def test_grade_all_adds_judge_columns_and_records_bad_verdicts() -> None:
    frame = pd.DataFrame(
        {
            "question": ["When is the handover?"] * 2,
            "reference": ["Monday at 10:00 Lisbon time."] * 2,
            "candidate": ["Monday at 10:00 Lisbon time.", "Friday at noon."],
        },
        index=[10, 20],
    )
    graded = grade_all(local_client(), frame, columns={"answer": "candidate"})
    assert graded.index.tolist() == [10, 20]
    assert graded["judge_passed"].tolist() == [True, False]
    assert graded["judge_error"].isna().all()
    assert (graded["judge_cost_usd"] > 0).all()
    assert "judge_score" not in frame.columns

    class Rambling:
        """A judge that forgets the format: every reply is prose."""

        def chat(self, *args: object, **kwargs: object) -> object:
            real = local_client().chat(*args, **kwargs)
            return type(real)(**{**real.__dict__, "content": "Looks fine to me."})

    bad = grade_all(Rambling(), frame, columns={"answer": "candidate"})  # type: ignore[arg-type]
    assert bad["judge_score"].isna().all() and bad["judge_passed"].isna().all()
    assert bad["judge_error"].str.contains("not JSON").all()
    assert (bad["judge_cost_usd"] > 0).all()  # an unusable verdict is still paid for
    with pytest.raises(UnparseableVerdictError):
        grade_all(Rambling(), frame, columns={"answer": "candidate"}, on_error="raise")  # type: ignore[arg-type]
    with pytest.raises(KeyError, match="no column 'answer'"):
        grade_all(local_client(), frame)


def test_the_local_judge_shows_its_length_bias() -> None:
    """Filler the judge ignores raises its score at equal content (docs/local-model.md)."""
    client = local_client()
    reference = "Every 180 days, with 14 days of overlap."
    answer = "Secrets are rotated every 90 days."
    filler = " That is all there is to it, and it is what it is." * 4
    short = grade(client, question="How often?", reference=reference, answer=answer)
    long = grade(client, question="How often?", reference=reference, answer=answer + filler)
    assert long.verdict.score > short.verdict.score


# -- figures -----------------------------------------------------------------------------------


def test_bootstrap_means_match_bootstrap_ci() -> None:
    values = np.random.default_rng(3).binomial(1, 0.6, 90).astype(float)
    means = bootstrap_means(values, n_resamples=2000, seed=5)
    interval = bootstrap_ci(values, n_resamples=2000, seed=5)
    assert np.quantile(means, [0.025, 0.975]) == pytest.approx([interval.low, interval.high])
    with pytest.raises(ValueError, match="non-empty"):
        bootstrap_means([])


def test_plots_draw_without_a_display() -> None:
    import matplotlib.pyplot as plt

    from course_lib.evaluation import paired_bootstrap

    values = np.random.default_rng(3).random(50)
    ax = plot_bootstrap(values, (0.4, 0.6), seed=1)
    assert ax.get_xlabel().startswith("mean score")
    comparisons = {
        "real": paired_bootstrap(values, values + 0.1),
        "noise": paired_bootstrap(values, values[::-1]),
    }
    ax = plot_paired(comparisons)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["real", "noise"]
    with pytest.raises(ValueError, match="empty"):
        plot_paired({})
    plt.close("all")
