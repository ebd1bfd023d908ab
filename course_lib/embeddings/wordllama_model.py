"""The default embedder: WordLlama, whose weights ship inside its wheel.

``WordLlama.load()`` looks for its tokenizer in the wrong folder of its own wheel and then
tries to download it, which fails offline. Pointing ``cache_dir`` at the installed package and
disabling downloads loads the weights and tokenizer that ship in the wheel.

WordLlama averages token vectors taken from a large language model's embedding table: no
neural network runs, so it embeds thousands of paragraphs a second on a laptop CPU and gives
bitwise-identical vectors on every run.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from course_lib.embeddings.base import Embedder
from course_lib.embeddings.identity import EmbedderIdentity
from course_lib.errors import SettingsError

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["WORDLLAMA_CONFIG", "WordLlamaEmbedder", "load_wordllama", "shipped_dimensions"]

WORDLLAMA_CONFIG = "l2_supercat"  # the configuration whose weights the wheel ships


_IMPORT_LOCK = threading.Lock()
_LOAD_LOCK = threading.Lock()
_MODELS: dict[int, Any] = {}  # loaded models by dimension, filled under _LOAD_LOCK


def _import_wordllama() -> Any:
    """Imports wordllama without the root-logger set-up its import does.

    ``wordllama`` and ``wordllama.inference`` call ``logging.basicConfig(level=logging.INFO)``
    when imported, which would make every library's INFO records (each HTTP request, for one)
    print to stderr for the rest of the process. Logging set-up belongs to the application.
    ``basicConfig`` does nothing when the root logger has a handler, so a placeholder handler
    sits there during the import and is removed after it: nothing else on the root logger is
    touched. The lock keeps threads importing at once from seeing each other's placeholder.
    """
    root = logging.getLogger()
    placeholder = logging.NullHandler()
    with _IMPORT_LOCK:
        root.addHandler(placeholder)
        try:
            import wordllama
        finally:
            root.removeHandler(placeholder)
    return wordllama


def _package_dir() -> Path:
    return Path(_import_wordllama().__file__).parent


def shipped_dimensions() -> list[int]:
    """The dimensions whose weights are in the installed wheel (256 for WordLlama 0.4)."""
    weights = _package_dir() / "weights"
    dims = []
    for path in weights.glob(f"{WORDLLAMA_CONFIG}_*.safetensors"):
        suffix = path.stem.removeprefix(f"{WORDLLAMA_CONFIG}_")
        if suffix.isdigit():
            dims.append(int(suffix))
    return sorted(dims)


def load_wordllama(dim: int = 256) -> Any:
    """Returns the WordLlama model (256 dimensions by default), loaded once per process.

    Loading takes about a second; the lock makes threads that ask at the same moment (a
    server's first requests, a thread pool's first calls) wait for one load instead of each
    running its own.
    """
    model = _MODELS.get(dim)
    if model is not None:
        return model
    with _LOAD_LOCK:
        if dim not in _MODELS:
            wordllama = _import_wordllama()
            _MODELS[dim] = wordllama.WordLlama.load(
                cache_dir=Path(wordllama.__file__).parent, disable_download=True, dim=dim
            )
        return _MODELS[dim]


class WordLlamaEmbedder(Embedder):
    """The course's default embedder (registry id ``local-embed``), fully offline.

    Args:
        name: the registry id recorded in :attr:`identity`.
        dimension: must be a dimension whose weights ship in the wheel (see
            :func:`shipped_dimensions`); WordLlama never downloads here.
    """

    def __init__(self, name: str = "local-embed", dimension: int = 256) -> None:
        available = shipped_dimensions()
        if dimension not in available:
            raise SettingsError(
                f"Embedding model {name!r} asks WordLlama for {dimension} dimensions, but the "
                f"installed wheel ships weights for {available or 'none'} only. Set dimension = "
                f"{available[0] if available else 256} for {name!r} in the model registry."
            )
        self._model = load_wordllama(dimension)
        import importlib.metadata

        version = importlib.metadata.version("wordllama")
        self.identity = EmbedderIdentity(
            name=name,
            dimension=dimension,
            version=f"wordllama-{version}/{WORDLLAMA_CONFIG}/{dimension}",
        )

    def _embed_batch(self, texts: list[str], batch_size: int) -> NDArray[Any]:
        """Embeds texts shortest first, then puts the rows back in the caller's order.

        WordLlama pads every text in a batch to the longest one, so batches of similar lengths
        waste little work: on the course handbook this is about twice as fast (some 6,500
        instead of 3,500 paragraphs a second on two cores). Each row depends on its own text
        only, so the order changes no bit of the result. Normalising is left to the base class,
        which handles empty texts (WordLlama's own ``norm=True`` would divide zero by zero).
        """
        import numpy as np

        order = sorted(range(len(texts)), key=lambda index: len(texts[index]))
        vectors = self._model.embed([texts[i] for i in order], norm=False, batch_size=batch_size)
        result: NDArray[Any] = np.empty_like(vectors)
        result[order] = vectors
        return result

    def count_tokens(self, text: str) -> int:
        """Tokens WordLlama averages for ``text`` (Llama 2 vocabulary, no special tokens)."""
        if not isinstance(text, str):
            raise TypeError(f"count_tokens() takes a string (got {type(text).__name__}).")
        return len(self._model.tokenizer.encode(text, add_special_tokens=False).ids)
