"""The Responses API of the local server, exercised through the official openai SDK."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import openai
import pytest
from pydantic import BaseModel, Field

from course_lib.standin import FaultPlan, ModelServer

LOCAL_KEY = "local"  # the local server accepts any key  # pragma: allowlist secret
INSTRUCTIONS = "Answer from the sources and cite them."
SOURCES = (
    "[oncall-policy] Handover is Monday at 10:00 Europe/Lisbon. The outgoing engineer posts a "
    "handover note.\n[expense-policy] Meals are reimbursed up to EUR 60 per day.\n\n"
    "Question: When is the on-call handover?"
)
CONTEXT = f"{INSTRUCTIONS}\n\n{SOURCES}"
PARCEL_TOOL: dict[str, Any] = {
    "type": "function",
    "name": "get_parcel_status",
    "description": "Look up the delivery status of a parcel by its tracking number",
    "parameters": {
        "type": "object",
        "properties": {"tracking_number": {"type": "string"}},
        "required": ["tracking_number"],
        "additionalProperties": False,
    },
    "strict": True,
}
PARCEL_QUESTION = "What is the status of parcel KF123456789?"
HANDOVER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "day": {"type": "string", "description": "The weekday of the handover"},
        "time": {"type": "string", "description": "The time of day of the handover"},
        "note_required": {
            "type": "boolean",
            "description": "whether the outgoing engineer posts a handover note",
        },
    },
    "required": ["day", "time", "note_required"],
    "additionalProperties": False,
}
STREAM_ORDER = [
    "response.created",
    "response.in_progress",
    "response.output_item.added",
    "response.content_part.added",
    "response.output_text.delta",
    "response.output_text.done",
    "response.content_part.done",
    "response.output_item.done",
    "response.completed",
]


def _collapsed(types: list[str]) -> list[str]:
    """The event types with runs of deltas counted once, to compare the order."""
    return [t for i, t in enumerate(types) if i == 0 or t != types[i - 1]]


# -- answers ---------------------------------------------------------------------------------


def test_plain_text_input_gives_a_completed_response(sdk: openai.OpenAI) -> None:
    response = sdk.responses.create(model="local-small", input=CONTEXT)
    assert response.id.startswith("resp_")
    assert response.object == "response"
    assert response.status == "completed"
    assert response.model == "local-small"
    assert "10:00" in response.output_text
    assert "[oncall-policy]" in response.output_text
    message = response.output[0]
    assert message.type == "message" and message.role == "assistant"
    part = message.content[0]
    assert part.type == "output_text" and part.annotations == []
    assert response.usage is not None
    assert response.usage.input_tokens > 20
    assert response.usage.total_tokens == response.usage.input_tokens + response.usage.output_tokens
    assert response.usage.input_tokens_details.cached_tokens == 0
    assert response.usage.output_tokens_details.reasoning_tokens == 0
    course = response.to_dict()["course"]
    assert course["behaviour"] == "grounded" and course["cost_usd"] > 0


def test_items_with_instructions_follow_the_instructions(sdk: openai.OpenAI) -> None:
    response = sdk.responses.create(
        model="chat-large",
        instructions=INSTRUCTIONS,
        input=[
            {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": SOURCES}],
            }
        ],
        metadata={"lesson": "responses"},
        store=True,
    )
    assert response.model == "local-large"
    assert "[oncall-policy]" in response.output_text
    assert response.instructions == INSTRUCTIONS
    assert response.metadata == {"lesson": "responses"}
    assert response.to_dict()["store"] is False  # stateless: nothing was stored


def test_earlier_turns_replayed_as_items_are_read(sdk: openai.OpenAI) -> None:
    first = sdk.responses.create(model="local-small", input=CONTEXT)
    follow_up = sdk.responses.create(
        model="local-small",
        input=[
            {"role": "user", "content": CONTEXT},
            *[item.model_dump(exclude_none=True) for item in first.output],  # type: ignore[misc]
            {"role": "developer", "content": "Answer in one sentence."},
            {"role": "user", "content": SOURCES},
        ],
    )
    assert follow_up.status == "completed"
    assert "10:00" in follow_up.output_text


def test_a_function_tool_round_trip(sdk: openai.OpenAI) -> None:
    first = sdk.responses.create(
        model="local-small",
        input=PARCEL_QUESTION,
        tools=[PARCEL_TOOL],  # type: ignore[list-item]
    )
    call = first.output[0]
    assert call.type == "function_call"
    assert call.name == "get_parcel_status"
    assert call.call_id
    assert json.loads(call.arguments) == {"tracking_number": "KF123456789"}
    assert first.output_text == ""
    result = "The status of parcel KF123456789 is delivered, on Tuesday at 14:05."
    second = sdk.responses.create(
        model="local-small",
        tools=[PARCEL_TOOL],  # type: ignore[list-item]
        input=[
            {"role": "user", "content": PARCEL_QUESTION},
            call.model_dump(exclude_none=True),  # type: ignore[list-item]
            {"type": "function_call_output", "call_id": call.call_id, "output": result},
        ],
    )
    assert [item.type for item in second.output] == ["message"]
    assert "delivered" in second.output_text
    assert second.to_dict()["course"]["behaviour"] == "grounded"


def test_a_named_function_is_called_when_tool_choice_forces_it(sdk: openai.OpenAI) -> None:
    pager = {
        "type": "function",
        "name": "page_team",
        "description": "Page the on-call engineer of a team",
        "parameters": {"type": "object", "properties": {"team": {"type": "string"}}},
    }
    response = sdk.responses.create(
        model="local-small",
        input=PARCEL_QUESTION,
        tools=[PARCEL_TOOL, pager],  # type: ignore[list-item]
        tool_choice={"type": "function", "name": "page_team"},
    )
    assert response.output[0].type == "function_call"
    assert response.output[0].name == "page_team"


class Handover(BaseModel):
    day: str = Field(description="The weekday of the handover")
    time: str = Field(description="The time of day of the handover")
    note_required: bool = Field(description="whether the outgoing engineer posts a handover note")


def test_a_strict_json_schema_gives_json_matching_the_schema(sdk: openai.OpenAI) -> None:
    response = sdk.responses.create(
        model="local-large",
        input=CONTEXT,
        text={
            "format": {
                "type": "json_schema",
                "name": "handover",
                "schema": HANDOVER_SCHEMA,
                "strict": True,
            }
        },
    )
    data = json.loads(response.output_text)
    assert set(data) == {"day", "time", "note_required"}
    assert data["day"] == "Monday"
    assert data["time"].startswith("10:00")
    assert data["note_required"] is True
    assert response.text is not None and response.text.format is not None
    assert response.text.format.type == "json_schema"


def test_the_sdk_parses_a_pydantic_text_format(sdk: openai.OpenAI) -> None:
    response = sdk.responses.parse(model="local-large", input=CONTEXT, text_format=Handover)
    parsed = response.output_parsed
    assert parsed is not None
    assert parsed.day == "Monday"
    assert parsed.note_required is True


def test_json_object_format_is_accepted(sdk: openai.OpenAI) -> None:
    response = sdk.responses.create(
        model="local-small",
        input='Handover is Monday at 10:00. Reply in JSON like {"day": "Friday"}.',
        text={"format": {"type": "json_object"}},
    )
    assert response.status == "completed"
    assert isinstance(json.loads(response.output_text), dict)


def test_max_output_tokens_cuts_the_answer_as_incomplete(sdk: openai.OpenAI) -> None:
    response = sdk.responses.create(
        model="local-large", input=CONTEXT + " Answer in detail.", max_output_tokens=16
    )
    assert response.status == "incomplete"
    assert response.incomplete_details is not None
    assert response.incomplete_details.reason == "max_output_tokens"
    assert response.output[0].status == "incomplete"
    assert response.usage is not None and response.usage.output_tokens <= 16
    assert response.max_output_tokens == 16


# -- streaming ---------------------------------------------------------------------------------


def test_responses_stream_sends_typed_events_in_order(sdk: openai.OpenAI) -> None:
    whole = sdk.responses.create(model="local-large", input=CONTEXT)
    with sdk.responses.stream(model="local-large", input=CONTEXT) as stream:
        events = list(stream)
        final = stream.get_final_response()
    types = [event.type for event in events]
    assert _collapsed(types) == STREAM_ORDER
    assert types.count("response.output_text.delta") >= 3
    assert [event.sequence_number for event in events] == list(range(len(events)))
    assert final.output_text == whole.output_text
    assert final.status == "completed"
    assert final.usage is not None and whole.usage is not None
    assert final.usage.output_tokens == whole.usage.output_tokens
    done = next(event for event in events if event.type == "response.output_text.done")
    assert done.text == whole.output_text


def test_create_with_stream_true_yields_deltas_that_join_to_the_text(sdk: openai.OpenAI) -> None:
    whole = sdk.responses.create(model="local-small", input=CONTEXT)
    stream = sdk.responses.create(model="local-small", input=CONTEXT, stream=True)
    events = list(stream)
    assert events[0].type == "response.created"
    assert events[0].response.status == "in_progress"
    assert events[-1].type == "response.completed"
    deltas = [event.delta for event in events if event.type == "response.output_text.delta"]
    assert "".join(deltas) == whole.output_text
    assert events[-1].response.output_text == whole.output_text


def test_a_streamed_function_call_sends_argument_deltas(sdk: openai.OpenAI) -> None:
    with sdk.responses.stream(
        model="local-small",
        input=PARCEL_QUESTION,
        tools=[PARCEL_TOOL],  # type: ignore[list-item]
    ) as stream:
        events = list(stream)
        final = stream.get_final_response()
    types = _collapsed([event.type for event in events])
    assert types == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.completed",
    ]
    call = final.output[0]
    assert call.type == "function_call"
    assert call.parsed_arguments == {"tracking_number": "KF123456789"}  # strict tools parse


def test_a_cut_stream_ends_with_response_incomplete(sdk: openai.OpenAI) -> None:
    stream = sdk.responses.create(
        model="local-large", input=CONTEXT + " Answer in detail.", max_output_tokens=16, stream=True
    )
    last = list(stream)[-1]
    assert last.type == "response.incomplete"
    assert last.response.incomplete_details is not None
    assert last.response.incomplete_details.reason == "max_output_tokens"


# -- the chat path, shared ---------------------------------------------------------------------


def test_usage_and_cost_equal_the_same_chat_completion(sdk: openai.OpenAI) -> None:
    response = sdk.responses.create(
        model="local-large", instructions=INSTRUCTIONS, input=SOURCES, temperature=0
    )
    chat = sdk.chat.completions.create(
        model="local-large",
        messages=[
            {"role": "system", "content": INSTRUCTIONS},
            {"role": "user", "content": SOURCES},
        ],
        temperature=0,
    )
    assert response.output_text == chat.choices[0].message.content
    assert response.usage is not None and chat.usage is not None
    assert response.usage.input_tokens == chat.usage.prompt_tokens
    assert response.usage.output_tokens == chat.usage.completion_tokens
    course, chat_course = response.to_dict()["course"], chat.to_dict()["course"]
    assert course["cost_usd"] == chat_course["cost_usd"]
    assert course["latency_ms"] == chat_course["latency_ms"]
    assert course["behaviour"] == chat_course["behaviour"]


def test_a_rate_limit_reaches_the_sdk_as_rate_limit_error(
    sdk: openai.OpenAI, server: ModelServer
) -> None:
    server.set_faults(FaultPlan(rate=1.0, mix={"rate_limit": 1.0}, retry_after_s=1.5))
    with pytest.raises(openai.RateLimitError) as caught:
        sdk.responses.create(model="local-small", input="x")
    assert caught.value.response.headers["retry-after"] == "2"
    assert caught.value.response.headers["retry-after-ms"] == "1500"
    with pytest.raises(openai.RateLimitError):
        sdk.responses.create(model="local-small", input="x", stream=True)


def test_server_errors_reach_the_sdk_as_internal_server_error(
    sdk: openai.OpenAI, server: ModelServer
) -> None:
    server.set_faults(FaultPlan(rate=1.0, mix={"server_error": 1.0}, seed=0))
    statuses = set()
    for i in range(8):
        with pytest.raises(openai.InternalServerError) as caught:
            sdk.responses.create(model="local-small", input=f"question {i}")
        statuses.add(caught.value.status_code)
    assert statuses == {500, 503}


def test_a_timeout_fault_is_slower_than_the_client_waits(
    sdk: openai.OpenAI, server: ModelServer
) -> None:
    server.set_faults(FaultPlan(rate=1.0, mix={"timeout": 1.0}, timeout_s=1.0))
    impatient = sdk.with_options(timeout=httpx.Timeout(0.2, connect=1.0))
    started = time.perf_counter()
    with pytest.raises(openai.APITimeoutError):
        impatient.responses.create(model="local-small", input="x")
    assert time.perf_counter() - started < 0.9


def test_the_fault_plan_fails_the_same_requests_as_chat(
    sdk: openai.OpenAI, server: ModelServer
) -> None:
    plan = FaultPlan(rate=0.5, mix={"rate_limit": 1.0}, seed=3)
    questions = [f"What is policy number {i}?" for i in range(10)]

    def failures(call: Any) -> list[bool]:
        server.set_faults(plan)
        failed = []
        for question in questions:
            try:
                call(question)
                failed.append(False)
            except openai.RateLimitError:
                failed.append(True)
        return failed

    via_chat = failures(
        lambda q: sdk.chat.completions.create(
            model="local-small", messages=[{"role": "user", "content": q}]
        )
    )
    via_responses = failures(lambda q: sdk.responses.create(model="local-small", input=q))
    assert via_responses == via_chat
    assert any(via_chat) and not all(via_chat)


# -- refusals ----------------------------------------------------------------------------------


def _bad_request(sdk: openai.OpenAI, **params: Any) -> openai.BadRequestError:
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.responses.create(**{"model": "local-small", "input": "x", **params})
    return caught.value


def test_previous_response_id_is_refused_because_the_server_is_stateless(
    sdk: openai.OpenAI,
) -> None:
    error = _bad_request(sdk, previous_response_id="resp_123")
    assert error.param == "previous_response_id"
    assert "stateless" in error.message
    assert "input items" in error.message
    assert isinstance(error.body, dict) and error.body["type"] == "invalid_request_error"


def test_hosted_tools_are_refused_naming_function_tools(sdk: openai.OpenAI) -> None:
    error = _bad_request(sdk, tools=[{"type": "web_search"}])
    assert error.param == "tools[0].type"
    assert "only function tools" in error.message


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"input": []}, "input"),
        ({"input": [{"role": "tool", "content": "x"}]}, "input[0].role"),
        ({"input": [{"type": "computer_call_output", "call_id": "c"}]}, "input[0].type"),
        ({"input": [{"type": "item_reference", "id": "msg_1"}]}, "input[0]"),
        (
            {"input": [{"role": "user", "content": [{"type": "input_image", "image_url": "u"}]}]},
            "input[0].content[0].type",
        ),
        (
            {"input": [{"type": "function_call_output", "call_id": "call_9", "output": "x"}]},
            "input",
        ),
        ({"tools": [{"type": "function", "function": {"name": "f"}}]}, "tools[0].name"),
        ({"tool_choice": {"type": "function", "name": "missing"}}, "tool_choice.name"),
        ({"text": {"format": {"type": "json_schema", "name": "x"}}}, "text.format.schema"),
        ({"max_output_tokens": 4}, "max_output_tokens"),
        ({"conversation": "conv_1"}, "conversation"),
        ({"temperature": 3}, "temperature"),
    ],
)
def test_bad_requests_are_400s_naming_the_parameter(
    sdk: openai.OpenAI, params: dict[str, Any], param: str
) -> None:
    assert _bad_request(sdk, **params).param == param


def test_chat_completions_parameters_point_to_their_responses_names(sdk: openai.OpenAI) -> None:
    error = _bad_request(sdk, extra_body={"max_tokens": 10})
    assert error.param == "max_tokens"
    assert "max_output_tokens" in error.message
    error = _bad_request(sdk, extra_body={"response_format": {"type": "json_object"}})
    assert "text" in error.message


def test_an_unknown_model_is_a_404(sdk: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        sdk.responses.create(model="gpt-x", input="x")
    assert caught.value.param == "model"
    assert "local-small" in str(caught.value)


def test_a_body_that_is_not_json_is_a_400(server: ModelServer) -> None:
    response = httpx.post(
        f"{server.base_url}/responses",
        content=b"not json",
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["error"]["message"]


def test_a_missing_input_is_a_400(server: ModelServer) -> None:
    response = httpx.post(f"{server.base_url}/responses", json={"model": "local-small"})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "input"


def test_chat_path_refusals_name_the_responses_parameter(sdk: openai.OpenAI) -> None:
    loose = {"type": "object", "properties": {"day": {"type": "string"}}}
    error = _bad_request(
        sdk,
        text={"format": {"type": "json_schema", "name": "day", "schema": loose, "strict": True}},
    )
    assert error.param is not None and error.param.startswith("text.format")
    assert "response_format" not in error.message
