"""Checkers of lesson 1.5, "Agents and tool calling".

The hidden functions below deliberately do not use ``from __future__ import annotations``
(except one, whose hints are written as strings on purpose), so their annotations are real
types as they are in the learner's notebook.
"""

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from course_lib.agents.loop import Step, stop_reason
from course_lib.agents.tools import tool_schema
from course_lib.course.checking import NotYet, Probe, exercise

SOLUTION = "solutions/1_ai_capabilities/15_agents_and_tool_calling.ipynb"


# -- 1.5.1 a tool schema from a typed function ------------------------------------------------


def reference_tool_schema(func: Callable[..., Any]) -> dict[str, Any]:
    """The reference answer of 1.5.1: the library's schema, without the extras it adds."""
    schema = tool_schema(func)
    parameters = schema["function"]["parameters"]
    properties = {
        name: {k: v for k, v in prop.items() if k in ("type", "enum")}
        for name, prop in parameters["properties"].items()
    }
    return {
        "type": "function",
        "function": {
            "name": schema["function"]["name"],
            "description": schema["function"]["description"],
            "parameters": {
                "type": "object",
                "properties": properties,
                "required": parameters["required"],
            },
        },
    }


def lookup_team(team: str) -> str:
    """Look up a team by its id."""
    return team


def schedule_rollout(
    service: str, percent: int, region: Literal["eu-west-1", "eu-central-1"], dry_run: bool = True
) -> str:
    """Start a canary rollout of a service.

    The rollout goes up in steps; this text is not for the model.
    """
    return service


def estimate_trip(nights: int, nightly_rate: float, city: str | None, with_train: bool) -> float:
    """Estimate what a business trip will cost, in euros."""
    return nights * nightly_rate


def flag_ok(enabled: bool, weight: int = 1, label: str = "default") -> None:
    """Set a feature flag."""


def no_docstring(ticket_id: str, note: str | None = None) -> None:
    pass


def pin_region(region: Literal["eu-west-1", "eu-central-1"] | None, replicas: int = 2) -> None:
    """Pin a deployment to one region, or to none."""


def late_typed(count: "int", owner: "str | None" = None) -> None:
    """Count something, with hints written as strings."""


# (function, why it is a good test)
_SCHEMA_CASES: list[tuple[Callable[..., Any], str]] = [
    (lookup_team, "one required string parameter"),
    (
        schedule_rollout,
        "an int, a Literal (an enum), a bool with a default, a multi-line docstring",
    ),
    (estimate_trip, "a float, a nullable string (`str | None`) that is still required"),
    (flag_ok, "a bool is a boolean, not an integer, although bool is a subclass of int"),
    (no_docstring, "no docstring: the description is an empty string"),
    (
        pin_region,
        'a nullable Literal: its "type" lists "null", and its "enum" lists None as well, or '
        "null would fail the enum",
    ),
    (
        late_typed,
        "hints written as strings, as in a module with `from __future__ import "
        "annotations`: typing.get_type_hints(func) resolves them",
    ),
]


def _same_type(got: Any, expected: Any) -> bool:
    if isinstance(expected, list):
        return isinstance(got, list) and sorted(map(str, got)) == sorted(map(str, expected))
    return bool(got == expected)


def _compare_schema(got: Any, expected: dict[str, Any], call: str, why: str) -> None:
    if not isinstance(got, Mapping):
        raise NotYet(f"{call} returned {type(got).__name__}; expected a dict.")
    if got.get("type") != "function" or not isinstance(got.get("function"), Mapping):
        raise NotYet(
            f'{call} should return {{"type": "function", "function": {{...}}}}; got the keys '
            f"{sorted(got)}."
        )
    function, want = got["function"], expected["function"]
    for key in ("name", "description"):
        if function.get(key) != want[key]:
            raise NotYet(
                f"{call}: function {key} is {function.get(key)!r}, expected {want[key]!r} ({why})."
            )
    params = function.get("parameters")
    if not isinstance(params, Mapping) or params.get("type") != "object":
        raise NotYet(f'{call}: "parameters" should be {{"type": "object", ...}} ({why}).')
    props = params.get("properties")
    want_props = want["parameters"]["properties"]
    if not isinstance(props, Mapping) or set(props) != set(want_props):
        shown = sorted(props) if isinstance(props, Mapping) else props
        raise NotYet(f"{call}: properties are {shown}, expected {sorted(want_props)} ({why}).")
    for name, prop in want_props.items():
        mine = props[name]
        if not isinstance(mine, Mapping) or not _same_type(mine.get("type"), prop["type"]):
            shown = mine.get("type") if isinstance(mine, Mapping) else mine
            raise NotYet(
                f"{call}: the type of {name!r} is {shown!r}, expected {prop['type']!r} ({why})."
            )
        if "enum" in prop and list(mine.get("enum") or []) != prop["enum"]:
            raise NotYet(
                f'{call}: {name!r} should list its allowed values as "enum": {prop["enum"]!r} '
                f"({why})."
            )
    required = params.get("required")
    if not isinstance(required, Sequence) or set(required) != set(want["parameters"]["required"]):
        raise NotYet(
            f"{call}: required is {required!r}, expected {want['parameters']['required']!r} "
            f"(parameters without a default are required; {why})."
        )


@exercise(
    "1.5.1",
    title="A tool schema from a typed function",
    answer_name="tool_schema_for",
    reference=reference_tool_schema,
    solution=SOLUTION,
    hints=(
        "The name is func.__name__. For the description, inspect.getdoc(func) gives the "
        "docstring without its indentation (or None); keep its first line. "
        "inspect.signature(func).parameters lists the parameters in order, with their defaults.",
        "Take the types from typing.get_type_hints(func), not from parameter.annotation: it also "
        "resolves hints written as strings. Map str, int, float and bool with a dict lookup "
        "(hint is bool), never with issubclass: bool is a subclass of int.",
        "typing.get_origin(hint) is Literal for Literal[...] (the values are typing.get_args(hint))"
        ", and types.UnionType (or typing.Union) for `str | None`: take the non-None "
        'argument\'s type t and write "type": [t, "null"]; for `Literal[...] | None`, also '
        'append None to the "enum". A parameter is required when parameter.default is '
        "inspect.Parameter.empty.",
    ),
)
def _check_tool_schema(answer: Any, probe: Probe) -> str:
    for func, why in _SCHEMA_CASES:
        call = f"tool_schema_for({func.__name__})"
        got = probe.call(answer, func)
        _compare_schema(got, reference_tool_schema(func), call, why)
        try:
            json.dumps(got)
        except (TypeError, ValueError):
            raise NotYet(
                f"{call} returned a dict that is not JSON: the schema is sent to the model as "
                "JSON, so use strings like 'integer', not Python types."
            ) from None
    return f"tool_schema_for describes all {len(_SCHEMA_CASES)} hidden functions right."


# -- 1.5.2 validating arguments ------------------------------------------------------------


def reference_validate_arguments(parameters: Mapping[str, Any], arguments: str) -> list[str]:
    """The reference answer of 1.5.2: every problem of ``arguments`` against ``parameters``."""
    try:
        values = json.loads(arguments)
    except ValueError as exc:
        return [f"the arguments are not valid JSON ({exc})"]
    if not isinstance(values, dict):
        return ["the arguments must be a JSON object"]
    properties = parameters.get("properties", {})
    problems = [
        f"{name} is missing" for name in parameters.get("required", []) if name not in values
    ]
    problems += [f"{name} is not a parameter" for name in values if name not in properties]
    checks: dict[str, Callable[[Any], bool]] = {
        "string": lambda v: isinstance(v, str),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "boolean": lambda v: isinstance(v, bool),
        "null": lambda v: v is None,
        "array": lambda v: isinstance(v, list),
        "object": lambda v: isinstance(v, dict),
    }
    for name, value in values.items():
        if name not in properties:
            continue
        prop = properties[name]
        kinds = prop.get("type", [])
        kinds = kinds if isinstance(kinds, list) else [kinds]
        if kinds and not any(checks[k](value) for k in kinds):
            problems.append(f"{name} should be {' or '.join(kinds)}, got {value!r}")
        elif "enum" in prop and value not in prop["enum"]:
            problems.append(f"{name} must be one of {prop['enum']}, got {value!r}")
    return problems


_TICKET = {
    "type": "object",
    "properties": {
        "category": {"type": "string", "enum": ["hardware", "login_mfa", "access_request"]},
        "summary": {"type": "string"},
        "urgent": {"type": "boolean"},
    },
    "required": ["category", "summary"],
}
_TRIP = {
    "type": "object",
    "properties": {
        "nights": {"type": "integer"},
        "rate": {"type": "number"},
        "city": {"type": ["string", "null"]},
    },
    "required": ["nights", "rate", "city"],
}

# (parameters, arguments, argument names each problem list must mention (empty: valid), why)
_VALIDATION_CASES: list[tuple[dict[str, Any], str, list[str], str]] = [
    (_TICKET, '{"category": "hardware", "summary": "Screen broken"}', [], "valid"),
    (
        _TICKET,
        '{"category": "login_mfa", "summary": "Locked out", "urgent": false}',
        [],
        "valid, with an optional boolean",
    ),
    (
        _TRIP,
        '{"nights": 2, "rate": 120, "city": null}',
        [],
        'an int is a valid number; null is allowed where the type lists "null"',
    ),
    (_TRIP, '{"nights": 2, "rate": 99.5, "city": "Lisbon"}', [], "valid"),
    (_TICKET, '{"category": "hardware"}', ["summary"], "a required argument is missing"),
    (
        _TICKET,
        '{"category": "laptop", "summary": "Screen broken"}',
        ["category"],
        "a value outside the enum",
    ),
    (
        _TICKET,
        '{"category": "hardware", "summary": ["Screen broken"]}',
        ["summary"],
        "a list where a string is expected",
    ),
    (
        _TICKET,
        '{"category": "hardware", "summary": "x", "urgent": "yes"}',
        ["urgent"],
        "a string where a boolean is expected",
    ),
    (
        _TICKET,
        '{"category": "hardware", "summary": "x", "priority": "P1"}',
        ["priority"],
        "an argument the tool does not have",
    ),
    (
        _TRIP,
        '{"nights": true, "rate": 100, "city": null}',
        ["nights"],
        "true is a boolean, not an integer (in Python, bool is a subclass of int)",
    ),
    (_TRIP, '{"nights": 2.5, "rate": 100, "city": "Leeds"}', ["nights"], "2.5 is not an integer"),
    (
        _TRIP,
        '{"nights": 2, "rate": "100", "city": "Leeds"}',
        ["rate"],
        "a number written as a string is a string",
    ),
    (
        _TRIP,
        '{"nights": 2, "rate": 100}',
        ["city"],
        "a nullable argument is still required when listed in required",
    ),
    (
        _TICKET,
        '{"category": "hardware", "summary": "Scr',
        ["json"],
        "the JSON is cut off: report it, do not raise",
    ),
    (_TICKET, '["hardware", "Screen broken"]', ["object"], "JSON, but not an object"),
]


@exercise(
    "1.5.2",
    title="Validate a model's arguments",
    answer_name="validate_arguments",
    reference=reference_validate_arguments,
    solution=SOLUTION,
    hints=(
        "Parse first: json.loads inside try/except ValueError, and return one problem when it "
        "fails or when the result is not a dict. Then collect problems in a list: required names "
        "that are absent, and names that are not in properties.",
        'For each argument present, read its schema\'s "type" (a string or a list of strings) '
        "and accept the value if it fits any of them: string -> str, integer -> int, number -> "
        "int or float, boolean -> bool, null -> None.",
        "isinstance(True, int) is True in Python, so test `not isinstance(value, bool)` for "
        "integer and number. After the type, check \"enum\" with `value in prop['enum']`. Name "
        "the argument in every message.",
    ),
)
def _check_validate_arguments(answer: Any, probe: Probe) -> str:
    for parameters, arguments, names, why in _VALIDATION_CASES:
        call = f"validate_arguments(<{len(parameters['properties'])} parameters>, {arguments!r})"
        got = probe.call(answer, parameters, arguments)
        probe.expect_type(got, list, call)
        if not all(isinstance(p, str) for p in got):
            raise NotYet(f"{call} returned {got!r}; every problem should be a string.")
        if not names and got:
            raise NotYet(f"{call} returned {got!r}, but these arguments are fine ({why}).")
        if names and not got:
            raise NotYet(f"{call} returned [], but there is a problem: {why}.")
        text = " ".join(got).lower()
        for name in names:
            if name not in text:
                raise NotYet(
                    f"{call} returned {got!r}: say what is wrong and name {name!r} ({why})."
                )
    return f"validate_arguments judges all {len(_VALIDATION_CASES)} hidden cases right."


# -- 1.5.3 the stop condition ---------------------------------------------------------------


def _model(
    tool: str | None = None, arguments: str = "{}", tokens: int = 500, cost: float = 0.001
) -> Step:
    return Step("model", tool, arguments if tool else None, None, tokens, cost)


def _tool(name: str = "parcel_status", result: str = "ok") -> Step:
    return Step("tool", name, "{}", result)


_A = ("parcel_status", '{"tracking_number": "KF-99999"}')
_A_REORDERED = ("parcel_status", '{ "tracking_number" : "KF-99999" }')
_B = ("get_document", '{"doc_id": "holiday-policy"}')
_C2 = ("convert_currency", '{"amount": 10, "currency": "GBP"}')
_C2_SWAPPED = ("convert_currency", '{"currency": "GBP", "amount": 10}')


def _run(*calls: tuple[str, str] | None, cost: float = 0.001) -> list[Step]:
    steps: list[Step] = []
    for call in calls:
        if call is None:
            steps.append(_model(cost=cost))
        else:
            steps.append(_model(call[0], call[1], cost=cost))
            steps.append(_tool(call[0]))
    return steps[:-1] if calls and calls[-1] is not None else steps


# (steps, limits, expected, why)
_STOP_CASES: list[tuple[list[Step], dict[str, Any], str | None, str]] = [
    (_run(_A), {"max_steps": 5}, None, "one model call, nothing to stop yet"),
    (_run(_A, _B, _C2), {"max_steps": 3}, "max_steps", "three model calls with max_steps=3"),
    (
        _run(_A, _B),
        {"max_steps": 3},
        None,
        "two model calls with max_steps=3: tool steps do not count, only model calls",
    ),
    (
        _run(_A, _B, cost=0.004),
        {"max_steps": 10, "max_cost_usd": 0.008},
        "budget",
        "0.008 spent with max_cost_usd=0.008: stop once spent >= the budget",
    ),
    (
        _run(_A, _B, cost=0.004),
        {"max_steps": 10, "max_cost_usd": 0.0081},
        None,
        "0.008 spent, budget 0.0081",
    ),
    (
        _run(_A, _B),
        {"max_steps": 10, "max_tokens": 1000},
        "budget",
        "1,000 tokens spent with max_tokens=1000",
    ),
    (
        _run(_A, _B),
        {"max_steps": 10, "max_tokens": None, "max_cost_usd": None},
        None,
        "no budgets given (None): only the step limit applies",
    ),
    (
        _run(_A, _A),
        {"max_steps": 10, "max_repeats": 2},
        None,
        "the same call twice with max_repeats=2: one retry is allowed",
    ),
    (
        _run(_A, _A, _A),
        {"max_steps": 10, "max_repeats": 2},
        "repeated_call",
        "the same call a third time with max_repeats=2",
    ),
    (
        _run(_A, _A_REORDERED, _A),
        {"max_steps": 10, "max_repeats": 2},
        "repeated_call",
        "the same arguments written with other spacing are the same call: compare parsed JSON",
    ),
    (
        _run(_C2, _C2_SWAPPED, _C2),
        {"max_steps": 10, "max_repeats": 2},
        "repeated_call",
        "the same arguments in another key order are the same call",
    ),
    (
        _run(_A, _B, _A, _B, _A),
        {"max_steps": 10, "max_repeats": 2},
        "repeated_call",
        "a ping-pong loop: the calls alternate, but the third request for the same call still "
        "repeats it",
    ),
    (
        _run(_A, _A, _A),
        {"max_steps": 10, "max_repeats": None},
        None,
        "max_repeats=None turns repeat detection off",
    ),
    (
        _run(_A, _A),
        {"max_steps": 10, "max_repeats": 1},
        "repeated_call",
        "with max_repeats=1 a call may not be asked for twice",
    ),
    (
        _run(_A, _A, _A, cost=0.004),
        {"max_steps": 3, "max_cost_usd": 0.001, "max_repeats": 1},
        "max_steps",
        "several limits hit: the step limit is checked first",
    ),
    (
        _run(_A, _A, _A, cost=0.004),
        {"max_steps": 9, "max_cost_usd": 0.001, "max_repeats": 1},
        "budget",
        "budget and repeats both hit: the budget is checked before repeats",
    ),
    (
        _run(_A, None),
        {"max_steps": 10},
        None,
        "the last model step answered (asked for no tool): nothing repeats",
    ),
]


def _describe(steps: list[Step]) -> str:
    calls = [s.tool or "answer" for s in steps if s.kind == "model"]
    return f"<{len(calls)} model calls: {', '.join(calls)}>"


@exercise(
    "1.5.3",
    title="When must the loop stop?",
    answer_name="should_stop",
    reference=stop_reason,
    solution=SOLUTION,
    hints=(
        "Count only the steps whose kind is 'model': that is the number of model calls. Add up "
        "step.tokens and step.cost_usd over all steps for the budgets; a budget of None means "
        "no limit. Check in the order the exercise gives: steps, budget, repeats.",
        "For repeats, look at the last model step. If it asked for a tool (step.tool is not "
        "None), count the earlier model steps that asked for the same tool with the same "
        "arguments. Stop when that count reaches max_repeats.",
        "Compare arguments as data, not text: json.loads(step.arguments) == json.loads(other) "
        "ignores spacing and key order (or compare json.dumps(..., sort_keys=True)). Compare "
        "with every earlier model step, not only the one before: loops can alternate.",
    ),
)
def _check_should_stop(answer: Any, probe: Probe) -> str:
    for steps, limits, expected, why in _STOP_CASES:
        shown = ", ".join(f"{k}={v!r}" for k, v in limits.items())
        call = f"should_stop({_describe(steps)}, {shown})"
        got = probe.call(answer, list(steps), **limits)
        if got != expected:
            raise NotYet(f"{call} returned {got!r}, expected {expected!r} ({why}).")
    return f"should_stop decides all {len(_STOP_CASES)} hidden step sequences right."
