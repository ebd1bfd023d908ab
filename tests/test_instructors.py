"""The instructor guide's generated parts follow the lessons, and its tracks fit their days.

``tools/instructors/build.py`` writes the lesson times, the tracks, the common mistakes and the
class cost into ``docs/instructors.md``; here its ``--check`` must pass on the committed guide,
and the arithmetic that decides whether a track fits is pinned on made-up lessons.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _builder() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "instructors_build", ROOT / "tools" / "instructors" / "build.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


build = _builder()


def _lesson(number: str, minutes: int, *exercises: tuple[str, str, bool]) -> object:
    return build.LessonFacts(number, f"Lesson {number}", minutes, exercises, f"{number}.py")


def test_the_committed_guide_is_up_to_date(capsys: pytest.CaptureFixture[str]) -> None:
    assert build.main(["--check"]) == 0, capsys.readouterr().err


def test_every_lesson_has_a_stated_time_and_is_in_a_track_or_skipped() -> None:
    facts = build.lesson_facts()
    assert facts and all(f.minutes > 0 for f in facts)
    numbers = {f.number for f in facts}
    for track in build.TRACKS:
        assert set(track.teach) <= numbers and set(track.assign) <= numbers, track.name
        assert not set(track.teach) & set(track.assign), track.name


def test_a_track_over_its_time_is_refused_with_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(build, "TRACKS", (build.Track("Short", 60, ("1.1", "1.2"), (), "x"),))
    facts = [_lesson("1.1", 40), _lesson("1.2", 30)]
    with pytest.raises(SystemExit, match=r"Short: the lessons taught take 70 min, over its 60"):
        build.tracks_part(facts)


def test_a_track_naming_a_missing_lesson_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(build, "TRACKS", (build.Track("Short", 60, ("9.9",), (), "x"),))
    with pytest.raises(SystemExit, match=r"no lesson 9\.9"):
        build.tracks_part([_lesson("1.1", 40)])


def test_lessons_table_marks_open_ended_exercises_and_totals_the_time() -> None:
    table = build.lessons_part(
        [_lesson("1.1", 40, ("1.1.1", "a", False), ("1.1.2", "b", True)), _lesson("1.2", 20)]
    )
    assert "| 1.1 Lesson 1.1 | 40 | 1.1.1, **1.1.2** |" in table
    assert "| all 2 lessons | 60 (1.0 h) | |" in table


def test_markers_missing_from_the_guide_give_one_clear_line() -> None:
    with pytest.raises(SystemExit, match="lacks the markers <!-- instructors:cost:start -->"):
        build.replace_part("no markers here", "cost", "body")
