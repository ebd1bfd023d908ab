"""What a request log says about latency, tokens and money, broken down the way teams ask.

* :func:`nearest_rank_percentile`: the p-th percentile as a value that was observed (the
  latency of a real request, whose trace you can open), not an interpolation between two;
* :func:`latency_report`: p50, p95 and p99 latency per feature, model, team...;
* :func:`model_prices` and :func:`request_costs`: cost from tokens and a price table, the way a
  bill is computed (spans record tokens and the model; prices change and live in one table);
* :func:`usage_report`: requests, tokens and cost per group, with each group's share of spend.

A mean hides the slow tail, and a percentile over all requests is decided by the slowest
feature: report percentiles, and report them per group.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from course_lib.models import ModelRegistry

__all__ = [
    "Prices",
    "latency_report",
    "model_prices",
    "nearest_rank_percentile",
    "request_costs",
    "usage_report",
]

Prices = Mapping[str, tuple[float, float]]
"""Model id -> (US dollars per million input tokens, per million output tokens)."""


def nearest_rank_percentile(values: Iterable[float], q: float) -> float:
    """The smallest value with at least ``q`` percent of the values at or below it.

    The nearest-rank definition: sort, and take the value at rank ``ceil(q / 100 * n)``
    (1-based; rank 1 for ``q = 0``). The result is always one of ``values``.

    >>> nearest_rank_percentile([15, 20, 35, 40, 50], 40)
    20

    Raises:
        ValueError: no values, a NaN among them, or ``q`` outside 0..100.
    """
    if isinstance(q, bool) or not isinstance(q, int | float) or not 0 <= q <= 100:
        raise ValueError(f"q={q!r} must be a percentage between 0 and 100, e.g. 95.")
    ordered = sorted(values)
    if not ordered:
        raise ValueError("No values: a percentile of nothing is undefined.")
    if any(isinstance(v, float) and math.isnan(v) for v in ordered):
        raise ValueError("The values contain NaN; drop missing values first.")
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def latency_report(
    frame: pd.DataFrame,
    by: str | Sequence[str],
    *,
    column: str = "latency_ms",
    percentiles: Sequence[float] = (50, 95, 99),
) -> pd.DataFrame:
    """Requests, mean and nearest-rank percentiles of ``column`` per group, one row a group.

    Columns ``requests``, ``mean`` and ``p50``, ``p95``, ``p99`` (for the default
    ``percentiles``), rounded to 0.1.
    """
    import pandas as pd

    keys = [by] if isinstance(by, str) else list(by)
    _check_columns(frame, [*keys, column])
    rows = []
    for key, group in frame.groupby(keys, sort=True):
        values = group[column].dropna().tolist()
        values_of_key = key if isinstance(key, tuple) else (key,)
        row: dict[str, Any] = dict(zip(keys, values_of_key, strict=True))
        row["requests"] = len(group)
        row["mean"] = round(float(sum(values) / len(values)), 1) if values else math.nan
        for q in percentiles:
            label = f"p{q:g}"
            row[label] = round(float(nearest_rank_percentile(values, q)), 1) if values else math.nan
        rows.append(row)
    return pd.DataFrame(rows).set_index(keys)


def model_prices(
    models: Iterable[str] | None = None, registry: ModelRegistry | None = None
) -> dict[str, tuple[float, float]]:
    """The price table of ``models`` (ids or roles; default every chat model) from the registry."""
    from course_lib.models import get_registry

    registry = registry or get_registry()
    names = list(models) if models is not None else [m.id for m in registry.chat_models()]
    prices = {}
    for name in names:
        spec = registry.resolve(name)
        prices[spec.id] = (spec.input_price_per_million, spec.output_price_per_million)
    return prices


def request_costs(
    frame: pd.DataFrame,
    prices: Prices,
    *,
    model: str = "model",
    input_tokens: str = "input_tokens",
    output_tokens: str = "output_tokens",
) -> pd.Series:
    """The cost of each request in US dollars: its tokens times its model's prices.

    Every request with tokens is billed, failed ones included: a call that timed out still
    processed (and billed) its prompt.

    Raises:
        ValueError: a model of the frame has no price in ``prices``.
    """
    _check_columns(frame, [model, input_tokens, output_tokens])
    missing = sorted(set(frame[model]) - set(prices))
    if missing:
        raise ValueError(
            f"No price for model(s) {missing}; add them to the price table "
            "(model id -> (USD per million input tokens, per million output tokens))."
        )
    per_input = frame[model].map(lambda m: prices[m][0])
    per_output = frame[model].map(lambda m: prices[m][1])
    costs = (frame[input_tokens] * per_input + frame[output_tokens] * per_output) / 1_000_000
    return costs.astype(float).rename("cost_usd")


def usage_report(
    frame: pd.DataFrame,
    by: str | Sequence[str],
    *,
    prices: Prices | None = None,
    cost: str = "cost_usd",
) -> pd.DataFrame:
    """Requests, tokens and cost per group, most expensive first.

    Columns ``requests``, ``input_tokens``, ``output_tokens``, ``cost_usd``, ``cost_share``
    (of the total) and ``cost_per_1k_requests``. With ``prices``, cost is computed from the
    tokens (:func:`request_costs`); otherwise it is read from the ``cost`` column.
    """
    keys = [by] if isinstance(by, str) else list(by)
    _check_columns(frame, [*keys, "input_tokens", "output_tokens"])
    costs = request_costs(frame, prices) if prices is not None else frame[cost].astype(float)
    table = (
        frame.assign(cost_usd=costs)
        .groupby(keys, sort=True)
        .agg(
            requests=("input_tokens", "size"),
            input_tokens=("input_tokens", "sum"),
            output_tokens=("output_tokens", "sum"),
            cost_usd=("cost_usd", "sum"),
        )
    )
    total = float(table["cost_usd"].sum())
    table["cost_share"] = table["cost_usd"] / total if total else 0.0
    table["cost_per_1k_requests"] = table["cost_usd"] / table["requests"] * 1000
    return table.sort_values("cost_usd", ascending=False, kind="stable")


def _check_columns(frame: Any, columns: Sequence[str]) -> None:
    missing = [c for c in dict.fromkeys(columns) if c not in getattr(frame, "columns", ())]
    if missing:
        raise ValueError(
            f"The frame lacks the column(s) {missing}; pass a request log such as "
            "load_traffic() or a frame with those columns."
        )
