"""Tracing the Handbook Assistant with OpenTelemetry and the GenAI semantic conventions.

Nothing happens at import: no provider, no exporter, no global state. Set tracing up once,
pass the :class:`Tracing` to the code that makes spans, and read the spans back:

>>> from course_lib.observability import setup_tracing, spans_frame, traced_chat, trace_workflow
>>> tracing = setup_tracing("memory")          # or the tracing_exporter setting; "otlp" in prod
>>> with trace_workflow(tracing, "handbook-assistant"):
...     result = traced_chat(client, tracing, "When is the on-call handover?")
>>> spans_frame(tracing)[["name", "gen_ai.usage.input_tokens", "course.cost_usd"]]

* :func:`setup_tracing` / :class:`Tracing`: the provider, its tracer and exporter.
* :func:`traced_chat` (or :func:`trace_chat` for calls you make yourself): a span named
  ``chat {model}`` with ``gen_ai.*`` request, response and usage attributes, plus
  ``course.cost_usd`` and ``course.prompt.ref``.
* :func:`trace_workflow`, :func:`trace_retrieval`, :func:`trace_packing`, :func:`trace_span`:
  the parent span of a request and the spans of its steps.
* :func:`spans_frame`: finished spans as a pandas DataFrame.
* :mod:`course_lib.observability.semconv`: every attribute name used, in one place.

Message content (prompts, answers, retrieval queries) is recorded only when
``capture_message_content`` is on; by default spans carry sizes, ids and costs, not text.
"""

from __future__ import annotations

from course_lib.observability.frames import SPAN_COLUMNS, spans_frame
from course_lib.observability.spans import (
    ChatStep,
    PackingStep,
    RetrievalStep,
    Step,
    trace_chat,
    trace_packing,
    trace_retrieval,
    trace_span,
    trace_workflow,
    traced_chat,
)
from course_lib.observability.tracing import (
    EXPORTERS,
    ExporterName,
    Tracing,
    disabled_tracing,
    setup_tracing,
)

__all__ = [
    "EXPORTERS",
    "SPAN_COLUMNS",
    "ChatStep",
    "ExporterName",
    "PackingStep",
    "RetrievalStep",
    "Step",
    "Tracing",
    "disabled_tracing",
    "setup_tracing",
    "spans_frame",
    "trace_chat",
    "trace_packing",
    "trace_retrieval",
    "trace_span",
    "trace_workflow",
    "traced_chat",
]
