"""The questions users ask: the pool in ``questions.txt``, and how people vary them."""

from __future__ import annotations

import random
import re
from functools import lru_cache
from pathlib import Path

from course_lib.datasets.errors import DatasetError
from course_lib.datasets.traffic.params import TOPIC_WEIGHTS

__all__ = ["QUESTIONS_FILE", "count_tokens", "load_traffic_questions", "search_query", "vary"]

QUESTIONS_FILE = Path(__file__).with_name("questions.txt")
_SEARCH_STOPWORDS = frozenset(
    (
        "a", "an", "and", "are", "at", "be", "by", "can", "do", "does", "for", "from", "get",
        "how", "i", "i'm", "if", "in", "is", "it", "me", "my", "of", "on", "our", "should",
        "that", "the", "there", "this", "to", "we", "what", "what's", "when", "where", "which",
        "who", "why", "with", "you",
    )
)  # fmt: skip


@lru_cache(maxsize=1)
def load_traffic_questions() -> dict[str, tuple[str, ...]]:
    """The question pool, by section, in file order (earlier lines are asked more often)."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for number, raw in enumerate(QUESTIONS_FILE.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if line.startswith("# section:"):
            current = sections.setdefault(line.split(":", 1)[1].strip(), [])
        elif line and not line.startswith("#"):
            if current is None:
                raise DatasetError(
                    f"{QUESTIONS_FILE.name} line {number} comes before any '# section:' line; "
                    "put every question under a section."
                )
            current.append(line)
    expected = {*TOPIC_WEIGHTS, "summarise", "ticket-triage"}
    missing = sorted(s for s in expected if not sections.get(s))
    if missing:
        raise DatasetError(f"{QUESTIONS_FILE.name} lacks questions in section(s) {missing}.")
    return {name: tuple(lines) for name, lines in sections.items()}


def vary(rng: random.Random, text: str) -> str:
    """Light, human variation: lower case, a dropped question mark, a greeting, a thank-you."""
    r = rng.random()
    if r < 0.62:
        return text
    if r < 0.72:
        return text[0].lower() + text[1:]
    if r < 0.82:
        return text.rstrip("?")
    if r < 0.88:
        prefix = ("hi, ", "quick question: ", "hey - ", "sorry if this is obvious, ")
        return prefix[rng.randrange(len(prefix))] + text[0].lower() + text[1:]
    if r < 0.94:
        suffix = (" thanks", " thx", " (asking for a new joiner)")
        return text + suffix[rng.randrange(len(suffix))]
    return text.lower().rstrip("?")


def search_query(text: str) -> str:
    """What people type into a search box: the question's key words, lower case."""
    words = [w for w in re.findall(r"[\w'`-]+", text.lower()) if w not in _SEARCH_STOPWORDS]
    return " ".join(words[:6]) or text.lower()


def count_tokens(text: str) -> int:
    """A rough token count (about 1.35 tokens per English word)."""
    return max(3, round(len(text.split()) * 1.35))
