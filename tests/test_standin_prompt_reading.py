"""How the stand-in reads a prompt's permission to refuse and its length instructions."""

from __future__ import annotations

import pytest

from course_lib.standin.reading import _instructions


@pytest.mark.parametrize(
    "prompt",
    [
        "If the documents do not answer the question, say that you don't know.",
        'If the passages do not answer, say "I don\'t know".',
        "Answer from the sources. If they do not answer, say you do not know.",
    ],
)
def test_a_permission_to_say_i_dont_know_allows_refusals(prompt: str) -> None:
    assert _instructions(prompt).allow_unknown


@pytest.mark.parametrize(
    "prompt",
    [
        "Answer in at most two sentences. Never say that you don't know.",
        "Do not say I don't know; always give your best answer.",
        "Answer using the documents and never refuse.",
        "Answer in at most two sentences. don't know.",  # the words, not a permission
    ],
)
def test_a_prompt_that_forbids_or_only_names_the_refusal_does_not_allow_it(prompt: str) -> None:
    assert not _instructions(prompt).allow_unknown


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("Answer in one sentence.", 1),
        ("Answer in more than one sentence.", 3),
        ("Answer in several sentences.", 3),
        ("Use a few sentences.", 3),
        ("Answer in at most two sentences.", 2),
        ("Answer the question using the documents.", None),
    ],
)
def test_length_instructions(prompt: str, expected: int | None) -> None:
    assert _instructions(prompt).max_sentences == expected
