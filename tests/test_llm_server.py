"""The local OpenAI-compatible server, exercised only through the official openai SDK."""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
import time

import httpx
import numpy as np
import openai
import pytest
from pydantic import BaseModel, Field

from course_lib.embeddings import get_embedder
from course_lib.standin import FaultPlan, ModelServer, serve_model

QUESTION = "When is the on-call handover?"
LOCAL_KEY = "local"  # the local server accepts any key  # pragma: allowlist secret
CONTEXT = (
    "Answer from the sources and cite them.\n\n"
    "[oncall-policy] Handover is Monday at 10:00 Europe/Lisbon. The outgoing engineer posts a "
    "handover note.\n[expense-policy] Meals are reimbursed up to EUR 60 per day.\n\n"
    f"Question: {QUESTION}"
)


def test_chat_completes_with_usage(sdk: openai.OpenAI) -> None:
    response = sdk.chat.completions.create(
        model="local-small", messages=[{"role": "user", "content": CONTEXT}]
    )
    choice = response.choices[0]
    assert choice.finish_reason == "stop"
    assert "10:00" in (choice.message.content or "")
    assert "[oncall-policy]" in (choice.message.content or "")
    assert response.model == "local-small"
    assert response.usage is not None
    assert response.usage.prompt_tokens > 20
    assert response.usage.total_tokens == (
        response.usage.prompt_tokens + response.usage.completion_tokens
    )


def test_roles_resolve_through_the_registry(sdk: openai.OpenAI) -> None:
    response = sdk.chat.completions.create(
        model="chat-large", messages=[{"role": "user", "content": CONTEXT}]
    )
    assert response.model == "local-large"


def test_streaming_sends_several_chunks_that_join_to_the_answer(sdk: openai.OpenAI) -> None:
    messages = [{"role": "user", "content": CONTEXT}]
    whole = sdk.chat.completions.create(model="local-large", messages=messages)
    stream = sdk.chat.completions.create(
        model="local-large",
        messages=messages,
        stream=True,
        stream_options={"include_usage": True},
    )
    pieces: list[str] = []
    usage = None
    finish = None
    for chunk in stream:
        if chunk.usage is not None:
            usage = chunk.usage
        for choice in chunk.choices:
            if choice.delta.content:
                pieces.append(choice.delta.content)
            finish = choice.finish_reason or finish
    assert len(pieces) >= 3
    assert "".join(pieces) == whole.choices[0].message.content
    assert finish == "stop"
    assert usage is not None and usage.completion_tokens == whole.usage.completion_tokens


def test_first_token_arrives_before_the_stream_ends() -> None:
    with serve_model(latency_scale=0.5) as slow:
        sdk = openai.OpenAI(base_url=slow.base_url, api_key=LOCAL_KEY, max_retries=0)
        started = time.perf_counter()
        stream = sdk.chat.completions.create(
            model="local-large",
            messages=[{"role": "user", "content": CONTEXT + " Answer in detail."}],
            stream=True,
        )
        first = None
        for chunk in stream:
            if first is None and chunk.choices and chunk.choices[0].delta.content:
                first = time.perf_counter() - started
        total = time.perf_counter() - started
    assert first is not None
    assert first < total * 0.8


class Handover(BaseModel):
    day: str = Field(description="The weekday of the handover")
    time: str = Field(description="The time of day of the handover")
    note_required: bool = Field(description="whether the outgoing engineer posts a handover note")


def test_json_schema_output_parses_with_the_sdk(sdk: openai.OpenAI) -> None:
    response = sdk.chat.completions.parse(
        model="local-large",
        messages=[{"role": "user", "content": CONTEXT}],
        response_format=Handover,
    )
    parsed = response.choices[0].message.parsed
    assert parsed is not None
    assert parsed.day == "Monday"
    assert parsed.time.startswith("10:00")
    assert parsed.note_required is True


def test_tools_are_called_through_the_sdk(sdk: openai.OpenAI) -> None:
    tools = [
        {
            "type": "function",
            "function": {
                "name": "get_parcel_status",
                "description": "Look up the delivery status of a parcel by its tracking number",
                "parameters": {
                    "type": "object",
                    "properties": {"tracking_number": {"type": "string"}},
                    "required": ["tracking_number"],
                },
            },
        }
    ]
    response = sdk.chat.completions.create(
        model="local-large",
        messages=[{"role": "user", "content": "What is the status of parcel KF123456789?"}],
        tools=tools,  # type: ignore[arg-type]
    )
    choice = response.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.tool_calls is not None
    assert choice.message.tool_calls[0].function.name == "get_parcel_status"


def test_max_tokens_gives_finish_reason_length(sdk: openai.OpenAI) -> None:
    response = sdk.chat.completions.create(
        model="local-large", messages=[{"role": "user", "content": CONTEXT}], max_tokens=4
    )
    assert response.choices[0].finish_reason == "length"
    assert response.usage is not None and response.usage.completion_tokens <= 4


def test_rate_limit_surfaces_as_sdk_error_with_retry_after(
    server: ModelServer, sdk: openai.OpenAI
) -> None:
    server.set_faults(FaultPlan(rate=1.0, mix={"rate_limit": 1.0}, retry_after_s=1.5))
    with pytest.raises(openai.RateLimitError) as caught:
        sdk.chat.completions.create(
            model="local-small", messages=[{"role": "user", "content": "x"}]
        )
    assert caught.value.status_code == 429
    assert caught.value.response.headers["retry-after"] == "2"
    assert caught.value.response.headers["retry-after-ms"] == "1500"


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_surface_as_sdk_errors(
    server: ModelServer, sdk: openai.OpenAI, status: int
) -> None:
    server.set_faults(FaultPlan(rate=1.0, mix={"server_error": 1.0}, seed=0))
    seen = set()
    for i in range(12):
        with pytest.raises(openai.InternalServerError) as caught:
            sdk.chat.completions.create(
                model="local-small", messages=[{"role": "user", "content": f"q{i}"}]
            )
        seen.add(caught.value.status_code)
    assert status in seen


def test_timeout_fault_is_slower_than_the_client_waits(
    server: ModelServer, sdk: openai.OpenAI
) -> None:
    server.set_faults(FaultPlan(rate=1.0, mix={"timeout": 1.0}, timeout_s=1.0))
    impatient = sdk.with_options(timeout=httpx.Timeout(0.2, connect=1.0))
    started = time.perf_counter()
    with pytest.raises(openai.APITimeoutError):
        impatient.chat.completions.create(
            model="local-small", messages=[{"role": "user", "content": "x"}]
        )
    assert time.perf_counter() - started < 0.9


def test_unknown_model_is_a_404_naming_the_known_ones(sdk: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        sdk.chat.completions.create(model="gpt-x", messages=[{"role": "user", "content": "x"}])
    assert "local-small" in str(caught.value)


def test_bad_requests_are_400s(sdk: openai.OpenAI, server: ModelServer) -> None:
    with pytest.raises(openai.BadRequestError):
        sdk.chat.completions.create(model="local-small", messages=[])
    response = httpx.post(
        f"{server.base_url}/chat/completions",
        content=b"not json",
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["error"]["message"]


def test_embeddings_match_the_local_embedder_in_both_encodings(sdk: openai.OpenAI) -> None:
    texts = ["on-call handover", "expense claims"]
    expected = get_embedder("embed").embed(texts)
    as_float = sdk.embeddings.create(model="local-embed", input=texts, encoding_format="float")
    assert np.allclose(np.array([d.embedding for d in as_float.data]), expected, atol=1e-6)
    default = sdk.embeddings.create(model="embed", input=texts)  # the SDK asks for base64
    assert np.allclose(np.array([d.embedding for d in default.data]), expected, atol=1e-6)
    assert as_float.usage.prompt_tokens > 0
    raw = httpx.post(
        f"{sdk.base_url}embeddings",
        json={"model": "local-embed", "input": "x", "encoding_format": "base64"},
    ).json()
    decoded = np.frombuffer(base64.b64decode(raw["data"][0]["embedding"]), dtype="<f4")
    assert decoded.shape == (256,)


def test_models_are_listed(sdk: openai.OpenAI) -> None:
    ids = {m.id for m in sdk.models.list()}
    assert {"local-small", "local-large", "local-embed"} <= ids


def test_server_shuts_down_when_the_block_ends() -> None:
    with serve_model() as running:
        port = running.port
        assert httpx.get(f"http://127.0.0.1:{port}/health").json() == {"status": "ok"}
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/health", timeout=1.0)


def test_server_shuts_down_after_an_exception_in_the_block() -> None:
    with pytest.raises(RuntimeError, match="boom"), serve_model() as running:
        port = running.port
        raise RuntimeError("boom")
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/health", timeout=1.0)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_course_serve_model_command_serves_the_sdk() -> None:
    port = _free_port()
    course = os.path.join(os.path.dirname(sys.executable), "course")
    process = subprocess.Popen(
        [course, "serve-model", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/health", timeout=0.5)
                break
            except httpx.TransportError:
                assert process.poll() is None, "course serve-model exited early"
                assert time.monotonic() < deadline, "course serve-model did not start in 30 s"
                time.sleep(0.2)
        sdk = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key=LOCAL_KEY)
        response = sdk.chat.completions.create(
            model="local-small", messages=[{"role": "user", "content": CONTEXT}]
        )
        assert "10:00" in (response.choices[0].message.content or "")
    finally:
        process.terminate()
        process.wait(timeout=10)
