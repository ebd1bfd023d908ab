"""Load the Handbook Assistant's golden set: questions with the handbook passages that answer them.

An evaluation is only as trustworthy as its reference answers, so every answerable question
cites the document, the section and a verbatim quote that supports its answer. Lessons use the
``dev`` split to tune retrieval and prompts and keep ``test`` for the final measurement; mixing
them up is how a team fools itself, which is why a split is always named explicitly.

The questions live in ``golden/*.jsonl`` (one JSON object per line: one file per area of the
handbook, plus one per slice). A slice is a set of questions that share a tag, such as
``paraphrase``: questions asked in everyday words rather than the handbook's, so that an
evaluation can report them apart with ``load_golden_set("dev", tag="paraphrase")``. Records are
frozen dataclasses so that an evaluation cannot edit its own reference by accident.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, overload

from course_lib.datasets.errors import DatasetError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "FRAME_COLUMNS",
    "GOLDEN_DIR",
    "GOLDEN_SPLITS",
    "GOLDEN_TAGS",
    "GOLDEN_TYPES",
    "GoldenQuestion",
    "GoldenSource",
    "load_golden_set",
]

GOLDEN_DIR = Path(__file__).parent / "golden"
GOLDEN_SPLITS: tuple[str, ...] = ("dev", "test")
GOLDEN_TYPES: tuple[str, ...] = (
    "fact",
    "multi_doc",
    "unanswerable",
    "restricted",
    "version_sensitive",
)
# The slices a question can belong to. ``paraphrase``: asked in the words of someone who has not
# read the handbook, with few of the cited passage's or the document title's content words.
GOLDEN_TAGS: tuple[str, ...] = ("paraphrase",)
_FIELDS = (
    "id",
    "question",
    "type",
    "sources",
    "answer",
    "stale_answer",
    "stale_source",
    "split",
    "tags",
)
FRAME_COLUMNS = (
    "id",
    "question",
    "type",
    "split",
    "answer",
    "doc_ids",
    "sources",
    "stale_answer",
    "stale_source",
    "tags",
)


@dataclass(frozen=True)
class GoldenSource:
    """One passage that supports an answer: its document, its section heading, a verbatim quote.

    ``section`` is a heading as :func:`course_lib.datasets.split_sections` returns it, so a
    quote can be checked against (or highlighted in) exactly that section.
    """

    doc_id: str
    section: str
    quote: str


@dataclass(frozen=True)
class GoldenQuestion:
    """One golden question and its reference answer.

    ``type`` says what the question tests: ``fact`` (one passage), ``multi_doc`` (passages from
    several documents), ``unanswerable`` (the handbook does not say: no sources, the right
    answer is a refusal), ``restricted`` (answered only by a restricted document) and
    ``version_sensitive`` (a fact that changed between v1 and the current handbook:
    ``stale_answer`` and ``stale_source`` give the outdated answer and its v1 passage).
    ``tags`` names the slices the question belongs to (see ``GOLDEN_TAGS``), empty for most.
    """

    id: str
    question: str
    type: str
    sources: tuple[GoldenSource, ...]
    answer: str
    stale_answer: str | None
    stale_source: GoldenSource | None
    split: str
    tags: tuple[str, ...] = ()

    @property
    def doc_ids(self) -> tuple[str, ...]:
        """The distinct cited document ids, in citation order (what retrieval should find)."""
        return tuple(dict.fromkeys(source.doc_id for source in self.sources))

    @property
    def answerable(self) -> bool:
        """Whether the handbook answers the question (every type except ``unanswerable``)."""
        return self.type != "unanswerable"


def _source(raw: Any, where: str) -> GoldenSource:
    if not isinstance(raw, dict) or set(raw) != {"doc_id", "section", "quote"}:
        raise DatasetError(
            f"{where}: a source must be an object with exactly doc_id, section and quote "
            f"(got {raw!r}). Fix the line in the golden set."
        )
    return GoldenSource(doc_id=str(raw["doc_id"]), section=str(raw["section"]), quote=raw["quote"])


def _tags(raw: Any, where: str) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(tag, str) for tag in raw):
        raise DatasetError(f"{where}: tags must be a list of strings (got {raw!r}). Fix the line.")
    unknown = [tag for tag in raw if tag not in GOLDEN_TAGS]
    if unknown:
        raise DatasetError(
            f"{where}: unknown tags {unknown}; the known ones are {list(GOLDEN_TAGS)}. "
            "Fix the line, or add the tag to GOLDEN_TAGS."
        )
    if len(set(raw)) != len(raw):
        raise DatasetError(f"{where}: tags repeat ({raw!r}). Fix the line.")
    return tuple(raw)


def _question(raw: Any, where: str) -> GoldenQuestion:
    # ``tags`` is the last key and may be left out: a record without it belongs to no slice.
    if not isinstance(raw, dict) or tuple(raw) not in (_FIELDS, _FIELDS[:-1]):
        keys = list(raw) if isinstance(raw, dict) else type(raw).__name__
        raise DatasetError(
            f"{where}: expected the keys {list(_FIELDS)} in this order, `tags` optional "
            f"(got {keys}). Fix the line in the golden set."
        )
    if raw["type"] not in GOLDEN_TYPES:
        raise DatasetError(
            f"{where}: type {raw['type']!r} is not one of {list(GOLDEN_TYPES)}. Fix the line."
        )
    if raw["split"] not in GOLDEN_SPLITS:
        raise DatasetError(
            f"{where}: split {raw['split']!r} is not one of {list(GOLDEN_SPLITS)}. Fix the line."
        )
    stale = raw["stale_source"]
    return GoldenQuestion(
        id=str(raw["id"]),
        question=str(raw["question"]),
        type=raw["type"],
        sources=tuple(_source(source, where) for source in raw["sources"]),
        answer=str(raw["answer"]),
        stale_answer=raw["stale_answer"],
        stale_source=None if stale is None else _source(stale, where),
        split=raw["split"],
        tags=_tags(raw.get("tags", []), where),
    )


@lru_cache(maxsize=1)
def _load_all() -> tuple[GoldenQuestion, ...]:
    """Every question of every file, parsed once per process and sorted by id."""
    questions: list[GoldenQuestion] = []
    for path in sorted(GOLDEN_DIR.glob("*.jsonl")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            where = f"{path.name} line {number}"
            try:
                raw = json.loads(line)
            except json.JSONDecodeError as error:
                raise DatasetError(f"{where} is not valid JSON ({error.msg}). Fix it.") from error
            questions.append(_question(raw, where))
    if not questions:
        raise DatasetError(
            f"No golden questions found in {GOLDEN_DIR.name}/*.jsonl. Reinstall the course "
            "package: its data files are missing."
        )
    duplicates = sorted(i for i, n in Counter(q.id for q in questions).items() if n > 1)
    if duplicates:
        raise DatasetError(f"Golden question ids are not unique: {duplicates}. Renumber them.")
    return tuple(sorted(questions, key=lambda q: q.id))


@overload
def load_golden_set(
    split: str | None = None, *, tag: str | None = None, as_frame: Literal[False] = False
) -> list[GoldenQuestion]: ...


@overload
def load_golden_set(
    split: str | None = None, *, tag: str | None = None, as_frame: Literal[True]
) -> pd.DataFrame: ...


def load_golden_set(
    split: str | None = None, *, tag: str | None = None, as_frame: bool = False
) -> list[GoldenQuestion] | pd.DataFrame:
    """The golden questions of one split (``"dev"`` or ``"test"``), or all of them, sorted by id.

    Tune on ``dev``; measure once on ``test``. ``tag`` keeps only the questions of one slice
    (one of ``GOLDEN_TAGS``, e.g. ``"paraphrase"``). With ``as_frame=True`` the result is a
    pandas DataFrame with one row per question: ``doc_ids`` holds the distinct cited document ids
    in order, ``sources`` and ``stale_source`` hold plain dicts, ``tags`` a list of strings.

    Raises:
        DatasetError: ``split`` is not ``None``, ``"dev"`` or ``"test"``, or ``tag`` is not
            ``None`` or one of ``GOLDEN_TAGS``.
    """
    if split is not None and split not in GOLDEN_SPLITS:
        raise DatasetError(
            f"Unknown split {split!r}. Choose one of {list(GOLDEN_SPLITS)}, or None for both."
        )
    if tag is not None and tag not in GOLDEN_TAGS:
        raise DatasetError(
            f"Unknown tag {tag!r}. Choose one of {list(GOLDEN_TAGS)}, or None for every question."
        )
    questions = [
        q
        for q in _load_all()
        if (split is None or q.split == split) and (tag is None or tag in q.tags)
    ]
    if not as_frame:
        return questions
    return _frame(questions)


def _frame(questions: list[GoldenQuestion]) -> pd.DataFrame:
    import pandas as pd

    def as_dict(source: GoldenSource) -> dict[str, str]:
        return {"doc_id": source.doc_id, "section": source.section, "quote": source.quote}

    rows = [
        {
            "id": q.id,
            "question": q.question,
            "type": q.type,
            "split": q.split,
            "answer": q.answer,
            "doc_ids": list(q.doc_ids),
            "sources": [as_dict(source) for source in q.sources],
            "stale_answer": q.stale_answer,
            "stale_source": None if q.stale_source is None else as_dict(q.stale_source),
            "tags": list(q.tags),
        }
        for q in questions
    ]
    return pd.DataFrame(rows, columns=list(FRAME_COLUMNS))
