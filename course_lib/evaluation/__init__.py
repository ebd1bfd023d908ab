"""Evaluation: answer and retrieval metrics, and the statistics that say whether a change is real.

* ``facts``: whether an answer states a reference's fact (its numbers and content words);
* ``metrics``: exact match, token F1, precision/recall@k, reciprocal rank, nDCG@k;
* ``stats``: bootstrap confidence intervals, a paired bootstrap comparison, Cohen's kappa;
* ``runner``: run an answer function over a golden set (one row per question, with scores,
  tokens and cost), summarise a run, compare two runs question by question;
* ``judge``: model-as-judge, a prompt, a JSON verdict and a parser that refuses bad verdicts;
* ``pairwise``: a judge that picks the better of two answers, asked in both orders;
* ``plots``: the bootstrap distribution and paired differences as figures.
"""

from __future__ import annotations

from course_lib.evaluation.facts import contains_fact, fact_recall
from course_lib.evaluation.judge import (
    JUDGE_TEMPLATE,
    RESPONSE_FORMAT,
    VERDICT_SCHEMA,
    GradedAnswer,
    JudgeVerdict,
    UnparseableVerdictError,
    grade,
    grade_all,
    judge_prompt,
    parse_verdict,
)
from course_lib.evaluation.metrics import (
    exact_match,
    ndcg_at_k,
    normalize_answer,
    precision_at_k,
    recall_at_k,
    reciprocal_rank,
    token_f1,
    unit_recall_at_k,
    unit_reciprocal_rank,
)
from course_lib.evaluation.pairwise import (
    PAIRWISE_RESPONSE_FORMAT,
    PAIRWISE_TEMPLATE,
    PairwisePreference,
    judge_both_orders,
    judge_pair,
    parse_pair_verdict,
)
from course_lib.evaluation.plots import bootstrap_means, plot_bootstrap, plot_paired
from course_lib.evaluation.runner import (
    compare_runs,
    is_refusal,
    rescore,
    run_golden,
    summarize,
)
from course_lib.evaluation.stats import (
    ConfidenceInterval,
    PairedComparison,
    bootstrap_ci,
    cohen_kappa,
    paired_bootstrap,
)

__all__ = [
    "JUDGE_TEMPLATE",
    "PAIRWISE_RESPONSE_FORMAT",
    "PAIRWISE_TEMPLATE",
    "RESPONSE_FORMAT",
    "VERDICT_SCHEMA",
    "ConfidenceInterval",
    "GradedAnswer",
    "JudgeVerdict",
    "PairedComparison",
    "PairwisePreference",
    "UnparseableVerdictError",
    "bootstrap_ci",
    "bootstrap_means",
    "cohen_kappa",
    "compare_runs",
    "contains_fact",
    "exact_match",
    "fact_recall",
    "grade",
    "grade_all",
    "is_refusal",
    "judge_both_orders",
    "judge_pair",
    "judge_prompt",
    "ndcg_at_k",
    "normalize_answer",
    "paired_bootstrap",
    "parse_pair_verdict",
    "parse_verdict",
    "plot_bootstrap",
    "plot_paired",
    "precision_at_k",
    "recall_at_k",
    "reciprocal_rank",
    "rescore",
    "run_golden",
    "summarize",
    "token_f1",
    "unit_recall_at_k",
    "unit_reciprocal_rank",
]
