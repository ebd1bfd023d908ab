"""Checkers of lesson 3.2, "Repository structure"."""

from __future__ import annotations

import contextlib
import io
import re
import sys
from collections.abc import Sequence
from typing import Any

from course_lib.course.checking import NotYet, Probe, answer_calls, exercise

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

SOLUTION = "solutions/3_software_foundations/32_repository_structure.ipynb"


_PACKAGE = "handbook_assistant"
"""The scratch package the lesson builds: its finished functions are not the learner's answer."""


def _from_the_package(value: Any) -> bool:
    module = getattr(value, "__module__", None) or getattr(value, "__name__", None) or ""
    return isinstance(module, str) and (module == _PACKAGE or module.startswith(_PACKAGE + "."))


def _uses_the_package(answer: Any) -> bool:
    """Whether ``answer`` is, or calls, a function of the finished scratch package (imported
    from the lesson's repository): by its module, a global or enclosed name bound to one, or
    an import of the package inside the function. A determined learner can still hide it."""
    if _from_the_package(answer):
        return True
    code = getattr(answer, "__code__", None)
    if code is None:
        return False
    names: set[str] = set()
    texts: set[str] = set()
    pending = [code]
    while pending:
        current = pending.pop()
        names.update(current.co_names)
        texts.update(c for c in current.co_consts if isinstance(c, str))
        pending += [const for const in current.co_consts if hasattr(const, "co_names")]
    if any(n == _PACKAGE or n.startswith(_PACKAGE + ".") for n in names | texts):
        return True
    scope = getattr(answer, "__globals__", {})
    values = [scope[n] for n in names if n in scope]
    for cell in getattr(answer, "__closure__", None) or ():
        try:
            values.append(cell.cell_contents)
        except ValueError:  # a variable of the enclosing function not yet assigned
            continue
    return any(_from_the_package(v) for v in values)


_NOT_THE_PACKAGE = (
    "{name} comes from the finished handbook_assistant package in the lesson's repository; "
    "write the function yourself, in the notebook, so that you know what that code does."
)


# --- 3.2.1 the retrieval loop as a pure function ------------------------------------------------


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def rank_passages(question: str, passages: Sequence[Any], k: int) -> list[Any]:
    """The ``k`` passages (``(doc_id, text)`` pairs) sharing most distinct words with the
    question; ties keep their order. No file, no global: everything comes in as an argument."""
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    q = _words(question)
    order = sorted(range(len(passages)), key=lambda i: -len(q & _words(passages[i][1])))
    return [passages[i] for i in order[:k]]


_TRAVEL = [
    ("travel", "Book trains for trips under four hours."),
    ("expenses", "Claims are due within 60 days of the trip."),
    ("oncall", "Partial on-call weeks are paid pro rata."),
    ("vpn", "Connect to the VPN before opening the wiki."),
]
_TIES = [
    ("a", "The badge opens the office."),
    ("b", "Badges are renewed every year."),
    ("c", "The office closes at eight."),
    ("d", "Lost badge? Call security."),
]

# (what the case tests, question, passages, k)
_RANK_CASES: list[tuple[str, str, list[tuple[str, str]], int]] = [
    ("a question about on-call pay", "Are partial on-call weeks paid?", _TRAVEL, 1),
    ("the top 2 of four passages", "When are trip claims due?", _TRAVEL, 2),
    ("ties, which keep the passages' order", "Where is the office badge?", _TIES, 3),
    ("k larger than the number of passages", "VPN wiki", _TRAVEL, 10),
    ("upper case and punctuation in the question", "WHEN ARE CLAIMS DUE?!", _TRAVEL, 1),
    ("a word repeated in one passage", "paid", [("y", "Paid."), ("x", "Paid, paid, paid.")], 1),
    ("a question sharing no word", "zebra", _TIES, 2),
    ("another list of passages (no global)", "badge renewed", _TIES[1:], 1),
]


@exercise(
    "3.2.1",
    title="The retrieval loop as a pure function",
    answer_name="rank_passages",
    reference=rank_passages,
    solution=SOLUTION,
    hints=(
        "Everything the prototype's retrieve() read from globals (the passages, TOP_K) becomes "
        "an argument. Score each passage by how many distinct question words it contains: "
        "len(words(question) & words(text)), with words() lower-casing and keeping runs of "
        "letters and digits.",
        "Sort the positions range(len(passages)) by the negative score: Python's sort is "
        "stable, so passages with equal scores keep their order. Return the passages "
        "themselves, at most k of them; raise ValueError when k < 1.",
        "q = words(question); order = sorted(range(len(passages)), key=lambda i: "
        "-len(q & words(passages[i][1]))); return [passages[i] for i in order[:k]].",
    ),
)
def _check_rank_passages(answer: Any, probe: Probe) -> str:
    if answer_calls(answer, rank_passages):
        raise NotYet(
            "rank_passages calls the course's reference; write the ranking yourself (it is a "
            "few lines), so that you know what the package's retrieval layer does."
        )
    if _uses_the_package(answer):
        raise NotYet(_NOT_THE_PACKAGE.format(name="rank_passages"))
    for what, question, passages, k in _RANK_CASES:
        given = list(passages)
        expected = rank_passages(question, passages, k)
        call = f"rank_passages on {what} (k={k})"
        got = probe.call_as(call, answer, question, given, k)
        if given != passages:
            raise NotYet(f"{call} changed the list it was given; a pure function leaves it alone.")
        if got is None:
            raise NotYet(f"{call} returned None; did you forget a `return`?")
        if isinstance(got, (str, dict)) or not isinstance(got, (list, tuple)):
            raise NotYet(f"{call} returned a {type(got).__name__}; return a list of passages.")
        got = list(got)
        if any(not isinstance(p, tuple) for p in got):
            raise NotYet(
                f"{call} returned {got[:2]!r}...; return the (doc_id, text) passages themselves, "
                "not ids or texts."
            )
        if got != expected:
            shown = [p[0] for p in got]
            raise NotYet(
                f"{call} returned the passages {shown}, expected {[p[0] for p in expected]} "
                "(score = distinct question words found in the passage, lower-cased; ties keep "
                "their order; at most k)."
            )
    call = "rank_passages with k=0"
    try:
        got = answer("badge", list(_TIES), 0)
    except ValueError:
        return "rank_passages ranks every hidden case right, from its arguments alone."
    except NotImplementedError:
        raise NotYet(f"{probe.name} still raises NotImplementedError.") from None
    except Exception as exc:
        raise NotYet(f"{call} raised {type(exc).__name__}; raise ValueError instead.") from None
    raise NotYet(f"{call} returned {got!r}; it should raise ValueError (k must be at least 1).")


# --- 3.2.2 a command line that can be tested ---------------------------------------------------


def main(argv: list[str], app: Any) -> int:
    """``ask QUESTION [--top-k N]`` prints ``app.ask(question, top_k=N)``; ``evaluate
    [--top-k N]`` prints ``recall@N: 0.xxx`` from ``app.evaluate(top_k=N)``. N defaults to 3
    and must be at least 1. Returns 0, or 2 for a usage error without calling the app."""
    import argparse

    cli = argparse.ArgumentParser(prog="handbook-assistant")
    commands = cli.add_subparsers(dest="command", required=True)
    ask = commands.add_parser("ask")
    ask.add_argument("question")
    ask.add_argument("--top-k", type=int, default=3)
    evaluate = commands.add_parser("evaluate")
    evaluate.add_argument("--top-k", type=int, default=3)
    try:
        args = cli.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    if args.top_k < 1:
        return 2
    if args.command == "ask":
        print(app.ask(args.question, top_k=args.top_k))
    else:
        print(f"recall@{args.top_k}: {app.evaluate(top_k=args.top_k):.3f}")
    return 0


class _FakeApp:
    """Records what the command line asked for; answers with fixed values."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def ask(self, question: str, top_k: int = 3) -> str:
        self.calls.append(("ask", question, top_k))
        return f"ANSWER<{question}>"

    def evaluate(self, top_k: int = 3) -> float:
        self.calls.append(("evaluate", top_k))
        return 0.625


_GOOD_CASES: list[tuple[list[str], tuple[Any, ...], str]] = [
    (["ask", "Who signs off a purchase over 5,000 EUR?"],
     ("ask", "Who signs off a purchase over 5,000 EUR?", 3),
     "ANSWER<Who signs off a purchase over 5,000 EUR?>"),
    (["ask", "Is the VPN required?", "--top-k", "7"], ("ask", "Is the VPN required?", 7),
     "ANSWER<Is the VPN required?>"),
    (["evaluate"], ("evaluate", 3), "recall@3: 0.625"),
    (["evaluate", "--top-k", "5"], ("evaluate", 5), "recall@5: 0.625"),
]  # fmt: skip

_USAGE_ERRORS: list[tuple[str, list[str]]] = [
    ("no question after ask", ["ask"]),
    ("an unknown command", ["summarise", "the handbook"]),
    ("--top-k 0", ["ask", "Who approves leave?", "--top-k", "0"]),
    ("--top-k that is not a number", ["evaluate", "--top-k", "three"]),
]


def _run_cli(answer: Any, argv: list[str], probe: Probe) -> tuple[Any, _FakeApp, str]:
    app = _FakeApp()
    out, err = io.StringIO(), io.StringIO()
    call = f"main({argv!r}, app)"
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = probe.call_as(call, answer, list(argv), app)
        except NotYet as exc:
            if "SystemExit" in str(exc):
                raise NotYet(
                    f"{call} raised SystemExit (argparse does, on a usage error): catch it "
                    "and return its code (2) instead, so that a test can call main."
                ) from None
            raise
    return code, app, out.getvalue()


@exercise(
    "3.2.2",
    title="A command line that can be tested",
    answer_name="main",
    reference=main,
    solution=SOLUTION,
    hints=(
        "args = parser().parse_args(argv) gives args.command ('ask' or 'evaluate'), "
        "args.top_k (an int, 3 by default) and, for ask, args.question. Parse argv, never "
        "sys.argv.",
        "The given try/except turns argparse's SystemExit into a return of 2. Return 2 too "
        "when args.top_k < 1, before calling the app. Return 0 after printing.",
        "For ask: print(app.ask(args.question, top_k=args.top_k)); for evaluate: "
        "print(f'recall@{args.top_k}: {app.evaluate(top_k=args.top_k):.3f}'); then return 0.",
    ),
)
def _check_main(answer: Any, probe: Probe) -> str:
    if answer_calls(answer, main):
        raise NotYet(
            "main calls the course's reference; write the few lines that parse argv and call "
            "the app yourself, so that you know what the package's command does."
        )
    if _uses_the_package(answer):
        raise NotYet(_NOT_THE_PACKAGE.format(name="main"))
    for argv, expected_call, expected_out in _GOOD_CASES:
        code, app, out = _run_cli(answer, argv, probe)
        call = f"main({argv!r}, app)"
        if code != 0 or isinstance(code, bool):
            raise NotYet(f"{call} returned {code!r}; return 0 when the command worked.")
        if app.calls != [expected_call]:
            raise NotYet(
                f"{call} called the app as {app.calls or 'never'}, expected "
                f"[{expected_call!r}] (parse argv, --top-k as an int defaulting to 3)."
            )
        if out.strip() != expected_out:
            raise NotYet(f"{call} printed {out.strip()!r}, expected {expected_out!r}.")
    for what, argv in _USAGE_ERRORS:
        code, app, _ = _run_cli(answer, argv, probe)
        call = f"main({argv!r}, app) ({what})"
        if app.calls:
            raise NotYet(f"{call} called the app; a usage error must stop before any work.")
        if code != 2 or isinstance(code, bool):
            raise NotYet(f"{call} returned {code!r}; return 2, the usage-error exit code.")
    return (
        "main parses every hidden command line, calls the app it is given, prints, and "
        "returns 0, or 2 for a usage error: a test can call it without a subprocess."
    )


# --- 3.2.3 import contracts, checked on tangles you have not seen ------------------------------

CONTRACTS = """\
[tool.importlinter]
root_package = "handbook_assistant"

[[tool.importlinter.contracts]]
name = "Layers: cli over evaluation over app over retrieval over data"
type = "layers"
layers = [
    "handbook_assistant.cli",
    "handbook_assistant.evaluation",
    "handbook_assistant.app",
    "handbook_assistant.retrieval",
    "handbook_assistant.data",
]
"""


_PARTS = ("app", "cli", "data", "evaluation", "retrieval")
"""The package's parts, alphabetically (never in layer order: that is the exercise)."""


def _heldout_tangles() -> tuple[Any, ...]:
    from course_lib.labs.structure_lab import Tangle

    return (
        Tangle("data imports retrieval", "data/chunking.py", "retrieval"),
        Tangle("retrieval imports evaluation", "retrieval/search.py", "evaluation"),
        Tangle("evaluation imports the command line", "evaluation/metrics.py", "cli"),
        Tangle("data imports the app", "data/loading.py", "app"),
        Tangle("the app imports the command line", "app/answering.py", "cli"),
    )


def _named_modules(contracts: str) -> set[str]:
    """Every subpackage name that appears in a module string of the contracts."""

    try:
        data = tomllib.loads(contracts)
    except tomllib.TOMLDecodeError as exc:
        raise NotYet(f"contracts is not valid TOML ({exc}); fix the syntax.") from None
    table = data.get("tool", {}).get("importlinter", {})
    if not isinstance(table, dict) or not table.get("contracts"):
        raise NotYet(
            "contracts declares no [[tool.importlinter.contracts]] entry; add at least one."
        )
    names: set[str] = set()

    def collect(value: Any) -> None:
        if isinstance(value, str):
            names.update(re.split(r"[\s.|:()]+", value))
        elif isinstance(value, dict):
            for key, item in value.items():
                if key not in ("name", "type", "ignore_imports"):
                    collect(item)
        elif isinstance(value, list):
            for item in value:
                collect(item)

    collect(table["contracts"])
    return names


@exercise(
    "3.2.3",
    title="Import contracts that catch tangles you have not seen",
    answer_name="contracts",
    expects_function=False,
    reference=CONTRACTS,
    solution=SOLUTION,
    time_limit=120.0,
    hints=(
        "In a layers contract, each layer may import only the layers listed after it. In the "
        "git grep output, a part that imports another must come before it. Run "
        "try_contracts(contracts) after each change: the clean package must PASS and each "
        "tangled copy must FAIL.",
        "cli imports evaluation (and every other part), so it goes first. evaluation imports "
        "the app (metrics.py calls answer), so it goes right after cli, before the app.",
        'layers = ["cli", "evaluation", "app", "retrieval", "data"]: cli builds everything, '
        "evaluation calls the app, the app calls retrieval, retrieval reads data.",
    ),
)
def _check_contracts(answer: Any, probe: Probe) -> str:
    from course_lib.labs.structure_lab import try_contracts
    from course_lib.workdir import work_path

    if not isinstance(answer, str):
        raise NotYet(
            f"contracts is a {type(answer).__name__}; make it a string of TOML (triple quotes) "
            "holding the [tool.importlinter] table."
        )
    if "[tool.importlinter]" not in answer:
        raise NotYet("contracts has no [tool.importlinter] table; start with that header.")
    named = _named_modules(answer)
    missing = [part for part in _PARTS if part not in named]
    if missing:
        raise NotYet(
            f"your contracts never name {', '.join(missing)}: a contract that leaves a part of "
            "the package out cannot stop it from tangling. The parts, alphabetically: "
            f"{', '.join(_PARTS)}; their order in a contract is yours to work out."
        )
    heldout = _heldout_tangles()
    trials = probe.call_as(
        "lint-imports with your contracts",
        try_contracts,
        answer,
        heldout,
        root=work_path("lesson_3_2", "heldout"),
    )
    clean = trials[0]
    if clean.passed is None:
        raise NotYet(f"lint-imports could not read your contracts: {clean.detail}")
    if not clean.passed:
        raise NotYet(
            f"on the clean package your contracts FAIL ({clean.detail}): they forbid an import "
            "the package needs. Check the order of your layers: the first may import the rest."
        )
    missed = sum(1 for t in trials[1:] if not t.right)
    if missed:
        raise NotYet(
            f"your contracts pass the clean package but miss {missed} of the {len(heldout)} "
            "hidden tangles. Do not guess which: state the whole direction, every part, so "
            "that any upward import fails (try_contracts shows the visible ones)."
        )
    return (
        f"your contracts pass the clean package and fail all {len(heldout)} hidden tangles "
        "(imports you never saw), with lint-imports run for real in fresh copies."
    )
