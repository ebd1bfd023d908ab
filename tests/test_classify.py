"""Tests of course_lib.classify: ticket text, scores, the embedding classifier, the artifact
with its checks, and zero-shot routing through the local model."""

from __future__ import annotations

import hashlib
import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from course_lib.classify import (
    ARTIFACT_FORMAT,
    ROUTING_PROMPT_VERSION,
    ArtifactError,
    EmbeddingClassifier,
    Prediction,
    classification_scores,
    confusion_counts,
    data_fingerprint,
    file_sha256,
    learning_curve,
    load_artifact,
    macro_f1,
    metadata_path,
    read_metadata,
    routing_response_format,
    routing_schema,
    save_artifact,
    ticket_text,
    ticket_texts,
    zero_shot_route,
)
from course_lib.classify.artifact import REQUIRED_KEYS
from course_lib.classify.zero_shot import _parse_category
from course_lib.embeddings import Embedder, EmbedderIdentity
from course_lib.errors import CourseLibError, EmbedderMismatchError
from course_lib.standin import local_client

ROOT = Path(__file__).resolve().parents[1]


class WordHashEmbedder(Embedder):
    """A tiny deterministic embedder for fast tests: each word adds to one hashed dimension."""

    def __init__(self, version: str = "fake-1", dimension: int = 32) -> None:
        self.identity = EmbedderIdentity("fake-embed", dimension, version)

    def _embed_batch(self, texts: list[str], batch_size: int) -> np.ndarray:
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split():
                slot = int(hashlib.sha256(word.encode()).hexdigest(), 16) % self.dimension
                vectors[row, slot] += 1.0
        return vectors

    def count_tokens(self, text: str) -> int:
        return len(text.split())


TOPICS = {
    "hardware": ["laptop", "screen", "keyboard", "dock", "monitor", "battery"],
    "login_mfa": ["okta", "password", "mfa", "locked", "passkey", "signin"],
    "expenses_travel": ["expense", "receipt", "ledgerly", "hotel", "flight", "refund"],
}


def _dataset(n_per_class: int, seed: int) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    texts, labels = [], []
    for label, words in TOPICS.items():
        for _ in range(n_per_class):
            texts.append(" ".join(rng.choice(words) for _ in range(5)))
            labels.append(label)
    return texts, labels


@pytest.fixture
def embedder() -> WordHashEmbedder:
    return WordHashEmbedder()


@pytest.fixture
def trained(embedder: WordHashEmbedder) -> EmbeddingClassifier:
    texts, labels = _dataset(20, seed=1)
    return EmbeddingClassifier(embedder).fit(texts, labels)


# -- ticket text ---------------------------------------------------------------------------


def test_ticket_text_joins_subject_and_body() -> None:
    assert (
        ticket_text({"subject": " VPN down ", "body": "Since 9am.\n"}) == "VPN down\n\nSince 9am."
    )


@pytest.mark.parametrize("subject", ["", None, "   "])
def test_ticket_text_without_subject_is_the_body(subject: Any) -> None:
    assert ticket_text({"subject": subject, "body": "okta locked me out"}) == "okta locked me out"


def test_ticket_texts_reads_dataframe_rows_and_objects() -> None:
    frame = pd.DataFrame({"subject": ["A", ""], "body": ["one", "two"]})
    assert ticket_texts(frame) == ["A\n\none", "two"]

    class Ticket:
        subject = "S"
        body = "B"

    assert ticket_texts([Ticket()]) == ["S\n\nB"]


def test_ticket_text_without_body_says_so() -> None:
    with pytest.raises(ValueError, match="body"):
        ticket_text({"subject": "only a subject"})


# -- scores --------------------------------------------------------------------------------


def test_macro_f1_matches_scikit_learn_on_random_cases() -> None:
    from sklearn.metrics import f1_score

    rng = random.Random(3)
    labels = ["a", "b", "c", "d"]
    for _ in range(50):
        n = rng.randint(1, 30)
        truth = [rng.choice(labels) for _ in range(n)]
        predicted = [rng.choice([*labels, None, "zzz"]) for _ in range(n)]
        classes = sorted(set(truth))
        expected = f1_score(
            truth,
            ["<none>" if p is None else p for p in predicted],
            labels=classes,
            average="macro",
            zero_division=0,
        )
        assert macro_f1(truth, predicted) == pytest.approx(expected)


def test_an_unparsed_prediction_is_wrong_not_a_class() -> None:
    scores = classification_scores(["a", "a", "b"], ["a", None, "b"])
    assert scores.accuracy == pytest.approx(2 / 3)
    # a: precision 1, recall 1/2 -> F1 2/3; b: F1 1. None adds no class.
    assert scores.macro_f1 == pytest.approx((2 / 3 + 1) / 2)
    assert scores.invalid == 1
    assert scores.as_dict() == {"accuracy": 0.6667, "macro_f1": 0.8333, "n": 3, "invalid": 1}


def test_a_class_never_predicted_costs_its_full_share() -> None:
    assert macro_f1(["a", "a", "b"], ["a", "a", "a"]) == pytest.approx((0.8 + 0.0) / 2)


@pytest.mark.parametrize(("truth", "predicted"), [(["a"], ["a", "b"]), ([], [])])
def test_scores_refuse_mismatched_or_empty_lists(truth: list, predicted: list) -> None:
    with pytest.raises(ValueError):
        classification_scores(truth, predicted)


def test_confusion_counts_keep_invalid_predictions_in_a_last_column() -> None:
    counts = confusion_counts(["a", "b", "b"], ["b", "b", None], labels=["a", "b"])
    assert counts.tolist() == [[0, 1, 0], [0, 1, 1]]
    assert counts.sum(axis=1).tolist() == [1, 2]
    with pytest.raises(ValueError, match="'c'"):
        confusion_counts(["c"], ["a"], labels=["a", "b"])


# -- the classifier ------------------------------------------------------------------------


def test_classifier_learns_separable_topics(trained: EmbeddingClassifier) -> None:
    texts, labels = _dataset(10, seed=2)
    assert trained.classes == tuple(sorted(TOPICS))
    assert trained.training_size == 60
    accuracy = np.mean([p == t for p, t in zip(trained.predict(texts), labels, strict=True)])
    assert accuracy > 0.9
    probabilities = trained.predict_proba(texts)
    assert probabilities.shape == (30, 3)
    assert np.allclose(probabilities.sum(axis=1), 1.0)
    predictions = trained.predict_with_probability(texts[:5])
    assert all(isinstance(p, Prediction) and 1 / 3 <= p.probability <= 1 for p in predictions)
    assert [p.label for p in predictions] == trained.predict(texts[:5])
    assert "3 classes, 60 examples" in repr(trained)


def test_classifier_counts_embedding_tokens(embedder: WordHashEmbedder) -> None:
    assert EmbeddingClassifier(embedder).count_tokens(["a b c", "d"]) == 4


def test_untrained_classifier_says_what_to_do(embedder: WordHashEmbedder) -> None:
    with pytest.raises(RuntimeError, match="fit"):
        EmbeddingClassifier(embedder).predict(["x"])


def test_classifier_refuses_vectors_of_another_dimension(trained: EmbeddingClassifier) -> None:
    with pytest.raises(ValueError, match=r"\(n, 32\)"):
        trained.predict_vectors(np.zeros((2, 8), dtype=np.float32))


def test_classifier_needs_two_labels_and_one_label_per_text(embedder: WordHashEmbedder) -> None:
    with pytest.raises(ValueError, match="two different labels"):
        EmbeddingClassifier(embedder).fit(["a", "b"], ["x", "x"])
    with pytest.raises(ValueError, match="one label per text"):
        EmbeddingClassifier(embedder).fit(["a", "b"], ["x"])


def test_default_classifier_uses_the_default_embedder() -> None:
    from course_lib.embeddings import get_embedder

    assert EmbeddingClassifier().embedder_identity == get_embedder().identity


def test_learning_curve_is_seeded_and_stratified(embedder: WordHashEmbedder) -> None:
    texts, labels = _dataset(20, seed=4)
    test_texts, test_labels = _dataset(5, seed=5)
    classifier = EmbeddingClassifier(embedder)
    train_vectors, test_vectors = classifier.embed(texts), classifier.embed(test_texts)
    args = (classifier, train_vectors, labels, test_vectors, test_labels)
    first = learning_curve(*args, sizes=[6, 12, 100], repeats=2, seed=0)
    again = learning_curve(*args, sizes=[6, 12, 100], repeats=2, seed=0)
    pd.testing.assert_frame_equal(first, again)
    assert list(first.columns) == ["size", "repeat", "accuracy", "macro_f1"]
    assert first["size"].tolist() == [6, 6, 12, 12, 60]  # "all" is one run of the full set
    assert first["accuracy"].between(0, 1).all()
    with pytest.raises(ValueError, match="3 classes"):
        learning_curve(*args, sizes=[2])


# -- the artifact --------------------------------------------------------------------------


def _metadata(**extra: Any) -> dict[str, Any]:
    texts, labels = _dataset(20, seed=1)
    return {
        "artifact_version": "router-1.0.0",
        "data_sha256": data_fingerprint(texts, labels),
        "metrics": {"test": {"accuracy": 0.9}},
        **extra,
    }


def test_data_fingerprint_is_stable_and_sees_every_change() -> None:
    base = data_fingerprint(["ab", "c"], ["x", "y"])
    assert base == data_fingerprint(["ab", "c"], ["x", "y"])
    assert len(base) == 64 and int(base, 16) >= 0
    assert base != data_fingerprint(["a", "bc"], ["x", "y"])  # boundaries matter
    assert base != data_fingerprint(["ab", "c"], ["x", "z"])  # labels matter
    assert base != data_fingerprint(["ab", "c", "d"], ["x", "y", "y"])
    with pytest.raises(ValueError, match="one label per text"):
        data_fingerprint(["a"], [])


def test_save_writes_model_and_complete_sidecar(
    trained: EmbeddingClassifier, tmp_path: Path
) -> None:
    path = tmp_path / "models" / "router.joblib"
    written = save_artifact(trained, path, metadata=_metadata(owner="service-desk"))
    sidecar = metadata_path(path)
    assert sorted(p.name for p in path.parent.iterdir()) == ["router.joblib", "router.joblib.json"]
    stored = json.loads(sidecar.read_text())
    assert stored == written == read_metadata(path)
    assert list(stored)[: len(REQUIRED_KEYS)] == list(REQUIRED_KEYS)
    assert stored["format"] == ARTIFACT_FORMAT
    assert stored["artifact_sha256"] == file_sha256(path)
    assert stored["labels"] == sorted(TOPICS)
    assert stored["embedder"] == {"name": "fake-embed", "dimension": 32, "version": "fake-1"}
    assert stored["training_size"] == 60
    assert stored["owner"] == "service-desk"


def test_load_round_trips_predictions(
    trained: EmbeddingClassifier, embedder: WordHashEmbedder, tmp_path: Path
) -> None:
    path = tmp_path / "router.joblib"
    save_artifact(trained, path, metadata=_metadata())
    loaded = load_artifact(path, embedder=embedder)
    texts, _ = _dataset(5, seed=9)
    assert loaded.classifier.predict(texts) == trained.predict(texts)
    assert loaded.classifier.training_size == 60
    assert loaded.metadata["artifact_version"] == "router-1.0.0"


def test_a_tampered_file_is_refused_before_it_is_unpickled(
    trained: EmbeddingClassifier,
    embedder: WordHashEmbedder,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import joblib

    path = tmp_path / "router.joblib"
    recorded = save_artifact(trained, path, metadata=_metadata())["artifact_sha256"]
    with path.open("ab") as handle:
        handle.write(b"\x00")
    found = file_sha256(path)

    def never(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a file that failed its hash check was unpickled")

    monkeypatch.setattr(joblib, "load", never)
    with pytest.raises(ArtifactError) as error:
        load_artifact(path, embedder=embedder)
    assert found[:12] in str(error.value) and recorded[:12] in str(error.value)


def test_another_embedder_is_refused_naming_both(
    trained: EmbeddingClassifier, tmp_path: Path
) -> None:
    path = tmp_path / "router.joblib"
    save_artifact(trained, path, metadata=_metadata())
    with pytest.raises(EmbedderMismatchError) as error:
        load_artifact(path, embedder=WordHashEmbedder(version="fake-2"))
    assert "fake-1" in str(error.value) and "fake-2" in str(error.value)
    assert isinstance(error.value, CourseLibError)


def test_another_scikit_learn_version_is_refused(
    trained: EmbeddingClassifier, embedder: WordHashEmbedder, tmp_path: Path
) -> None:
    path = tmp_path / "router.joblib"
    save_artifact(trained, path, metadata=_metadata())
    sidecar = metadata_path(path)
    stored = json.loads(sidecar.read_text())
    sidecar.write_text(json.dumps({**stored, "sklearn_version": "0.24.2"}))
    with pytest.raises(ArtifactError, match=r"0\.24\.2.*scikit-learn=="):
        load_artifact(path, embedder=embedder)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda p: metadata_path(p).unlink(), "No metadata sidecar"),
        (lambda p: metadata_path(p).write_text("{not json"), "not valid JSON"),
        (lambda p: metadata_path(p).write_text("[]"), "JSON object"),
        (lambda p: metadata_path(p).write_text('{"format": "x"}'), "lacks artifact_version"),
        (lambda p: p.unlink(), "is missing next to its sidecar"),
    ],
)
def test_missing_or_broken_sidecars_say_what_to_do(
    trained: EmbeddingClassifier,
    embedder: WordHashEmbedder,
    tmp_path: Path,
    damage: Any,
    message: str,
) -> None:
    path = tmp_path / "router.joblib"
    save_artifact(trained, path, metadata=_metadata())
    damage(path)
    with pytest.raises(ArtifactError, match=message):
        load_artifact(path, embedder=embedder)


def test_save_needs_the_callers_keys_and_keeps_computed_ones(
    trained: EmbeddingClassifier, embedder: WordHashEmbedder, tmp_path: Path
) -> None:
    path = tmp_path / "router.joblib"
    with pytest.raises(ArtifactError, match="data_sha256"):
        save_artifact(trained, path, metadata={"artifact_version": "1", "metrics": {}})
    with pytest.raises(ArtifactError, match="labels"):
        save_artifact(trained, path, metadata=_metadata(labels=["a"]))
    with pytest.raises(ArtifactError, match="untrained"):
        save_artifact(EmbeddingClassifier(embedder), path, metadata=_metadata())
    assert list(tmp_path.iterdir()) == []  # nothing half-written is left behind


# -- zero-shot routing ---------------------------------------------------------------------


def test_routing_schema_lists_every_category_with_its_meaning() -> None:
    from course_lib.datasets import TICKET_CATEGORIES as CATEGORIES

    schema = routing_schema(CATEGORIES)
    field = schema["properties"]["category"]
    assert field["enum"] == list(CATEGORIES)
    assert all(f"{value}: " in field["description"] for value in CATEGORIES)
    assert schema["required"] == ["category"]
    assert routing_response_format({"a": "one", "b": "two"})["json_schema"]["schema"]["properties"][
        "category"
    ]["enum"] == ["a", "b"]
    with pytest.raises(ValueError):
        routing_schema({})


def test_zero_shot_route_with_the_local_model() -> None:

    client = local_client()
    ticket = {
        "subject": "Okta Verify keeps rejecting my code",
        "body": "I cannot sign in to Okta since this morning; my MFA code is rejected.",
    }
    from course_lib.datasets import TICKET_CATEGORIES

    route = zero_shot_route(
        client, ticket, categories=TICKET_CATEGORIES, model="chat-large", seed=0
    )
    assert route.result.prompt_version == ROUTING_PROMPT_VERSION
    assert route.cost_usd > 0 and route.simulated_latency_ms and route.simulated_latency_ms > 0
    if route.valid:
        assert route.category == "login_mfa" and route.error is None
    else:
        assert route.error


class _CannedClient:
    def __init__(self, content: str | None) -> None:
        self.content = content
        self.requests: list[dict[str, Any]] = []

    def chat(self, messages: Any, **kwargs: Any) -> Any:
        from course_lib.llm import ChatResult, Usage

        self.requests.append({"messages": messages, **kwargs})
        return ChatResult(self.content, "canned", Usage(10, 5), 0.0, 1.0, "stop")


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (None, "no content"),
        ('{"category": "hard', "not valid JSON"),
        ('{"queue": "hardware"}', "no 'category'"),
        ('{"category": "Hardware"}', "'Hardware' is not one of"),
        ('{"category": ["hardware"]}', "is not one of"),
    ],
)
def test_an_unusable_answer_is_none_with_a_reason(content: str | None, error: str) -> None:
    client = _CannedClient(content)
    route = zero_shot_route(client, "my laptop is broken", categories={"hardware": "kit"})  # type: ignore[arg-type]
    assert route.category is None and not route.valid
    assert route.error is not None and error in route.error
    assert client.requests[0]["messages"] == "my laptop is broken"


def test_a_valid_answer_is_parsed() -> None:
    assert _parse_category('{"category": "hardware"}', {"hardware": "kit"}) == ("hardware", None)


# -- import cost ---------------------------------------------------------------------------


def test_importing_the_package_loads_no_heavy_library() -> None:
    code = (
        "import sys, course_lib.classify;"
        "print([m for m in ('numpy', 'sklearn', 'joblib', 'pandas', 'wordllama', 'openai') "
        "if m in sys.modules])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert result.stdout.strip() == "[]"
