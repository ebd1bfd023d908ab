"""Validate: the rules a handbook record must pass before it may reach the index.

The rules are a pandera schema over the table :func:`~course_lib.pipelines.records_frame`
makes, so they are data, not scattered ``if`` statements: :func:`record_schema` is the
course's, and a pipeline takes any other. :func:`split_records` applies one with pandera's
lazy mode (every rule on every row, not the first failure only) through
:func:`course_lib.data.validation_report`, and returns the good rows and the bad ones, each
bad row with every reason it failed: what the quarantine stores.

Rows whose file could not be parsed at all (a ``problem`` from reading) skip the schema: their
problem is their reason.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from course_lib.rag.documents import ACCESS_LEVELS

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ID_PATTERN",
    "MAX_BYTES",
    "MIN_WORDS",
    "REJECTED_COLUMNS",
    "RecordSplit",
    "record_schema",
    "split_records",
]

ID_PATTERN = r"[a-z0-9]+(?:-[a-z0-9]+)*"
"""A document id: lower-case words joined by hyphens, as the handbook's file names are."""
MAX_BYTES = 100_000
"""The largest file accepted. The handbook's longest document is under 10 kB: a file 10 times
that size is a pasted log or an export, and would flood the index with chunks."""
MIN_WORDS = 20
"""A body shorter than this (a heading alone, an empty page) answers nothing."""
REJECTED_COLUMNS = ("file", "record_id", "content_hash", "reasons")


def _rule(test: Any, error: str) -> Any:
    """An element-wise pandera check: plain Python on each value, the same on every pandas
    version (pandas 3 stores text as its own string type, pandas 2 as objects)."""
    import pandera.pandas as pa

    return pa.Check(test, element_wise=True, error=error)


def _is_id(value: Any) -> bool:
    return isinstance(value, str) and re.fullmatch(ID_PATTERN, value) is not None


def _is_title(value: Any) -> bool:
    return isinstance(value, str) and len(value.strip()) >= 3


def _is_version(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _is_iso_date(value: Any) -> bool:
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def record_schema(
    teams: Collection[str], *, max_bytes: int = MAX_BYTES, min_words: int = MIN_WORDS
) -> Any:
    """The course's rules for a handbook record, as a pandera ``DataFrameSchema``.

    Args:
        teams: the teams that may own a document (a typo such as ``SRE`` is not one).
        max_bytes: the largest file accepted.
        min_words: the shortest body accepted, in words.

    Returns:
        A ``pandera.pandas.DataFrameSchema`` over the columns of ``records_frame``.
    """
    import pandera.pandas as pa

    known = sorted({str(team) for team in teams}) if not isinstance(teams, str) else []
    if not known:
        raise ValueError(
            f"record_schema() needs the known teams as a collection of names, not {teams!r}; "
            "e.g. sorted({d.team for d in load_handbook()})."
        )
    return pa.DataFrameSchema(
        {
            "id": pa.Column(checks=_rule(_is_id, "id is lower-case-with-hyphens")),
            "title": pa.Column(checks=_rule(_is_title, "title has 3 characters or more")),
            "team": pa.Column(checks=pa.Check.isin(known, error="team is a known team")),
            "access": pa.Column(
                checks=pa.Check.isin(
                    ACCESS_LEVELS, error="access is public, internal or restricted"
                )
            ),
            "version": pa.Column(checks=_rule(_is_version, "version is a whole number >= 1")),
            "updated": pa.Column(checks=_rule(_is_iso_date, "updated is a YYYY-MM-DD date")),
            "text": pa.Column(),
            "words": pa.Column(checks=pa.Check.ge(min_words, error=f"body has {min_words}+ words")),
            "size_bytes": pa.Column(
                checks=pa.Check.le(max_bytes, error=f"file is at most {max_bytes:,} bytes")
            ),
        },
        checks=[
            pa.Check(
                lambda frame: frame["id"] == frame["file"].str.removesuffix(".md"),
                error="id equals the file name",
            )
        ],
    )


@dataclass(frozen=True)
class RecordSplit:
    """Validated records: ``valid`` rows (the records' columns) and ``rejected`` rows
    (``file``, ``record_id``, ``content_hash``, ``reasons``: every reason, ``; ``-joined)."""

    valid: pd.DataFrame
    rejected: pd.DataFrame


def split_records(frame: pd.DataFrame, schema: Any) -> RecordSplit:
    """Splits ``frame`` (from ``records_frame``) into the rows that pass ``schema`` and the
    rest, each with the reasons it failed.

    Raises:
        TypeError: ``schema`` is not a pandera schema.
        ValueError: ``frame`` lacks the columns of ``records_frame``.
    """
    import pandas as pd

    from course_lib.data.validation import validation_report
    from course_lib.pipelines.records import RECORD_COLUMNS

    missing = [c for c in RECORD_COLUMNS if c not in getattr(frame, "columns", ())]
    if missing:
        raise ValueError(
            f"split_records() takes the table records_frame() makes; it lacks {missing}."
        )
    frame = frame.reset_index(drop=True)
    reasons: dict[int, list[str]] = {}
    for index, problem in frame["problem"].items():
        if isinstance(problem, str) and problem:
            reasons[int(index)] = [problem]
    parsed = frame[~frame.index.isin(list(reasons))]
    wide = {str(getattr(check, "error", "")) for check in getattr(schema, "checks", []) or []}
    report = validation_report(parsed.drop(columns=["problem"]), schema)
    for failure in report.to_dict(orient="records"):
        row = failure["row"]
        # A failure of the whole table (no row) is every row's.
        rows = list(parsed.index) if row is None or row != row else [int(row)]
        reason = _reason(failure, wide)
        for index in rows:
            found = reasons.setdefault(int(index), [])
            if reason not in found:
                found.append(reason)
    bad = frame.index.isin(list(reasons))
    rejected = pd.DataFrame(
        [
            {
                "file": frame.at[index, "file"],
                "record_id": frame.at[index, "id"],
                "content_hash": frame.at[index, "content_hash"],
                "reasons": "; ".join(reasons[index]),
            }
            for index in sorted(reasons)
        ],
        columns=list(REJECTED_COLUMNS),
    )
    return RecordSplit(valid=frame[~bad].reset_index(drop=True), rejected=rejected)


def _reason(failure: dict[str, Any], wide: set[str]) -> str:
    """One failure as a short phrase: the rule, and the value that broke it."""
    check, column, value = str(failure["check"]), failure["column"], failure["value"]
    if check in wide:
        return check
    if check == "not_nullable":
        return f"{column} is missing"
    if check == "field_uniqueness":
        return f"{column} {value!r} is not unique"
    if check == "column_in_dataframe":
        return f"column {value!r} is missing"
    shown = repr(value)
    if len(shown) > 30:
        shown = shown[:27] + "..."
    return f"{check} (got {shown})"
