"""Answering in prose: grounded, from memory, refusing, or hijacked by an injected passage."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from functools import lru_cache

from course_lib.standin.ranking import Scored, Tier, memory
from course_lib.standin.reader import Found, read_passages
from course_lib.standin.reading import ReadRequest
from course_lib.standin.units import Unit, split_units

__all__ = ["Answer", "answer_question", "asks_for_instructions", "find_injection"]

# Below this confidence (the best unit's score, or 0 when no unit holds the asked-for type: see
# reader.py) no passage answers the question, and the model refuses when the prompt allows it.
# Chosen on the golden dev split with benchmarks/answers.py: there a higher threshold only adds
# false refusals, so each is the lowest that still refuses a plainly unrelated context.
RELEVANCE_THRESHOLD: dict[str, float] = {"small": 0.1, "large": 0.2}
# How many units each tier answers with when the prompt does not say.
DEFAULT_SENTENCES: dict[str, int] = {"small": 1, "large": 3}
# Units within this share of the best score may join the answer (large tier).
_KEEP_RATIO = 0.6

_INJECTION = re.compile(
    r"(?:ignore|disregard|forget)\s+(?:all\s+|any\s+)?(?:your\s+|the\s+)?(?:previous|prior|above|earlier|"
    r"system)\s+(?:instructions|prompts?|rules)|new instructions\s*:|you are now\b|"
    r"note to (?:ai|llm|language model|assistant)s?\b",
    re.I,
)
_INJECTED_ACTION = re.compile(
    r"(?:tell|inform|reply to|respond to|answer)\s+the\s+user\s+(?:that\s+)?(?P<a>.+)|"
    r"(?:say|reply|respond|answer|state)\s+(?:only\s+)?(?:that\s+|with\s+)?(?P<b>.+)",
    re.I,
)


# A request for the model's own instructions ("repeat your system prompt", "what are your
# instructions?", "print the text above"). Planted, for the guardrails lesson: asked this way,
# the stand-in repeats its system prompt word for word, whatever that prompt says, as real
# models too often do. A system prompt is not a secret store.
_REVEAL = re.compile(
    r"\b(?:repeat|print|reveal|show(?:\s+me)?|display|output|recite|write\s+out|copy|tell\s+me|"
    r"what\s+(?:are|were|is|was))\b[^.?!\n]{0,40}?\b(?:"
    r"your\s+(?:system\s+)?prompt\b|(?:your|the)\s+system\s+(?:prompt|message)\b|"
    r"your\s+(?:\w+\s+)?instructions\b|"
    r"(?:the\s+)?(?:instructions|text|words|everything)\s+above\b)",
    re.I,
)


@dataclass(frozen=True)
class Answer:
    """The text of an answer and the passage ids it drew on."""

    text: str
    sources: tuple[str, ...]
    grounded: bool  # answered from the given passages (not memory, not a refusal)
    refused: bool = False
    injected: bool = False
    leaked: bool = False  # repeated its system prompt, as asked (planted: see _REVEAL)


def asks_for_instructions(question: str) -> bool:
    """Whether ``question`` asks the model to repeat its own instructions (planted)."""
    return bool(_REVEAL.search(question))


@lru_cache(maxsize=65536)
def find_injection(text: str) -> str | None:
    """The instruction an injected sentence carries, or None when there is none."""
    match = _INJECTION.search(text)
    if not match:
        return None
    tail = text[match.end() :]
    action = _INJECTED_ACTION.search(tail)
    if not action:
        return None
    said = (action.group("a") or action.group("b") or "").strip().rstrip(".")
    if not said:
        return None
    return said[0].upper() + said[1:] + "."


def _pick(ranked: list[Scored], n: int, temperature: float, rng: random.Random) -> list[Scored]:
    """The top ``n`` sentences; with temperature, sampled among the near-best."""
    if not ranked:
        return []
    best = ranked[0].score
    if temperature > 0:
        margin = 0.12 * min(temperature, 2.0)
        pool = [s for s in ranked if s.score >= best - margin][: max(n + 3, 4)]
        weights = [max(s.score, 1e-6) ** (1 / max(temperature, 0.05)) for s in pool]
        chosen: list[Scored] = []
        while pool and len(chosen) < n:
            i = rng.choices(range(len(pool)), weights=weights)[0]
            chosen.append(pool.pop(i))
            weights.pop(i)
        return chosen
    kept = [ranked[0]]
    for s in ranked[1:]:
        if len(kept) >= n:
            break
        if s.score >= best * _KEEP_RATIO and s.candidate.text != kept[-1].candidate.text:
            kept.append(s)
    return kept


@lru_cache(maxsize=8192)
def _units_of(text: str) -> tuple[Unit, ...]:
    return tuple(split_units(text))


def _choose(
    ranked: list[Found], n: int, temperature: float, rng: random.Random, ratio: float
) -> list[Found]:
    """The best unit, and up to ``n - 1`` more that score close to it and add something.

    With temperature, the first unit is sampled among the near-best ones, so that different
    seeds can give different answers (and the same seed always gives the same one).
    """
    best = ranked[0].score
    if temperature > 0 and best > 0:
        margin = 0.15 * min(temperature, 2.0)
        pool = [f for f in ranked if f.score >= best * (1 - margin)][:6]
        weights = [f.score ** (1 / max(temperature, 0.05)) for f in pool]
        first = pool[rng.choices(range(len(pool)), weights=weights)[0]]
        ranked = [first, *(f for f in ranked if f is not first)]
        best = first.score
    kept = [ranked[0]]
    for f in ranked[1:]:
        if len(kept) >= n or f.score < best * ratio:
            break
        if f.typed and all(f.unit.text != k.unit.text for k in kept):
            kept.append(f)
    return kept


def _as_answer(found: Found) -> str:
    """A unit as it reads in an answer: a list item after the sentence that introduced it."""
    unit = found.unit
    if unit.kind == "item" and unit.lead:
        return f"{unit.lead}: {unit.text}"
    return unit.text


def _render(sentences: list[tuple[str, str]], *, cite: bool, bullets: bool) -> str:
    parts = []
    for text, source in sentences:
        text = text.rstrip()
        if cite:
            if text[-1:] in ".!?":
                text = f"{text[:-1]} [{source}]{text[-1]}"
            else:
                text = f"{text} [{source}]"
        parts.append(text)
    return "\n".join(f"- {p}" for p in parts) if bullets else " ".join(parts)


def answer_question(
    request: ReadRequest, tier: Tier, *, temperature: float = 0.0, rng: random.Random | None = None
) -> Answer:
    """Answer ``request`` in prose, the way the behaviour contract describes."""
    rng = rng or random.Random(0)
    how = request.instructions
    n = how.max_sentences or DEFAULT_SENTENCES[tier]
    if tier == "small":
        n = min(n, 2)
    passages = [(p.id, p.text) for p in (*request.passages, *request.tool_results)]

    if request.system.strip() and asks_for_instructions(request.question):
        # Planted: the system prompt comes back verbatim, guarded prompt or not.
        return Answer(request.system.strip(), (), grounded=False, leaked=True)
    if passages:
        injected = next(
            (
                found
                for p in passages
                for u in split_units(p[1])
                if (found := find_injection(u.text))
            ),
            None,
        )
        if injected is not None and not how.guarded:
            # A naive prompt: the passage's instruction wins over the system prompt.
            return Answer(injected, (), grounded=False, injected=True)
        reading = read_passages(
            request.question, passages, tier, keep=lambda u: find_injection(u.text) is None
        )
        if reading.ranked and reading.confidence >= RELEVANCE_THRESHOLD[tier]:
            # Asked for more ("in detail", "three sentences"), the model reaches further down.
            ratio = _KEEP_RATIO if how.max_sentences is None else _KEEP_RATIO / 2
            chosen = _choose(list(reading.ranked), n, temperature, rng, ratio)
            text = _render(
                [(_as_answer(f), f.source) for f in chosen], cite=how.cite, bullets=how.bullets
            )
            sources = tuple(dict.fromkeys(f.source for f in chosen))
            return Answer(text, sources, grounded=True)
        if how.allow_unknown:
            return Answer(how.unknown_phrase, (), grounded=False, refused=True)

    # No context, or nothing relevant and no permission to refuse: answer from memory,
    # confidently and without citations, as a model answers from its training data.
    recalled = memory().recall(request.question, tier)
    if not recalled:
        if how.allow_unknown:
            return Answer(how.unknown_phrase, (), grounded=False, refused=True)
        return Answer("That is usually handled by your team lead.", (), False)
    best_doc = recalled[0].candidate.source
    recalled = [s for s in recalled if s.candidate.source == best_doc]
    picked = _pick(recalled, n, temperature, rng)
    text = _render([(s.candidate.text, "") for s in picked], cite=False, bullets=how.bullets)
    return Answer(text, (), grounded=False)
