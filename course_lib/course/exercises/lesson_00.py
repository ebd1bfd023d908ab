"""Checkers of lesson 00, "Start here"."""

from __future__ import annotations

from typing import Any

from course_lib.course.checking import NotYet, Probe, exercise
from course_lib.course.code_size import count_code_lines

SOLUTION = "solutions/0_start_here/00_start_here.ipynb"

# (source, expected count, why) – cases the learner has not seen in the lesson.
_LINE_CASES: list[tuple[str, int, str]] = [
    ("", 0, "an empty file has no code"),
    ("x = 1\n", 1, "one statement is one line of code"),
    ("\n\n   \n\t\n", 0, "blank lines, even with spaces or tabs, are not code"),
    ("# a comment\n    # an indented comment\n", 0, "comment-only lines are not code"),
    ("total = 2  # the total\n", 1, "a line with code and a trailing comment is code"),
    ('print("# not a comment")\n', 1, "a '#' inside a string does not start a comment"),
    (
        '"""The module docstring."""\nimport os\n',
        1,
        "a module docstring is documentation, not code",
    ),
    (
        'def area(w, h):\n    """Return the area.\n\n    Multi-line docstring.\n    """\n'
        "    return w * h\n",
        2,
        "a multi-line function docstring is documentation, not code",
    ),
    (
        'class Box:\n    """A box."""\n\n    size = 3\n\n    def grow(self):\n'
        '        """Grow it."""\n        self.size += 1\n',
        4,
        "class and method docstrings are documentation, not code",
    ),
    ("total = add(\n    1,\n    2,\n)\n", 4, "every line of a multi-line statement is code"),
    (
        'query = """\nSELECT 1\n"""\n',
        3,
        "a multi-line string assigned to a name is code, not a docstring",
    ),
    ("x = 1", 1, "the last line may have no newline"),
]


@exercise(
    "00.1",
    title="Count lines of code",
    answer_name="count_code_lines",
    reference=count_code_lines,
    solution=SOLUTION,
    hints=(
        "Go line by line with source.splitlines(); a line whose .strip() is empty is blank, "
        "and one whose stripped text starts with '#' is a comment.",
        "Docstrings are harder to spot line by line. Parse the source with ast.parse(source) and "
        "walk it with ast.walk: a docstring is the first statement of a module, class or function "
        "body when that statement is an ast.Expr holding a str ast.Constant.",
        "Collect the line numbers to skip: for each docstring node d, every number in "
        "range(d.lineno, d.end_lineno + 1). Then count the lines that are not blank, not "
        "comments, and not in that set.",
    ),
)
def _check_count_code_lines(answer: Any, probe: Probe) -> str:
    for source, expected, why in _LINE_CASES:
        call = probe.describe_call(source)
        got = probe.call(answer, source)
        probe.expect_type(got, int, call)
        probe.expect_equal(got, expected, call, why)
    return f"count_code_lines counts all {len(_LINE_CASES)} hidden cases right."


# Each production concern of the Handbook Assistant, and the layer of the course that teaches it.
LAYER_OF: dict[str, int] = {
    "measure answers against a golden set of questions": 1,
    "let the model call a tool such as a search function": 1,
    "split documents into chunks and retrieve the relevant ones": 2,
    "trace every model call with its tokens and cost": 2,
    "pin every dependency in a lock file": 3,
    "keep API keys out of the repository": 3,
    "cache the answers to repeated questions": 4,
    "run model calls from a task queue with retries": 4,
}

_LAYER_NAMES = {
    1: "AI capabilities",
    2: "engineering patterns",
    3: "software engineering foundations",
    4: "infrastructure",
}


@exercise(
    "00.2",
    title="Place each concern in its layer",
    answer_name="layer_of",
    expects_function=False,
    reference=LAYER_OF,
    solution=SOLUTION,
    hints=(
        "Layer 1 is what the model itself can do and how you measure it; layer 2 is the "
        "patterns built around model calls; layer 3 is how any software is built and shipped; "
        "layer 4 is where it runs and stores things.",
        "Evaluation and tool calling are AI capabilities (1); retrieval and tracing are "
        "engineering patterns (2).",
        "Lock files and secrets are software engineering foundations (3); caches and task "
        "queues are infrastructure (4).",
    ),
)
def _check_layer_of(answer: Any, probe: Probe) -> str:
    if not isinstance(answer, dict):
        raise NotYet(
            f"layer_of should be a dict of concern -> layer, but it is a {type(answer).__name__}."
        )
    missing = [k for k in LAYER_OF if k not in answer]
    if missing:
        raise NotYet(f"layer_of has no entry for {missing[0]!r}; keep every key of the template.")
    extra = [k for k in answer if k not in LAYER_OF]
    if extra:
        raise NotYet(
            f"layer_of has an unexpected key {extra[0]!r}; keep the template's keys as they are."
        )
    for concern in LAYER_OF:
        value = answer[concern]
        if value is Ellipsis:
            raise NotYet(f"{concern!r} is still `...`; give it a layer number from 1 to 4.")
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 4:
            raise NotYet(
                f"the layer of {concern!r} should be a whole number from 1 to 4 (got {value!r})."
            )
    wrong = [k for k in LAYER_OF if answer[k] != LAYER_OF[k]]
    if wrong:
        first = wrong[0]
        raise NotYet(
            f"{len(LAYER_OF) - len(wrong)} of {len(LAYER_OF)} are in the right layer; look again "
            f"at {first!r} (it is not layer {answer[first]}, {_LAYER_NAMES[answer[first]]})."
        )
    return f"all {len(LAYER_OF)} concerns are in the right layer."
