"""Plausible wrong answers to lesson 3.4's exercises; each must be rejected by its checker."""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

from hypothesis import assume, given, settings, strategies as st

# --- 3.4.1 scrub_request -----------------------------------------------------------------------


def _returns_the_request_unchanged(request):
    return request


def _drops_only_the_key(request):
    if "authorization" in request.headers:
        del request.headers["authorization"]
    return request


def _keeps_the_port(request):
    for name in list(request.headers):
        if name.lower() not in {"content-type", "accept"}:
            del request.headers[name]
    if request.body:
        body = json.loads(request.body)
        body.pop("user", None)
        body.pop("metadata", None)
        request.body = json.dumps(body).encode()
    return request


def _keeps_the_sdk_headers(request):
    request.uri = re.sub(r"^https?://[^/]+", "http://model.local", request.uri)
    for name in ("authorization", "host"):
        if name in request.headers:
            del request.headers[name]
    if request.body:
        body = json.loads(request.body)
        body.pop("user", None)
        body.pop("metadata", None)
        request.body = json.dumps(body).encode()
    return request


def _keeps_the_user_field(request):
    request.uri = re.sub(r"^https?://[^/]+", "http://model.local", request.uri)
    for name in list(request.headers):
        if name.lower() not in {"content-type", "accept"}:
            del request.headers[name]
    return request


def _drops_the_whole_body(request):
    request.uri = re.sub(r"^https?://[^/]+", "http://model.local", request.uri)
    for name in list(request.headers):
        if name.lower() not in {"content-type", "accept"}:
            del request.headers[name]
    request.body = b"{}"
    return request


def _forgets_to_return(request):
    request.uri = re.sub(r"^https?://[^/]+", "http://model.local", request.uri)


def _case_sensitive_header_names(request):
    request.uri = re.sub(r"^https?://[^/]+", "http://model.local", request.uri)
    for name in list(request.headers):
        if name not in {"Content-Type", "Accept"}:
            del request.headers[name]
    if request.body:
        body = json.loads(request.body)
        body.pop("user", None)
        body.pop("metadata", None)
        request.body = json.dumps(body).encode()
    return request


# --- 3.4.2 check_chunker -------------------------------------------------------------------------


def _only_the_tutorials_examples(chunk):
    assert chunk("a b c d e", 3, 1) == ["a b c", "c d e"]
    assert chunk("on call", 5, 2) == ["on call"]


def _single_spaces_and_short_texts(chunk):
    @settings(derandomize=True, database=None, deadline=None, max_examples=40)
    @given(
        words=st.lists(st.sampled_from(["on", "call"]), max_size=8),
        size=st.integers(1, 4),
        overlap=st.integers(0, 3),
    )
    def prop(words, size, overlap):
        assume(overlap < size)
        split = [c.split() for c in chunk(" ".join(words), size, overlap)]
        rebuilt = split[0] + [w for s in split[1:] for w in s[overlap:]] if split else []
        assert rebuilt == words

    prop()


def _too_strict_every_window_full(chunk):
    @settings(derandomize=True, database=None, deadline=None, max_examples=40)
    @given(
        words=st.lists(st.sampled_from(["on", "call", "EUR"]), max_size=20),
        size=st.integers(1, 5),
        overlap=st.integers(0, 4),
    )
    def prop(words, size, overlap):
        assume(overlap < size)
        split = [c.split() for c in chunk(" \n".join(words), size, overlap)]
        assert all(len(s) == size for s in split)  # the last window may be short

    prop()


def _compares_with_the_course_chunker(chunk):
    from course_lib.labs import chunk_words

    for text, size, overlap in (("a  b\nc d e f", 3, 1), ("", 2, 0), ("EUR 60", 5, 4)):
        assert chunk(text, size, overlap) == chunk_words(text, size, overlap)


def _only_checks_the_value_error(chunk):
    for size, overlap in ((3, 3), (2, 5)):
        try:
            chunk("a b c", size, overlap)
        except ValueError:
            continue
        raise AssertionError("overlap >= size was accepted")


def _window_sizes_only(chunk):
    @settings(derandomize=True, database=None, deadline=None, max_examples=40)
    @given(
        words=st.lists(st.sampled_from(["on", "call", "EUR"]), max_size=20),
        size=st.integers(1, 5),
        overlap=st.integers(0, 4),
    )
    def prop(words, size, overlap):
        assume(overlap < size)
        split = [c.split() for c in chunk("\t".join(words), size, overlap)]
        assert all(0 < len(s) <= size for s in split)
        assert all(a[size - overlap :] == b[:overlap] for a, b in itertools.pairwise(split))

    prop()


def _the_lessons_property_and_value_error(chunk):
    """Hint 1 alone: the lesson's keeps_every_word plus the ValueError check (6 of 8)."""

    @settings(derandomize=True, database=None, deadline=None, max_examples=100)
    @given(
        words=st.lists(st.sampled_from(["on", "call", "pager", "EUR", "60"]), max_size=25),
        size=st.integers(1, 6),
        overlap=st.integers(0, 5),
    )
    def prop(words, size, overlap):
        assume(overlap < size)
        split = [c.split() for c in chunk(" ".join(words), size, overlap)]
        rebuilt = split[0] + [w for s in split[1:] for w in s[overlap:]] if split else []
        assert rebuilt == words

    prop()
    _only_checks_the_value_error(chunk)


def _execs_the_labs_property_tests(chunk):
    from course_lib.labs import testing_lab

    namespace = {"chunk_words": chunk}
    tests = testing_lab._PROPERTY_TESTS.split("test_two_windows\n", 1)[1]
    exec("from hypothesis import *\nfrom hypothesis import strategies as st\n" + tests, namespace)
    for name, test in list(namespace.items()):
        if name.startswith("test_"):
            test()


def _calls_the_reference(chunk):
    from course_lib.course.exercises import lesson_3_4

    lesson_3_4.check_chunker(chunk)


def _raises_on_everything(chunk):
    raise AssertionError("not sure, so fail")


def _drops_accept_and_temperature(request):
    request.uri = re.sub(r"^https?://[^/]+", "http://model.local", request.uri)
    for name in list(request.headers):
        if name.lower() != "content-type":
            del request.headers[name]
    if request.body:
        body = json.loads(request.body)
        for field in ("user", "metadata", "temperature"):
            body.pop(field, None)
        request.body = json.dumps(body).encode()
    return request


def _own_oracle_chunker(chunk):
    """Compares with a chunker of its own: fails a correct chunker that spaces words
    differently inside a window."""

    def mine(text, size, overlap):
        words, out = text.split(), []
        for start in range(0, len(words), size - overlap):
            out.append(" ".join(words[start : start + size]))
            if start + size >= len(words):
                break
        return out

    for text in ("", "a", "a b c d e", "on\ncall  pager\tEUR " * 30):
        for size in range(1, 6):
            for overlap in range(size):
                assert chunk(text, size, overlap) == mine(text, size, overlap)
    for size, overlap in ((3, 3), (2, 5)):
        try:
            chunk("a b c", size, overlap)
        except ValueError:
            continue
        raise AssertionError("overlap >= size was accepted")


def _splits_and_compares_with_its_own_chunker(chunk):
    """An oracle that compares the words of each window with a chunker of its own: it catches
    every bug without stating a single property, so the checker refuses it."""

    def expected(words, size, overlap):
        out = []
        for start in range(0, len(words), size - overlap):
            out.append(words[start : start + size])
            if start + size >= len(words):
                break
        return out

    for text in ("", "a", "A b\tc  d e", "on\ncall  pager\tEUR on " * 30):
        for size in range(1, 8):
            for overlap in range(size):
                got = [c.split() for c in chunk(text, size, overlap)]
                assert got == expected(text.split(), size, overlap)
    _only_checks_the_value_error(chunk)


def _module_level_windows(text, size, overlap):
    words, out, start = text.split(), [], 0
    while start < len(words):
        out.append(" ".join(words[start : start + size]))
        if start + size >= len(words):
            break
        start += size - overlap
    return out


def _compares_with_a_chunker_defined_beside_it(chunk):
    """The same oracle, written as a function next to check_chunker (a notebook cell)."""

    @settings(derandomize=True, database=None, deadline=None, max_examples=80)
    @given(
        words=st.lists(st.sampled_from(["on", "On", "call", "EUR"]), max_size=60),
        space=st.sampled_from([" ", "\n", "  "]),
        size=st.integers(1, 7),
        overlap=st.integers(0, 6),
    )
    def prop(words, space, size, overlap):
        assume(overlap < size)
        text = space.join(words)
        got = [c.split() for c in chunk(text, size, overlap)]
        assert got == [w.split() for w in _module_level_windows(text, size, overlap)]

    prop()
    _only_checks_the_value_error(chunk)


def _crashes_on_its_own_code(chunk):
    """Crashes with a TypeError of its own after the ValueError check: not a catch."""
    for size, overlap in ((3, 3), (2, 5)):
        try:
            chunk("a b c", size, overlap)
        except ValueError:
            continue
        raise AssertionError("overlap >= size was accepted")
    if chunk("a b c d", 2, 0) != ["a b", "c d"]:
        len(None)  # a bug in the test, not in the chunker


def _only_the_given_properties_and_value_error(chunk):
    """The starting code plus the ValueError check, without the round trip (4 of 9)."""

    @settings(derandomize=True, database=None, deadline=None, max_examples=100)
    @given(
        words=st.lists(st.sampled_from(["on", "call", "pager", "EUR", "60", "rota"]), max_size=30),
        space=st.sampled_from([" ", "  ", "\n", " \t", "\n\n"]),
        size=st.integers(1, 7),
        overlap=st.integers(0, 6),
    )
    def prop(words, space, size, overlap):
        assume(overlap < size)
        text = (space if words else "") + space.join(words) + space
        split = [c.split() for c in chunk(text, size, overlap)]
        assert all(0 < len(s) <= size for s in split)
        assert all(len(s) == size for s in split[:-1])

    prop()
    _only_checks_the_value_error(chunk)


# --- 3.4.3 ACCEPTANCE ----------------------------------------------------------------------------

ONE_SAMPLE: dict[str, Any] = {"samples": 1, "min_passes": 1}
ALL_OF_TEN: dict[str, Any] = {"samples": 10, "min_passes": 10}
OVER_BUDGET: dict[str, Any] = {"samples": 100, "min_passes": 84}
SHARE_NOT_COUNT: dict[str, Any] = {"samples": 50, "min_passes": 0.8}
TOO_FEW_SAMPLES: dict[str, Any] = {"samples": 20, "min_passes": 17}
THRESHOLD_TOO_HIGH: dict[str, Any] = {"samples": 50, "min_passes": 44}
THRESHOLD_TOO_LOW: dict[str, Any] = {"samples": 50, "min_passes": 38}
WRONG_KEYS: dict[str, Any] = {"n": 50, "threshold": 41}

WRONG_ANSWERS: dict[str, list[Any]] = {
    "3.4.1": [
        _returns_the_request_unchanged,
        _drops_only_the_key,
        _keeps_the_port,
        _keeps_the_sdk_headers,
        _keeps_the_user_field,
        _drops_the_whole_body,
        _forgets_to_return,
        _case_sensitive_header_names,
        _drops_accept_and_temperature,
    ],
    "3.4.2": [
        _only_the_tutorials_examples,
        _single_spaces_and_short_texts,
        _too_strict_every_window_full,
        _compares_with_the_course_chunker,
        _only_checks_the_value_error,
        _window_sizes_only,
        _raises_on_everything,
        _the_lessons_property_and_value_error,
        _execs_the_labs_property_tests,
        _calls_the_reference,
        _own_oracle_chunker,
        _crashes_on_its_own_code,
        _splits_and_compares_with_its_own_chunker,
        _compares_with_a_chunker_defined_beside_it,
        _only_the_given_properties_and_value_error,
    ],
    "3.4.3": [
        ONE_SAMPLE,
        ALL_OF_TEN,
        OVER_BUDGET,
        SHARE_NOT_COUNT,
        TOO_FEW_SAMPLES,
        THRESHOLD_TOO_HIGH,
        THRESHOLD_TOO_LOW,
        WRONG_KEYS,
    ],
}
