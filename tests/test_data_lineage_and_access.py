"""Tests of course_lib.data's lineage log and column access policy."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from course_lib.data import (
    MASK,
    ColumnAccessError,
    ColumnPolicy,
    DatasetStore,
    LineageError,
    LineageLog,
)
from course_lib.errors import AccessDeniedError, SettingsError

WHEN = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def store(tmp_path: Path) -> DatasetStore:
    return DatasetStore(tmp_path / "datasets")


def _versions(store: DatasetStore):
    table = pd.DataFrame({"id": ["a", "b"], "label": ["x", "y"]})
    v1 = store.commit("demo", table, key="id", created_by="export", message="first")
    v2 = store.commit(
        "demo", table.assign(label=["y", "y"]), key="id", created_by="ana", parent=v1, message="fix"
    )
    return v1, v2


def _record(log: LineageLog, dataset, value: float = 0.5, **overrides):
    fields = dict(
        metric="accuracy",
        value=value,
        dataset=dataset,
        split="test",
        prompt="ticket-routing@1",
        model="local-small",
        rows=2,
        created_by="nightly",
        created_at=WHEN,
    )
    fields.update(overrides)
    return log.record(**fields)


# -- lineage ---------------------------------------------------------------------------------


def test_a_result_traces_back_to_data_prompt_model_and_ancestors(
    store: DatasetStore, tmp_path: Path
) -> None:
    v1, v2 = _versions(store)
    log = LineageLog(tmp_path / "lineage.jsonl", store=store)
    first = _record(log, v1)
    second = _record(log, v2.ref, value=0.75)
    assert first.result_id.startswith("res-") and first.result_id != second.result_id
    assert second.dataset == f"demo@{v2.version}" and second.dataset_ref == v2.ref
    trace = log.trace(second.result_id[:9])
    assert trace.dataset == v2 and trace.ancestors == (v1,)
    text = trace.describe()
    assert "ticket-routing@1" in text and "local-small" in text and v1.ref in text
    assert "made by ana: fix" in text


def test_recording_the_same_result_twice_keeps_one_record(
    store: DatasetStore, tmp_path: Path
) -> None:
    v1, _ = _versions(store)
    log = LineageLog(tmp_path / "lineage.jsonl", store=store)
    a = _record(log, v1)
    b = _record(log, v1, created_at=WHEN + dt.timedelta(days=1))
    assert a == b and len(log.frame()) == 1


def test_results_filter_by_dataset_prompt_and_model(store: DatasetStore, tmp_path: Path) -> None:
    v1, v2 = _versions(store)
    log = LineageLog(tmp_path / "lineage.jsonl", store=store)
    _record(log, v1)
    _record(log, v2, prompt="ticket-routing@2")
    _record(log, v2, prompt=None, model="logreg@abc")
    assert len(log.results(dataset=v2.ref)) == 2
    assert len(log.results(prompt="ticket-routing@1")) == 1
    assert log.results(model="logreg@abc")["dataset"].tolist() == [v2.ref]
    assert log.frame()["dataset"].tolist() == [v1.ref, v2.ref, v2.ref]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"prompt": "ticket-routing"}, "name@version"),
        ({"model": ""}, "`model`"),
        ({"metric": None}, "`metric`"),
        ({"value": float("nan")}, "finite number"),
        ({"value": "0.5"}, "finite number"),
        ({"dataset": "demo"}, "a name alone"),
        ({"dataset": "demo@ffffffffffff"}, "Cannot record a result on"),
    ],
)
def test_incomplete_records_are_refused(
    store: DatasetStore, tmp_path: Path, overrides, message
) -> None:
    v1, _ = _versions(store)
    log = LineageLog(tmp_path / "lineage.jsonl", store=store)
    fields = {"dataset": v1, **overrides}
    with pytest.raises(LineageError, match=message):
        _record(log, **fields)


def test_unknown_result_ids_list_the_known_ones(store: DatasetStore, tmp_path: Path) -> None:
    v1, _ = _versions(store)
    log = LineageLog(tmp_path / "lineage.jsonl", store=store)
    known = _record(log, v1)
    with pytest.raises(LineageError, match=known.result_id):
        log.get("res-000000000000")


def test_a_log_without_a_store_still_records_and_traces(tmp_path: Path) -> None:
    log = LineageLog(tmp_path / "lineage.jsonl")
    record = _record(log, "demo@" + "a" * 64)
    assert log.trace(record.result_id).dataset is None
    assert LineageLog(tmp_path / "missing.jsonl").frame().empty


# -- column access ---------------------------------------------------------------------------


def _policy() -> ColumnPolicy:
    return ColumnPolicy(
        sensitive={"email": "personal data", "body": "free text"},
        grants={
            "lead": {"email": "clear", "body": "clear"},
            "analyst": {"email": "pseudonym", "body": "mask"},
            "engineer": {"body": "clear"},
        },
        pseudonym_key="test-key",
    )


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": ["a", "b", "c"],
            "email": ["ana@x.example", "bo@x.example", "ana@x.example"],
            "body": ["hi", None, "yo"],
            "label": ["x", "y", "x"],
        }
    )


def test_each_role_reads_what_it_is_granted() -> None:
    policy = _policy()
    assert list(policy.apply(_frame(), "lead").columns) == ["id", "email", "body", "label"]
    engineer = policy.apply(_frame(), "engineer")
    assert list(engineer.columns) == ["id", "body", "label"]
    analyst = policy.apply(_frame(), "analyst")
    assert analyst["body"].tolist()[0] == MASK and pd.isna(analyst["body"].tolist()[1])
    pseudonyms = analyst["email"].tolist()
    assert pseudonyms[0] == pseudonyms[2] != pseudonyms[1]
    assert all(p.startswith("p-") and "@" not in p for p in pseudonyms)


def test_pseudonyms_depend_on_the_key() -> None:
    other = ColumnPolicy(
        sensitive={"email": "pd"}, grants={"a": {"email": "pseudonym"}}, pseudonym_key="x"
    )
    assert other.pseudonym("ana@x.example") != _policy().pseudonym("ana@x.example")
    assert other.pseudonym(None) is None


def test_refusals_name_the_role_the_column_and_who_may_read_it() -> None:
    policy = _policy()
    with pytest.raises(ColumnAccessError, match=r"'engineer' may not read column 'email'.*lead"):
        policy.apply(_frame(), "engineer", columns=["id", "email"])
    with pytest.raises(ColumnAccessError, match="known roles: lead, analyst, engineer"):
        policy.apply(_frame(), "intern")
    with pytest.raises(ColumnAccessError, match="No column 'phone'"):
        policy.apply(_frame(), "lead", columns=["phone"])
    assert issubclass(ColumnAccessError, AccessDeniedError)
    assert issubclass(ColumnAccessError, PermissionError)


def test_a_malformed_policy_is_refused() -> None:
    with pytest.raises(SettingsError, match="not declared sensitive"):
        ColumnPolicy(sensitive={}, grants={"a": {"label": "clear"}})
    with pytest.raises(SettingsError, match="choose one of"):
        ColumnPolicy(sensitive={"email": "pd"}, grants={"a": {"email": "hash"}})  # type: ignore[dict-item]
    with pytest.raises(SettingsError, match="at least one role"):
        ColumnPolicy(sensitive={"email": "pd"}, grants={})


def test_the_store_enforces_its_policy_on_every_read(tmp_path: Path) -> None:
    plain = DatasetStore(tmp_path / "d")
    version = plain.commit("people", _frame(), key="id", created_by="t")
    guarded = DatasetStore(tmp_path / "d", policy=_policy())
    assert "email" not in guarded.read(version, role="engineer").columns
    with pytest.raises(ColumnAccessError, match=r"read people@.* as a role"):
        guarded.read(version)
    with pytest.raises(ColumnAccessError, match="no access policy"):
        plain.read(version, role="lead")
    assert policy_table_shape(_policy()) == (2, 3)


def policy_table_shape(policy: ColumnPolicy) -> tuple[int, int]:
    return pd.DataFrame(policy.table()).shape
