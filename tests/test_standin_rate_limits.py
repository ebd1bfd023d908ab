"""The local server's optional rate limits and slots: off by default, provider-like when on."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import openai
import pytest

from course_lib.standin import InvalidRequestError, ModelServer, ServerLimits, serve_model

MESSAGES = [{"role": "user", "content": "When is the on-call handover?"}]
LOCAL_KEY = "local"  # the local server accepts any key  # pragma: allowlist secret


@pytest.fixture(scope="module")
def server() -> Iterator[ModelServer]:
    with serve_model(limits=ServerLimits()) as running:
        yield running


def _client(server: ModelServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.base_url, api_key=LOCAL_KEY, max_retries=0)


def test_no_limits_by_default(server: ModelServer) -> None:
    server.set_limits(None)
    client = _client(server)
    for _ in range(30):
        raw = client.chat.completions.with_raw_response.create(
            model="local-small", messages=MESSAGES, max_tokens=50
        )
        assert raw.status_code == 200
        assert not any(name.startswith("x-ratelimit") for name in raw.headers)


def test_requests_per_minute_refuse_with_retry_after(server: ModelServer) -> None:
    server.set_limits(ServerLimits(requests_per_minute=60, burst_s=3.0))  # 3 at once
    client = _client(server)
    first = client.chat.completions.with_raw_response.create(
        model="local-small", messages=MESSAGES, max_tokens=50
    )
    assert first.headers["x-ratelimit-limit-requests"] == "60"
    assert first.headers["x-ratelimit-remaining-requests"] == "2"
    assert first.headers["x-ratelimit-reset-requests"].endswith("s")
    for _ in range(2):
        client.chat.completions.create(model="local-small", messages=MESSAGES, max_tokens=50)
    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model="local-small", messages=MESSAGES, max_tokens=50)
    headers = caught.value.response.headers
    assert int(headers["retry-after"]) >= 1
    assert 0 < int(headers["retry-after-ms"]) <= 1000
    assert headers["x-ratelimit-remaining-requests"] == "0"
    assert server.capacity is not None
    assert (server.capacity.counters.accepted, server.capacity.counters.refused) == (3, 1)


def test_tokens_per_minute_count_max_tokens(server: ModelServer) -> None:
    server.set_limits(ServerLimits(requests_per_minute=600, tokens_per_minute=6_000, burst_s=1))
    client = _client(server)
    client.chat.completions.create(model="local-small", messages=MESSAGES, max_tokens=60)
    with pytest.raises(openai.RateLimitError):  # 100 tokens per window, 68 already spent
        client.chat.completions.create(model="local-small", messages=MESSAGES, max_tokens=60)
    with pytest.raises(openai.RateLimitError, match="lower max_tokens"):
        client.chat.completions.create(model="local-small", messages=MESSAGES, max_tokens=500)


def test_slots_queue_requests(server: ModelServer) -> None:
    server.set_limits(ServerLimits(slots=2, service_time_s=0.1))
    client = openai.AsyncOpenAI(base_url=server.base_url, api_key=LOCAL_KEY, max_retries=0)

    async def burst() -> float:
        started = time.perf_counter()
        await asyncio.gather(
            *(
                client.chat.completions.create(
                    model="local-small", messages=MESSAGES, max_tokens=20
                )
                for _ in range(6)
            )
        )
        return time.perf_counter() - started

    seconds = asyncio.run(burst())
    assert seconds >= 0.3 - 0.02  # six requests, two at a time, 0.1 s each
    assert server.capacity is not None and server.capacity.counters.busiest == 2


def test_bad_limits_say_what_to_fix() -> None:
    with pytest.raises(InvalidRequestError, match="requests_per_minute as well"):
        ServerLimits(tokens_per_minute=1000)
    with pytest.raises(InvalidRequestError, match="slots"):
        ServerLimits(slots=0)


def test_a_server_without_capacity_refuses_set_limits() -> None:
    from course_lib.standin import LocalModel
    from course_lib.standin.errors import ServerStartError

    bare: Any = ModelServer("127.0.0.1", 1, LocalModel())
    with pytest.raises(ServerStartError, match="serve_model"):
        bare.set_limits(ServerLimits(slots=1))
