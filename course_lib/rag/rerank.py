"""Second-stage re-ranking: each candidate chunk judged by its sentence closest to the question.

Why a second look: the default embedder is a static one (WordLlama averages token vectors), so
a chunk's vector is the average of every word in it. A chunk whose one relevant sentence sits
among nine about other things lands far from the question, and a chunk that merely shares the
question's topic lands near it. Comparing the question with each sentence of a candidate and
keeping the best match finds the sentence that answers, whatever surrounds it. Doing this for
every chunk of the index would make a multi-vector index; doing it for the first stage's
candidates (at most a hundred) costs about a millisecond once their sentences are embedded.

Measured on the golden dev split (default chunking, ``docs/benchmarks.md``): as a third
ranking weighted 0.5 in the fusion, with each ranking's first pick kept in the top three,
recall@5 goes from 0.779 (hybrid) to 0.816, and from 0.475 to 0.500 on the ``paraphrase``
slice. Alone it is weaker than the chunk vectors (0.653 against 0.731): a sentence carries
less context than its section, which is why it re-ranks rather than retrieves. Windows of two
or three sentences, and sentences prefixed with their heading, did no better.

:class:`SentenceScorer` only orders the chunks it is given: the first stage took them from the
chunks the reader may read (access, team and version filters apply inside those queries), so
re-ranking can never bring in a chunk the reader may not see. A chunk's sentence vectors
depend on its own text alone, so one cache shared between readers leaks nothing from one
reader's documents into another's results.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from course_lib.embeddings.base import Embedder
    from course_lib.rag.chunking import Chunk

__all__ = ["MIN_SENTENCE_WORDS", "SentenceScorer", "split_sentences"]

MIN_SENTENCE_WORDS = 3
# A sentence ends at ., !, ? or a colon/semicolon followed by space, or at a line break (list
# items, table rows and headings are lines of their own in the handbook's Markdown).
_BOUNDARY = re.compile(r"(?<=[.!?:;])\s+|\n+")
_WORD = re.compile(r"\w+")
_MARKUP = " \t-*|#>"


def split_sentences(text: str, *, min_words: int = MIN_SENTENCE_WORDS) -> list[str]:
    """The sentences (and list items, table rows) of ``text`` with at least ``min_words`` words.

    Shorter fragments ("Yes.", a table's ``|---|`` line) say too little to be matched on their
    own; a text with no sentence long enough is returned whole, so every chunk has one.

    Example:
        >>> split_sentences("Claims: within 30 days.\\n- Receipts over EUR 25. Yes.\\n|---|---|")
        ['within 30 days.', 'Receipts over EUR 25.']
    """
    parts = (part.strip(_MARKUP) for part in _BOUNDARY.split(text))
    kept = [part for part in parts if len(_WORD.findall(part)) >= min_words]
    return kept or [text]


class SentenceScorer:
    """Scores chunks by the cosine similarity of their best sentence to a query.

    Sentence vectors are computed on first use and kept, keyed by the hash of the chunk's text,
    for the ``max_chunks`` chunks used most recently (the handbook's 672 chunks take about 8 MB).

    Args:
        embedder: the embedder of the index, so sentences and queries share one space.
        max_chunks: how many chunks' sentence vectors to keep.
    """

    def __init__(self, embedder: Embedder, *, max_chunks: int = 20_000) -> None:
        if max_chunks < 1:
            raise ValueError(f"max_chunks must be at least 1 (got {max_chunks}).")
        self.embedder = embedder
        self.max_chunks = max_chunks
        self._vectors: OrderedDict[str, NDArray[Any]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """How many chunks' sentence vectors are cached."""
        return len(self._vectors)

    def similarities(self, query: str, chunks: Sequence[Chunk]) -> list[float]:
        """Each chunk's best sentence similarity to ``query``, in the order of ``chunks``.

        A query with no token the embedder knows has no direction: every chunk scores 0.
        """
        import numpy as np

        if not chunks:
            return []
        from course_lib.embeddings.cache import shared_cache

        query_vector = np.asarray(shared_cache(self.embedder).embed_one(query), dtype=np.float32)
        vectors = self._sentence_vectors(chunks)
        return [float(np.max(matrix @ query_vector)) for matrix in vectors]

    def rank(self, query: str, chunks: Sequence[Chunk]) -> list[tuple[Chunk, float]]:
        """``chunks`` ordered by best sentence similarity to ``query``, best first, with it.

        Equal similarities keep the input order, so the result is deterministic.
        """
        scores = self.similarities(query, chunks)
        order = sorted(range(len(chunks)), key=lambda i: (-scores[i], i))
        return [(chunks[i], scores[i]) for i in order]

    def _sentence_vectors(self, chunks: Sequence[Chunk]) -> list[NDArray[Any]]:
        """One matrix of sentence vectors per chunk; missing ones embedded in one batch."""
        import numpy as np

        ready: dict[str, NDArray[Any]] = {}
        missing: dict[str, Chunk] = {}
        with self._lock:
            for chunk in chunks:
                matrix = self._vectors.get(chunk.content_hash)
                if matrix is None:
                    missing[chunk.content_hash] = chunk
                else:
                    ready[chunk.content_hash] = matrix
        if missing:
            sentences = {key: split_sentences(chunk.text) for key, chunk in missing.items()}
            flat = [sentence for group in sentences.values() for sentence in group]
            embedded = np.asarray(self.embedder.embed(flat), dtype=np.float32)
            start = 0
            for key, group in sentences.items():
                ready[key] = embedded[start : start + len(group)]
                start += len(group)
        with self._lock:
            for key, matrix in ready.items():
                self._vectors[key] = matrix
                self._vectors.move_to_end(key)
            while len(self._vectors) > self.max_chunks:
                self._vectors.popitem(last=False)
        return [ready[chunk.content_hash] for chunk in chunks]
