"""The dataset lifecycle: immutable versions, lineage, validation, leakage and column access.

An evaluation figure is a claim about data. This package makes the data behind every figure
nameable, unchangeable and checkable:

* :class:`DatasetStore`: tables committed as immutable, content-addressed versions
  (``tickets@3f2a9c1b2d4e``), each with a manifest (files, row counts, column types, parent
  version, who made it and why), read back verified against their hashes, diffed by key;
* :func:`content_sha256` and :func:`canonical_bytes`: the canonical form behind a version id
  (row and column order ignored, every value and every duplicate counted);
* :class:`LineageLog`: each evaluation result recorded with its dataset version, prompt
  ``name@version`` and model id, and traced back from a result id;
* :func:`validate_frame` / :func:`validation_report`: pandera schemas with readable errors;
* :func:`find_leaks` / :func:`remove_leaks`: exact and near-duplicate rows shared by train
  and test (normalised hashes, Jaccard similarity of character shingles);
* :class:`ColumnPolicy`: per role, which sensitive columns are read clear, pseudonymised,
  masked or dropped, applied by the store on every read.

>>> from course_lib.data import DatasetStore, LineageLog
>>> store = DatasetStore(work_path("datasets"))
>>> v1 = store.commit("tickets", {"train": train, "test": test}, key="id", created_by="ana")

Importing this package is cheap: pandas, pandera and scikit-learn load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from course_lib._lazy import lazy_exports

if TYPE_CHECKING:
    from course_lib.data.access import MASK, TREATMENTS, ColumnPolicy, Treatment
    from course_lib.data.canonical import (
        canonical_bytes,
        canonical_lines,
        canonical_value,
        column_types,
        content_sha256,
    )
    from course_lib.data.leakage import (
        LEAK_COLUMNS,
        NEAR_DUPLICATE_THRESHOLD,
        SHINGLE_SIZE,
        find_leaks,
        jaccard_matrix,
        normalise_text,
        remove_leaks,
        row_texts,
        shingles,
        text_fingerprint,
    )
    from course_lib.data.lineage import PROMPT_REF, EvalRecord, Lineage, LineageLog
    from course_lib.data.store import DatasetStore
    from course_lib.data.validation import (
        FAILURE_COLUMNS,
        validate_frame,
        validation_error,
        validation_report,
    )
    from course_lib.data.versions import MANIFEST_FORMAT, DatasetVersion, FileEntry, version_id
    from course_lib.errors import (
        ColumnAccessError,
        DataIntegrityError,
        DataValidationError,
        DataVersionError,
        DataVersionNotFoundError,
        LineageError,
    )

_EXPORTS = {
    "MASK": "course_lib.data.access",
    "TREATMENTS": "course_lib.data.access",
    "ColumnPolicy": "course_lib.data.access",
    "Treatment": "course_lib.data.access",
    "canonical_bytes": "course_lib.data.canonical",
    "canonical_lines": "course_lib.data.canonical",
    "canonical_value": "course_lib.data.canonical",
    "column_types": "course_lib.data.canonical",
    "content_sha256": "course_lib.data.canonical",
    "ColumnAccessError": "course_lib.errors",
    "DataIntegrityError": "course_lib.errors",
    "DataValidationError": "course_lib.errors",
    "DataVersionError": "course_lib.errors",
    "DataVersionNotFoundError": "course_lib.errors",
    "LineageError": "course_lib.errors",
    "LEAK_COLUMNS": "course_lib.data.leakage",
    "NEAR_DUPLICATE_THRESHOLD": "course_lib.data.leakage",
    "SHINGLE_SIZE": "course_lib.data.leakage",
    "find_leaks": "course_lib.data.leakage",
    "jaccard_matrix": "course_lib.data.leakage",
    "normalise_text": "course_lib.data.leakage",
    "remove_leaks": "course_lib.data.leakage",
    "row_texts": "course_lib.data.leakage",
    "shingles": "course_lib.data.leakage",
    "text_fingerprint": "course_lib.data.leakage",
    "PROMPT_REF": "course_lib.data.lineage",
    "EvalRecord": "course_lib.data.lineage",
    "Lineage": "course_lib.data.lineage",
    "LineageLog": "course_lib.data.lineage",
    "DatasetStore": "course_lib.data.store",
    "FAILURE_COLUMNS": "course_lib.data.validation",
    "validate_frame": "course_lib.data.validation",
    "validation_error": "course_lib.data.validation",
    "validation_report": "course_lib.data.validation",
    "MANIFEST_FORMAT": "course_lib.data.versions",
    "DatasetVersion": "course_lib.data.versions",
    "FileEntry": "course_lib.data.versions",
    "version_id": "course_lib.data.versions",
}

__all__ = [
    "FAILURE_COLUMNS",
    "LEAK_COLUMNS",
    "MANIFEST_FORMAT",
    "MASK",
    "NEAR_DUPLICATE_THRESHOLD",
    "PROMPT_REF",
    "SHINGLE_SIZE",
    "TREATMENTS",
    "ColumnAccessError",
    "ColumnPolicy",
    "DataIntegrityError",
    "DataValidationError",
    "DataVersionError",
    "DataVersionNotFoundError",
    "DatasetStore",
    "DatasetVersion",
    "EvalRecord",
    "FileEntry",
    "Lineage",
    "LineageError",
    "LineageLog",
    "Treatment",
    "canonical_bytes",
    "canonical_lines",
    "canonical_value",
    "column_types",
    "content_sha256",
    "find_leaks",
    "jaccard_matrix",
    "normalise_text",
    "remove_leaks",
    "row_texts",
    "shingles",
    "text_fingerprint",
    "validate_frame",
    "validation_error",
    "validation_report",
    "version_id",
]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
