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
* :func:`redact_personal_data`, :func:`find_personal_data`: the course's one personal-data
  detector (:mod:`course_lib.personal_data`, shared with the guardrails), re-exported here;
  ``setup_tracing(redact_personal_data=True)`` applies it to every span before export,
  whoever made the span.
* :func:`start_mlflow_backend` / :class:`MLflowBackend`: MLflow's tracking server as a local
  trace backend (OTLP in, its client to read traces back).
* :func:`nearest_rank_percentile`, :func:`latency_report`, :func:`usage_report`,
  :func:`request_costs`, :func:`model_prices`: latency percentiles and cost per group.
* :func:`review_sample`: a stratified, deterministic sample of answers for people to review.
* :func:`detect_anomalies`, :func:`explain_anomaly`: windows where per-request metrics left
  their usual range, and the prompt version, model or team that changed with them.

Message content (prompts, answers, retrieval queries) is recorded only when
``capture_message_content`` is on; by default spans carry sizes, ids and costs, not text.
"""

from __future__ import annotations

from course_lib.observability.anomalies import (
    REQUEST_METRICS,
    Anomaly,
    MetricSpec,
    anomaly_table,
    bucket_scores,
    detect_anomalies,
    explain_anomaly,
)
from course_lib.observability.backend import (
    MLFLOW_EXPERIMENT_HEADER,
    MLflowBackend,
    start_mlflow_backend,
)
from course_lib.observability.frames import SPAN_COLUMNS, spans_frame
from course_lib.observability.reports import (
    Prices,
    latency_report,
    model_prices,
    nearest_rank_percentile,
    request_costs,
    usage_report,
)
from course_lib.observability.sampling import review_sample, sample_key
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
from course_lib.personal_data import (
    PERSONAL_DATA_KINDS,
    PersonalData,
    find_personal_data,
    redact_personal_data,
    redact_personal_data_value,
)

__all__ = [
    "EXPORTERS",
    "MLFLOW_EXPERIMENT_HEADER",
    "PERSONAL_DATA_KINDS",
    "REQUEST_METRICS",
    "SPAN_COLUMNS",
    "Anomaly",
    "ChatStep",
    "ExporterName",
    "MLflowBackend",
    "MetricSpec",
    "PackingStep",
    "PersonalData",
    "Prices",
    "RetrievalStep",
    "Step",
    "Tracing",
    "anomaly_table",
    "bucket_scores",
    "detect_anomalies",
    "disabled_tracing",
    "explain_anomaly",
    "find_personal_data",
    "latency_report",
    "model_prices",
    "nearest_rank_percentile",
    "redact_personal_data",
    "redact_personal_data_value",
    "request_costs",
    "review_sample",
    "sample_key",
    "setup_tracing",
    "spans_frame",
    "start_mlflow_backend",
    "trace_chat",
    "trace_packing",
    "trace_retrieval",
    "trace_span",
    "trace_workflow",
    "traced_chat",
    "usage_report",
]
