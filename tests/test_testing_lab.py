"""Lesson 3.4's lab: the code under test, the fake provider, mutation runs and simulations."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from hypothesis import Phase, given, settings, strategies as st

from course_lib.errors import CourseLibError
from course_lib.labs import testing_lab as lab

QUIET = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=60,
    phases=[p for p in Phase if p is not Phase.explain],
)


def test_the_course_chunker_tiles_the_text() -> None:
    assert lab.chunk_words("a b c d e", 3, 1) == ["a b c", "c d e"]
    assert lab.chunk_words(" a\n b ", 5, 2) == ["a b"]
    assert lab.chunk_words("", 3, 1) == []
    with pytest.raises(ValueError):
        lab.chunk_words("a b", 2, 2)


def test_the_naive_chunker_drops_a_short_tail() -> None:
    assert lab.naive_chunk_words("a b c d e", 3, 1) == ["a b c", "c d e"]
    assert lab.naive_chunk_words("on", 2, 0) == []


@QUIET
@given(
    obj=st.dictionaries(st.text("abc", max_size=3), st.integers() | st.text('{}[]"', max_size=4)),
    before=st.text("Here is:\n", max_size=8),
)
def test_parse_reply_reads_back_any_object(obj: dict[str, object], before: str) -> None:
    assert lab.parse_reply(before + json.dumps(obj) + " done") == obj


def test_the_naive_parser_breaks_on_nested_objects() -> None:
    with pytest.raises(json.JSONDecodeError):
        lab.naive_parse_reply('{"a": {}}')
    with pytest.raises(ValueError):
        lab.parse_reply("no object here")


def test_minimal_failure_returns_the_shrunk_example() -> None:
    @QUIET
    @given(words=st.lists(st.sampled_from(["on", "call"]), max_size=10), size=st.integers(1, 4))
    def keeps_words(words: list[str], size: int) -> None:
        chunks = lab.naive_chunk_words(" ".join(words), size, 0)
        assert [w for c in chunks for w in c.split()] == words

    found = lab.minimal_failure(keeps_words)
    assert found is not None
    assert found.startswith("keeps_words(words=['on'], size=2)")
    assert lab.minimal_failure(lambda: None) is None


def test_visible_bugs_differ_from_the_course_chunker() -> None:
    for name, buggy in lab.visible_buggy_chunkers().items():
        cases = [("a b c d e", 3, 1), ("on", 2, 0), ("", 2, 0), ("a b c d", 2, 1)]
        outputs = []
        for case in cases:
            try:
                outputs.append(buggy(*case) == lab.chunk_words(*case))
            except ValueError:
                outputs.append(False)
        try:
            buggy("a b c", 3, 3)
            outputs.append(False)
        except ValueError:
            outputs.append(True)
        assert not all(outputs), name


def test_fake_client_records_and_refuses_unscripted_calls() -> None:
    fake = lab.FakeChatClient(["Monday [oncall-policy]. "])
    answer = lab.answer_question(fake, "When?", {"oncall-policy": "Handover is Monday."})
    assert answer == "Monday [oncall-policy]."
    assert "[oncall-policy] Handover" in fake.requests[0]["messages"][1]["content"]
    with pytest.raises(CourseLibError, match="script one reply"):
        lab.answer_question(fake, "Again?", {})
    with pytest.raises(CourseLibError):
        lab.FakeChatClient("one string")
    with pytest.raises(CourseLibError):
        lab.answer_question(lab.FakeChatClient(["x"]), "  ", {})


def test_snapshot_records_matches_and_diffs(tmp_path) -> None:
    golden = tmp_path / "g.txt"
    assert lab.check_snapshot(golden, "a\nb\n").status == "recorded"
    assert lab.check_snapshot(golden, "a\nb\n").status == "matches"
    changed = lab.check_snapshot(golden, "a\nc\n")
    assert changed.status == "differs" and "-b" in changed.diff and "+c" in changed.diff
    assert golden.read_text() == "a\nb\n"
    assert lab.check_snapshot(golden, "a\nc\n", update=True).status == "recorded"


def test_acceptance_rates_match_the_binomial() -> None:
    assert lab.acceptance_rates(1, 1, 0.9, seed=1) == pytest.approx(0.9, abs=0.01)
    assert lab.acceptance_rates(10, 10, 0.9, seed=1) == pytest.approx(0.9**10, abs=0.01)
    assert lab.acceptance_rates(5, 0, 0.1) == 1.0
    for bad in ((0, 0, 0.9), (5, 0.8, 0.9), (5, 4, 1.5)):
        with pytest.raises(CourseLibError):
            lab.acceptance_rates(*bad)  # type: ignore[arg-type]


def test_false_alarm_table_columns_and_trend() -> None:
    table = lab.false_alarm_table((1, 10, 50), trials=4000, seed=0)
    assert list(table["min passes"]) == [1, 8, 40]
    alarms = table["all must pass: false alarms"].tolist()
    assert alarms == sorted(alarms)
    assert table["threshold: false alarms"].iloc[-1] < 0.05


def test_mutation_runner_agrees_with_cosmic_ray(tmp_path) -> None:
    repo = lab.mutation_repo(tmp_path / "mutation")
    repo.run("cosmic-ray", "init", "examples.toml", "examples.sqlite")
    repo.run("cr-filter-operators", "examples.sqlite", "examples.toml")
    repo.run("cosmic-ray", "exec", "examples.toml", "examples.sqlite")
    real = lab.mutation_outcomes(repo.file("examples.sqlite"))
    ours = lab.run_mutants(repo, "test_examples.py")
    assert ours.equals(real)
    after = lab.run_mutants(repo, "test_properties.py", killed_before=ours)
    killed = (after["outcome"] == "killed").sum()
    assert killed > (ours["outcome"] == "killed").sum()
    assert lab.reopen_survivors(repo.file("examples.sqlite"), repo.file("p.sqlite")) == (
        (ours["outcome"] == "survived").sum()
    )
    pending = lab.mutation_outcomes(repo.file("p.sqlite"))
    assert (pending["outcome"] == "pending").sum() == (ours["outcome"] == "survived").sum()
    with pytest.raises(CourseLibError):
        lab.mutation_outcomes(tmp_path / "missing.sqlite")


def test_key_is_redacted_and_course_tests_listed() -> None:
    from course_lib.labs import course_repository

    key = lab.lesson_key()
    assert key not in lab.redact(key) and lab.redact(key).startswith(key[:4])
    kinds = lab.course_test_kinds(course_repository())
    if kinds:  # None when course_lib is installed as a package
        *layers, recorded = kinds.values()
        assert all(layers) and not recorded  # no cassettes: the tests call the local stand-in
    assert lab.course_test_kinds(None) == {}


def test_hypothesis_home_moves_to_the_work_directory() -> None:
    from hypothesis.configuration import set_hypothesis_home_dir, storage_directory

    home = lab.keep_hypothesis_in_work_dir()
    try:
        assert home.name == "hypothesis" and home.parent.name == "lesson_3_4"
        assert storage_directory("x", intent_to_write=False).path == home / "x"
    finally:
        set_hypothesis_home_dir(None)


def test_catches_counts_assertions_and_chunker_errors_not_own_crashes() -> None:
    def round_trip(chunk: Callable[[str, int, int], list[str]]) -> None:
        assert chunk("a b c", 2, 0) == ["a b", "c"]

    def raising(text: str, size: int, overlap: int) -> list[str]:
        raise IndexError("a bug in the chunker")

    def own_crash(chunk: Callable[[str, int, int], list[str]]) -> None:
        chunk("a", 2, 0)
        raise TypeError("a bug in the test itself")

    assert lab.catches(round_trip, lab.naive_chunk_words)
    assert not lab.catches(round_trip, lab.chunk_words)
    assert lab.catches(round_trip, raising)
    with pytest.raises(TypeError):
        lab.catches(own_crash, lab.chunk_words)
