"""The careful reader: which unit of the given passages answers the question, if any.

A careless extractive reader picks the sentence that repeats most of the question's words, and
so answers "How much is the hotel budget?" with the page's introduction ("This page describes
the hotel budget"). This one reads the way a person skims for an answer:

* **words, as stems**: Snowball stems (the stemmer BM25 uses), weighted by how rare they are in
  the handbook, so "scanned" meets "scan" and a rare word counts more than "team";
* **where the unit sits**: its section heading and the sentence that introduced its list count
  as context, and so does the passage around it, with less weight than the unit itself;
* **what the question asks for**: a unit holding the asked-for type (an amount for "how
  much", a duration for "how long", a channel for "which channel") ranks above one that only
  repeats the question (:mod:`course_lib.standin.questions`);
* **whether it says something new**: a unit made only of the question's own words is a heading
  or an introduction, not an answer;
* for the ``large`` tier, the cosine similarity of WordLlama embeddings as well, which catches
  paraphrases the word match misses.

The result also says how confident the reader is: the best unit's score, or nothing when the
question asks for a type of answer none of the best units holds. Below the tier's threshold the
model refuses when the prompt allows it; the weights and thresholds were chosen on the golden
dev split (``benchmarks/answers.py``), never on the test split.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from course_lib.standin.questions import answer_types, holds_type, is_yes_no
from course_lib.standin.text import idf_table, stems
from course_lib.standin.units import Unit, split_units

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["Found", "Reading", "read_passages"]

Tier = str


@dataclass(frozen=True)
class Weights:
    """How the reader weighs its evidence; one set per tier."""

    own: float = 0.6  # the question's words in the unit itself
    local: float = 0.2  # ... in the unit with its heading and list lead-in
    passage: float = 0.2  # ... anywhere in the passage
    wrong_type: float = 0.5  # share of its score a unit keeps without the asked-for type
    unit_cosine: float = 0.0  # embedding similarity of question and unit
    passage_cosine: float = 0.0  # embedding similarity of question and passage
    dims: int = 256  # embedding dimensions read (fewer: a coarser, cheaper model)
    rank_decay: float = 0.0  # how much less each later passage counts (prompt order)
    embed_top: int = 8  # how many units, best by words and passage, get the unit cosine


WEIGHTS: dict[str, Weights] = {
    "small": Weights(wrong_type=0.5, unit_cosine=0.4, rank_decay=0.2),
    "large": Weights(
        own=0.3,
        local=0.0,
        wrong_type=0.8,
        unit_cosine=0.4,
        passage_cosine=0.7,
        rank_decay=0.2,
        embed_top=24,
    ),
}


@dataclass(frozen=True)
class Found:
    """A unit of a passage, where it came from, and its score for the question."""

    unit: Unit
    source: str  # the passage id
    position: int
    score: float
    typed: bool  # holds the type the question asks for


@dataclass(frozen=True)
class Reading:
    """Units ranked best first, and how confident the reader is that they answer (0 to 1).

    ``confidence`` is the best unit's score, or 0 when the question asks for a type of answer
    (an amount, a duration...) that none of the best few units holds: then the passages talk
    about the question's subject without answering it.
    """

    ranked: tuple[Found, ...]
    confidence: float


@lru_cache(maxsize=1)
def _idf() -> dict[str, float]:
    from course_lib.datasets.handbook import load_handbook

    docs = [stems(doc.text) for doc in load_handbook("current")]
    return idf_table(docs)


@lru_cache(maxsize=1)
def _idf_default() -> float:
    return max(_idf().values())


def _weights(question: str) -> dict[str, float]:
    idf, default = _idf(), _idf_default()
    return {term: idf.get(term, default) for term in dict.fromkeys(stems(question))}


def _overlap(weights: dict[str, float], have: frozenset[str]) -> float:
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in have) / total if total else 0.0


def _novelty(asked: set[str], unit_stems: frozenset[str]) -> float:
    """How much a unit adds to the question: 0.3 for none of its own words, 1 for three."""
    new = len(unit_stems - asked)
    return (0.3, 0.65, 0.85)[new] if new < 3 else 1.0


# A question asking for a type of answer is answered only if one of this many best units holds it.
_TYPED_AMONG = 3
_VECTORS: dict[str, Any] = {}  # text -> its embedding: the handbook's units recur in prompts
_CACHE_LIMIT = 100_000


def _embed(texts: Sequence[str], dims: int) -> NDArray[Any]:
    """Unit-length embeddings of ``texts``, cut to ``dims`` dimensions (Matryoshka style)."""
    import numpy as np

    missing = list(dict.fromkeys(t for t in texts if t not in _VECTORS))
    if missing:
        from course_lib.embeddings.wordllama_model import load_wordllama

        vectors = load_wordllama().embed(missing, norm=True, batch_size=256)
        if len(_VECTORS) + len(missing) > _CACHE_LIMIT:
            _VECTORS.clear()
        _VECTORS.update(zip(missing, vectors, strict=True))
    matrix = np.stack([_VECTORS[t][:dims] for t in texts])
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    result: NDArray[Any] = matrix / np.where(norms == 0, 1.0, norms)
    return result


@dataclass(frozen=True)
class _Read:
    """A unit with what scoring needs of it, worked out once per passage text."""

    unit: Unit
    own: frozenset[str]  # its stems
    near: frozenset[str]  # with its heading and lead-in


@lru_cache(maxsize=65536)
def _holds(text: str, wanted: frozenset[str]) -> bool:
    return holds_type(text, wanted)


@lru_cache(maxsize=8192)
def _read_passage(text: str) -> tuple[tuple[_Read, ...], frozenset[str]]:
    """The units of a passage, prepared, and the passage's stems (passages recur in prompts)."""
    units = []
    for unit in split_units(text):
        own = frozenset(stems(unit.text))
        near = own | frozenset(stems(f"{unit.heading} {unit.lead}"))
        units.append(_Read(unit, own, near))
    return tuple(units), frozenset(stems(text))


def _units(
    passages: Sequence[tuple[str, str]], keep: Callable[[Unit], bool] | None
) -> list[tuple[_Read, str, frozenset[str]]]:
    """Every unit of every passage (that ``keep`` accepts) with its source and passage stems."""
    out: list[tuple[_Read, str, frozenset[str]]] = []
    for passage_id, text in passages:
        units, passage_stems = _read_passage(text)
        out.extend(
            (read, passage_id, passage_stems) for read in units if keep is None or keep(read.unit)
        )
    return out


def read_passages(
    question: str,
    passages: Sequence[tuple[str, str]],
    tier: Tier,
    *,
    keep: Callable[[Unit], bool] | None = None,
) -> Reading:
    """Rank the units of ``passages`` as answers to ``question`` for ``tier``.

    ``keep`` drops units before ranking (the model ignores injected instructions this way).
    """
    units = _units(passages, keep)
    weights = _weights(question)
    if not units or not weights:
        return Reading((), 0.0)
    w = WEIGHTS[tier]
    wanted = answer_types(question)
    asked = set(weights)
    ranks = {pid: r for r, (pid, _) in enumerate(passages)}
    yes_no = is_yes_no(question)
    lexical, factors, typed_units = [], [], []
    for read, source, passage_stems in units:
        lexical.append(
            w.own * _overlap(weights, read.own)
            + w.local * _overlap(weights, read.near)
            + w.passage * _overlap(weights, passage_stems)
        )
        holds = _holds(read.unit.text, wanted)
        typed_units.append(holds)
        if yes_no:
            holds = True  # a rule answers a yes/no question, amount or not
        factor = _novelty(asked, read.own) * (1.0 if holds else w.wrong_type)
        factors.append(factor * (1 - w.rank_decay * ranks.get(source, 0) / max(len(passages), 1)))
    passage_cos = _passage_cosines(question, units, passages, w)
    first = [
        (lex + w.passage_cosine * pc) * f
        for lex, pc, f in zip(lexical, passage_cos, factors, strict=True)
    ]
    unit_cos = _unit_cosines(question, units, first, w)
    found = []
    for i, (read, source, _) in enumerate(units):
        score = first[i] + w.unit_cosine * unit_cos[i] * factors[i]
        found.append(Found(read.unit, source, i, round(score, 6), typed_units[i]))
    ranked = tuple(sorted(found, key=lambda f: (-f.score, f.position)))
    typed = not wanted or any(f.typed for f in ranked[:_TYPED_AMONG])
    return Reading(ranked, ranked[0].score if typed else 0.0)


def _passage_cosines(
    question: str,
    units: list[tuple[_Read, str, frozenset[str]]],
    passages: Sequence[tuple[str, str]],
    w: Weights,
) -> list[float]:
    """Per unit, the question's cosine with the unit's passage (0 when the tier ignores it)."""
    if not w.passage_cosine:
        return [0.0] * len(units)
    texts = dict(passages)
    vectors = _embed([question, *texts.values()], w.dims)
    by_passage = {
        pid: max(0.0, float(v @ vectors[0])) for pid, v in zip(texts, vectors[1:], strict=True)
    }
    return [by_passage[source] for _, source, _ in units]


def _unit_cosines(
    question: str, units: list[tuple[_Read, str, frozenset[str]]], first: list[float], w: Weights
) -> list[float]:
    """Per unit, the question's cosine with the unit, for the best units by the first pass.

    Embedding every unit of every passage is most of a request's cost; only the units that the
    words and the passage already rank near the top can win, so only they are embedded.
    """
    cosines = [0.0] * len(units)
    if not w.unit_cosine:
        return cosines
    best = sorted(range(len(units)), key=lambda i: (-first[i], i))[: w.embed_top]
    vectors = _embed([question, *(units[i][0].unit.text for i in best)], w.dims)
    for i, v in zip(best, vectors[1:], strict=True):
        cosines[i] = max(0.0, float(v @ vectors[0]))
    return cosines
