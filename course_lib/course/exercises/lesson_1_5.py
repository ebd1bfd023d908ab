"""Checkers of lesson 1.5, "Agents and tool calling".

The hidden functions below deliberately do not use ``from __future__ import annotations``
(except one, whose hints are written as strings on purpose), so their annotations are real
types as they are in the learner's notebook.
"""

import json
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
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


class _UsedTheLibrary(BaseException):
    """Raised inside the check when the answer calls the library's schema builder.

    A BaseException, so that the probe's ``except Exception`` does not turn it into
    "raised ..."; the checker names the shortcut instead.
    """


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
    from unittest import mock

    from course_lib.agents import tools as library

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise _UsedTheLibrary

    for func, why in _SCHEMA_CASES:
        call = f"tool_schema_for({func.__name__})"
        # The library's schema is the answer 4.1 shows next; calling it skips the exercise.
        patched = answer is not reference_tool_schema  # the reference is the library's
        with (
            mock.patch.object(library, "tool_schema", refuse if patched else tool_schema),
            mock.patch.object(
                library, "_parameter_schema", refuse if patched else library._parameter_schema
            ),
        ):
            try:
                got = probe.call(answer, func)
            except _UsedTheLibrary:
                raise NotYet(
                    f"{call} asked course_lib.agents for the schema (tool(f).schema or "
                    "tool_schema): that is the answer, not yours. Build it from "
                    "inspect.signature(func) and typing.get_type_hints(func)."
                ) from None
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
    """The reference answer of 1.5.2: every problem of ``arguments``, found by jsonschema."""
    from jsonschema import Draft202012Validator

    try:
        values = json.loads(arguments)
    except ValueError as exc:
        return [f"the arguments are not valid JSON ({exc})"]
    # Strict mode's rule (lesson 1.2): an argument the tool does not declare is an error.
    validator = Draft202012Validator({**parameters, "additionalProperties": False})
    return [
        f"{'.'.join(map(str, error.absolute_path)) or 'arguments'}: {error.message}"
        for error in validator.iter_errors(values)
    ]


def handwritten_validate_arguments(parameters: Mapping[str, Any], arguments: str) -> list[str]:
    """The first edition's hand-written validator: types, enums and required names only.

    Kept as a wrong answer: it re-implements a corner of JSON Schema and misses the rest
    (``minLength``, ``minimum``, ``pattern``, ``items``).
    """
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
        "summary": {"type": "string", "minLength": 5},
        "urgent": {"type": "boolean"},
    },
    "required": ["category", "summary"],
}
_TRIP = {
    "type": "object",
    "properties": {
        "nights": {"type": "integer", "minimum": 1},
        "rate": {"type": "number"},
        "city": {"type": ["string", "null"]},
    },
    "required": ["nights", "rate", "city"],
}

_TAGS = {
    "type": "object",
    "properties": {
        "tags": {"type": "array", "items": {"type": "string"}},
        "owner": {"type": "string", "pattern": "^[a-z]+$"},
    },
    "required": ["tags"],
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
        '{"category": "hardware", "summary": "Broken", "urgent": "yes"}',
        ["urgent"],
        "a string where a boolean is expected",
    ),
    (
        _TICKET,
        '{"category": "hardware", "summary": "Broken", "priority": "P1"}',
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
    (
        _TICKET,
        '{"category": "laptop"}',
        ["category", "summary"],
        "two problems at once: report both, not only the first",
    ),
    (
        _TICKET,
        '{"category": "hardware", "summary": "x"}',
        ["summary"],
        'a summary shorter than its "minLength" of 5: JSON Schema has more keywords than type '
        "and enum",
    ),
    (
        _TRIP,
        '{"nights": 0, "rate": 100, "city": null}',
        ["nights"],
        'zero nights is below the "minimum" of 1',
    ),
    (
        _TAGS,
        '{"tags": ["urgent", 3]}',
        ["tags"],
        'the second item of the list is not a string (the "items" keyword)',
    ),
    (_TAGS, '{"tags": ["urgent", "eu"]}', [], "valid: a list of strings"),
    (
        _TAGS,
        '{"tags": ["urgent"], "owner": "KF-1"}',
        ["owner"],
        'the owner does not match its "pattern" (a team id is lower case)',
    ),
]


@exercise(
    "1.5.2",
    title="Validate a model's arguments with jsonschema",
    answer_name="validate_arguments",
    reference=reference_validate_arguments,
    solution=SOLUTION,
    hints=(
        "Parse first, inside try/except ValueError (return one problem when it fails). Then "
        "let the library judge: jsonschema.Draft202012Validator(schema).iter_errors(values) "
        "yields every error, not only the first.",
        "A tool's arguments may not include names it does not declare, but JSON Schema allows "
        'them unless told otherwise: validate against {**parameters, "additionalProperties": '
        "False}.",
        "error.message often names only the value (\"'laptop' is not one of [...]\"); "
        "error.absolute_path holds the argument's name: start each problem with "
        "'.'.join(map(str, error.absolute_path)) or 'arguments'.",
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
_BROKEN = ("parcel_status", '{"tracking_number": "KF-99')  # cut off: not JSON
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
        _run(_BROKEN, _BROKEN),
        {"max_steps": 10, "max_repeats": 2},
        None,
        "the same malformed call twice (its arguments are not JSON): compare it as text, "
        "and do not let json.loads raise: the loop must never crash on a model's output",
    ),
    (
        _run(_BROKEN, _BROKEN, _BROKEN),
        {"max_steps": 10, "max_repeats": 2},
        "repeated_call",
        "the same malformed call a third time: the small model does repeat its broken calls",
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
        "ignores spacing and key order (or compare json.dumps(..., sort_keys=True)). When the "
        "text is not JSON, json.loads raises ValueError: catch it and compare the text itself. "
        "Compare with every earlier model step, not only the one before: loops can alternate.",
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


# -- 1.5.4 budgets that end every run without losing a success (open-ended) ----------------

_REFERENCE_BUDGETS: dict[str, Any] = {
    "max_steps": 4,
    "max_tokens": 4_000,
    "max_seconds": 1.2,
    "max_repeats": 1,
}


@lru_cache(maxsize=1)
def _held_out_baseline() -> Any:
    """The generous loop on the held-out tasks and seeds: what no budget may lose."""
    from course_lib.labs.agent_budgets import GENEROUS, HELD_OUT_SEEDS, run_with_budgets
    from course_lib.labs.agent_tasks import HELD_OUT_TASKS
    from course_lib.standin import local_client

    return run_with_budgets(local_client(), GENEROUS, tasks=HELD_OUT_TASKS, seeds=HELD_OUT_SEEDS)


@exercise(
    "1.5.4",
    title="Budgets that end every run and lose no success",
    answer_name="budgets",
    expects_function=False,
    reference=_REFERENCE_BUDGETS,
    solution=SOLUTION,
    time_limit=30.0,
    hints=(
        "Run score_budgets(budgets) after each change and read which part misses: the worst "
        "run's tokens, its model seconds, or a lost success. Change one budget at a time.",
        "A budget is checked between model calls, so a run ends above it by up to one call "
        "(about 1,000-1,700 tokens and 0.3-0.5 s here). Set token and time budgets below the "
        "target by that much, not at the target.",
        "The longest successful run takes 3 model calls and about 4,500 tokens; a runaway asks "
        "for the same failing call again. max_steps of 3 or 4 and max_repeats of 1 or 2 end "
        "runaways early without cutting a success. A token budget must let the second call of "
        "a three-call run through; so must the time budget. Try values until one cuts a "
        "success, then step back.",
    ),
)
def _check_budgets(answer: Any, probe: Probe) -> str:
    from course_lib.labs.agent_budgets import (
        BUDGET_KEYS,
        BUDGET_TARGET,
        GENEROUS,
        HELD_OUT_SEEDS,
        budget_report,
        run_with_budgets,
    )
    from course_lib.labs.agent_tasks import HELD_OUT_TASKS
    from course_lib.standin import local_client

    if not isinstance(answer, Mapping):
        raise NotYet(
            f"budgets is {type(answer).__name__}; expected a dict with the keys "
            f"{list(BUDGET_KEYS)}."
        )
    if dict(answer) == GENEROUS:
        raise NotYet(
            "budgets are still the generous ones the cell starts with: a runaway run spends "
            "12 model calls. Tighten them until score_budgets(budgets) meets the target."
        )
    for key in ("max_tokens", "max_seconds"):
        value = answer.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise NotYet(f"{key} is {value!r}; give a number, or None for no limit.")
    repeats = answer.get("max_repeats")
    if repeats is not None and (isinstance(repeats, bool) or not isinstance(repeats, int)):
        raise NotYet(f"max_repeats is {repeats!r}; give a whole number, or None for no limit.")
    unset = [key for key in BUDGET_KEYS if answer.get(key) is None]
    if unset:
        raise NotYet(
            f"{', '.join(unset)} {'is' if len(unset) == 1 else 'are'} not set. Set all four: "
            "each guards a different failure (a long loop, a large context, slow calls, a "
            "repeated call), and one alone only happens to suffice on this suite. Then find "
            "each one's edge, where it starts to cut a success."
        )
    try:
        frame = run_with_budgets(
            local_client(), dict(answer), tasks=HELD_OUT_TASKS, seeds=HELD_OUT_SEEDS
        )
    except (TypeError, ValueError) as exc:
        raise NotYet(str(exc)) from None
    report = budget_report(frame, _held_out_baseline(), BUDGET_TARGET)
    where = f"on {len(HELD_OUT_TASKS)} tasks and {len(HELD_OUT_SEEDS)} seeds you have not seen"
    if report.lost:
        raise NotYet(
            f"{where}, these budgets stop {len(report.lost)} run(s) the generous loop solved "
            f"(e.g. {report.lost[0]}): loosen the budget that ends them."
        )
    if report.worst_tokens > BUDGET_TARGET.max_run_tokens:
        raise NotYet(
            f"{where}, the dearest run spent {report.worst_tokens:,} tokens; the target is at "
            f"most {BUDGET_TARGET.max_run_tokens:,}. A budget is checked between calls: leave room "
            "for one more call."
        )
    if report.worst_seconds > BUDGET_TARGET.max_run_seconds:
        raise NotYet(
            f"{where}, the slowest run took {report.worst_seconds:.2f} s of model time; the "
            f"target is at most {BUDGET_TARGET.max_run_seconds:g} s."
        )
    return f"{where}: {report}."
