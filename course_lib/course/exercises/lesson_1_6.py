"""Checkers of lesson 1.6, "Prompting, RAG or fine-tuning?"."""

from __future__ import annotations

import copy
import math
import numbers
import re
from collections.abc import Hashable, Sequence
from typing import Any

from course_lib.classify.artifact import data_fingerprint
from course_lib.classify.scoring import macro_f1
from course_lib.course.checking import NotYet, Probe, exercise

SOLUTION = "solutions/1_ai_capabilities/16_prompting_rag_or_finetuning.ipynb"

# -- 1.6.1 macro-F1 ------------------------------------------------------------------------

# (true labels, predictions, why) – the expected value comes from the course's macro_f1,
# which the unit tests check against scikit-learn.
_F1_CASES: list[tuple[Sequence[Hashable], Sequence[Hashable | None], str]] = [
    (["a", "b", "a", "b"], ["a", "b", "a", "b"], "perfect predictions score 1"),
    (
        ["a", "a", "a", "b"],
        ["a", "a", "a", "a"],
        "a class that is never predicted has F1 0 and still counts in the mean",
    ),
    (
        ["big"] * 8 + ["small"] * 2,
        ["big"] * 8 + ["big", "small"],
        "every class weighs the same in the mean, however many items it has",
    ),
    (
        ["a", "b", "c", "c"],
        ["a", "b", None, "c"],
        "a None prediction (an unparsable answer) is wrong, but it is not a class",
    ),
    (
        ["a", "a", "b", "b"],
        ["a", "spam", "b", "b"],
        "a label that appears only among the predictions is an error, not a class",
    ),
    (
        ["a", "a", "b", "b", "c"],
        ["a", "b", "b", "c", "c"],
        "average the per-class F1 scores, not the precisions and recalls first",
    ),
    ([3, 1, 2, 2], [3, 2, 2, 1], "labels can be any values, e.g. numbers"),
    (["x"], ["x"], "one item, one class"),
]


def _as_number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise NotYet(
            f"{what} returned {type(value).__name__} ({value!r:.60}); expected a number "
            "between 0 and 1."
        )
    number = float(value)
    if math.isnan(number):
        raise NotYet(f"{what} returned NaN; a class with no correct prediction has F1 0.")
    return number


@exercise(
    "1.6.1",
    title="Macro-F1 by hand",
    answer_name="macro_f1",
    reference=macro_f1,
    solution=SOLUTION,
    hints=(
        "For each class c of the true labels, count tp (true c, predicted c), fp (predicted c, "
        "true something else) and fn (true c, predicted something else). F1 = 2*tp / "
        "(2*tp + fp + fn), and 0 when tp is 0.",
        "The classes are set(true_labels) only: a prediction of None or of an unknown label "
        "is simply wrong (it adds to fn of the true class) and is not a class of its own. "
        "The result is the plain mean of the per-class F1 scores.",
        "classes = sorted(set(true_labels), key=str); for each c: tp = sum(t == c and p == c "
        "for t, p in zip(...)), and so on; return sum(f1s) / len(f1s). Guard tp == 0 to "
        "avoid dividing by zero.",
    ),
)
def _check_macro_f1(answer: Any, probe: Probe) -> str:
    for truth, predicted, why in _F1_CASES:
        call = probe.describe_call(truth, predicted)
        truth_copy, predicted_copy = copy.deepcopy(truth), copy.deepcopy(predicted)
        got = _as_number(probe.call(answer, truth_copy, predicted_copy), call)
        if truth_copy != truth or predicted_copy != predicted:
            raise NotYet(f"{call} changed the lists it was given; score them without sorting.")
        expected = macro_f1(truth, predicted)
        if not math.isclose(got, expected, abs_tol=1e-9):
            raise NotYet(f"{call} returned {got:.4f}, expected {expected:.4f} ({why}).")
    return f"macro_f1 matches on all {len(_F1_CASES)} hidden cases."


# -- 1.6.2 data fingerprint ----------------------------------------------------------------

_HEX64 = re.compile(r"[0-9a-f]{64}")
_SEPARATORS = ("", " ", "\n", "\t", "|", ",", ";", ":")

# (dataset A, dataset B, why they must differ)
Dataset = tuple[list[str], list[str]]


def _must_differ() -> list[tuple[Dataset, Dataset, str]]:
    pairs: list[tuple[Dataset, Dataset, str]] = [
        (
            (["printer jammed", "okta locked"], ["hardware", "login_mfa"]),
            (["printer jammed", "okta locked"], ["hardware", "hardware"]),
            "changing one label changes the data the model learns from",
        ),
        (
            (["printer jammed", "okta locked"], ["hardware", "login_mfa"]),
            (["printer jammed", "okta locked out"], ["hardware", "login_mfa"]),
            "changing one text changes the data",
        ),
        (
            (["printer jammed", "okta locked"], ["hardware", "login_mfa"]),
            (["printer jammed", "okta locked"], ["login_mfa", "hardware"]),
            "which label goes with which text matters, not only the two sets",
        ),
        (
            (["printer jammed"], ["hardware"]),
            (["printer jammed", "okta locked"], ["hardware", "login_mfa"]),
            "adding an example changes the data",
        ),
    ]
    for sep in _SEPARATORS:
        shown = repr(sep)
        pairs.append(
            (
                ([f"ab{sep}cd", "ef"], ["x", "x"]),
                (["ab", f"cd{sep}ef"], ["x", "x"]),
                f"texts may contain {shown}, so where one text ends must stay visible",
            )
        )
        pairs.append(
            (
                ([f"ab{sep}cd"], ["x"]),
                (["ab"], [f"cd{sep}x"]),
                f"texts may contain {shown}, so where a text ends and its label begins must "
                "stay visible",
            )
        )
    return pairs


def _fingerprint(probe: Probe, answer: Any, dataset: Dataset) -> str:
    texts, labels = copy.deepcopy(dataset[0]), copy.deepcopy(dataset[1])
    call = probe.describe_call(texts, labels)
    got = probe.call(answer, texts, labels)
    probe.expect_type(got, str, call)
    if not _HEX64.fullmatch(got):
        length = f"{len(got)} characters" if got else "an empty string"
        raise NotYet(
            f"{call} returned {got[:20]!r}... ({length}); a SHA-256 digest is 64 lowercase hex "
            "characters: hashlib.sha256(data).hexdigest()."
        )
    if (texts, labels) != dataset:
        raise NotYet(f"{call} changed the lists it was given; hash them without sorting.")
    return got


@exercise(
    "1.6.2",
    title="Fingerprint the training data",
    answer_name="data_fingerprint",
    reference=data_fingerprint,
    solution=SOLUTION,
    hints=(
        "Feed the texts and labels to hashlib.sha256 as bytes and return .hexdigest(). The "
        "hard part is the bytes: two different datasets must never give the same ones.",
        "Joining strings with a separator is ambiguous when the strings can contain it: "
        "'ab\\ncd' + 'ef' and 'ab' + 'cd\\nef' join to the same text. Tickets contain "
        "newlines, tabs, commas and pipes. Encode each (text, label) pair unambiguously.",
        "json.dumps([text, label]) escapes quotes and newlines, so one JSON array per example, "
        "each followed by b'\\n', is unambiguous: for text, label in zip(texts, labels): "
        "digest.update(json.dumps([text, label]).encode('utf-8') + b'\\n').",
    ),
)
def _check_data_fingerprint(answer: Any, probe: Probe) -> str:
    base: Dataset = (["Okta Verify keeps failing\n\nSince 9am", "café receipt €12"], ["a", "b"])
    first = _fingerprint(probe, answer, base)
    if _fingerprint(probe, answer, (list(base[0]), list(base[1]))) != first:
        raise NotYet(
            "data_fingerprint gave two different results for the same data; it must depend "
            "on the contents only (no time, no random salt, no id())."
        )
    pairs = _must_differ()
    for a, b, why in pairs:
        if _fingerprint(probe, answer, a) == _fingerprint(probe, answer, b):
            raise NotYet(
                f"data_fingerprint{a} and data_fingerprint{b} are equal, but the data differ: "
                f"{why}."
            )
    return f"the fingerprint is stable and told apart all {len(pairs)} pairs of datasets."


# -- 1.6.3 prompting, RAG or fine-tuning -----------------------------------------------------

APPROACHES = ("prompting", "rag", "fine-tuning")

APPROACH_FOR: dict[str, str] = {
    "answer staff questions about the travel policy, which finance revises every quarter": "rag",
    "return every answer as JSON with the fields the ticketing system expects": "prompting",
    "route 40,000 tickets a day into ten queues; 5,000 routed tickets exist and the prompted "
    "model's accuracy stopped improving": "fine-tuning",
    "show under each answer the handbook page it came from, so staff can check it": "rag",
    "find out next week whether a model can summarise incident reports usefully; no examples "
    "exist yet": "prompting",
    "answer 'who is on call for routing right now?' from the rota, which changes every week": "rag",
    "flag each of 10 million log lines a day as noise or not within 5 ms, from 20,000 lines "
    "engineers already labelled": "fine-tuning",
    "make the assistant decline questions about colleagues' salaries": "prompting",
}

_WHY_NOT = {
    "rag": "facts that change, or that must be cited, belong in retrieval: the model reads "
    "the current text at question time",
    "prompting": "an instruction or a format you can write down is a prompt (or a schema) first: "
    "no data, no training, changed in minutes",
    "fine-tuning": "a narrow, high-volume task with many labelled examples, where prompting "
    "plateaued or is too slow or dear, is what a small trained model is for",
}


@exercise(
    "1.6.3",
    title="Prompting, RAG or fine-tuning?",
    answer_name="approach_for",
    expects_function=False,
    reference=APPROACH_FOR,
    solution=SOLUTION,
    hints=(
        "Ask what is missing. Knowledge (facts, especially facts that change or must be "
        "cited)? Behaviour or format you can describe in words? Or a narrow task learned from "
        "many labelled examples?",
        "Knowledge -> 'rag'; behaviour or format you can write down -> 'prompting' (always the "
        "first try, and the only one without data); a narrow task at volume, with labelled "
        "examples, after prompting plateaued -> 'fine-tuning'.",
        "Three are 'rag' (the travel policy, citing pages, the weekly rota), three are "
        "'prompting' (JSON fields, the quick trial, declining salary questions), two are "
        "'fine-tuning' (routing at volume, flagging log lines).",
    ),
)
def _check_approach_for(answer: Any, probe: Probe) -> str:
    if not isinstance(answer, dict):
        raise NotYet(
            f"approach_for should be a dict of scenario -> approach, but it is a "
            f"{type(answer).__name__}."
        )
    missing = [k for k in APPROACH_FOR if k not in answer]
    if missing:
        raise NotYet(
            f"approach_for has no entry for {missing[0]!r}; keep every key of the template."
        )
    extra = [k for k in answer if k not in APPROACH_FOR]
    if extra:
        raise NotYet(f"approach_for has an unexpected key {extra[0]!r}; keep the template's keys.")
    chosen: dict[str, str] = {}
    for scenario in APPROACH_FOR:
        value = answer[scenario]
        if value is Ellipsis:
            raise NotYet(f"{scenario!r} is still `...`; give it one of {', '.join(APPROACHES)}.")
        normalised = value.strip().lower() if isinstance(value, str) else value
        if normalised not in APPROACHES:
            raise NotYet(
                f"the approach for {scenario!r} should be one of "
                f"{', '.join(repr(a) for a in APPROACHES)} (got {value!r})."
            )
        chosen[scenario] = normalised
    wrong = [k for k in APPROACH_FOR if chosen[k] != APPROACH_FOR[k]]
    if wrong:
        first = wrong[0]
        raise NotYet(
            f"{len(APPROACH_FOR) - len(wrong)} of {len(APPROACH_FOR)} are right; look again at "
            f"{first!r}: {_WHY_NOT[APPROACH_FOR[first]]}."
        )
    return f"all {len(APPROACH_FOR)} scenarios have the approach that fits them."
