"""Classifying text two ways, and shipping the trained one as a versioned artifact.

* :func:`zero_shot_route`: ask a chat model, with a JSON schema of the categories (no
  training data, one model call per item); :func:`few_shot_route` adds solved examples, a
  fixed set or the nearest labelled items (:func:`nearest_indices`);
* :class:`EmbeddingClassifier`: logistic regression trained on the default embedder's vectors
  (labelled data, then one embedding per item), and :func:`learning_curve`;
* :func:`classification_scores`, :func:`macro_f1`, :func:`confusion_counts`;
* :func:`save_artifact` / :func:`load_artifact`: the trained model with a JSON sidecar
  (version, data fingerprint, labels, embedder identity, library version, metrics, file hash),
  checked before anything is unpickled.

Importing this package loads no numpy, scikit-learn, joblib or model: that happens on use.
"""

from __future__ import annotations

from course_lib.classify.artifact import (
    ARTIFACT_FORMAT,
    ArtifactError,
    LoadedArtifact,
    artifact_metadata,
    data_fingerprint,
    file_sha256,
    load_artifact,
    metadata_path,
    read_metadata,
    save_artifact,
)
from course_lib.classify.few_shot import (
    FEW_SHOT_PROMPT_VERSION,
    few_shot_messages,
    few_shot_route,
    nearest_indices,
    stratified_indices,
)
from course_lib.classify.model import EmbeddingClassifier, Prediction, learning_curve
from course_lib.classify.scoring import (
    ClassificationScores,
    classification_scores,
    confusion_counts,
    macro_f1,
)
from course_lib.classify.text import ticket_text, ticket_texts
from course_lib.classify.zero_shot import (
    ROUTING_PROMPT_VERSION,
    ROUTING_SYSTEM_PROMPT,
    RouteResult,
    routing_response_format,
    routing_schema,
    zero_shot_route,
)

__all__ = [
    "ARTIFACT_FORMAT",
    "FEW_SHOT_PROMPT_VERSION",
    "ROUTING_PROMPT_VERSION",
    "ROUTING_SYSTEM_PROMPT",
    "ArtifactError",
    "ClassificationScores",
    "EmbeddingClassifier",
    "LoadedArtifact",
    "Prediction",
    "RouteResult",
    "artifact_metadata",
    "classification_scores",
    "confusion_counts",
    "data_fingerprint",
    "few_shot_messages",
    "few_shot_route",
    "file_sha256",
    "learning_curve",
    "load_artifact",
    "macro_f1",
    "metadata_path",
    "nearest_indices",
    "read_metadata",
    "routing_response_format",
    "routing_schema",
    "save_artifact",
    "stratified_indices",
    "ticket_text",
    "ticket_texts",
    "zero_shot_route",
]
