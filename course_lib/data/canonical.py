"""The canonical form of a table, and the SHA-256 that names its content.

Two tables with the same rows are the same data, whoever exported them and however: so the
hash must not depend on row order, column order, the index, or the file format a tool
happened to write. It must depend on every value, on how many times each row occurs, and on
the difference between an empty string and a missing value (CSV cannot tell those apart; this
form can). The canonical form is JSON Lines:

* one JSON object per row, keys sorted, no spaces, UTF-8 (``ensure_ascii=False``);
* missing values (None, NaN, NaT) written as ``null``; timestamps as ISO 8601 strings; NumPy
  scalars as plain numbers; infinities refused (JSON has none);
* lines sorted by the key column's value, then by the whole line, so duplicates keep their
  count and the order is total.

Row order is ignored on purpose: an evaluation set's metric (a mean over rows) does not depend
on it. Where order carries meaning (few-shot examples, a time series read in order), add it
as a column, and it becomes content.

>>> import pandas as pd
>>> a = pd.DataFrame({"id": [1, 2], "q": ["x", None]})
>>> content_sha256(a) == content_sha256(a.iloc[::-1][["q", "id"]])
True
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from course_lib.errors import DataVersionError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "canonical_bytes",
    "canonical_lines",
    "canonical_value",
    "column_types",
    "content_sha256",
]


def canonical_value(value: Any, column: str = "?") -> Any:
    """``value`` as the JSON value the canonical form writes; raises for what JSON cannot hold."""
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isinf(value):
            raise DataVersionError(
                f"Column {column!r} holds {value!r}; JSON has no infinity. Replace it with a "
                "number or a missing value before committing."
            )
        return float(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return None if value != value else value.isoformat()  # NaT is not equal to itself
    return _other_value(value, column)


def _other_value(value: Any, column: str) -> Any:
    """NumPy and pandas scalars, missing markers and containers."""
    import numpy as np
    import pandas as pd

    if value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, np.generic):
        return canonical_value(value.item(), column)
    if isinstance(value, (list, tuple)):
        return [canonical_value(v, column) for v in value]
    if isinstance(value, Mapping):
        return {str(k): canonical_value(v, column) for k, v in value.items()}
    raise DataVersionError(
        f"Column {column!r} holds a {type(value).__name__} ({value!r:.60}); a dataset version "
        "stores strings, numbers, booleans, timestamps, missing values and lists or dicts of "
        "them. Convert the column first."
    )


def canonical_lines(frame: pd.DataFrame, key: str | None = None) -> list[str]:
    """The rows of ``frame`` as canonical JSON lines, sorted (by ``key``'s value first)."""
    columns = [str(c) for c in frame.columns]
    if len(set(columns)) != len(columns):
        raise DataVersionError(
            f"Column names repeat ({columns}); give every column a distinct name first."
        )
    if key is not None and key not in columns:
        raise DataVersionError(
            f"Key column {key!r} is not in the table; its columns are {columns}."
        )
    keyed: list[tuple[str, str]] = []
    for row in frame.itertuples(index=False, name=None):
        record = {c: canonical_value(v, c) for c, v in zip(columns, row, strict=True)}
        line = _dumps(record)
        keyed.append((_dumps(record[key]) if key is not None else "", line))
    keyed.sort()
    return [line for _, line in keyed]


def canonical_bytes(frame: pd.DataFrame, key: str | None = None) -> bytes:
    """The canonical JSON Lines of ``frame`` as UTF-8 bytes, each line ending in a newline."""
    return "".join(line + "\n" for line in canonical_lines(frame, key)).encode("utf-8")


def content_sha256(frame: pd.DataFrame, key: str | None = None) -> str:
    """The hex SHA-256 of :func:`canonical_bytes`: equal rows, equal hash, in any order."""
    return hashlib.sha256(canonical_bytes(frame, key)).hexdigest()


def column_types(frame: pd.DataFrame) -> dict[str, str]:
    """Each column's pandas dtype as text, in the table's order (recorded in a manifest)."""
    return {str(c): str(t) for c, t in frame.dtypes.items()}


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
