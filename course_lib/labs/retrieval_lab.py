"""Lesson 2.2's lab: the tutorial prototype of RAG, and the measurements that compare it with
the production index.

Nothing here is production code. :class:`PrototypeStore` is the RAG a tutorial stops at (every
vector in a Python list, top-k cosine, no access control, every chunk stuffed into the prompt),
kept so the lesson can measure what breaks. The other helpers score answers and retrievals the
way ``benchmarks/answers.py`` and ``benchmarks/rag.py`` do, so the lesson's figures are
comparable with the benchmark's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from course_lib.rag import Chunk, HandbookIndex, User, question_metrics

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    from numpy.typing import NDArray

    from course_lib.embeddings.base import Embedder
    from course_lib.llm import LLMClient
    from course_lib.rag import HandbookDocument

__all__ = [
    "SUPPORT_THRESHOLD",
    "PrototypeStore",
    "citation_support",
    "cited_doc_ids",
    "leaking_queries",
    "lesson_index",
    "prototype_answer",
    "repeated_documents",
    "retrieval_recall",
    "score_answers",
]

_CITE = re.compile(r"\[([A-Za-z0-9][A-Za-z0-9_.:#/-]{0,120})\]")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
SUPPORT_THRESHOLD = 0.5
"""The share of a claim's content words its cited passage must contain (as ``contains_fact``)."""


@dataclass
class PrototypeStore:
    """The tutorial's vector store: chunks and their vectors in memory, exact top-k cosine.

    What it lacks is the lesson: it reads every chunk whoever asks, an edit means embedding
    the whole corpus again (:meth:`from_documents` has no other path), and it remembers no
    embedder, so nothing stops a query vector of another model from being compared with it.
    """

    chunks: list[Chunk]
    vectors: NDArray[np.float32]
    embedder: Embedder
    embedded_texts: int = 0

    @classmethod
    def from_documents(
        cls, docs: Iterable[HandbookDocument], *, embedder: Embedder | None = None
    ) -> PrototypeStore:
        """Chunks ``docs`` as the index does (headings) and embeds every chunk.

        Token counts (the chunker's, not the embedding) are remembered between builds, so a
        lesson can rebuild the store quickly; every chunk is still embedded on every build.
        """
        from course_lib.embeddings import get_embedder
        from course_lib.labs.chunking_lab import _counter
        from course_lib.rag import DEFAULT_OPTIONS, chunk_by_headings

        count = _counter(get_embedder())  # the tokenizer chunk_documents counts with
        options = DEFAULT_OPTIONS["headings"]
        chunks = [c for doc in docs for c in chunk_by_headings(doc, count_tokens=count, **options)]
        embedder = embedder or get_embedder()
        vectors = embedder.embed([chunk.text for chunk in chunks])
        return cls(chunks, vectors, embedder, embedded_texts=len(chunks))

    def top_k(self, question: str, k: int = 5) -> list[Chunk]:
        """The ``k`` chunks most similar to ``question``, best first, whoever asks."""
        import numpy as np

        scores = self.vectors @ np.asarray(self.embedder.embed_one(question))
        order = np.argsort(-scores, kind="stable")[:k]
        return [self.chunks[int(i)] for i in order]


def lesson_index(
    name: str = "lesson_2_2",
    docs: Iterable[HandbookDocument] | None = None,
    *,
    fresh: bool = True,
    folder: str = "lesson_2_2",
) -> Path:
    """Builds an index of the handbook in ``folder`` of the work directory; returns its path.

    With ``fresh`` (the default) the file is built from scratch, so a lesson never reads an
    index another run edited. Without it an existing index is brought in line with ``docs`` by
    an upsert, which embeds only text it lacks: cheap when a lesson already built it.
    """
    from course_lib.datasets import load_handbook
    from course_lib.errors import EmbedderMismatchError, IndexMismatchError
    from course_lib.workdir import work_path

    path = work_path(folder, f"{name}.sqlite")
    documents = list(docs) if docs is not None else load_handbook()
    try:
        index = HandbookIndex.build(documents, path=path, rebuild=fresh)
    except (EmbedderMismatchError, IndexMismatchError):
        index = HandbookIndex.build(documents, path=path, rebuild=True)
    index.close()
    return path


def leaking_queries(results: Sequence[Sequence[Chunk]], user: User) -> int:
    """How many result lists hold at least one chunk ``user`` may not read."""
    return sum(any(not user.can_read(chunk.access) for chunk in hits) for hits in results)


def repeated_documents(results: Iterable[Sequence[Any]], *, k: int = 5) -> int:
    """How many result lists repeat a document among their first ``k`` results.

    A result is a :class:`~course_lib.rag.Retrieved` or a :class:`Chunk`. Recall@k counts
    documents, so a second chunk of a document already in the top ``k`` is a place that could
    have held another document.
    """
    return sum(
        len({getattr(hit, "chunk", hit).doc_id for hit in hits[:k]}) < len(hits[:k])
        for hits in results
    )


def cited_doc_ids(answer: str, citations: dict[str, str] | None = None) -> list[str]:
    """The documents an answer cites, in order: ``[doc-id]`` markers, or ``[doc-id#2]`` mapped
    back to its document; with ``citations`` (cite id -> anything), only ids that were given."""
    cited = []
    for cite_id in dict.fromkeys(_CITE.findall(answer)):
        if citations is not None and cite_id not in citations:
            continue
        cited.append(cite_id.split("#", 1)[0])
    return list(dict.fromkeys(cited))


@lru_cache(maxsize=1)
def _production_prompt() -> Any:
    """The prompt version production serves (read once: the lab asks hundreds of questions)."""
    from course_lib.prompts import PromptRegistry

    return PromptRegistry().resolve("handbook-answer", environment="production")


def prototype_answer(client: LLMClient, question: str, chunks: Sequence[Chunk]) -> str:
    """The prototype's answer: every chunk stuffed into the production prompt, in rank order.

    The same prompt version the Handbook Assistant uses, so retrieval and packing are the only
    differences between the two.
    """
    version = _production_prompt()
    passages = [{"id": chunk.doc_id, "text": chunk.text} for chunk in chunks]
    rendered = version.render(passages=passages, question=question)
    kwargs = rendered.chat_kwargs()
    kwargs["model"] = version.model_role
    return client.chat(**kwargs).content or ""


def score_answers(
    questions: Sequence[Any], answers: Sequence[tuple[str, Sequence[str]]]
) -> pd.DataFrame:
    """One row per answerable question: ``correct`` (states the reference's fact), ``cited``
    (cites a document that holds it) and ``good`` (both), as ``benchmarks/answers.py`` counts.

    Args:
        questions: golden questions; unanswerable ones are skipped.
        answers: per question (in the same order), the answer text and the cited document ids.
    """
    import pandas as pd

    from course_lib.evaluation.facts import contains_fact

    if len(questions) != len(answers):
        raise ValueError(f"{len(questions)} questions but {len(answers)} answers; pass one each.")
    rows = []
    for question, (text, cited) in zip(questions, answers, strict=True):
        if not question.answerable:
            continue
        correct = contains_fact(text, question.answer)
        is_cited = bool(set(question.doc_ids) & set(cited))
        rows.append(
            {
                "question_id": question.id,
                "type": question.type,
                "correct": correct,
                "cited": is_cited,
                "good": correct and is_cited,
            }
        )
    return pd.DataFrame(rows, columns=["question_id", "type", "correct", "cited", "good"])


def retrieval_recall(
    retrieve: Callable[[str], Sequence[Any]], questions: Sequence[Any], *, k: int = 5
) -> list[float]:
    """Recall@k of ``retrieve`` (question text -> results, best first) on each answerable
    question; a result is a :class:`~course_lib.rag.Retrieved` or a :class:`Chunk`."""
    scores = []
    for question in questions:
        if not question.answerable:
            continue
        hits = retrieve(question.question)
        doc_ids = [getattr(hit, "chunk", hit).doc_id for hit in hits]
        scores.append(question_metrics(doc_ids, question.doc_ids, k=k)["recall"])
    return scores


def citation_support(
    answer: str, passages: dict[str, str], *, threshold: float = SUPPORT_THRESHOLD
) -> dict[str, bool]:
    """Whether each passage the answer cites supports the sentence that cites it.

    The answer is split into sentences after ``.``, ``!`` or ``?``; a sentence's claim is its
    text without ``[cite-id]`` markers. A citation is supported when its id is one of
    ``passages`` and, in every sentence that cites it, at least ``threshold`` of the claim's
    content words (Snowball stems, as :func:`~course_lib.evaluation.facts.fact_recall` counts
    them) occur in the passage. A cited id the prompt never held is unsupported: the model
    made it up.

    Returns:
        cite id -> supported, in the order the answer first cites each id.
    """
    from course_lib.evaluation.facts import fact_recall

    verdicts: dict[str, bool] = {}
    for sentence in _SENTENCE_END.split(answer):
        claim = " ".join(_CITE.sub(" ", sentence).split())
        for cite_id in dict.fromkeys(_CITE.findall(sentence)):
            passage = passages.get(cite_id)
            ok = passage is not None and fact_recall(passage, claim) >= threshold
            verdicts[cite_id] = verdicts.get(cite_id, True) and ok
    return verdicts
