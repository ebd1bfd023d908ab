"""Checkers of lesson 1.5, "Agents and tool calling"."""

import copy
import json
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from course_lib.course.checking import NotYet, Probe, exercise

SOLUTION = "solutions/1_ai_capabilities/15_agents_and_tool_calling.ipynb"


# -- 1.5.1 validating arguments ------------------------------------------------------------


def reference_validate_arguments(parameters: Mapping[str, Any], arguments: str) -> list[str]:
    """The reference answer of 1.5.1: every problem of ``arguments``, found by jsonschema."""
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
        ["JSON"],
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
    "1.5.1",
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
    for schema, arguments, names, why in _VALIDATION_CASES:
        parameters = copy.deepcopy(schema)  # the learner's copy: changing it must not matter
        call = f"validate_arguments(<{len(parameters['properties'])} parameters>, {arguments!r})"
        got = probe.call(answer, parameters, arguments)
        if parameters != schema:
            raise NotYet(
                f"{call} changed the schema it was given (the caller's tool schema): validate "
                'against a new dict, {**parameters, "additionalProperties": False}, instead.'
            )
        probe.expect_type(got, list, call)
        if not all(isinstance(p, str) for p in got):
            raise NotYet(f"{call} returned {got!r}; every problem should be a string.")
        if not names and got:
            raise NotYet(f"{call} returned {got!r}, but these arguments are fine ({why}).")
        if names and not got:
            raise NotYet(f"{call} returned [], but there is a problem: {why}.")
        if len(got) < len(names):
            raise NotYet(
                f"{call} returned {got!r}: expected {len(names)} problems, one string each ({why})."
            )
        text = " ".join(got).lower()
        for name in names:
            if name.lower() not in text:
                raise NotYet(
                    f"{call} returned {got!r}: say what is wrong, mentioning {name!r} ({why})."
                )
    return f"validate_arguments judges all {len(_VALIDATION_CASES)} hidden cases right."


# -- 1.5.2 budgets that end every run without losing a success (open-ended) ----------------

_REFERENCE_BUDGETS: dict[str, Any] = {
    "max_steps": 3,
    "max_tokens": 3_000,
    "max_seconds": 1.0,
    "max_repeats": 1,
}


@lru_cache(maxsize=1)
def _held_out_baseline() -> Any:
    """The generous loop on the held-out tasks and seeds: what no budget may lose."""
    from course_lib.labs.agent_budgets import GENEROUS, HELD_OUT_SEEDS, run_with_budgets
    from course_lib.labs.agent_tasks import HELD_OUT_TASKS
    from course_lib.standin import local_client

    return run_with_budgets(local_client(), GENEROUS, tasks=HELD_OUT_TASKS, seeds=HELD_OUT_SEEDS)


_WHAT_EACH_GUARDS = {
    "max_steps": "a long loop of different calls",
    "max_tokens": "a context that grows fast, such as long tool results",
    "max_seconds": "slow calls, such as long outputs",
    "max_repeats": "the same call asked again and again",
}


@exercise(
    "1.5.2",
    title="Budgets that end every run and lose no success",
    answer_name="budgets",
    expects_function=False,
    reference=_REFERENCE_BUDGETS,
    solution=SOLUTION,
    time_limit=30.0,
    hints=(
        "Run score_budgets(budgets) after each change and read which part misses: a lost "
        "success, the worst run's tokens or seconds, or a loose budget. Change one budget at a "
        "time.",
        "Measure each edge on baseline, one row per run of the generous loop: over the "
        "successes, the largest model_calls, most_repeats, tokens_before_last and "
        "seconds_before_last. Token and time budgets are checked between model calls, so a "
        "run (a success too) can end above them by one call.",
        "Near an edge, add a small margin: the checker's tasks are phrased differently, so a "
        "success there may need a little more than here. Loose means more than half as much "
        "again as the edge for tokens and seconds, more than one above it for steps and "
        "repeats. max_repeats=1 lets each call run once; 0 stops every call.",
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
    # The reference itself passes (answer_or_reference and the tests hand it over); a copy of
    # its values, typed in, is not a measurement of the learner's own.
    if answer is not _REFERENCE_BUDGETS and dict(answer) == _REFERENCE_BUDGETS:
        raise NotYet(
            "these are the course's own budgets, copied: find yours by measurement. Measure "
            "each edge on the generous runs in baseline (hint 2), add a small margin, and "
            "check the result with score_budgets(budgets)."
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
    if repeats is not None and repeats < 1:
        raise NotYet(
            f"max_repeats={repeats} stops every tool call before it runs: the rule counts "
            "earlier requests for the same call, so 0 allows none. max_repeats=1 lets a call "
            "run once and never again."
        )
    unset = [key for key in BUDGET_KEYS if answer.get(key) is None]
    if unset:
        raise NotYet(
            f"{', '.join(unset)} {'is' if len(unset) == 1 else 'are'} not set. Set all four: "
            "each guards a different failure (a long loop, a large context, slow calls, a "
            "repeated call). Then find each one's edge, where it starts to cut a success."
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
            f"(first: {report.lost[0]}): loosen that budget a little; these tasks differ from "
            "yours, so leave a margin above the edge you measured."
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
    if report.loose:
        key, others = report.loose[0], report.loose[1:]
        also = f" ({', '.join(others)} too)" if others else ""
        margin = (
            "more than one above what"
            if key in ("max_steps", "max_repeats")
            else "more than half as much again as what"
        )
        raise NotYet(
            f"{where}, {key}={answer[key]!r} is loose{also}: {margin} any success needs, so it "
            "never ends a run early. It guards against "
            f"{_WHAT_EACH_GUARDS[key]}: measure its edge on the generous runs (hint 2) and "
            "set it a small margin above."
        )
    return f"{where}: {report}."
