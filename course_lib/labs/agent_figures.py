"""The figures and tables of lesson 1.5, kept out of the notebook so its cells stay short.

Each takes what the lesson measured (a capped client's replies, a suite's rows over seeds)
and draws or tabulates it; none runs a model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from course_lib.labs.agent_tasks import OUTCOMES

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

__all__ = [
    "lost_and_gained",
    "outcome_counts",
    "plot_outcomes",
    "plot_runaway",
    "success_by_kind",
    "success_table",
]

_COLOURS = ("#2ca02c", "#ff7f0e", "#7f7f7f", "#d62728", "#9467bd")  # in the order of OUTCOMES


def plot_runaway(replies: Sequence[Any]) -> Figure:
    """Each call's input tokens as bars, and the dollars spent so far as a line.

    The bars rise by a fixed step (the failed call and its error, added each turn), so the
    line, their sum, grows with the square of the number of calls.
    """
    import matplotlib.pyplot as plt

    tokens = [r.usage.input_tokens for r in replies]
    spent = []
    total = 0.0
    for reply in replies:
        total += reply.cost_usd
        spent.append(total)
    calls = range(1, len(tokens) + 1)
    fig, ax = plt.subplots(figsize=(8, 3.2))
    ax.bar(calls, tokens, color="#9ecae1")
    ax.set_xlabel("model call")
    ax.set_ylabel("input tokens of the call")
    line = ax.twinx()
    line.plot(calls, spent, color="#d62728", marker=".")
    line.set_ylabel("dollars spent so far")
    ax.set_title("A runaway loop: the same failing call, each time dearer")
    fig.tight_layout()
    return fig


def outcome_counts(suite: pd.DataFrame, order: Sequence[tuple[str, str]]) -> pd.DataFrame:
    """Runs per outcome for each (model, loop), in ``order``, over every task and seed."""
    import pandas as pd

    return (
        pd.crosstab([suite["model"], suite["loop"]], suite["outcome"])
        .reindex(columns=list(OUTCOMES), fill_value=0)
        .reindex(list(order))
        .fillna(0)
        .astype(int)
    )


def plot_outcomes(suite: pd.DataFrame, order: Sequence[tuple[str, str]]) -> Figure:
    """One stacked bar per (model, loop): its runs, over every task and seed, by outcome."""
    counts = outcome_counts(suite, order)
    ax = counts.plot.barh(stacked=True, color=list(_COLOURS), figsize=(8, 4.2), width=0.75)
    ax.set_yticklabels([f"{model}, {loop}" for model, loop in counts.index])
    ax.invert_yaxis()
    ax.set_xlabel(f"runs (tasks x seeds: {int(counts.sum(axis=1).iloc[0])})")
    ax.set_ylabel("")
    ax.legend(loc="upper center", bbox_to_anchor=(0.4, -0.16), ncol=5, frameon=False)
    ax.set_title("Outcomes on the tool-use suite, over every seed")
    fig = ax.get_figure()
    fig.tight_layout()
    return fig


def success_table(suite: pd.DataFrame, order: Sequence[tuple[str, str]]) -> pd.DataFrame:
    """Per (model, loop): success, crashes, runaways, model calls and dollars over all runs."""
    grouped = suite.groupby(["model", "loop"], sort=False)
    table = grouped.agg(
        runs=("outcome", "size"),
        correct=("outcome", lambda o: int((o == "correct").sum())),
        crashed=("outcome", lambda o: int((o == "crashed").sum())),
        ran_away=("outcome", lambda o: int((o == "ran away").sum())),
        model_calls=("model_calls", "sum"),
        cost_usd=("cost_usd", "sum"),
    ).reindex(list(order))
    table["success"] = (table["correct"] / table["runs"]).map("{:.0%}".format)
    return table.round({"cost_usd": 4})


def success_by_kind(suite: pd.DataFrame) -> pd.DataFrame:
    """Each (model, loop)'s success rate on each kind of task, over every task and seed.

    Rows come in the order the suite holds them (as :func:`run_loops` ran them), not sorted.
    """
    ok = suite.assign(ok=suite["outcome"].eq("correct"))
    table = ok.pivot_table(index=["model", "loop"], columns="kind", values="ok").round(2)
    return table.reindex(list(dict.fromkeys(zip(suite["model"], suite["loop"], strict=True))))


def lost_and_gained(
    suite: pd.DataFrame, before: str, after: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The runs ``before`` solved and ``after`` did not, and the reverse, paired by run.

    Each is a table indexed by (model, task, seed) with both loops' outcomes side by side.
    """
    side = suite[suite["loop"].isin([before, after])].pivot(
        index=["model", "task", "seed"], columns="loop", values="outcome"
    )[[before, after]]
    side.columns.name = "loop"
    lost = side[side[before].eq("correct") & side[after].ne("correct")]
    gained = side[side[after].eq("correct") & side[before].ne("correct")]
    return lost, gained
