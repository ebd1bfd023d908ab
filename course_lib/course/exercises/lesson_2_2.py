"""Checkers of lesson 2.2, "RAG II: index, retrieve, answer"."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from course_lib.course.checking import NotYet, Probe, answer_calls, exercise
from course_lib.labs.retrieval_lab import citation_support
from course_lib.rag import reciprocal_rank_fusion

SOLUTION = "solutions/2_engineering_patterns/22_index_retrieve_answer.ipynb"


# -- 2.2.1 reciprocal rank fusion ---------------------------------------------------------------


def rrf_scores(rankings: dict[str, list[str]], k: int = 60) -> dict[str, float]:
    """The reference: each id's RRF score, summed over the rankings it appears in."""
    scores: dict[str, float] = {}
    for ranking in rankings.values():
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1 / (k + rank)
    return scores


def _library_scores(rankings: dict[str, list[str]], k: int) -> dict[str, float]:
    """The expected scores, from course_lib's reciprocal_rank_fusion."""
    return {item.key: item.score for item in reciprocal_rank_fusion(rankings, k=k)}


# (rankings, k, why)
_RRF_CASES: list[tuple[dict[str, list[str]], int, str]] = [
    ({"dense": ["a", "b", "c"]}, 60, "one ranking: 1/61, 1/62, 1/63"),
    (
        {"dense": ["a", "b"], "bm25": ["b", "a"]},
        60,
        "each id sums one term per ranking it appears in",
    ),
    ({"dense": ["a", "b"], "bm25": ["c"]}, 60, "an id missing from a ranking gets nothing from it"),
    ({"dense": ["x", "y", "z"], "bm25": ["z", "w"]}, 1, "the constant k is the one passed"),
    ({"dense": [], "bm25": ["q"]}, 60, "an empty ranking adds nothing"),
    (
        {"dense": ["p", "q", "r", "s"], "bm25": ["s", "r", "q"], "sentences": ["q"]},
        10,
        "three rankings",
    ),
]


@exercise(
    "2.2.1",
    title="Reciprocal rank fusion",
    answer_name="rrf_scores",
    reference=rrf_scores,
    solution=SOLUTION,
    hints=(
        "Loop over the rankings; in each, every id at (1-based) rank r adds 1 / (k + r) to that "
        "id's score. Keep the scores in a dict.",
        "Ranks start at 1: enumerate(ranking, start=1). An id found by several rankings adds "
        "one term per ranking, so start from scores.get(item, 0.0).",
        "for ranking in rankings.values(): for rank, item in enumerate(ranking, start=1): "
        "scores[item] = scores.get(item, 0.0) + 1 / (k + rank); then return scores.",
    ),
)
def _check_rrf(answer: Any, probe: Probe) -> str:
    if answer_calls(answer, reciprocal_rank_fusion):
        raise NotYet(
            "rrf_scores calls reciprocal_rank_fusion: that is the library's fusion; write your "
            "own from the ranks, then compare."
        )
    for rankings, k, why in _RRF_CASES:
        call = probe.describe_call(rankings, k=k)
        got = probe.call(answer, {name: list(r) for name, r in rankings.items()}, k=k)
        probe.expect_type(got, dict, call)
        expected = _library_scores(rankings, k)
        if set(got) != set(expected):
            raise NotYet(
                f"{call} scored the ids {sorted(map(str, got))}, expected {sorted(expected)} "
                f"({why})."
            )
        for key, value in expected.items():
            score = got[key]
            if isinstance(score, bool) or not isinstance(score, (int, float)):
                raise NotYet(f"{call} gave {key!r} the score {score!r}; expected a number.")
            if not math.isclose(score, value, rel_tol=1e-9, abs_tol=1e-12):
                raise NotYet(f"{call} gave {key!r} {score:.5f}, expected {value:.5f} ({why}).")
    return f"rrf_scores matches reciprocal rank fusion on all {len(_RRF_CASES)} hidden cases."


# -- 2.2.2 citation support ------------------------------------------------------------------

_FEE = "The on-call allowance is EUR 300 per week, paid with the next salary."
_LEAVE = "Employees get 28 days of annual leave, plus public holidays."
_KEYS = "Rotate API keys every 90 days; the security team audits rotation monthly."

# (answer, passages, why)
_SUPPORT_CASES: list[tuple[str, dict[str, str], str]] = [
    ("The allowance is EUR 300 per week [fee].", {"fee": _FEE}, "a supported citation"),
    (
        "Employees get 28 days of annual leave [fee].",
        {"fee": _FEE, "leave": _LEAVE},
        "a real passage that does not say what the sentence claims",
    ),
    (
        "The allowance is EUR 300 per week [ghost].",
        {"fee": _FEE},
        "a cited id the prompt never held is unsupported",
    ),
    (
        "The allowance is EUR 300 per week [fee]. Annual leave is 28 days [leave].",
        {"fee": _FEE, "leave": _LEAVE},
        "each citation is judged against its own sentence",
    ),
    (
        "API keys are rotated every 90 days [keys]. Leave is 28 days a year [keys].",
        {"keys": _KEYS, "leave": _LEAVE},
        "an id cited twice must support every sentence citing it",
    ),
    (
        "Rotate API keys every 90 days and take 28 days of annual leave [keys][leave].",
        {"keys": _KEYS, "leave": _LEAVE},
        "two markers on one sentence: the claim is the sentence without either marker",
    ),
    ("I don't know.", {"fee": _FEE}, "no citation: an empty dict"),
    (
        "Security audits key rotation monthly! Employees get 28 days of annual leave [leave].",
        {"keys": _KEYS, "leave": _LEAVE},
        "a sentence can end with ! (and the first sentence cites nothing)",
    ),
]


@exercise(
    "2.2.2",
    title="Does each citation support the answer?",
    answer_name="citation_support",
    reference=citation_support,
    solution=SOLUTION,
    hints=(
        "The skeleton gives you each sentence. MARKER.findall(sentence) lists the ids it cites, "
        "and MARKER.sub(' ', sentence) removes the markers, leaving the claim.",
        "An id is supported in a sentence when it is in passages and fact_recall("
        "passages[id], claim) >= 0.5; an id that passages lacks is unsupported (made up).",
        "For each id the sentence cites: verdicts[id] = verdicts.get(id, True) and ok, so one "
        "unsupported sentence makes the id unsupported. The skeleton returns verdicts.",
    ),
)
def _check_support(answer: Any, probe: Probe) -> str:
    if answer_calls(answer, citation_support):
        raise NotYet(
            "citation_support calls the lab's citation_support: write your own from "
            "fact_recall, then compare."
        )
    for text, passages, why in _SUPPORT_CASES:
        call = probe.describe_call(text, passages)
        got = probe.call(answer, text, dict(passages))
        probe.expect_type(got, dict, call)
        expected = citation_support(text, passages)
        cleaned = {key: bool(value) for key, value in got.items()}
        if set(cleaned) != set(expected):
            raise NotYet(
                f"{call} returned verdicts for {sorted(map(str, cleaned))}, expected every "
                f"cited id, {sorted(expected)} ({why})."
            )
        for cite_id, supported in expected.items():
            if not isinstance(got[cite_id], bool):
                raise NotYet(f"{call} gave {cite_id!r} {got[cite_id]!r}; expected True or False.")
            if got[cite_id] != supported:
                raise NotYet(
                    f"{call} says {cite_id!r} is {got[cite_id]}, expected {supported} ({why})."
                )
    return f"citation_support judges all {len(_SUPPORT_CASES)} hidden answers right."


# -- 2.2.3 five sources, not five chunks (open-ended, measured on the test split) -------------

RESULTS = 5
"""How many results, from as many different documents, retrieve() must return."""
DEV_TARGET = 0.80
"""Recall@5 the lesson asks for on the dev split, where the learner tunes: above plain hybrid
search (0.779), below hybrid search kept to one chunk per document (0.810)."""
TEST_TARGET = 0.75
"""Recall@5 the checker asks for on the golden test split: the dev target less 0.05, the
allowance for a new sample of questions."""


def _checker_index_path() -> str:
    from course_lib.labs.retrieval_lab import lesson_index

    # The lesson's own index, brought back in line with the handbook (cheap when it exists).
    return str(lesson_index(fresh=False))


def reference_retrieve(index: Any, question: str, user: Any) -> list[Any]:
    """The reference: hybrid search over 20 results, the best chunk of each document, five."""
    from course_lib.rag import search

    results: list[Any] = []
    seen: set[str] = set()
    for hit in search(index, question, user=user, k=20, mode="hybrid"):
        if hit.chunk.doc_id not in seen:
            seen.add(hit.chunk.doc_id)
            results.append(hit)
    return results[:RESULTS]


def _results(
    answer: Callable[..., Any], probe: Probe, index: Any, question: str, user: Any
) -> list[Any]:
    from course_lib.rag import Chunk, Retrieved

    call = f"retrieve(index, {question[:40]!r}..., user={user.id!r})"
    got = probe.call(answer, index, question, user)
    if got is None:
        raise NotYet(f"{call} returned None; return the list of search results.")
    if isinstance(got, (str, bytes)) or not isinstance(got, Sequence):
        raise NotYet(f"{call} returned {type(got).__name__}; expected a list of search results.")
    for hit in got:
        if not isinstance(hit, (Retrieved, Chunk)):
            raise NotYet(
                f"{call} returned a list holding {type(hit).__name__}; expected the Retrieved "
                "results search() returns."
            )
    doc_ids = [hit.chunk.doc_id if isinstance(hit, Retrieved) else hit.doc_id for hit in got]
    if len(got) != RESULTS:
        raise NotYet(
            f"{call} returned {len(got)} results; return exactly {RESULTS} (ask search() for "
            "more than five, then keep the best chunk of each document)."
        )
    if len(set(doc_ids)) < len(doc_ids):
        repeated = next(d for d in doc_ids if doc_ids.count(d) > 1)
        raise NotYet(
            f"{call} returned two chunks of {repeated!r}; keep only the best chunk of each "
            "document, so that five results name five documents."
        )
    return list(got)


@exercise(
    "2.2.3",
    title="Five sources, not five chunks",
    answer_name="retrieve",
    reference=reference_retrieve,
    solution=SOLUTION,
    time_limit=120.0,
    hints=(
        "Count how many distinct documents the plain top 5 holds for a few dev questions: "
        "several chunks often come from one document. Where could the other documents come "
        "from, if you looked further down the ranking?",
        "Ask search for more than five (say k=20), walk the results best first, and keep a "
        "result only when its document (hit.chunk.doc_id) is not kept yet. Stop at five and "
        "return the Retrieved objects themselves, best first. Keep "
        "user=user: the checker also asks restricted questions as an employee and counts "
        f"leaks. Which mode to start from? The table of section 5; the dev target is "
        f"{DEV_TARGET}.",
        "seen, kept = set(), []; for hit in search(index, question, user=user, k=20): if "
        "hit.chunk.doc_id not in seen: seen.add(hit.chunk.doc_id); kept.append(hit); then "
        "return kept[:5]. That clears the dev target with hybrid search, the default mode.",
    ),
)
def _check_retrieve(answer: Any, probe: Probe) -> str:
    from course_lib.datasets import load_golden_set
    from course_lib.evaluation import bootstrap_ci
    from course_lib.rag import HandbookIndex, User, evaluation_reader, question_metrics

    test = load_golden_set("test")
    reader = evaluation_reader()
    employee = User.employee("checker-employee")
    with HandbookIndex.open(_checker_index_path()) as index:
        leaks = 0
        for question in (q for q in test if q.type == "restricted"):
            hits = _results(answer, probe, index, question.question, employee)
            leaks += any(not employee.can_read(getattr(h, "chunk", h).access) for h in hits)
        if leaks:
            raise NotYet(
                f"restricted chunks reached an employee in {leaks} test queries; pass user=user "
                "to search() so access control applies inside the query."
            )
        recalls = []
        for question in (q for q in test if q.answerable):
            hits = _results(answer, probe, index, question.question, reader)
            doc_ids = [getattr(h, "chunk", h).doc_id for h in hits]
            recalls.append(question_metrics(doc_ids, question.doc_ids, k=RESULTS)["recall"])
    ci = bootstrap_ci(recalls, seed=0)
    if ci.estimate < TEST_TARGET:
        raise NotYet(
            f"recall@5 on the test split is {ci.estimate:.3f} (95% CI {ci.low:.3f} to "
            f"{ci.high:.3f}), below {TEST_TARGET}. Tune on dev only, and prefer a setting that "
            "clears the dev target with room."
        )
    return (
        f"five documents per question, no leaks, and recall@5 on the test split, which you "
        f"did not tune on: {ci.estimate:.3f} (95% CI {ci.low:.3f} to {ci.high:.3f}), at least "
        f"{TEST_TARGET}."
    )
