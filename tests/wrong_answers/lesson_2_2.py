"""Plausible wrong answers to lesson 2.2's exercises; each must be rejected by its checker."""

from __future__ import annotations

import re
from typing import Any

from course_lib.evaluation.facts import fact_recall
from course_lib.labs import citation_support
from course_lib.rag import User, reciprocal_rank_fusion, search

# -- 2.2.1 reciprocal rank fusion -----------------------------------------------------------------


def _rrf_zero_based(rankings: dict[str, list[str]], k: int = 60) -> dict[str, float]:
    scores: dict[str, float] = {}
    for ranking in rankings.values():
        for rank, item in enumerate(ranking):
            scores[item] = scores.get(item, 0.0) + 1 / (k + rank)
    return scores


def _rrf_without_k(rankings: dict[str, list[str]], k: int = 60) -> dict[str, float]:
    scores: dict[str, float] = {}
    for ranking in rankings.values():
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1 / rank
    return scores


def _rrf_last_ranking_wins(rankings: dict[str, list[str]], k: int = 60) -> dict[str, float]:
    scores: dict[str, float] = {}
    for ranking in rankings.values():
        for rank, item in enumerate(ranking, start=1):
            scores[item] = 1 / (k + rank)  # overwrites instead of adding
    return scores


def _rrf_ignores_k_argument(rankings: dict[str, list[str]], k: int = 60) -> dict[str, float]:
    scores: dict[str, float] = {}
    for ranking in rankings.values():
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1 / (60 + rank)
    return scores


def _rrf_best_first_list(rankings: dict[str, list[str]], k: int = 60) -> Any:
    scores: dict[str, float] = {}
    for ranking in rankings.values():
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1 / (k + rank)
    return sorted(scores, key=scores.get, reverse=True)  # ids, not scores


def _rrf_only_ids_in_every_ranking(rankings: dict[str, list[str]], k: int = 60) -> dict[str, float]:
    lists = [ranking for ranking in rankings.values() if ranking]
    common = set.intersection(*(set(r) for r in lists)) if lists else set()
    return {item: sum(1 / (k + r.index(item) + 1) for r in lists) for item in common}


def _rrf_via_library(rankings: dict[str, list[str]], k: int = 60) -> dict[str, float]:
    # The library's fusion in one line: right numbers, none of the work.
    return {item.key: item.score for item in reciprocal_rank_fusion(rankings, k=k)}


# -- 2.2.2 citation support ---------------------------------------------------------------------

_MARKER = re.compile(r"\[([^\[\]\s]+)\]")
_SENTENCES = re.compile(r"(?<=[.!?])\s+")


def _support_whole_answer(answer: str, passages: dict[str, str]) -> dict[str, bool]:
    # The whole answer as the claim for every citation.
    claim = " ".join(_MARKER.sub(" ", answer).split())
    return {
        c: c in passages and fact_recall(passages[c], claim) >= 0.5
        for c in dict.fromkeys(_MARKER.findall(answer))
    }


def _support_only_existence(answer: str, passages: dict[str, str]) -> dict[str, bool]:
    return {c: c in passages for c in dict.fromkeys(_MARKER.findall(answer))}


def _support_any_sentence(answer: str, passages: dict[str, str]) -> dict[str, bool]:
    verdicts: dict[str, bool] = {}
    for sentence in _SENTENCES.split(answer):
        claim = " ".join(_MARKER.sub(" ", sentence).split())
        for c in dict.fromkeys(_MARKER.findall(sentence)):
            ok = c in passages and fact_recall(passages[c], claim) >= 0.5
            verdicts[c] = verdicts.get(c, False) or ok  # one supported sentence is enough
    return verdicts


def _support_reversed_recall(answer: str, passages: dict[str, str]) -> dict[str, bool]:
    verdicts: dict[str, bool] = {}
    for sentence in _SENTENCES.split(answer):
        claim = " ".join(_MARKER.sub(" ", sentence).split())
        for c in dict.fromkeys(_MARKER.findall(sentence)):
            # the passage's words found in the claim, not the claim's in the passage
            ok = c in passages and fact_recall(claim, passages[c]) >= 0.5
            verdicts[c] = verdicts.get(c, True) and ok
    return verdicts


def _support_skips_unknown_ids(answer: str, passages: dict[str, str]) -> dict[str, bool]:
    verdicts: dict[str, bool] = {}
    for sentence in _SENTENCES.split(answer):
        claim = " ".join(_MARKER.sub(" ", sentence).split())
        for c in dict.fromkeys(_MARKER.findall(sentence)):
            if c not in passages:
                continue  # a made-up id left out instead of flagged
            ok = fact_recall(passages[c], claim) >= 0.5
            verdicts[c] = verdicts.get(c, True) and ok
    return verdicts


def _support_keeps_markers(answer: str, passages: dict[str, str]) -> dict[str, bool]:
    verdicts: dict[str, bool] = {}
    for sentence in _SENTENCES.split(answer):
        for c in dict.fromkeys(_MARKER.findall(sentence)):
            # the markers stay in the claim, so the cite id counts as a word to find
            ok = c in passages and fact_recall(passages[c], sentence) >= 0.5
            verdicts[c] = verdicts.get(c, True) and ok
    return verdicts


def _support_via_lab(answer: str, passages: dict[str, str]) -> dict[str, bool]:
    return citation_support(answer, passages)  # the lab's function, not the learner's own


# -- 2.2.3 five sources, not five chunks -------------------------------------------------------


def _one_per_document(hits: Any, k: int = 5) -> list[Any]:
    kept, seen = [], set()
    for hit in hits:
        if hit.chunk.doc_id not in seen:
            seen.add(hit.chunk.doc_id)
            kept.append(hit)
    return kept[:k]


def _plain_hybrid_search(index: Any, question: str, user: User) -> Any:
    # The library default: five chunks, often two of one document.
    return search(index, question, user=user, k=5)


def _reranked_search(index: Any, question: str, user: User) -> Any:
    return search(index, question, user=user, k=5, mode="reranked")


def _dedupes_only_the_top_five(index: Any, question: str, user: User) -> Any:
    # Drops repeats from five results instead of fetching more: often fewer than five.
    return _one_per_document(search(index, question, user=user, k=5))


def _dense_one_per_document(index: Any, question: str, user: User) -> Any:
    # Five documents, but dense retrieval alone misses too many on test.
    return _one_per_document(search(index, question, user=user, k=20, mode="dense"))


def _ignores_the_user(index: Any, question: str, user: User) -> Any:
    # Searches as a manager "to get better recall": restricted text reaches employees.
    return _one_per_document(search(index, question, user=User.manager("tuning"), k=20))


def _six_documents(index: Any, question: str, user: User) -> Any:
    return _one_per_document(search(index, question, user=user, k=20), k=6)


def _returns_doc_ids(index: Any, question: str, user: User) -> Any:
    return [hit.chunk.doc_id for hit in _one_per_document(search(index, question, user=user, k=20))]


def _forgets_to_return(index: Any, question: str, user: User) -> Any:
    _one_per_document(search(index, question, user=user, k=20))


WRONG_ANSWERS: dict[str, list[Any]] = {
    "2.2.1": [
        _rrf_zero_based,
        _rrf_without_k,
        _rrf_last_ranking_wins,
        _rrf_ignores_k_argument,
        _rrf_best_first_list,
        _rrf_only_ids_in_every_ranking,
        _rrf_via_library,
    ],
    "2.2.2": [
        _support_whole_answer,
        _support_only_existence,
        _support_any_sentence,
        _support_reversed_recall,
        _support_skips_unknown_ids,
        _support_keeps_markers,
        _support_via_lab,
    ],
    "2.2.3": [
        _plain_hybrid_search,
        _reranked_search,
        _dedupes_only_the_top_five,
        _dense_one_per_document,
        _ignores_the_user,
        _six_documents,
        _returns_doc_ids,
        _forgets_to_return,
    ],
}
