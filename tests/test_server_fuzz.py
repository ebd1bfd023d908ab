"""The local server refuses any malformed request with a 400 in OpenAI's shape, never a 500.

A client that sends a wrong type should get an error it can read and will not retry: a 500
looks transient, so the SDK and the course's client retry it, and a crash can close the
keep-alive connection under the next request. Seeded random mutations of valid chat and
embeddings requests (wrong types, missing fields, nested junk, huge strings, unknown keys)
go to the running server on one keep-alive connection, as a client's connection pool sends
them.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from course_lib.standin import ModelServer
from course_lib.standin.server import MAX_BODY_BYTES, MAX_JSON_DEPTH

REQUESTS = 1000
SEED = 20_261_107

TOOL = {
    "type": "function",
    "function": {
        "name": "parcel_status",
        "description": "Where a parcel is.",
        "parameters": {
            "type": "object",
            "properties": {"parcel_id": {"type": "string"}, "days": {"type": "integer"}},
            "required": ["parcel_id"],
        },
    },
}
SCHEMA_FORMAT = {
    "type": "json_schema",
    "json_schema": {
        "name": "answer",
        "strict": True,
        "schema": {
            "type": "object",
            "properties": {"answer": {"type": "string"}, "sources": {"type": "array", "items": {}}},
            "required": ["answer", "sources"],
            "additionalProperties": False,
        },
    },
}
VALID_CHATS: list[dict[str, Any]] = [
    {
        "model": "local-small",
        "messages": [
            {"role": "system", "content": "Answer from the sources and cite them."},
            {"role": "user", "content": "[oncall] Handover is Monday 10:00. When is handover?"},
        ],
        "temperature": 0.2,
        "max_tokens": 60,
        "stop": ["\n\n"],
        "seed": 7,
    },
    {
        "model": "chat-large",
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "Where is parcel 42?"}]},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "parcel_status", "arguments": '{"parcel_id": "42"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "In Lisbon."},
        ],
        "tools": [TOOL],
        "tool_choice": "auto",
        "n": 2,
        "top_p": 0.9,
    },
    {
        "model": "local-small",
        "messages": [{"role": "user", "content": "Give the answer as JSON."}],
        "response_format": SCHEMA_FORMAT,
        "stream": True,
        "stream_options": {"include_usage": True},
    },
]
VALID_EMBEDDINGS: list[dict[str, Any]] = [
    {"model": "local-embed", "input": ["on-call handover", "expense policy"]},
    {"model": "embed", "input": "one text", "encoding_format": "base64", "dimensions": 64},
]
_NESTED = "\x00nested:{}\x00"  # a placeholder replaced by raw nested JSON after dumping


def _junk(rng: random.Random) -> Any:
    """A value of a random JSON type, often the wrong one for wherever it lands."""
    choices: list[Any] = [
        None,
        True,
        False,
        0,
        -1,
        2**70,
        1e308,
        -0.5,
        3.5,
        "",
        "hot",
        "\u202e\ud7ff\U0001f600",
        [],
        {},
        [1, "two", None],
        {"a": {"b": [1]}},
        [{"role": "user"}],
        "x" * rng.choice((1_000, 50_000)),
        _NESTED.format(rng.choice((8, 40, MAX_JSON_DEPTH + 1, 5_000, 100_000))),
    ]
    return rng.choice(choices)


def _slots(value: Any) -> list[tuple[Any, Any]]:
    """Every (container, key) pair inside ``value``: the places a mutation can hit."""
    found: list[tuple[Any, Any]] = []
    stack = [value]
    while stack:
        node = stack.pop()
        keys = list(node) if isinstance(node, dict) else range(len(node))
        for key in keys:
            found.append((node, key))
            if isinstance(node[key], dict | list):
                stack.append(node[key])
    return found


def _mutate(request: dict[str, Any], rng: random.Random) -> Any:
    """One to three random mutations of a deep copy of ``request``."""
    body = copy.deepcopy(request)
    for _ in range(rng.randint(1, 3)):
        kind = rng.random()
        slots = _slots(body)
        if kind < 0.5 and slots:  # a wrong type somewhere
            container, key = rng.choice(slots)
            container[key] = _junk(rng)
        elif kind < 0.7 and slots:  # a missing field
            container, key = rng.choice(slots)
            del container[key]
        elif kind < 0.85:  # a random key, at the top or inside an object
            objects = [body] + [c[k] for c, k in slots if isinstance(c[k], dict)]
            target = rng.choice(objects)
            name = "".join(rng.choice("abcxyz_$.\u00e9") for _ in range(rng.randint(1, 12)))
            target[name] = _junk(rng)
        elif kind < 0.95 and slots:  # a list where one item is swapped for junk
            lists = [c[k] for c, k in slots if isinstance(c[k], list) and c[k]]
            if lists:
                target = rng.choice(lists)
                target[rng.randrange(len(target))] = _junk(rng)
        else:  # not an object at all
            return _junk(rng)
    return body


def _encode(body: Any) -> bytes:
    """The body as JSON text, with each nested placeholder expanded to raw nested arrays."""
    text = json.dumps(body)
    while True:
        start = text.find('"\\u0000nested:')
        if start < 0:
            return text.encode()
        end = text.index('\\u0000"', start) + len('\\u0000"')
        depth = int(text[start + len('"\\u0000nested:') : end - len('\\u0000"')])
        text = text[:start] + "[" * depth + "]" * depth + text[end:]


def _cases(rng: random.Random) -> Iterator[tuple[str, bytes]]:
    for i in range(REQUESTS):
        if i % 4 == 3:
            yield "/embeddings", _encode(_mutate(rng.choice(VALID_EMBEDDINGS), rng))
        else:
            yield "/chat/completions", _encode(_mutate(rng.choice(VALID_CHATS), rng))


def _assert_openai_error(response: httpx.Response, sent: bytes) -> None:
    shown = sent[:300]
    assert response.headers["content-type"].startswith("application/json"), shown
    error = response.json().get("error")
    assert isinstance(error, dict), shown
    assert isinstance(error.get("message"), str) and error["message"], shown
    assert isinstance(error.get("type"), str), shown
    assert "param" in error and "code" in error, shown


def test_a_thousand_mistyped_requests_get_400s_on_one_connection(server: ModelServer) -> None:
    rng = random.Random(SEED)
    statuses: dict[int, int] = {}
    # One connection for the whole run: a response that closed it would fail the next request.
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    with httpx.Client(base_url=server.base_url, limits=limits, timeout=30) as client:
        for path, content in _cases(rng):
            response = client.post(
                path, content=content, headers={"content-type": "application/json"}
            )
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            assert response.status_code < 500, (response.text[:300], content[:300])
            if response.status_code >= 400:
                _assert_openai_error(response, content)
    assert set(statuses) <= {200, 400, 404}, statuses
    assert statuses.get(400, 0) > REQUESTS // 2, statuses  # most mutations break the request


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 100_000])
def test_deeply_nested_bodies_are_refused_naming_the_limit(server: ModelServer, depth: int) -> None:
    content = b'{"model": "local-small", "messages": ' + b"[" * depth + b"]" * depth + b"}"
    response = httpx.post(
        f"{server.base_url}/chat/completions",
        content=content,
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400
    _assert_openai_error(response, content)
    assert str(MAX_JSON_DEPTH) in response.json()["error"]["message"]


def test_an_oversized_body_is_a_413_naming_the_limit(server: ModelServer) -> None:
    text = "x" * (MAX_BODY_BYTES + 1)
    body = {"model": "local-embed", "input": [text]}
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        response = client.post("/embeddings", json=body)
        assert response.status_code == 413
        _assert_openai_error(response, b"")
        error = response.json()["error"]
        assert error["code"] == "request_too_large"
        assert f"{MAX_BODY_BYTES // (1024 * 1024)} MB" in error["message"]
        # The connection is still usable for the next, valid request.
        after = client.post("/embeddings", json={"model": "local-embed", "input": "ok"})
        assert after.status_code == 200


def test_a_crash_keeps_the_openai_shape_and_the_connection(server: ModelServer) -> None:
    """An unexpected error is a 500 in OpenAI's shape, and the keep-alive connection survives."""
    original = server.model.embeddings

    def broken(request: Any) -> Any:
        raise RuntimeError("a bug")

    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    with httpx.Client(base_url=server.base_url, limits=limits, timeout=30) as client:
        server.model.embeddings = broken  # type: ignore[method-assign]
        try:
            statuses = [
                client.post("/embeddings", json={"model": "local-embed", "input": "x"}).status_code
                for _ in range(30)
            ]
        finally:
            server.model.embeddings = original  # type: ignore[method-assign]
        assert statuses == [500] * 30
        after = client.post("/embeddings", json={"model": "local-embed", "input": "ok"})
        assert after.status_code == 200
        _ = after.json()["data"]
