"""Tool calls: pick the tool whose name and description best match the request.

A request that names its steps in order ("Search the handbook for X, then open that
document") is served one step per turn: the model calls a tool for the first step, and after
each successful tool result it calls a tool for the next step, taking identifiers it cannot find
in that step's words (a document id, a service name) from the earlier tool results.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from course_lib.standin.ranking import Tier
from course_lib.standin.structured import _string_by_name as string_by_name, fill_schema
from course_lib.standin.text import lexical_overlap, terms

__all__ = ["ToolChoice", "choose_tool", "is_error_result", "request_steps"]

# A tool is called only when its match with the request is at least this good.
TOOL_THRESHOLD: dict[str, float] = {"small": 0.12, "large": 0.1}
# "..., then ...", "... and then ...", "...? Then ...": the request names its steps in order.
_THEN = re.compile(r"(?:(?<=[,;.?!])\s*|\s+and\s+)then\b[,:]?\s*", re.I)


def request_steps(text: str) -> list[str]:
    """The steps a request names in order; a request without "then" is a single step."""
    steps = [part.strip().rstrip(",;").strip() for part in _THEN.split(text)]
    return [step for step in steps if step] or [text]


@dataclass(frozen=True)
class ToolChoice:
    name: str
    arguments: dict[str, Any]
    score: float


def _function(tool: Mapping[str, Any]) -> Mapping[str, Any]:
    function = tool.get("function", tool) if isinstance(tool, Mapping) else None
    return function if isinstance(function, Mapping) else {}


def _tool_text(tool: Mapping[str, Any]) -> str:
    function = _function(tool)
    # A request's tools are not validated yet when a tool is chosen: a missing or mistyped
    # "parameters" must read as no parameters, never as a server error.
    parameters = function.get("parameters")
    params = parameters.get("properties") if isinstance(parameters, Mapping) else None
    param_text = " ".join(
        f"{k.replace('_', ' ')} {v.get('description', '') if isinstance(v, Mapping) else ''}"
        for k, v in (params.items() if isinstance(params, Mapping) else ())
    )
    name = str(function.get("name", "")).replace("_", " ").replace("-", " ")
    return f"{name} {function.get('description', '')} {param_text}"


def choose_tool(
    request_text: str,
    tools: Sequence[Mapping[str, Any]],
    tier: Tier,
    *,
    forced: str | None = None,
    context: str = "",
) -> ToolChoice | None:
    """The tool to call for ``request_text`` with its arguments, or None to answer directly.

    ``context`` is the text of earlier tool results: a string argument named like an id or a
    name (``doc_id``, ``service``) that the request does not contain is looked for there.
    """
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
            from course_lib.standin.ranking import Candidate, ranker

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
    schema = function.get("parameters") or {"type": "object", "properties": {}}  # null: none
    arguments = fill_schema(schema, request_text, tier)
    if not isinstance(arguments, dict):
        arguments = {}
    if context:
        for key, sub in schema.get("properties", {}).items():
            if sub.get("type") != "string" or "enum" in sub:
                continue
            if string_by_name(key, request_text, request_text) is None:
                found = string_by_name(key, context, context)
                if found is not None:
                    arguments[key] = found
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
