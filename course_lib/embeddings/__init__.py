"""Embeddings: text to vectors, behind one interface, with the model chosen by the registry.

* :func:`get_embedder` returns the embedder for a role or model id (the ``embed`` role, the
  bundled WordLlama, by default), loaded once per process.
* :class:`Embedder` is the interface: ``embed``, ``embed_one``, ``count_tokens`` and an
  :class:`EmbedderIdentity` that indexes record, so vectors from different embedders never mix.
* :func:`cosine_similarity` and :func:`top_k` compare vectors with numpy.
* :class:`EmbeddingCache` (and :func:`shared_cache`, one per embedder) keeps the vectors and
  token counts of texts that recur at query time.

Importing this package loads no numpy and no model: that happens on first use.
"""

from __future__ import annotations

from course_lib.embeddings.base import Embedder
from course_lib.embeddings.cache import EmbeddingCache, shared_cache
from course_lib.embeddings.factory import (
    clear_embedder_cache,
    get_embedder,
    register_backend,
)
from course_lib.embeddings.identity import EmbedderIdentity
from course_lib.embeddings.sentence_transformer import (
    MODEL_PACKAGE,
    TRANSFORMER_INSTALL_HINT,
    SentenceTransformerEmbedder,
)
from course_lib.embeddings.similarity import cosine_similarity, top_k
from course_lib.embeddings.wordllama_model import WordLlamaEmbedder, load_wordllama

__all__ = [
    "MODEL_PACKAGE",
    "TRANSFORMER_INSTALL_HINT",
    "Embedder",
    "EmbedderIdentity",
    "EmbeddingCache",
    "SentenceTransformerEmbedder",
    "WordLlamaEmbedder",
    "clear_embedder_cache",
    "cosine_similarity",
    "get_embedder",
    "load_wordllama",
    "register_backend",
    "shared_cache",
    "top_k",
]
