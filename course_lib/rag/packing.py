"""Context packing: choosing which retrieved chunks the model reads, in which order, cited how.

Retrieval returns candidates; the prompt has a budget. Packing decides:

* **what to drop.** A chunk whose text repeats one already packed (the same content hash,
  or a cosine similarity above ``duplicate_threshold``, 0.95 by default) spends tokens on
  nothing new. Chunks that do not fit the remaining budget are skipped, and a shorter,
  lower-ranked one may still fit.
* **the order.** Models use information at the start and the end of a long context better
  than in the middle (Liu et al., "Lost in the Middle", TACL 2024). With ``order="edges"``
  (the default) the best chunk goes first, the second best last, the third second, and so
  on, so the weakest chunks sit in the middle. ``order="rank"`` keeps the ranking.
* **the citations.** Each packed chunk gets a citation id the model can write: its document
  id, with ``#2``, ``#3``... for further chunks of the same document. ``citations`` maps each
  id back to the chunk id, so an answer's ``[doc-id]`` can be checked and shown.

The text is a run of ``[cite-id] passage`` blocks separated by blank lines, the passage format
the local model reads. Passage lines that the format would misread (a line starting with
``[x]``, ``Question:`` or ``Source:``) are escaped with a backslash and ``<doc ...>`` tags are
written ``&lt;doc ...>``, so a document cannot open a passage of its own or pose as the user's
question.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from course_lib.rag.chunking import Chunk
from course_lib.rag.retrieval import Retrieved

if TYPE_CHECKING:
    from course_lib.embeddings.base import Embedder

__all__ = [
    "DEFAULT_RESERVE_TOKENS",
    "DroppedChunk",
    "PackedContext",
    "context_budget",
    "format_passage",
    "pack_context",
]

DEFAULT_RESERVE_TOKENS = 1024
"""Tokens kept free for the system prompt, the question and the prompt's own wording."""

_SEPARATOR = "\n\n"
# Lines the passage reader treats as structure: a new "[id] text" passage, the question, or a
# "Source: id" heading. A backslash in front makes them plain text (and is Markdown's escape).
_MISREAD_LINE = re.compile(
    r"^(\s*)(\[|(?:\*\*)?question(?:\*\*)?\s*:|(?:#{1,4}\s*)?(?:source|document|doc)\s*(?:id)?\s*:)",
    re.I,
)
_TAG = re.compile(r"<(/?)(doc|document|source|passage)\b", re.I)

_Passage = tuple[str, Chunk, str]  # cite id, chunk, the formatted passage


@dataclass(frozen=True)
class DroppedChunk:
    """A retrieved chunk that was not packed, and why."""

    chunk_id: str
    reason: str


@dataclass(frozen=True)
class PackedContext:
    """The context block for the prompt, and what it contains.

    Attributes:
        text: ``[cite-id] passage`` blocks separated by blank lines.
        citations: cite id -> chunk id, in the order the passages appear.
        used_tokens: tokens in ``text``.
        budget_tokens: the budget it was packed into.
        dropped: the chunks left out, each with the reason.
        chunks: the packed chunks, in the order they appear in ``text``.
    """

    text: str
    citations: dict[str, str]
    used_tokens: int
    budget_tokens: int
    dropped: list[DroppedChunk] = field(default_factory=list)
    chunks: tuple[Chunk, ...] = ()


def context_budget(
    model_role: str = "chat-small", *, reserve_tokens: int = DEFAULT_RESERVE_TOKENS
) -> int:
    """Tokens left for retrieved context in ``model_role``'s window.

    The window minus the model's maximum answer length (the registry's ``max_output_tokens``,
    room the answer needs) minus ``reserve_tokens`` for the system prompt and question.

    Raises:
        UnknownModelError: the role is not in the model registry.
        ValueError: nothing would be left for context.
    """
    from course_lib.models import get_registry

    spec = get_registry().resolve(model_role)
    budget = spec.context_window - (spec.max_output_tokens or 0) - reserve_tokens
    if budget < 1:
        raise ValueError(
            f"Model {spec.id!r} has a {spec.context_window}-token window; after "
            f"{spec.max_output_tokens or 0} tokens for the answer and {reserve_tokens} reserved, "
            "nothing is left for context. Lower reserve_tokens or use a larger model role."
        )
    return budget


def format_passage(cite_id: str, text: str) -> str:
    """One ``[cite-id] text`` passage, with lines the reader would misread escaped."""
    lines = []
    for line in text.strip().splitlines():
        line = _TAG.sub(lambda m: "&lt;" + m.group(1) + m.group(2), line)
        lines.append(_MISREAD_LINE.sub(lambda m: m.group(1) + "\\" + m.group(2), line))
    return f"[{cite_id}] " + "\n".join(lines)


def _edges_order(items: Sequence[int]) -> list[int]:
    """Ranks 1, 2, 3, 4, 5 placed as 1, 3, 5, 4, 2: the best at both ends."""
    front = list(items[0::2])
    back = list(items[1::2])
    return front + back[::-1]


def pack_context(
    retrieved: Sequence[Retrieved],
    *,
    budget_tokens: int | None = None,
    model_role: str = "chat-small",
    reserve_tokens: int = DEFAULT_RESERVE_TOKENS,
    order: Literal["edges", "rank"] = "edges",
    duplicate_threshold: float = 0.95,
    embedder: Embedder | None = None,
    count_tokens: Callable[[str], int] | None = None,
) -> PackedContext:
    """Packs retrieved chunks into a cited context block within a token budget.

    Args:
        retrieved: search results (any order; their ``rank`` decides priority).
        budget_tokens: the most tokens ``text`` may use; by default
            :func:`context_budget` of ``model_role``.
        model_role: the model the context is for, when ``budget_tokens`` is not given.
        reserve_tokens: room for the prompt and question, when ``budget_tokens`` is not given.
        order: ``"edges"`` (best first and last, against "lost in the middle") or ``"rank"``.
        duplicate_threshold: cosine similarity above which a chunk repeats a packed one.
        embedder: embeds chunks for the near-duplicate check; the default embedder when
            omitted. Vectors of text with the same hash are never compared: equal is dropped.
        count_tokens: the target model's token counter; by default the embedder's tokenizer
            (the bundled WordLlama shares the local model's Llama-2 vocabulary).

    Returns:
        A :class:`PackedContext`; ``used_tokens <= budget_tokens`` always holds.

    Example:
        >>> packed = pack_context(hits, budget_tokens=1500)     # doctest: +SKIP
        >>> print(packed.text[:60]); packed.citations           # doctest: +SKIP
    """
    budget = _checked_budget(
        budget_tokens,
        model_role=model_role,
        reserve_tokens=reserve_tokens,
        order=order,
        duplicate_threshold=duplicate_threshold,
    )
    if count_tokens is None:
        count_tokens = _default_counter()

    ranked = sorted(retrieved, key=lambda hit: hit.rank)
    dropped: list[DroppedChunk] = []
    # 1. Identical text: one hash comparison, no embedding needed.
    distinct = _drop_identical([hit.chunk for hit in ranked], dropped)
    # 2. Near-duplicates: cosine similarity with any better-ranked chunk kept so far.
    unique = _drop_near_duplicates(distinct, duplicate_threshold, embedder, dropped)
    # 3. The budget, greedily in rank order; cite ids follow the same order.
    kept = _fit_budget(unique, budget, count_tokens, dropped)
    # 4. Order, then measure the real text (token counts need not add up exactly across joins).
    placed, text, used_tokens = _arrange(kept, order, budget, count_tokens, dropped)
    return PackedContext(
        text=text,
        citations={cite_id: chunk.id for cite_id, chunk, _ in placed},
        used_tokens=used_tokens,
        budget_tokens=budget,
        dropped=dropped,
        chunks=tuple(chunk for _, chunk, _ in placed),
    )


def _checked_budget(
    budget_tokens: int | None,
    *,
    model_role: str,
    reserve_tokens: int,
    order: str,
    duplicate_threshold: float,
) -> int:
    """The token budget :func:`pack_context` packs into, once its arguments are checked.

    Raises:
        ValueError: an unknown ``order``, a ``duplicate_threshold`` outside (0, 1], or a
            budget that is not a non-negative integer.
    """
    if order not in ("edges", "rank"):
        raise ValueError(f"Unknown order {order!r}. Choose 'edges' or 'rank'.")
    if not 0.0 < duplicate_threshold <= 1.0:
        raise ValueError(
            f"duplicate_threshold must be in (0, 1] (got {duplicate_threshold!r}); 0.95 is usual."
        )
    budget = (
        context_budget(model_role, reserve_tokens=reserve_tokens)
        if budget_tokens is None
        else budget_tokens
    )
    if isinstance(budget, bool) or not isinstance(budget, int) or budget < 0:
        raise ValueError(f"budget_tokens must be a non-negative integer (got {budget!r}).")
    return budget


def _drop_identical(chunks: list[Chunk], dropped: list[DroppedChunk]) -> list[Chunk]:
    """Chunks in rank order without those whose text (content hash) a better-ranked one has."""
    first_by_hash: dict[str, str] = {}
    distinct: list[Chunk] = []
    for chunk in chunks:
        if chunk.content_hash in first_by_hash:
            dropped.append(
                DroppedChunk(chunk.id, f"identical text to {first_by_hash[chunk.content_hash]}")
            )
            continue
        first_by_hash[chunk.content_hash] = chunk.id
        distinct.append(chunk)
    return distinct


def _fit_budget(
    chunks: list[Chunk],
    budget: int,
    count_tokens: Callable[[str], int],
    dropped: list[DroppedChunk],
) -> list[_Passage]:
    """The passages that fit ``budget``, taken greedily in rank order, with their cite ids.

    A chunk that does not fit is skipped, so a shorter, lower-ranked one may still fit.
    """
    kept: list[_Passage] = []
    per_document: dict[str, int] = {}
    used = 0
    separator_tokens = count_tokens(_SEPARATOR)
    for chunk in chunks:
        number = per_document.get(chunk.doc_id, 0) + 1
        cite_id = chunk.doc_id if number == 1 else f"{chunk.doc_id}#{number}"
        passage = format_passage(cite_id, chunk.text)
        cost = count_tokens(passage) + (separator_tokens if kept else 0)
        if used + cost > budget:
            dropped.append(
                DroppedChunk(chunk.id, f"over budget: needs {cost} tokens, {budget - used} left")
            )
            continue
        kept.append((cite_id, chunk, passage))
        per_document[chunk.doc_id] = number
        used += cost
    return kept


def _arrange(
    kept: list[_Passage],
    order: str,
    budget: int,
    count_tokens: Callable[[str], int],
    dropped: list[DroppedChunk],
) -> tuple[list[_Passage], str, int]:
    """The passages in ``order``, their joined text and its tokens, within ``budget``.

    The joined text is measured again, since token counts need not add up exactly across
    joins; while it is over the budget, the lowest-ranked passage goes.
    """
    while True:
        positions = _edges_order(range(len(kept))) if order == "edges" else range(len(kept))
        placed = [kept[i] for i in positions]
        text = _SEPARATOR.join(passage for _, _, passage in placed)
        used_tokens = count_tokens(text) if text else 0
        if used_tokens <= budget or not kept:
            return placed, text, used_tokens
        cite_id, chunk, _ = kept.pop()  # the lowest-ranked passage goes
        dropped.append(DroppedChunk(chunk.id, f"over budget after joining ({cite_id})"))


def _drop_near_duplicates(
    chunks: list[Chunk],
    threshold: float,
    embedder: Embedder | None,
    dropped: list[DroppedChunk],
) -> list[Chunk]:
    """Chunks in rank order without those too similar to a better-ranked kept chunk."""
    if len(chunks) < 2 or threshold >= 1.0:
        return chunks
    if embedder is None:
        from course_lib.embeddings import get_embedder

        embedder = get_embedder()
    from course_lib.embeddings.cache import shared_cache

    vectors = shared_cache(embedder).embed([chunk.text for chunk in chunks])
    kept: list[int] = []
    for i, chunk in enumerate(chunks):
        best, best_j = -1.0, -1
        for j in kept:
            similarity = float(vectors[i] @ vectors[j])
            if similarity > best:
                best, best_j = similarity, j
        if best > threshold:
            dropped.append(
                DroppedChunk(chunk.id, f"near-duplicate of {chunks[best_j].id} (cosine {best:.3f})")
            )
            continue
        kept.append(i)
    return [chunks[i] for i in kept]


def _default_counter() -> Callable[[str], int]:
    """The default embedder's tokenizer: the same counts whichever embedder finds duplicates."""
    from course_lib.embeddings import get_embedder
    from course_lib.embeddings.cache import shared_cache

    return shared_cache(get_embedder()).count_tokens
