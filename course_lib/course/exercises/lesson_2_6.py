"""Checkers of lesson 2.6, "Dataset lifecycle"."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from course_lib.course.checking import NotYet, Probe, exercise
from course_lib.labs.dataset_lab import ticket_schema

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
        "One pa.Column per rule: pa.Column(str, pa.Check.isin([...])) for the label columns, "
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


def flag_leaks(train: pd.DataFrame, test: pd.DataFrame) -> list[str]:
    """The reference: a train row leaks when most of the smaller of it and some test row (70%
    of its 5-shingles) appears in the other. Copies inside a longer mail and copies cut down
    both keep that share high, where Jaccard, which divides by both texts, falls."""
    from course_lib.data import row_texts, shingles

    columns = ["subject", "body"]
    tests = [shingles(text) for text in row_texts(test, columns)]
    flagged = []
    for key, text in zip(train["id"], row_texts(train, columns), strict=True):
        own = shingles(text)
        share = max((len(own & t) / max(min(len(own), len(t)), 1) for t in tests), default=0.0)
        if share >= 0.7:
            flagged.append(str(key))
    return flagged


@exercise(
    "2.6.3",
    title="A leak detector that holds on data it was not tuned on",
    answer_name="flag_leaks",
    reference=flag_leaks,
    solution=SOLUTION,
    time_limit=120.0,
    hints=(
        "Start from what find_leaks misses here: leak_score(...) returns a score whose "
        "`missed` names them, and leak_pairs() returns this planting's train, test and "
        "planted ids, so you can print one. What surrounds the copied ticket, and what does "
        "that do to a similarity that divides by the shingles of both texts?",
        "Measure the share of the smaller text's shingles that also appear in the other one "
        "(shingles(text) gives a text's set of 5-shingles; & and len() count the shared "
        "ones). A copy inside a longer mail and a copy cut down both keep that share high. "
        "Flag a train row when its highest share over the test rows reaches a threshold.",
        "Choose the threshold on this planting: the largest share among genuine train rows "
        "and the smallest among planted ones bound a gap. Aim for its middle, not an edge: "
        "the checker's copies are cut more, and its long genuine mails hold more of some test "
        "tickets than any genuine row here.",
    ),
)
def _check_flag_leaks(answer: Any, probe: Probe) -> str:
    from course_lib.labs.dataset_lab import LEAK_TARGETS, leak_score

    score = probe.call_as("flag_leaks on the held-out planting", leak_score, answer, "heldout")
    if score.problem:
        raise NotYet(score.problem)
    recall, most = LEAK_TARGETS
    line = f"On the held-out planting (not the one you tuned on): {score}"
    missed, noisy = score.recall < recall, score.false_flags > most
    if missed and noisy:
        raise NotYet(
            f"{line}; find at least {recall:.0%} of the copies and flag at most {most} genuine "
            "tickets. No threshold of this measure separates them: use one that stays high for "
            "a copy inside a longer mail or cut down, and low for genuine tickets."
        )
    if missed:
        raise NotYet(
            f"{line}; find at least {recall:.0%} of the copies. Some sit inside a longer mail, "
            "some are cut down: use a measure that stays high for both, or lower the threshold "
            "toward the middle of the gap you measured."
        )
    if noisy:
        raise NotYet(
            f"{line}; flag at most {most} genuine training tickets. Long genuine mails hold "
            "part of many test tickets by chance: raise the threshold toward the middle of the "
            "gap you measured."
        )
    return line + "."


# --- 2.6.4 a lineage query ---------------------------------------------------------------------


def affected_results(versions: pd.DataFrame, results: pd.DataFrame, bad_version: str) -> list[str]:
    """Ids of results computed on ``bad_version`` or any version derived from it."""
    tainted, frontier = {bad_version}, [bad_version]
    while frontier:
        children = versions.loc[versions["parent"].isin(frontier), "version"]
        frontier = [v for v in children if v not in tainted]
        tainted.update(frontier)
    return sorted(results.loc[results["dataset"].isin(tainted), "result_id"])


def _lineage_cases() -> list[tuple[str, pd.DataFrame, pd.DataFrame, str]]:
    import pandas as pd

    edges = [  # version, parent
        ("t@a1", None),
        ("t@b2", "t@a1"),
        ("t@c3", "t@b2"),
        ("t@d4", "t@c3"),
        ("t@e5", "t@d4"),
        ("t@f6", "t@a1"),
        ("t@g7", "t@f6"),
        ("t@h8", "t@b2"),
        ("g@a1", None),
        ("g@b2", "g@a1"),
    ]
    versions = pd.DataFrame(edges, columns=["version", "parent"])
    versions["message"] = "edit"
    on = ["t@a1", "t@b2", "t@c3", "t@e5", "t@f6", "t@g7", "t@h8", "g@a1", "g@b2", "t@b2"]
    results = pd.DataFrame(
        {
            "result_id": [f"res-{i:03d}" for i in range(len(on))],
            "metric": "accuracy",
            "dataset": on,
        }
    )
    return [
        ("a version in the middle of a long chain", versions, results, "t@c3"),
        ("a version with two branches below it", versions, results, "t@b2"),
        ("the first version of a dataset", versions, results, "t@a1"),
        ("a version nothing was derived from", versions, results, "t@h8"),
        ("a version with no results of its own", versions, results, "t@d4"),
        ("a version of another dataset", versions, results, "g@a1"),
    ]


@exercise(
    "2.6.4",
    title="Which results does a bad version taint?",
    answer_name="affected_results",
    reference=affected_results,
    solution=SOLUTION,
    hints=(
        "Start from {bad_version} and repeatedly add the versions whose parent is already in "
        "the set: versions.loc[versions['parent'].isin(found), 'version'].",
        "Stop when a round adds nothing new; a version can have several children, so follow "
        "all of them. Then keep the results whose dataset is in the set.",
        "Return sorted(results.loc[results['dataset'].isin(tainted), 'result_id']): result "
        "ids, not versions.",
    ),
)
def _check_affected_results(answer: Any, probe: Probe) -> str:
    for what, versions, results, bad in _lineage_cases():
        call = f"affected_results for {what} ({bad})"
        got = probe.call_as(call, answer, versions.copy(), results.copy(), bad)
        if got is None:
            raise NotYet(f"{call} returned None; did you forget a `return`?")
        if isinstance(got, str) or not hasattr(got, "__iter__"):
            raise NotYet(f"{call} returned a {type(got).__name__}; return a list of result ids.")
        got_ids = sorted(str(g) for g in got)
        strangers = sorted(set(got_ids) - set(results["result_id"]))
        if strangers:
            raise NotYet(
                f"{call} returned {strangers[0]!r}, which is not a result id; return ids from "
                "results['result_id'] (the figures to withdraw), not versions."
            )
        expected = affected_results(versions, results, bad)
        if got_ids != expected:
            stray = sorted(set(got_ids) - set(expected))
            lost = sorted(set(expected) - set(got_ids))
            why = (
                f"it includes {stray[0]!r}, computed on a version not derived from {bad}"
                if stray
                else f"it misses {lost[0]!r}, computed on a version derived from {bad}"
            )
            raise NotYet(f"{call} returned {len(got_ids)} ids, expected {len(expected)}: {why}.")
    return "affected_results follows every branch down from the bad version, and only those."
