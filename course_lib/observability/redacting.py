"""The last check before a span leaves the process: an exporter that redacts what it passes on.

The ``trace_*`` functions redact the text they record, but a span can also get text from
elsewhere: ``step.span.set_attribute(...)`` in a lesson, another library's instrumentation
once the provider is global, an exception recorded by hand. Every exporter that
:func:`~course_lib.observability.setup_tracing` builds sits behind :class:`RedactingExporter`,
so the spans kept in memory, printed, or sent to a collector carry no API key or
``Authorization`` value, whoever set them.

Imported only when tracing is set up: it needs the OpenTelemetry SDK.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.trace import Status

from course_lib.redaction import redact, redact_value

__all__ = ["RedactingExporter", "redacted_span"]


class RedactingExporter(SpanExporter):
    """Passes each span on to ``inner`` with its name, attributes, events and status redacted."""

    def __init__(self, inner: SpanExporter) -> None:
        self.inner = inner

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return self.inner.export([redacted_span(span) for span in spans])

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self.inner.force_flush(timeout_millis)


def redacted_span(span: ReadableSpan) -> ReadableSpan:
    """``span`` itself when it holds no secret, else a copy with its text redacted."""
    attributes = _redacted(span.attributes)
    events = [
        Event(event.name, _redacted(event.attributes), event.timestamp) for event in span.events
    ]
    description = span.status.description
    status = Status(span.status.status_code, redact(description)) if description else span.status
    name = redact(span.name)
    unchanged = (
        name == span.name
        and attributes == dict(span.attributes or {})
        and all(
            new.attributes == dict(old.attributes or {})
            for new, old in zip(events, span.events, strict=True)
        )
        and status.description == description
    )
    if unchanged:
        return span
    return ReadableSpan(
        name=name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=attributes,
        events=events,
        links=span.links,
        kind=span.kind,
        status=status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


def _redacted(attributes: Mapping[str, Any] | None) -> dict[str, Any]:
    return {key: redact_value(value) for key, value in (attributes or {}).items()}
