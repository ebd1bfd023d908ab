"""Saving a trained classifier as a versioned artifact, and loading it back safely.

A model file on its own answers none of the questions production asks of it: which data made
it, which embedder's vectors it expects, how good it was, which library wrote it, and whether
the file is the one that was written. So next to ``router.joblib`` goes ``router.joblib.json``,
a sidecar that records all of that::

    {
      "format": "course-classifier/1",
      "artifact_version": "ticket-router-1.0.0",
      "artifact_sha256": "…",          # hash of the model file's bytes
      "data_sha256": "…",              # hash of the training data (see data_fingerprint)
      "labels": ["access_request", …],
      "embedder": {"name": "local-embed", "dimension": 256, "version": "wordllama-…"},
      "sklearn_version": "1.9.1",
      "training_size": 584,
      "metrics": {"test": {"accuracy": 0.70, …}}
    }

:func:`load_artifact` checks, in this order and before anything is unpickled: the sidecar
exists and is complete, the file's hash matches, and the embedder in use is the one the model
was trained on; then the scikit-learn version. Each failure names both sides and the fix.

**Security.** joblib files are pickles: loading one can run any code its author put in it
(scikit-learn's model persistence guide says so plainly). Load only artifacts from a source you
trust. The hash check catches corruption and an edited file, but it protects against an
attacker only when the sidecar (or the hash) comes from somewhere the attacker cannot write,
such as a model registry or a signed release. ``skops.io`` is a safer format that loads only
types you allow; ONNX drops Python objects altogether.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from course_lib.embeddings.identity import EmbedderIdentity
from course_lib.errors import ArtifactError

if TYPE_CHECKING:
    from course_lib.classify.model import EmbeddingClassifier
    from course_lib.embeddings.base import Embedder

__all__ = [
    "ARTIFACT_FORMAT",
    "CALLER_KEYS",
    "REQUIRED_KEYS",
    "ArtifactError",
    "LoadedArtifact",
    "artifact_metadata",
    "data_fingerprint",
    "file_sha256",
    "load_artifact",
    "metadata_path",
    "read_metadata",
    "save_artifact",
]

ARTIFACT_FORMAT = "course-classifier/1"
# What the caller must say, because the classifier cannot know it.
CALLER_KEYS = ("artifact_version", "data_sha256", "metrics")
# Every key of a complete sidecar.
REQUIRED_KEYS = (
    "format",
    "artifact_version",
    "artifact_sha256",
    "data_sha256",
    "labels",
    "embedder",
    "sklearn_version",
    "training_size",
    "metrics",
)


@dataclass(frozen=True)
class LoadedArtifact:
    """A classifier loaded from disk, with the metadata it was saved with."""

    classifier: EmbeddingClassifier
    metadata: dict[str, Any]


def file_sha256(path: str | os.PathLike[str]) -> str:
    """The SHA-256 of a file's bytes, as 64 hex characters (read in chunks: models get big)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def data_fingerprint(texts: Sequence[str], labels: Sequence[Hashable]) -> str:
    """A SHA-256 of training examples (text and label, in order), to record what made a model.

    Each example is written as a JSON array on its own line, so no two different datasets
    give the same bytes: ``["ab", "c"]`` and ``["a", "bc"]`` differ, and so does a changed
    label. (Joining the texts with nothing between them would make those collide.)
    """
    if len(texts) != len(labels):
        raise ValueError(f"{len(texts)} texts but {len(labels)} labels; give one label per text.")
    digest = hashlib.sha256()
    for text, label in zip(texts, labels, strict=True):
        line = json.dumps([str(text), str(label)], ensure_ascii=False)
        digest.update(line.encode("utf-8") + b"\n")
    return digest.hexdigest()


def metadata_path(path: str | os.PathLike[str]) -> Path:
    """Where the sidecar of ``path`` lives: the same name with ``.json`` added."""
    artifact = Path(path)
    return artifact.with_name(artifact.name + ".json")


def artifact_metadata(
    classifier: EmbeddingClassifier,
    artifact_path: str | os.PathLike[str],
    *,
    metadata: Mapping[str, Any],
) -> dict[str, Any]:
    """The complete sidecar for a model file already written to ``artifact_path``.

    ``metadata`` gives what only the caller knows (:data:`CALLER_KEYS`: the artifact's
    version, the training data's fingerprint, the evaluation metrics) and may add more keys;
    the rest comes from the classifier, scikit-learn and the file itself.
    """
    import sklearn

    missing = [key for key in CALLER_KEYS if key not in metadata]
    if missing:
        raise ArtifactError(
            f"Artifact metadata lacks {', '.join(missing)}. Pass metadata with "
            f"{', '.join(CALLER_KEYS)} (data_sha256 from data_fingerprint(texts, labels))."
        )
    computed = {
        "format": ARTIFACT_FORMAT,
        "artifact_sha256": file_sha256(artifact_path),
        "labels": sorted(classifier.classes),
        "embedder": classifier.embedder_identity.as_dict(),
        "sklearn_version": sklearn.__version__,
        "training_size": classifier.training_size,
    }
    clashes = sorted(set(computed) & set(metadata))
    if clashes:
        raise ArtifactError(
            f"Artifact metadata sets {', '.join(clashes)}, which save_artifact computes itself "
            "from the classifier and the file; leave them out."
        )
    merged = {**computed, **metadata}
    ordered = {key: merged[key] for key in REQUIRED_KEYS}
    return {**ordered, **{key: value for key, value in metadata.items() if key not in ordered}}


def save_artifact(
    classifier: EmbeddingClassifier,
    path: str | os.PathLike[str],
    *,
    metadata: Mapping[str, Any],
) -> dict[str, Any]:
    """Writes the trained model to ``path`` (joblib) and its sidecar next to it.

    Both files are written to a temporary name first and then renamed, so a crash never
    leaves a model without its sidecar or a half-written file under the real name. Only the
    scikit-learn estimator is saved; the embedder is not (it is recorded by identity and
    loaded from the model registry).

    Returns the metadata written to the sidecar.
    """
    import joblib

    if not classifier.fitted:
        raise ArtifactError("Cannot save an untrained classifier: call fit(texts, labels) first.")
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    model_tmp = _temporary_name(target)
    try:
        joblib.dump(classifier.estimator, model_tmp)
        complete = artifact_metadata(classifier, model_tmp, metadata=metadata)
        sidecar = metadata_path(target)
        sidecar_tmp = _temporary_name(sidecar)
        sidecar_tmp.write_text(json.dumps(complete, indent=2, sort_keys=False) + "\n")
        os.replace(model_tmp, target)
        os.replace(sidecar_tmp, sidecar)
    finally:
        for leftover in (model_tmp, _temporary_name(metadata_path(target))):
            if leftover.exists():
                leftover.unlink()
    return complete


def load_artifact(
    path: str | os.PathLike[str],
    *,
    embedder: Embedder | None = None,
) -> LoadedArtifact:
    """Loads a classifier saved by :func:`save_artifact`, after checking it is safe to use.

    Args:
        path: the model file (its sidecar is ``path`` + ``.json``).
        embedder: the embedder predictions will use; the default embedder when None.

    Raises:
        ArtifactError: the sidecar is missing or incomplete, the file's hash differs from the
            recorded one, or the scikit-learn version differs.
        EmbedderMismatchError: the embedder in use is not the one the model was trained on.
    """
    import joblib
    import sklearn

    from course_lib.classify.model import EmbeddingClassifier

    artifact = Path(path)
    metadata = read_metadata(artifact)
    if not artifact.is_file():
        raise ArtifactError(
            f"Model file {artifact.name!r} is missing next to its sidecar "
            f"{metadata_path(artifact).name!r}; restore it or train and save the model again."
        )
    found = file_sha256(artifact)
    expected = metadata["artifact_sha256"]
    if found != expected:
        raise ArtifactError(
            f"Model file {artifact.name!r} has SHA-256 {found[:12]}… but its sidecar records "
            f"{expected[:12]}…: the file was changed or corrupted after it was saved. It was not "
            "loaded (a joblib file can run code). Restore the file from its source, or train "
            "and save the model again."
        )
    if embedder is None:
        from course_lib.embeddings import get_embedder

        embedder = get_embedder()
    stored = EmbedderIdentity.from_dict(metadata["embedder"])
    embedder.identity.check_compatible(stored, what=f"classifier artifact {artifact.name!r}")
    if metadata["sklearn_version"] != sklearn.__version__:
        raise ArtifactError(
            f"Model file {artifact.name!r} was saved with scikit-learn "
            f"{metadata['sklearn_version']} but {sklearn.__version__} is installed; a pickled "
            "estimator is only guaranteed to work with the version that wrote it. Install "
            f"scikit-learn=={metadata['sklearn_version']}, or retrain and save the model again."
        )
    estimator = joblib.load(artifact)
    classifier = EmbeddingClassifier(embedder)
    classifier.estimator = estimator
    classifier.training_size = int(metadata["training_size"])
    if sorted(classifier.classes) != list(metadata["labels"]):
        raise ArtifactError(
            f"Model file {artifact.name!r} predicts {sorted(classifier.classes)} but its sidecar "
            f"lists {metadata['labels']}; the two files do not belong together."
        )
    return LoadedArtifact(classifier, metadata)


def read_metadata(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The sidecar of the model file ``path``, checked for every required key."""
    sidecar = metadata_path(path)
    if not sidecar.is_file():
        raise ArtifactError(
            f"No metadata sidecar {sidecar.name!r} next to {Path(path).name!r}: without it, "
            "nothing says which data, embedder and library made the model. Save models with "
            "save_artifact, which writes both files."
        )
    try:
        metadata = json.loads(sidecar.read_text())
    except json.JSONDecodeError as exc:
        raise ArtifactError(
            f"Metadata sidecar {sidecar.name!r} is not valid JSON ({exc.msg} at line "
            f"{exc.lineno}); restore it or save the model again."
        ) from None
    if not isinstance(metadata, dict):
        raise ArtifactError(f"Metadata sidecar {sidecar.name!r} should hold a JSON object.")
    missing = [key for key in REQUIRED_KEYS if key not in metadata]
    if missing:
        raise ArtifactError(
            f"Metadata sidecar {sidecar.name!r} lacks {', '.join(missing)}; it was not written "
            "by save_artifact. Save the model again."
        )
    if metadata["format"] != ARTIFACT_FORMAT:
        raise ArtifactError(
            f"Metadata sidecar {sidecar.name!r} has format {metadata['format']!r}; this code "
            f"reads {ARTIFACT_FORMAT!r}."
        )
    return metadata


def _temporary_name(target: Path) -> Path:
    return target.with_name(f".{target.name}.tmp")
