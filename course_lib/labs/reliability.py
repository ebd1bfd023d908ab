"""Small, repeatable experiments on model calls: many calls under a policy, and what they cost.

Reliability and cost are properties of many calls, not of one. These functions send a batch of
prompts through an :class:`~course_lib.llm.client.LLMClient` and return one row per call, so
a success rate, the requests really sent, or a cost per 100 calls is one line of pandas:

>>> client = local_client(faults=FaultPlan(rate=0.2, seed=0))
>>> calls = run_calls(client, handbook_prompts(50))
>>> outcome_summary(calls)["success_rate"]

:func:`simulate_success_rate` runs the same experiment in process without real waiting, fast
enough to sweep fault rates or drive an interactive control.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from course_lib.errors import LLMError
from course_lib.standin import local_client

if TYPE_CHECKING:
    import pandas as pd

    from course_lib.llm.client import LLMClient, Messages
    from course_lib.llm.policy import ReliabilityPolicy
    from course_lib.models import ModelRegistry

__all__ = [
    "CALL_COLUMNS",
    "handbook_prompts",
    "outcome_summary",
    "price_table",
    "registry_with_roles",
    "run_calls",
    "simulate_success_rate",
]

GROUNDED_SYSTEM_PROMPT = (
    "Answer the question from the documents below and cite them. If they do not answer it, "
    "say you don't know."
)

# The columns of run_calls' table, in order.
CALL_COLUMNS = (
    "call",
    "ok",
    "error",
    "model",
    "attempts",
    "fallback_used",
    "input_tokens",
    "output_tokens",
    "cost_usd",
    "simulated_latency_ms",
    "latency_ms",
)


def handbook_prompts(
    n: int | None = None, *, context: str = "sections"
) -> list[list[dict[str, str]]]:
    """Grounded questions from the golden set, as chat messages ready to send.

    Each prompt is a system message asking for a cited answer, and a user message holding the
    handbook passages that answer the question (as ``<doc id="...">`` blocks) and the question.
    These are the prompts a retrieval system would send, with perfect retrieval.

    Args:
        n: how many prompts (the first ``n`` answerable questions, in the golden set's order);
            None for all of them.
        context: ``"sections"`` puts the whole handbook section of each source in the prompt
            (realistic sizes, for token and cost measurements); ``"quotes"`` only the sentence
            that answers (short prompts, for quick reliability experiments).

    Raises:
        ValueError: ``n`` is negative or larger than the number of answerable questions.
    """
    from course_lib.datasets import load_golden_set, load_handbook

    if context not in ("sections", "quotes"):
        raise ValueError(f"context must be 'sections' or 'quotes', got {context!r}.")
    documents = {d.id: d for d in load_handbook()}
    prompts: list[list[dict[str, str]]] = []
    answerable = [q for q in load_golden_set() if q.sources]
    if n is not None and not 0 <= n <= len(answerable):
        raise ValueError(
            f"n must be between 0 and {len(answerable)} (the answerable golden questions), got {n}."
        )
    for question in answerable[:n]:
        blocks = []
        for source in question.sources:
            if context == "quotes":
                text = source.quote.strip()
            else:
                sections = {s.heading: s.text for s in documents[source.doc_id].sections}
                text = sections.get(source.section, documents[source.doc_id].text).strip()
            blocks.append(f'<doc id="{source.doc_id}">\n{text}\n</doc>')
        user = "\n\n".join(blocks) + f"\n\nQuestion: {question.question}"
        prompts.append(
            [
                {"role": "system", "content": GROUNDED_SYSTEM_PROMPT},
                {"role": "user", "content": user},
            ]
        )
    return prompts


def run_calls(
    client: LLMClient,
    prompts: Sequence[Messages],
    *,
    model: str = "chat-small",
    **options: Any,
) -> pd.DataFrame:
    """Send each prompt once with ``client.chat``; one row per call, failed calls included.

    A failed call is a row too (``ok`` False, ``error`` the exception's class name), because
    a success rate needs its failures. ``attempts`` counts the requests the client sent for
    that call (retries and fallback included), read from the client's own counters, so it is
    right for failed calls as well.

    Only errors of the model call (:class:`~course_lib.errors.LLMError`) are recorded; any
    other exception is a bug and propagates.

    Returns:
        A DataFrame with the columns of :data:`CALL_COLUMNS`.
    """
    import pandas as pd

    rows: list[dict[str, Any]] = []
    for i, prompt in enumerate(prompts):
        before = client.stats.attempts
        started = time.perf_counter()
        row: dict[str, Any] = {"call": i}
        try:
            result = client.chat(prompt, model=model, **options)
        except LLMError as exc:
            row.update(
                ok=False,
                error=type(exc).__name__,
                model=None,
                fallback_used=False,
                input_tokens=0,
                output_tokens=0,
                cost_usd=0.0,
                simulated_latency_ms=float("nan"),
            )
        else:
            row.update(
                ok=True,
                error="",
                model=result.model,
                fallback_used=result.fallback_used,
                input_tokens=result.usage.input_tokens,
                output_tokens=result.usage.output_tokens,
                cost_usd=result.cost_usd,
                simulated_latency_ms=(
                    float("nan")
                    if result.simulated_latency_ms is None
                    else float(result.simulated_latency_ms)
                ),
            )
        row["attempts"] = client.stats.attempts - before
        row["latency_ms"] = (time.perf_counter() - started) * 1000
        rows.append(row)
    return pd.DataFrame(rows, columns=list(CALL_COLUMNS))


def outcome_summary(calls: pd.DataFrame) -> dict[str, Any]:
    """The headline numbers of a :func:`run_calls` table.

    Returns:
        ``calls``, ``succeeded``, ``success_rate`` (0 to 1), ``requests`` (attempts sent, all
        calls), ``requests_per_call``, ``fallbacks`` (calls answered by the fallback model),
        ``errors`` (error class name -> count, sorted by name) and ``failed_call_attempts``
        (the requests each failed call sent, in call order: a failed call that used every
        attempt the policy allows ran out of retries; one that used fewer was cut short, by
        an open circuit, a Retry-After over the limit or an error not worth retrying).
    """
    total = len(calls)
    succeeded = int(calls["ok"].sum())
    requests = int(calls["attempts"].sum())
    failed_rows = calls.loc[~calls["ok"].astype(bool)]
    failed = failed_rows["error"]
    return {
        "calls": total,
        "succeeded": succeeded,
        "success_rate": succeeded / total if total else float("nan"),
        "requests": requests,
        "requests_per_call": requests / total if total else float("nan"),
        "fallbacks": int(calls["fallback_used"].sum()),
        "errors": dict(sorted(failed.value_counts().to_dict().items())),
        "failed_call_attempts": [int(a) for a in failed_rows["attempts"]],
    }


def simulate_success_rate(
    fault_rate: float,
    policy: ReliabilityPolicy,
    *,
    prompts: Sequence[Messages],
    seed: int = 0,
    model: str = "chat-small",
    mix: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """Success rate of ``prompts`` under ``policy`` at ``fault_rate``, in process, in moments.

    The local model runs in this process with a seeded fault plan; waits between retries are
    recorded but not slept, and a timed-out response gives up after 1 ms. So the outcome of
    every call is the one a real run would have, without the real run's waiting.

    The circuit breaker is turned off: it reopens on the wall clock, which a simulation that
    skips its waits does not advance, so an opened circuit would never close again.

    Args:
        fault_rate: share of requests that fail (0 to 1): 429s, 5xx and timeouts.
        policy: the reliability policy to measure (``ReliabilityPolicy.bare()`` for none).
        prompts: what to send, one call each.
        seed: the fault plan's and the retry jitter's seed.
        model: the role or model to call.
        mix: relative weights of the fault kinds (see ``FaultPlan``); None for the default.

    Returns:
        :func:`outcome_summary` of the run, plus ``fault_rate``.
    """
    from course_lib.standin.faults import FaultPlan

    plan_options: dict[str, Any] = {"mix": dict(mix)} if mix is not None else {}
    plan = FaultPlan(rate=fault_rate, seed=seed, timeout_s=0.002, **plan_options)
    client = local_client(
        faults=plan,
        policy=policy.with_changes(read_timeout_s=0.001, breaker_failure_threshold=0),
        sleep=lambda seconds: None,
        jitter_seed=seed,
    )
    summary = outcome_summary(run_calls(client, prompts, model=model))
    return {"fault_rate": fault_rate, **summary}


def price_table(
    roles: Sequence[str] = ("chat-small", "chat-large"),
    *,
    registry: ModelRegistry | None = None,
) -> pd.DataFrame:
    """Prices, context window and latency model of each role's model, from the registry.

    Returns:
        One row per role: ``role``, ``model``, ``input_per_million_usd``,
        ``output_per_million_usd``, ``context_window`` (the most tokens one call may hold,
        prompt and answer together), and the latency model: ``latency_base_ms`` (the wait
        before the first token), ``ms_per_input_token`` and ``ms_per_output_token``. The
        modelled latency of a call is base + input tokens x ms_per_input_token + output
        tokens x ms_per_output_token.
    """
    import pandas as pd

    from course_lib.models import get_registry

    registry = registry or get_registry()
    rows = []
    for role in roles:
        spec = registry.resolve(role)
        rows.append(
            {
                "role": role,
                "model": spec.id,
                "input_per_million_usd": spec.input_price_per_million,
                "output_per_million_usd": spec.output_price_per_million,
                "context_window": spec.context_window,
                "latency_base_ms": spec.latency_base_ms,
                "ms_per_input_token": spec.latency_per_input_token_ms,
                "ms_per_output_token": spec.latency_per_output_token_ms,
            }
        )
    return pd.DataFrame(rows)


def registry_with_roles(roles: Mapping[str, str], *, name: str = "models.toml") -> Path:
    """A copy of the bundled registry in the work directory, with ``roles`` re-pointed.

    Each role's line in ``[roles]`` is rewritten (``chat-small = "local-small-2025"``), the
    rest of the file is kept as it is: the edit a team makes when a model is retired.

    Raises:
        ValueError: a role is not in the bundled registry's ``[roles]``.
    """
    import re

    from course_lib.models import BUNDLED_REGISTRY
    from course_lib.workdir import work_path

    text = BUNDLED_REGISTRY.read_text(encoding="utf-8")
    for role, model_id in roles.items():
        pattern = re.compile(rf'^{re.escape(role)} = ".*"$', re.MULTILINE)
        if not pattern.search(text):
            raise ValueError(f"Role {role!r} is not in the registry's [roles] section.")
        text = pattern.sub(f'{role} = "{model_id}"', text, count=1)
    path = work_path("registries", name)
    path.write_text(text, encoding="utf-8")
    return path
