"""What prompt caching saves on the agent loop: the task suite run with and without it.

An agent sends the same tool definitions on every model call, and each call of a run repeats
the whole conversation so far: its prompts share long prefixes, which is what a provider's
prompt cache reuses. :func:`caching_saving` runs :func:`~course_lib.agents.run_agent` over
the task suite three times, on fresh stand-in models that differ only in their cache:

* ``no cache``: the stand-in as the other lessons use it;
* ``cache, back to back``: the stand-in models a provider's prompt cache
  (:mod:`course_lib.standin.caching`), and the tasks follow each other at once;
* ``cache, {apart_s} s apart``: the same, with a pause longer than the cache's time to live
  between tasks, so only the calls within one task share a prefix.

The server's clock is a virtual one that moves by each call's modelled latency (and by the
pauses), so every run gives the same figures, however fast the machine is. The answers do not
depend on the cache (the table's ``correct`` column shows it); only the bill does.

>>> table = caching_saving(seeds=(0, 1))
>>> table[["input_tokens", "cached_input_tokens", "cost_usd", "saving"]]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from course_lib.agents.loop import run_agent
from course_lib.labs.agent_tasks import TASKS, AgentTask
from course_lib.labs.agent_world import HandbookWorld

if TYPE_CHECKING:
    import pandas as pd

    from course_lib.llm.client import ChatResult

__all__ = ["VirtualClock", "caching_saving"]


@dataclass
class VirtualClock:
    """A clock in seconds that moves only when told to: the stand-in server's clock here."""

    now: float = 0.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"a clock cannot go back ({seconds} s).")
        self.now += seconds


class _TimedClient:
    """A client whose every call moves the clock by the call's modelled latency."""

    def __init__(self, client: Any, clock: VirtualClock) -> None:
        self.client = client
        self.clock = clock

    def chat(self, messages: Any, **options: Any) -> ChatResult:
        reply: ChatResult = self.client.chat(messages, **options)
        self.clock.advance((reply.simulated_latency_ms or 0.0) / 1000)
        return reply


def _client(cache: bool, clock: VirtualClock) -> Any:
    from course_lib.llm.client import LLMClient
    from course_lib.standin.caching import PrefixCache
    from course_lib.standin.model import LocalModel
    from course_lib.standin.provider import LocalProvider

    model = LocalModel(prompt_cache=PrefixCache(clock=clock) if cache else False)
    return _TimedClient(LLMClient(LocalProvider(model)), clock)


def _run_suite(
    tasks: Sequence[AgentTask],
    seeds: Sequence[int],
    *,
    cache: bool,
    pause_s: float,
    model: str,
    max_steps: int,
    system: str | None,
) -> dict[str, Any]:
    clock = VirtualClock()
    client = _client(cache, clock)
    calls = correct = input_tokens = cached = output_tokens = 0
    costs: list[float] = []
    for seed in seeds:
        for task in tasks:
            world = HandbookWorld()
            run = run_agent(
                client,
                task.request,
                world.tools(),
                model=model,
                max_steps=max_steps,
                system=system,
                chat_options={"seed": seed},
            )
            calls += run.totals.model_calls
            correct += int(run.answered and task.check(run.answer, world))
            input_tokens += run.totals.input_tokens
            cached += run.totals.cached_input_tokens
            output_tokens += run.totals.output_tokens
            costs.append(run.totals.cost_usd)
            clock.advance(pause_s)
    return {
        "runs": len(seeds) * len(tasks),
        "correct": correct,
        "model_calls": calls,
        "input_tokens": input_tokens,
        "cached_input_tokens": cached,
        "cached_share": round(cached / input_tokens, 4) if input_tokens else 0.0,
        "output_tokens": output_tokens,
        "cost_usd": round(math.fsum(costs), 8),
    }


def caching_saving(
    tasks: Sequence[AgentTask] = TASKS,
    *,
    seeds: Sequence[int] = (0,),
    model: str = "chat-small",
    max_steps: int = 8,
    system: str | None = None,
    apart_s: float = 600.0,
) -> pd.DataFrame:
    """The task suite's tokens and cost without a prompt cache, and with one (two spacings).

    Args:
        tasks: the tasks to run (each in a fresh world).
        seeds: the seeds to run every task with.
        model: the role or model id the agent uses.
        max_steps: the agent's step budget.
        system: a system prompt; a long one joins the cached prefix.
        apart_s: the pause between tasks in the third row; past the cache's time to live
            (300 s) only calls within one task share a cached prefix.

    Returns:
        One row per setting (``no cache``, ``cache, back to back``, ``cache, N s apart``):
        ``runs``, ``correct``, ``model_calls``, ``input_tokens``, ``cached_input_tokens``,
        ``cached_share`` (of input tokens), ``output_tokens``, ``cost_usd`` and ``saving``
        (the share of the first row's cost saved).
    """
    import pandas as pd

    if not tasks or not seeds:
        raise ValueError("caching_saving needs at least one task and one seed.")
    if apart_s < 0:
        raise ValueError(f"apart_s must be 0 or more seconds (got {apart_s}).")
    settings = {
        "no cache": (False, 0.0),
        "cache, back to back": (True, 0.0),
        f"cache, {apart_s:g} s apart": (True, apart_s),
    }
    rows = {
        name: _run_suite(
            tasks,
            seeds,
            cache=cache,
            pause_s=pause,
            model=model,
            max_steps=max_steps,
            system=system,
        )
        for name, (cache, pause) in settings.items()
    }
    table = pd.DataFrame.from_dict(rows, orient="index")
    base = table["cost_usd"].iloc[0]
    table["saving"] = (1 - table["cost_usd"] / base).round(4) if base else 0.0
    table.index.name = "setting"
    return table
