"""The classroom side of course_lib: exercise checks, hints, building and checking lessons.

Lessons import from here: ``from course_lib.course import check, hint, answer_or_reference``.
Importing this package is cheap: each name loads its module on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from course_lib._lazy import lazy_exports

if TYPE_CHECKING:
    from course_lib.course.checking import answer_or_reference, check, hint
    from course_lib.course.code_size import (
        MODEL_CALL_CONCERN,
        measure_code_size,
        plot_code_boxes,
    )
    from course_lib.course.doctor import run_checks
    from course_lib.course.progress import progress_table

_EXPORTS = {
    "answer_or_reference": "course_lib.course.checking",
    "check": "course_lib.course.checking",
    "hint": "course_lib.course.checking",
    "MODEL_CALL_CONCERN": "course_lib.course.code_size",
    "measure_code_size": "course_lib.course.code_size",
    "plot_code_boxes": "course_lib.course.code_size",
    "run_checks": "course_lib.course.doctor",
    "progress_table": "course_lib.course.progress",
}

__all__ = [
    "MODEL_CALL_CONCERN",
    "answer_or_reference",
    "check",
    "hint",
    "measure_code_size",
    "plot_code_boxes",
    "progress_table",
    "run_checks",
]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
