"""Sentence ranking: how the local model decides which sentences answer a question.

Two tiers, so that quality can be bought with latency and money as with real models:

* ``small`` ranks sentences by lexical overlap with the question (idf-weighted terms);
* ``large`` blends that overlap with the cosine similarity of WordLlama embeddings, which
  catches paraphrases the small tier misses.

The parametric memory (what the model "knows" with no context) is the v1 snapshot of the
handbook's public and internal documents, ranked the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

from course_lib.standin.text import idf_table, lexical_overlap, split_sentences, terms

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["Candidate", "Ranker", "Tier", "memory", "ranker"]

Tier = Literal["small", "large"]

# The weight of the passage (or the memory sentence's document title and heading) next to the
# sentence itself: a sentence in the right passage beats an equally worded one elsewhere.
_CONTEXT_WEIGHT = 0.25
_EMBEDDING_WEIGHT = 0.5


@dataclass(frozen=True)
class Candidate:
    """A sentence the model may answer with, and where it came from."""

    text: str
    source: str  # passage id, or the memory document id
    position: int  # order of appearance, for stable tie-breaking
    context: str = ""  # passage text, or title and heading for memory


@dataclass(frozen=True)
class Scored:
    score: float
    candidate: Candidate


@lru_cache(maxsize=1)
def _idf() -> dict[str, float]:
    return idf_table(terms(c.context + " " + c.text) for c in memory().candidates)


@lru_cache(maxsize=1)
def _idf_max() -> float:
    return max(_idf().values())


def _embed(texts: Sequence[str]) -> NDArray[Any]:
    from course_lib.embeddings.wordllama_model import load_wordllama

    vectors: NDArray[Any] = load_wordllama().embed(list(texts), norm=True, batch_size=256)
    return vectors


class Ranker:
    """Scores candidate sentences against a question for one tier."""

    def __init__(self, tier: Tier) -> None:
        self.tier = tier

    def score(self, question: str, candidates: Sequence[Candidate]) -> list[Scored]:
        """Every candidate with its score in [0, 1], best first (ties: earlier first)."""
        if not candidates:
            return []
        idf, default = _idf(), _idf_max()
        q_terms = terms(question)
        by_context: dict[str, float] = {}  # the sentences of a passage share its context
        lexical: list[float] = []
        for c in candidates:
            if c.context not in by_context:
                by_context[c.context] = lexical_overlap(
                    q_terms, terms(c.context), idf, default=default
                )
            own = lexical_overlap(q_terms, terms(c.text), idf, default=default)
            lexical.append((1 - _CONTEXT_WEIGHT) * own + _CONTEXT_WEIGHT * by_context[c.context])
        scores = lexical
        if self.tier == "large" and question.strip():  # an empty text embeds as NaN
            vectors = _embed([question, *[c.text for c in candidates]])
            cosine = vectors[1:] @ vectors[0]
            scores = [
                (1 - _EMBEDDING_WEIGHT) * lex + _EMBEDDING_WEIGHT * max(0.0, float(cos))
                for lex, cos in zip(lexical, cosine, strict=False)
            ]
        ranked = [Scored(round(s, 6), c) for s, c in zip(scores, candidates, strict=False)]
        ranked.sort(key=lambda x: (-x.score, x.candidate.position))
        return ranked


@lru_cache(maxsize=2)
def ranker(tier: Tier) -> Ranker:
    return Ranker(tier)


def candidates_from_passages(passages: Sequence[tuple[str, str]]) -> list[Candidate]:
    """Every sentence of every (id, text) passage, in order."""
    out: list[Candidate] = []
    for passage_id, text in passages:
        for sentence in split_sentences(text):
            if sentence.endswith("?"):  # a question in a FAQ is not an answer
                continue
            out.append(Candidate(sentence, passage_id, len(out), text))
    return out


class Memory:
    """The model's parametric memory: sentences of the v1 handbook it was "trained" on."""

    def __init__(self) -> None:
        from course_lib.datasets.handbook import load_handbook

        candidates: list[Candidate] = []
        for doc in load_handbook("v1", access=("public", "internal")):
            for section in doc.sections:
                for sentence in split_sentences(section.text):
                    if sentence.endswith("?"):
                        continue
                    context = f"{doc.title} {section.heading}"
                    candidates.append(Candidate(sentence, doc.id, len(candidates), context))
        self.candidates = candidates
        self._postings: dict[str, list[int]] = {}
        for i, c in enumerate(candidates):
            for term in set(terms(c.text + " " + c.context)):
                self._postings.setdefault(term, []).append(i)

    def recall(self, question: str, tier: Tier, limit: int = 60) -> list[Scored]:
        """The memory sentences closest to ``question``, best first."""
        idf = _idf()
        q_terms = sorted(set(terms(question)), key=lambda t: -idf.get(t, 0.0))
        hits: dict[int, float] = {}
        for term in q_terms:
            for i in self._postings.get(term, ()):
                hits[i] = hits.get(i, 0.0) + idf.get(term, 0.0)
        pool = sorted(hits, key=lambda i: (-hits[i], i))[:limit]
        return ranker(tier).score(question, [self.candidates[i] for i in sorted(pool)])


@lru_cache(maxsize=1)
def memory() -> Memory:
    return Memory()
