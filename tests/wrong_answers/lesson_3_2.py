"""Plausible wrong answers to lesson 3.2's exercises; each must be rejected by its checker."""

from __future__ import annotations

import argparse
import re
import sys
from typing import Any


def _finished_package() -> tuple[Any, Any]:
    """The finished package's rank_passages and main, imported the way a learner could from
    the files package_files() hands out (its default is the solved package)."""
    import importlib
    import tempfile
    from pathlib import Path

    from course_lib.labs import package_files

    with tempfile.TemporaryDirectory() as tmp:
        for name, text in package_files().items():
            if name.startswith("src/"):
                path = Path(tmp, name)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
        sys.path.insert(0, str(Path(tmp, "src")))
        try:
            search = importlib.import_module("handbook_assistant.retrieval.search")
            cli = importlib.import_module("handbook_assistant.cli")
        finally:
            sys.path.remove(str(Path(tmp, "src")))
    return search.rank_passages, cli.main


_PACKAGE_RANK_PASSAGES, _PACKAGE_MAIN = _finished_package()


def _wraps_the_packages_rank_passages(question, passages, k):
    from handbook_assistant.retrieval import rank_passages

    return rank_passages(question, passages, k)


def _wraps_the_packages_main(argv, app):
    from handbook_assistant import cli

    return cli.main(argv, app)


# --- 3.2.1 rank_passages -----------------------------------------------------------------------


def _words(text):
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def _ties_reversed(question, passages, k):
    if k < 1:
        raise ValueError("k must be at least 1")
    q = _words(question)
    return sorted(passages, key=lambda p: len(q & _words(p[1])))[::-1][:k]


def _counts_repeated_words(question, passages, k):
    if k < 1:
        raise ValueError("k must be at least 1")
    q = _words(question)
    found = re.compile(r"[a-z0-9]+")

    def score(p):
        return sum(w in q for w in found.findall(p[1].lower()))

    return sorted(passages, key=lambda p: -score(p))[:k]


def _case_sensitive(question, passages, k):
    if k < 1:
        raise ValueError("k must be at least 1")
    q = set(re.findall(r"[A-Za-z0-9]+", question))
    return sorted(passages, key=lambda p: -len(q & set(re.findall(r"[A-Za-z0-9]+", p[1]))))[:k]


def _splits_on_spaces(question, passages, k):
    if k < 1:
        raise ValueError("k must be at least 1")
    q = set(question.lower().split())
    return sorted(passages, key=lambda p: -len(q & set(p[1].lower().split())))[:k]


def _uses_a_global_top_k(question, passages, k):
    q = _words(question)
    return sorted(passages, key=lambda p: -len(q & _words(p[1])))[:3]


def _returns_doc_ids(question, passages, k):
    if k < 1:
        raise ValueError("k must be at least 1")
    q = _words(question)
    return [p[0] for p in sorted(passages, key=lambda p: -len(q & _words(p[1])))[:k]]


def _sorts_the_input_in_place(question, passages, k):
    if k < 1:
        raise ValueError("k must be at least 1")
    q = _words(question)
    passages.sort(key=lambda p: -len(q & _words(p[1])))
    return passages[:k]


def _no_check_of_k(question, passages, k):
    q = _words(question)
    return sorted(passages, key=lambda p: -len(q & _words(p[1])))[: max(k, 0)]


def _calls_the_reference(question, passages, k):
    from course_lib.course.exercises.lesson_3_2 import rank_passages

    return rank_passages(question, passages, k)


# --- 3.2.2 main(argv, app) ---------------------------------------------------------------------


def _parser(top_k_type: Any = int, default: int = 3) -> argparse.ArgumentParser:
    cli = argparse.ArgumentParser(prog="handbook-assistant")
    commands = cli.add_subparsers(dest="command", required=True)
    ask = commands.add_parser("ask")
    ask.add_argument("question")
    ask.add_argument("--top-k", type=top_k_type, default=default)
    evaluate = commands.add_parser("evaluate")
    evaluate.add_argument("--top-k", type=top_k_type, default=default)
    return cli


def _run(args, app):
    if args.command == "ask":
        print(app.ask(args.question, top_k=args.top_k))
    else:
        print(f"recall@{args.top_k}: {app.evaluate(top_k=args.top_k):.3f}")


def _lets_argparse_exit(argv, app):
    args = _parser().parse_args(argv)
    if args.top_k < 1:
        return 2
    _run(args, app)
    return 0


def _reads_sys_argv(argv, app):
    try:
        args = _parser().parse_args(sys.argv[1:])
    except SystemExit as exc:
        return exc.code
    _run(args, app)
    return 0


def _top_k_left_a_string(argv, app):
    try:
        args = _parser(top_k_type=str, default="3").parse_args(argv)
    except SystemExit as exc:
        return exc.code
    _run(args, app) if args.command == "ask" else print(f"recall@{args.top_k}: 0.625")
    return 0


def _returns_nothing(argv, app):
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:
        return exc.code
    if args.top_k < 1:
        return 2
    _run(args, app)


def _accepts_top_k_zero(argv, app):
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:
        return exc.code
    _run(args, app)
    return 0


def _prints_the_raw_float(argv, app):
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:
        return exc.code
    if args.top_k < 1:
        return 2
    if args.command == "ask":
        print(app.ask(args.question, top_k=args.top_k))
    else:
        print(app.evaluate(top_k=args.top_k))
    return 0


def _default_top_k_five(argv, app):
    try:
        args = _parser(default=5).parse_args(argv)
    except SystemExit as exc:
        return exc.code
    if args.top_k < 1:
        return 2
    _run(args, app)
    return 0


def _delegates_to_the_reference(argv, app):
    from course_lib.course.exercises import lesson_3_2 as ref

    return ref.main(argv, app)


# --- 3.2.3 contracts ---------------------------------------------------------------------------

_HEADER = '[tool.importlinter]\nroot_package = "handbook_assistant"\n'


def _layers(*names: str) -> str:
    listed = ", ".join(f'"handbook_assistant.{n}"' for n in names)
    entry = '\n[[tool.importlinter.contracts]]\nname = "Layers"\ntype = "layers"\n'
    return entry + f"layers = [{listed}]\n"


def _forbidden(source: str, *targets: str) -> str:
    listed = ", ".join(f'"handbook_assistant.{n}"' for n in targets)
    return (
        f'\n[[tool.importlinter.contracts]]\nname = "{source} stays below {", ".join(targets)}"\n'
        f'type = "forbidden"\nsource_modules = ["handbook_assistant.{source}"]\n'
        f"forbidden_modules = [{listed}]\n"
    )


WRONG_ANSWERS: dict[str, list[Any]] = {
    "3.2.1": [
        _ties_reversed,
        _counts_repeated_words,
        _case_sensitive,
        _splits_on_spaces,
        _uses_a_global_top_k,
        _returns_doc_ids,
        _sorts_the_input_in_place,
        _no_check_of_k,
        _calls_the_reference,
        # the finished package's function, written to the repository and imported
        _PACKAGE_RANK_PASSAGES,
        _wraps_the_packages_rank_passages,
    ],
    "3.2.2": [
        _lets_argparse_exit,
        _reads_sys_argv,
        _top_k_left_a_string,
        _returns_nothing,
        _accepts_top_k_zero,
        _prints_the_raw_float,
        _default_top_k_five,
        _delegates_to_the_reference,
        # the finished package's main, written to the repository and imported
        _PACKAGE_MAIN,
        _wraps_the_packages_main,
    ],
    "3.2.3": [
        # upside down: data on top, so the clean package fails
        _HEADER + _layers("data", "retrieval", "app", "evaluation", "cli"),
        # the app above evaluation: evaluation calling the app is then illegal
        _HEADER + _layers("cli", "app", "evaluation", "retrieval", "data"),
        # only the two tangles the lesson shows, naming three of the five parts
        _HEADER + _forbidden("retrieval", "app") + _forbidden("app", "evaluation"),
        # tuned on the visible tangles, every part named, most held-out tangles missed
        _HEADER
        + _forbidden("retrieval", "app")
        + _forbidden("app", "evaluation")
        + _forbidden("data", "cli"),
        # the layers without the command line and data
        _HEADER + _layers("evaluation", "app", "retrieval"),
        # a bare list instead of TOML
        ["cli", "evaluation", "app", "retrieval", "data"],
        # the layers, but no [tool.importlinter] header
        _layers("cli", "evaluation", "app", "retrieval", "data"),
        # every part independent of every other: the clean package fails
        _HEADER
        + '\n[[tool.importlinter.contracts]]\nname = "Independent"\ntype = "independence"\n'
        + "modules = ["
        + ", ".join(
            f'"handbook_assistant.{n}"' for n in ("cli", "evaluation", "app", "retrieval", "data")
        )
        + "]\n",
        # the two missing parts appended below data, as the stub lists the others
        _HEADER + _layers("app", "retrieval", "data", "cli", "evaluation"),
        # cli and evaluation swapped: cli imports evaluation, so the clean package fails
        _HEADER + _layers("evaluation", "cli", "app", "retrieval", "data"),
    ],
}
