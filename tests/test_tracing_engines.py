"""The tracing suite on both sides: the in-memory exporter, and OTLP to a trace backend.

Every test runs the same traced work twice over (``sink`` is ``memory`` or ``otlp``) and reads
the spans back the way each side offers them: ``spans_frame`` for memory, the backend's own
client for OTLP. Both are reduced to the same rows (trace, span name, parent name and the
``gen_ai.*``/``course.*``/``error.*`` attributes), so a difference in what reaches a backend
(a dropped attribute, a broken parent link, unredacted text) fails a test.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pytest

from course_lib.llm import LLMClient
from course_lib.observability import (
    Tracing,
    setup_tracing,
    spans_frame,
    trace_packing,
    trace_retrieval,
    trace_workflow,
    traced_chat,
)
from course_lib.standin import local_client

QUESTION = "How many days of annual leave do I get?"
PASSAGE = "[leave-policy] Annual leave is 25 working days per calendar year."
EMAIL = "jan.kowalski@kestrel.example"
# Attributes that differ on every run by nature: ids, and the provider's response id.
_VARYING = {"gen_ai.response.id"}


@pytest.fixture(scope="module")
def client() -> LLMClient:
    return local_client()


@dataclass
class Sink:
    """Where a test's spans go, and how to read them back as comparable rows."""

    side: str
    tracing: Tracing
    read: Callable[[], list[dict[str, Any]]]


def _plain(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, str) and value[:1] in "[{":
        try:  # a backend may keep a list attribute as its JSON text
            return _plain(json.loads(value))
        except ValueError:
            return value
    if hasattr(value, "item"):
        return value.item()
    return value


def _rows(frame: pd.DataFrame, trace: pd.Series, parent: pd.Series) -> list[dict[str, Any]]:
    rows = []
    for index, record in frame.iterrows():
        attributes = {
            key: _plain(value)
            for key, value in record.items()
            if isinstance(key, str)
            and key.startswith(("gen_ai.", "course.", "error."))
            and key not in _VARYING
            and not (value is None or (not isinstance(value, list | tuple) and pd.isna(value)))
        }
        rows.append(
            {
                "trace": int(trace[index]),
                "name": record["name"],
                "parent": parent[index] if isinstance(parent[index], str) else None,
                **attributes,
            }
        )
    return sorted(rows, key=lambda row: (row["trace"], row["name"]))


def _memory_rows(tracing: Tracing) -> list[dict[str, Any]]:
    frame = spans_frame(tracing)
    names = dict(zip(frame["span_id"], frame["name"], strict=True))
    order = {trace_id: n for n, trace_id in enumerate(dict.fromkeys(frame["trace_id"]), 1)}
    trace = frame["trace_id"].map(order)
    parent = frame["parent_id"].map(lambda p: names.get(p) if isinstance(p, str) else None)
    return _rows(frame, trace, parent)


def _backend_rows(backend: Any, seen: int) -> list[dict[str, Any]]:
    frame = backend.spans_frame()
    frame = frame[frame["trace"] > seen].reset_index(drop=True)
    trace = frame["trace"] - seen
    parent = frame["parent"].map(lambda p: p if isinstance(p, str) else None)
    return _rows(frame, trace, parent)


@pytest.fixture(params=["memory", "otlp"])
def sink(request: pytest.FixtureRequest) -> Iterator[Sink]:
    if request.param == "memory":
        with setup_tracing("memory", capture_message_content=False) as tracing:
            yield Sink("memory", tracing, lambda: _memory_rows(tracing))
        return
    backend = request.getfixturevalue("trace_backend")
    seen = int(backend.spans_frame()["trace"].max()) if len(backend.search_traces()) else 0
    tracing = setup_tracing(
        "otlp",
        otlp_endpoint=backend.otlp_endpoint,
        otlp_headers=backend.otlp_headers,
        capture_message_content=False,
    )

    def read() -> list[dict[str, Any]]:
        assert tracing.force_flush()
        return _backend_rows(backend, seen)

    try:
        yield Sink("otlp", tracing, read)
    finally:
        tracing.shutdown()


def _answer(client: LLMClient, tracing: Tracing) -> None:
    with trace_workflow(tracing, "handbook-assistant"):
        with trace_retrieval(tracing, query=QUESTION, k=5, mode="hybrid") as step:
            step.record_results(["leave-policy#1", "leave-policy#2"], scores=[0.91, 0.42])
        with trace_packing(tracing, candidates=2, budget_tokens=1_000) as packing:
            packing.record(["leave-policy#1"], tokens=40)
        traced_chat(
            client,
            tracing,
            f"{PASSAGE}\n\nQuestion: {QUESTION}",
            temperature=0.0,
            prompt_version="handbook-answer@v3",
        )


def test_a_request_arrives_as_one_trace_with_its_steps(client: LLMClient, sink: Sink) -> None:
    _answer(client, sink.tracing)
    rows = {row["name"]: row for row in sink.read()}
    assert set(rows) == {
        "invoke_workflow handbook-assistant",
        "retrieval handbook",
        "pack context",
        "chat local-small",
    }
    assert {row["trace"] for row in rows.values()} == {1}
    root = "invoke_workflow handbook-assistant"
    assert rows[root]["parent"] is None
    assert all(rows[name]["parent"] == root for name in rows if name != root)
    chat = rows["chat local-small"]
    assert chat["gen_ai.request.model"] == "local-small"
    assert chat["course.prompt.ref"] == "handbook-answer@v3"
    assert chat["gen_ai.usage.input_tokens"] > 0 and chat["course.cost_usd"] > 0
    assert rows["retrieval handbook"]["course.retrieval.document_ids"] == [
        "leave-policy#1",
        "leave-policy#2",
    ]
    assert rows["pack context"]["course.packing.kept_count"] == 1


def test_a_failed_step_carries_its_error_type(sink: Sink) -> None:
    with (
        pytest.raises(RuntimeError),
        trace_workflow(sink.tracing),
        trace_retrieval(sink.tracing, query=QUESTION, k=5, mode="dense"),
    ):
        raise RuntimeError("index is locked")
    rows = {row["name"]: row for row in sink.read()}
    assert rows["retrieval handbook"]["error.type"] == "builtins.RuntimeError"


def test_no_message_content_leaves_the_process_by_default(client: LLMClient, sink: Sink) -> None:
    traced_chat(client, sink.tracing, f"I am {EMAIL}. {QUESTION}")
    (row,) = sink.read()
    assert not any("message" in key or "content" in key for key in row)
    assert EMAIL not in json.dumps(row)


def test_both_sides_receive_the_same_spans(client: LLMClient, trace_backend: Any) -> None:
    """The same work, traced to memory and over OTLP: identical rows, attribute by attribute."""
    results = []
    for side in ("memory", "otlp"):
        if side == "memory":
            with setup_tracing("memory", capture_message_content=False) as tracing:
                for _ in range(2):
                    _answer(client, tracing)
                results.append(_memory_rows(tracing))
            continue
        seen = int(trace_backend.spans_frame()["trace"].max() or 0)
        tracing = setup_tracing(
            "otlp",
            otlp_endpoint=trace_backend.otlp_endpoint,
            otlp_headers=trace_backend.otlp_headers,
            capture_message_content=False,
        )
        for _ in range(2):
            _answer(client, tracing)
        assert tracing.force_flush()
        tracing.shutdown()
        results.append(_backend_rows(trace_backend, seen))
    memory, otlp = results
    assert len(memory) == len(otlp) == 8
    assert memory == otlp
