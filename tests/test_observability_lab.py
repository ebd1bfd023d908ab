"""Tests of lesson 2.5's lab: personal-data questions, attribute tables, the figure, scoring."""

from __future__ import annotations

import pandas as pd
import pytest

from course_lib.datasets import load_traffic, load_traffic_incident
from course_lib.labs.observability_lab import (
    PERSONAL_DATA_QUESTIONS,
    add_canary,
    canary_week,
    compare_span_attributes,
    plot_version_share,
    plot_week,
    score_finding,
)
from course_lib.observability import (
    bucket_scores,
    detect_anomalies,
    find_personal_data,
    setup_tracing,
)


def test_every_lesson_question_carries_personal_data() -> None:
    kinds = [{m.kind for m in find_personal_data(q)} for q in PERSONAL_DATA_QUESTIONS]
    assert kinds == [{"tracking_number", "phone"}, {"email"}, {"iban"}]


def _span(tracing, name: str, attributes: dict):  # type: ignore[no-untyped-def]
    with tracing.tracer.start_as_current_span(name, attributes=attributes):
        pass
    return tracing.spans()[-1]


def test_compare_span_attributes_lines_up_both_spans() -> None:
    with setup_tracing("memory", capture_message_content=False) as tracing:
        ours = _span(
            tracing,
            "chat m",
            {
                "gen_ai.request.model": "m",
                "gen_ai.provider.name": "local",
                "server.port": 40123,
                "course.cost_usd": 0.000123456789,
                "gen_ai.response.finish_reasons": ("stop",),
            },
        )
        theirs = _span(
            tracing,
            "chat m",
            {
                "gen_ai.request.model": "m",
                "gen_ai.provider.name": "openai",
                "openai.response.system_fingerprint": "fp",
                "gen_ai.response.finish_reasons": ("stop",),
            },
        )
    table = compare_span_attributes(ours, theirs)
    assert list(table.columns) == ["course_lib", "openai-v2", "same"]
    assert list(table.index) == [
        "gen_ai.provider.name",
        "gen_ai.request.model",
        "gen_ai.response.finish_reasons",
        "server.port",
        "course.cost_usd",
        "openai.response.system_fingerprint",
    ]
    assert table.loc["gen_ai.provider.name"].tolist() == ["local", "openai", "no"]
    assert table.loc["gen_ai.request.model", "same"] == "yes"
    assert table.loc["gen_ai.response.finish_reasons", "course_lib"] == "stop"
    assert table.loc["server.port"].tolist() == ["<port>", "-", "-"]  # never a random port
    assert table.loc["course.cost_usd", "course_lib"] == "0.000123457"
    picked = compare_span_attributes(ours, theirs, only=["course.cost_usd", "server.port"])
    assert list(picked.index) == ["server.port", "course.cost_usd"]  # in the groups' order


def test_plot_week_draws_volume_and_z_with_the_anomalies_shaded() -> None:
    import matplotlib.pyplot as plt

    week = load_traffic()
    anomalies = detect_anomalies(week)
    figure = plot_week(week, bucket_scores(week), anomalies)
    top, bottom = figure.axes
    assert len(top.patches) == len(anomalies) == len(bottom.patches)
    assert {line.get_label() for line in bottom.lines} >= {"ask", "search", "|z| = 6"}
    plt.close(figure)


def test_score_finding_reports_minutes_and_the_version() -> None:
    truth = load_traffic_incident()
    found = {
        "start": truth.start - pd.Timedelta(minutes=10),
        "end": truth.end + pd.Timedelta(minutes=3),
        "prompt_version": truth.bad,
    }
    table = score_finding(found, truth)
    assert table["error"].tolist() == ["-10 min", "+3 min", "right"]
    wrong = score_finding({"start": None, "end": None, "prompt_version": "x@1"}, truth)
    assert wrong["error"].tolist() == ["-", "-", "wrong"]
    assert wrong.loc["start", "found"] == "-"


@pytest.mark.parametrize("key", ["start", "end"])
def test_score_finding_shows_the_weekday_and_time(key: str) -> None:
    truth = load_traffic_incident()
    table = score_finding({"start": truth.start, "end": truth.end, "prompt_version": None}, truth)
    assert table.loc[key, "found"] == getattr(truth, key).strftime("%a %d %b %H:%M")


def test_canary_week_adds_an_early_canary_and_leaves_the_rest() -> None:
    week, truth = load_traffic(), load_traffic_incident()
    tuning, same_truth = canary_week()
    assert same_truth == truth
    changed = tuning["prompt_version"] != week["prompt_version"]
    canary = tuning[changed]
    assert 5 < len(canary) < 100
    assert set(canary["prompt_version"]) == {truth.bad}
    assert canary["timestamp"].max() < truth.start - pd.Timedelta(minutes=59)
    assert canary["timestamp"].min() >= truth.start - pd.Timedelta(hours=3)
    assert tuning.drop(columns="prompt_version").equals(week.drop(columns="prompt_version"))
    assert load_traffic()["prompt_version"].equals(week["prompt_version"])  # no change in place


def test_canary_week_of_an_already_loaded_week_is_the_same() -> None:
    tuning, _ = canary_week()
    assert canary_week(load_traffic())[0].equals(tuning)


def test_plot_version_share_shows_the_canary_step_and_the_rollout_plateau() -> None:
    import matplotlib.pyplot as plt

    from course_lib.errors import CourseLibError

    tuning, truth = canary_week()
    figure = plot_version_share(tuning, truth.bad)
    (axis,) = figure.axes
    share = axis.lines[0].get_ydata()
    assert 0.03 < min(s for s in share if s > 0) < 0.3  # the canary
    assert max(share) > 0.95  # the rollout
    assert truth.bad in axis.get_title()
    plt.close(figure)
    with pytest.raises(CourseLibError, match="No request carries"):
        plot_version_share(tuning, "nobody@1")


def test_add_canary_is_deterministic_per_seed() -> None:
    week, truth = load_traffic(), load_traffic_incident()
    first = add_canary(week, truth, seed=1)["prompt_version"]
    assert first.equals(add_canary(week, truth, seed=1)["prompt_version"])
    assert not first.equals(add_canary(week, truth, seed=2)["prompt_version"])
