"""Tests of course_lib.data.leakage: normalised fingerprints, shingles, Jaccard, find and remove."""

from __future__ import annotations

import pandas as pd
import pytest

from course_lib.data import (
    LEAK_COLUMNS,
    NEAR_DUPLICATE_THRESHOLD,
    DataVersionError,
    find_leaks,
    jaccard_matrix,
    normalise_text,
    remove_leaks,
    row_texts,
    shingles,
    text_fingerprint,
)

VPN = "The VPN drops every ten minutes since this morning; I have restarted the client twice."
LAPTOP = "My laptop screen flickers when I plug in the dock in the Lisbon office."
EXPENSE = "How do I claim the hotel for the customer visit in Amsterdam next week?"


def test_normalising_folds_case_punctuation_and_spacing() -> None:
    assert normalise_text("  Hello,\n\nWORLD!! ") == "hello world"
    assert normalise_text("Crème   brûlée") == "crème brûlée"
    assert normalise_text(None) == ""
    assert text_fingerprint("VPN down!") == text_fingerprint("vpn   DOWN")
    assert text_fingerprint("VPN down") != text_fingerprint("VPN up")


def test_shingles_are_five_character_pieces_of_the_normalised_text() -> None:
    assert shingles("Abcdefg") == {"abcde", "bcdef", "cdefg"}
    assert shingles("ab") == {"ab"}
    assert shingles("") == frozenset()
    with pytest.raises(ValueError, match="at least one character"):
        shingles("abc", size=0)


def test_jaccard_matrix_is_exact_on_small_sets() -> None:
    matrix = jaccard_matrix(["abcdefg", "zzzzzzz"], ["abcdefgh", "abcdefg", ""])
    assert matrix.shape == (2, 3)
    assert matrix[0, 1] == 1.0
    assert matrix[0, 0] == pytest.approx(3 / 4)  # {abcde, bcdef, cdefg} vs those + {defgh}
    assert matrix[1, 0] == 0.0 and matrix[0, 2] == 0.0
    assert jaccard_matrix([], ["a"]).shape == (0, 1)


def test_row_texts_join_columns_and_skip_missing_values() -> None:
    frame = pd.DataFrame({"subject": ["VPN", "", None], "body": ["down", "up", "x"]})
    assert row_texts(frame, ["subject", "body"]) == ["VPN\n\ndown", "up", "x"]
    with pytest.raises(DataVersionError, match="No column 'title'"):
        row_texts(frame, "title")


def _splits() -> tuple[pd.DataFrame, pd.DataFrame]:
    test = pd.DataFrame(
        {
            "id": ["t1", "t2", "t3"],
            "subject": ["VPN", "Screen", "Hotel"],
            "body": [VPN, LAPTOP, EXPENSE],
        }
    )
    train = pd.DataFrame(
        {
            "id": ["r1", "r2", "r3", "r4"],
            "subject": ["vpn", "Fwd: Screen", "Printer", ""],
            "body": [
                VPN.upper(),  # an exact copy once normalised
                "Hi team, " + LAPTOP.replace("flickers", "flikcers") + " Thanks!",  # edited
                "The printer on floor two is out of toner again.",
                "",
            ],
        }
    )
    return train, test


def test_find_leaks_reports_exact_and_near_copies_only() -> None:
    train, test = _splits()
    leaks = find_leaks(train, test)
    assert list(leaks.columns) == list(LEAK_COLUMNS)
    pairs = {(r.train_key, r.test_key): r.kind for r in leaks.itertuples()}
    assert pairs == {("r1", "t1"): "exact", ("r2", "t2"): "near"}
    assert leaks["similarity"].is_monotonic_decreasing
    assert 0 < NEAR_DUPLICATE_THRESHOLD < 1


def test_a_higher_threshold_keeps_only_the_exact_copy() -> None:
    train, test = _splits()
    assert find_leaks(train, test, threshold=0.99)["train_key"].tolist() == ["r1"]


def test_remove_leaks_drops_flagged_train_rows_and_keeps_the_rest() -> None:
    train, test = _splits()
    kept = remove_leaks(train, find_leaks(train, test))
    assert kept["id"].tolist() == ["r3", "r4"]
    with pytest.raises(DataVersionError, match="train_key"):
        remove_leaks(train, pd.DataFrame({"id": ["r1"]}))


def test_find_leaks_checks_its_arguments() -> None:
    train, test = _splits()
    with pytest.raises(ValueError, match=r"\(0, 1\]"):
        find_leaks(train, test, threshold=0)
    with pytest.raises(DataVersionError, match="no key column 'key'"):
        find_leaks(train, test, key="key")
