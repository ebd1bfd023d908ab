"""Secrets never leak: an endpoint that echoes the API key cannot put it in any course output.

A tiny local server answers every request with an error whose body quotes the request's
``Authorization`` header. The key must then appear in none of: the error's ``str``/``repr``,
its chained causes, its printed traceback, the course's log records, the spans (attributes,
events, status) and ``spans_frame``.
"""

from __future__ import annotations

import json
import logging
import threading
import traceback
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from course_lib.errors import CourseLibError
from course_lib.llm import LLMClient, ReliabilityPolicy
from course_lib.models import get_registry
from course_lib.observability import setup_tracing, spans_frame, trace_chat, traced_chat
from course_lib.personal_data import find_personal_data
from course_lib.redaction import (
    REDACTED,
    RedactingFilter,
    get_logger,
    redact,
    register_secret,
    scrub_exception,
)
from course_lib.settings import load_settings

KEY = "sk-test-" + "Zq81fakeKeyForRedactionTests0042"  # pragma: allowlist secret
# A key of no known shape: only registering it (as the provider does) can hide it.
PLAIN_KEY = "course-" + "plainShapeKey7731xyz"  # pragma: allowlist secret
URL_WITH_PASSWORD = "https://me:hunter22@example.com/v1"  # pragma: allowlist secret
ONE_TRY = ReliabilityPolicy(max_attempts=1, breaker_failure_threshold=0)
STATUSES = [400, 401, 403, 404, 422, 429, 500, 503]


class _EchoHandler(BaseHTTPRequestHandler):
    """Fails every request with the status the server is set to, quoting the credentials."""

    server: _EchoServer

    def do_POST(self) -> None:
        auth = self.headers.get("Authorization", "")
        self.server.seen.append(auth)
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.dumps(
            {
                "error": {
                    "message": f"Invalid credentials. You sent Authorization: {auth} ({auth})",
                    "type": "invalid_request_error",
                    "code": "echo",
                    "request": {"headers": {"authorization": auth, "api-key": auth[7:]}},
                }
            }
        ).encode()
        self.send_response(self.server.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # keep the test output quiet
        pass


class _EchoServer(ThreadingHTTPServer):
    status = 400
    seen: list[str]


@pytest.fixture(scope="module")
def echo() -> Iterator[_EchoServer]:
    server = _EchoServer(("127.0.0.1", 0), _EchoHandler)
    server.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _base_url(server: _EchoServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}/v1"


def _client(server: _EchoServer, key: str) -> LLMClient:
    return LLMClient.for_server(
        _base_url(server), api_key=key, policy=ONE_TRY, registry=get_registry()
    )


def _exception_texts(exc: BaseException) -> list[str]:
    """Everything the error shows: str, repr, the traceback, and each chained exception's."""
    texts = ["".join(traceback.format_exception(type(exc), exc, exc.__traceback__))]
    chained: BaseException | None = exc
    while chained is not None:
        texts += [str(chained), repr(chained)]
        for name in ("message", "body"):
            texts.append(repr(getattr(chained, name, None)))
        chained = chained.__cause__ or chained.__context__
    return texts


def _span_texts(tracing: Any) -> list[str]:
    texts = []
    for span in tracing.spans():
        texts += [span.name, str(span.status.description), repr(dict(span.attributes or {}))]
        for event in span.events:
            texts.append(repr(dict(event.attributes or {})))
    texts.append(spans_frame(tracing).to_csv())
    return texts


def _assert_hidden(texts: list[str], key: str) -> None:
    for text in texts:
        assert key not in text, text
        assert f"Bearer {key}" not in text, text
        assert key[:16] not in text, text  # not even a prefix of it


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("key", [KEY, PLAIN_KEY], ids=["sk-shaped", "plain"])
def test_an_echoed_key_reaches_no_error_log_or_span(
    echo: _EchoServer, status: int, key: str, caplog: pytest.LogCaptureFixture
) -> None:
    echo.status = status
    echo.seen.clear()
    caplog.set_level(logging.DEBUG, logger="course_lib")
    client = _client(echo, key)
    with setup_tracing("memory", capture_message_content=True) as tracing:
        with pytest.raises(CourseLibError) as caught:
            traced_chat(client, tracing, f"My key is {key}, is that fine?")
        assert echo.seen == [f"Bearer {key}"]  # the key did go out, and came back in the body
        assert tracing.spans()[0].events[0].name == "exception"
        _assert_hidden(_exception_texts(caught.value), key)
        _assert_hidden(_span_texts(tracing), key)
    records = [r for r in caplog.records if r.name.startswith("course_lib")]
    assert records, "the provider logs each failure it translates"
    _assert_hidden([caplog.text, *(r.getMessage() for r in records)], key)
    if status in (400, 403, 422):  # the endpoint's own message is shown, redacted
        assert REDACTED in str(caught.value)
        assert "Invalid credentials" in str(caught.value)


def test_a_key_from_the_settings_is_hidden_in_a_stream_too(
    echo: _EchoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """COURSE_LLM_API_KEY, the path a learner takes, and a streamed call traced by hand."""
    monkeypatch.setenv("COURSE_LLM_PROVIDER", "openai-compatible")
    monkeypatch.setenv("COURSE_LLM_BASE_URL", _base_url(echo))
    monkeypatch.setenv("COURSE_LLM_API_KEY", KEY)
    echo.status = 400
    client = LLMClient.from_settings(load_settings(), policy=ONE_TRY)
    assert KEY not in repr(client)
    with setup_tracing("memory", capture_message_content=True) as tracing:
        with (
            pytest.raises(CourseLibError) as caught,
            trace_chat(tracing, client=client, messages="Hello"),
        ):
            "".join(client.stream("Hello"))
        _assert_hidden(_exception_texts(caught.value), KEY)
        _assert_hidden(_span_texts(tracing), KEY)


def test_text_set_on_a_span_by_hand_is_redacted_on_export() -> None:
    """The exporter is the last check: it cleans attributes, events and status set directly."""
    from opentelemetry.trace import Status, StatusCode

    with setup_tracing("memory") as tracing:
        with tracing.tracer.start_as_current_span("by hand") as span:
            span.set_attribute("http.request.header.authorization", [f"Bearer {KEY}"])
            span.set_attribute("note", f"key={KEY}")
            span.add_event("echo", {"body": f'{{"Authorization": "Bearer {KEY}"}}'})
            span.set_status(Status(StatusCode.ERROR, f"refused {KEY}"))
        (exported,) = tracing.spans()
        assert exported.attributes["http.request.header.authorization"] == (f"Bearer {REDACTED}",)
        _assert_hidden(_span_texts(tracing), KEY)


def test_secrets_go_first_and_whole_when_personal_data_is_redacted_too() -> None:
    """A key made of digits is a secret, not a phone or card number with a tail left over."""
    digits_key = "07791 2345 6780 0423 1977"  # pragma: allowlist secret
    register_secret(digits_key)
    with setup_tracing("memory", redact_personal_data=True) as tracing:
        with tracing.tracer.start_as_current_span("by hand") as span:
            span.set_attribute("note", f"key {digits_key} and {KEY} for ana@example.org")
            span.set_attribute("auth", f"Authorization: Bearer {KEY}, call 0113 496 0321")
        (exported,) = tracing.spans()
    assert exported.attributes["note"] == f"key {REDACTED} and {REDACTED} for [REDACTED:email]"
    assert exported.attributes["auth"] == f"Authorization: {REDACTED}, call [REDACTED:phone]"
    # Each pass leaves the other's placeholder alone.
    assert (
        redact("[REDACTED:email] and [REDACTED:phone]") == "[REDACTED:email] and [REDACTED:phone]"
    )
    assert find_personal_data(f"{REDACTED} {REDACTED}") == []


# -- the redaction itself ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"Authorization: Bearer {KEY}", f"Authorization: {REDACTED}"),
        (f"{{'authorization': 'Bearer {KEY}'}}", f"{{'authorization': '{REDACTED}'}}"),
        ('{"Authorization": "Basic dXNlcjpwYXNz"}', f'{{"Authorization": "{REDACTED}"}}'),
        ("api-key: abc123def456", f"api-key: {REDACTED}"),
        ("GET /v1?api_key=abc123def456&x=1", f"GET /v1?api_key={REDACTED}&x=1"),
        ("x-api-key=abc123def456, then", f"x-api-key={REDACTED}, then"),
        ("sent bearer abcdefgh12345678 twice", f"sent bearer {REDACTED} twice"),
        (f"the key {KEY} leaked", f"the key {REDACTED} leaked"),
        (URL_WITH_PASSWORD, f"https://me:{REDACTED}@example.com/v1"),
    ],
)
def test_redact_hides_credentials_of_every_shape(text: str, expected: str) -> None:
    assert redact(text) == expected
    assert redact(expected) == expected  # redacting twice changes nothing


@pytest.mark.parametrize(
    "text",
    [
        "A basic setup with scikit-learn and sk-learn.",
        "Set COURSE_LLM_API_KEY in the environment to a valid key.",
        "http://127.0.0.1:8000/v1",
        "The bearer of good news.",
        "",
    ],
)
def test_redact_leaves_ordinary_text_alone(text: str) -> None:
    assert redact(text) == text


def test_registered_secrets_are_hidden_by_value_and_short_ones_ignored() -> None:
    from pydantic import SecretStr

    secret = "gateway-" + "token-8812-abcdef"  # pragma: allowlist secret
    register_secret(SecretStr(secret))
    register_secret("local")  # too short to hide by value: it would mangle ordinary words
    register_secret(None)
    assert redact(f"x{secret}y") == f"x{REDACTED}y"
    assert redact("the local model") == "the local model"
    assert redact("one-off 12345678", secrets=["12345678"]) == f"one-off {REDACTED}"


def test_scrub_exception_cleans_the_whole_chain() -> None:
    try:
        try:
            raise ValueError(f"inner Bearer {KEY}")
        except ValueError as inner:
            raise RuntimeError(f"outer {KEY}") from inner
    except RuntimeError as outer:
        error = outer
    assert scrub_exception(error) is error
    _assert_hidden(_exception_texts(error), KEY)


def test_the_logging_filter_cleans_message_arguments_and_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    logger = get_logger("course_lib.test_redaction")
    assert get_logger("course_lib.test_redaction").filters.count(logger.filters[0]) == 1
    caplog.set_level(logging.DEBUG, logger="course_lib.test_redaction")
    try:
        raise ValueError(f"refused {KEY}")
    except ValueError:
        logger.exception("call failed with %s", {"Authorization": f"Bearer {KEY}"})
    logger.info(f"inline key {KEY}")
    assert len(caplog.records) == 2
    _assert_hidden([caplog.text, *(r.getMessage() for r in caplog.records)], KEY)
    assert REDACTED in caplog.text

    record = logging.LogRecord("other", logging.INFO, __file__, 1, "%s %s", (KEY,), None)
    assert RedactingFilter().filter(record)  # arguments that do not fit the message
    assert KEY not in record.getMessage()
