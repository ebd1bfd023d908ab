"""Validating a table against a pandera schema, with errors a person can act on.

pandera checks every column and collects every failure when asked to (``lazy=True``); its own
exception is a long report. :func:`validate_frame` turns it into one
:class:`~course_lib.errors.DataValidationError` whose message names the first few bad rows
by their key, the column, the value and the rule, and whose ``failures`` table lists them all.
:func:`validation_report` returns that table without raising, for a look before a fix.

>>> import pandera.pandas as pa
>>> schema = pa.DataFrameSchema({"id": pa.Column(str, unique=True)})
>>> validate_frame(frame, schema, key="id", name="tickets/test")
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from course_lib.errors import DataValidationError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["FAILURE_COLUMNS", "validate_frame", "validation_error", "validation_report"]

FAILURE_COLUMNS = ("row", "column", "check", "value")
SHOWN = 5
"""Failures quoted in an error message; ``failures`` holds every one."""
CHECK_SHOWN = 48
"""Characters of a rule quoted in an error message (long ``isin`` lists are cut)."""


def validation_report(frame: pd.DataFrame, schema: Any, *, key: str | None = None) -> pd.DataFrame:
    """Every failure of ``frame`` against ``schema``: one row each, empty when it is valid.

    ``row`` is the key value of the failing row when ``key`` is given (else its index); a
    failure of the whole table (a missing column, say) has no row.
    """
    import pandas as pd
    from pandera.errors import SchemaError, SchemaErrors

    validate = getattr(schema, "validate", None)
    if not callable(validate):
        raise TypeError(
            f"Expected a pandera schema (with .validate), got {type(schema).__name__}; build "
            "one with pandera.pandas.DataFrameSchema({...})."
        )
    try:
        validate(frame, lazy=True)
    except SchemaErrors as exc:
        cases = exc.failure_cases
    except SchemaError as exc:  # a schema-level failure raised before the lazy collection
        cases = pd.DataFrame(
            [{"column": exc.schema.name, "check": str(exc.check), "failure_case": None}]
        )
    else:
        return pd.DataFrame(columns=list(FAILURE_COLUMNS))
    rows = []
    for case in cases.to_dict(orient="records"):
        index = case.get("index")
        rows.append(
            {
                "row": _row_label(frame, index, key),
                "column": case.get("column"),
                "check": str(case.get("check")),
                "value": case.get("failure_case"),
            }
        )
    return pd.DataFrame(rows, columns=list(FAILURE_COLUMNS))


def validate_frame(
    frame: pd.DataFrame, schema: Any, *, key: str | None = None, name: str = "the data"
) -> pd.DataFrame:
    """Returns ``frame`` validated by ``schema``, or raises one readable DataValidationError."""
    failures = validation_report(frame, schema, key=key)
    if not failures.empty:
        raise validation_error(failures, name)
    return frame


def validation_error(failures: pd.DataFrame, name: str) -> DataValidationError:
    """The error for a non-empty failures table: the first few named, all in ``failures``."""
    records = failures.to_dict(orient="records")
    lines = list(dict.fromkeys(_describe(f) for f in records))  # a duplicate key fails twice
    shown = "; ".join(lines[:SHOWN])
    more = f"; and {len(lines) - SHOWN} more" if len(lines) > SHOWN else ""
    rows = failures["row"].dropna().nunique()
    return DataValidationError(
        f"{len(records)} problem(s) in {name} ({rows} row(s)): {shown}{more}. Fix those rows "
        "(or the schema, if the rule is wrong) and validate again; `.failures` lists them all.",
        failures,
    )


def _row_label(frame: pd.DataFrame, index: Any, key: str | None) -> Any:
    """The key value of the row at ``index`` (or the index itself); None for the table."""
    if index is None or index != index:  # missing: a failure of the whole table
        return None
    if key is None or key not in frame.columns or index not in frame.index:
        return index
    value = frame.loc[index, key]
    return value.iloc[0] if hasattr(value, "iloc") else value


def _describe(failure: dict[str, Any]) -> str:
    row = failure["row"]
    where = "the table" if row is None or row != row else f"row {row}"
    if failure.get("file"):
        where = f"{failure['file']} {where}"
    check = str(failure["check"])
    if len(check) > CHECK_SHOWN:
        check = check[: CHECK_SHOWN - 5] + "...])" if check.endswith("])") else check[:CHECK_SHOWN]
    value = failure["value"]
    shown = "a missing value" if value is None or value != value else repr(value)
    if isinstance(value, str) and len(value) > 40:
        shown = repr(value[:37] + "...")
    return f"{where}: {failure['column']} = {shown} fails {check}"
