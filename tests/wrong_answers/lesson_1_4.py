"""Plausible wrong answers to lesson 1.4's exercises; each must be rejected by its checker."""

from __future__ import annotations

import re
from typing import Any

# -- 1.4.1 beat the naive prompt --------------------------------------------------------------

_NO_REFUSAL = "Answer in at most two sentences using the documents."  # beats naive, never refuses
_ONLY_REFUSAL = "If the documents do not answer the question, say that you don't know."
_ONE_SENTENCE = (
    "Answer in one sentence using the documents. "
    "If the documents do not answer the question, say that you don't know."
)
_BULLETS = (
    "Answer as a bullet list using the documents. "
    "If the documents do not answer the question, say that you don't know."
)
_FORBIDS_REFUSAL = "Answer in at most two sentences. Never say that you don't know."
_NAMES_REFUSAL = "at most two sentences. don't know."  # the words, not a permission
_FRAGMENTS = "at most two sentences. I don't know."  # the switches' trigger words, no instruction
_NO_DOCUMENTS = "Answer in at most two sentences. If you are not sure, say that you don't know."
_TWO_SENTENCES = (  # a wording the stand-in does not read: still one sentence, refusals on
    "Answer in two sentences, using the documents, and include all relevant numbers. "
    "If the documents do not answer the question, say that you don't know."
)
_NEVER_REFUSE = "Answer in several sentences using the documents, and never refuse."
_NAIVE_RESHAPED = "  answer the question, using the documents!  "  # the naive prompt in disguise
_CAREFUL = (
    "Answer only from the documents and cite the document id of each fact. "
    "If the documents do not answer the question, say that you don't know."
)
_IGNORES_THE_DOCUMENTS = (  # the stand-in reads the length and the refusal, not the meaning
    "Ignore the documents and write several sentences from your own knowledge. "
    "If the documents do not answer, say that you don't know."
)
_KEYWORD_SALAD = (
    "several sentences several sentences; documents do not answer, say that you don't know"
)
_NEGATED_LENGTH = (  # asks for shorter answers, but the stand-in reads "several sentences"
    "Never answer in several sentences. Answer using the documents. "
    "If the documents do not answer, say that you don't know."
)

# -- 1.4.2 near misses ------------------------------------------------------------------------

_NUMBER = re.compile(r"(?<![\w.])\d+(?::\d\d|[.,]\d+)?(?![\w])")


def _unchanged(answer: str, reference: str) -> str:
    return answer


def _never(answer: str, reference: str) -> str | None:
    return None


def _first_number_of_the_answer(answer: str, reference: str) -> str | None:
    """Changes the answer's first number, whether or not the reference states it."""
    match = _NUMBER.search(answer)
    if match is None:
        return None
    return (
        answer[: match.start()]
        + str(int(float(match.group().split(":")[0])) + 7)
        + answer[match.end() :]
    )


def _drops_the_number(answer: str, reference: str) -> str | None:
    """Removes the reference's numbers instead of changing them: a missing fact, not a wrong one."""
    wanted = set(_NUMBER.findall(reference))
    changed = _NUMBER.sub(lambda m: "" if m.group() in wanted else m.group(), answer)
    return changed if changed != answer else None


def _another_answer(answer: str, reference: str) -> str:
    """Another question's answer: an easy negative, not a near miss."""
    return "Expenses are reimbursed within 10 working days of approval."


def _one_occurrence_only(answer: str, reference: str) -> str | None:
    """Changes only the first occurrence, so a repeated number still states the fact."""
    wanted = set(_NUMBER.findall(reference))
    for match in _NUMBER.finditer(answer):
        if match.group() in wanted and ":" not in match.group():
            new = str(int(float(match.group().replace(",", ""))) * 2)
            return answer[: match.start()] + new + answer[match.end() :]
    return None


def _number_as_word(answer: str, reference: str) -> str | None:
    """Replaces the reference's numbers with a vague word: the numbers disappear."""
    wanted = set(_NUMBER.findall(reference))
    changed = _NUMBER.sub(lambda m: "several" if m.group() in wanted else m.group(), answer)
    return changed if changed != answer else None


def _same_value(answer: str, reference: str) -> str | None:
    """Rewrites the reference's number as the same value: 2 becomes 2.0, still the fact."""
    wanted = set(_NUMBER.findall(reference))
    old = next((n for n in _NUMBER.findall(answer) if n in wanted and n.isdigit()), None)
    if old is None:
        return None
    return _NUMBER.sub(lambda m: f"{old}.0" if m.group() == old else m.group(), answer)


def _leading_zero(answer: str, reference: str) -> str | None:
    """Writes the reference's number with a leading zero: 45 becomes 045, the same value."""
    wanted = set(_NUMBER.findall(reference))
    old = next((n for n in _NUMBER.findall(answer) if n in wanted), None)
    if old is None:
        return None
    return _NUMBER.sub(lambda m: "0" + old if m.group() == old else m.group(), answer)


def _doubles_zero_too(answer: str, reference: str) -> str | None:
    """Doubles the reference's number, so 0 stays 0 and one answer comes back unchanged."""
    wanted = set(_NUMBER.findall(reference))
    old = next((n for n in _NUMBER.findall(answer) if n in wanted and ":" not in n), None)
    if old is None:
        return None
    new = f"{float(old.replace(',', '')) * 2:g}"
    return _NUMBER.sub(lambda m: new if m.group() == old else m.group(), answer)


def _digit_in_a_name(answer: str, reference: str) -> str | None:
    """Changes the first digit run the reference also has, even inside a name (prod-euc1)."""
    wanted = set(re.findall(r"\d+", reference))
    for match in re.finditer(r"\d+", answer):
        if match.group() in wanted:
            return answer[: match.start()] + str(int(match.group()) + 1) + answer[match.end() :]
    return None


def _returns_a_list(answer: str, reference: str) -> Any:
    return [answer]


WRONG_ANSWERS: dict[str, list[Any]] = {
    "1.4.1": [
        _NO_REFUSAL,
        _ONLY_REFUSAL,
        _ONE_SENTENCE,
        _BULLETS,
        _NAIVE_RESHAPED,
        _CAREFUL,
        _FORBIDS_REFUSAL,
        _NAMES_REFUSAL,
        _NEVER_REFUSE,
        _FRAGMENTS,
        _NO_DOCUMENTS,
        _TWO_SENTENCES,
        _IGNORES_THE_DOCUMENTS,
        _KEYWORD_SALAD,
        _NEGATED_LENGTH,
        "",
        ["Answer in at most two sentences."],
    ],
    "1.4.2": [
        _unchanged,
        _never,
        _first_number_of_the_answer,
        _drops_the_number,
        _another_answer,
        _one_occurrence_only,
        _number_as_word,
        _same_value,
        _leading_zero,
        _doubles_zero_too,
        _digit_in_a_name,
        _returns_a_list,
    ],
}
