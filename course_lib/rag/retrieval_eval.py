"""Retrieval evaluation on labelled questions: recall@k, MRR and nDCG, per question and overall.

Only answerable questions count (an unanswerable one has nothing to find). A retrieved chunk is
relevant when its document is one the question's reference answer cites, which is what the
Handbook Assistant needs: the right document in front of the model. The metrics are the
chunk-level ("unit") ones of :mod:`course_lib.evaluation.metrics`:

* **recall@k** (:func:`~course_lib.evaluation.metrics.unit_recall_at_k`): the share of the
  question's gold documents among the documents of the top ``k`` chunks. Several chunks of one
  document count once, so a retriever that returns five chunks of the same document finds one
  document, not five.
* **reciprocal rank** (:func:`~course_lib.evaluation.metrics.unit_reciprocal_rank`): 1 / the
  rank of the first relevant chunk within the top ``depth`` (10), else 0; its mean is the MRR.
* **nDCG@k**: discounted gain of the distinct gold documents in the order they first appear in
  the top ``k`` chunks, divided by the ideal (all gold documents first).

The evaluator reads with full clearance (:func:`evaluation_reader`): the golden set includes
questions about restricted documents, and retrieval quality is measured apart from access
control, which has its own tests. Means come with bootstrap confidence intervals
(:func:`course_lib.evaluation.bootstrap_ci`): about a hundred questions leave a few points of
uncertainty, and a difference smaller than that is not a finding.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Protocol

from course_lib.evaluation.metrics import ndcg_at_k, unit_recall_at_k, unit_reciprocal_rank
from course_lib.rag.access import User
from course_lib.rag.documents import ACCESS_LEVELS
from course_lib.rag.fusion import DEFAULT_RRF_K
from course_lib.rag.retrieval import MODES, SearchMode, search

if TYPE_CHECKING:
    import pandas as pd

    from course_lib.rag.index import HandbookIndex

__all__ = [
    "DEPTH",
    "METRICS",
    "LabelledQuestion",
    "evaluate_retrieval",
    "evaluation_reader",
    "question_metrics",
    "summarise_retrieval",
]

DEPTH = 10  # the reciprocal rank looks this deep, then counts 0 (as the datasheet's baselines)
METRICS: tuple[str, ...] = ("recall", "mrr", "ndcg")


class LabelledQuestion(Protocol):
    """A question with the documents that answer it (the course's golden questions are)."""

    @property
    def id(self) -> str: ...

    @property
    def type(self) -> str: ...

    @property
    def question(self) -> str: ...

    @property
    def answerable(self) -> bool: ...

    @property
    def doc_ids(self) -> Sequence[str]: ...


def evaluation_reader() -> User:
    """A reader cleared for every access level, for offline evaluation only."""
    return User("retrieval-evaluation", clearance=frozenset(ACCESS_LEVELS))


def question_metrics(
    ranked_doc_ids: Sequence[str], gold_doc_ids: Collection[str], *, k: int = 5, depth: int = DEPTH
) -> dict[str, float]:
    """Recall@k, reciprocal rank (within ``depth``) and nDCG@k for one question.

    Args:
        ranked_doc_ids: the document id of each retrieved chunk, best first (repeats allowed).
        gold_doc_ids: the documents the reference answer cites (at least one).

    Example:
        >>> question_metrics(["a", "a", "b", "c"], {"b", "z"}, k=3)
        {'recall': 0.5, 'mrr': 0.3333333333333333, 'ndcg': 0.38685280723454163}
    """
    if not gold_doc_ids:
        raise ValueError(
            "A question with no gold documents cannot be scored; leave unanswerable questions "
            "out of retrieval metrics."
        )
    gold = set(gold_doc_ids)
    return {
        "recall": unit_recall_at_k(ranked_doc_ids, gold, k),
        "mrr": unit_reciprocal_rank(ranked_doc_ids, gold, depth),
        "ndcg": ndcg_at_k(list(ranked_doc_ids[:k]), gold, k),
    }


def evaluate_retrieval(
    index: HandbookIndex,
    questions: Sequence[LabelledQuestion],
    *,
    modes: Sequence[SearchMode] = MODES,
    k: int = 5,
    depth: int = DEPTH,
    candidates: int = 50,
    rrf_k: int = DEFAULT_RRF_K,
    weights: Mapping[str, float] | None = None,
    first_picks: bool | None = None,
) -> pd.DataFrame:
    """Scores each answerable question under each search mode: one row per pair.

    Columns: ``question_id``, ``type``, ``mode``, ``recall``, ``mrr``, ``ndcg``, ``retrieved``
    (the document ids of the top ``k`` chunks) and ``gold`` (the cited document ids).

    Args:
        index: the index to evaluate.
        questions: labelled questions, e.g. a golden split (``load_golden_set("dev")`` to
            tune, ``"test"`` once at the end); unanswerable ones are skipped.
        modes: the search modes to compare.
        k: the cut-off of recall and nDCG (and the number of results a user would see).
        depth: how deep the reciprocal rank looks.
        candidates: per-retriever candidates for hybrid and reranked search.
        rrf_k: the RRF constant for hybrid and reranked search.
        weights, first_picks: how fused modes combine their rankings (see
            :func:`~course_lib.rag.retrieval.search`); each mode's defaults when omitted.
    """
    import pandas as pd

    answerable = [q for q in questions if q.answerable]
    reader = evaluation_reader()
    rows = []
    for mode in modes:
        for question in answerable:
            hits = search(
                index,
                question.question,
                user=reader,
                k=max(k, depth),
                mode=mode,
                candidates=candidates,
                rrf_k=rrf_k,
                weights=weights,
                first_picks=first_picks,
            )
            ranked = [hit.chunk.doc_id for hit in hits]
            scores = question_metrics(ranked, question.doc_ids, k=k, depth=depth)
            rows.append(
                {
                    "question_id": question.id,
                    "type": question.type,
                    "mode": mode,
                    **scores,
                    "retrieved": ranked[:k],
                    "gold": list(question.doc_ids),
                }
            )
    columns = ["question_id", "type", "mode", *METRICS, "retrieved", "gold"]
    return pd.DataFrame(rows, columns=columns)


def summarise_retrieval(
    per_question: pd.DataFrame,
    *,
    by: Sequence[str] = ("mode",),
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    """Each metric's mean per group, with a bootstrap confidence interval.

    Columns: the ``by`` columns, ``questions``, then ``<metric>``, ``<metric>_low`` and
    ``<metric>_high`` for recall, mrr and ndcg. Groups keep the order they first appear in.
    """
    import pandas as pd

    from course_lib.evaluation.stats import bootstrap_ci

    rows = []
    for keys, group in per_question.groupby(list(by), sort=False):
        row = dict(zip(by, keys if isinstance(keys, tuple) else (keys,), strict=True))
        row["questions"] = len(group)
        for metric in METRICS:
            interval = bootstrap_ci(
                group[metric].to_numpy(),
                confidence=confidence,
                n_resamples=n_resamples,
                seed=seed,
            )
            row[metric] = interval.estimate
            row[f"{metric}_low"] = interval.low
            row[f"{metric}_high"] = interval.high
        rows.append(row)
    return pd.DataFrame(rows)
