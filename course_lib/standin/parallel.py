"""Parallel tool calls: one request that needs the same lookup for several things.

Asked "Where are parcels KF-20931 and KF-31877?", a hosted model sends both lookups in one
assistant message, each with its own ``tool_call_id``, and expects a ``tool`` message
answering each (OpenAI's ``parallel_tool_calls``, on by default). With
``parallel_tool_calls=false`` it sends one call per turn, the next after each result.

The stand-in does the same when its tool choice for the request has one argument that the
request names several distinct values for: an enum argument (services, currencies) or an
identifier written as a code (tracking numbers such as KF-20931). Each call's other
arguments are filled from the clause that names its value ("convert 250 GBP and 80 USD"
gives 250 for GBP and 80 for USD). A request that names one value, or names its steps in
order ("..., then ..."), is served as before, one call a turn. (A plain string argument does
not fan out: any hyphenated word, "on-call", could look like a second value.)
Calls to different tools in one turn ("who owns ledger, and where is KF-20931?") are not
modelled: the stand-in picks one tool per request.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from course_lib.standin.ranking import Tier
from course_lib.standin.structured import _ID_PARTS, _name_parts, fill_schema, malform
from course_lib.standin.tools import choose_tool, is_error_result, request_steps
from course_lib.standin.turn import Reply, Turn

__all__ = ["fan_out", "planned_calls"]

# An identifier that is a code (KF-20931, INC-1042): letters, a hyphen, at least three digits.
_CODE = re.compile(r"\b[A-Z]{2,}-\d{3,}\b")
# Where one lookup's clause ends and the next begins: commas, semicolons, "and", "or", "&".
_CLAUSE_BREAK = re.compile(r"\s*(?:[,;&]|\band\b|\bor\b)\s*", re.I)


def _values(name: str, schema: Mapping[str, Any], text: str) -> list[tuple[str, int, int]]:
    """The distinct values ``text`` names for one string argument, with where each first is."""
    found: dict[str, tuple[int, int]] = {}
    if "enum" in schema and schema.get("type", "string") == "string":
        for value in schema["enum"]:
            pattern = re.compile(rf"(?<![\w-]){re.escape(str(value))}(?![\w-])", re.I)
            if match := pattern.search(text):
                found[str(value)] = match.span()
    elif schema.get("type") == "string" and _name_parts(name) & _ID_PARTS:
        # Only codes that cannot be ordinary words: a plain string argument could take any
        # hyphenated word ("on-call"), and a loose match would split one lookup into two.
        for match in _CODE.finditer(text):
            found.setdefault(match.group(0), match.span())
    ordered = sorted(found.items(), key=lambda item: item[1][0])
    return [(value, start, end) for value, (start, end) in ordered]


def _clause(text: str, start: int, end: int) -> str:
    """The clause of ``text`` around ``start:end``, between the nearest clause breaks."""
    left, right = 0, len(text)
    for match in _CLAUSE_BREAK.finditer(text):
        if match.end() <= start:
            left = match.end()
        elif match.start() >= end:
            right = match.start()
            break
    return text[left:right]


def planned_calls(
    text: str,
    tools: Sequence[Mapping[str, Any]],
    tier: Tier,
    *,
    forced: str | None = None,
) -> list[tuple[str, dict[str, Any]]]:
    """The calls the request needs: one per distinct value of its fan-out argument.

    A list of ``(tool name, arguments)``; one call (or none) when nothing fans out.
    """
    choice = choose_tool(text, tools, tier, forced=forced)
    if choice is None:
        return []
    function: Mapping[str, Any] = next(
        (t.get("function", t) for t in tools if t.get("function", t).get("name") == choice.name),
        {},
    )
    schema = function.get("parameters") or {"type": "object", "properties": {}}
    for key, sub in (schema.get("properties") or {}).items():
        values = _values(key, sub, text)
        if len(values) < 2:
            continue
        calls = []
        for value, start, end in values:
            arguments = fill_schema(schema, _clause(text, start, end), tier)
            if not isinstance(arguments, dict):
                arguments = {}
            calls.append((choice.name, {**arguments, key: value}))
        return calls
    return [(choice.name, choice.arguments)]


def _canonical(name: str, arguments: Any) -> str:
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments)
        except ValueError:
            return f"{name}:{arguments}"
    return f"{name}:{json.dumps(arguments, sort_keys=True)}"


def _issued_since_user(messages: Sequence[Mapping[str, Any]]) -> set[str]:
    """The calls the assistant already made for the latest user message."""
    issued: set[str] = set()
    for message in messages:
        if message.get("role") == "user":
            issued.clear()
        for call in message.get("tool_calls") or ():
            function = call.get("function") or {}
            issued.add(_canonical(str(function.get("name")), function.get("arguments", "{}")))
    return issued


def fan_out(turn: Turn, make_call: Callable[[str, str, str], dict[str, Any]]) -> Reply | None:
    """The next batch of calls of a request that fans out, or None to let the others decide.

    All the remaining calls in one message, or only the next one when the request says
    ``parallel_tool_calls: false``; once every call has its result, an answer made of the
    first line of each. None after a failed tool result (the error behaviours take it), and
    for any request that needs fewer than two calls of one tool.
    """
    if not turn.tools_on:
        return None
    read = turn.read
    if read.last_role not in ("user", "tool"):
        return None
    if any(is_error_result(result.text) for result in read.tool_results):
        return None
    if len(request_steps(turn.question)) != 1:
        return None
    tool_choice = turn.tool_choice
    forced = None
    if isinstance(tool_choice, Mapping):
        forced = str(tool_choice.get("function", {}).get("name"))
    elif tool_choice == "required":
        return None  # a forced call goes the usual way
    planned = planned_calls(turn.question, turn.tools, turn.tier, forced=forced)
    if len(planned) < 2:
        return None
    issued = _issued_since_user(turn.messages)
    remaining = [(n, a) for n, a in planned if _canonical(n, a) not in issued]
    if not remaining:
        # Every lookup answered: one line from each result, as a model sums several up.
        results = [r.text.strip() for r in read.tool_results[-len(planned) :]]
        return Reply("tool_results", " ".join(r.splitlines()[0] for r in results if r))
    parallel = turn.request.get("parallel_tool_calls", True) is not False
    batch = remaining if parallel else remaining[:1]
    calls = []
    for i, (name, arguments) in enumerate(batch):
        text = json.dumps(arguments, ensure_ascii=False)
        if i == 0 and turn.broken:  # as for a single call, the first may come out malformed
            text = malform(arguments, None, turn.break_unit)
        calls.append(make_call(name, text, turn.fingerprint))
    behaviour = "parallel_tool_calls" if len(calls) > 1 else "tool_call"
    return Reply(behaviour, tool_calls=calls, malformed=turn.broken)
