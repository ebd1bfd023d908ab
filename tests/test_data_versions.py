"""Tests of course_lib.data's versions: the canonical hash, the store, and the validation gate."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import pandas as pd
import pandera.pandas as pa
import pytest

from course_lib.data import (
    DataIntegrityError,
    DatasetStore,
    DatasetVersion,
    DataValidationError,
    DataVersionError,
    DataVersionNotFoundError,
    canonical_bytes,
    canonical_value,
    content_sha256,
    validate_frame,
    validation_report,
    version_id,
)
from course_lib.errors import CourseLibError


def _table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": ["a", "b", "c"],
            "text": ["one", "", "three"],
            "label": ["x", "y", None],
            "n": [1, 2, 3],
            "score": [0.5, 1.0, 2.25],
        }
    )


# -- canonical form ---------------------------------------------------------------------------


def test_the_hash_ignores_row_order_column_order_and_the_index() -> None:
    table = _table()
    shuffled = table.iloc[[2, 0, 1]][["score", "label", "id", "n", "text"]]
    assert content_sha256(table) == content_sha256(shuffled)
    assert content_sha256(table) == content_sha256(table.set_index("id", drop=False))


@pytest.mark.parametrize(
    "change",
    [
        lambda t: t.assign(text=["one", "", "three!"]),
        lambda t: pd.concat([t, t.iloc[[0]]]),
        lambda t: t.iloc[:2],
        lambda t: t.assign(label=["y", "x", None]),
        lambda t: t.assign(text=["one", None, "three"]),
        lambda t: t.assign(n=[1.0, 2.0, 3.0]),
    ],
    ids=["edit", "duplicate", "removal", "swap", "empty-vs-missing", "int-vs-float"],
)
def test_the_hash_notices_every_change_of_content(change) -> None:
    table = _table()
    assert content_sha256(table) != content_sha256(change(table.copy()))


def test_canonical_bytes_are_sorted_json_lines_by_key() -> None:
    data = canonical_bytes(_table().iloc[::-1], key="id").decode("utf-8")
    lines = data.splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["a", "b", "c"]
    assert data.endswith("\n")
    assert lines[2] == '{"id":"c","label":null,"n":3,"score":2.25,"text":"three"}'


def test_canonical_values_cover_missing_markers_numpy_and_time() -> None:
    import numpy as np

    assert canonical_value(float("nan")) is None
    assert canonical_value(pd.NaT) is None
    assert canonical_value(np.int64(3)) == 3 and isinstance(canonical_value(np.int64(3)), int)
    assert canonical_value(np.bool_(True)) is True
    stamp = pd.Timestamp("2026-11-02T09:00:00Z")
    assert canonical_value(stamp) == "2026-11-02T09:00:00+00:00"
    assert canonical_value(dt.date(2026, 1, 2)) == "2026-01-02"


def test_unsupported_values_fail_with_the_column_named() -> None:
    with pytest.raises(DataVersionError, match=r"'weight'.*infinity"):
        content_sha256(pd.DataFrame({"weight": [math.inf]}))
    with pytest.raises(DataVersionError, match=r"'blob'.*Convert the column"):
        content_sha256(pd.DataFrame({"blob": [object()]}))
    with pytest.raises(DataVersionError, match="Key column 'id'"):
        canonical_bytes(pd.DataFrame({"x": [1]}), key="id")


def test_version_id_depends_on_file_names_and_hashes_not_order() -> None:
    assert version_id({"a": "1", "b": "2"}) == version_id({"b": "2", "a": "1"})
    assert version_id({"a": "1", "b": "2"}) != version_id({"a": "2", "b": "1"})


# -- the store -------------------------------------------------------------------------------


@pytest.fixture
def store(tmp_path: Path) -> DatasetStore:
    return DatasetStore(tmp_path / "datasets")


WHEN = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.timezone.utc)


def _commit(store: DatasetStore, table: pd.DataFrame, **kwargs) -> DatasetVersion:
    files = {"train": table.iloc[:2], "test": table.iloc[2:]}
    return store.commit("demo", files, key="id", created_by="tests", created_at=WHEN, **kwargs)


def test_commit_writes_a_manifest_and_read_returns_the_table(store: DatasetStore) -> None:
    v1 = _commit(store, _table(), message="first")
    assert v1.ref == f"demo@{v1.version[:12]}" and len(v1.version) == 64
    assert v1.rows == {"test": 1, "train": 2}
    assert v1.created_at == "2026-11-02T09:00:00+00:00" and v1.parent is None
    back = store.read(v1.ref, "train")
    pd.testing.assert_frame_equal(back, _table().iloc[:2].reset_index(drop=True))
    assert back["text"].tolist() == ["one", ""]  # an empty string stays empty
    assert store.read(v1, "test")["label"].isna().all()
    assert "demo@" in v1.describe() and "train" in v1.describe()


def test_equal_content_is_the_same_version_and_keeps_the_first_manifest(
    store: DatasetStore,
) -> None:
    v1 = _commit(store, _table(), message="first")
    again = _commit(store, _table()[["score", "n", "label", "text", "id"]], message="second")
    assert again == v1 and again.message == "first"
    assert len(store.history("demo")) == 1


def test_files_are_read_only_and_tampering_is_caught(store: DatasetStore) -> None:
    v1 = _commit(store, _table())
    path = store.object_path(v1, "train")
    assert path.stat().st_mode & 0o777 == 0o444
    path.chmod(0o644)
    path.write_bytes(path.read_bytes().replace(b"one", b"eno"))
    with pytest.raises(DataIntegrityError, match="changed after it was written"):
        store.read(v1, "train")
    with pytest.raises(DataIntegrityError):
        store.verify(v1)


def test_an_unchanged_file_is_stored_once(store: DatasetStore) -> None:
    v1 = _commit(store, _table())
    table = _table()
    table.loc[0, "text"] = "uno"
    v2 = _commit(store, table, parent=v1)
    assert v2.parent == v1.version and v2.parent_ref == v1.ref
    assert v1.file("test").sha256 == v2.file("test").sha256
    assert len(list((store.root / "objects").glob("*/*.jsonl"))) == 3


def test_diff_names_added_removed_changed_and_duplicated_rows(store: DatasetStore) -> None:
    v1 = _commit(store, _table())
    table = _table()
    table.loc[0, "label"] = "z"
    table = pd.concat([table.drop(index=1), table.iloc[[2]]])
    table.loc[len(table)] = ["d", "four", "x", 4, 4.0]
    v2 = store.commit("demo", {"train": table}, key="id", created_by="tests", parent=v1)
    diff = store.diff(v1, v2).set_index(["file", "key"])["change"].to_dict()
    assert diff[("train", "a")] == "changed"
    assert diff[("train", "b")] == "removed"
    assert diff[("train", "c")] == "added" and diff[("test", "c")] == "removed"
    assert diff[("train", "d")] == "added"
    columns = store.diff(v1, v2).set_index(["file", "key"])["columns"]
    assert columns[("train", "a")] == "label"


def test_references_resolve_by_prefix_latest_and_name(store: DatasetStore) -> None:
    v1 = _commit(store, _table())
    table = _table()
    table.loc[1, "n"] = 20
    v2 = _commit(store, table, parent=v1.ref)
    assert store.get("demo").version == v2.version
    assert store.get("demo@latest").version == v2.version
    assert store.get(f"demo@{v1.version[:8]}").version == v1.version
    assert store.history_frame("demo")["version"].tolist() == [v1.ref, v2.ref]


@pytest.mark.parametrize(
    ("ref", "error", "message"),
    [
        ("demo@ffffffffffff", DataVersionNotFoundError, "No version 'demo@ffffffffffff'; demo"),
        ("demo@ab", DataVersionError, "too short"),
        ("other", DataVersionNotFoundError, "No dataset 'other'"),
        ("Bad Name@1", DataVersionError, "not allowed"),
        (42, DataVersionError, "text such as"),
    ],
)
def test_bad_references_get_clear_errors(store: DatasetStore, ref, error, message) -> None:
    _commit(store, _table())
    with pytest.raises(error, match=message):
        store.get(ref)


def test_read_names_the_files_when_one_is_needed(store: DatasetStore) -> None:
    v1 = _commit(store, _table())
    with pytest.raises(DataVersionError, match=r"2 files .*say which one"):
        store.read(v1)
    with pytest.raises(DataVersionNotFoundError, match="no file 'dev'"):
        store.read(v1, "dev")


def test_commit_refuses_empty_anonymous_or_badly_named_input(store: DatasetStore) -> None:
    with pytest.raises(DataVersionError, match="Nothing to commit"):
        store.commit("demo", {}, key="id", created_by="t")
    with pytest.raises(DataVersionError, match="created_by"):
        store.commit("demo", _table(), key="id", created_by=" ")
    with pytest.raises(DataVersionError, match="File name 'Train'"):
        store.commit("demo", {"Train": _table()}, key="id", created_by="t")
    with pytest.raises(DataVersionNotFoundError):
        store.commit("demo", _table(), key="id", created_by="t", parent="demo@abcdef123456")


def test_errors_subclass_the_course_base_and_the_builtin() -> None:
    assert issubclass(DataVersionNotFoundError, KeyError)
    assert issubclass(DataIntegrityError, ValueError)
    assert issubclass(DataValidationError, CourseLibError)
    assert str(DataVersionNotFoundError("No version 'x'.")) == "No version 'x'."


def test_timestamps_and_numbers_come_back_with_their_types(store: DatasetStore) -> None:
    table = pd.DataFrame(
        {
            "id": [1, 2],
            "when": pd.to_datetime(["2026-01-01T10:00:00Z", "2026-01-02T11:30:00Z"], utc=True),
            "ok": [True, False],
            "x": [0.1, 0.2],
        }
    )
    version = store.commit("typed", table, key="id", created_by="t")
    back = store.read(version)
    assert back.dtypes.astype(str).tolist() == table.dtypes.astype(str).tolist()
    pd.testing.assert_frame_equal(back, table)


# -- validation ------------------------------------------------------------------------------


def _schema() -> pa.DataFrameSchema:
    return pa.DataFrameSchema(
        {
            "id": pa.Column(str, unique=True),
            "label": pa.Column(str, pa.Check.isin(["x", "y"]), nullable=True),
        }
    )


def test_validation_report_names_rows_by_key() -> None:
    table = _table()
    table.loc[1, "label"] = "q"
    table.loc[2, "id"] = "a"
    report = validation_report(table, _schema(), key="id")
    assert set(report["column"]) == {"id", "label"}
    assert "b" in set(report["row"]) and "a" in set(report["row"])
    assert validation_report(_table(), _schema()).empty


def test_validate_frame_raises_one_readable_error() -> None:
    table = _table()
    table.loc[1, "label"] = "q"
    with pytest.raises(DataValidationError) as caught:
        validate_frame(table, _schema(), key="id", name="demo/train")
    message = str(caught.value)
    assert "1 problem(s) in demo/train" in message and "row b: label = 'q'" in message
    assert len(caught.value.failures) == 1
    with pytest.raises(TypeError, match="pandera schema"):
        validate_frame(table, {"id": str})


def test_a_commit_with_a_schema_writes_nothing_unless_every_file_passes(
    store: DatasetStore,
) -> None:
    table = _table()
    table.loc[2, "label"] = "bad"
    files = {"train": table.iloc[:2], "test": table.iloc[2:]}
    with pytest.raises(
        DataValidationError, match=r"nothing was written.*test row c: label = 'bad'"
    ):
        store.commit("demo", files, key="id", created_by="t", schema=_schema())
    assert not (store.root / "demo").exists()
