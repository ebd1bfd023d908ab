"""Cutting handbook documents into chunks: the units the index embeds, searches and cites.

A chunk is what retrieval returns and what the model reads, so every chunk carries what the
rest of the system needs to know about it without going back to its document: the document
id (to cite it), the section heading (to show where it came from), the document version and
team (to filter), the access level (to enforce who may read it) and a hash of its text (to
skip re-embedding text that has not changed).

Three strategies, each a plain function over one document:

* ``"headings"`` (the default): one chunk per Markdown section (``#`` and ``##`` headings), an
  oversized section cut at its paragraphs, then at token windows. Sections are what an author
  wrote to be read together, so they make the most self-contained chunks.
* ``"fixed"``: windows of ``size`` tokens with ``overlap`` tokens repeated between neighbours,
  counted with the embedder's own tokenizer. The naive baseline: it ignores structure and cuts
  mid-sentence, which is what the overlap is for.
* ``"semantic"``: WordLlama's splitter, which cuts where the similarity between neighbouring
  lines dips. It finds topic shifts that headings do not mark, at the cost of an embedding pass
  at ingestion time.

Which one is best is an empirical question: ``benchmarks/rag.py`` measures each on the golden
set. Token counts use the embedder's tokenizer because the embedder's input limit is what a
chunk must fit (an embedding model silently truncates anything longer).
"""

from __future__ import annotations

import bisect
import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from course_lib.rag.documents import HandbookDocument, split_sections

if TYPE_CHECKING:
    from course_lib.embeddings.base import Embedder

__all__ = [
    "DEFAULT_OPTIONS",
    "STRATEGIES",
    "Chunk",
    "ChunkingStrategy",
    "chunk_by_headings",
    "chunk_documents",
    "chunk_fixed",
    "chunk_semantic",
    "content_hash",
    "indexed_text",
    "make_chunk",
    "resolve_options",
]

ChunkingStrategy = Literal["headings", "fixed", "semantic"]
STRATEGIES: tuple[str, ...] = ("headings", "fixed", "semantic")

DEFAULT_OPTIONS: Mapping[str, Mapping[str, int]] = {
    # 384 tokens keeps nearly every handbook section whole (the median is 130) and stays under
    # the default embedder's 512-token input limit; sections under 192 are joined with the next
    # (on the golden dev set this raised hybrid recall@5 from 0.82 to 0.88: benchmarks/rag.py).
    "headings": {"max_tokens": 384, "min_tokens": 192},
    "fixed": {"size": 256, "overlap": 32},
    # WordLlama's target size is in characters; about 4 characters a token.
    "semantic": {"target_size": 1024, "max_tokens": 384},
}
"""Each strategy's options and their defaults: the only keyword options it accepts."""

TokenCounter = Callable[[str], int]
_HEADING = re.compile(r"^(#{1,2})\s+(.*\S)\s*$")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


def content_hash(text: str) -> str:
    """The SHA-256 hex digest of ``text`` encoded as UTF-8: equal text, equal hash."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Chunk:
    """One retrievable passage of a document, with the metadata that travels with it.

    Attributes:
        id: stable and content-addressed: ``"<doc_id>:<position>:<first 12 hex of the hash>"``.
            The same text at the same place gets the same id on every run; edited text gets a
            new id, so a stale citation can never point at new words.
        doc_id: the document's id, what citations name.
        title: the document's title.
        section: the heading of the section the chunk starts in (the title for text before
            the first ``##``).
        version: the document's version number.
        access: ``"public"``, ``"internal"`` or ``"restricted"``.
        team: the team that owns the document.
        text: the passage itself, as the model will read it.
        content_hash: SHA-256 of ``text``.
        position: the chunk's place in its document, from 0.
        token_count: tokens in ``text`` by the embedder's tokenizer.
    """

    id: str
    doc_id: str
    title: str
    section: str
    version: int
    access: str
    team: str
    text: str
    content_hash: str
    position: int
    token_count: int

    @property
    def indexed_text(self) -> str:
        """What is embedded and BM25-indexed: see :func:`indexed_text`."""
        return indexed_text(self.title, self.section, self.text)


def indexed_text(title: str, section: str, text: str) -> str:
    """The text a chunk is embedded and BM25-indexed by: title, section heading, passage.

    A section often makes sense only with its headings ("Exceptions" of which policy?), so
    they go in front; the passage shown to the model stays the chunk's ``text``.
    """
    heading = f"{section}\n" if section and section != title else ""
    return f"{title}\n{heading}{text}"


def make_chunk(
    doc: HandbookDocument, section: str, text: str, position: int, count: TokenCounter
) -> Chunk:
    """A chunk of ``doc`` with all its metadata, for any chunker: the id holds the content
    hash, so an edited passage gets a new id and an unchanged one keeps its own."""
    digest = content_hash(text)
    return Chunk(
        id=f"{doc.id}:{position}:{digest[:12]}",
        doc_id=doc.id,
        title=doc.title,
        section=section,
        version=doc.version,
        access=doc.access,
        team=doc.team,
        text=text,
        content_hash=digest,
        position=position,
        token_count=count(text),
    )


def _check_size(name: str, value: object, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(
            f"Chunking option {name!r} must be an integer >= {minimum} (got {value!r})."
        )
    return value


def _token_windows(
    text: str, size: int, overlap: int, count: TokenCounter
) -> list[tuple[int, str]]:
    """Cuts ``text`` into windows of at most ``size`` tokens, ``overlap`` tokens shared.

    Returns ``(character offset, window text)`` pairs. Windows end at whitespace, never inside
    a word. Tokens are counted word by word (a word's tokens barely depend on its neighbours),
    then each window is counted whole and shortened if the estimate was low. A single word
    longer than ``size`` tokens (a long URL) becomes a window of its own, over the limit.
    """
    pieces = [(m.start(), m.group()) for m in re.finditer(r"\S+\s*", text)]
    if not pieces:
        return []
    counts = [max(1, count(piece.strip())) for _, piece in pieces]
    windows: list[tuple[int, str]] = []
    start = 0
    while start < len(pieces):
        end, total = start, 0
        while end < len(pieces) and (end == start or total + counts[end] <= size):
            total += counts[end]
            end += 1
        window = "".join(piece for _, piece in pieces[start:end]).strip()
        while end - start > 1 and count(window) > size:
            end -= 1
            window = "".join(piece for _, piece in pieces[start:end]).strip()
        windows.append((pieces[start][0], window))
        if end >= len(pieces):
            break
        back, shared = end, 0
        while back - 1 > start and shared + counts[back - 1] <= overlap:
            back -= 1
            shared += counts[back]
        start = max(back, start + 1)
    return windows


def _split_oversized(text: str, max_tokens: int, count: TokenCounter) -> list[str]:
    """Splits ``text`` into pieces of at most ``max_tokens``: whole paragraphs where they fit.

    Paragraphs are packed greedily in order; a paragraph too long on its own is cut into token
    windows. Cutting at paragraphs keeps list items and code blocks together more often than
    fixed windows do.
    """
    if count(text) <= max_tokens:
        return [text]
    pieces: list[str] = []
    current: list[str] = []
    for paragraph in (p.strip() for p in _PARAGRAPH_BREAK.split(text)):
        if not paragraph:
            continue
        if count(paragraph) > max_tokens:
            if current:
                pieces.append("\n\n".join(current))
                current = []
            pieces.extend(window for _, window in _token_windows(paragraph, max_tokens, 0, count))
            continue
        candidate = "\n\n".join([*current, paragraph])
        if current and count(candidate) > max_tokens:
            pieces.append("\n\n".join(current))
            current = [paragraph]
        else:
            current.append(paragraph)
    if current:
        pieces.append("\n\n".join(current))
    return pieces


def chunk_by_headings(
    doc: HandbookDocument,
    *,
    count_tokens: TokenCounter,
    max_tokens: int = 384,
    min_tokens: int = 192,
) -> list[Chunk]:
    """One chunk per Markdown section; sections over ``max_tokens`` are split at paragraphs.

    A section under ``min_tokens`` is joined with the sections after it (their headings kept as
    Markdown lines) until the chunk reaches ``min_tokens`` or the next section would take it
    over ``max_tokens``: a two-line section is too little text to embed or match on its own.
    A heading with no text under it makes no chunk (there is nothing to retrieve).
    """
    _check_size("max_tokens", max_tokens, minimum=16)
    _check_size("min_tokens", min_tokens, minimum=0)
    pieces: list[tuple[str, str]] = []  # (heading, text)
    for section in split_sections(doc.text):
        if not section.text.strip():
            continue
        heading = section.heading or doc.title
        for piece in _split_oversized(section.text, max_tokens, count_tokens):
            pieces.append((heading, piece))
    merged: list[tuple[str, str]] = []
    for heading, text in pieces:
        if merged and count_tokens(merged[-1][1]) < min_tokens:
            last_heading, last_text = merged[-1]
            # A piece of the same section joins without repeating its heading.
            marker = f"## {heading}\n\n" if heading != last_heading else ""
            joined = f"{last_text}\n\n{marker}{text}"
            if count_tokens(joined) <= max_tokens:
                merged[-1] = (last_heading, joined)
                continue
        merged.append((heading, text))
    return [
        make_chunk(doc, heading, text, position, count_tokens)
        for position, (heading, text) in enumerate(merged)
    ]


def _heading_offsets(markdown: str) -> tuple[list[int], list[str]]:
    """Character offsets of the ``#``/``##`` headings outside code fences, and their text."""
    offsets: list[int] = []
    headings: list[str] = []
    in_fence = False
    position = 0
    for line in markdown.splitlines(keepends=True):
        if line.startswith("```"):
            in_fence = not in_fence
        match = None if in_fence else _HEADING.match(line.rstrip("\n"))
        if match:
            offsets.append(position)
            headings.append(match.group(2))
        position += len(line)
    return offsets, headings


def chunk_fixed(
    doc: HandbookDocument, *, count_tokens: TokenCounter, size: int = 256, overlap: int = 32
) -> list[Chunk]:
    """Windows of ``size`` tokens over the whole document, ``overlap`` tokens shared.

    The section of a window is the heading in force where the window starts. Windows run
    across section boundaries and Markdown heading lines stay in the text: this strategy does
    not look at structure, which is the point of comparing it with the others.
    """
    _check_size("size", size, minimum=16)
    _check_size("overlap", overlap, minimum=0)
    if overlap >= size:
        raise ValueError(
            f"Chunking option 'overlap' ({overlap}) must be smaller than 'size' ({size}), or "
            "every window would repeat the previous one."
        )
    offsets, headings = _heading_offsets(doc.text)
    chunks: list[Chunk] = []
    for offset, window in _token_windows(doc.text, size, overlap, count_tokens):
        where = bisect.bisect_right(offsets, offset) - 1
        heading = headings[where] if where >= 0 else doc.title
        chunks.append(make_chunk(doc, heading, window, len(chunks), count_tokens))
    return chunks


def chunk_semantic(
    doc: HandbookDocument,
    *,
    count_tokens: TokenCounter,
    target_size: int = 1024,
    max_tokens: int = 384,
) -> list[Chunk]:
    """Chunks cut where WordLlama's splitter sees the topic shift; ``target_size`` in characters.

    The splitter works on the whole document, so a chunk can hold a short section and the
    start of the next; its section is the heading in force where it starts. Chunks over
    ``max_tokens`` are cut further at paragraphs, so none exceeds the embedder's input limit.
    """
    from course_lib.embeddings.wordllama_model import load_wordllama

    _check_size("target_size", target_size, minimum=200)
    _check_size("max_tokens", max_tokens, minimum=16)
    pieces = load_wordllama().split(doc.text, target_size=target_size)
    chunks: list[Chunk] = []
    heading = doc.title
    for piece in pieces:
        text = piece.strip()
        if not text:
            continue
        lines = text.splitlines()
        first = _HEADING.match(lines[0]) if lines else None
        start_heading = first.group(2) if first else heading
        for part in _split_oversized(text, max_tokens, count_tokens):
            chunks.append(make_chunk(doc, start_heading, part, len(chunks), count_tokens))
        for line in lines:  # the heading in force after this piece, for the next one
            if match := _HEADING.match(line):
                heading = match.group(2)
    return chunks


_CHUNKERS: dict[str, Callable[..., list[Chunk]]] = {
    "headings": chunk_by_headings,
    "fixed": chunk_fixed,
    "semantic": chunk_semantic,
}


def resolve_options(strategy: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """The strategy's full options: its defaults updated with ``options``, checked by name.

    The index records the result, so every later upsert chunks exactly as the build did.
    """
    if strategy not in _CHUNKERS:
        raise ValueError(
            f"Unknown chunking strategy {strategy!r}. Choose one of {list(STRATEGIES)}."
        )
    defaults = DEFAULT_OPTIONS[strategy]
    unknown = sorted(set(options) - set(defaults))
    if unknown:
        raise TypeError(
            f"Chunking strategy {strategy!r} has no option(s) {unknown}; its options are "
            f"{dict(defaults)}."
        )
    return {**defaults, **options}


def chunk_documents(
    docs: Iterable[HandbookDocument],
    strategy: ChunkingStrategy | str = "headings",
    *,
    embedder: Embedder | None = None,
    **options: int,
) -> list[Chunk]:
    """Chunks every document with one strategy; tokens are counted by ``embedder``.

    Args:
        docs: the documents, e.g. ``load_handbook()``.
        strategy: ``"headings"``, ``"fixed"`` or ``"semantic"`` (see the module docstring).
        embedder: whose tokenizer counts tokens; the default embedder when omitted.
        **options: the strategy's options (:data:`DEFAULT_OPTIONS` lists them).

    Returns:
        The chunks, in document order and then position order.

    Raises:
        ValueError: unknown strategy, or an option out of range.
        TypeError: an option the strategy does not have.

    Example:
        >>> from course_lib.datasets import load_handbook
        >>> chunks = chunk_documents(load_handbook()[:1], "fixed", size=128, overlap=16)
        >>> max(c.token_count for c in chunks) <= 128
        True
    """
    settings = resolve_options(strategy, options)
    if embedder is None:
        from course_lib.embeddings import get_embedder

        embedder = get_embedder()
    counts: dict[str, int] = {}

    def count(text: str) -> int:
        # Words repeat a lot across a handbook; counting each distinct string once is ~5x faster.
        if text not in counts:
            counts[text] = embedder.count_tokens(text)
        return counts[text]

    chunker = _CHUNKERS[strategy]
    chunks: list[Chunk] = []
    for doc in docs:
        chunks.extend(chunker(doc, count_tokens=count, **settings))
    return chunks
