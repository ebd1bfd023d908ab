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


# -- 1.4.1 beat the naive prompt --------------------------------------------------------------

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
_MIN_WORDS = 8
_DOCS = r"(?:documents?|passages?|context|sources?|excerpts?)"
_NAMES_THE_DOCUMENTS = re.compile(rf"\b{_DOCS}\b", re.I)
# A system prompt for this assistant says where answers come from, as the naive one does:
# "from", "using", "based on" or "according to" the documents, at most four words before them.
_USES_THE_DOCUMENTS = re.compile(
    rf"\b(?:from|using|use|based|according|grounded|rely|relying|stick)"
    rf"(?:\s+[\w'-]+){{0,4}}?\s+{_DOCS}\b",
    re.I,
)
# The stand-in matches words, not meaning: these prompts name the documents, or a length, and
# ask for the opposite. The checker refuses them rather than let the words score.
_AGAINST_THE_DOCUMENTS = re.compile(
    rf"\b(?:ignore|ignoring|disregard|disregarding|skip)\s+(?:the\s+|these\s+|all\s+|any\s+)?"
    rf"(?:given\s+|provided\s+|retrieved\s+)?{_DOCS}\b"
    rf"|\b(?:never|not|n't|without)\s+(?:\w+\s+){{0,2}}?"
    rf"(?:use|using|read|reading|consult|from|based on|rely on|relying on)\s+(?:the\s+)?{_DOCS}\b"
    r"|(?<!not )(?<!never )(?<!n't )(?<!no )(?<!without )"
    r"\b(?:from|use|using|with|on)\s+(?:your|its) own knowledge\b"
    r"|(?<!not )(?<!never )(?<!n't )(?<!no )\b(?:from memory|general knowledge)\b",
    re.I,
)
_NEGATION = re.compile(r"\b(?:never|not|no|avoid)\b|n't\b", re.I)
_MORE_THAN = re.compile(r"\b(?:more|longer) than\b|\bexceed", re.I)


def _negated_length(prompt: str) -> str | None:
    """The length wording that a 'never' or 'not' just before it turns into its opposite."""
    from course_lib.standin.reading import LENGTH_REQUESTS  # the wordings the stand-in reads

    matches = (match for pattern in LENGTH_REQUESTS for match in pattern.finditer(prompt))
    for match in sorted(matches, key=lambda m: m.start()):
        clause = re.split(r"[.;:!?,\n]", prompt[: match.start()])[-1]
        before = " ".join(clause.split()[-4:])
        if _NEGATION.search(before) and not _MORE_THAN.search(before):
            return f"{before} {match.group()}".strip()
    return None


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
        "Keep 'using only the documents', ask for more than one sentence in a wording the note "
        "lists ('at most three sentences', say), and add a sentence that allows 'I don't "
        "know' when the documents do not answer. Measure it on dev with trial_prompt first.",
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
    words = len(answer.split())
    if words < _MIN_WORDS:
        raise NotYet(
            f"MY_PROMPT has {words} words: write it as an instruction to the model, in full "
            f"sentences (at least {_MIN_WORDS} words)."
        )
    if not _NAMES_THE_DOCUMENTS.search(answer):
        raise NotYet(
            "MY_PROMPT never mentions the documents: like the naive prompt, tell the model to "
            "answer from them (say 'documents', 'passages', 'context' or 'sources')."
        )
    if against := _AGAINST_THE_DOCUMENTS.search(answer):
        raise NotYet(
            f"MY_PROMPT says {against.group()!r}: this assistant must answer from the documents, "
            "not from memory. The stand-in matches words, not meaning, so the checker refuses "
            "such a prompt: tell the model to answer using only the documents."
        )
    if not _USES_THE_DOCUMENTS.search(answer):
        raise NotYet(
            "MY_PROMPT names the documents but never tells the model to answer from them. Say "
            "'from the documents', 'using the documents', 'based on the documents' or "
            "'according to the documents' (or the passages, context or sources)."
        )
    if negated := _negated_length(answer):
        raise NotYet(
            f"MY_PROMPT says {negated!r}: 'never' or 'not' before a length asks for its "
            "opposite. The stand-in matches words, not meaning, and would read a request for "
            "that length, so the checker refuses it: ask for the length you want, in positive "
            "words."
        )
    probe.running = "your prompt on the held-out questions"
    trial, careful = _trial(answer), _trial(CAREFUL_PROMPT)
    probe.running = None
    gain = trial.answerable
    ask_for_more = (
        "the model still returns its one best sentence. Ask for more than one (see the note "
        "before the exercise for the wordings the stand-in reads)."
    )
    if gain.low == gain.high == 0:
        if trial.longer == 0 and trial.changed == 0:
            raise NotYet(
                "your prompt gains nothing on held-out answerable questions (+0.000): "
                + ask_for_more
            )
        if trial.longer == 0:
            raise NotYet(
                f"your prompt changed {trial.changed} of {gain.n} held-out answerable answers "
                f"({trial.refused_answerable} of them to a refusal) but gains nothing (+0.000): "
                + ask_for_more
            )
        raise NotYet(
            f"your prompt gave {trial.longer} of {gain.n} held-out answerable questions a longer "
            "answer, but none gained the reference's fact (+0.000). Ask for more than one "
            "sentence, and do not limit the answer in other ways."
        )
    if not gain.significant or gain.mean_difference <= 0:
        refused = (
            f"; it refused {trial.refused_answerable} of them" if trial.refused_answerable else ""
        )
        more = "" if trial.longer else " It still gives one sentence: " + ask_for_more
        raise NotYet(
            f"on the held-out answerable questions, yours - naive = {gain.mean_difference:+.3f} "
            f"(95% CI {gain.low:+.3f} to {gain.high:+.3f}){refused}: the interval must lie "
            f"above 0.{more}"
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


_UNSURE = " Every string you return must be a near miss: return None rather than a doubtful one."


def _value(number: str) -> tuple[float, ...]:
    """A number's value: ``2``, ``2.0`` and ``02`` are equal, as are ``14:00`` and ``014:00``."""
    parts = number.split(":") if ":" in number else [number.replace(",", "")]
    try:
        return tuple(float(part) for part in parts)
    except ValueError:  # "1.2.3": compare as written
        return tuple(float(part) for part in re.findall(r"\d+", number))


def _same_value_rewrite(right: str, got: str) -> tuple[str, str] | None:
    """The first number rewritten as the same value (``2`` as ``2.0``, ``45`` as ``045``), if
    that is all it did."""
    before, after = _numbers(right), _numbers(got)
    if len(before) != len(after):
        return None
    rewritten = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    if rewritten and all(_value(a) == _value(b) for a, b in rewritten):
        return rewritten[0]
    return None


# A standalone number, as the fact check's figures: not the digit of a name like prod-euc1.
_STANDALONE = re.compile(r"(?<![\w.])\d+(?::\d\d|[.,]\d+)?(?![\w])")


def _stated_number(right: str, reference: str) -> str | None:
    """The first standalone number of the right answer that the reference also states."""
    from course_lib.evaluation.facts import answer_numbers

    wanted = answer_numbers(reference)
    found = (m.group() for m in _STANDALONE.finditer(right))
    return next((n for n in found if answer_numbers(n) <= wanted), None)


def _changed_name(right: str, got: str) -> tuple[str, str] | None:
    """The first word whose digit changed when that word is a name (``prod-euc1``), else None."""
    for old, new in zip(right.split(), got.split(), strict=False):
        if old != new:
            name = re.search(r"[A-Za-z][\w-]*\d|\d[\w-]*[A-Za-z]", old)
            return (old.strip("`'\"().,;:"), new.strip("`'\"().,;:")) if name else None
    return None


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
        "value, say the number doubled (1 if it is 0) or an hour later for a time like 10:00: "
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
            stated = _stated_number(right, reference)
            kept = f": {stated!r} became {stated!r}" if stated else ""
            zero = " (doubling 0 gives 0: use 1 then)" if stated and _value(stated)[0] == 0 else ""
            raise NotYet(
                f"{shown} returned the right answer unchanged{kept}. Change one figure to a "
                f"different value{zero}." + _UNSURE
            )
        same = _same_value_rewrite(right, got)
        if same is not None:
            raise NotYet(
                f"{shown} returned {got[:60]!r}: {same[0]!r} became {same[1]!r}, the same "
                "value. Change a number the reference states to a different value." + _UNSURE
            )
        if contains_fact(got, reference):
            name = _changed_name(right, got)
            if name is not None:
                raise NotYet(
                    f"{shown} returned {got[:60]!r}: the digit you changed is part of a name "
                    f"({name[0]!r} became {name[1]!r}), and the answer still states the "
                    "reference's fact. Change a figure that stands alone, such as '30' in "
                    "'30 days', and skip digits inside names." + _UNSURE
                )
            raise NotYet(
                f"{shown} returned {got[:60]!r}, which still states the reference's fact: change "
                "a number that the reference states (every time it occurs) to a different value, "
                "not another number." + _UNSURE
            )
        if len(_numbers(got)) != len(_numbers(right)):
            raise NotYet(
                f"{shown} returned {got[:60]!r}: a near miss replaces a number; it does not "
                "remove one or add one." + _UNSURE
            )
        similarity = token_f1(got, right)
        if similarity < _MIN_SIMILARITY:
            raise NotYet(
                f"{shown} returned {got[:60]!r}, token F1 {similarity:.2f} with the right answer: "
                f"a near miss keeps its words (at least {_MIN_SIMILARITY})." + _UNSURE
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
