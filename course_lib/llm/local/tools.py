"""Tool calls: pick the tool whose name and description best match the request."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from course_lib.llm.local.ranking import Tier
from course_lib.llm.local.structured import fill_schema
from course_lib.llm.local.text import lexical_overlap, terms

__all__ = ["ToolChoice", "choose_tool", "is_error_result"]

# A tool is called only when its match with the request is at least this good.
TOOL_THRESHOLD: dict[str, float] = {"small": 0.12, "large": 0.1}


@dataclass(frozen=True)
class ToolChoice:
    name: str
    arguments: dict[str, Any]
    score: float


def _function(tool: Mapping[str, Any]) -> Mapping[str, Any]:
    return tool.get("function", tool)


def _tool_text(tool: Mapping[str, Any]) -> str:
    function = _function(tool)
    params = function.get("parameters", {}).get("properties", {})
    param_text = " ".join(
        f"{k.replace('_', ' ')} {v.get('description', '')}" for k, v in params.items()
    )
    name = str(function.get("name", "")).replace("_", " ").replace("-", " ")
    return f"{name} {function.get('description', '')} {param_text}"


def choose_tool(
    request_text: str,
    tools: Sequence[Mapping[str, Any]],
    tier: Tier,
    *,
    forced: str | None = None,
) -> ToolChoice | None:
    """The tool to call for ``request_text`` with its arguments, or None to answer directly."""
    best: tuple[float, int] | None = None
    request_terms = terms(request_text)
    for i, tool in enumerate(tools):
        name = str(_function(tool).get("name", ""))
        if forced is not None and name != forced:
            continue
        tool_terms = terms(_tool_text(tool))
        # How much of the request the tool covers, and how much of the tool's name it uses.
        score = 0.5 * lexical_overlap(request_terms, tool_terms) + 0.5 * lexical_overlap(
            terms(name.replace("_", " ")), request_terms
        )
        if tier == "large":
            from course_lib.llm.local.ranking import Candidate, ranker

            cosine = (
                ranker("large").score(request_text, [Candidate(_tool_text(tool), name, 0)])[0].score
            )
            score = 0.5 * score + 0.5 * cosine
        if best is None or score > best[0] + 1e-9:
            best = (round(score, 6), i)
    if best is None:
        return None
    score, index = best
    if forced is None and score < TOOL_THRESHOLD[tier]:
        return None
    function = _function(tools[index])
    schema = function.get("parameters", {"type": "object", "properties": {}})
    arguments = fill_schema(schema, request_text, tier)
    if not isinstance(arguments, dict):
        arguments = {}
    return ToolChoice(str(function.get("name")), arguments, score)


def is_error_result(text: str) -> bool:
    """Whether a tool's output reports a failure."""
    stripped = text.strip()
    if stripped.lower().startswith(("error", "exception", "traceback", "failed")):
        return True
    try:
        data = json.loads(stripped)
    except ValueError:
        return False
    return isinstance(data, dict) and bool(data.get("error"))
