"""Plausible wrong answers to lesson 2.1's exercises; each must be rejected by its checker."""

from __future__ import annotations

import hashlib
from typing import Any

# --- 2.1.1 fixed_windows -----------------------------------------------------------------------


def _ignores_the_overlap(words, size, overlap):
    return [list(words[i : i + size]) for i in range(0, len(words), size)]


def _steps_by_the_overlap(words, size, overlap):
    if overlap >= size:
        raise ValueError("overlap must be smaller than size")
    step = max(overlap, 1)
    return [list(words[i : i + size]) for i in range(0, len(words), step)]


def _drops_the_last_partial_window(words, size, overlap):
    if overlap >= size:
        raise ValueError("overlap must be smaller than size")
    return [list(words[i : i + size]) for i in range(0, len(words) - size + 1, size - overlap)]


def _keeps_tail_windows_inside_the_previous(words, size, overlap):
    if overlap >= size:
        raise ValueError("overlap must be smaller than size")
    return [list(words[i : i + size]) for i in range(0, len(words), size - overlap)]


def _one_word_too_many(words, size, overlap):
    if overlap >= size:
        raise ValueError("overlap must be smaller than size")
    windows = []
    for start in range(0, len(words), size - overlap):
        windows.append(list(words[start : start + size + 1]))
        if start + size >= len(words):
            break
    return windows


def _joins_each_window_into_a_string(words, size, overlap):
    if overlap >= size:
        raise ValueError("overlap must be smaller than size")
    windows = []
    for start in range(0, len(words), size - overlap):
        windows.append(" ".join(words[start : start + size]))
        if start + size >= len(words):
            break
    return windows


def _no_check_of_the_step(words, size, overlap):
    windows = []
    step = max(size - overlap, 1)
    for start in range(0, len(words), step):
        windows.append(list(words[start : start + size]))
        if start + size >= len(words):
            break
    return windows


# --- 2.1.2 detect_changes ----------------------------------------------------------------------


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _groups(stored, now_hash):
    return {
        "new": sorted(set(now_hash) - set(stored)),
        "changed": sorted(i for i in now_hash if i in stored and stored[i] != now_hash[i]),
        "unchanged": sorted(i for i in now_hash if i in stored and stored[i] == now_hash[i]),
        "deleted": sorted(set(stored) - set(now_hash)),
    }


def _builtin_hash(stored, documents):
    return _groups(stored, {i: str(hash(t)) for i, t in documents.items()})


def _md5_instead(stored, documents):
    return _groups(
        stored, {i: hashlib.md5(t.encode("utf-8")).hexdigest() for i, t in documents.items()}
    )


def _forgets_deleted(stored, documents):
    result = _groups(stored, {i: _sha(t) for i, t in documents.items()})
    result["deleted"] = []
    return result


def _changed_counted_as_new(stored, documents):
    now = {i: _sha(t) for i, t in documents.items()}
    known = {h for h in stored.values()}
    return {
        "new": sorted(i for i in now if now[i] not in known),
        "changed": [],
        "unchanged": sorted(i for i in now if now[i] in known),
        "deleted": sorted(set(stored) - set(now)),
    }


def _strips_whitespace_first(stored, documents):
    return _groups(stored, {i: _sha(t.strip() + "\n") for i, t in documents.items()})


def _latin1_encoding(stored, documents):
    now = {
        i: hashlib.sha256(t.encode("latin-1", errors="replace")).hexdigest()
        for i, t in documents.items()
    }
    return _groups(stored, now)


def _returns_a_list_of_changed_ids(stored, documents):
    return _groups(stored, {i: _sha(t) for i, t in documents.items()})["changed"]


# --- 2.1.3 my_chunker --------------------------------------------------------------------------


def _the_library_default(doc, count_tokens):
    # Meets every rule, but its top 5 chunks cost about 1,280 tokens: over the budget.
    from course_lib.rag import chunk_by_headings

    return chunk_by_headings(doc, count_tokens=count_tokens)


def _the_semantic_default(doc, count_tokens):
    from course_lib.rag import chunk_semantic

    return chunk_semantic(doc, count_tokens=count_tokens)


def _tiny_windows_that_only_just_clear_dev(doc, count_tokens):
    # About 170 tokens in the top 5 and within the margin on dev, but not on test.
    from course_lib.rag import chunk_fixed

    return chunk_fixed(doc, count_tokens=count_tokens, size=24, overlap=4)


def _the_prototype_itself(doc, count_tokens):
    from course_lib.labs import character_windows

    return character_windows(doc.text, 1000, 200)


def _small_chunks_as_plain_strings(doc, count_tokens):
    from course_lib.rag import chunk_by_headings

    chunks = chunk_by_headings(doc, count_tokens=count_tokens, max_tokens=128, min_tokens=96)
    return [chunk.text for chunk in chunks]


def _drops_the_tail_to_save_tokens(doc, count_tokens):
    from course_lib.rag import chunk_by_headings

    chunks = chunk_by_headings(doc, count_tokens=count_tokens, max_tokens=128, min_tokens=96)
    return chunks[:2]


def _chunks_that_lose_the_access_level(doc, count_tokens):
    import dataclasses

    from course_lib.rag import chunk_by_headings

    return [
        dataclasses.replace(c, access="internal")
        for c in chunk_by_headings(doc, count_tokens=count_tokens, max_tokens=128, min_tokens=96)
    ]


def _headings_with_no_size_limit(doc, count_tokens):
    from course_lib.rag import chunk_by_headings

    return chunk_by_headings(doc, count_tokens=count_tokens, max_tokens=4000, min_tokens=3000)


def _returns_one_chunk(doc, count_tokens):
    from course_lib.rag import chunk_by_headings

    return chunk_by_headings(doc, count_tokens=count_tokens, max_tokens=128, min_tokens=96)[0]


WRONG_ANSWERS: dict[str, list[Any]] = {
    "2.1.1": [
        _ignores_the_overlap,
        _steps_by_the_overlap,
        _drops_the_last_partial_window,
        _keeps_tail_windows_inside_the_previous,
        _one_word_too_many,
        _joins_each_window_into_a_string,
        _no_check_of_the_step,
    ],
    "2.1.2": [
        _builtin_hash,
        _md5_instead,
        _forgets_deleted,
        _changed_counted_as_new,
        _strips_whitespace_first,
        _latin1_encoding,
        _returns_a_list_of_changed_ids,
    ],
    "2.1.3": [
        _the_library_default,
        _the_semantic_default,
        _tiny_windows_that_only_just_clear_dev,
        _the_prototype_itself,
        _small_chunks_as_plain_strings,
        _drops_the_tail_to_save_tokens,
        _chunks_that_lose_the_access_level,
        _headings_with_no_size_limit,
        _returns_one_chunk,
    ],
}
