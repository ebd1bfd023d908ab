"""Lesson 3.4's practice pieces: code under test, a fake provider, and the measurements.

* a word-window chunker and a reply parser, each in a tutorial's naive version with a real
  bug and in a correct version (:func:`naive_chunk_words`, :func:`chunk_words`,
  :func:`naive_parse_reply`, :func:`parse_reply`), and a handful of buggy chunkers to tune
  property tests on (:func:`visible_buggy_chunkers`) and :func:`catches`, which counts a
  catch the way exercise 3.4.2's checker does;
* :class:`FakeChatClient`, a scripted stand-in for an OpenAI-compatible client, and
  :func:`answer_question`, the small function a unit test exercises through it;
* :func:`minimal_failure`, which runs a hypothesis test and returns its shrunk example;
* :func:`mutation_repo`, :func:`mutation_outcomes` and :func:`reopen_survivors`: cosmic-ray
  driven in a throwaway repository;
* :func:`check_snapshot`: a golden file compared with today's output, with its diff;
* :func:`acceptance_rates`, :func:`false_alarm_table` and :func:`plot_false_alarms`: how
  often a sampled acceptance test fails a good system or passes a worse one;
* :func:`lesson_key` and :func:`redact`: a made-up API key, built at run time, never printed.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
import shutil
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from course_lib.errors import CourseLibError

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from course_lib.labs.scratch_repo import ScratchRepo

__all__ = [
    "EXAMPLE_TESTS",
    "MUTATED_OPERATORS_EXCLUDED",
    "FakeChatClient",
    "Snapshot",
    "TestingLabError",
    "acceptance_rates",
    "answer_question",
    "catches",
    "check_snapshot",
    "chunk_words",
    "course_test_kinds",
    "false_alarm_table",
    "keep_hypothesis_in_work_dir",
    "lesson_key",
    "minimal_failure",
    "mutation_outcomes",
    "mutation_repo",
    "naive_chunk_words",
    "naive_parse_reply",
    "parse_reply",
    "plot_false_alarms",
    "plot_test_pyramid",
    "redact",
    "reopen_survivors",
    "run_mutants",
    "visible_buggy_chunkers",
]


class TestingLabError(CourseLibError, ValueError):
    """Bad input to one of lesson 3.4's helpers."""

    __test__ = False  # not a pytest test class, despite its name


# --- code under test: a chunker ---------------------------------------------------------------


def chunk_words(text: str, size: int, overlap: int) -> list[str]:
    """Windows of ``size`` words, each starting ``size - overlap`` words after the last.

    Words are split on any whitespace; the last window ends at the last word, and no window
    lies wholly inside the one before. No words give no windows.
    """
    if overlap >= size:
        raise ValueError("overlap must be smaller than size")
    words = text.split()
    step = size - overlap
    chunks = []
    for start in range(0, len(words), step):
        chunks.append(" ".join(words[start : start + size]))
        if start + size >= len(words):
            break
    return chunks


def naive_chunk_words(text: str, size: int, overlap: int) -> list[str]:
    """A tutorial's chunker: it only emits full windows, so it drops a short tail."""
    words = text.split()
    step = size - overlap
    return [" ".join(words[i : i + size]) for i in range(0, len(words) - size + 1, step)]


def _drops_the_tail(text: str, size: int, overlap: int) -> list[str]:
    return naive_chunk_words(text, size, overlap)


def _ignores_the_overlap(text: str, size: int, overlap: int) -> list[str]:
    words = text.split()
    return [" ".join(words[i : i + size]) for i in range(0, len(words), size)]


def _one_word_too_many(text: str, size: int, overlap: int) -> list[str]:
    words = text.split()
    out = []
    for start in range(0, len(words), size - overlap):
        out.append(" ".join(words[start : start + size + 1]))
        if start + size >= len(words):
            break
    return out


def _no_check_of_the_overlap(text: str, size: int, overlap: int) -> list[str]:
    words = text.split()
    out = []
    for start in range(0, len(words), max(size - overlap, 1)):
        out.append(" ".join(words[start : start + size]))
        if start + size >= len(words):
            break
    return out


def _keeps_windows_inside_the_last(text: str, size: int, overlap: int) -> list[str]:
    if overlap >= size:
        raise ValueError("overlap must be smaller than size")
    words = text.split()
    return [" ".join(words[i : i + size]) for i in range(0, len(words), size - overlap)]


def _an_empty_chunk_for_no_words(text: str, size: int, overlap: int) -> list[str]:
    return chunk_words(text, size, overlap) or [""]


def visible_buggy_chunkers() -> dict[str, Callable[[str, int, int], list[str]]]:
    """Buggy chunkers to tune property tests on (the checker keeps others back)."""
    return {
        "drops a short tail": _drops_the_tail,
        "ignores the overlap": _ignores_the_overlap,
        "one word too many per window": _one_word_too_many,
        "accepts overlap >= size": _no_check_of_the_overlap,
        "keeps windows inside the last one": _keeps_windows_inside_the_last,
        "one empty chunk for an empty text": _an_empty_chunk_for_no_words,
    }


def _leaves(exc: BaseException) -> list[BaseException]:
    """The exceptions inside ``exc`` (hypothesis groups several failures), and their causes."""
    inner = getattr(exc, "exceptions", None)
    if isinstance(inner, (list, tuple)):
        return [leaf for e in inner for leaf in _leaves(e)]
    chain = [exc]
    while (nxt := chain[-1].__cause__ or chain[-1].__context__) is not None and nxt not in chain:
        chain.append(nxt)
    return chain


def catches(
    check: Callable[[Callable[[str, int, int], list[str]]], None],
    chunker: Callable[[str, int, int], list[str]],
) -> bool:
    """Whether the property tests ``check`` catch ``chunker``, counted as exercise 3.4.2 counts
    it: ``check(chunker)`` raises an AssertionError, or lets through an error the chunker itself
    raised. Any other error is a crash of the tests' own code: it is raised again, to be read."""
    raised: list[BaseException] = []

    def watched(text: str, size: int, overlap: int) -> list[str]:
        try:
            return chunker(text, size, overlap)
        except Exception as exc:
            raised.append(exc)
            raise

    try:
        check(watched)
    except Exception as exc:
        leaves = _leaves(exc)
        if any(isinstance(x, AssertionError) or any(x is r for r in raised) for x in leaves):
            return True
        raise
    return False


# --- code under test: a parser of JSON in a model's reply ----------------------------------------

_NON_GREEDY = re.compile(r"\{.*?\}", re.DOTALL)


def naive_parse_reply(reply: str) -> Any:
    """A tutorial's parser: the first ``{...}`` of the reply, by a non-greedy regex."""
    match = _NON_GREEDY.search(reply)
    if match is None:
        raise ValueError("no JSON object in the reply")
    return json.loads(match.group(0))


def parse_reply(reply: str) -> Any:
    """The first complete JSON object in a model's reply, prose and code fences around it.

    Tries each ``{`` in turn with the JSON decoder itself, so nested objects and braces in
    strings are read the way ``json`` reads them.
    """
    decoder = json.JSONDecoder()
    for match in re.finditer(r"\{", reply):
        try:
            value, _ = decoder.raw_decode(reply, match.start())
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            return value
    raise ValueError("no JSON object in the reply")


# --- a fake provider ----------------------------------------------------------------------------


@dataclass
class FakeChatClient:
    """A scripted stand-in for ``openai.OpenAI()``: ``client.chat.completions.create(...)``
    returns the next scripted reply and records the request.

    A unit test gives it to the code under test instead of a real client: no network, no
    key, the same answer every run, and the requests are there to assert on.
    """

    replies: Sequence[str]
    requests: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if isinstance(self.replies, str) or not self.replies:
            raise TestingLabError(
                "FakeChatClient needs a list of one or more scripted replies, e.g. "
                "FakeChatClient(['The handover is on Monday.'])."
            )
        self.chat = SimpleNamespace(completions=SimpleNamespace(create=self._create))

    def _create(self, **request: Any) -> Any:
        if len(self.requests) >= len(self.replies):
            raise TestingLabError(
                f"FakeChatClient was called {len(self.requests) + 1} times but scripts only "
                f"{len(self.replies)} replies; script one reply per expected call."
            )
        self.requests.append(request)
        text = self.replies[len(self.requests) - 1]
        message = SimpleNamespace(role="assistant", content=text)
        return SimpleNamespace(choices=[SimpleNamespace(index=0, message=message)])


def answer_question(
    client: Any, question: str, passages: Mapping[str, str], *, model: str = "chat-small"
) -> str:
    """The code under test: ask ``client`` to answer from ``passages`` (doc id to text)."""
    if not question.strip():
        raise TestingLabError("answer_question needs a non-empty question.")
    sources = "\n".join(f"[{doc_id}] {text}" for doc_id, text in passages.items())
    messages = [
        {"role": "system", "content": "Answer from the sources and cite them as [doc-id]."},
        {"role": "user", "content": f"Sources:\n{sources}\n\nQuestion: {question}"},
    ]
    response = client.chat.completions.create(model=model, messages=messages, temperature=0)
    return str(response.choices[0].message.content or "").strip()


# --- hypothesis -----------------------------------------------------------------------------------


def keep_hypothesis_in_work_dir() -> Path:
    """Points hypothesis's own files (its caches, and an example database if one is enabled)
    at the course work directory, instead of a ``.hypothesis`` folder where the kernel runs."""
    from hypothesis.configuration import set_hypothesis_home_dir

    from course_lib.workdir import work_path

    home = work_path("lesson_3_4", "hypothesis")
    set_hypothesis_home_dir(home)
    return home


def minimal_failure(test: Callable[[], None]) -> str | None:
    """Runs a hypothesis test and returns its shrunk falsifying example, or None if it passed."""
    try:
        test()
    except Exception as exc:  # a failing property: hypothesis re-raises it with notes
        notes = [str(n) for n in getattr(exc, "__notes__", [])]
        shown = [n for n in notes if n.startswith(("Falsifying example", "Failing test case"))]
        if not shown:
            raise
        call = re.sub(r"\s*#[^\n]*", "", shown[0].split(":", 1)[1]).strip()  # no comments
        lines = call.splitlines()
        if len(lines) > 2:
            args = ", ".join(line.strip().rstrip(",") for line in lines[1:-1])
            call = f"{lines[0]}{args}{lines[-1].strip()}"
        return f"{call} -> {type(exc).__name__}: {exc}".rstrip(": ")
    return None


# --- mutation testing with cosmic-ray ------------------------------------------------------------

MUTATED_OPERATORS_EXCLUDED = (
    "core/ReplaceBinaryOperator_.*_(BitAnd|BitOr|BitXor|Div|FloorDiv|LShift|Mod|Pow|RShift)$",
    "core/ReplaceComparisonOperator_.*_(Is|IsNot)$",
)
"""cosmic-ray operators the lesson filters out: bit, power and division variants of ``+`` and
``-``, and identity comparisons, which add many mutants and little to learn from."""

_CR_CONFIG = """[cosmic-ray]
module-path = "chunker.py"
timeout = 20.0
excluded-modules = []
test-command = "python {flags}{tests}"

[cosmic-ray.distributor]
name = "local"

[cosmic-ray.filters.operators-filter]
exclude-operators = [{excluded}]
"""


EXAMPLE_TESTS = '''"""A tutorial's tests: two examples written by hand."""
from chunker import chunk_words


def test_two_windows():
    assert chunk_words("a b c d e", 3, 1) == ["a b c", "c d e"]


def test_one_short_text():
    assert chunk_words("on call", 5, 2) == ["on call"]


if __name__ == "__main__":
    test_two_windows()
    test_one_short_text()
'''
"""The example tests of the mutation-testing repository (``test_examples.py``)."""

_PROPERTY_TESTS = '''"""The examples, plus properties that must hold for every input."""
from hypothesis import Phase, assume, given, settings, strategies as st

from chunker import chunk_words
from test_examples import test_one_short_text, test_two_windows

WORDS = st.lists(st.sampled_from(["on", "call", "pager", "EUR", "60"]), max_size=25)
SPACE = st.sampled_from([" ", "  ", "\\n", " \\t"])
NO_EXPLAIN = [phase for phase in Phase if phase is not Phase.explain]
FAST = settings(
    derandomize=True, database=None, deadline=None, max_examples=50, phases=NO_EXPLAIN
)


@FAST
@given(words=WORDS, space=SPACE, size=st.integers(1, 6), overlap=st.integers(0, 5))
def test_windows_tile_the_text(words, space, size, overlap):
    assume(overlap < size)
    chunks = [c.split() for c in chunk_words(space.join(words), size, overlap)]
    rebuilt = chunks[0] + [w for c in chunks[1:] for w in c[overlap:]] if chunks else []
    assert rebuilt == words  # every word, once, in order
    assert all(len(c) == size for c in chunks[:-1])  # only the last may be short
    assert all(a[len(a) - overlap :] == b[:overlap] for a, b in zip(chunks, chunks[1:]))


@FAST
@given(size=st.integers(1, 6), extra=st.integers(0, 3))
def test_overlap_must_be_smaller(size, extra):
    try:
        chunk_words("a b c", size, size + extra)
    except ValueError:
        return
    raise AssertionError("overlap >= size was accepted")


if __name__ == "__main__":
    test_two_windows()
    test_one_short_text()
    test_windows_tile_the_text()
    test_overlap_must_be_smaller()
'''
"""The example tests plus two hypothesis properties (``test_properties.py``)."""


def mutation_repo(path: str | Path) -> ScratchRepo:
    """A scratch repository holding ``chunker.py`` (the correct chunker), two test scripts
    (:data:`EXAMPLE_TESTS` and the lab's property tests) and a cosmic-ray configuration for each."""
    import inspect

    from course_lib.labs.scratch_repo import ScratchRepo

    source = inspect.getsource(chunk_words)
    excluded = ", ".join(json.dumps(p) for p in MUTATED_OPERATORS_EXCLUDED)
    files = {
        ".gitignore": "*.sqlite\n__pycache__/\n",
        "chunker.py": f'"""Fixed windows of words."""\n\n\n{source}',
        "test_examples.py": EXAMPLE_TESTS,
        "test_properties.py": _PROPERTY_TESTS,
        # the examples need only the standard library: -S skips site-packages, starts faster
        "examples.toml": _CR_CONFIG.format(
            flags="-S ", tests="test_examples.py", excluded=excluded
        ),
        "properties.toml": _CR_CONFIG.format(
            flags="", tests="test_properties.py", excluded=excluded
        ),
    }
    repo = ScratchRepo.create(path, files=files)
    repo.commit("A chunker, its tests and mutation-testing settings", add_all=True)
    return repo


def mutation_outcomes(session: str | Path) -> pd.DataFrame:
    """One row per mutant of a cosmic-ray session: line, operator, occurrence and outcome
    (``killed``, ``survived``, ``skipped`` or ``pending``), in a stable order."""
    import pandas as pd

    path = Path(session)
    if not path.is_file():
        raise TestingLabError(f"No cosmic-ray session at {path.name}; run `cosmic-ray init`.")
    with sqlite3.connect(path) as db:
        rows = db.execute(
            "SELECT s.start_pos_row, s.operator_name, s.occurrence, r.worker_outcome, "
            "r.test_outcome FROM mutation_specs s LEFT JOIN work_results r USING (job_id)"
        ).fetchall()
    records = []
    for line, operator, occurrence, worker, test in rows:
        if worker is None:
            outcome = "pending"
        elif str(worker).lower() == "skipped":
            outcome = "skipped"
        else:
            outcome = str(test).lower() if test else str(worker).lower()
        records.append(
            {
                "line": int(line),
                "operator": str(operator).removeprefix("core/"),
                "occurrence": int(occurrence),
                "outcome": outcome,
            }
        )
    frame = pd.DataFrame.from_records(records)
    return frame.sort_values(["line", "operator", "occurrence"]).reset_index(drop=True)


def run_mutants(
    repo: ScratchRepo, tests: str, *, killed_before: pd.DataFrame | None = None
) -> pd.DataFrame:
    """The course's in-process mutation runner: cosmic-ray's own operators and occurrences on
    the repository's ``chunker.py`` (minus :data:`MUTATED_OPERATORS_EXCLUDED`), each mutant
    tested by running the test script ``tests`` in this process.

    Same rows and order as :func:`mutation_outcomes`, without a process per mutant. Mutants
    killed in ``killed_before`` (a run of a suite that ``tests`` extends) stay killed and are
    not run again. Only for code whose loops are bounded: a mutant that never returns would
    hang the kernel.
    """
    import sys

    import pandas as pd
    from cosmic_ray.ast import ast_nodes, get_ast  # type: ignore[import-untyped]
    from cosmic_ray.mutating import mutate_code  # type: ignore[import-untyped]
    from cosmic_ray.plugins import get_operator, operator_names  # type: ignore[import-untyped]

    source = repo.read("chunker.py")
    scripts = {name: repo.read(name) for name in ("test_examples.py", tests)}
    excluded = re.compile("|".join(f"(?:{e})" for e in MUTATED_OPERATORS_EXCLUDED))
    done = set()
    if killed_before is not None:
        rows = killed_before[killed_before["outcome"] == "killed"]
        done = {
            ("core/" + o, int(n)) for o, n in zip(rows["operator"], rows["occurrence"], strict=True)
        }
    tree = get_ast(source)
    nodes = list(ast_nodes(tree))
    records = []
    saved = {name: sys.modules.get(name) for name in ("chunker", "test_examples")}
    try:
        for name in operator_names():
            operator_class = get_operator(name)
            if operator_class.arguments():
                continue  # operators that need settings are not configured by the lesson
            operator = operator_class()
            positions = [start for node in nodes for start, _ in operator.mutation_positions(node)]
            for occurrence, (line, _col) in enumerate(positions):
                if excluded.match(name):
                    outcome = "skipped"
                elif (name, occurrence) in done:
                    outcome = "killed"
                else:
                    mutant = mutate_code(source, operator, occurrence)
                    outcome = "killed" if _fails(mutant, scripts, tests) else "survived"
                records.append(
                    {
                        "line": int(line),
                        "operator": name.removeprefix("core/"),
                        "occurrence": occurrence,
                        "outcome": outcome,
                    }
                )
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
    frame = pd.DataFrame.from_records(records)
    return frame.sort_values(["line", "operator", "occurrence"]).reset_index(drop=True)


def _fails(mutant: str | None, scripts: Mapping[str, str], tests: str) -> bool:
    """Whether the test script ``tests`` fails on the mutated chunker (any exception)."""
    import sys
    import types

    if mutant is None:
        return False
    try:
        for name, text in (("chunker", mutant), ("test_examples", scripts["test_examples.py"])):
            module = types.ModuleType(name)
            sys.modules[name] = module
            exec(compile(text, f"{name}.py", "exec"), module.__dict__)
        exec(compile(scripts[tests], tests, "exec"), {"__name__": "__main__"})
    except Exception:
        return True
    return False


def reopen_survivors(before: str | Path, after: str | Path) -> int:
    """Copies session ``before`` to ``after`` and forgets the surviving mutants' results, so
    that ``cosmic-ray exec`` on ``after`` runs only them; returns how many.

    Adding tests never revives a killed mutant (the old tests still fail on it), so only the
    survivors need the new suite.
    """
    src, dst = Path(before), Path(after)
    if not src.is_file():
        raise TestingLabError(f"No cosmic-ray session at {src.name}; run `cosmic-ray exec`.")
    shutil.copyfile(src, dst)
    with sqlite3.connect(dst) as db:
        survived = db.execute(
            "SELECT job_id FROM work_results WHERE lower(test_outcome) = 'survived'"
        ).fetchall()
        db.executemany("DELETE FROM work_results WHERE job_id = ?", survived)
    return len(survived)


# --- golden files ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    """The verdict of a golden-file comparison."""

    status: str  # "recorded", "matches" or "differs"
    diff: str = ""


def check_snapshot(path: str | Path, text: str, *, update: bool = False) -> Snapshot:
    """Compares ``text`` with the golden file at ``path``.

    A missing file is recorded; a different text is reported with a unified diff and left
    alone unless ``update`` (a reviewer accepted the change).
    """
    golden = Path(path)
    if not golden.exists() or update:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8", newline="\n")
        return Snapshot("recorded")
    stored = golden.read_text(encoding="utf-8")
    if stored == text:
        return Snapshot("matches")
    diff = difflib.unified_diff(
        stored.splitlines(), text.splitlines(), "golden", "today", lineterm="", n=1
    )
    return Snapshot("differs", "\n".join(diff))


# --- statistical acceptance tests -----------------------------------------------------------------


def acceptance_rates(
    samples: int, min_passes: int, pass_rate: float, *, trials: int = 20_000, seed: int = 0
) -> float:
    """The share of ``trials`` simulated test runs that accept a system whose answers pass
    with probability ``pass_rate``: each run draws ``samples`` answers and accepts when at
    least ``min_passes`` pass."""
    import numpy as np

    if not isinstance(samples, int) or isinstance(samples, bool) or samples < 1:
        raise TestingLabError(f"samples must be a whole number >= 1, not {samples!r}.")
    if not isinstance(min_passes, int) or isinstance(min_passes, bool):
        raise TestingLabError(
            f"min_passes must be a whole number of passing samples, not {min_passes!r}."
        )
    if not 0.0 <= pass_rate <= 1.0:
        raise TestingLabError(f"pass_rate must lie in [0, 1], not {pass_rate!r}.")
    rng = np.random.default_rng(seed)
    passes = rng.binomial(samples, pass_rate, size=trials)
    return float((passes >= min_passes).mean())


def false_alarm_table(
    sizes: Sequence[int],
    *,
    good: float = 0.9,
    worse: float = 0.75,
    required_share: float = 0.8,
    trials: int = 20_000,
    seed: int = 0,
) -> pd.DataFrame:
    """For each sample size: the false-alarm rate (a ``good`` system fails) of "every sample
    passes" and of "at least ``required_share`` pass", and the latter's miss rate (a
    ``worse`` system passes)."""
    import math

    import pandas as pd

    rows = []
    for n in sizes:
        threshold = math.ceil(required_share * n - 1e-9)

        def accepted(min_passes: int, rate: float, n: int = n) -> float:
            return acceptance_rates(n, min_passes, rate, trials=trials, seed=seed)

        rows.append(
            {
                "samples": n,
                "all must pass: false alarms": 1 - accepted(n, good),
                "min passes": threshold,
                "threshold: false alarms": 1 - accepted(threshold, good),
                "threshold: misses": accepted(threshold, worse),
            }
        )
    return pd.DataFrame(rows)


def plot_false_alarms(table: pd.DataFrame) -> Figure:
    """The table of :func:`false_alarm_table` as lines against the number of samples."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.4))
    for column, style in (
        ("all must pass: false alarms", "o-"),
        ("threshold: false alarms", "s-"),
        ("threshold: misses", "^--"),
    ):
        ax.plot(table["samples"], table[column], style, label=column)
    ax.axhline(0.05, color="grey", lw=0.8, ls=":", label="5%: the false-alarm target")
    ax.set_xscale("log")
    ax.set_xlabel("samples per test run")
    ax.set_ylabel("share of test runs")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8)
    ax.set_title("A 90%-pass system, and a 75% one, tested by sampling")
    fig.tight_layout()
    return fig


# --- the pyramid, and the course's own tests -----------------------------------------------------

_PYRAMID = (
    ("unit and property tests", "pure code: chunkers, parsers, prompts", "ms, every save"),
    ("fake provider, record/replay", "the code around a model call", "ms, every commit"),
    ("golden files, notebook tests", "outputs that must not drift silently", "s, every commit"),
    ("statistical acceptance", "the model's behaviour, by sampling", "min, before a release"),
)


def plot_test_pyramid() -> Figure:
    """The test pyramid of an AI system: many cheap tests at the base, few costly ones on top."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3.6))
    levels = len(_PYRAMID)
    for i, (name, what, cost) in enumerate(_PYRAMID):
        half = 1.0 - i / levels
        top = 1.0 - (i + 1) / levels
        xs = [-half, half, top, -top]
        ys = [i, i, i + 1, i + 1]
        ax.fill(xs, ys, color=plt.get_cmap("Blues")(0.35 + 0.15 * i), ec="white", lw=2)
        ax.text(0, i + 0.5, name, ha="center", va="center", fontsize=9, weight="bold")
        ax.text(1.05, i + 0.5, f"{what}  ({cost})", va="center", fontsize=8)
    ax.set_xlim(-1.05, 2.6)
    ax.set_ylim(0, levels)
    ax.axis("off")
    ax.set_title("Many fast, deterministic tests at the base; few slow, sampled ones on top")
    fig.tight_layout()
    return fig


def course_test_kinds(root: Path | None) -> dict[str, bool]:
    """Where the course's own repository holds each layer of this lesson (presence only).

    Keys name a file and what it holds; values say whether it is there. The last key asks
    whether any test imports vcrpy: the course records no cassettes.
    """
    if root is None:
        return {}
    tests = root / "tests"
    sources = [p.read_text(encoding="utf-8") for p in sorted(tests.glob("*.py"))]
    agreement = (tests / "test_testing_lab.py").read_text(encoding="utf-8")
    pyproject = (root / "pyproject.toml").read_text(encoding="utf-8")
    return {
        "tests/test_rag_index.py: a fake embedder in place of the model": (
            "class FakeEmbedder" in (tests / "test_rag_index.py").read_text(encoding="utf-8")
        ),
        "tests/test_testing_lab.py: run_mutants agrees with cosmic-ray": (
            "def test_mutation_runner_agrees_with_cosmic_ray" in agreement
        ),
        "tests/wrong_answers/: wrong answers every checker must reject": (
            tests / "wrong_answers"
        ).is_dir(),
        "pyproject.toml: pytest runs --nbval on the stored notebooks": '"--nbval"' in pyproject,
        "tests/nbval_sanitize.cfg: masks for harmless output differences": (
            tests / "nbval_sanitize.cfg"
        ).is_file(),
        "tests/determinism_probe.py: the stand-in model re-run in a fresh process": (
            tests / "determinism_probe.py"
        ).is_file(),
        "any test importing vcr (recorded cassettes)": any(
            re.search(r"^\s*(import vcr|from vcr)", s, re.MULTILINE) for s in sources
        ),
    }


# --- a made-up key --------------------------------------------------------------------------------


def lesson_key(seed: int = 0) -> str:
    """A made-up API key for the lesson's clients, built at run time (never a real one)."""
    digest = hashlib.sha256(f"lesson-3.4-{seed}".encode()).hexdigest()
    return "-".join(("sk", "lesson", digest[:32]))


def redact(secret: str) -> str:
    """A secret as a log may show it: its first four characters and its length."""
    return f"{secret[:4]}... ({len(secret)} characters)"
