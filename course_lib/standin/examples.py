"""Solved examples in the conversation (few-shot prompting), as the stand-in uses them.

A planted behaviour, crude on purpose. Real models learn a task from a few solved examples in
the prompt, and learn more from examples like the input (Liu et al., 2022, "What Makes Good
In-Context Examples for GPT-3?"). The stand-in does not learn anything; it imitates that
effect in a way a lesson can measure and explain:

* an example is an earlier ``user`` turn followed by an ``assistant`` turn whose content is a
  JSON object (the chat form of few-shot prompting);
* for each top-level enum field of the requested schema, every example whose text shares
  enough content terms with the input (cosine of term counts at least
  :data:`MIN_SIMILARITY`) votes for its value, weighted by that similarity;
* the value with the most weight wins if it beats the stand-in's own schema matching
  (:data:`SCHEMA_WEIGHT`); with no example close enough, the schema matching decides alone.

So examples unlike the input change nothing, and close ones pull the answer towards their
label, right or wrong. Nothing here reads the examples' order or their number beyond that.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from course_lib.llm.tokens import message_text
from course_lib.standin.text import terms

__all__ = ["MIN_SIMILARITY", "SCHEMA_WEIGHT", "apply_examples", "solved_examples"]

MIN_SIMILARITY = 0.1
SCHEMA_WEIGHT = 0.3


def solved_examples(messages: Sequence[Mapping[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """(user text, assistant JSON object) pairs before the last user message."""
    last_user = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=-1)
    pairs: list[tuple[str, dict[str, Any]]] = []
    for i in range(last_user - 1):
        if messages[i].get("role") != "user" or messages[i + 1].get("role") != "assistant":
            continue
        try:
            answer = json.loads(message_text(messages[i + 1]) or "")
        except json.JSONDecodeError:
            continue
        if isinstance(answer, dict):
            pairs.append((message_text(messages[i]), answer))
    return pairs


def _similarity(a: Counter[str], b: Counter[str]) -> float:
    dot = sum(count * b[term] for term, count in a.items())
    norm = math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values()))
    return dot / norm if norm else 0.0


def apply_examples(
    value: Any,
    schema: Mapping[str, Any],
    text: str,
    examples: Sequence[tuple[str, Mapping[str, Any]]],
) -> Any:
    """``value`` with each top-level enum field decided by the examples close to ``text``."""
    if not examples or not isinstance(value, dict):
        return value
    properties = schema.get("properties") or {}
    wanted = Counter(terms(text))
    nearby = [
        (similarity, answer)
        for example_text, answer in examples
        if (similarity := _similarity(wanted, Counter(terms(example_text)))) >= MIN_SIMILARITY
    ]
    changed = dict(value)
    for key, field in properties.items():
        options = field.get("enum") if isinstance(field, Mapping) else None
        if not options or key not in changed:
            continue
        votes: dict[Any, float] = {changed[key]: SCHEMA_WEIGHT}
        for similarity, answer in nearby:
            if answer.get(key) in options:
                votes[answer[key]] = votes.get(answer[key], 0.0) + similarity
        best = max(votes.values())
        changed[key] = next(option for option in votes if votes[option] == best)
    return changed
