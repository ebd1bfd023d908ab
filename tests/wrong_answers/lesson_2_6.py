"""Plausible wrong answers to lesson 2.6's exercises; each must be rejected by its checker."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pandera.pandas as pa

from course_lib.data import content_sha256
from course_lib.datasets import TICKET_CATEGORIES, TICKET_PRIORITIES

# --- 2.6.1 content_hash ------------------------------------------------------------------------


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _hashes_the_csv_as_written(frame):
    return _sha(frame.to_csv())


def _sorted_csv_rows(frame):
    lines = frame.to_csv(index=False).splitlines()
    return _sha(lines[0] + "\n" + "\n".join(sorted(lines[1:])))


def _sorted_csv_with_sorted_columns(frame):
    ordered = frame[sorted(frame.columns)]
    lines = ordered.to_csv(index=False).splitlines()
    return _sha(lines[0] + "\n" + "\n".join(sorted(lines[1:])))


def _drops_duplicates_first(frame):
    rows = {json.dumps(r, sort_keys=True, default=str) for r in frame.to_dict(orient="records")}
    return _sha("\n".join(sorted(rows)))


def _concatenates_values(frame):
    rows = sorted("".join(str(v) for v in r.values()) for r in frame.to_dict(orient="records"))
    return _sha("".join(rows))


def _sorts_each_column_on_its_own(frame):
    columns = {c: sorted(map(str, frame[c])) for c in sorted(frame.columns)}
    return _sha(json.dumps(columns))


def _md5_instead(frame):
    rows = sorted(
        json.dumps(r, sort_keys=True, default=str) for r in frame.to_dict(orient="records")
    )
    return hashlib.md5("\n".join(rows).encode("utf-8")).hexdigest()


def _hashes_only_the_ids(frame):
    return _sha("\n".join(sorted(map(str, frame["id"]))))


# --- 2.6.2 ticket_schema -----------------------------------------------------------------------


def _blank(series):
    return series.str.strip().str.len() > 0


_RULES: dict[str, Any] = {
    "id": pa.Column(str, pa.Check.str_matches(r"^TCK-\d{4}$"), unique=True),
    "category": pa.Column(str, pa.Check.isin(list(TICKET_CATEGORIES))),
    "priority": pa.Column(str, pa.Check.isin(list(TICKET_PRIORITIES))),
    "split": pa.Column(str, pa.Check.isin(["train", "test"])),
    "subject": pa.Column(str),
    "body": pa.Column(str, pa.Check(_blank)),
}


def _schema(**changes: Any) -> pa.DataFrameSchema:
    rules = {k: v for k, v in {**_RULES, **changes}.items() if v is not None}
    return pa.DataFrameSchema(rules)


_ids_not_unique = _schema(id=pa.Column(str, pa.Check.str_matches(r"^TCK-\d{4}$")))
_body_only_not_empty = _schema(body=pa.Column(str, pa.Check.str_length(min_value=1)))
_no_category_rule = _schema(category=None)
_priority_by_pattern = _schema(priority=pa.Column(str, pa.Check.str_matches(r"^[Pp]\d$")))
_subject_must_not_be_empty = _schema(subject=pa.Column(str, pa.Check.str_length(min_value=1)))
_service_required = _schema(service=pa.Column(str))
_category_case_insensitive = _schema(
    category=pa.Column(
        str, pa.Check(lambda s: s.str.lower().str.replace("-", "_").isin(list(TICKET_CATEGORIES)))
    )
)
_a_dict_of_rules = dict(_RULES)


# --- 2.6.3 flag_leaks --------------------------------------------------------------------------

_TEXT = ["subject", "body"]


def _exact_copies_only(train, test):
    from course_lib.data import row_texts, text_fingerprint

    seen = {text_fingerprint(t) for t in row_texts(test, _TEXT)}
    prints = [text_fingerprint(t) for t in row_texts(train, _TEXT)]
    return [key for key, p in zip(train["id"], prints, strict=True) if p in seen]


def _library_default(train, test):
    """find_leaks unchanged: Jaccard at 0.4 (the answer that passed before)."""
    from course_lib.data import find_leaks

    return list(find_leaks(train, test)["train_key"])


def _jaccard(t):
    def detector(train, test):
        from course_lib.data import jaccard_matrix, row_texts

        similarity = jaccard_matrix(row_texts(train, _TEXT), row_texts(test, _TEXT))
        return list(train["id"][similarity.max(axis=1) >= t])

    return detector


def _share(t, of="smaller"):
    """Flags a train row when the share of `of` ("smaller", "test" or "train") found in the
    other text reaches t, at its highest over the test rows."""

    def detector(train, test):
        from course_lib.data import row_texts, shingles

        tests = [shingles(x) for x in row_texts(test, _TEXT)]
        flagged = []
        for key, text in zip(train["id"], row_texts(train, _TEXT), strict=True):
            own = shingles(text)
            for u in tests:
                size = {"smaller": min(len(own), len(u)), "test": len(u), "train": len(own)}[of]
                if len(own & u) / max(size, 1) >= t:
                    flagged.append(key)
                    break
        return flagged

    return detector


_jaccard_loose_low = _jaccard(0.25)  # passed the old held-out check
_jaccard_loose_high = _jaccard(0.5)  # passed the old held-out check
_jaccard_far_too_low = _jaccard(0.15)  # catches forwarded copies, flags 65 genuine tickets
_share_at_the_genuine_edge = _share(0.61)  # just above the largest genuine share when tuning
_share_at_the_copy_edge = _share(0.8)  # just below the smallest copy's share when tuning
_share_of_the_test_ticket_low = _share(0.47, of="test")
_share_of_the_train_row = _share(0.7, of="train")  # the wrong way round: misses forwarded


def _strips_the_desk_boilerplate(train, test):
    """Removes the lesson's mail wrapper, then Jaccard: tuned to one mail layout."""
    from course_lib.data import find_leaks

    cleaned = train.copy()
    cleaned["body"] = (
        cleaned["body"]
        .str.split("\n\n")
        .map(
            lambda parts: "\n\n".join(
                p
                for p in parts
                if not p.startswith(("FYI", "Adding this", "Another good", "---------- Forwarded"))
                and "Kestrel Freight" not in p
                and "self-service pages" not in p
            )
        )
    )
    return list(find_leaks(cleaned, test)["train_key"])


def _flags_the_test_ids(train, test):
    from course_lib.data import find_leaks

    return list(find_leaks(train, test)["test_key"])


WRONG_ANSWERS: dict[str, list[Any]] = {
    "2.6.1": [
        _hashes_the_csv_as_written,
        _sorted_csv_rows,
        _sorted_csv_with_sorted_columns,
        _drops_duplicates_first,
        _concatenates_values,
        _sorts_each_column_on_its_own,
        _md5_instead,
        _hashes_only_the_ids,
        content_sha256,  # the library's own hash, handed in unchanged
    ],
    "2.6.2": [
        _ids_not_unique,
        _body_only_not_empty,
        _no_category_rule,
        _priority_by_pattern,
        _subject_must_not_be_empty,
        _service_required,
        _category_case_insensitive,
        _a_dict_of_rules,
    ],
    "2.6.3": [
        _exact_copies_only,
        _library_default,
        _jaccard_loose_low,
        _jaccard_loose_high,
        _jaccard_far_too_low,
        _share_at_the_genuine_edge,
        _share_at_the_copy_edge,
        _share_of_the_test_ticket_low,
        _share_of_the_train_row,
        _strips_the_desk_boilerplate,
        _flags_the_test_ids,
    ],
}
