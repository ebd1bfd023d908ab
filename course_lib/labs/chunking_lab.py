"""Lesson 2.1's bench: chunkings of the handbook measured on the golden questions.

A chunking is judged by what retrieval finds with it, so this module turns any list of chunks
into the same measurement: embed what the index would embed, rank by cosine similarity (exact,
ties to the earlier chunk), and score each answerable question with
:func:`course_lib.rag.question_metrics`. It is the ``dense`` mode of
:func:`course_lib.rag.evaluate_retrieval` without building a SQLite index per candidate, which
is what makes a sweep of chunk sizes fit in a few seconds.

The prototype a tutorial stops at is here too (:func:`prototype_passages`): character windows
of the raw text, embedded as they are, with nothing but the document id kept. The lesson
measures it against the production chunkers of :mod:`course_lib.rag.chunking`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from course_lib.rag.chunking import Chunk, make_chunk
from course_lib.rag.documents import HandbookDocument
from course_lib.rag.retrieval_eval import DEPTH, LabelledQuestion, question_metrics

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from course_lib.embeddings.base import Embedder

__all__ = [
    "CONTEXT_BUDGET",
    "COVERAGE",
    "EMBED_LIMIT",
    "QUALITY_MARGIN",
    "ChunkerScore",
    "Passage",
    "character_windows",
    "chunker_shortfall",
    "chunks_from_word_windows",
    "edit_document",
    "embedded_texts",
    "evaluate_chunks",
    "plot_chunk_size_sweep",
    "prototype_passages",
    "prototype_scores",
    "score_chunker",
    "sweep_chunk_sizes",
    "word_coverage",
]

EMBED_LIMIT = 512
"""The course's cap on a chunk's tokens, title and heading included.

The default embedder (WordLlama) averages token vectors and reads a text of any length, so the
cap is a setting, not its limit: BERT-style transformer embedders read at most 512 tokens
(all-MiniLM-L6-v2 truncates at 256 word pieces) and silently drop the rest, and five chunks
this long fill 2,560 tokens of a prompt."""

COVERAGE = 0.95
"""The share of a document's distinct words its chunks must keep (:func:`score_chunker`)."""

CONTEXT_BUDGET = 700
"""Lesson 2.1's target for the mean tokens of the top 5 chunks a question retrieves: about
half the character-window prototype's 1,386 on the golden dev split."""

QUALITY_MARGIN = 0.03
"""How far below the prototype's recall@5 and MRR a cheaper chunker may score (a
non-inferiority margin, well inside the noise of about 150 questions)."""

Windower = Callable[[list[str], int, int], list[list[str]]]
_HEADING = re.compile(r"^#{1,2}\s+(.*\S)\s*$")

# A lesson measures the same texts many times (the prototype on dev, then on test; a chunker
# scored on dev, then checked on test), so vectors and token counts are kept per embedder and
# text. Both depend on the text alone, so a cached value is the value computed afresh.
_CACHE_LIMIT = 50_000
_VECTORS: dict[tuple[object, str], Any] = {}
_TOKENS: dict[tuple[object, str], int] = {}


def _embedder_key(embedder: Embedder) -> object:
    return getattr(embedder, "identity", None) or id(embedder)


def _embed(embedder: Embedder, texts: Sequence[str]) -> Any:
    """``embedder.embed(texts)`` as a float64 matrix, embedding only texts not seen before."""
    import numpy as np

    key = _embedder_key(embedder)
    missing = list(dict.fromkeys(t for t in texts if (key, t) not in _VECTORS))
    if missing:
        if len(_VECTORS) + len(missing) > _CACHE_LIMIT:
            _VECTORS.clear()
        vectors = np.asarray(embedder.embed(missing), dtype=np.float64)
        _VECTORS.update(((key, t), row) for t, row in zip(missing, vectors, strict=True))
    return np.array([_VECTORS[key, t] for t in texts], dtype=np.float64).reshape(len(texts), -1)


def _over_limit(text: str, count: Callable[[str], int], limit: int = EMBED_LIMIT) -> bool:
    """Whether ``text`` holds more than ``limit`` tokens, counting only when it could.

    A token covers at least one UTF-8 byte (one more for a leading word-start marker), so a
    text of at most ``limit - 1`` bytes is within the limit without running the tokenizer.
    """
    return len(text.encode("utf-8")) + 1 > limit and count(text) > limit


def _context_tokens(texts: Sequence[str], order: Any, count: Callable[[str], int], k: int) -> float:
    """Mean tokens of the first ``k`` units each question retrieved (``order``'s rows)."""
    if not len(order):
        return 0.0
    top = order[:, :k]
    return float(sum(count(texts[int(i)]) for i in top.ravel()) / len(top))


def _counter(embedder: Embedder) -> Callable[[str], int]:
    """``embedder.count_tokens``, remembering every text it has counted."""
    key = _embedder_key(embedder)

    def count(text: str) -> int:
        if (key, text) not in _TOKENS:
            if len(_TOKENS) >= _CACHE_LIMIT:
                _TOKENS.clear()
            _TOKENS[key, text] = embedder.count_tokens(text)
        return _TOKENS[key, text]

    return count


@dataclass(frozen=True)
class Passage:
    """A prototype's chunk: a document id and a piece of raw text, nothing else."""

    doc_id: str
    text: str


def character_windows(text: str, size: int = 1000, overlap: int = 200) -> list[str]:
    """Windows of ``size`` characters, each starting ``size - overlap`` after the last.

    The tutorial splitter: it cuts inside words and sentences, which is what overlap is meant
    to soften.
    """
    if size <= 0 or not 0 <= overlap < size:
        raise ValueError(f"Need size > 0 and 0 <= overlap < size (got {size=}, {overlap=}).")
    step = size - overlap
    windows = []
    for start in range(0, len(text), step):
        windows.append(text[start : start + size])
        if start + size >= len(text):
            break
    return windows


def prototype_passages(
    docs: Iterable[HandbookDocument], size: int = 1000, overlap: int = 200
) -> list[Passage]:
    """Every document cut into character windows and kept as raw text with its id only."""
    return [
        Passage(doc.id, window)
        for doc in docs
        for window in character_windows(doc.text, size, overlap)
    ]


def embedded_texts(units: Sequence[Chunk | Passage | str]) -> list[str]:
    """What an index embeds for each unit: a chunk's title + heading + text, else the text."""
    return [
        unit.indexed_text if isinstance(unit, Chunk) else str(getattr(unit, "text", unit))
        for unit in units
    ]


def _words_with_headings(doc: HandbookDocument) -> list[tuple[str, str]]:
    """Each whitespace-separated word of ``doc`` with the heading in force where it stands."""
    heading = doc.title
    words: list[tuple[str, str]] = []
    for line in doc.text.splitlines():
        if match := _HEADING.match(line):
            heading = match.group(1)
        words.extend((word, heading) for word in line.split())
    return words


def chunks_from_word_windows(
    docs: Iterable[HandbookDocument],
    windower: Windower,
    size: int,
    overlap: int,
    *,
    count_tokens: Callable[[str], int] | None = None,
) -> list[Chunk]:
    """Cuts each document with ``windower(words, size, overlap)`` and keeps the metadata.

    Each window becomes a :class:`~course_lib.rag.Chunk` with the document's id, title,
    version, team and access level, and the heading in force at the window's first word, so a
    fixed-size chunker gets the same metadata (and the same embedded title and heading) as the
    production ones. Token counts are whitespace words unless ``count_tokens`` is given.
    """
    count = count_tokens or (lambda text: len(text.split()))
    chunks: list[Chunk] = []
    for doc in docs:
        tagged = _words_with_headings(doc)
        windows = windower([word for word, _ in tagged], size, overlap)
        start = 0
        for position, window in enumerate(windows):
            section = tagged[min(start, len(tagged) - 1)][1] if tagged else doc.title
            start += max(size - overlap, 1)
            chunks.append(make_chunk(doc, section, " ".join(window), position, count))
    return chunks


def _rankings(
    units: Sequence[Chunk | Passage | str],
    questions: Sequence[LabelledQuestion],
    embedder: Embedder,
    depth: int,
) -> tuple[list[LabelledQuestion], Any]:
    """The answerable questions, and for each the positions of its ``depth`` best units."""
    import numpy as np

    answerable = [q for q in questions if q.answerable]
    if not units or not answerable:
        return answerable, np.zeros((len(answerable), 0), dtype=np.int64)
    vectors = _embed(embedder, embedded_texts(units))
    queries = _embed(embedder, [q.question for q in answerable])
    order = np.argsort(-(queries @ vectors.T), axis=1, kind="stable")[:, :depth]
    return answerable, order


def _scores(
    answerable: Sequence[LabelledQuestion], order: Any, owners: Sequence[str], k: int, depth: int
) -> pd.DataFrame:
    import pandas as pd

    rows = []
    for question, positions in zip(answerable, order, strict=True):
        ranked = [owners[i] for i in positions]
        rows.append(
            {
                "question_id": question.id,
                "type": question.type,
                **question_metrics(ranked, question.doc_ids, k=k, depth=depth),
                "retrieved": ranked[:k],
                "gold": list(question.doc_ids),
            }
        )
    columns = ["question_id", "type", "recall", "mrr", "ndcg", "retrieved", "gold"]
    return pd.DataFrame(rows, columns=columns)


def _owners(units: Sequence[Chunk | Passage | str], doc_ids: Sequence[str] | None) -> list[str]:
    if doc_ids is None:
        if any(isinstance(unit, str) for unit in units):
            raise ValueError("Plain strings carry no document id: pass doc_ids=[...], one each.")
        doc_ids = [unit.doc_id for unit in units if not isinstance(unit, str)]
    owners = list(doc_ids)
    if len(owners) != len(units):
        raise ValueError(f"{len(units)} units but {len(owners)} document ids.")
    return owners


def _default_embedder(embedder: Embedder | None) -> Embedder:
    if embedder is not None:
        return embedder
    from course_lib.embeddings import get_embedder

    return get_embedder()


def evaluate_chunks(
    units: Sequence[Chunk | Passage | str],
    questions: Sequence[LabelledQuestion],
    *,
    doc_ids: Sequence[str] | None = None,
    embedder: Embedder | None = None,
    k: int = 5,
    depth: int = DEPTH,
) -> pd.DataFrame:
    """Dense retrieval over ``units``, scored per answerable question.

    Columns as :func:`course_lib.rag.evaluate_retrieval` (without ``mode``): ``question_id``,
    ``type``, ``recall``, ``mrr``, ``ndcg``, ``retrieved`` and ``gold``, so
    :func:`course_lib.rag.summarise_retrieval` summarises it.

    Args:
        units: chunks (embedded by :attr:`Chunk.indexed_text`), passages or plain strings.
        questions: labelled questions; unanswerable ones are skipped.
        doc_ids: each unit's document id, needed only for plain strings.
        embedder: the default embedder when omitted.
    """
    owners = _owners(units, doc_ids)
    answerable, order = _rankings(units, questions, _default_embedder(embedder), max(k, depth))
    return _scores(answerable, order, owners, k, depth)


def sweep_chunk_sizes(
    docs: Sequence[HandbookDocument],
    questions: Sequence[LabelledQuestion],
    sizes: Sequence[int],
    windower: Windower,
    *,
    overlap_share: float = 0.125,
    embedder: Embedder | None = None,
    seed: int = 0,
    k: int = 5,
) -> pd.DataFrame:
    """Fixed word windows of each size, measured: one row per size.

    Columns: ``size`` (words), ``overlap`` (words), ``chunks``, ``recall``, ``recall_low``,
    ``recall_high``, ``mrr``, ``mrr_low``, ``mrr_high`` (95% bootstrap intervals),
    ``context_tokens`` (mean tokens of the top ``k`` chunks a question retrieves: what the
    prompt pays for) and ``over_limit`` (share of chunks over :data:`EMBED_LIMIT` tokens).
    """
    import pandas as pd

    from course_lib.rag.retrieval_eval import summarise_retrieval

    embedder = _default_embedder(embedder)
    rows = []
    for size in sizes:
        overlap = int(size * overlap_share)
        chunks = chunks_from_word_windows(docs, windower, size, overlap)
        count = _counter(embedder)
        texts = embedded_texts(chunks)
        answerable, order = _rankings(chunks, questions, embedder, max(k, DEPTH))
        frame = _scores(answerable, order, [c.doc_id for c in chunks], k, DEPTH)
        summary = summarise_retrieval(frame.assign(size=size), by=("size",), seed=seed).iloc[0]
        metrics = ("recall", "recall_low", "recall_high", "mrr", "mrr_low", "mrr_high")
        rows.append(
            {
                "size": size,
                "overlap": overlap,
                "chunks": len(chunks),
                **{name: float(summary[name]) for name in metrics},
                "context_tokens": _context_tokens(texts, order, count, k),
                "over_limit": sum(_over_limit(t, count) for t in texts) / max(len(texts), 1),
            }
        )
    return pd.DataFrame(rows)


def plot_chunk_size_sweep(sweep: pd.DataFrame, highlight: int | None = None) -> Figure:
    """Recall@5 with its interval, and context tokens, against the chunk size."""
    import matplotlib.pyplot as plt

    figure, (quality, cost) = plt.subplots(1, 2, figsize=(10, 3.4))
    quality.plot(sweep["size"], sweep["recall"], "o-", label="recall@5")
    quality.fill_between(sweep["size"], sweep["recall_low"], sweep["recall_high"], alpha=0.2)
    quality.plot(sweep["size"], sweep["mrr"], "s--", label="MRR")
    quality.fill_between(sweep["size"], sweep["mrr_low"], sweep["mrr_high"], alpha=0.2)
    quality.set_ylim(0, 1)
    quality.set_ylabel("dev split, 95% intervals")
    quality.legend(loc="lower right")
    cost.plot(sweep["size"], sweep["context_tokens"], "o-", color="tab:red")
    cost.axhline(5 * EMBED_LIMIT, color="grey", linestyle=":", label=f"5 x {EMBED_LIMIT} tokens")
    cost.set_ylabel("tokens in the top 5 chunks")
    cost.legend(loc="upper left")
    for axis in (quality, cost):
        axis.set_xscale("log", base=2)
        axis.set_xlabel("chunk size (words, 1/8 overlap)")
        axis.grid(alpha=0.3)
        if highlight is not None:
            axis.axvline(highlight, color="black", alpha=0.4)
    figure.tight_layout()
    return figure


def edit_document(doc: HandbookDocument, heading: str, sentence: str) -> HandbookDocument:
    """``doc`` with ``sentence`` added at the top of the section ``heading``, one version up.

    Raises:
        ValueError: ``doc`` has no ``## heading`` line.
    """
    marker = f"## {heading}\n"
    if marker not in doc.text:
        raise ValueError(f"{doc.id} has no section {heading!r}.")
    text = doc.text.replace(marker, f"{marker}\n{sentence}\n", 1)
    return dataclasses.replace(doc, text=text, version=doc.version + 1)


def word_coverage(doc: HandbookDocument, texts: Iterable[str]) -> float:
    """The share of ``doc``'s distinct words (lower case) that appear in ``texts``.

    A chunker that drops text (a skipped table, a section lost at a boundary) scores below 1.
    """
    words = set(doc.text.lower().split())
    if not words:
        return 1.0
    seen: set[str] = set()
    for text in texts:
        seen.update(text.lower().split())
    return len(words & seen) / len(words)


@dataclass(frozen=True)
class ChunkerScore:
    """A chunking measured on a golden split, or the first production rule it broke.

    Attributes:
        chunks: how many chunks it made of the handbook.
        recall: mean recall@5 (0 when a rule was broken).
        mrr: mean reciprocal rank (0 when a rule was broken).
        context_tokens: mean tokens of the top 5 chunks per question (title and heading
            included): what the prompt pays for (0 when a rule was broken).
        problem: one sentence naming the broken rule and the document, or ``None``.
    """

    chunks: int
    recall: float
    mrr: float
    context_tokens: float = 0.0
    problem: str | None = None

    def __str__(self) -> str:
        if self.problem:
            return f"rule broken: {self.problem}"
        return (
            f"{self.chunks} chunks: recall@5 {self.recall:.3f}, MRR {self.mrr:.3f}, "
            f"{self.context_tokens:,.0f} tokens in the top 5"
        )


def chunker_shortfall(
    score: ChunkerScore,
    baseline: ChunkerScore,
    *,
    budget: float = CONTEXT_BUDGET,
    margin: float = QUALITY_MARGIN,
) -> str | None:
    """Which target of exercise 2.1.3 ``score`` misses against ``baseline``, or ``None``.

    The targets: no broken rule, at most ``budget`` tokens in the top 5 chunks, and recall@5
    and MRR each at least the baseline's minus ``margin`` (both measured on the same split).
    """
    if score.problem:
        return score.problem
    if score.context_tokens > budget:
        return (
            f"your top 5 chunks hold {score.context_tokens:,.0f} tokens on average, over the "
            f"budget of {budget:,.0f}: make the chunks smaller."
        )
    for name, got, floor in (
        ("recall@5", score.recall, baseline.recall - margin),
        ("MRR", score.mrr, baseline.mrr - margin),
    ):
        if got < floor:
            return (
                f"your {name} is {got:.3f}, below {floor:.3f} (the prototype's minus "
                f"{margin}): chunks this small lose the context a question needs."
            )
    return None


def _rule_broken(doc: HandbookDocument, got: object, count: Callable[[str], int]) -> str | None:
    """Why ``got``, a chunker's output for ``doc``, breaks a production rule, if it does."""
    call = f"my_chunker on document {doc.id!r}"
    if got is None:
        return f"{call} returned None; did you forget a `return`?"
    if isinstance(got, (str, Chunk)) or not isinstance(got, (list, tuple)):
        return f"{call} returned a {type(got).__name__}; return a list of chunks."
    if not got:
        return f"{call} returned no chunks: every document must be retrievable."
    for item in got:
        if not isinstance(item, Chunk):
            return (
                f"{call} returned a {type(item).__name__} among its chunks; return Chunk "
                "objects (from chunk_by_headings, chunk_fixed or chunk_semantic), which carry "
                "the document's metadata."
            )
        if item.doc_id != doc.id or item.access != doc.access:
            return (
                f"{call} returned a chunk with doc_id {item.doc_id!r} and access "
                f"{item.access!r}: a chunk must keep its document's id and access level, or "
                "citations and access control break."
            )
    over = [count(text) for text in embedded_texts(got) if _over_limit(text, count)]
    if over:
        return (
            f"{call} made a chunk of {max(over)} tokens (title and heading included); keep every "
            f"chunk within {EMBED_LIMIT}."
        )
    covered = word_coverage(doc, embedded_texts(got))  # headings count where they are kept
    if covered < COVERAGE:
        return (
            f"{call} keeps {covered:.0%} of the document's words; chunks must keep at least "
            f"{COVERAGE:.0%} of them (text left out can never be retrieved)."
        )
    return None


def _measure(
    units: Sequence[Chunk | Passage],
    split: str,
    embedder: Embedder,
    count: Callable[[str], int],
) -> ChunkerScore:
    """Recall@5, MRR and top-5 context tokens of dense retrieval over ``units`` on ``split``."""

    from course_lib.datasets import load_golden_set

    questions: Sequence[Any] = load_golden_set(split)
    owners = [unit.doc_id for unit in units]
    answerable, order = _rankings(units, questions, embedder, DEPTH)
    frame = _scores(answerable, order, owners, 5, DEPTH)
    context = _context_tokens(embedded_texts(units), order, count, 5)
    return ChunkerScore(
        len(units), float(frame["recall"].mean()), float(frame["mrr"].mean()), context
    )


def score_chunker(
    chunker: Callable[[HandbookDocument, Callable[[str], int]], Any],
    split: str = "dev",
    *,
    embedder: Embedder | None = None,
) -> ChunkerScore:
    """Chunks the whole handbook with ``chunker(doc, count_tokens)`` and measures it on ``split``.

    The production rules come first: a list of :class:`~course_lib.rag.Chunk` objects per
    document, each with its document's ``doc_id`` and ``access``, every embedded text (title +
    heading + text) within :data:`EMBED_LIMIT` tokens, and at least :data:`COVERAGE` of each
    document's words kept. Then dense retrieval over the chunks is scored: recall@5, MRR and
    the mean tokens of the top 5 chunks. Exceptions from ``chunker`` propagate.
    """
    from course_lib.datasets import load_handbook

    embedder = _default_embedder(embedder)
    count = _counter(embedder)
    units: list[Chunk] = []
    for doc in load_handbook():
        got = chunker(doc, count)
        problem = _rule_broken(doc, got, count)
        if problem:
            return ChunkerScore(len(units), 0.0, 0.0, 0.0, problem)
        units.extend(got)
    return _measure(units, split, embedder, count)


def prototype_scores(split: str = "dev", *, embedder: Embedder | None = None) -> ChunkerScore:
    """The character-window prototype (:func:`prototype_passages`, its defaults) on ``split``.

    Measured as :func:`score_chunker` measures a chunker, without its rules (the prototype
    breaks them: that is the lesson).
    """
    from course_lib.datasets import load_handbook

    embedder = _default_embedder(embedder)
    passages = prototype_passages(load_handbook())
    return _measure(passages, split, embedder, _counter(embedder))
