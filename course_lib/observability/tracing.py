"""An explicit OpenTelemetry set-up: one call, nothing at import, nothing global by default.

>>> tracing = setup_tracing("memory")        # lessons: spans kept in memory
>>> with tracing.tracer.start_as_current_span("answer question"):
...     ...
>>> spans_frame(tracing)                     # one row per finished span

The exporter decides where finished spans go:

* ``"memory"``: kept in this process (the newest ``max_spans``), read with
  :func:`~course_lib.observability.spans_frame`. The course's default: no collector needed.
* ``"console"``: printed as JSON, one span at a time.
* ``"otlp"``: sent in batches over OTLP/HTTP to a collector, Jaeger, Phoenix or Langfuse.
  Needs ``opentelemetry-exporter-otlp-proto-http``.
* ``"none"``: spans are made (so trace ids still propagate) and then dropped.

Whatever the exporter, spans reach it redacted (:mod:`course_lib.redaction`): no API key or
``Authorization`` value in a name, an attribute, an exception event or a status. With
``redact_personal_data=True``, personal data is replaced too (every kind
:mod:`course_lib.personal_data` knows: e-mail addresses, phone, card, IBAN and tracking
numbers, street addresses, National Insurance numbers), in every span of the provider,
including those other libraries' instrumentations make.

The tracer provider stays local to the returned :class:`Tracing` unless ``set_global=True``:
OpenTelemetry allows the global provider to be set once per process, so a notebook that
re-runs its set-up cell, or a test suite, could otherwise never start afresh.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from course_lib.errors import OptionalDependencyError, SettingsError, TracingError

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.trace import NoOpTracerProvider, Tracer

    from course_lib.settings import CourseSettings

__all__ = ["EXPORTERS", "ExporterName", "Tracing", "disabled_tracing", "setup_tracing"]

ExporterName = Literal["memory", "console", "otlp", "none"]
EXPORTERS: tuple[str, ...] = ("memory", "console", "otlp", "none")
OTLP_PACKAGE = "opentelemetry-exporter-otlp-proto-http"
# Enough for every lesson many times over; a ring buffer, so a long-running kernel keeps the
# newest spans instead of growing without bound.
DEFAULT_MAX_SPANS = 100_000


@dataclass
class Tracing:
    """A tracer provider, its tracer, and (for ``"memory"``) the spans it kept.

    Attributes:
        provider: the OpenTelemetry ``TracerProvider`` (local unless set globally).
        tracer: start spans with it (``tracing.tracer.start_as_current_span(...)``).
        exporter: which exporter the spans go to.
        memory: the in-memory exporter, or None for other exporters.
        capture_message_content: whether the trace_* functions record prompts, answers
            and queries.
        service_name: the ``service.name`` resource attribute of every span.
        redacts_personal_data: whether personal data is replaced before spans are exported.
    """

    provider: TracerProvider | NoOpTracerProvider
    tracer: Tracer
    exporter: str
    memory: InMemorySpanExporter | None
    capture_message_content: bool
    service_name: str
    redacts_personal_data: bool = False

    def spans(self) -> tuple[ReadableSpan, ...]:
        """The finished spans kept in memory, oldest first.

        Raises:
            TracingError: the spans went to another exporter, not to memory.
        """
        if self.memory is None:
            raise TracingError(
                f"This tracing set-up exports spans to {self.exporter!r}, so none are kept in "
                "memory; look at them in your trace backend, or call setup_tracing('memory')."
            )
        return self.memory.get_finished_spans()

    def clear(self) -> None:
        """Forgets the spans kept in memory (e.g. between two experiments)."""
        if self.memory is not None:
            self.memory.clear()

    def force_flush(self, timeout_ms: int = 30_000) -> bool:
        """Exports spans still queued (OTLP batches); True when all went out in time."""
        flush = getattr(self.provider, "force_flush", None)
        return True if flush is None else bool(flush(timeout_ms))

    def shutdown(self) -> None:
        """Flushes and stops the provider; spans started afterwards are not recorded."""
        shutdown = getattr(self.provider, "shutdown", None)
        if shutdown is not None:
            shutdown()

    def __enter__(self) -> Tracing:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown()


def setup_tracing(
    exporter: ExporterName | None = None,
    *,
    service_name: str = "handbook-assistant",
    settings: CourseSettings | None = None,
    otlp_endpoint: str | None = None,
    capture_message_content: bool | None = None,
    max_spans: int | None = DEFAULT_MAX_SPANS,
    set_global: bool = False,
    resource_attributes: dict[str, Any] | None = None,
    otlp_headers: Mapping[str, str] | None = None,
    redact_personal_data: bool = False,
) -> Tracing:
    """Builds a tracer provider that sends spans to ``exporter``.

    Args:
        exporter: ``"memory"``, ``"console"``, ``"otlp"`` or ``"none"``; None reads the
            ``tracing_exporter`` setting (default ``"memory"``).
        service_name: the ``service.name`` every span carries.
        settings: the settings to read defaults from; default :func:`get_settings`.
        otlp_endpoint: the OTLP/HTTP traces URL; None reads the ``otlp_endpoint`` setting,
            then the exporter's own default (``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` or
            http://localhost:4318/v1/traces). Headers (e.g. a backend's key) come from
            ``OTEL_EXPORTER_OTLP_HEADERS`` in the environment, never from a file.
        capture_message_content: record prompts, answers and queries on spans; None reads
            the ``capture_message_content`` setting (default off).
        max_spans: how many spans ``"memory"`` keeps (the newest); None for no limit.
        set_global: also install the provider as OpenTelemetry's global one, so libraries
            that trace themselves (HTTP clients, web frameworks) join the same traces.
        otlp_headers: headers sent with each OTLP export (e.g. a backend's routing header,
            such as MLflow's ``x-mlflow-experiment-id``); keys belong in the environment.
        redact_personal_data: replace personal data (see :mod:`course_lib.personal_data`)
            with ``[REDACTED:<kind>]`` in every span before it is exported (off by default,
            as before this option).

    Raises:
        SettingsError: ``exporter`` is not one of the four names.
        OptionalDependencyError: ``"otlp"`` without its package installed.
        TracingError: ``set_global`` when another global provider is already installed.
    """
    needs_endpoint = exporter in (None, "otlp") and otlp_endpoint is None
    if exporter is None or capture_message_content is None or needs_endpoint:
        if settings is None:
            from course_lib.settings import get_settings

            settings = get_settings()
        exporter = exporter or settings.tracing_exporter
        otlp_endpoint = otlp_endpoint or settings.otlp_endpoint
        if capture_message_content is None:
            capture_message_content = settings.capture_message_content
    if exporter not in EXPORTERS:
        raise SettingsError(
            f"Unknown tracing exporter {exporter!r}; use one of {', '.join(EXPORTERS)} "
            "(the tracing_exporter setting)."
        )

    import course_lib

    provider, memory = _provider(
        exporter,
        service_name=service_name,
        otlp_endpoint=otlp_endpoint,
        max_spans=max_spans,
        resource_attributes=resource_attributes,
        otlp_headers=otlp_headers,
        redact_personal_data=redact_personal_data,
    )
    if set_global:
        _install_globally(provider)
    tracer = provider.get_tracer("course_lib", course_lib.__version__)
    return Tracing(
        provider=provider,
        tracer=tracer,
        exporter=exporter,
        memory=memory,
        capture_message_content=bool(capture_message_content),
        service_name=service_name,
        redacts_personal_data=redact_personal_data,
    )


def _provider(
    exporter: str,
    *,
    service_name: str,
    otlp_endpoint: str | None,
    max_spans: int | None,
    resource_attributes: dict[str, Any] | None,
    otlp_headers: Mapping[str, str] | None = None,
    redact_personal_data: bool = False,
) -> tuple[TracerProvider, InMemorySpanExporter | None]:
    """A tracer provider whose spans go to ``exporter``, and its in-memory exporter if any."""
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import (
        BatchSpanProcessor,
        ConsoleSpanExporter,
        SimpleSpanProcessor,
    )

    from course_lib.observability.redacting import RedactingExporter

    memory = None
    resource = Resource.create({**(resource_attributes or {}), "service.name": service_name})
    provider = TracerProvider(resource=resource)
    # Every exporter sits behind the redaction: no span leaves with an API key in its text.
    if exporter == "memory":
        memory = _memory_exporter(max_spans)
        # Simple (synchronous) processing: a span is readable the moment it ends.
        provider.add_span_processor(
            SimpleSpanProcessor(RedactingExporter(memory, personal_data=redact_personal_data))
        )
    elif exporter == "console":
        console = RedactingExporter(ConsoleSpanExporter(), personal_data=redact_personal_data)
        provider.add_span_processor(SimpleSpanProcessor(console))
    elif exporter == "otlp":
        # Batches: a slow or absent collector must never slow down answering a question.
        otlp = RedactingExporter(
            _otlp_exporter(otlp_endpoint, otlp_headers), personal_data=redact_personal_data
        )
        provider.add_span_processor(BatchSpanProcessor(otlp))
    return provider, memory


def _install_globally(provider: TracerProvider) -> None:
    """Makes ``provider`` OpenTelemetry's global one; shuts it down if another one is."""
    from opentelemetry import trace

    current = trace.get_tracer_provider()
    if not isinstance(current, trace.ProxyTracerProvider):
        provider.shutdown()
        raise TracingError(
            "A global tracer provider is already installed, and OpenTelemetry allows only "
            "one per process; use this Tracing's .tracer without set_global, or restart."
        )
    trace.set_tracer_provider(provider)


def disabled_tracing() -> Tracing:
    """A set-up that records nothing, so code can trace unconditionally.

    Its spans are OpenTelemetry's non-recording spans: they cost next to nothing, carry an
    invalid (all-zero) trace id, and are never exported. Code written against :class:`Tracing`
    then needs no ``if tracing is None`` branches.
    """
    from opentelemetry.trace import NoOpTracerProvider

    provider = NoOpTracerProvider()
    return Tracing(
        provider=provider,
        tracer=provider.get_tracer("course_lib"),
        exporter="disabled",
        memory=None,
        capture_message_content=False,
        service_name="",
    )


def _memory_exporter(max_spans: int | None) -> InMemorySpanExporter:
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    try:
        return InMemorySpanExporter(max_spans=max_spans)
    except TypeError:  # pragma: no cover - SDKs before max_spans existed keep every span
        return InMemorySpanExporter()


def _otlp_exporter(endpoint: str | None, headers: Mapping[str, str] | None = None) -> SpanExporter:
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    except ImportError as exc:
        raise OptionalDependencyError(
            f"The 'otlp' tracing exporter needs the package {OTLP_PACKAGE}, which is not "
            f"installed. Install it with: pip install {OTLP_PACKAGE} (or set tracing_exporter "
            "to 'memory' or 'console')."
        ) from exc
    # The package is optional, so the type checker may not see it: name the type it implements.
    options: dict[str, Any] = {}
    if endpoint:
        options["endpoint"] = endpoint
    if headers:
        options["headers"] = dict(headers)
    exporter: SpanExporter = OTLPSpanExporter(**options)
    return exporter
