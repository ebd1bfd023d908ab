"""The course datasets' error."""

from __future__ import annotations

from course_lib.errors import CourseLibError

__all__ = ["DatasetError"]


class DatasetError(CourseLibError, ValueError):
    """A bundled dataset was asked for in a way it does not exist (unknown split, version...)."""
