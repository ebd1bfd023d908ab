"""course_lib.agents: tool schemas from typed functions, validation, the loop and the suite."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, Literal

import pytest

from course_lib.agents import (
    STOP_REASONS,
    AgentRun,
    Step,
    ToolArgumentError,
    run_agent,
    stop_reason,
    tool,
    tool_help,
    tool_schema,
)
from course_lib.labs import (
    OUTCOMES,
    READ_ONLY_TOOLS,
    TASKS,
    TUTORIAL_SCHEMAS,
    CallCapReachedError,
    CappedClient,
    HandbookWorld,
    ShowsEveryTool,
    mentions,
    opened_ticket,
    run_suite,
)
from course_lib.llm import ChatResult, ToolCall, Usage
from course_lib.standin import local_client
from course_lib.standin.tools import request_steps

# -- tool schemas ---------------------------------------------------------------------------


def book_room(
    city: Literal["Leeds", "Lisbon"],
    nights: int,
    budget: float | None,
    breakfast: bool = False,
    guests: list[str] | None = None,
) -> str:
    """Book a hotel room for a business trip.

    Longer text that the model does not need.

    Args:
        city: where to stay.
        nights: how many nights,
            at least one.
        budget: the most to pay per night, or null for the policy cap.
        breakfast: include breakfast.
        guests: who stays.

    Returns:
        A booking reference.
    """
    return "BK-1"


def test_schema_has_name_first_docstring_line_and_chat_completions_shape() -> None:
    schema = tool_schema(book_room)
    assert schema["type"] == "function"
    function = schema["function"]
    assert function["name"] == "book_room"
    assert function["description"] == "Book a hotel room for a business trip."
    assert function["parameters"]["type"] == "object"
    assert function["parameters"]["additionalProperties"] is False


def test_schema_types_enums_nullable_defaults_and_descriptions() -> None:
    params = tool_schema(book_room)["function"]["parameters"]
    props = params["properties"]
    assert props["city"]["type"] == "string"
    assert props["city"]["enum"] == ["Leeds", "Lisbon"]
    assert props["nights"]["type"] == "integer"
    assert props["budget"]["type"] == ["number", "null"]
    assert props["breakfast"] == {
        "type": "boolean",
        "description": "include breakfast.",
        "default": False,
    }
    assert props["guests"]["type"] == ["array", "null"]
    assert props["guests"]["items"] == {"type": "string"}
    assert props["nights"]["description"] == "how many nights, at least one."
    # A parameter without a default is required, even when it may be null.
    assert params["required"] == ["city", "nights", "budget"]


def test_schema_of_a_bound_method_leaves_out_self() -> None:
    schema = tool_schema(HandbookWorld().parcel_status)
    assert list(schema["function"]["parameters"]["properties"]) == ["tracking_number"]


def test_schema_refuses_functions_it_cannot_describe() -> None:
    def untyped(x):  # type: ignore[no-untyped-def]
        """No hints."""

    def variadic(*args: str) -> None:
        """Varargs."""

    def odd(when: complex) -> None:
        """A complex number."""

    def mixed(x: int | str) -> None:
        """A union."""

    for func, words in [
        (untyped, "no type hint"),
        (variadic, "*args"),
        (odd, "has no tool schema"),
        (mixed, "X | None"),
    ]:
        with pytest.raises(TypeError, match=words.replace("*", r"\*").replace("|", r"\|")):
            tool_schema(func)


def test_nullable_literal_keeps_null_among_its_values() -> None:
    def pick(size: Literal["S", "M"] | None) -> None:
        """Pick a size."""

    prop = tool_schema(pick)["function"]["parameters"]["properties"]["size"]
    assert prop == {"type": ["string", "null"], "enum": ["S", "M", None]}


def test_tool_help_writes_the_signature_and_docstring_the_same_on_every_python() -> None:
    # Hints written as strings (this module has `from __future__ import annotations`) are
    # resolved; types read as in source, whatever typing's reprs look like on this version.
    text = tool_help(book_room)
    lines = text.splitlines()
    assert lines[0] == (
        "book_room(city: Literal['Leeds', 'Lisbon'], nights: int, budget: float | None, "
        "breakfast: bool = False, guests: list[str] | None = None) -> str"
    )
    assert lines[1] == "    Book a hotel room for a business trip."
    assert lines[2] == ""  # a blank docstring line stays empty, with no trailing spaces
    assert "        nights: how many nights," in lines
    assert all(line == line.rstrip() for line in lines)
    # A bound method leaves out self, and a Tool shows its function.
    world = HandbookWorld()
    method_help = tool_help(world.convert_currency)
    assert method_help.startswith(
        "convert_currency(amount: float, currency: Literal['GBP', 'USD', 'CHF', 'PLN', 'SEK'])"
        " -> str\n    Convert an amount"
    )
    assert tool_help(tool(world.convert_currency)) == method_help


# -- validation -----------------------------------------------------------------------------


def test_validate_returns_typed_values_and_defaults() -> None:
    booking = tool(book_room)
    values = booking.validate('{"city": "Leeds", "nights": 2, "budget": null}')
    assert values == {
        "city": "Leeds",
        "nights": 2,
        "budget": None,
        "breakfast": False,
        "guests": None,
    }
    assert booking.run({"city": "Lisbon", "nights": 1, "budget": 120.0}) == "BK-1"


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        ('{"city": "Leeds", "nights": 2', "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ('{"city": "Leeds", "budget": null}', "nights is missing"),
        ('{"city": "Paris", "nights": 2, "budget": null}', "city"),
        ('{"city": "Leeds", "nights": "two", "budget": null}', "nights"),
        ('{"city": "Leeds", "nights": 2, "budget": null, "pets": 1}', "pets is not a parameter"),
    ],
)
def test_validate_explains_each_problem_for_the_model(arguments: str, words: str) -> None:
    with pytest.raises(ToolArgumentError) as caught:
        tool(book_room).validate(arguments)
    message = str(caught.value)
    assert words in message
    assert "book_room" in message
    assert "\n" not in message


def test_tool_decorator_forms_and_side_effects_flag() -> None:
    plain = tool(book_room)
    flagged = tool(side_effects=True)(book_room)
    assert plain.name == flagged.name == "book_room"
    assert not plain.side_effects and flagged.side_effects
    assert plain("Leeds", 1, None) == "BK-1"  # calling the tool calls the function


def test_importing_the_package_loads_no_pydantic_or_pandas() -> None:
    import subprocess
    import sys

    code = (
        "import sys, course_lib.agents, course_lib.labs.agent_tasks;"
        "print([m for m in ('pydantic', 'pandas', 'numpy', 'openai') if m in sys.modules])"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "[]", result.stderr


# -- the stop condition ---------------------------------------------------------------------


def model_step(tool_name: str | None = None, arguments: str = "{}", cost: float = 0.001) -> Step:
    return Step("model", tool_name, arguments if tool_name else None, None, 100, cost)


def test_stop_reason_counts_model_calls_only() -> None:
    steps = [model_step("a"), Step("tool", "a", "{}", "ok"), model_step("b", '{"x": 1}')]
    assert stop_reason(steps, max_steps=3) is None
    assert stop_reason(steps, max_steps=2) == "max_steps"


def test_stop_reason_budgets_on_tokens_and_cost() -> None:
    steps = [model_step("a"), model_step("b")]
    assert stop_reason(steps, max_steps=10, max_tokens=201) is None
    assert stop_reason(steps, max_steps=10, max_tokens=200) == "budget"
    assert stop_reason(steps, max_steps=10, max_cost_usd=0.0021) is None
    assert stop_reason(steps, max_steps=10, max_cost_usd=0.002) == "budget"


def test_stop_reason_repeats_ignore_key_order_and_count_earlier_requests() -> None:
    first = model_step("parcel_status", '{"a": 1, "b": 2}')
    again = model_step("parcel_status", '{"b": 2,  "a": 1}')
    other = model_step("parcel_status", '{"a": 1, "b": 3}')
    assert stop_reason([first, again], max_steps=10, max_repeats=2) is None
    assert stop_reason([first, again, again], max_steps=10, max_repeats=2) == "repeated_call"
    assert stop_reason([first, again, other], max_steps=10, max_repeats=2) is None
    assert stop_reason([first, again, again], max_steps=10, max_repeats=None) is None
    assert stop_reason([first, again], max_steps=10, max_repeats=1) == "repeated_call"


def test_stop_reason_order_is_steps_then_budget_then_repeats() -> None:
    steps = [model_step("a"), model_step("a"), model_step("a")]
    assert stop_reason(steps, max_steps=3, max_cost_usd=0.001, max_repeats=1) == "max_steps"
    assert stop_reason(steps, max_steps=9, max_cost_usd=0.001, max_repeats=1) == "budget"


# -- the loop, with a scripted model --------------------------------------------------------


def reply(content: str | None = None, *calls: tuple[str, str], tokens: int = 50) -> ChatResult:
    return ChatResult(
        content=content,
        model="scripted",
        usage=Usage(tokens - 10, 10),
        cost_usd=tokens * 1e-6,
        latency_ms=0.0,
        finish_reason="tool_calls" if calls else "stop",
        tool_calls=tuple(ToolCall(f"call_{i}", name, args) for i, (name, args) in enumerate(calls)),
    )


class ScriptedClient:
    """Replies from a script; after the script, repeats its last reply forever."""

    def __init__(self, replies: Sequence[ChatResult]) -> None:
        self.replies = list(replies)
        self.requests: list[dict[str, Any]] = []

    def chat(self, messages: Any, **options: Any) -> ChatResult:
        shown = messages if isinstance(messages, str) else [dict(m) for m in messages]
        self.requests.append({"messages": shown, **options})
        index = min(len(self.requests) - 1, len(self.replies) - 1)
        return self.replies[index]


def test_answers_after_a_tool_call_and_records_every_step() -> None:
    world = HandbookWorld()
    client = ScriptedClient(
        [reply(None, ("parcel_status", '{"tracking_number": "KF-20931"}')), reply("In Lisbon.")]
    )
    run = run_agent(client, "Where is KF-20931?", world.tools())
    assert run.stopped_reason == "answered" and run.answered
    assert run.answer == run.reply == "In Lisbon."
    assert [s.kind for s in run.steps] == ["model", "tool", "model"]
    assert "Lisbon hub" in (run.steps[1].result or "")
    assert run.totals.model_calls == 2 and run.totals.tool_calls == 1
    assert run.totals.tokens == 100 and run.totals.cost_usd == pytest.approx(100e-6)
    tool_message = client.requests[1]["messages"][-1]
    assert tool_message["role"] == "tool" and tool_message["tool_call_id"] == "call_0"
    trace = run.trace()
    assert list(trace.columns) == ["kind", "tool", "arguments", "result", "tokens", "cost_usd"]
    assert len(trace) == 3


def test_tool_exceptions_and_bad_arguments_go_back_to_the_model() -> None:
    world = HandbookWorld()
    client = ScriptedClient(
        [
            reply(None, ("parcel_status", '{"tracking_number": "KF-99999"}')),
            reply(None, ("convert_currency", '{"amount": 10, "currency": "JPY"}')),
            reply(None, ("get_document", '{"doc_id": "oncall-pol')),
            reply("Sorry."),
        ]
    )
    run = run_agent(client, "...", world.tools())
    kinds = [s.kind for s in run.steps if s.kind != "model"]
    assert kinds == ["tool_error", "invalid_arguments", "invalid_arguments"]
    results = [s.result or "" for s in run.steps if s.kind != "model"]
    assert all(r.startswith("Error:") for r in results)
    assert "LookupError" in results[0] and "KF-99999" in results[0]
    assert "currency" in results[1]
    assert "not valid JSON" in results[2]
    assert run.stopped_reason == "answered"


def test_only_allowed_tools_are_offered_and_others_are_refused_unrun() -> None:
    world = HandbookWorld()
    client = ScriptedClient(
        [reply(None, ("page_oncall", '{"service": "ledger", "message": "wake up"}'))]
    )
    run = run_agent(client, "Page them.", world.tools(), allowed_tools=READ_ONLY_TOOLS)
    offered = [t["function"]["name"] for t in client.requests[0]["tools"]]
    assert offered == list(READ_ONLY_TOOLS)
    assert run.stopped_reason == "tool_not_allowed"
    assert run.steps[-1].kind == "refused"
    assert world.pages == [] and "page_oncall" not in world.calls
    assert "page_oncall" in run.reply


def test_allow_list_naming_an_unknown_tool_is_a_mistake() -> None:
    with pytest.raises(ValueError, match="do not exist"):
        run_agent(ScriptedClient([reply("hi")]), "x", HandbookWorld().tools(), allowed_tools=["x"])


def test_a_runaway_loop_stops_at_the_repeat_limit_before_running_the_call_again() -> None:
    world = HandbookWorld()
    client = ScriptedClient([reply(None, ("parcel_status", '{"tracking_number": "KF-0"}'))])
    run = run_agent(client, "...", world.tools(), max_steps=50, max_repeats=2)
    assert run.stopped_reason == "repeated_call"
    assert world.calls == ["parcel_status", "parcel_status"]
    assert run.totals.model_calls == 3
    assert "KF-0" in run.reply and run.answer is None


def test_without_repeat_detection_the_step_budget_still_ends_it() -> None:
    world = HandbookWorld()
    client = ScriptedClient([reply(None, ("parcel_status", '{"tracking_number": "KF-0"}'))])
    run = run_agent(client, "...", world.tools(), max_steps=5, max_repeats=None)
    assert run.stopped_reason == "max_steps"
    assert run.totals.model_calls == 5 and len(world.calls) == 4


def test_the_cost_budget_ends_it() -> None:
    client = ScriptedClient([reply(None, ("parcel_status", '{"tracking_number": "KF-0"}'))])
    run = run_agent(
        client, "...", HandbookWorld().tools(), max_steps=99, max_cost_usd=120e-6, max_repeats=None
    )
    assert run.stopped_reason == "budget"
    assert run.totals.model_calls == 3  # 50e-6 each: stops once 150e-6 >= 120e-6


@pytest.mark.parametrize("max_steps", [1, 2, 7])
def test_every_run_ends_within_max_steps_model_calls(max_steps: int) -> None:
    class FreshCalls:
        def __init__(self) -> None:
            self.n = 0

        def chat(self, messages: Any, **options: Any) -> ChatResult:
            self.n += 1
            return reply(None, ("search_handbook", json.dumps({"query": f"q{self.n}"})))

    client = FreshCalls()
    run = run_agent(client, "...", HandbookWorld().tools(), max_steps=max_steps)
    assert client.n == max_steps
    assert run.stopped_reason == "max_steps"
    with pytest.raises(ValueError):
        run_agent(client, "...", [], max_steps=0)


def test_a_failing_model_call_ends_the_run_with_model_error() -> None:
    class Broken:
        def chat(self, messages: Any, **options: Any) -> ChatResult:
            raise TimeoutError("slow")

    run = run_agent(Broken(), "...", HandbookWorld().tools())
    assert run.stopped_reason == "model_error" and run.steps == ()
    assert set(STOP_REASONS) >= {"answered", "max_steps", "budget", "repeated_call"}


def test_a_custom_stop_condition_is_used() -> None:
    client = ScriptedClient([reply(None, ("parcel_status", '{"tracking_number": "KF-0"}'))])
    seen: list[int] = []

    def stop_after_two(steps: Sequence[Step], **limits: Any) -> str | None:
        seen.append(len(steps))
        return "max_steps" if len(steps) >= 3 else None

    run = run_agent(client, "...", HandbookWorld().tools(), stop=stop_after_two)
    assert run.stopped_reason == "max_steps" and seen == [1, 3]


# -- the world ------------------------------------------------------------------------------


def test_world_tools_and_their_fake_data() -> None:
    world = HandbookWorld()
    names = [t.name for t in world.tools()]
    assert names[:5] == list(READ_ONLY_TOOLS)
    assert {"create_ticket", "page_oncall"} <= set(names)
    assert [t.name for t in world.tools() if t.side_effects] == ["create_ticket", "page_oncall"]
    assert world.search_handbook("deploy freeze policy").startswith("1. `deploy-freeze-policy`")
    assert "EUR 292.50" in world.convert_currency(250, "GBP")
    assert "Payments" in world.service_owner("ledger")
    assert world.get_document("oncall-policy").startswith("# On-call policy")
    with pytest.raises(LookupError):
        world.parcel_status("KF-99999")
    with pytest.raises(PermissionError):
        world.get_document("compensation-bands-engineering")
    with pytest.raises(ValueError):
        world.search_handbook("the a of")


def test_create_ticket_checks_its_category_whoever_calls_it() -> None:
    from pydantic import ValidationError

    world = HandbookWorld()
    assert world.create_ticket("hardware", "Screen cracked").startswith("Opened ticket SD-1001")
    with pytest.raises(ValidationError):
        world.create_ticket("laptop broken", "Screen cracked")  # type: ignore[arg-type]
    assert [t.category for t in world.tickets] == ["hardware"]
    world.page_oncall("ledger", "down")
    assert world.pages[0].channel == "#payments-oncall"


# -- the local model's multi-step tool calls (what the lesson relies on) --------------------


def test_request_steps_split_on_then() -> None:
    assert request_steps("Who owns ledger? Then open a ticket.") == [
        "Who owns ledger?",
        "open a ticket.",
    ]
    assert request_steps("Search X, then get Y and then tell me Z") == [
        "Search X",
        "get Y",
        "tell me Z",
    ]
    assert request_steps("If it fails then what?") == ["If it fails then what?"]


@pytest.mark.parametrize("model", ["chat-small", "chat-large"])
def test_local_model_calls_one_tool_per_step_and_carries_ids_forward(model: str) -> None:
    world = HandbookWorld()
    run = run_agent(
        local_client(),
        "Search the handbook for the deploy freeze policy, then get that document.",
        world.tools(),
        model=model,
    )
    calls = [(s.tool, json.loads(s.arguments or "{}")) for s in run.steps if s.kind == "model"]
    assert [name for name, _ in calls] == ["search_handbook", "get_document", None]
    assert calls[1][1] == {"doc_id": "deploy-freeze-policy"}
    assert run.stopped_reason == "answered"


def test_local_small_model_runs_away_on_a_failing_tool_and_the_loop_stops_it() -> None:
    world = HandbookWorld()
    client = local_client()
    small = run_agent(client, "What is the status of parcel KF-99999?", world.tools())
    assert small.stopped_reason == "repeated_call" and world.calls == ["parcel_status"] * 2
    large = run_agent(
        client, "What is the status of parcel KF-99999?", world.tools(), model="chat-large"
    )
    assert large.stopped_reason == "answered" and "no parcel" in (large.answer or "")


# -- the suite ------------------------------------------------------------------------------


def test_suite_has_at_least_fifteen_distinct_tasks_of_every_kind() -> None:
    assert len(TASKS) >= 15
    assert len({t.id for t in TASKS}) == len(TASKS)
    assert {t.kind for t in TASKS} == {
        "lookup",
        "handbook",
        "action",
        "tool error",
        "multi-step",
        "not allowed",
    }
    assert len(TUTORIAL_SCHEMAS) == len(HandbookWorld().tools())


def test_checks_read_the_answer_and_the_world() -> None:
    world = HandbookWorld()
    assert mentions("EUR 60")("The allowance is eur 60 a day.", world)
    assert not mentions("EUR 60", "day")("EUR 60", world)
    check = opened_ticket("hardware", mentioning="screen")
    assert not check("done", world)
    world.create_ticket("hardware", "Broken screen")
    assert check("done", world)
    assert repr(check) == "one ticket opened in 'hardware' about 'screen'"


def test_capped_client_refuses_calls_over_its_cap() -> None:
    capped = CappedClient(ScriptedClient([reply("hi")]), max_calls=2)
    capped.chat("a")
    capped.chat("b")
    with pytest.raises(CallCapReachedError, match="cap is 2"):
        capped.chat("c")
    assert capped.calls == 2 and capped.tokens == 100


def test_shows_every_tool_replaces_the_schemas_the_loop_sends() -> None:
    scripted = ScriptedClient([reply("hi")])
    every = [t.schema for t in HandbookWorld().tools()]
    ShowsEveryTool(scripted, every).chat("a", tools=every[:1], seed=3)
    assert scripted.requests[0]["tools"] == every and scripted.requests[0]["seed"] == 3


def test_run_suite_scores_every_outcome() -> None:
    tasks = TASKS[:1]  # owner-payout: the answer must mention Payments

    def correct(client: Any, request: str, world: HandbookWorld) -> str:
        client.chat(request)
        return "The Payments team."

    def wrong(client: Any, request: str, world: HandbookWorld) -> str:
        return "Routing."

    def stopped(client: Any, request: str, world: HandbookWorld) -> AgentRun:
        return run_agent(client, request, world.tools(), max_steps=1)

    def crash(client: Any, request: str, world: HandbookWorld) -> str:
        raise KeyError("boom")

    def forever(client: Any, request: str, world: HandbookWorld) -> str:
        while True:
            client.chat(request)

    looping = ScriptedClient([reply(None, ("search_handbook", '{"query": "x"}'))])
    outcomes = {}
    solvers: list[tuple[str, Callable[[Any, str, HandbookWorld], AgentRun | str], Any]] = [
        ("correct", correct, ScriptedClient([reply("x")])),
        ("wrong answer", wrong, ScriptedClient([reply("x")])),
        ("stopped safely", stopped, looping),
        ("crashed", crash, ScriptedClient([reply("x")])),
        ("ran away", forever, ScriptedClient([reply("x")])),
    ]
    for name, solve, client in solvers:
        frame = run_suite(solve, client, tasks, hard_cap=4)
        outcomes[name] = frame.loc[0, "outcome"]
        if name == "ran away":
            assert frame.loc[0, "model_calls"] == 4
        if name == "stopped safely":  # the user sees the loop's apology, with its reason
            assert frame.loc[0, "answer"] is None
            assert frame.loc[0, "reply"].startswith("Sorry, I could not finish this request")
            assert "stopped after 1 model call (" in frame.loc[0, "reply"]
        if name == "correct":
            assert frame.loc[0, "reply"] == frame.loc[0, "answer"] == "The Payments team."
    assert outcomes == {name: name for name in OUTCOMES}


# -- parallel tool calls --------------------------------------------------------------------


def test_every_call_of_a_turn_runs_and_each_id_gets_its_answer() -> None:
    world = HandbookWorld()
    client = ScriptedClient(
        [
            reply(
                None,
                ("parcel_status", '{"tracking_number": "KF-20931"}'),
                ("parcel_status", '{"tracking_number": "KF-31877"}'),
            ),
            reply("Lisbon and Kraków."),
        ]
    )
    run = run_agent(client, "Where are KF-20931 and KF-31877?", world.tools())
    assert run.answered and [s.kind for s in run.steps] == ["model", "tool", "tool", "model"]
    assert run.totals.model_calls == 2 and run.totals.tool_calls == 2
    sent = client.requests[1]["messages"]
    assert [m["tool_call_id"] for m in sent if m["role"] == "tool"] == ["call_0", "call_1"]
    assert "Lisbon" in sent[-2]["content"] and "Kraków" in sent[-1]["content"]
    assert len(sent[-3]["tool_calls"]) == 2  # the assistant message carries both calls


def test_one_disallowed_call_in_a_turn_refuses_the_turn() -> None:
    world = HandbookWorld()
    client = ScriptedClient(
        [
            reply(
                None,
                ("service_owner", '{"service": "ledger"}'),
                ("page_oncall", '{"service": "ledger", "message": "down"}'),
            )
        ]
    )
    run = run_agent(client, "x", world.tools(), allowed_tools=READ_ONLY_TOOLS)
    assert run.stopped_reason == "tool_not_allowed" and world.pages == [] and world.calls == []


@pytest.mark.parametrize(
    ("request_text", "expected"),
    [
        ("Where are parcels KF-20931 and KF-31877?", ["Lisbon", "Kraków"]),
        ("Convert 250 GBP and 80 USD to euros.", ["292.50", "73.60"]),
        ("Which teams own parcel-api, geo-cache and auth-service?", ["Shipments", "Routing"]),
    ],
)
def test_the_stand_in_sends_independent_lookups_in_one_turn(
    request_text: str, expected: list[str]
) -> None:
    client = local_client()
    runs = {}
    for parallel in (True, False):
        world = HandbookWorld()
        runs[parallel] = run_agent(
            client,
            request_text,
            world.tools(),
            chat_options={"parallel_tool_calls": parallel, "seed": 0},
        )
        assert runs[parallel].answered
        assert all(phrase in (runs[parallel].answer or "") for phrase in expected)
    lookups = runs[True].totals.tool_calls
    assert lookups >= 2
    assert runs[True].totals.model_calls == 2  # all lookups in one turn, then the answer
    assert runs[False].totals.model_calls == lookups + 1  # one lookup a turn
    assert runs[False].totals.tool_calls == lookups
    first = runs[True].messages[1]
    ids = [c["id"] for c in first["tool_calls"]]
    assert len(ids) == lookups and len(set(ids)) == lookups


def test_single_lookups_and_steps_in_order_stay_one_call_a_turn() -> None:
    client = local_client()
    for task in TASKS:
        run = run_agent(client, task.request, HandbookWorld().tools(), chat_options={"seed": 0})
        for message in run.messages:
            assert len(message.get("tool_calls") or ()) <= 1, task.id


def test_the_validator_checker_says_how_many_problems_it_expected() -> None:
    """An answer reporting only the first of two problems is told how many were expected."""
    from jsonschema import Draft202012Validator

    from course_lib.course import check

    def first_only(parameters: dict[str, Any], arguments: str) -> list[str]:
        try:
            values = json.loads(arguments)
        except ValueError:
            return ["the arguments are not valid JSON"]
        schema = {**parameters, "additionalProperties": False}
        errors = [
            f"{list(e.absolute_path)}: {e.message}"
            for e in Draft202012Validator(schema).iter_errors(values)
        ]
        return errors[:1]

    feedback = check("1.5.1", first_only)
    assert not feedback.solved
    assert "expected 2 problems, one string each" in feedback.line
