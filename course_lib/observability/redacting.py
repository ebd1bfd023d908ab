"""The last check before a span leaves the process: an exporter that redacts what it passes on.

The ``trace_*`` functions redact the text they record, but a span can also get text from
elsewhere: ``step.span.set_attribute(...)`` in a lesson, another library's instrumentation
once the provider is global, an exception recorded by hand. Every exporter that
:func:`~course_lib.observability.setup_tracing` builds sits behind :class:`RedactingExporter`,
so the spans kept in memory, printed, or sent to a collector carry no API key or
``Authorization`` value, whoever set them. With ``personal_data=True`` (the
``redact_personal_data`` option of ``setup_tracing``) it also replaces personal data, with the
same detector the guardrails use on answers (:mod:`course_lib.personal_data`), so a pattern
fixed for one is fixed for both.

Imported only when tracing is set up: it needs the OpenTelemetry SDK.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.trace import Status

from course_lib.personal_data import redact_personal_data
from course_lib.redaction import redact, redact_value

__all__ = ["RedactingExporter", "redacted_span"]


class RedactingExporter(SpanExporter):
    """Passes each span on to ``inner`` with its name, attributes, events and status redacted.

    Args:
        personal_data: also redact personal data (emails, phone numbers...), not only secrets.
    """

    def __init__(self, inner: SpanExporter, *, personal_data: bool = False) -> None:
        self.inner = inner
        self.personal_data = personal_data

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return self.inner.export(
            [redacted_span(span, personal_data=self.personal_data) for span in spans]
        )

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self.inner.force_flush(timeout_millis)


def redacted_span(span: ReadableSpan, *, personal_data: bool = False) -> ReadableSpan:
    """``span`` itself when it holds no secret, else a copy with its text redacted.

    With ``personal_data``, personal data counts too: it is replaced by ``[REDACTED:<kind>]``.
    """
    text = _personal_and_secrets if personal_data else redact
    attributes = _redacted(span.attributes, text)
    events = [
        Event(event.name, _redacted(event.attributes, text), event.timestamp)
        for event in span.events
    ]
    description = span.status.description
    status = Status(span.status.status_code, text(description)) if description else span.status
    name = text(span.name)
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


def _personal_and_secrets(text: str) -> str:
    # Secrets first: a key is hidden whole, before any of its digits could pass for a number.
    return redact_personal_data(redact(text))[0]


def _redact_with(value: Any, text: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return text(value)
    if isinstance(value, list | tuple):
        cleaned = [_redact_with(item, text) for item in value]
        return tuple(cleaned) if isinstance(value, tuple) else cleaned
    return value


def _redacted(
    attributes: Mapping[str, Any] | None, text: Callable[[str], str] = redact
) -> dict[str, Any]:
    if text is redact:
        return {key: redact_value(value) for key, value in (attributes or {}).items()}
    return {key: _redact_with(value, text) for key, value in (attributes or {}).items()}
