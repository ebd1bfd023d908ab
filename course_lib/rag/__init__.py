"""Retrieval for the Handbook Assistant: chunk, index, search with access control, pack, evaluate.

A question travels one way: :func:`search` (which asks the index) -> :func:`pack_context` ->
the prompt; the index never calls back. ::

    from course_lib.datasets import load_handbook
    from course_lib.rag import HandbookIndex, User, pack_context, search

    index = HandbookIndex.build(load_handbook())          # or HandbookIndex.open()
    user = User("u1", team="sre", clearance={"public", "internal"})
    hits = search(index, "How do I get production database access?", user=user, k=5)
    context = pack_context(hits)                          # context.text, context.citations

The modules, one concern each:

* :mod:`~course_lib.rag.documents`: :class:`HandbookDocument` (typed front matter and
  Markdown) and :data:`ACCESS_LEVELS`, which every loader produces;
* :mod:`~course_lib.rag.chunking`: :class:`Chunk` and the strategies (``"headings"``,
  ``"fixed"``, ``"semantic"``) behind :func:`chunk_documents`;
* :mod:`~course_lib.rag.index`: :class:`HandbookIndex`, SQLite + sqlite-vec + BM25 in one
  file, upserted by content hash (:class:`UpsertReport` counts the embedding calls), pinned to
  its embedder;
* :mod:`~course_lib.rag.access`: :class:`User` (alias :data:`Reader`) and their clearance;
* :mod:`~course_lib.rag.retrieval`: :func:`search` in ``dense``, ``bm25``, ``hybrid`` or
  ``reranked`` mode (the Handbook Assistant's), returning :class:`Retrieved`; access, team and
  version filters apply inside each query;
* :mod:`~course_lib.rag.fusion`: :func:`reciprocal_rank_fusion`, weighted or not;
* :mod:`~course_lib.rag.rerank`: the second stage of ``reranked``, each candidate judged by
  its sentence closest to the question;
* :mod:`~course_lib.rag.bm25`: one BM25 index per clearance, so restricted text never
  influences what others see; stemmed words;
* :mod:`~course_lib.rag.packing`: :func:`pack_context` into a token budget, with citations;
* :mod:`~course_lib.rag.retrieval_eval`: recall@k, MRR and nDCG on labelled questions (the
  golden set), with bootstrap confidence intervals.

Importing this package loads no numpy, pandas, bm25s or sqlite-vec: they load on first use.
"""

from __future__ import annotations

from course_lib.rag.access import Reader, User
from course_lib.rag.bm25 import tokenize as bm25_tokenize
from course_lib.rag.chunking import (
    DEFAULT_OPTIONS,
    STRATEGIES,
    Chunk,
    ChunkingStrategy,
    chunk_by_headings,
    chunk_documents,
    chunk_fixed,
    chunk_semantic,
    content_hash,
)
from course_lib.rag.documents import ACCESS_LEVELS, HandbookDocument, Section, split_sections
from course_lib.rag.fusion import DEFAULT_RRF_K, FusedItem, reciprocal_rank_fusion
from course_lib.rag.index import HandbookIndex, UpsertReport, default_index_path
from course_lib.rag.packing import (
    DroppedChunk,
    PackedContext,
    context_budget,
    format_passage,
    pack_context,
)
from course_lib.rag.retrieval import MODES, Retrieved, SearchMode, search
from course_lib.rag.retrieval_eval import (
    LabelledQuestion,
    evaluate_retrieval,
    evaluation_reader,
    question_metrics,
    summarise_retrieval,
)

__all__ = [
    "ACCESS_LEVELS",
    "DEFAULT_OPTIONS",
    "DEFAULT_RRF_K",
    "MODES",
    "STRATEGIES",
    "Chunk",
    "ChunkingStrategy",
    "DroppedChunk",
    "FusedItem",
    "HandbookDocument",
    "HandbookIndex",
    "LabelledQuestion",
    "PackedContext",
    "Reader",
    "Retrieved",
    "SearchMode",
    "Section",
    "UpsertReport",
    "User",
    "bm25_tokenize",
    "chunk_by_headings",
    "chunk_documents",
    "chunk_fixed",
    "chunk_semantic",
    "content_hash",
    "context_budget",
    "default_index_path",
    "evaluate_retrieval",
    "evaluation_reader",
    "format_passage",
    "pack_context",
    "question_metrics",
    "reciprocal_rank_fusion",
    "search",
    "split_sections",
    "summarise_retrieval",
]
