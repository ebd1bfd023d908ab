"""Checkers of lesson 1.4, "Evaluation"."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from course_lib.course.checking import NotYet, Probe, exercise
from course_lib.labs.judge_lab import near_miss

if TYPE_CHECKING:
    from course_lib.datasets import GoldenQuestion
    from course_lib.labs.prompt_lab import HandbookAssistant, PromptTrial

SOLUTION = "solutions/1_ai_capabilities/14_evaluation.ipynb"


# -- 1.4.1 beat the naive prompt (open-ended) -------------------------------------------------

REFERENCE_PROMPT = (
    "Answer in at most two sentences, using only the documents. "
    "If the documents do not answer the question, say that you don't know."
)

# Questions far from the handbook, unseen in the lesson: a prompt that allows no refusal
# answers them from memory. They join the test split's unanswerable questions.
_OFF_TOPIC = (
    "What is the capital of Peru?",
    "Who won the football world cup in 1998?",
    "How do I bake sourdough bread at home?",
    "What is the boiling point of ethanol?",
    "Which planet has the most moons?",
    "Can you recommend a good science fiction novel?",
)
_MAX_PROMPT = 1500


@dataclass(frozen=True)
class _OffTopic:
    """An unanswerable question in the shape the runner reads."""

    id: str
    question: str
    answer: str = ""
    type: str = "unanswerable"
    answerable: bool = False


@lru_cache(maxsize=1)
def _assistant() -> HandbookAssistant:
    from course_lib.labs.prompt_lab import HandbookAssistant
    from course_lib.standin import local_client

    return HandbookAssistant(local_client())


@lru_cache(maxsize=1)
def _held_out() -> tuple[Any, ...]:
    from course_lib.datasets import load_golden_set

    test: list[GoldenQuestion] = load_golden_set("test")
    return (*test, *(_OffTopic(f"off-topic-{i}", q) for i, q in enumerate(_OFF_TOPIC)))


@lru_cache(maxsize=8)
def _trial(prompt: str) -> PromptTrial:
    from course_lib.labs.prompt_lab import trial_prompt

    return trial_prompt(_assistant(), prompt, _held_out())


def _plain(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9' ]", " ", text.lower()).split())


@exercise(
    "1.4.1",
    title="Beat the naive prompt without losing refusals",
    answer_name="MY_PROMPT",
    expects_function=False,
    reference=REFERENCE_PROMPT,
    solution=SOLUTION,
    time_limit=120.0,
    hints=(
        "Compare what each prompt gets wrong on dev: the naive one never refuses, and the "
        "careful one refuses but gains nothing on answerable questions. Read a few answers of "
        "each that the fact check scores 0: what is missing from them?",
        "Read the answers the fact check scores 0 although a cited document was sent: is the "
        "figure the reference asks for missing? The stand-in gives one sentence unless asked for "
        "more: ask for more than one, and keep the permission to say you don't know.",
        "Something like 'Answer in at most two sentences, using only the documents. If they do "
        "not answer the question, say that you don't know.' Then measure it on dev with "
        "trial_prompt before you check.",
    ),
)
def _check_prompt(answer: Any, probe: Probe) -> str:
    from course_lib.labs.prompt_lab import CAREFUL_PROMPT, NAIVE_PROMPT

    if not isinstance(answer, str):
        raise NotYet(f"MY_PROMPT is {type(answer).__name__}; write your prompt as a string.")
    if not answer.strip():
        raise NotYet("MY_PROMPT is empty; write the system prompt you want to evaluate.")
    if len(answer) > _MAX_PROMPT:
        raise NotYet(f"MY_PROMPT has {len(answer)} characters; keep it under {_MAX_PROMPT}.")
    for name, given in (("naive", NAIVE_PROMPT), ("careful", CAREFUL_PROMPT)):
        if _plain(answer) == _plain(given):
            raise NotYet(f"MY_PROMPT is the lesson's {name} prompt; write your own.")
    probe.running = "your prompt on the held-out questions"
    trial, careful = _trial(answer), _trial(CAREFUL_PROMPT)
    probe.running = None
    gain = trial.answerable
    if gain.low == gain.high == 0:
        raise NotYet(
            "on every held-out answerable question your prompt scores exactly as the naive one "
            "(difference +0.000): nothing in it changed which sentences the model returns. Read "
            "the note before the exercise on what the stand-in responds to."
        )
    if not gain.significant or gain.mean_difference <= 0:
        raise NotYet(
            f"on the held-out answerable questions, yours - naive = {gain.mean_difference:+.3f} "
            f"(95% CI {gain.low:+.3f} to {gain.high:+.3f}): the interval must lie above 0."
        )
    if trial.refusals < careful.refusals:
        raise NotYet(
            f"it beats the naive prompt on answerable questions, but refuses {trial.refusals} "
            f"of {trial.unanswerable} held-out unanswerable questions; the careful prompt "
            f"refuses {careful.refusals}. Allow 'I don't know' when the documents do not answer; "
            "a prompt that forbids it, or only names it, answers from memory instead."
        )
    return (
        f"on {gain.n} held-out answerable questions, yours - naive = {gain.mean_difference:+.3f} "
        f"(95% CI {gain.low:+.3f} to {gain.high:+.3f}), and {trial.refusals} of "
        f"{trial.unanswerable} unanswerable ones refused (careful prompt: {careful.refusals})."
    )


# -- 1.4.2 near misses for the judge ----------------------------------------------------------

_MIN_COVERAGE = 0.8
_MIN_SIMILARITY = 0.75


@lru_cache(maxsize=1)
def _near_miss_cases() -> tuple[tuple[str, str, bool], ...]:
    """(right answer, reference, whether it states a reference number) from the test split."""
    from course_lib.datasets import load_golden_set
    from course_lib.evaluation import contains_fact
    from course_lib.evaluation.facts import answer_numbers
    from course_lib.labs.judge_lab import clean_quote

    cases = []
    for q in load_golden_set("test"):
        if not q.answerable:
            continue
        right = clean_quote(q.sources[0].quote)
        if contains_fact(right, q.answer):
            cases.append((right, q.answer, bool(answer_numbers(q.answer))))
    return tuple(cases)


def _numbers(text: str) -> list[str]:
    return re.findall(r"\d+(?:[.,:]\d+)*", text)


@exercise(
    "1.4.2",
    title="Near misses for the judge",
    answer_name="near_miss",
    reference=near_miss,
    solution=SOLUTION,
    hints=(
        "A near miss keeps the right answer's words and gets one figure wrong. Find a number "
        "in the answer that the reference also states, and replace it with another value.",
        "re.finditer(r'\\d+(?::\\d\\d|[.,]\\d+)?', answer) finds numbers with their positions; "
        "keep the first whose text also occurs among the reference's numbers. Return None when "
        "there is none.",
        "Replace every occurrence of that number (an answer may state it twice) with another "
        "value, say the number doubled or an hour later for a time like 10:00: "
        "answer.replace(old, new) is close, re.sub with the same pattern is exact.",
    ),
)
def _check_near_miss(answer: Any, probe: Probe) -> str:
    from course_lib.evaluation import contains_fact, token_f1

    cases = _near_miss_cases()
    with_number = [c for c in cases if c[2]]
    made = 0
    for right, reference, has_number in cases:
        shown = f"near_miss(<a right answer from a hidden question>, {reference[:40]!r})"
        got = probe.call_as(shown, answer, right, reference)
        if got is None:
            continue
        if not isinstance(got, str):
            raise NotYet(f"{shown} returned {type(got).__name__}; expected a string or None.")
        if not has_number:
            continue
        if got.strip() == right.strip():
            raise NotYet(f"{shown} returned the right answer unchanged; change one figure.")
        if contains_fact(got, reference):
            raise NotYet(
                f"{shown} returned {got[:60]!r}, which still states the reference's fact: change "
                "a number that the reference states, not another one."
            )
        if len(_numbers(got)) != len(_numbers(right)):
            raise NotYet(
                f"{shown} returned {got[:60]!r}: a near miss replaces a number; it does not "
                "remove one or add one."
            )
        similarity = token_f1(got, right)
        if similarity < _MIN_SIMILARITY:
            raise NotYet(
                f"{shown} returned {got[:60]!r}, token F1 {similarity:.2f} with the right answer: "
                f"a near miss keeps its words (at least {_MIN_SIMILARITY})."
            )
        made += 1
    coverage = made / len(with_number)
    if coverage < _MIN_COVERAGE:
        raise NotYet(
            f"near misses for {made} of {len(with_number)} hidden answers whose reference has a "
            f"number ({coverage:.0%}); aim for at least {_MIN_COVERAGE:.0%}."
        )
    return (
        f"near misses for {made} of {len(with_number)} hidden answers with a number: same words, "
        "one wrong figure each."
    )
