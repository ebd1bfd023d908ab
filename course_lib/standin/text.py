"""Plain-text helpers of the local model: sentences, terms and lexical overlap.

The local model ranks sentences; it does not generate text. These functions decide what a
sentence is and how much it overlaps with a question. They are deliberately simple, and
deterministic on every machine.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

__all__ = [
    "STOPWORDS",
    "clean_markdown",
    "lexical_overlap",
    "split_sentences",
    "stable_hash",
    "stable_unit",
    "stems",
    "terms",
]

STOPWORDS = frozenset(
    """
    a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further
    had has have having he her here hers herself him himself his how i if in into is it its
    itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself yourselves
    s t don doesn didn isn aren wasn weren won wouldn shouldn can't cannot im ive id ill hey hi
    hello thanks thank please pls ok okay anyone someone know need want get got tell says say
    does anybody quick question actually really also still just us let lets
    """.split()  # noqa: SIM905 - one word list, easier to read than a literal
)

_WORD = re.compile(r"[a-z0-9]+(?:[-_.:/][a-z0-9]+)*")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9`*])")


def stable_hash(*parts: Any) -> int:
    """A 64-bit hash of JSON-serialisable parts, the same on every machine and Python."""
    payload = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return int.from_bytes(hashlib.sha256(payload.encode("utf-8")).digest()[:8], "big")


def stable_unit(*parts: Any) -> float:
    """A number in [0, 1) drawn deterministically from ``parts``."""
    return stable_hash(*parts) / 2**64


_SUFFIXES = ("ations", "ation", "ments", "ment", "ings", "ing", "ies", "ied", "es", "ed", "s")


def _stem(word: str) -> str:
    """A light suffix stripper so 'deploys', 'deployed' and 'deploying' meet."""
    if len(word) <= 4 or not word.isalpha():
        return word
    for suffix in (
        "ations",
        "ation",
        "ments",
        "ment",
        "ings",
        "ing",
        "ies",
        "ied",
        "es",
        "ed",
        "s",
    ):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            stem = word[: -len(suffix)]
            return stem + "y" if suffix in ("ies", "ied") else stem
    return word


def terms(text: str) -> list[str]:
    """Content terms of ``text``: lower-cased, stemmed, stopwords dropped, order kept.

    Identifiers such as ``payout-worker`` or ``10:00`` stay whole and also yield their parts,
    so a question saying "payout worker" still meets a passage saying ``payout-worker``.
    """
    out: list[str] = []
    for token in _WORD.findall(text.lower()):
        if token in STOPWORDS:
            continue
        out.append(_stem(token))
        if any(sep in token for sep in "-_./:"):
            for part in re.split(r"[-_./:]", token):
                if part and part not in STOPWORDS and part != token:
                    out.append(_stem(part))
    return out


@lru_cache(maxsize=1)
def _snowball() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


@lru_cache(maxsize=65536)
def _snowball_stem(word: str) -> str:
    stem: str = _snowball().stemWord(word)
    return _VARIANTS.get(stem, stem)


# Variants the Snowball stemmer leaves apart that a reader takes as one word.
_VARIANTS = {
    "daili": "day",
    "weekli": "week",
    "month": "month",
    "monthli": "month",
    "yearli": "year",
    "annual": "year",
    "hour": "hour",
    "hourli": "hour",
    "nightli": "night",
    "quarter": "quarter",
    "quarterli": "quarter",
}


def stems(text: str) -> list[str]:
    """Content stems of ``text`` (Snowball, as BM25 uses), stop words dropped, order kept.

    Like :func:`terms`, identifiers such as ``payout-worker`` also yield their parts.
    """
    out: list[str] = []
    for token in _WORD.findall(text.lower()):
        if token in STOPWORDS:
            continue
        if token.isalpha():
            out.append(_snowball_stem(token))
            continue
        out.append(token)
        if any(sep in token for sep in "-_./:"):
            for part in re.split(r"[-_./:]", token):
                if part and part not in STOPWORDS and part != token:
                    out.append(_snowball_stem(part) if part.isalpha() else part)
    return out


def clean_markdown(text: str) -> str:
    """Text without Markdown decoration (emphasis, code ticks, list and heading markers)."""
    text = re.sub(r"^\s{0,3}(?:#{1,6}\s+|[-*+]\s+|\d+[.)]\s+|>\s?)", "", text, flags=re.M)
    text = text.replace("**", "").replace("__", "").replace("`", "")
    text = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", text)  # [label](url) -> label
    return re.sub(r"\s+", " ", text).strip()


def split_sentences(text: str) -> list[str]:
    """Sentences of a passage; list items and table rows count as sentences of their own."""
    sentences: list[str] = []
    for block in re.split(r"\n\s*\n|\n(?=\s*(?:[-*+]\s|\d+[.)]\s|\|))", text):
        block = block.strip()
        if not block or re.fullmatch(r"\|?[\s:|-]+\|?", block):  # empty or a table rule
            continue
        if block.startswith("|"):
            for row in block.splitlines():
                if row.strip() and not re.fullmatch(r"\|?[\s:|-]+\|?", row.strip()):
                    cells = [c.strip() for c in row.strip().strip("|").split("|")]
                    sentence = clean_markdown("; ".join(c for c in cells if c))
                    if len(sentence) >= 3:  # a row of empty cells is no sentence
                        sentences.append(sentence)
            continue
        if block.startswith("```"):
            continue
        for sentence in _SENTENCE_END.split(clean_markdown(block)):
            sentence = sentence.strip()
            if len(sentence) >= 3:
                sentences.append(sentence)
    return sentences


def lexical_overlap(
    question_terms: Sequence[str],
    sentence_terms: Iterable[str],
    idf: Mapping[str, float] | None = None,
    *,
    default: float | None = None,
) -> float:
    """Share of the question's (idf-weighted) distinct terms that the sentence contains, 0..1.

    A term missing from ``idf`` weighs ``default`` (by default the table's largest weight:
    pass it when calling many times, as finding it scans the whole table).
    """
    wanted = dict.fromkeys(question_terms)
    if not wanted:
        return 0.0
    have = set(sentence_terms)
    if default is None:
        default = max(idf.values()) if idf and any(t not in idf for t in wanted) else 1.0

    def weight(term: str) -> float:
        return idf.get(term, default) if idf else 1.0

    total = sum(weight(t) for t in wanted)
    hit = sum(weight(t) for t in wanted if t in have)
    return round(hit / total, 6) if total else 0.0


def idf_table(documents: Iterable[Iterable[str]]) -> dict[str, float]:
    """Inverse document frequency of every term over ``documents`` (lists of terms)."""
    df: dict[str, int] = {}
    n = 0
    for doc in documents:
        n += 1
        for term in set(doc):
            df[term] = df.get(term, 0) + 1
    return {term: math.log(1 + n / count) for term, count in df.items()}
