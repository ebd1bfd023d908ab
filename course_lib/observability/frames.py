"""Finished spans as a pandas DataFrame: the in-memory exporter's answer to a trace UI.

One row per span, with its place in the trace (trace, span and parent ids), its timing and
status, and one column per attribute name, so that questions such as "cost per prompt
version" or "p95 latency of chat spans" are a ``groupby`` away:

>>> frame = spans_frame(tracing)
>>> frame[frame.name.str.startswith("chat ")].groupby("course.prompt.ref")["course.cost_usd"].sum()
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from course_lib.redaction import redact_value

if TYPE_CHECKING:
    import pandas as pd
    from opentelemetry.sdk.trace import ReadableSpan

    from course_lib.observability.tracing import Tracing

__all__ = ["SPAN_COLUMNS", "spans_frame"]

SPAN_COLUMNS: tuple[str, ...] = (
    "trace_id",
    "span_id",
    "parent_id",
    "name",
    "kind",
    "start",
    "duration_ms",
    "status",
    "status_description",
)


def spans_frame(source: Tracing | Iterable[ReadableSpan]) -> pd.DataFrame:
    """One row per finished span, oldest first; attributes flattened into columns.

    Args:
        source: a :class:`Tracing` set up with the ``"memory"`` exporter, or spans.

    Ids are lower-case hex (32 digits for traces, 16 for spans), as trace backends show them;
    ``parent_id`` is None for a root span. ``start`` is a UTC timestamp. Text (attributes and
    the status description) is redacted, whatever the spans' origin. List attributes
    (e.g. ``gen_ai.response.finish_reasons``) stay lists; a span without an attribute has NaN
    or None in its column.
    """
    import pandas as pd

    spans = source.spans() if hasattr(source, "spans") else tuple(source)
    rows = [_row(span) for span in spans]
    attribute_columns = sorted({key for row in rows for key in row} - set(SPAN_COLUMNS))
    frame = pd.DataFrame(rows, columns=[*SPAN_COLUMNS, *attribute_columns])
    frame["start"] = pd.to_datetime(frame["start"].astype("int64"), unit="ns", utc=True)
    frame["duration_ms"] = frame["duration_ms"].astype(float)
    for column in attribute_columns:
        frame[column] = _nullable([row.get(column) for row in rows])
    return frame.sort_values("start", kind="stable").reset_index(drop=True)


def _nullable(values: list[Any]) -> Any:
    """Whole numbers stay whole (Int64) and flags stay flags (boolean) where a span lacks them.

    Without this, one span without ``gen_ai.usage.input_tokens`` turns the column to floats.
    """
    import pandas as pd

    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return pd.array(values, dtype="boolean")
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return pd.array(values, dtype="Int64")
    return values


def _row(span: ReadableSpan) -> dict[str, Any]:
    context = span.get_span_context()
    if context is None:  # a span the SDK recorded always has one; only a hand-built one lacks it
        raise ValueError(f"The span {span.name!r} has no span context (trace and span ids).")
    start, end = span.start_time or 0, span.end_time or span.start_time or 0
    row: dict[str, Any] = {
        "trace_id": f"{context.trace_id:032x}",
        "span_id": f"{context.span_id:016x}",
        "parent_id": f"{span.parent.span_id:016x}" if span.parent is not None else None,
        "name": redact_value(span.name),
        "kind": span.kind.name,
        "start": start,  # nanoseconds since the epoch; a timestamp once in the frame
        "duration_ms": (end - start) / 1e6,
        "status": span.status.status_code.name,
        # Redacted again: spans handed in directly may not have passed a course exporter.
        "status_description": redact_value(span.status.description),
    }
    for key, value in (span.attributes or {}).items():
        row[key] = redact_value(list(value) if isinstance(value, tuple) else value)
    return row
