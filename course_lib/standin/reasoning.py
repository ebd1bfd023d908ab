"""Reasoning and retired models, as the stand-in serves them (planted behaviours).

A hosted reasoning model writes hidden "thinking" tokens before its answer. It reports them in
``usage.completion_tokens_details.reasoning_tokens``, counts them in ``completion_tokens`` (so
they are billed as output), takes time to write them, and refuses with a 400 sampling settings
such as ``temperature``, and ``max_tokens`` (its limit is ``max_completion_tokens``). The
stand-in does the same for a model the registry marks ``reasoning = true``: it draws a number
of hidden tokens per request from the registry's range (``reasoning_tokens_min`` to
``reasoning_tokens_max``, scaled by ``reasoning_effort``), with no real reasoning behind them.
The count is planted, so a lesson can measure what hidden tokens cost; it is not a finding
about any model.

A model marked ``retired`` answers 404 ``model_not_found``, as providers answer a model they
have switched off.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from course_lib.llm.lifecycle import SAMPLING_PARAMETERS, is_reasoning, retirement
from course_lib.models import ModelSpec
from course_lib.standin.errors import InvalidRequestError
from course_lib.standin.text import stable_unit

__all__ = ["EFFORT_SCALE", "check_lifecycle", "reasoning_tokens"]

# How much of the registry's range each reasoning_effort uses (medium is the default).
EFFORT_SCALE = {"minimal": 0.1, "low": 0.4, "medium": 1.0, "high": 2.5}


def check_lifecycle(request: Mapping[str, Any], spec: ModelSpec) -> None:
    """Refuse a retired model (404) and sampling settings sent to a reasoning model (400)."""
    retired = retirement(spec)
    if retired is not None:
        date, replacement = retired
        instead = f" Use '{replacement}' instead." if replacement else ""
        raise InvalidRequestError(
            f"The model '{spec.id}' has been deprecated and was retired on {date}.{instead}",
            status=404,
            param="model",
            code="model_not_found",
        )
    if is_reasoning(spec):
        if request.get("max_tokens") is not None:
            raise InvalidRequestError(
                "Unsupported parameter: 'max_tokens' is not supported with this model. "
                "Use 'max_completion_tokens' instead.",
                param="max_tokens",
                code="unsupported_parameter",
            )
        for name in SAMPLING_PARAMETERS:
            if request.get(name) is not None:
                raise InvalidRequestError(
                    f"Unsupported parameter: '{name}' is not supported with this model.",
                    param=name,
                    code="unsupported_parameter",
                )
        effort = request.get("reasoning_effort")
        if effort is not None and effort not in EFFORT_SCALE:
            raise InvalidRequestError(
                f"Invalid value: '{effort}'. Supported values are: "
                + ", ".join(f"'{e}'" for e in EFFORT_SCALE)
                + ".",
                param="reasoning_effort",
                code="invalid_value",
            )
    elif request.get("reasoning_effort") is not None:
        raise InvalidRequestError(
            "Unsupported parameter: 'reasoning_effort' is not supported with this model.",
            param="reasoning_effort",
            code="unsupported_parameter",
        )


def reasoning_tokens(spec: ModelSpec, request: Mapping[str, Any], fingerprint: str) -> int:
    """The hidden tokens the model "thinks" for this request: 0 unless it is a reasoning model.

    Drawn from the request's fingerprint, so the same request reports the same count.
    """
    if not is_reasoning(spec):
        return 0
    low = int(spec.extra.get("reasoning_tokens_min", 100))
    high = int(spec.extra.get("reasoning_tokens_max", 1000))
    scale = EFFORT_SCALE[str(request.get("reasoning_effort") or "medium")]
    drawn = low + stable_unit("reasoning", fingerprint) * (high - low)
    return max(1, round(drawn * scale))
