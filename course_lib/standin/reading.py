"""How the local model reads a chat request: instructions, passages, the question.

A real model reads prompts in any shape. This stand-in recognises the shapes prompts commonly
use, and the instructions that change its behaviour, so that a better prompt gives a
measurably better answer:

* passages: ``[doc-id] text`` lines, ``<doc id="...">...</doc>`` blocks, ``Source: id`` headings;
* the question: what follows ``Question:`` in the last user message, or that message without
  its passages;
* instructions (from the system prompt, and from the user message when it has no passages):
  cite sources, allow "I don't know", length and shape, JSON, and whether passages are
  declared to be data rather than instructions (the guard against prompt injection);
* a repair request: a user message, after an answer, saying that answer failed validation.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from course_lib.llm.tokens import message_text

__all__ = [
    "LENGTH_REQUESTS",
    "Instructions",
    "Passage",
    "ReadRequest",
    "read_request",
    "repaired_request",
]


@dataclass(frozen=True)
class Passage:
    """One context passage the prompt gives the model."""

    id: str
    text: str


@dataclass(frozen=True)
class Instructions:
    """What the prompt asks of the answer."""

    cite: bool = False
    allow_unknown: bool = False
    unknown_phrase: str = "I don't know: the provided documents do not cover this."
    max_sentences: int | None = None  # None: the model's own default
    bullets: bool = False
    json: bool = False
    guarded: bool = False  # passages declared data, never instructions


@dataclass(frozen=True)
class ReadRequest:
    """A chat request as the local model understands it."""

    system: str
    question: str
    passages: tuple[Passage, ...]
    instructions: Instructions
    last_role: str
    tool_results: tuple[Passage, ...] = field(default_factory=tuple)
    user_text: str = ""


_DOC_BLOCK = re.compile(
    r"<(doc|document|source|passage)\b[^>]*?\bid\s*=\s*[\"']([^\"']+)[\"'][^>]*>(.*?)</\1\s*>",
    re.S | re.I,
)
_BRACKET_LINE = re.compile(r"^\s*\[([A-Za-z0-9][A-Za-z0-9_.:#/-]{0,80})\]\s*(.*)$")
_SOURCE_LINE = re.compile(
    r"^\s*(?:#{1,4}\s*)?(?:source|document|doc)\s*(?:id)?\s*:\s*(\S+)\s*$", re.I
)
_QUESTION = re.compile(
    r"(?:^|\n)\s*(?:\*\*)?(?:question|q|user question)(?:\*\*)?\s*:\s*(.*?)"
    r"(?=\n\s*(?:#{1,4}\s*)?(?:context|documents|passages|sources|excerpts)\b[^\n]{0,60}:|\Z)",
    re.I | re.S,
)
_CONTEXT_LABEL = re.compile(
    r"^\s*(?:#{1,4}\s*)?(?:context|documents|passages|sources|excerpts)\b[^\n]{0,60}:?\s*$", re.I
)

_CITE = re.compile(
    r"\bcit(?:e|es|ing|ation|ations)\b"
    r"|\bsources?\b.*\b(?:give|list|name|include|add|show)"
    r"|\b(?:give|list|name|include|add|show)\b.*\bsources?\b"
    r"|\breference the (?:doc|passage)",
    re.I,
)
_UNKNOWN = re.compile(
    r"(?:\b(?:say|answer|reply|respond|admit|state|write|tell)\b[^.\n]{0,40}"
    r"|\bI\s+|\bmodel\s+|\bit\s+)(?:don'?t|do not) know"
    r"|(?:doesn'?t|does not) know|not (?:in|covered by|answered by|found in) the "
    r"(?:context|documents|passages|sources)|cannot be answered|can'?t answer|unable to answer|"
    r"if the (?:answer|information) is (?:not|missing)|otherwise,? say|say (?:so|that you)|"
    r"\bif (?:the|they|it)\b[^.\n]{0,40}\b(?:do|does)(?: not|n'?t) "
    r"(?:answer|cover|contain|include|mention)",
    re.I,
)
# A prompt that forbids the refusal does not allow it, even though it names it.
_FORBID_UNKNOWN = re.compile(
    r"\b(?:never|do not|don'?t|must not|should not|mustn'?t)\s+(?:ever\s+)?"
    r"(?:say|reply|respond|admit|write|state)(?: with)?(?: that)?(?: you| I)?\s*[\"“']?"
    r"(?:I\s+|you\s+)?(?:don'?t|do not) know"
    r"|\b(?:never|do not|don'?t|must not)\s+refuse",
    re.I,
)
_QUOTED_UNKNOWN = re.compile(
    r"(?:say|answer|reply|respond)(?: with)?:?\s*[\"“]([^\"”]{3,120})[\"”]", re.I
)
_ONE_SENTENCE = re.compile(
    r"(?<!more than )(?<!at least )\b(?:one|1|a single) sentence\b|\bone-sentence\b", re.I
)
# Asked for more than the default one sentence without a number: three.
_SEVERAL_SENTENCES = re.compile(
    r"\b(?:several|a few|multiple|(?:more than|at least) (?:one|a single)|two or three|2-3)"
    r"\s+sentences?\b",
    re.I,
)
_BRIEF = re.compile(r"\b(?:brief|briefly|concise|concisely|short answer|be short|terse)\b", re.I)
_DETAIL = re.compile(r"\b(?:in detail|detailed|thorough|comprehensive|explain fully)\b", re.I)
_N_SENTENCES = re.compile(
    r"\b(?:at most|up to|no more than|max(?:imum)?)\s+(two|three|four|five|[2-5])\s+sentences\b",
    re.I,
)
LENGTH_REQUESTS = (_N_SENTENCES, _SEVERAL_SENTENCES, _DETAIL)
"""The wordings that make the stand-in answer in more than one sentence (planted): what a
checker reads to tell a prompt's length request from its negation."""
_BULLETS = re.compile(r"\bbullet(?:s| points?| list)?\b|\bas a list\b", re.I)
_JSON = re.compile(
    r"\b(?:in|as|with|return|output|respond|reply|answer|format(?:ted)?|give|valid)\s+"
    r"(?:a\s+|an\s+|only\s+|valid\s+|strict\s+)*json\b|\bjson\s+(?:object|format|only|output)\b",
    re.I,
)
# Instructions sit at the start or the end of a message; the middle of a long one is material.
_WINDOW = 400


def _window(text: str) -> str:
    if len(text) <= 2 * _WINDOW:
        return text
    return text[:_WINDOW] + "\n" + text[-_WINDOW:]


_GUARD = re.compile(
    r"(?:passages?|documents?|context|sources?|excerpts?|retrieved text)[^.\n]{0,80}"
    r"\b(?:are|is|as)\s+(?:untrusted\s+)?(?:data|reference material|quotations?)\b"
    r"|never (?:follow|obey|execute)[^.\n]{0,60}instructions"
    r"|ignore (?:any )?instructions (?:inside|in|within|found in)|untrusted",
    re.I,
)
_NUMBERS = {"two": 2, "three": 3, "four": 4, "five": 5}


def _instructions(text: str) -> Instructions:
    max_sentences: int | None = None
    if _ONE_SENTENCE.search(text) or _BRIEF.search(text):
        max_sentences = 1
    elif match := _N_SENTENCES.search(text):
        word = match.group(1).lower()
        max_sentences = _NUMBERS.get(word) or int(word)
    elif _SEVERAL_SENTENCES.search(text):
        max_sentences = 3
    elif _DETAIL.search(text):
        max_sentences = 5
    allow_unknown = bool(_UNKNOWN.search(text)) and not _FORBID_UNKNOWN.search(text)
    phrase = Instructions.unknown_phrase
    if allow_unknown and (quoted := _QUOTED_UNKNOWN.search(text)):
        phrase = quoted.group(1).strip()
    return Instructions(
        cite=bool(_CITE.search(text)),
        allow_unknown=allow_unknown,
        unknown_phrase=phrase,
        max_sentences=max_sentences,
        bullets=bool(_BULLETS.search(text)),
        json=bool(_JSON.search(text)),
        guarded=bool(_GUARD.search(text)),
    )


# Layouts that say the same thing as ``[id] text`` lines, rewritten to that form first.
_INLINE_QUESTION = re.compile(r"(?<=\S)[ \t]+(?=(?:\*\*)?question(?:\*\*)?\s*:)", re.I)
_INLINE_MARKER = re.compile(r"(?<=[.!?:;)\]])[ \t]+(?=\[[A-Za-z0-9][\w.:#/-]{0,80}\][ \t]+\S)")
_LABEL_WITH_TEXT = re.compile(
    r"^([ \t]*(?:#{1,4}[ \t]*)?(?:context|documents|passages|sources|excerpts)[ \t]*:)[ \t]*(?=\S)",
    re.I | re.M,
)
_NUMBERED = re.compile(
    r"^[ \t]*(?:#{1,4}[ \t]*)?(?:source|document|doc|passage|excerpt)[ \t]*#?[ \t]*"
    r"([A-Za-z0-9][\w.-]{0,80})[ \t]*(?:[:)\]]|[-–])[ \t]+(\S.*)$",
    re.I | re.M,
)
_UNLABELLED_BLOCK = re.compile(
    r"<(context|documents|sources|passages)>\s*(.*?)\s*</\1\s*>", re.I | re.S
)
_ALT_MARKER = re.compile(
    r"^[ \t]*(?:【([^】]{1,80})】|\(([A-Za-z0-9][\w.-]{0,40})\))[ \t]+(?=\S)", re.M
)


def normalise_layout(text: str) -> str:
    """The prompt with its context rewritten as ``[id] text`` lines and a ``Question:`` line.

    Prompts put context in many layouts: one line ("Context: [doc-7] ... Question: ..."),
    numbered sources ("Source 1: ..."), other markers ("【1】", "(1)"), or an unlabelled
    ``<context>`` block. A model reads them all the same way, so this stand-in does too.
    """
    text = _UNLABELLED_BLOCK.sub(
        lambda m: (
            m.group(0)
            if re.search(r"<(?:doc|document|source|passage)\b", m.group(2), re.I)
            or _BRACKET_LINE.match(m.group(2))
            else f"\n[context] {m.group(2)}\n"
        ),
        text,
    )
    text = _INLINE_QUESTION.sub("\n", text)
    text = _LABEL_WITH_TEXT.sub("\\1\n", text)
    text = _INLINE_MARKER.sub("\n", text)
    text = _NUMBERED.sub(lambda m: f"[{m.group(1)}] {m.group(2)}", text)
    return _ALT_MARKER.sub(lambda m: f"[{m.group(1) or m.group(2)}] ", text)


def extract_passages(text: str) -> tuple[list[Passage], str]:
    """Passages found in ``text``, and the text left once they are removed."""
    passages: list[Passage] = []
    text = normalise_layout(text)

    def take(match: re.Match[str]) -> str:
        passages.append(Passage(match.group(2).strip(), match.group(3).strip()))
        return "\n"

    rest = _DOC_BLOCK.sub(take, text)
    kept: list[str] = []
    current_id: str | None = None
    current: list[str] = []

    def flush() -> None:
        nonlocal current_id, current
        if current_id is not None:
            body = "\n".join(current).strip()
            if body:
                passages.append(Passage(current_id, body))
        current_id, current = None, []

    asked = labelled = False
    for line in rest.splitlines():
        if _QUESTION.match("\n" + line):
            asked, labelled = True, False
            flush()
            kept.append(line)
            continue
        if current_id is None and _CONTEXT_LABEL.match(line):
            labelled = True  # what follows is context, with or without passage markers
            continue
        bracket = _BRACKET_LINE.match(line)
        source = _SOURCE_LINE.match(line)
        if bracket and bracket.group(2).strip():
            flush()
            current_id, current = bracket.group(1), [bracket.group(2)]
        elif source:
            flush()
            current_id, current = source.group(1).strip("`*\"'[]"), []
        elif current_id is not None:
            current.append(line)
        elif labelled and line.strip():
            current_id, current = "context", [line]
        elif not _CONTEXT_LABEL.match(line):
            kept.append(line)
    if current_id is not None and not asked:
        # With no "Question:" line, a last paragraph after the last passage is the user's own
        # text when it asks something or when nothing else is left: it is not passage text.
        paragraphs = re.split(r"\n\s*\n", "\n".join(current).strip())
        last = paragraphs[-1]
        if len(paragraphs) > 1 and (last.rstrip().endswith("?") or not "".join(kept).strip()):
            current = ["\n\n".join(paragraphs[:-1])]
            kept.append(last)
    flush()
    return passages, "\n".join(kept).strip()


def read_request(messages: Sequence[Mapping[str, Any]]) -> ReadRequest:
    """Split a chat request into the parts the local model acts on."""
    if not messages:
        raise ValueError("messages is empty: a chat request needs at least one user message.")
    system = "\n".join(
        message_text(m) for m in messages if m.get("role") in ("system", "developer")
    )
    users = [m for m in messages if m.get("role") == "user"]
    user_text = message_text(users[-1]) if users else ""
    passages, rest = extract_passages(user_text)
    system_passages, system_rest = extract_passages(system)
    passages = system_passages + passages
    match = _QUESTION.search("\n" + rest)
    question = match.group(1).strip() if match else rest.strip()
    # Instructions come from the system prompt; a user message without passages counts too
    # (many prompts put everything in one user message). Passage text never counts.
    lead = rest if match is None else rest[: match.start()]
    instruction_text = system_rest + "\n" + _window(lead)
    if not system.strip():
        instruction_text += "\n" + _window(rest)
    # Tool results after the last user message become context.
    tool_results: list[Passage] = []
    last_user = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=-1)
    names: dict[str, str] = {}
    for message in messages[last_user + 1 :]:
        for call in message.get("tool_calls") or ():
            names[str(call.get("id"))] = str(call.get("function", {}).get("name", "tool"))
        if message.get("role") == "tool":
            call_id = str(message.get("tool_call_id", ""))
            tool_results.append(
                Passage(names.get(call_id, call_id or "tool"), message_text(message))
            )
    return ReadRequest(
        system=system,
        question=question,
        passages=tuple(passages),
        instructions=_instructions(instruction_text),
        last_role=str(messages[-1].get("role", "")),
        tool_results=tuple(tool_results),
        user_text=user_text,
    )


_REPAIR = re.compile(
    r"\b(?:did not|does not|didn't|doesn't|failed to|fails to|could not|cannot)\s+"
    r"(?:validate|parse|be parsed|match)"
    r"|\bvalidation (?:error|errors|failed)\b|\b(?:invalid|malformed) json\b"
    r"|\bnot valid (?:json|against)\b",
    re.I,
)


def repaired_request(messages: Sequence[Mapping[str, Any]]) -> ReadRequest | None:
    """The request whose answer a repair request asks to fix, or None if this is not one.

    A repair request is a last user message, right after an assistant answer, that says the
    answer failed validation ("did not validate", "validation error", "invalid JSON"). A real
    model reads the whole conversation and fixes its answer from the original input; this
    stand-in reads the request as it was before the failed answer (skipping earlier repairs).
    """
    end = len(messages) - 1
    while (
        end >= 1
        and messages[end].get("role") == "user"
        and messages[end - 1].get("role") == "assistant"
        and _REPAIR.search(message_text(messages[end]))
    ):
        end -= 1
        while end >= 0 and messages[end].get("role") != "user":
            end -= 1
    if end == len(messages) - 1 or end < 0:
        return None
    return read_request(messages[: end + 1])
