"""A small model fine-tuned for one task: logistic regression on text embeddings.

This is the cheapest real "fine-tune": the embedding model stays frozen, and a linear
classifier learns, from labelled examples, which directions of the embedding space mean which
label. Training takes well under a second on a laptop; a prediction costs one embedding (a
few hundredths of a cent per thousand texts at provider prices) and a dot product.

>>> classifier = EmbeddingClassifier().fit(train_texts, train_labels)
>>> classifier.predict(["okta locked me out again"])
['login_mfa']
>>> classifier.predict_with_probability(["okta locked me out again"])[0].probability
0.83

The classifier records the identity of its embedder: vectors from another embedder (or
another version of the same one) live in another space, and the weights mean nothing there.
:mod:`course_lib.classify.artifact` saves that identity next to the weights and checks it.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from course_lib.embeddings.identity import EmbedderIdentity

if TYPE_CHECKING:
    import pandas as pd
    from numpy.typing import NDArray

    from course_lib.embeddings.base import Embedder

__all__ = ["EmbeddingClassifier", "Prediction", "learning_curve"]


@dataclass(frozen=True)
class Prediction:
    """The most likely label and the probability the classifier gives it."""

    label: str
    probability: float


class EmbeddingClassifier:
    """Logistic regression (scikit-learn) trained on an embedder's vectors of texts.

    Args:
        embedder: the frozen embedder; the default embedder (the ``embed`` role) when None.
        C: inverse regularisation strength; larger fits the training data more closely.
        class_weight: ``"balanced"`` weighs rare classes up, so they are not ignored; None
            weighs every example the same.
        max_iter: the solver's iteration limit.
    """

    def __init__(
        self,
        embedder: Embedder | None = None,
        *,
        C: float = 10.0,
        class_weight: str | None = "balanced",
        max_iter: int = 2000,
    ) -> None:
        if embedder is None:
            from course_lib.embeddings import get_embedder

            embedder = get_embedder()
        self.embedder = embedder
        self.C = C
        self.class_weight = class_weight
        self.max_iter = max_iter
        self.estimator: Any = None
        self.training_size = 0

    def __repr__(self) -> str:
        parts = [self.embedder.identity.name, f"C={self.C}"]
        if self.fitted:
            parts.append(f"{len(self.classes)} classes, {self.training_size} examples")
        return f"EmbeddingClassifier({', '.join(parts)})"

    # -- what it is ------------------------------------------------------------------------

    @property
    def embedder_identity(self) -> EmbedderIdentity:
        """The identity of the embedder whose vectors the classifier reads."""
        return self.embedder.identity

    @property
    def fitted(self) -> bool:
        return self.estimator is not None

    @property
    def classes(self) -> tuple[str, ...]:
        """The labels the classifier can predict, sorted (the columns of probabilities)."""
        self._require_fitted("classes")
        return tuple(str(c) for c in self.estimator.classes_)

    # -- training --------------------------------------------------------------------------

    def embed(self, texts: Sequence[str]) -> NDArray[Any]:
        """The embedder's vectors of ``texts`` (compute once, reuse for fit and predict)."""
        return self.embedder.embed(list(texts))

    def count_tokens(self, texts: Sequence[str]) -> int:
        """The embedding tokens ``texts`` cost: what an embeddings API would bill."""
        return sum(self.embedder.count_tokens(text) for text in texts)

    def fit(self, texts: Sequence[str], labels: Sequence[Hashable]) -> EmbeddingClassifier:
        """Embeds ``texts`` and trains on them; returns the classifier itself."""
        return self.fit_vectors(self.embed(texts), labels)

    def fit_vectors(self, vectors: NDArray[Any], labels: Sequence[Hashable]) -> EmbeddingClassifier:
        """Trains on vectors already made by this classifier's embedder."""
        from sklearn.linear_model import LogisticRegression

        matrix = self._check_vectors(vectors)
        targets = [str(label) for label in labels]
        if len(targets) != matrix.shape[0]:
            raise ValueError(
                f"{matrix.shape[0]} vectors but {len(targets)} labels; give one label per text."
            )
        if len(set(targets)) < 2:
            raise ValueError(
                f"Training needs at least two different labels; got only {sorted(set(targets))}."
            )
        estimator = LogisticRegression(
            C=self.C, class_weight=self.class_weight, max_iter=self.max_iter
        )
        with _one_blas_thread():
            estimator.fit(matrix, targets)
        self.estimator = estimator
        self.training_size = len(targets)
        return self

    # -- predicting ------------------------------------------------------------------------

    def predict(self, texts: Sequence[str]) -> list[str]:
        """The most likely label of each text."""
        return self.predict_vectors(self.embed(texts))

    def predict_vectors(self, vectors: NDArray[Any]) -> list[str]:
        self._require_fitted("predict")
        return [str(label) for label in self.estimator.predict(self._check_vectors(vectors))]

    def predict_proba(self, texts: Sequence[str]) -> NDArray[Any]:
        """Probabilities, one row per text, one column per label of :attr:`classes`."""
        return self.proba_vectors(self.embed(texts))

    def proba_vectors(self, vectors: NDArray[Any]) -> NDArray[Any]:
        self._require_fitted("predict_proba")
        probabilities: NDArray[Any] = self.estimator.predict_proba(self._check_vectors(vectors))
        return probabilities

    def predict_with_probability(self, texts: Sequence[str]) -> list[Prediction]:
        """The most likely label of each text with its probability, e.g. to send the
        uncertain ones to a person."""
        probabilities = self.predict_proba(texts)
        classes = self.classes
        return [Prediction(classes[int(row.argmax())], float(row.max())) for row in probabilities]

    # -- checks ----------------------------------------------------------------------------

    def _require_fitted(self, what: str) -> None:
        if self.estimator is None:
            raise RuntimeError(
                f"Cannot {what}: the classifier is not trained yet. Call fit(texts, labels) "
                "first, or load a trained one with course_lib.classify.load_artifact."
            )

    def _check_vectors(self, vectors: NDArray[Any]) -> NDArray[Any]:
        import numpy as np

        matrix = np.asarray(vectors, dtype=np.float32)
        if matrix.ndim != 2 or matrix.shape[1] != self.embedder_identity.dimension:
            raise ValueError(
                f"Expected vectors of shape (n, {self.embedder_identity.dimension}) from "
                f"{self.embedder_identity}; got shape {matrix.shape}. Make them with "
                "classifier.embed(texts)."
            )
        return matrix


def _one_blas_thread() -> Any:
    """Limits numpy's BLAS to one thread for a block.

    The matrices here are small (hundreds of rows, 256 columns): threads cost more to
    coordinate than they save, and on a busy machine (a CI runner running tests in parallel,
    a laptop with a notebook and a browser) spinning BLAS threads made one fit 30 to 50 times
    slower in our measurements. One thread is also the same arithmetic on every machine.
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def learning_curve(
    classifier: EmbeddingClassifier,
    train_vectors: NDArray[Any],
    train_labels: Sequence[Hashable],
    test_vectors: NDArray[Any],
    test_labels: Sequence[Hashable],
    *,
    sizes: Sequence[int],
    repeats: int = 3,
    seed: int = 0,
) -> pd.DataFrame:
    """Test scores of classifiers trained on growing, stratified subsets of the training set.

    For each size, ``repeats`` subsets are drawn (seeded, each with every class in about its
    share), a fresh classifier with ``classifier``'s settings is trained on each, and scored
    on the whole test set. A size at or above the training set's uses all of it, once.

    Returns a DataFrame with columns ``size``, ``repeat``, ``accuracy`` and ``macro_f1``.
    """
    import numpy as np
    import pandas as pd
    from sklearn.model_selection import train_test_split

    from course_lib.classify.scoring import classification_scores

    labels = np.asarray([str(label) for label in train_labels])
    truth = [str(label) for label in test_labels]
    n_classes = len(set(labels.tolist()))
    rows = []
    for size in sizes:
        if size < n_classes:
            raise ValueError(
                f"A training subset of {size} cannot hold all {n_classes} classes; start the "
                f"sizes at {n_classes} or more."
            )
        runs = 1 if size >= len(labels) else repeats
        for repeat in range(runs):
            if size >= len(labels):
                chosen = np.arange(len(labels))
            else:
                chosen, _ = train_test_split(
                    np.arange(len(labels)),
                    train_size=size,
                    stratify=labels,
                    random_state=seed * 1000 + repeat,
                )
            model = EmbeddingClassifier(
                classifier.embedder,
                C=classifier.C,
                class_weight=classifier.class_weight,
                max_iter=classifier.max_iter,
            ).fit_vectors(train_vectors[chosen], labels[chosen].tolist())
            scores = classification_scores(truth, model.predict_vectors(test_vectors))
            rows.append(
                {
                    "size": int(min(size, len(labels))),
                    "repeat": repeat,
                    "accuracy": scores.accuracy,
                    "macro_f1": scores.macro_f1,
                }
            )
    return pd.DataFrame(rows, columns=["size", "repeat", "accuracy", "macro_f1"])
