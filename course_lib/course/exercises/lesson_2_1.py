"""Checkers of lesson 2.1, "RAG I: ingestion and chunking"."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from course_lib.course.checking import NotYet, Probe, exercise

if TYPE_CHECKING:
    from course_lib.rag.documents import HandbookDocument

SOLUTION = "solutions/2_engineering_patterns/21_ingestion_and_chunking.ipynb"


# --- 2.1.1 fixed windows with overlap --------------------------------------------------------


def fixed_windows(words: Sequence[str], size: int, overlap: int) -> list[list[str]]:
    """Windows of ``size`` words, each starting ``size - overlap`` words after the previous.

    The last window ends at the last word; no window lies wholly inside the one before it.
    """
    if overlap >= size:
        raise ValueError(f"overlap ({overlap}) must be smaller than size ({size}).")
    step = size - overlap
    windows: list[list[str]] = []
    for start in range(0, len(words), step):
        windows.append(list(words[start : start + size]))
        if start + size >= len(words):
            break
    return windows


def _words(n: int) -> list[str]:
    return [f"w{i}" for i in range(n)]


# (what the case tests, number of words, size, overlap)
_WINDOW_CASES: list[tuple[str, int, int, int]] = [
    ("10 words", 10, 4, 1),
    ("no overlap", 12, 4, 0),
    ("a length the step divides exactly", 9, 5, 2),
    ("fewer words than one window", 3, 8, 2),
    ("exactly one window of words", 6, 6, 3),
    ("no words at all", 0, 5, 1),
    ("a large overlap (step 1)", 7, 4, 3),
    ("a handbook-sized text", 1003, 200, 25),
]


@exercise(
    "2.1.1",
    title="Fixed windows with overlap",
    answer_name="fixed_windows",
    reference=fixed_windows,
    solution=SOLUTION,
    hints=(
        "Each window starts `size - overlap` words after the previous one: loop over "
        "range(0, len(words), size - overlap) and slice words[start:start + size].",
        "Stop as soon as a window reaches the end (start + size >= len(words)): otherwise the "
        "loop adds tail windows that lie wholly inside the one before. No words, no windows.",
        "When overlap >= size the step is 0 or negative and the loop never advances: raise "
        "ValueError first. Return a list of lists of words.",
    ),
)
def _check_fixed_windows(answer: Any, probe: Probe) -> str:
    for what, n, size, overlap in _WINDOW_CASES:
        words = _words(n)
        expected = fixed_windows(words, size, overlap)
        call = f"fixed_windows on {what} (size={size}, overlap={overlap})"
        got = probe.call_as(call, answer, list(words), size, overlap)
        if got is None:
            raise NotYet(f"{call} returned None; did you forget a `return`?")
        if isinstance(got, str) or not isinstance(got, (list, tuple)):
            raise NotYet(f"{call} returned a {type(got).__name__}; return a list of windows.")
        odd = [w for w in got if isinstance(w, str) or not isinstance(w, (list, tuple))]
        if odd:
            raise NotYet(
                f"{call} returned a window that is a {type(odd[0]).__name__}, not a list of "
                "words; keep each window as a list (the lesson joins them)."
            )
        got_lists = [list(w) for w in got]
        if got_lists == expected:
            continue
        if len(got_lists) != len(expected):
            raise NotYet(
                f"{call} returned {len(got_lists)} windows, expected {len(expected)} "
                "(a new window every size - overlap words, stopping once one reaches the end)."
            )
        bad = next(i for i, (g, e) in enumerate(zip(got_lists, expected, strict=True)) if g != e)
        raise NotYet(
            f"{call}: window {bad} holds {len(got_lists[bad])} words starting at "
            f"{got_lists[bad][0] if got_lists[bad] else 'nothing'}, expected {len(expected[bad])} "
            f"starting at {expected[bad][0]}."
        )
    call = "fixed_windows with overlap equal to size (size=4, overlap=4)"
    try:
        got = answer(_words(10), 4, 4)
    except ValueError:
        return "fixed_windows cuts every hidden text right and refuses a step of 0."
    except NotImplementedError:
        raise NotYet(f"{probe.name} still raises NotImplementedError.") from None
    except Exception as exc:
        raise NotYet(f"{call} raised {type(exc).__name__}; raise ValueError instead.") from None
    raise NotYet(f"{call} returned {type(got).__name__}; it should raise ValueError (step 0).")


# --- 2.1.2 a content-hash change detector ------------------------------------------------------


def detect_changes(stored: Mapping[str, str], documents: Mapping[str, str]) -> dict[str, list[str]]:
    """Which documents to (re-)embed: compare each text's SHA-256 with the stored one.

    ``stored`` maps doc id to the hex SHA-256 of the UTF-8 text last indexed; ``documents``
    maps doc id to its text now. Returns sorted ids under ``new``, ``changed``, ``unchanged``
    and ``deleted``.
    """
    from course_lib.rag.chunking import content_hash

    now = {doc_id: content_hash(text) for doc_id, text in documents.items()}
    return {
        "new": sorted(set(now) - set(stored)),
        "changed": sorted(i for i in now if i in stored and stored[i] != now[i]),
        "unchanged": sorted(i for i in now if i in stored and stored[i] == now[i]),
        "deleted": sorted(set(stored) - set(now)),
    }


def _change_cases() -> list[tuple[str, dict[str, str], dict[str, str]]]:
    from course_lib.rag.chunking import content_hash

    before = {
        "oncall-policy": "Partial weeks are paid pro rata.\n",
        "expense-policy": "Claims are due within 60 days.\n",
        "travel-policy": "Book trains for trips under 4 hours.\n",
        "café-menu": "Crème brûlée on Fridays.\n",
    }
    stored = {doc_id: content_hash(text) for doc_id, text in before.items()}
    same_length = dict(before, **{"expense-policy": "Claims are due within 30 days.\n"})
    return [
        ("nothing changed", stored, dict(before)),
        ("one edit that keeps the length", stored, same_length),
        ("a new document", stored, dict(before, **{"vpn-guide": "Connect with WireGuard.\n"})),
        (
            "a deleted document",
            stored,
            {k: v for k, v in before.items() if k != "travel-policy"},
        ),
        (
            "only a trailing space added",
            stored,
            dict(before, **{"oncall-policy": "Partial weeks are paid pro rata. \n"}),
        ),
        (
            "every kind at once, non-ASCII text included",
            stored,
            {
                "oncall-policy": before["oncall-policy"],
                "café-menu": "Crème brûlée on Thursdays.\n",
                "kb-new": "New page.\n",
            },
        ),
        ("an empty index", {}, dict(before)),
    ]


_KINDS = ("new", "changed", "unchanged", "deleted")


@exercise(
    "2.1.2",
    title="A content-hash change detector",
    answer_name="detect_changes",
    reference=detect_changes,
    solution=SOLUTION,
    hints=(
        "Hash each document's text now with hashlib.sha256(text.encode('utf-8')).hexdigest() "
        "and compare it with the stored hash of the same id.",
        "Four groups: ids only in `documents` are new, ids only in `stored` are deleted, ids in "
        "both are changed or unchanged depending on whether the hashes match. Python's built-in "
        "hash() changes between runs: never store it.",
        "Return {'new': sorted(...), 'changed': sorted(...), 'unchanged': sorted(...), "
        "'deleted': sorted(set(stored) - set(documents))}.",
    ),
)
def _check_detect_changes(answer: Any, probe: Probe) -> str:
    for what, stored, documents in _change_cases():
        expected = detect_changes(stored, documents)
        call = f"detect_changes on {what}"
        got = probe.call_as(call, answer, dict(stored), dict(documents))
        if got is None:
            raise NotYet(f"{call} returned None; did you forget a `return`?")
        if not isinstance(got, Mapping):
            raise NotYet(f"{call} returned a {type(got).__name__}; return a dict of four lists.")
        missing = [kind for kind in _KINDS if kind not in got]
        if missing:
            raise NotYet(f"{call} returned no {missing[0]!r} key; return all of {list(_KINDS)}.")
        for kind in _KINDS:
            value = got[kind]
            if isinstance(value, str) or not isinstance(value, (list, tuple, set, frozenset)):
                raise NotYet(
                    f"{call}: {kind!r} is a {type(value).__name__}; make it a list of ids."
                )
            if sorted(value) != expected[kind]:
                raise NotYet(
                    f"{call}: {kind!r} is {sorted(value)}, expected {expected[kind]} (compare "
                    "SHA-256 hashes of the UTF-8 text, not lengths or Python's hash())."
                )
    return "detect_changes sorts every hidden case right: new, changed, unchanged and deleted."


# --- 2.1.3 the prototype's quality at half its prompt cost, measured on the test split --------


def my_chunker(doc: HandbookDocument, count_tokens: Callable[[str], int]) -> list[Any]:
    """The course's answer: heading-aware chunks of at most 128 tokens, short ones joined.

    Chosen on the dev split: the heading-aware setting with the highest recall@5 among those
    whose top 5 chunks fit the budget (recall@5 0.687, MRR 0.615, 543 tokens on dev).
    """
    from course_lib.rag.chunking import chunk_by_headings

    return chunk_by_headings(doc, count_tokens=count_tokens, max_tokens=128, min_tokens=96)


@lru_cache(maxsize=2)
def _prototype_score(split: str) -> Any:
    """The character-window prototype measured on ``split`` (computed once per process)."""
    from course_lib.labs.chunking_lab import prototype_scores

    return prototype_scores(split)


@exercise(
    "2.1.3",
    title="The prototype's quality at half its prompt cost",
    answer_name="my_chunker",
    reference=my_chunker,
    solution=SOLUTION,
    time_limit=120.0,
    hints=(
        "The top 5 chunks go into every prompt, so smaller chunks cost less. Start from "
        "chunk_by_headings(doc, count_tokens=count_tokens, max_tokens=..., min_tokens=...) "
        "from course_lib.rag and lower max_tokens (the default, 384, costs about 1,280 tokens "
        "in the top 5). Print score_chunker(my_chunker, 'dev') after each change.",
        "Chunks must stay Chunk objects (the metadata travels with them) and keep the whole "
        "text. Try max_tokens between 96 and 192; min_tokens joins short sections, which keeps "
        "a two-line section from being a chunk of its own. Do not go far below the budget: "
        "tiny chunks lose the context that makes them findable, and a setting that only just "
        "clears dev often falls short on test.",
        "chunk_by_headings(doc, count_tokens=count_tokens, max_tokens=128, min_tokens=96) "
        "costs about 540 tokens in the top 5 on dev and stays within the margin on both "
        "splits; chunk_fixed(doc, count_tokens=count_tokens, size=112, overlap=28) also "
        "works.",
    ),
)
def _check_my_chunker(answer: Any, probe: Probe) -> str:
    from course_lib.labs.chunking_lab import CONTEXT_BUDGET, chunker_shortfall, score_chunker

    card = probe.call_as("my_chunker", score_chunker, answer, "test")
    if card.problem:
        raise NotYet(card.problem)
    baseline = _prototype_score("test")
    line = (
        f"On the test split your chunks score recall@5 {card.recall:.3f} and MRR "
        f"{card.mrr:.3f} with {card.context_tokens:,.0f} tokens in the top 5; the prototype "
        f"{baseline.recall:.3f}, {baseline.mrr:.3f} and {baseline.context_tokens:,.0f}"
    )
    missing = chunker_shortfall(card, baseline)
    if missing:
        raise NotYet(f"{line}. Not yet: {missing}")
    return (
        f"{line}: the prototype's quality (within the margin) for at most "
        f"{CONTEXT_BUDGET} tokens, and your {card.chunks:,} chunks meet every production rule."
    )
