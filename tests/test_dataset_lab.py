"""Tests of lesson 2.6's bench: course_lib.labs.dataset_lab and course_lib.labs.dvc_lab."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from course_lib.data import DatasetStore, find_leaks, validation_report
from course_lib.errors import OptionalDependencyError
from course_lib.labs import (
    EXPORT_COLUMNS,
    LEAK_TARGETS,
    DvcCommandError,
    DvcRepo,
    calibration_similarities,
    cleaning_day,
    evaluate_routers,
    file_md5,
    leak_gap,
    leak_pairs,
    leak_score,
    plant_leaks,
    reference_flag_leaks,
    service_desk_export,
    split_files,
    ticket_schema,
)


@pytest.fixture(scope="module")
def export() -> pd.DataFrame:
    return service_desk_export()


def test_the_export_is_the_bundled_tickets_with_a_planted_reporter(export) -> None:
    assert tuple(export.columns) == EXPORT_COLUMNS and len(export) == 720
    assert export["reporter"].str.endswith("@kestrel.example").all()
    assert export.groupby("reporter")["reporter_team"].nunique().max() == 1
    assert service_desk_export().equals(export)  # a fresh, identical copy each call
    assert validation_report(export, ticket_schema(), key="id").empty


def test_the_cleaning_day_plants_what_the_lesson_finds(export) -> None:
    day = cleaning_day(export, seed=0)
    assert len(day.relabelled) == 6 and len(day.leaks) == 40
    assert day.leaks["kind"].value_counts().to_dict() == {
        "light": 14,
        "exact": 12,
        "heavy": 10,
        "forwarded": 4,
    }
    assert len(day.frame) == len(export) + 40 + 1  # the copies, and one pasted row
    report = validation_report(day.frame, ticket_schema(), key="id")
    assert set(report["row"]) == set(day.bad_rows["id"])
    changed = day.frame.set_index("id").loc[list(day.relabelled), "category"]
    assert (changed != export.set_index("id").loc[list(day.relabelled), "category"]).all()
    assert cleaning_day(export, seed=0).frame.equals(day.frame)
    assert not cleaning_day(export, seed=7).frame.equals(day.frame)


def test_planted_leaks_are_copies_of_test_tickets(export) -> None:
    copies, truth = plant_leaks(export, seed=3, exact=2, light=2, heavy=2, forwarded=2)
    assert set(copies["split"]) == {"train"} and copies["id"].str.match(r"TCK-07\d\d").all()
    sources = export.set_index("id")
    assert set(sources.loc[truth["test_key"], "split"]) == {"test"}
    assert truth["test_key"].is_unique
    by_id = copies.set_index("id")
    exact = truth[truth["kind"] == "exact"]
    for copy_id, source in zip(exact["train_key"], exact["test_key"], strict=True):
        assert by_id.loc[copy_id, "body"] == sources.loc[source, "body"]
    forwarded = truth[truth["kind"] == "forwarded"]
    for copy_id in forwarded["train_key"]:
        assert "Forwarded message" in by_id.loc[copy_id, "body"]
    with pytest.raises(ValueError, match="style"):
        plant_leaks(export, style="outlook")


def test_forwarded_copies_leave_the_other_copies_of_a_seed_as_they_were(export) -> None:
    without, _ = plant_leaks(export, seed=0, forwarded=0)
    with_them, truth = plant_leaks(export, seed=0)
    assert with_them.head(len(without)).equals(without)
    assert list(truth["kind"].tail(4)) == ["forwarded"] * 4


def test_split_files_refuses_unknown_splits(export) -> None:
    files = split_files(export)
    assert {name: len(frame) for name, frame in files.items()} == {"train": 584, "test": 136}
    with pytest.raises(ValueError, match="Test"):
        split_files(export.assign(split="Test"))


def _best_share(train: pd.DataFrame, test: pd.DataFrame) -> pd.Series:
    """Per train row, the highest share of the smaller text found in a test row."""
    from course_lib.data import row_texts, shingles

    tests = [shingles(t) for t in row_texts(test, ["subject", "body"])]
    shares = []
    for text in row_texts(train, ["subject", "body"]):
        own = shingles(text)
        shares.append(max(len(own & t) / max(min(len(own), len(t)), 1) for t in tests))
    return pd.Series(shares, index=list(train["id"]))


def test_the_held_out_planting_is_harder_on_both_sides() -> None:
    """Genuine rows come closer to test rows, and copies stray further, than when tuning."""
    sides = {}
    for which in ("tune", "heldout"):
        train, test, planted = leak_pairs(which)
        share = _best_share(train, test)
        sides[which] = (share[~share.index.isin(planted)], share[share.index.isin(planted)])
    (tune_genuine, tune_copies), (held_genuine, held_copies) = sides["tune"], sides["heldout"]
    assert tune_genuine.max() < tune_copies.min()  # a gap to tune in
    assert held_genuine.nlargest(3).min() > tune_genuine.max() + 0.03  # its low edge fails
    assert held_copies.nsmallest(3).max() < tune_copies.min() - 0.02  # and its high edge
    middle = (tune_genuine.max() + tune_copies.min()) / 2
    assert held_genuine.max() < middle - 0.03 and held_copies.nsmallest(3).max() > middle + 0.05
    train, _, planted = leak_pairs("heldout")
    assert len(planted) == 40 and set(planted) <= set(train["id"])
    assert len(train) == 584 + 40 + 30 and len(leak_pairs("tune")[0]) == 584 + 40


def test_the_library_default_misses_forwarded_copies_and_the_reference_does_not() -> None:
    from course_lib.course.exercises.lesson_2_6 import flag_leaks

    def library(train, test):
        return find_leaks(train, test)["train_key"]

    recall, _ = LEAK_TARGETS
    tuned = leak_score(library, "tune")
    assert tuned.recall < recall and tuned.false_flags == 0
    _, _, planted = leak_pairs("tune")
    assert len(tuned.missed) == 4 and set(tuned.missed) <= planted
    assert leak_score(library, "heldout").recall < recall
    for which in ("tune", "heldout"):
        score = leak_score(flag_leaks, which)
        assert score.recall == 1.0 and score.false_flags == 0, (which, score)


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / max(len(a | b), 1)


def _share(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / max(min(len(a), len(b)), 1)


def test_leak_gap_shows_jaccards_overlap_and_the_shares_gap() -> None:
    jaccard = leak_gap(_jaccard)
    assert list(jaccard.index) == ["exact", "light", "heavy", "forwarded", "genuine"]
    assert jaccard.loc["genuine", "count"] == 584 and jaccard["count"].sum() == 624
    assert jaccard.loc["forwarded", "min"] < jaccard.loc["genuine", "max"]  # no gap
    share = leak_gap(_share)
    copies = share.drop(index="genuine")["min"].min()
    assert share.loc["genuine", "max"] < 0.7 < copies  # the reference threshold is in the gap


def test_leak_gap_explains_a_broken_similarity() -> None:
    with pytest.raises(TypeError, match="similarity"):
        leak_gap(0.4)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="two sets of shingles"):
        leak_gap(lambda a, b: 1 / 0)


def test_the_labs_reference_detector_is_the_checkers() -> None:
    from course_lib.course.exercises.lesson_2_6 import flag_leaks

    assert flag_leaks is reference_flag_leaks
    train, test, planted = leak_pairs("tune")
    assert set(reference_flag_leaks(train, test)) == planted
    assert reference_flag_leaks(train.iloc[:0], test) == []


def test_leak_score_explains_unusable_answers() -> None:
    assert "None" in leak_score(lambda train, test: None).problem
    assert "str" in leak_score(lambda train, test: "TCK-0001").problem
    assert "not train ids" in leak_score(lambda train, test: ["nope"]).problem
    train, _, planted = leak_pairs("tune")
    genuine = next(key for key in train["id"] if key not in planted)
    wrong = leak_score(lambda train, test: [genuine])
    assert wrong.wrongly_flagged == (genuine,) and len(wrong.missed) == 40 and not wrong.problem
    with pytest.raises(ValueError, match="'tune' or 'heldout'"):
        leak_pairs("dev")


def test_the_calibration_separates_edited_copies_but_not_forwarded_ones() -> None:
    frame = calibration_similarities()
    edited = frame.loc[frame["kind"].isin(["exact", "light", "heavy"]), "similarity"]
    highest_genuine = frame.loc[frame["kind"] == "genuine", "similarity"].max()
    assert highest_genuine < 0.4 < edited.min()
    assert frame.loc[frame["kind"] == "forwarded", "similarity"].max() < 0.4


def test_evaluate_routers_reports_both_figures_with_their_lineage(export) -> None:
    small = pd.concat(
        [export[export["split"] == "train"].head(200), export[export["split"] == "test"].head(20)]
    )
    zero_shot, trained = evaluate_routers(small, seed=0, every=2)
    assert zero_shot.prompt == "ticket-routing@1" and zero_shot.rows == 10
    assert zero_shot.model and 0 <= zero_shot.accuracy <= 1
    assert trained.prompt is None and trained.model.startswith("logreg-wordllama@")
    assert trained.rows == 20
    assert evaluate_routers(small, seed=0, every=2) == [zero_shot, trained]


# -- DVC ------------------------------------------------------------------------------------


def test_dvc_versions_a_file_and_brings_an_old_one_back(tmp_path: Path, export) -> None:
    with DvcRepo.create(tmp_path / "dvc") as repo:
        first = repo.write_csv(export.head(50), "tickets.csv")
        md5 = file_md5(first)
        repo.dvc("add", "tickets.csv")
        repo.git("add", "tickets.csv.dvc", ".gitignore", ".dvc/config")
        commit = repo.commit("first")
        repo.dvc("push")
        repo.write_csv(export.head(60), "tickets.csv")
        repo.dvc("add", "tickets.csv")
        repo.git("add", "tickets.csv.dvc")
        repo.commit("second")
        assert repo.pointer("tickets.csv")["md5"] != md5
        repo.git("checkout", commit, "--", "tickets.csv.dvc")
        repo.dvc("checkout", "tickets.csv")
        assert file_md5(repo.path / "tickets.csv") == md5 == repo.pointer("tickets.csv")["md5"]
        assert len(repo.cache_objects()) == 2 and len(repo.remote_objects()) == 1
        assert "$ dvc add tickets.csv" in repo.transcript()
        assert str(tmp_path) not in repo.transcript()
        with pytest.raises(DvcCommandError, match=r"dvc checkout nothing\.csv"):
            repo.dvc("checkout", "nothing.csv")


def test_commits_are_the_same_on_every_run(tmp_path: Path) -> None:
    ids = []
    for name in ("a", "b"):
        with DvcRepo.create(tmp_path / name) as repo:
            (repo.path / "note.txt").write_text("same\n")
            repo.git("add", "note.txt")
            ids.append(repo.commit("same commit"))
    assert ids[0] == ids[1]


def test_missing_git_is_explained(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(OptionalDependencyError, match="needs git"):
        DvcRepo.create(tmp_path / "dvc")


def test_missing_dvc_is_explained(monkeypatch, tmp_path: Path) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "dvc" else real(name, *a)
    )
    with pytest.raises(OptionalDependencyError, match="pip install dvc"):
        DvcRepo.create(tmp_path / "dvc")


def test_the_store_round_trips_the_export(tmp_path: Path, export) -> None:
    store = DatasetStore(tmp_path / "datasets")
    version = store.commit("tickets", split_files(export), key="id", created_by="t")
    back = pd.concat([store.read(version, "train"), store.read(version, "test")])
    pd.testing.assert_frame_equal(
        back.sort_values("id").reset_index(drop=True),
        export.sort_values("id").reset_index(drop=True),
    )


def test_the_schema_checker_copes_with_table_wide_rules() -> None:
    """A rule over the whole table names no row: the checker then tries each defect alone."""
    import pandera.pandas as pa

    from course_lib.course.checking import evaluate

    columns = dict(ticket_schema().columns)
    columns["body"] = pa.Column(str)
    table_wide = pa.DataFrameSchema(
        columns, checks=pa.Check(lambda df: bool((df["body"].str.strip().str.len() > 0).all()))
    )
    feedback = evaluate("2.6.2", table_wide)
    assert feedback.solved, feedback.line
    columns["body"] = pa.Column(str, nullable=True)
    loose = pa.DataFrameSchema(columns)
    assert "body = '   \\n'" in evaluate("2.6.2", loose).line


def test_the_lab_schema_is_the_reference_and_check_refuses_it() -> None:
    """``ticket_schema()`` hands back the checker's reference object, which check refuses."""
    from course_lib.course import check
    from course_lib.course.errors import ExerciseNotSolvedError
    from course_lib.course.exercises.lesson_2_6 import TICKET_SCHEMA

    assert ticket_schema() is ticket_schema() is TICKET_SCHEMA
    try:
        feedback = check("2.6.2", ticket_schema())
    except ExerciseNotSolvedError as error:  # strict mode raises instead
        assert "reference" in str(error)
    else:
        assert not feedback.solved and "reference" in feedback.line
