"""Answering in prose: grounded, from memory, refusing, or hijacked by an injected passage."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from course_lib.standin.ranking import Scored, Tier, candidates_from_passages, memory, ranker
from course_lib.standin.reading import ReadRequest

__all__ = ["Answer", "answer_question", "find_injection"]

# Below this score no passage is relevant enough to answer from.
# Chosen on the golden set: with the passage that answers a question in the context, the small
# tier answers about 78% of questions and the large one about 82% (the rest it refuses, when
# the prompt allows refusing). Questions the handbook does not answer usually come with
# tempting passages that share their words, so lexical relevance rarely refuses them: the model
# then answers from a near-miss passage, confidently, as real models do. Evaluation catches it.
RELEVANCE_THRESHOLD: dict[str, float] = {"small": 0.2, "large": 0.25}
# How many sentences each tier answers with when the prompt does not say.
DEFAULT_SENTENCES: dict[str, int] = {"small": 1, "large": 3}
# Sentences within this share of the best score may join the answer (large tier).
_KEEP_RATIO = 0.8

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


@dataclass(frozen=True)
class Answer:
    """The text of an answer and the passage ids it drew on."""

    text: str
    sources: tuple[str, ...]
    grounded: bool  # answered from the given passages (not memory, not a refusal)
    refused: bool = False
    injected: bool = False


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

    if passages:
        candidates = candidates_from_passages(passages)
        injected: str | None = None
        kept = []
        for c in candidates:
            instruction = find_injection(c.text)
            if instruction is None:
                kept.append(c)
            elif injected is None:
                injected = instruction
        if injected is not None and not how.guarded:
            # A naive prompt: the passage's instruction wins over the system prompt.
            return Answer(injected, (), grounded=False, injected=True)
        ranked = ranker(tier).score(request.question, kept)
        if ranked and ranked[0].score >= RELEVANCE_THRESHOLD[tier]:
            chosen = _pick(ranked, n, temperature, rng)
            text = _render(
                [(s.candidate.text, s.candidate.source) for s in chosen],
                cite=how.cite,
                bullets=how.bullets,
            )
            sources = tuple(dict.fromkeys(s.candidate.source for s in chosen))
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
    chosen = _pick(recalled, n, temperature, rng)
    text = _render([(s.candidate.text, "") for s in chosen], cite=False, bullets=how.bullets)
    return Answer(text, (), grounded=False)
