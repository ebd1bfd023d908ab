"""Which exercises the learner has solved: a small record that ``check`` keeps.

The record is one SQLite file in the course work directory, so it survives a kernel restart
and a new session, and ``course reset`` (which asks first) is the one way to lose it. Each
``check`` of a known exercise adds an attempt; an exercise counts as solved once any check of
it passed, because a later experiment that breaks the answer does not undo the learning.

Writing the record must never get in the learner's way: a read-only or full disk makes
:func:`record_check` do nothing rather than turn a correct answer into an error.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from course_lib.errors import WorkDirError
from course_lib.settings import CourseSettings, get_settings

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "PROGRESS_FILE",
    "LessonProgress",
    "lesson_of",
    "progress_by_lesson",
    "progress_path",
    "progress_table",
    "record_check",
    "solved_exercises",
]

PROGRESS_FILE = "progress.sqlite"
"""The record's file name inside the course work directory."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS checks (
    exercise_id TEXT PRIMARY KEY,
    attempts INTEGER NOT NULL,
    solved INTEGER NOT NULL
)
"""


@dataclass(frozen=True)
class LessonProgress:
    """One lesson's exercises: how many there are, which are solved, which remain."""

    lesson: str
    solved: tuple[str, ...]
    remaining: tuple[str, ...]

    @property
    def total(self) -> int:
        return len(self.solved) + len(self.remaining)


def lesson_of(exercise_id: str) -> str:
    """The lesson an exercise belongs to: ``"2.1"`` for ``"2.1.3"``, ``"00"`` for ``"00.1"``."""
    return exercise_id.rsplit(".", 1)[0]


def progress_path(settings: CourseSettings | None = None) -> Path:
    """Where the record lives (it need not exist yet)."""
    return (settings or get_settings()).work_dir / PROGRESS_FILE


def record_check(exercise_id: str, solved: bool, settings: CourseSettings | None = None) -> bool:
    """Adds one attempt at ``exercise_id`` to the record; returns whether it was written."""
    try:
        from course_lib.workdir import ensure_work_dir

        ensure_work_dir(settings)
        with closing(sqlite3.connect(progress_path(settings), timeout=5)) as db, db:
            db.execute(_SCHEMA)
            db.execute(
                "INSERT INTO checks (exercise_id, attempts, solved) VALUES (?, 1, ?) "
                "ON CONFLICT (exercise_id) DO UPDATE SET attempts = attempts + 1, "
                "solved = MAX(solved, excluded.solved)",
                (exercise_id, int(solved)),
            )
    except (OSError, sqlite3.Error, ValueError):
        return False
    return True


def solved_exercises(settings: CourseSettings | None = None) -> dict[str, int]:
    """Every exercise checked so far and its number of attempts, solved ones only."""
    return {
        exercise_id: attempts
        for exercise_id, (attempts, solved) in _read(settings).items()
        if solved
    }


def progress_by_lesson(
    exercise_ids: Iterable[str], settings: CourseSettings | None = None
) -> list[LessonProgress]:
    """The course's exercises (``exercise_ids``, in course order) grouped by lesson."""
    solved = solved_exercises(settings)
    lessons: dict[str, tuple[list[str], list[str]]] = {}
    for exercise_id in exercise_ids:
        done, todo = lessons.setdefault(lesson_of(exercise_id), ([], []))
        (done if exercise_id in solved else todo).append(exercise_id)
    return [
        LessonProgress(lesson, tuple(done), tuple(todo)) for lesson, (done, todo) in lessons.items()
    ]


def progress_table(settings: CourseSettings | None = None) -> pd.DataFrame:
    """The learner's progress as a table, one row per lesson: what a notebook cell shows."""
    import pandas as pd

    from course_lib.course.checking import all_exercises

    lessons = progress_by_lesson([e.id for e in all_exercises()], settings)
    return pd.DataFrame(
        [
            (p.lesson, f"{len(p.solved)}/{p.total}", ", ".join(p.remaining) or "all solved")
            for p in lessons
        ],
        columns=["lesson", "solved", "to do"],
    ).set_index("lesson")


def _read(settings: CourseSettings | None) -> dict[str, tuple[int, int]]:
    path = progress_path(settings)
    if not path.is_file():
        return {}
    try:
        with closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=5)) as db:
            rows = db.execute("SELECT exercise_id, attempts, solved FROM checks").fetchall()
    except sqlite3.Error as exc:
        raise WorkDirError(
            f"The progress record {str(path)!r} cannot be read ({exc}); delete that file "
            "(or run 'course reset') to start a new record."
        ) from None
    return {str(row[0]): (int(row[1]), int(row[2])) for row in rows}
