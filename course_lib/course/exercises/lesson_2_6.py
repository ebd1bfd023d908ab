"""Checkers of lesson 2.6, "Dataset lifecycle"."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from course_lib.course.checking import NotYet, Probe, exercise
from course_lib.labs.dataset_lab import reference_flag_leaks, ticket_schema

if TYPE_CHECKING:
    import pandas as pd

SOLUTION = "solutions/2_engineering_patterns/26_dataset_lifecycle.ipynb"
_HEX64 = re.compile(r"[0-9a-f]{64}")


# --- 2.6.1 a canonical content hash ------------------------------------------------------------


def content_hash(frame: pd.DataFrame) -> str:
    """The reference: course_lib's canonical hash (sorted canonical JSON lines, SHA-256)."""
    from course_lib.data import content_sha256

    return content_sha256(frame)


def _hash_cases() -> list[tuple[str, pd.DataFrame, pd.DataFrame, bool]]:
    """(what, table a, table b, whether a and b must hash the same)."""
    import pandas as pd

    base = pd.DataFrame(
        {
            "id": ["q-1", "q-2", "q-3", "q-4"],
            "question": ["How long is leave?", "Who is on call?", "VPN down", "Reset MFA"],
            "label": ["hr_people", "incident_report", "incident_report", "login_mfa"],
            "note": ["", "checked", "", "checked"],
            "weight": [1, 2, 3, 4],
        }
    )
    shuffled = base.iloc[[2, 0, 3, 1]]
    swapped = base.copy()
    swapped.loc[[0, 3], "label"] = ["login_mfa", "hr_people"]
    edited = base.copy()
    edited.loc[1, "question"] = "Who is on call today?"
    moved = base.copy()
    moved.loc[0, ["question", "note"]] = ["How long is leave", "?"]
    missing = base.copy()
    missing["note"] = missing["note"].astype(object)
    missing.loc[0, "note"] = None
    return [
        ("the same rows in another order", base, shuffled, True),
        ("the same table with its columns reordered", base, base[base.columns[::-1]], True),
        ("the same rows under another index", base, base.set_index("id", drop=False), True),
        ("one question edited", base, edited, False),
        ("one row pasted twice", base, pd.concat([base, base.iloc[[1]]]), False),
        ("one row removed", base, base.iloc[:3], False),
        ("two rows' labels swapped", base, swapped, False),
        ("a character moved from one cell to the next", base, moved, False),
        ("an empty string turned into a missing value", base, missing, False),
    ]


@exercise(
    "2.6.1",
    title="A canonical content hash",
    answer_name="content_hash",
    reference=content_hash,
    solution=SOLUTION,
    time_limit=30.0,
    hints=(
        "Turn each row into text that keeps every value and where it belongs: "
        "json.dumps(row, sort_keys=True) of each dict in frame.to_dict(orient='records') "
        "ignores the column order and keeps column names next to their values.",
        "Row order must not matter but duplicates must: sort the row texts (do not put them "
        "in a set, do not drop duplicates), join them with newlines, and hash the UTF-8 bytes "
        "with hashlib.sha256(...).hexdigest().",
        "Avoid to_csv: CSV writes an empty string and a missing value the same way, and its "
        "column and row order leak into the hash. Concatenating values with nothing between "
        "them lets 'ab'+'c' collide with 'a'+'bc'.",
    ),
)
def _check_content_hash(answer: Any, probe: Probe) -> str:
    from course_lib.data import content_sha256

    if answer is content_sha256:
        raise NotYet(
            "That is the library's content hash (course_lib.data.content_sha256); write your "
            "own content_hash."
        )
    for what, a, b, same in _hash_cases():
        first = probe.call_as(f"content_hash on a table ({what})", answer, a.copy())
        again = probe.call_as(f"content_hash on the same table ({what})", answer, a.copy())
        second = probe.call_as(f"content_hash on {what}", answer, b.copy())
        for got in (first, second):
            if not isinstance(got, str) or not _HEX64.fullmatch(got):
                raise NotYet(
                    f"content_hash returned {got!r:.80}; return the 64-character lower-case "
                    "hex digest of SHA-256 (hashlib.sha256(data).hexdigest())."
                )
        if first != again:
            raise NotYet(
                "content_hash gave two different hashes for the same table; it must depend "
                "only on the content (no random salt, no id(), no time)."
            )
        if same and first != second:
            raise NotYet(
                f"content_hash changed for {what}; that is the same data, so it must give "
                "the same hash (sort what order-dependent tools produce)."
            )
        if not same and first == second:
            raise NotYet(
                f"content_hash gave the same hash for {what}; that is different data, so "
                "the hash must change."
            )
    return "content_hash ignores row order, column order and the index, and notices every edit."


# --- 2.6.2 a pandera schema ----------------------------------------------------------------


_BROKEN_VALUES: list[tuple[str, Any]] = [
    ("category", "Login_MFA"),
    ("category", "deploy-ci"),
    ("category", None),
    ("priority", "P5"),
    ("priority", "p1"),
    ("body", "   \n"),
    ("body", ""),
    ("body", None),
    ("id", "TCK-12"),
    ("split", "Test"),
    ("split", "validation"),
    ("subject", None),
]
_CASES = [f"{column} = {value!r}" for column, value in _BROKEN_VALUES] + ["a pasted duplicate"]
_PASTED_ROW = 40


def _with_defects(
    sample: pd.DataFrame, cases: list[int]
) -> tuple[pd.DataFrame, dict[str, set[int]]]:
    """``sample`` with the defects of ``cases`` (case i breaks row i; the last case pastes row
    40 again), and for each case the index labels of the rows that carry it."""
    import pandas as pd

    frame = sample.copy()
    rows: dict[str, set[int]] = {}
    for case in cases:
        if case < len(_BROKEN_VALUES):
            column, value = _BROKEN_VALUES[case]
            frame.iloc[case, frame.columns.get_loc(column)] = value
            rows[_CASES[case]] = {case}
        else:
            frame = pd.concat([frame, frame.iloc[[_PASTED_ROW]]], ignore_index=True)
            rows[_CASES[case]] = {_PASTED_ROW, len(frame) - 1}
    return frame, rows


def _accepted_cases(schema: Any, sample: pd.DataFrame) -> list[str]:
    """The defects ``schema`` lets through. One lazy validation of a copy with every defect
    (one per row) answers for all of them when each failure names its row; otherwise each
    defect is validated on its own."""
    from pandera.errors import SchemaErrors

    frame, rows = _with_defects(sample, list(range(len(_CASES))))
    try:
        schema.validate(frame, lazy=True)
        return list(_CASES)
    except SchemaErrors as exc:
        index = exc.failure_cases["index"]
        if not index.isna().any():
            failed = set(index)
            return [case for case, where in rows.items() if not failed & where]
    except Exception:
        pass  # a failure of the whole table, or a crash: look at each defect alone
    accepted = []
    for number, case in enumerate(_CASES):
        single, _ = _with_defects(sample, [number])
        if _validates(schema, single, f"a copy with {case}"):
            accepted.append(case)
    return accepted


def _validates(schema: Any, frame: pd.DataFrame, what: str) -> bool:
    """True if ``schema`` accepts ``frame``; a crash inside the schema becomes a NotYet."""
    from pandera.errors import SchemaError, SchemaErrors

    try:
        schema.validate(frame, lazy=True)
    except (SchemaError, SchemaErrors):
        return False
    except Exception as exc:
        raise NotYet(
            f"ticket_schema.validate raised {type(exc).__name__} on {what} ({str(exc)[:120]}); "
            "a check must return True or False per value, missing values included."
        ) from None
    return True


TICKET_SCHEMA = ticket_schema()
"""The reference schema (built at import: ``answer_or_reference`` hands out this object)."""


@exercise(
    "2.6.2",
    title="A schema that rejects the broken rows",
    answer_name="ticket_schema",
    expects_function=False,
    reference=TICKET_SCHEMA,
    solution=SOLUTION,
    time_limit=60.0,
    hints=(
        "Put the rules into the column's pa.Column: "
        "pa.Column(str, pa.Check.str_matches(r'^TCK-\\d{4}$'), unique=True) for the id.",
        "Columns are not nullable unless you say nullable=True, so a missing category or body "
        "is already refused. A body of spaces is not: pa.Check(lambda s: "
        "s.str.strip().str.len() > 0) checks what is left after stripping.",
        "Do not refuse what the clean export holds: subjects may be empty strings (27 are) and "
        "service is missing for most tickets. Leave columns you have no rule for out of the "
        "schema.",
    ),
)
def _check_ticket_schema(answer: Any, probe: Probe) -> str:
    import pandera.pandas as pa

    from course_lib.labs.dataset_lab import service_desk_export

    if not isinstance(answer, pa.DataFrameSchema):
        raise NotYet(
            f"ticket_schema should be a pandera DataFrameSchema, but it is a "
            f"{type(answer).__name__}; build it with pa.DataFrameSchema({{...}})."
        )
    export = service_desk_export()
    if not _validates(answer, export, "the clean export"):
        from course_lib.data import validation_report

        first = validation_report(export, answer, key="id").iloc[0]
        value = first["value"]
        shown = "a missing value" if value is None or value != value else repr(value)
        raise NotYet(
            f"ticket_schema rejects the clean export: row {first['row']}, column "
            f"{first['column']!r} fails {first['check']} ({shown}). Loosen that rule: the "
            "export is valid."
        )
    sample = export.iloc[100:160].reset_index(drop=True)
    accepted = _accepted_cases(answer, sample)
    if accepted:
        more = f" (and {len(accepted) - 1} more broken rows)" if len(accepted) > 1 else ""
        raise NotYet(f"ticket_schema accepts a row with {accepted[0]}{more}; add that rule.")
    return (
        f"ticket_schema accepts all {len(export)} clean tickets and rejects all "
        f"{len(_CASES)} broken rows."
    )


# --- 2.6.3 a leak detector that catches what Jaccard misses, checked on another planting ------


flag_leaks = reference_flag_leaks
"""The reference: the course's detector (see course_lib.labs.dataset_lab)."""


@exercise(
    "2.6.3",
    title="A leak detector that holds on data it was not tuned on",
    answer_name="flag_leaks",
    reference=flag_leaks,
    solution=SOLUTION,
    time_limit=120.0,
    hints=(
        "Look at the copy find_leaks missed above: what surrounds the copied ticket, and what "
        "does that do to a similarity that divides by the shingles of both texts? "
        "leak_gap(similarity, seed=seed) shows where each kind of copy scores.",
        "Measure the share of the smaller set's shingles that also appear in the other: "
        "len(a & b) / min(len(a), len(b)) (guard against an empty set). A copy inside a longer "
        "mail and a copy cut down both keep that share high.",
        "Read the threshold off leak_gap: the genuine rows' highest score and the copies' "
        "lowest bound a gap. Aim for its middle, not an edge: the checker's copies are cut "
        "more, and its long genuine mails hold more of some test tickets than any row here.",
    ),
)
def _check_flag_leaks(answer: Any, probe: Probe) -> str:
    from course_lib.labs.dataset_lab import LEAK_TARGETS, leak_score

    score = probe.call_as("flag_leaks on the held-out planting", leak_score, answer, "heldout")
    if score.problem:
        raise NotYet(score.problem)
    recall, most = LEAK_TARGETS
    target = f"a recall of at least {recall:.0%} with at most {most} genuine tickets flagged"
    if score.recall < recall or score.false_flags > most:
        # Pass or fail only: no held-out figures and no direction, so nobody tunes on it.
        raise NotYet(
            f"flag_leaks does not reach the target on the held-out planting ({target}). Go "
            "back to this lesson's planting: leak_gap(similarity, seed=seed) shows where "
            "genuine tickets and each kind of copy score, and leak_score(flag_leaks, "
            "seed=seed) what you miss or flag wrongly. Is there a clear gap, and is your "
            "threshold in its middle?"
        )
    return f"flag_leaks reaches {target} on the held-out planting (not the one you tuned on)."
