"""Checkers of lesson 3.4, "Testing strategies"."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from course_lib.course.checking import NotYet, Probe, answer_calls, exercise

SOLUTION = "solutions/3_software_foundations/34_testing_strategies.ipynb"


# --- 3.4.1 a cassette filter ------------------------------------------------------------------


def scrub_request(request: Any) -> Any:
    """Fixed host, only Content-Type and Accept headers, no ``user`` or ``metadata`` field."""
    request.uri = re.sub(r"^https?://[^/]+", "http://model.local", request.uri)
    for name in list(request.headers):
        if name.lower() not in {"content-type", "accept"}:
            del request.headers[name]
    if request.body:
        body = json.loads(request.body)
        for name in ("user", "metadata"):
            body.pop(name, None)
        request.body = json.dumps(body, sort_keys=True).encode()
    return request


_MESSAGES: list[Any] = [
    {"role": "system", "content": "Answer from the sources and cite them as [doc-id]."},
    {"role": "user", "content": "Question: When is the on-call handover?"},
]
_OTHER: list[Any] = [{"role": "user", "content": "Question: How are partial on-call weeks paid?"}]


def _cassette_run(answer: Any, probe: Probe) -> tuple[str, str, str, Any]:
    """Records one call through ``answer``, then replays; returns what the checker inspects."""
    import tempfile
    from pathlib import Path

    import vcr  # type: ignore[import-untyped]
    from openai import OpenAI

    from course_lib.labs.testing_lab import lesson_key
    from course_lib.standin import serve_model

    failures: list[str] = []

    def guarded(request: Any) -> Any:
        try:
            return answer(request)
        except NotImplementedError:
            raise
        except Exception as exc:
            failures.append(f"{type(exc).__name__}: {exc}")
            raise

    key = lesson_key(seed=11)
    recorder = vcr.VCR(
        before_record_request=guarded,
        match_on=["method", "scheme", "host", "port", "path", "query", "body"],
        record_mode="once",
    )
    with tempfile.TemporaryDirectory() as folder:
        cassette = str(Path(folder) / "check.yaml")
        with serve_model() as server:
            client = OpenAI(base_url=server.base_url, api_key=key, max_retries=0)
            address = f"{server.host}:{server.port}"
            try:
                with recorder.use_cassette(cassette):
                    first = client.chat.completions.create(
                        model="chat-small",
                        messages=_MESSAGES,
                        user="learner-1",
                        metadata={"trace": "run-1"},
                        temperature=0,
                    )
            except NotImplementedError:
                raise NotYet(f"{probe.name} still raises NotImplementedError.") from None
            except Exception as exc:
                detail = failures[0] if failures else f"{type(exc).__name__}: {exc}"
                raise NotYet(f"Recording through scrub_request failed ({detail}).") from None
        path = Path(cassette)
        if not path.exists():
            raise NotYet(
                "Nothing was recorded: scrub_request must return the request (returning None "
                "tells vcrpy to skip it)."
            )
        text = path.read_text(encoding="utf-8")
        try:
            with recorder.use_cassette(cassette, record_mode="none"):
                again = client.chat.completions.create(
                    model="chat-small",
                    messages=_MESSAGES,
                    user="learner-2",
                    metadata={"trace": "run-2"},
                    temperature=0,
                )
            replayed: Any = again.choices[0].message.content
        except vcr.errors.CannotOverwriteExistingCassetteException:
            replayed = None
        except Exception as exc:
            detail = failures[-1] if failures else f"{type(exc).__name__}"
            raise NotYet(f"Replaying through scrub_request failed ({detail}).") from None
        try:
            with recorder.use_cassette(cassette, record_mode="none"):
                other = client.chat.completions.create(
                    model="chat-small", messages=_OTHER, temperature=0
                )
            wrong: Any = other.choices[0].message.content
        except vcr.errors.CannotOverwriteExistingCassetteException:
            wrong = None
        except Exception:
            wrong = None
    return text, key + "\n" + address, str(first.choices[0].message.content), (replayed, wrong)


@exercise(
    "3.4.1",
    title="A cassette filter that keeps secrets out and replays the same question",
    answer_name="scrub_request",
    reference=scrub_request,
    solution=SOLUTION,
    time_limit=60.0,
    hints=(
        "A vcrpy request has .headers (a case-insensitive dict you can `del` from) and .body "
        "(bytes). Change them in place; the given lines rewrite .uri and return the request.",
        "Loop over list(request.headers) and delete every name whose lower() is not "
        "'content-type' or 'accept'.",
        "For the body: if request.body: body = json.loads(request.body); body.pop('user', "
        "None); body.pop('metadata', None); request.body = json.dumps(body, "
        "sort_keys=True).encode(). Keep model, messages and temperature.",
    ),
)
def _check_scrub_request(answer: Any, probe: Probe) -> str:
    if answer_calls(answer, scrub_request):
        raise NotYet("Write the filter yourself rather than calling the course's scrub_request.")
    text, secrets, first, (replayed, wrong) = _cassette_run(answer, probe)
    key, address = secrets.splitlines()
    lowered = text.lower()
    if key in text or "authorization" in lowered:
        raise NotYet("The cassette still holds the Authorization header and its key; drop it.")
    host = address.split(":")[0]
    if host in text:
        raise NotYet(
            f"The cassette still holds the server's address ({host} and its port, which "
            "changes on every run); rewrite the URI to http://model.local, keeping the path."
        )
    if "http://model.local/v1/chat/completions" not in text:
        raise NotYet(
            "The recorded URI should be http://model.local/v1/chat/completions: replace only "
            "the scheme, host and port, keep the path."
        )
    import yaml

    request = yaml.safe_load(text)["interactions"][0]["request"]
    names = sorted(str(name).lower() for name in request.get("headers") or {})
    extra = [name for name in names if name not in {"content-type", "accept"}]
    if extra:
        raise NotYet(
            f"The cassette still holds the request headers {extra[:4]}; keep only "
            "Content-Type and Accept (compare names in lower case)."
        )
    if "content-type" not in names or "accept" not in names:
        raise NotYet(
            "Keep the Content-Type and Accept headers (vcrpy's body matcher reads JSON by "
            "Content-Type); delete only the others."
        )
    if "learner-1" in text or "run-1" in text:
        raise NotYet("The stored body still holds the `user` or `metadata` field; drop both.")
    if "on-call handover" not in text:
        raise NotYet(
            "The stored body lost the question; drop only `user` and `metadata`, keep the rest."
        )
    try:
        stored = json.loads(request.get("body") or b"{}")
    except (TypeError, ValueError):
        stored = {}
    if (
        not isinstance(stored, dict)
        or stored.get("model") != "chat-small"
        or (stored.get("temperature") != 0)
    ):
        raise NotYet(
            "The stored body lost `model` or `temperature`; drop only `user` and `metadata` "
            "and keep every other field as it was."
        )
    if replayed is None:
        raise NotYet(
            "A request that differs only in `user` and `metadata` did not replay: the filter "
            "must remove them from the body before vcrpy matches it."
        )
    if replayed != first:
        raise NotYet("The replayed answer differs from the recorded one.")
    if wrong is not None:
        raise NotYet(
            "A request with a different question replayed the stored answer: the filter must "
            "keep the messages in the body, so that they are matched."
        )
    return (
        "The cassette holds no key, address or machine header; a request that differs only "
        "in user and metadata replays, and a different question does not."
    )


# --- 3.4.2 property tests that catch held-out bugs ---------------------------------------------


def check_chunker(chunk: Callable[[str, int, int], list[str]]) -> None:
    """The course's property tests of the word-window contract (raises AssertionError)."""
    from hypothesis import Phase, assume, example, given, settings, strategies as st

    texts = st.lists(st.sampled_from(["on", "call", "pager", "EUR", "60", "rota"]), max_size=30)
    spaces = st.sampled_from([" ", "  ", "\n", " \t", "\n\n"])

    no_explain = [phase for phase in Phase if phase is not Phase.explain]

    @settings(derandomize=True, database=None, deadline=None, max_examples=60, phases=no_explain)
    @given(words=texts, space=spaces, size=st.integers(1, 7), overlap=st.integers(0, 6))
    @example(words=[str(i) for i in range(120)], space=" ", size=7, overlap=2)  # a long text
    def windows_tile_the_text(words: list[str], space: str, size: int, overlap: int) -> None:
        assume(overlap < size)
        text = (space if words else "") + space.join(words) + space
        chunks = chunk(text, size, overlap)
        assert isinstance(chunks, list) and all(isinstance(c, str) for c in chunks)
        split = [c.split() for c in chunks]
        rebuilt = split[0] + [w for s in split[1:] for w in s[overlap:]] if split else []
        assert rebuilt == words, "the words do not come back in order"
        assert all(0 < len(s) <= size for s in split), "a window is empty or too long"
        assert all(len(s) == size for s in split[:-1]), "a window before the last is short"
        assert all(a[size - overlap :] == b[:overlap] for a, b in itertools.pairwise(split))

    windows_tile_the_text()
    for size, overlap in ((3, 3), (2, 5)):
        try:
            chunk("a b c", size, overlap)
        except ValueError:
            continue
        raise AssertionError(f"overlap {overlap} >= size {size} was accepted")


def _windows(words: list[str], size: int, overlap: int) -> list[str]:
    out = []
    for start in range(0, len(words), size - overlap):
        out.append(" ".join(words[start : start + size]))
        if start + size >= len(words):
            break
    return out


def _guard(size: int, overlap: int) -> None:
    if overlap >= size:
        raise ValueError("overlap must be smaller than size")


# Correct chunkers written differently: a property test must pass all of them.
def _correct_while_loop(text: str, size: int, overlap: int) -> list[str]:
    if size <= overlap:
        raise ValueError(f"size {size} must exceed overlap {overlap}")
    words, chunks, start = re.findall(r"\S+", text), [], 0
    while start < len(words):
        chunks.append(" ".join(words[start : start + size]))
        if start + size >= len(words):
            return chunks
        start += size - overlap
    return chunks


def _correct_count_first(text: str, size: int, overlap: int) -> list[str]:
    _guard(size, overlap)
    words = text.split()
    if not words:
        return []
    step = size - overlap
    count = 1 if len(words) <= size else 1 + -(-(len(words) - size) // step)
    return [" ".join(words[i * step : i * step + size]) for i in range(count)]


# Held-out buggy chunkers: never shown in the lesson.
def _more_overlap_than_asked(text: str, size: int, overlap: int) -> list[str]:
    _guard(size, overlap)
    words = text.split()
    step = max(size - overlap - 1, 1) if overlap else size
    out = []
    for start in range(0, len(words), step):
        out.append(" ".join(words[start : start + size]))
        if start + size >= len(words):
            break
    return out


def _splits_on_single_spaces(text: str, size: int, overlap: int) -> list[str]:
    _guard(size, overlap)
    return _windows(text.split(" "), size, overlap)


def _lowercases(text: str, size: int, overlap: int) -> list[str]:
    _guard(size, overlap)
    return _windows(text.lower().split(), size, overlap)


def _drops_repeated_words(text: str, size: int, overlap: int) -> list[str]:
    _guard(size, overlap)
    return _windows(list(dict.fromkeys(text.split())), size, overlap)


def _stops_after_50_words(text: str, size: int, overlap: int) -> list[str]:
    _guard(size, overlap)
    return _windows(text.split()[:50], size, overlap)


def _last_window_from_the_end(text: str, size: int, overlap: int) -> list[str]:
    _guard(size, overlap)
    words = text.split()
    out = _windows(words, size, overlap)
    if len(words) > size:
        out[-1] = " ".join(words[-size:])
    return out


def _refuses_only_equal_overlap(text: str, size: int, overlap: int) -> list[str]:
    if overlap == size:
        raise ValueError("overlap must be smaller than size")
    words = text.split()
    out = []
    for start in range(0, len(words), size - overlap):
        out.append(" ".join(words[start : start + size]))
        if start + size >= len(words):
            break
    return out


def _sorted_windows(text: str, size: int, overlap: int) -> list[str]:
    _guard(size, overlap)
    return sorted(_windows(text.split(), size, overlap))


def _correct_keeps_line_breaks(text: str, size: int, overlap: int) -> list[str]:
    """Correct: joins the words of a window with newlines (the contract leaves spacing open)."""
    _guard(size, overlap)
    return [w.replace(" ", "\n") for w in _windows(text.split(), size, overlap)]


def _splits_on_spaces_only(text: str, size: int, overlap: int) -> list[str]:
    _guard(size, overlap)
    return _windows([w for w in text.split(" ") if w], size, overlap)


_CORRECT_CHUNKERS: dict[str, Callable[[str, int, int], list[str]]] = {
    "a while loop over re.findall": _correct_while_loop,
    "the window count computed first": _correct_count_first,
    "words joined by newlines": _correct_keeps_line_breaks,
}
_HELD_OUT_BUGS: dict[str, Callable[[str, int, int], list[str]]] = {
    "more overlap than asked": _more_overlap_than_asked,
    "splits on single spaces": _splits_on_single_spaces,
    "lowercases the text": _lowercases,
    "drops repeated words": _drops_repeated_words,
    "stops after 50 words": _stops_after_50_words,
    "last window aligned to the end": _last_window_from_the_end,
    "refuses only an overlap equal to size": _refuses_only_equal_overlap,
    "sorts the windows": _sorted_windows,
    "splits on spaces only": _splits_on_spaces_only,
}
TARGET_CAUGHT = 8


def _runs_lesson_code(answer: Any) -> bool:
    """Whether the answer execs or evals text (such as the lab's own property tests), or
    reaches into this module (``lesson_3_4.check_chunker`` imported inside the function)."""
    stack = [getattr(answer, "__code__", None)]
    while stack:
        code = stack.pop()
        if code is None:
            continue
        if {"exec", "eval", "_PROPERTY_TESTS", "lesson_3_4"} & set(code.co_names):
            return True
        stack.extend(c for c in code.co_consts if hasattr(c, "co_names"))
    return False


_PROBE = ("a b c d e f", 3, 1)
_PROBE_WINDOWS = [["a", "b", "c"], ["c", "d", "e"], ["e", "f"]]


def _functions_reached(answer: Any) -> list[Any]:
    """The learner's functions ``answer`` can reach: those defined inside it (without free
    variables), those it names in its own module, and those its closure holds, and theirs.
    Library functions (another module's) are never reached, so never called."""
    import types

    home = getattr(answer, "__globals__", None)
    found: list[Any] = []
    pending = [answer]
    while pending and len(found) < 200:
        function = pending.pop()
        code = getattr(function, "__code__", None)
        if code is None or function.__globals__ is not home or any(function is f for f in found):
            continue
        found.append(function)
        scope = getattr(function, "__globals__", {})
        codes = [code]
        while codes:
            current = codes.pop()
            for const in current.co_consts:
                if isinstance(const, types.CodeType):
                    codes.append(const)
                    if not const.co_freevars:
                        pending.append(types.FunctionType(const, scope))
            pending += [
                scope[n] for n in current.co_names if isinstance(scope.get(n), types.FunctionType)
            ]
        for cell in getattr(function, "__closure__", None) or ():
            try:
                if isinstance(cell.cell_contents, types.FunctionType):
                    pending.append(cell.cell_contents)
            except ValueError:
                continue
    return found[1:]


def _own_chunker(answer: Any) -> str | None:
    """The name of a chunker of the answer's own (an oracle to compare with), if it has one:
    a function it reaches that cuts a probe text (or its words) into the right windows."""
    text, size, overlap = _PROBE
    for function in _functions_reached(answer):
        code = function.__code__
        required = code.co_argcount - len(function.__defaults__ or ())
        if not required <= 3 <= code.co_argcount:
            continue
        for first in (text, text.split()):
            try:
                windows = function(first, size, overlap)
                split = [w.split() if isinstance(w, str) else list(w) for w in windows]
            except Exception:  # not a chunker: any failure on the probe says so
                continue
            if split == _PROBE_WINDOWS:
                return str(code.co_name)
    return None


def _leaves(exc: BaseException) -> list[BaseException]:
    """The exceptions inside ``exc`` (hypothesis groups several failures), and their causes."""
    inner = getattr(exc, "exceptions", None)
    if isinstance(inner, (list, tuple)):
        return [leaf for e in inner for leaf in _leaves(e)]
    chain = [exc]
    while chain[-1].__cause__ is not None or chain[-1].__context__ is not None:
        nxt = chain[-1].__cause__ or chain[-1].__context__
        if nxt is None or nxt in chain:
            break
        chain.append(nxt)
    return chain


def _catches(
    answer: Any, chunker: Callable[..., Any], probe: Probe, what: str, *, strict: bool = False
) -> bool:
    """Whether ``answer`` fails on ``chunker``: an AssertionError, or an exception raised by
    the chunker itself. A crash of the learner's own code (a TypeError in the test) is not a
    catch (``strict`` counts any failure: for the correct chunkers)."""
    probe.running = f"check_chunker on {what}"
    raised: list[BaseException] = []

    def watched(*args: Any, **kwargs: Any) -> Any:
        try:
            return chunker(*args, **kwargs)
        except Exception as exc:
            raised.append(exc)
            raise

    try:
        answer(watched)
    except NotImplementedError:
        raise NotYet(f"{probe.name} still raises NotImplementedError.") from None
    except (SystemExit, KeyboardInterrupt):
        raise NotYet("check_chunker stopped the process; raise AssertionError instead.") from None
    except BaseException as exc:  # a failing property, hypothesis's error groups included
        return strict or any(
            isinstance(leaf, AssertionError) or any(leaf is r for r in raised)
            for leaf in _leaves(exc)
        )
    return False


@exercise(
    "3.4.2",
    title="Property tests that catch bugs you have not seen",
    answer_name="check_chunker",
    reference=check_chunker,
    solution=SOLUTION,
    time_limit=180.0,
    hints=(
        "The given properties check window lengths only. Run the starting code on "
        "visible_buggy_chunkers(): the bugs it misses keep the lengths right but lose, "
        "change or reorder words.",
        "Inside windows_tile_the_text, rebuild the words from `split` as keeps_every_word "
        "does in section 4 (the first window whole, each later one without its first "
        "`overlap` words) and assert the result equals `words`.",
        "After windows_tile_the_text(), call chunk('a b c', 3, 3) and chunk('a b c', 2, 5) "
        "inside try/except ValueError, and raise AssertionError if either returns.",
    ),
)
def _check_check_chunker(answer: Any, probe: Probe) -> str:
    from course_lib.labs.testing_lab import chunk_words

    if answer_calls(answer, chunk_words):
        raise NotYet(
            "check_chunker calls the course's chunk_words: a property test must state the "
            "contract, not compare with a copy of the right answer. Remove the call."
        )
    if _runs_lesson_code(answer):
        raise NotYet(
            "check_chunker runs the course's code (exec or eval of a text, or the exercise "
            "module's own tests): write the property tests as functions of your own."
        )
    if (helper := _own_chunker(answer)) is not None:
        raise NotYet(
            f"check_chunker compares with a chunker of its own ({helper}): that tests the "
            "chunker against your copy, not against the contract. State the properties that "
            "every correct chunker has, and remove the copy."
        )
    for name, correct in {"chunk_words": chunk_words, **_CORRECT_CHUNKERS}.items():
        if _catches(answer, correct, probe, f"a correct chunker ({name})", strict=True):
            raise NotYet(
                f"check_chunker fails a correct chunker ({name}); run it on chunk_words and "
                "read the falsifying example: your property is stricter than the contract."
            )
    caught = sum(_catches(answer, bug, probe, name) for name, bug in _HELD_OUT_BUGS.items())
    line = (
        f"check_chunker catches {caught} of {len(_HELD_OUT_BUGS)} held-out bugs and passes "
        "every correct chunker"
    )
    if caught < TARGET_CAUGHT:
        raise NotYet(
            f"{line}; the target is {TARGET_CAUGHT}. Add the round trip of section 4 and "
            "the ValueError check."
        )
    return f"{line}: target {TARGET_CAUGHT} met."


# --- 3.4.3 size the acceptance test -------------------------------------------------------------

GOOD, WORSE = 0.9, 0.75
MAX_SAMPLES = 60
FALSE_ALARM_LIMIT, MISS_LIMIT = 0.05, 0.20
_CHECK_SEEDS = (3401, 3402, 3403)

ACCEPTANCE = {"samples": 50, "min_passes": 41}


def _rates(samples: int, min_passes: int) -> tuple[float, float]:
    from course_lib.labs.testing_lab import acceptance_rates

    false_alarms = [
        1 - acceptance_rates(samples, min_passes, GOOD, trials=40_000, seed=s) for s in _CHECK_SEEDS
    ]
    misses = [
        acceptance_rates(samples, min_passes, WORSE, trials=40_000, seed=s + 100)
        for s in _CHECK_SEEDS
    ]
    return sum(false_alarms) / len(false_alarms), sum(misses) / len(misses)


@exercise(
    "3.4.3",
    title="Size the acceptance test",
    answer_name="ACCEPTANCE",
    expects_function=False,
    reference=ACCEPTANCE,
    solution=SOLUTION,
    hints=(
        "More samples separate a 90% system from a 75% one better. Try a few sizes with "
        "1 - acceptance_rates(n, t, 0.9) (false alarms) and acceptance_rates(n, t, 0.75) "
        "(misses).",
        "`min_passes` is a count of passing answers, not a share. The threshold must sit "
        "between the two systems' expected passes, 0.75 n and 0.9 n, nearer 0.9 n's lower "
        "tail than you might think.",
        "With 20 samples no threshold meets both targets. Try n between 40 and 60, and for "
        "each n raise t from 0.75 n: misses fall and false alarms rise. Stop where both "
        "meet their targets.",
    ),
)
def _check_acceptance(answer: Any, probe: Probe) -> str:
    if not isinstance(answer, Mapping) or set(answer) != {"samples", "min_passes"}:
        raise NotYet('Set ACCEPTANCE = {"samples": n, "min_passes": t}, with exactly those keys.')
    n, t = answer["samples"], answer["min_passes"]
    for name, value in (("samples", n), ("min_passes", t)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise NotYet(f"{name} must be a whole number (a count of answers), not {value!r}.")
    if not 1 <= n <= MAX_SAMPLES:
        raise NotYet(f"samples is {n}; the budget allows 1 to {MAX_SAMPLES} model calls a run.")
    if not 0 <= t <= n:
        raise NotYet(f"min_passes is {t}; it must lie between 0 and samples ({n}).")
    false_alarms, misses = _rates(n, t)
    line = (
        f"On fresh seeds, {n} samples with at least {t} passing: false alarms "
        f"{false_alarms:.1%} for the 90% system, misses {misses:.1%} for the 75% one"
    )
    if false_alarms >= FALSE_ALARM_LIMIT:
        raise NotYet(f"{line}. False alarms must stay under 5%: lower min_passes or sample more.")
    if misses >= MISS_LIMIT:
        raise NotYet(f"{line}. Misses must stay under 20%: raise min_passes or sample more.")
    return f"{line}: both targets met within the budget."
