"""Evaluation: answer and retrieval metrics, and the statistics that say whether a change is real.

* ``metrics``: exact match, token F1, precision/recall@k, reciprocal rank, nDCG@k;
* ``stats``: bootstrap confidence intervals, a paired bootstrap comparison, Cohen's kappa.
"""

from __future__ import annotations

from course_lib.evaluation.metrics import (
    exact_match,
    ndcg_at_k,
    normalize_answer,
    precision_at_k,
    recall_at_k,
    reciprocal_rank,
    token_f1,
)
from course_lib.evaluation.stats import (
    ConfidenceInterval,
    PairedComparison,
    bootstrap_ci,
    cohen_kappa,
    paired_bootstrap,
)

__all__ = [
    "ConfidenceInterval",
    "PairedComparison",
    "bootstrap_ci",
    "cohen_kappa",
    "exact_match",
    "ndcg_at_k",
    "normalize_answer",
    "paired_bootstrap",
    "precision_at_k",
    "recall_at_k",
    "reciprocal_rank",
    "token_f1",
]
