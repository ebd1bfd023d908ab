"""Baseline retrieval numbers for the golden set: BM25 and the default embedder over sections.

A datasheet that says "the golden set is hard" means little without a number; these baselines
are the numbers every later retrieval lesson has to beat. They are deliberately plain: no
chunking beyond the handbook's own sections, no re-ranking, no query rewriting, default BM25
parameters.

* Retrieval units are the sections of the current handbook (``split_sections``), each embedded
  or indexed as ``title + heading + section text``.
* Every document is searched, restricted ones included: the baseline measures retrieval
  quality, not access control (the assistant filters by access before retrieval; lessons show
  how).
* For each answerable question (every type except ``unanswerable``): recall@5 is the share of
  its distinct cited documents found among the documents of the top-5 sections; the reciprocal
  rank is 1/rank of the first section (within the top 10) whose document is cited, else 0.

Run it from the ``course`` command line::

    course data baselines           # print the table
    course data baselines --write   # update the table in README.md
    course data baselines --check   # exit 1 if README.md's table is stale

Rankings are deterministic: equal scores are ordered by section position, and the WordLlama
embedder gives bitwise-identical vectors on every run. Numbers are rounded to 3 decimals.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from course_lib.datasets.errors import DatasetError
from course_lib.datasets.golden import (
    GOLDEN_DIR,
    GOLDEN_SPLITS,
    GOLDEN_TYPES,
    GoldenQuestion,
    load_golden_set,
)
from course_lib.datasets.handbook import load_handbook, split_sections
from course_lib.evaluation import unit_recall_at_k, unit_reciprocal_rank

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "DATASHEET",
    "DEPTH",
    "END_MARKER",
    "METHODS",
    "START_MARKER",
    "K",
    "RetrievalUnit",
    "baseline_table",
    "bm25_rankings",
    "datasheet_table",
    "dense_rankings",
    "rankings",
    "retrieval_baselines",
    "retrieval_units",
    "write_table",
]

DATASHEET = GOLDEN_DIR.parent / "README.md"  # the datasets' datasheet, where the table lives
START_MARKER = "<!-- baselines:start -->"
END_MARKER = "<!-- baselines:end -->"
K = 5  # recall@K
DEPTH = 10  # the reciprocal rank looks this deep, then counts 0
METHODS: tuple[str, ...] = ("bm25", "dense")
_METHOD_LABELS = {"bm25": "BM25", "dense": "dense"}
_ANSWERABLE_TYPES = tuple(t for t in GOLDEN_TYPES if t != "unanswerable")


@dataclass(frozen=True)
class RetrievalUnit:
    """One searchable section: the document it comes from, its heading, and the indexed text."""

    doc_id: str
    heading: str
    text: str  # title + heading + section text: what BM25 indexes and the embedder embeds


@lru_cache(maxsize=1)
def retrieval_units() -> tuple[RetrievalUnit, ...]:
    """The sections of the current handbook, every access level, in document and section order.

    The title and heading go in front of the section text because a section often only makes
    sense with them ("Exceptions" of which policy?).
    """
    return tuple(
        RetrievalUnit(doc.id, section.heading, f"{doc.title}\n{section.heading}\n{section.text}")
        for doc in load_handbook("current")
        for section in split_sections(doc.text)
    )


def bm25_rankings(
    units: Sequence[RetrievalUnit], queries: Sequence[str], depth: int = DEPTH
) -> list[list[int]]:
    """For each query, the indices of up to ``depth`` best units by BM25 (bm25s defaults).

    Scores for every unit are computed and sorted here rather than by ``retrieve``, so that ties
    are broken the same way on every machine. Units sharing no term with the query are not
    returned, so a ranking can be shorter than ``depth``.
    """
    import bm25s

    from course_lib.rag.bm25 import tokenize, top_positive

    retriever = bm25s.BM25()
    retriever.index(tokenize([unit.text for unit in units]), show_progress=False)
    return [
        top_positive(retriever.get_scores(tokens), depth) if tokens else []
        for tokens in tokenize(queries)
    ]


def dense_rankings(
    units: Sequence[RetrievalUnit], queries: Sequence[str], depth: int = DEPTH
) -> list[list[int]]:
    """For each query, the indices of the ``depth`` most cosine-similar units (default embedder)."""
    from course_lib.embeddings import get_embedder, top_k

    embedder = get_embedder()
    matrix = embedder.embed([unit.text for unit in units])
    indices, _ = top_k(embedder.embed(list(queries)), matrix, depth)
    return [[int(i) for i in row] for row in indices]


_RANKERS: dict[str, Callable[[Sequence[RetrievalUnit], Sequence[str], int], list[list[int]]]] = {
    "bm25": bm25_rankings,
    "dense": dense_rankings,
}


def rankings(method: str, queries: Sequence[str], depth: int = DEPTH) -> list[list[RetrievalUnit]]:
    """The ranked units of one method for each query: the building block of the metrics."""
    if method not in _RANKERS:
        raise DatasetError(f"Unknown retrieval method {method!r}. Choose one of {list(METHODS)}.")
    units = retrieval_units()
    return [[units[i] for i in row] for row in _RANKERS[method](units, queries, depth)]


def _mean(values: Sequence[float]) -> float:
    return round(sum(values) / len(values), 3) if values else float("nan")


def retrieval_baselines(split: str = "dev", methods: Sequence[str] = METHODS) -> pd.DataFrame:
    """Recall@5 and MRR of each method on one split's answerable questions, overall and per type.

    One row per method and question type (``all`` first), with columns ``method``, ``type``,
    ``questions``, ``recall_at_5`` and ``mrr``, rounded to 3 decimals.

    Raises:
        DatasetError: unknown split or method.
    """
    import pandas as pd

    questions: list[GoldenQuestion] = [q for q in load_golden_set(split) if q.answerable]
    rows = []
    for method in methods:
        ranked = rankings(method, [q.question for q in questions])
        scores: list[tuple[str, float, float]] = []
        for question, units in zip(questions, ranked, strict=True):
            doc_ids = [unit.doc_id for unit in units]
            scores.append(
                (
                    question.type,
                    unit_recall_at_k(doc_ids, question.doc_ids, K),
                    unit_reciprocal_rank(doc_ids, question.doc_ids, DEPTH),
                )
            )
        for kind in ("all", *_ANSWERABLE_TYPES):
            chosen = [s for s in scores if kind == "all" or s[0] == kind]
            rows.append(
                {
                    "method": method,
                    "type": kind,
                    "questions": len(chosen),
                    f"recall_at_{K}": _mean([s[1] for s in chosen]),
                    "mrr": _mean([s[2] for s in chosen]),
                }
            )
    return pd.DataFrame(rows)


def baseline_table(splits: Sequence[str] = GOLDEN_SPLITS) -> str:
    """The Markdown table for the datasheet: one row per split and question type."""
    labels = [_METHOD_LABELS[m] for m in METHODS]
    header = ["split", "type", "questions"]
    for label in labels:
        header += [f"{label} recall@{K}", f"{label} MRR"]
    lines = ["| " + " | ".join(header) + " |", "|---|---|" + "---:|" * (len(header) - 2)]
    for split in splits:
        frame = retrieval_baselines(split).set_index(["type", "method"])
        for kind in ("all", *_ANSWERABLE_TYPES):
            cells = [split, kind, str(int(frame.loc[(kind, METHODS[0]), "questions"]))]
            for method in METHODS:
                row = frame.loc[(kind, method)]
                cells += [f"{row[f'recall_at_{K}']:.3f}", f"{row['mrr']:.3f}"]
            if kind == "all":
                cells = [f"**{cell}**" for cell in cells]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _block() -> re.Pattern[str]:
    return re.compile(rf"{re.escape(START_MARKER)}\n(.*?)\n?{re.escape(END_MARKER)}", re.S)


def datasheet_table(path: Path = DATASHEET) -> str:
    """The table currently between the markers of the datasheet."""
    match = _block().search(path.read_text(encoding="utf-8"))
    if match is None:
        raise DatasetError(
            f"{path.name} has no {START_MARKER} ... {END_MARKER} block. Add the two markers "
            "where the baseline table belongs, then run with --write."
        )
    return match.group(1).strip()


def write_table(table: str, path: Path = DATASHEET) -> bool:
    """Puts ``table`` between the datasheet's markers; returns whether the file changed."""
    datasheet_table(path)  # fails with a clear message when the markers are missing
    text = path.read_text(encoding="utf-8")
    new = _block().sub(lambda _: f"{START_MARKER}\n{table}\n{END_MARKER}", text, count=1)
    if new == text:
        return False
    path.write_text(new, encoding="utf-8")
    return True
