"""Exercise regions: the learner gets stubs, and malformed markers fail with the line."""

from __future__ import annotations

import pytest

from course_lib.course.errors import BuildError
from course_lib.course.lesson_source import DEFAULT_STUB, strip_exercise_regions


def test_region_in_a_function_becomes_the_default_stub() -> None:
    code = "def f(x):\n    # BEGIN SOLUTION\n    return 2 * x\n    # END SOLUTION\n"
    assert strip_exercise_regions(code) == f"def f(x):\n    {DEFAULT_STUB}\n"


def test_stub_lines_replace_the_region_with_their_indentation() -> None:
    code = (
        "def f(x):\n    y = 1\n    # BEGIN SOLUTION\n    return 2 * x\n    # END SOLUTION\n"
        "    # STUB: ...  # your code\n    # STUB:\n    # STUB: return 0\n"
    )
    assert (
        strip_exercise_regions(code)
        == "def f(x):\n    y = 1\n    ...  # your code\n    \n    return 0\n"
    )


def test_top_level_region_with_stub() -> None:
    code = "# BEGIN SOLUTION\nanswer = 42\n# END SOLUTION\n# STUB: answer = ...\nprint(answer)"
    assert strip_exercise_regions(code) == "answer = ...\nprint(answer)"


def test_code_without_markers_is_unchanged() -> None:
    code = "x = 1\n# an ordinary comment\n"
    assert strip_exercise_regions(code) == code


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("# BEGIN SOLUTION\nx = 1\n", "never closed"),
        ("x = 1\n# END SOLUTION\n", "without a BEGIN"),
        (
            "def f():\n    # BEGIN SOLUTION\n    # BEGIN SOLUTION\n    pass\n    # END SOLUTION\n",
            "do not nest",
        ),
        ("# BEGIN SOLUTION\nx = 1\n# END SOLUTION\n", "needs '# STUB: ...' lines"),
    ],
)
def test_malformed_markers_fail_with_place(code: str, message: str) -> None:
    with pytest.raises(BuildError, match=message) as info:
        strip_exercise_regions(code, where="solutions/x/y.py, cell 3")
    assert "solutions/x/y.py, cell 3, line" in str(info.value)
