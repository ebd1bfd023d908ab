"""Budgets for lesson 1.5's agent loop, measured over many tasks and seeds.

A budget is a trade: too tight and it stops runs that were about to succeed; too loose and a
runaway run spends a lot before it ends. One suite run on one seed cannot show either side,
because which of the small model's tool calls come out malformed depends on the seed. So
everything here runs each task on several seeds and compares loops on the same (task, seed)
pairs, with a paired bootstrap over tasks (lesson 1.4).

The time budget counts the local model's modelled latency, not the wall clock, so that it is
the same on every machine; with a hosted model you would count measured seconds instead.

Each budget has an edge, measured on the generous loop's runs (:func:`budget_edges`): the
tightest value that still lets every success finish. A budget far above its edge never ends a
run early, so :func:`budget_report` counts it as loose, and loose budgets miss the target.

>>> sorted(GENEROUS)
['max_repeats', 'max_seconds', 'max_steps', 'max_tokens']
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from course_lib.agents.loop import AgentRun, Step, run_agent, stop_reason
from course_lib.labs.agent_tasks import TASKS, AgentTask, run_suite
from course_lib.labs.agent_world import READ_ONLY_TOOLS, HandbookWorld

if TYPE_CHECKING:
    import pandas as pd

    from course_lib.evaluation import PairedComparison

__all__ = [
    "ASSISTANT_TOOLS",
    "BUDGET_KEYS",
    "BUDGET_SLACK",
    "BUDGET_TARGET",
    "DEV_SEEDS",
    "GENEROUS",
    "HELD_OUT_SEEDS",
    "BudgetReport",
    "BudgetTarget",
    "budget_edges",
    "budget_report",
    "compare_success",
    "loose_budgets",
    "production_solver",
    "run_loops",
    "run_seeds",
    "run_with_budgets",
    "time_limited",
]

# The tools the Handbook Assistant may use on its own: read, and open tickets.
ASSISTANT_TOOLS: tuple[str, ...] = (*READ_ONLY_TOOLS, "create_ticket")
DEV_SEEDS: tuple[int, ...] = (0, 1, 2, 3, 4)  # the lesson measures and tunes on these
HELD_OUT_SEEDS: tuple[int, ...] = (101, 102, 103, 104, 105)  # only the checker uses these
BUDGET_KEYS: tuple[str, ...] = ("max_steps", "max_tokens", "max_seconds", "max_repeats")
# Budgets loose enough that no budget ends a run a model would have finished: no success
# on the suites takes more than 3 model calls.
GENEROUS: dict[str, Any] = {
    "max_steps": 12,
    "max_tokens": None,
    "max_seconds": None,
    "max_repeats": None,
}


@dataclass(frozen=True)
class BudgetTarget:
    """What good budgets achieve: every run ends, no success lost, no run dearer than this.

    (And no budget loose: see :func:`loose_budgets`.)
    """

    max_run_tokens: int
    max_run_seconds: float


BUDGET_TARGET = BudgetTarget(max_run_tokens=5_000, max_run_seconds=1.5)
# A budget far above its edge (the tightest value that keeps every success) never ends a run
# early, so it guards nothing. Loose means: a token or time budget above BUDGET_SLACK times its
# edge, or a step or repeat budget more than one above its edge.
BUDGET_SLACK = 1.5


def time_limited(max_seconds: float | None) -> Callable[..., str | None]:
    """The default stop condition plus a time budget on the model's modelled latency.

    ``run_agent`` has step, token and cost budgets; time is added here through its ``stop``
    hook, so that the loop itself stays as the lesson built it.
    """

    def stop(steps: Sequence[Step], **limits: Any) -> str | None:
        reason = stop_reason(steps, **limits)
        if reason is None and max_seconds is not None:
            spent_ms = math.fsum(s.latency_ms for s in steps)
            if spent_ms >= max_seconds * 1000:
                return "budget"
        return reason

    return stop


def _checked(budgets: Mapping[str, Any]) -> dict[str, Any]:
    """The budgets with every key present, or a one-line error saying what is wrong."""
    if not isinstance(budgets, Mapping):
        raise TypeError(f"budgets must be a dict with the keys {list(BUDGET_KEYS)}.")
    unknown = sorted(set(budgets) - set(BUDGET_KEYS))
    if unknown:
        raise ValueError(f"unknown budget(s) {unknown}; the keys are {list(BUDGET_KEYS)}.")
    full = {**dict.fromkeys(BUDGET_KEYS), **budgets}
    steps = full["max_steps"]
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 1:
        raise ValueError(f"max_steps must be a whole number of at least 1, not {steps!r}.")
    return full


def production_solver(
    budgets: Mapping[str, Any], *, seed: int, model: str = "chat-small"
) -> Callable[[Any, str, HandbookWorld], AgentRun]:
    """The production loop with these budgets, for :func:`~course_lib.labs.run_suite`."""
    full = _checked(budgets)

    def solve(client: Any, request: str, world: HandbookWorld) -> AgentRun:
        return run_agent(
            client,
            request,
            world.tools(),
            model=model,
            max_steps=full["max_steps"],
            max_tokens=full["max_tokens"],
            max_repeats=full["max_repeats"],
            allowed_tools=ASSISTANT_TOOLS,
            chat_options={"seed": seed},
            stop=time_limited(full["max_seconds"]),
        )

    return solve


def run_seeds(
    make_solver: Callable[[int], Callable[[Any, str, HandbookWorld], Any]],
    client: Any,
    *,
    seeds: Sequence[int] = DEV_SEEDS,
    tasks: Sequence[AgentTask] = TASKS,
    hard_cap: int = 30,
) -> pd.DataFrame:
    """:func:`run_suite` once per seed, with a ``seed`` column: one row per (task, seed)."""
    import pandas as pd

    frames = [
        run_suite(make_solver(seed), client, tasks, hard_cap=hard_cap).assign(seed=seed)
        for seed in seeds
    ]
    return pd.concat(frames, ignore_index=True)


def run_loops(
    loops: Mapping[str, Callable[[str, int], Callable[[Any, str, HandbookWorld], Any]]],
    client: Any,
    *,
    models: Sequence[str] = ("chat-small", "chat-large"),
    seeds: Sequence[int] = DEV_SEEDS,
    hard_cap: int = 30,
) -> pd.DataFrame:
    """Every loop with every model on every task and seed, stacked with ``model`` and ``loop``.

    ``loops`` maps a loop's name to ``make(model, seed)``, which returns the solver
    :func:`run_suite` runs. Rows come model by model, then loop by loop, in the order given.
    """
    import pandas as pd

    frames = []
    for model in models:
        for name, make in loops.items():

            def solver(seed: int, make: Any = make, model: str = model) -> Any:
                return make(model, seed)

            runs = run_seeds(solver, client, seeds=seeds, hard_cap=hard_cap)
            frames.append(runs.assign(loop=name, model=model))
    return pd.concat(frames, ignore_index=True)


def run_with_budgets(
    client: Any,
    budgets: Mapping[str, Any],
    *,
    seeds: Sequence[int] = DEV_SEEDS,
    tasks: Sequence[AgentTask] = TASKS,
    model: str = "chat-small",
) -> pd.DataFrame:
    """The production loop with ``budgets`` on every task and seed."""
    full = _checked(budgets)
    frame = run_seeds(
        lambda seed: production_solver(budgets, seed=seed, model=model),
        client,
        seeds=seeds,
        tasks=tasks,
    )
    frame.attrs["budgets"] = full  # so that budget_report can say which budget is loose
    return frame


def budget_edges(baseline: pd.DataFrame) -> dict[str, float]:
    """Each budget's edge on a generous run: the least that still lets every success finish.

    A budget is checked after each model call that asks for a tool, so a success of K model
    calls needs ``max_steps >= K``, token and time budgets above what it spent before its
    last call, and ``max_repeats`` at least the most times it asked for one call.
    """
    solved = baseline[baseline["outcome"].eq("correct")]
    if solved.empty:
        raise ValueError("the generous run solved nothing: there is no edge to measure.")
    return {
        "max_steps": int(solved["model_calls"].max()),
        "max_tokens": int(solved["tokens_before_last"].max()),
        "max_seconds": float(solved["seconds_before_last"].max()),
        "max_repeats": int(solved["most_repeats"].max()),
    }


def loose_budgets(budgets: Mapping[str, Any], edges: Mapping[str, float]) -> tuple[str, ...]:
    """The budgets so far above their edge that they would never end a run early."""
    loose = []
    for key in BUDGET_KEYS:
        value, edge = budgets.get(key), edges[key]
        if key in ("max_steps", "max_repeats"):
            too_high = value is None or value > edge + 1
        else:
            too_high = value is None or value > BUDGET_SLACK * edge
        if too_high:
            loose.append(key)
    return tuple(loose)


def compare_success(
    frame_a: pd.DataFrame, frame_b: pd.DataFrame, *, seed: int = 0
) -> PairedComparison:
    """B's success minus A's, paired by task: each task's success rate over its seeds.

    Tasks, not (task, seed) rows, are resampled: the seeds of one task are not independent
    evidence, and resampling rows would make the interval too narrow.
    """
    from course_lib.evaluation import paired_bootstrap

    def per_task(frame: pd.DataFrame) -> pd.Series:
        return (
            frame.assign(ok=frame["outcome"].eq("correct")).groupby("task", sort=True)["ok"].mean()
        )

    a, b = per_task(frame_a), per_task(frame_b)
    if list(a.index) != list(b.index):
        raise ValueError("the two runs must cover the same tasks to be compared task by task.")
    return paired_bootstrap(a.to_numpy(float), b.to_numpy(float), n_resamples=2000, seed=seed)


@dataclass(frozen=True)
class BudgetReport:
    """How budgets did against the generous loop on the same tasks and seeds."""

    runs: int
    correct: int
    baseline_correct: int
    lost: tuple[str, ...]  # "task@seed, ended by <budget>": solved by the generous loop only
    ran_away: int
    worst_tokens: int
    worst_seconds: float
    stopped_by_budget: int
    target: BudgetTarget
    loose: tuple[str, ...] = ()  # budgets far above their edge (see loose_budgets)

    @property
    def meets_target(self) -> bool:
        return (
            self.ran_away == 0
            and not self.lost
            and not self.loose
            and self.correct >= self.baseline_correct
            and self.worst_tokens <= self.target.max_run_tokens
            and self.worst_seconds <= self.target.max_run_seconds
        )

    def __str__(self) -> str:
        verdict = "meets the target" if self.meets_target else "misses the target"
        loose = f"; loose: {', '.join(self.loose)}" if self.loose else ""
        lost = f"{len(self.lost)} lost" + (f" (first: {self.lost[0]})" if self.lost else "")
        return (
            f"{self.correct}/{self.runs} correct (generous loop: {self.baseline_correct}), "
            f"{lost}, {self.ran_away} ran away, {self.stopped_by_budget} stopped; "
            f"worst run {self.worst_tokens:,} tokens (target {self.target.max_run_tokens:,}) "
            f"and {self.worst_seconds:.2f} s (target {self.target.max_run_seconds:g}){loose}: "
            f"{verdict}"
        )


def _ended_by(row: Any, budgets: Mapping[str, Any]) -> str:
    """Which budget stopped a run, from the loop's stop reason and what the run spent."""
    if row.detail == "max_steps":
        return "max_steps"
    if row.detail == "repeated_call":
        return "max_repeats"
    if row.detail == "budget":
        limit = budgets.get("max_tokens")
        return "max_tokens" if limit is not None and row.tokens >= limit else "max_seconds"
    return f"the loop itself ({row.outcome}: {row.detail})" if row.detail else str(row.outcome)


def budget_report(
    frame: pd.DataFrame,
    baseline: pd.DataFrame,
    target: BudgetTarget = BUDGET_TARGET,
    *,
    budgets: Mapping[str, Any] | None = None,
) -> BudgetReport:
    """Scores a budgeted run against the generous loop's run on the same tasks and seeds.

    ``budgets`` (by default, those :func:`run_with_budgets` recorded on ``frame``) are also
    compared with their edges on ``baseline``: a loose one misses the target.
    """
    keys = ["task", "seed"]
    used = dict(budgets if budgets is not None else frame.attrs.get("budgets", {}))
    merged = frame.merge(baseline, on=keys, suffixes=("", "_base"), validate="one_to_one")
    lost = merged[merged["outcome_base"].eq("correct") & merged["outcome"].ne("correct")]
    loose = loose_budgets(used, budget_edges(baseline)) if used else ()
    return BudgetReport(
        runs=len(frame),
        correct=int(frame["outcome"].eq("correct").sum()),
        baseline_correct=int(baseline["outcome"].eq("correct").sum()),
        lost=tuple(
            f"{row.task}@{row.seed}, ended by {_ended_by(row, used)}" for row in lost.itertuples()
        ),
        ran_away=int(frame["outcome"].eq("ran away").sum()),
        worst_tokens=int(frame["tokens"].max()),
        worst_seconds=float(frame["model_seconds"].max()),
        stopped_by_budget=int(frame["outcome"].eq("stopped safely").sum()),
        target=target,
        loose=loose,
    )
