"""The classroom side of course_lib: exercise checks, hints, building and checking lessons.

Lessons import from here: ``from course_lib.course import check, hint, answer_or_reference``.
"""

from course_lib.course.checking import answer_or_reference, check, hint

__all__ = ["answer_or_reference", "check", "hint"]
