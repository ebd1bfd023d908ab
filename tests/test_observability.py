"""Tracing: explicit set-up, GenAI convention names, content capture off by default, a frame."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest

from course_lib.errors import (
    OptionalDependencyError,
    SettingsError,
    TracingError,
    UnknownModelError,
)
from course_lib.llm import ChatResult, LLMClient, Usage
from course_lib.models import get_registry
from course_lib.observability import (
    SPAN_COLUMNS,
    Tracing,
    setup_tracing,
    spans_frame,
    trace_packing,
    trace_retrieval,
    trace_span,
    trace_workflow,
    traced_chat,
)
from course_lib.settings import load_settings
from course_lib.standin import local_client

QUESTION = "How many days of annual leave do I get?"
PASSAGE = "[leave-policy] Annual leave is 25 working days per calendar year."
SYSTEM = "Answer from the passages and cite them."


@pytest.fixture(scope="module")
def client() -> LLMClient:
    return local_client()


@pytest.fixture
def tracing() -> Iterator[Tracing]:
    with setup_tracing("memory", capture_message_content=False) as tracing:
        yield tracing


def _chat(client: LLMClient, tracing: Tracing, **kwargs: Any) -> ChatResult:
    return traced_chat(
        client,
        tracing,
        f"{PASSAGE}\n\nQuestion: {QUESTION}",
        system=SYSTEM,
        temperature=0.0,
        prompt_version="handbook-answer@v3",
        **kwargs,
    )


def _run(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.strip()


# -- nothing at import -------------------------------------------------------------------------


def test_import_sets_up_nothing_and_loads_no_opentelemetry() -> None:
    """Importing the package loads no OpenTelemetry, and no global provider is ever set."""
    code = (
        "import sys, course_lib.observability as o;"
        "print([m for m in ('opentelemetry', 'pandas', 'yaml', 'jinja2') if m in sys.modules]);"
        "from opentelemetry import trace;"
        "print(type(trace.get_tracer_provider()).__name__);"
        "t = o.setup_tracing('memory', capture_message_content=False);"
        "print(type(trace.get_tracer_provider()).__name__, len(t.spans()))"
    )
    assert _run(code).splitlines() == ["[]", "ProxyTracerProvider", "ProxyTracerProvider 0"]


def test_set_global_installs_the_provider_once() -> None:
    """Opt-in global provider (in a fresh process: OpenTelemetry allows one per process)."""
    code = """
from opentelemetry import trace
from course_lib.errors import TracingError
from course_lib.observability import setup_tracing

tracing = setup_tracing("memory", set_global=True, capture_message_content=False)
print(trace.get_tracer_provider() is tracing.provider)
try:
    setup_tracing("memory", set_global=True, capture_message_content=False)
except TracingError:
    print("refused")
"""
    assert _run(code).splitlines() == ["True", "refused"]


# -- the chat span -----------------------------------------------------------------------------


def test_chat_span_follows_the_genai_conventions(client: LLMClient, tracing: Tracing) -> None:
    result = _chat(client, tracing, seed=7, max_tokens=200)
    (span,) = tracing.spans()
    assert span.name == "chat local-small"
    assert span.kind.name == "INTERNAL"  # an in-process model; over HTTP it is CLIENT
    attributes = dict(span.attributes)
    expected = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "local",
        "gen_ai.request.model": "local-small",
        "gen_ai.request.temperature": 0.0,
        "gen_ai.request.seed": 7,
        "gen_ai.request.max_tokens": 200,
        "gen_ai.response.model": "local-small",
        "gen_ai.response.id": result.raw["id"],
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": result.usage.input_tokens,
        "gen_ai.usage.output_tokens": result.usage.output_tokens,
        "course.cost_usd": result.cost_usd,
        "course.prompt.ref": "handbook-answer@v3",
        "course.prompt.name": "handbook-answer",
        "course.prompt.version": 3,
        "course.model.role": "chat-small",
        "course.attempts": 1,
        "course.fallback_used": False,
    }
    assert {k: attributes.get(k) for k in expected} == expected
    assert result.usage.input_tokens > 0 and result.cost_usd > 0
    # No attribute outside the two namespaces (and the conventions' own error/server ones).
    assert all(k.startswith(("gen_ai.", "course.", "server.", "error.")) for k in attributes)
    assert "gen_ai.system" not in attributes  # the deprecated name of gen_ai.provider.name


def test_attribute_names_match_the_installed_semantic_conventions() -> None:
    """Cross-check our spelled-out names against the semconv package, where it has them."""
    gen_ai = pytest.importorskip("opentelemetry.semconv._incubating.attributes.gen_ai_attributes")
    from course_lib.observability import semconv

    checked = 0
    for constant in dir(semconv):
        if constant.startswith("GEN_AI_") and hasattr(gen_ai, constant):
            assert getattr(semconv, constant) == getattr(gen_ai, constant), constant
            checked += 1
    assert checked >= 15


def test_span_is_named_after_the_model_the_role_maps_to(
    client: LLMClient, tracing: Tracing
) -> None:
    _chat(client, tracing, model="chat-large")
    traced_chat(client, tracing, "Hello", model="local-small")
    large, small = tracing.spans()
    assert large.name == "chat local-large"
    assert large.attributes["course.model.role"] == "chat-large"
    assert small.name == "chat local-small"
    assert "course.model.role" not in small.attributes  # an id, not a role


def test_a_network_call_is_a_client_span_with_the_server_address(tracing: Tracing) -> None:
    spec = get_registry().resolve("chat-small")
    answer = ChatResult(
        content="25 days.",
        model=spec.id,
        usage=Usage(10, 3),
        cost_usd=0.0,
        latency_ms=5.0,
        finish_reason="stop",
        raw={"id": "chatcmpl-1"},
    )
    remote = SimpleNamespace(
        provider=SimpleNamespace(name="openai-compatible", base_url="https://llm.example.com/v1"),
        registry=get_registry(),
        chat=lambda messages, **kwargs: answer,
    )
    traced_chat(remote, tracing, QUESTION)
    (span,) = tracing.spans()
    assert span.kind.name == "CLIENT"
    assert span.attributes["server.address"] == "llm.example.com"
    assert span.attributes["server.port"] == 443


# -- message content -------------------------------------------------------------------------


def _all_text(tracing: Tracing) -> str:
    return json.dumps([dict(s.attributes) for s in tracing.spans()], default=str)


def test_content_is_not_captured_by_default(client: LLMClient, tracing: Tracing) -> None:
    with trace_retrieval(tracing, query=QUESTION, k=3) as step:
        step.record_results(["leave-policy"])
    result = _chat(client, tracing)
    recorded = _all_text(tracing)
    for content in (QUESTION, SYSTEM, "Annual leave is 25", result.content):
        assert content not in recorded
    for name in (
        "gen_ai.input.messages",
        "gen_ai.output.messages",
        "gen_ai.system_instructions",
        "gen_ai.retrieval.query.text",
    ):
        assert name not in recorded


def test_content_is_captured_when_turned_on(client: LLMClient) -> None:
    with setup_tracing("memory", capture_message_content=True) as tracing:
        with trace_retrieval(tracing, query=QUESTION, k=3):
            pass
        result = _chat(client, tracing)
        retrieval, chat = tracing.spans()
    assert retrieval.attributes["gen_ai.retrieval.query.text"] == QUESTION
    inputs = json.loads(chat.attributes["gen_ai.input.messages"])
    assert inputs[0]["role"] == "user"
    assert inputs[0]["parts"][0] == {
        "type": "text",
        "content": f"{PASSAGE}\n\nQuestion: {QUESTION}",
    }
    assert json.loads(chat.attributes["gen_ai.system_instructions"]) == [
        {"type": "text", "content": SYSTEM}
    ]
    (output,) = json.loads(chat.attributes["gen_ai.output.messages"])
    assert output["role"] == "assistant" and output["finish_reason"] == "stop"
    assert output["parts"] == [{"type": "text", "content": result.content}]


def test_settings_choose_the_exporter_and_content_capture() -> None:
    settings = load_settings(
        {"tracing_exporter": "none", "capture_message_content": True}, config_file=None
    )
    with setup_tracing(settings=settings) as tracing:
        assert (tracing.exporter, tracing.capture_message_content) == ("none", True)
        with tracing.tracer.start_as_current_span("dropped"):
            pass
        with pytest.raises(TracingError, match=r"exports spans to 'none'.*setup_tracing"):
            tracing.spans()
    defaults = load_settings(config_file=None)
    assert (defaults.tracing_exporter, defaults.capture_message_content) == ("memory", False)


def test_bad_exporter_names_are_refused() -> None:
    with pytest.raises(SettingsError, match=r"Unknown tracing exporter 'jaeger'.*memory, console"):
        setup_tracing("jaeger", capture_message_content=False)  # type: ignore[arg-type]
    with pytest.raises(SettingsError, match=r"'tracing_exporter'.*one of memory, console, otlp"):
        load_settings({"tracing_exporter": "jaeger"}, config_file=None)


def test_otlp_without_its_package_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    # None in sys.modules makes the import fail, installed or not.
    monkeypatch.setitem(sys.modules, "opentelemetry.exporter.otlp.proto.http.trace_exporter", None)
    with pytest.raises(OptionalDependencyError) as info:
        setup_tracing("otlp", otlp_endpoint="http://localhost:4318/v1/traces")
    message = str(info.value)
    assert "pip install opentelemetry-exporter-otlp-proto-http" in message
    assert "tracing_exporter" in message
    assert isinstance(info.value, ImportError)


# -- errors ----------------------------------------------------------------------------------


def test_a_failed_call_is_recorded_and_re_raised(client: LLMClient, tracing: Tracing) -> None:
    with pytest.raises(UnknownModelError):
        traced_chat(client, tracing, QUESTION, model="gpt-nine")
    (span,) = tracing.spans()
    assert span.name == "chat gpt-nine"
    assert span.status.status_code.name == "ERROR"
    assert span.attributes["error.type"] == "course_lib.errors.UnknownModelError"
    assert [e.name for e in span.events] == ["exception"]


def test_an_error_inside_a_step_marks_that_step_and_its_parent(tracing: Tracing) -> None:
    with (
        pytest.raises(RuntimeError),
        trace_workflow(tracing),
        trace_retrieval(tracing, query=QUESTION, k=5, mode="dense"),
    ):
        raise RuntimeError("index is locked")
    retrieval, workflow = tracing.spans()
    assert retrieval.status.description == "RuntimeError: index is locked"
    assert workflow.status.status_code.name == "ERROR"
    assert retrieval.attributes["error.type"] == "builtins.RuntimeError"


# -- the frame and the trace's shape -----------------------------------------------------------


def _answer_one_question(client: LLMClient, tracing: Tracing) -> None:
    with trace_workflow(tracing, "handbook-assistant"):
        with trace_retrieval(tracing, query=QUESTION, k=5, mode="hybrid") as step:
            step.record_results(["leave-policy#1", "leave-policy#2"], scores=[0.91, 0.42])
        with trace_packing(tracing, candidates=2, budget_tokens=1_000) as packing:
            packing.record(["leave-policy#1"], tokens=40)
        _chat(client, tracing)


def test_a_request_span_contains_retrieval_packing_and_chat(
    client: LLMClient, tracing: Tracing
) -> None:
    _answer_one_question(client, tracing)
    frame = spans_frame(tracing).set_index("name")
    root = frame.loc["invoke_workflow handbook-assistant"]
    assert pd.isna(root["parent_id"])
    assert root["gen_ai.operation.name"] == "invoke_workflow"
    for child in ("retrieval handbook", "pack context", "chat local-small"):
        assert frame.loc[child, "parent_id"] == root["span_id"]
        assert frame.loc[child, "trace_id"] == root["trace_id"]
    retrieval = frame.loc["retrieval handbook"]
    assert retrieval["gen_ai.operation.name"] == "retrieval"
    assert retrieval["gen_ai.data_source.id"] == "handbook"
    assert retrieval["gen_ai.request.top_k"] == 5
    assert retrieval["course.retrieval.mode"] == "hybrid"
    assert retrieval["course.retrieval.result_count"] == 2
    assert retrieval["course.retrieval.document_ids"] == ["leave-policy#1", "leave-policy#2"]
    packing = frame.loc["pack context"]
    assert (packing["course.packing.kept_count"], packing["course.packing.dropped_count"]) == (1, 1)
    assert root["duration_ms"] >= frame.loc["chat local-small", "duration_ms"]


def test_spans_frame_has_one_row_per_span_and_typed_columns(
    client: LLMClient, tracing: Tracing
) -> None:
    _answer_one_question(client, tracing)
    _answer_one_question(client, tracing)
    frame = spans_frame(tracing)
    assert frame.shape[0] == 8 == len(tracing.spans())
    assert list(frame.columns[: len(SPAN_COLUMNS)]) == list(SPAN_COLUMNS)
    assert frame["trace_id"].nunique() == 2
    assert frame["trace_id"].str.len().eq(32).all() and frame["span_id"].str.len().eq(16).all()
    assert frame["start"].is_monotonic_increasing and str(frame["start"].dt.tz) == "UTC"
    assert (frame["duration_ms"] >= 0).all()
    assert set(frame["status"]) == {"UNSET"}
    assert str(frame["gen_ai.usage.input_tokens"].dtype) == "Int64"  # not float for missing rows
    chats = frame[frame["name"].str.startswith("chat ")]
    assert chats.groupby("course.prompt.ref")["course.cost_usd"].sum().gt(0).all()


def test_spans_frame_of_no_spans_still_has_its_columns(tracing: Tracing) -> None:
    frame = spans_frame(tracing)
    assert frame.empty and list(frame.columns) == list(SPAN_COLUMNS)


def test_generic_span_and_clear(tracing: Tracing) -> None:
    with trace_span(tracing, "load index", attributes={"course.index.size": 3, "skip": None}):
        pass
    (span,) = tracing.spans()
    assert dict(span.attributes) == {"course.index.size": 3}
    tracing.clear()
    assert tracing.spans() == ()
