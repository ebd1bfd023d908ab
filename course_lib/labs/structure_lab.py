"""Lesson 3.2's lab: the Handbook Assistant as a one-cell prototype and as a package.

Nothing here is production code. It writes the two versions of the assistant into a
throwaway repository (:class:`~course_lib.labs.scratch_repo.ScratchRepo`), copies the handbook
and the golden questions into its git-ignored ``data/`` folder, and measures what the lesson
compares: what importing a module does (files read and written, lines printed, counted with
an audit hook in a fresh interpreter), and what ``lint-imports`` says about the package's
layers, on the clean package and on copies with a tangled import.

The scratch package needs nothing but Python's standard library, so its tests, its wheel and
its command line run offline, without installing anything into the learner's environment.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path, PurePosixPath
from typing import Any

from course_lib.errors import CourseLibError
from course_lib.labs.scratch_repo import ScratchRepo, course_repository
from course_lib.labs.structure_files import (
    _CONTRACTS,
    _GITIGNORE,
    _INFRA,
    _PROTOTYPE,
    _PROTOTYPE_TEST,
    _PYPROJECT,
    _SOURCES,
    _TESTS,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = [
    "SCRATCH_PACKAGE",
    "VISIBLE_TANGLES",
    "ContractTrial",
    "LintReport",
    "PytestSummary",
    "SideEffects",
    "Tangle",
    "checkout_without_data",
    "contract_names",
    "copy_lesson_data",
    "course_structure",
    "import_side_effects",
    "install_wheel",
    "lint_imports",
    "package_files",
    "prototype_repo_files",
    "pytest_summary",
    "structure_tree",
    "try_contracts",
]

SCRATCH_PACKAGE = "handbook_assistant"
"""The scratch package's import name (its distribution is ``handbook-assistant``)."""


class StructureLabError(CourseLibError, ValueError):
    """A lesson 3.2 helper was given something it cannot use."""


def prototype_repo_files() -> dict[str, str]:
    """The prototype as it leaves the notebook, a test someone wrote for it, a .gitignore."""
    return {
        ".gitignore": _GITIGNORE,
        "prototype.py": _PROTOTYPE,
        "tests/test_prototype.py": _PROTOTYPE_TEST,
    }


_EXERCISE_BODIES = {
    "retrieval/search.py": ("    if k < 1:", "3.2.1"),
    "cli.py": ("    try:", "3.2.2"),
}


def _stubbed(name: str, text: str) -> str:
    """``text`` with the function body an exercise asks for replaced by a stub."""
    if name not in _EXERCISE_BODIES:
        return text
    start, exercise = _EXERCISE_BODIES[name]
    head = text[: text.index(start)]
    return head + f'    raise NotImplementedError("written in exercise {exercise}")\n'


def package_files(
    *, contracts: bool = True, infra: bool = True, solved: bool = True
) -> dict[str, str]:
    """The refactored package: ``pyproject.toml``, ``src/handbook_assistant/...``, ``tests/``
    and ``infra/``; ``contracts=False`` leaves out the ``[tool.importlinter]`` section, and
    ``solved=False`` stubs the bodies of ``rank_passages`` and ``main`` (the exercises)."""
    found = {"pyproject.toml": _PYPROJECT + (_CONTRACTS if contracts else "")}
    found |= {
        f"src/{SCRATCH_PACKAGE}/{name}": text if solved else _stubbed(name, text)
        for name, text in _SOURCES.items()
    }
    found |= _TESTS
    return found | (_INFRA if infra else {})


def copy_lesson_data(repo: ScratchRepo, split: str = "dev") -> dict[str, int]:
    """Copies the handbook's current pages and the answerable golden questions of ``split``
    into the repository's git-ignored ``data/`` folder; returns what it copied."""
    from course_lib.datasets import load_golden_set

    pages = sorted(
        (p for p in (files("course_lib.datasets") / "handbook" / "current").iterdir()),
        key=lambda p: p.name,
    )
    pages = [p for p in pages if p.name.endswith(".md") and p.name[0].islower()]
    for page in pages:
        repo.write(f"data/handbook/{page.name}", page.read_text(encoding="utf-8"))
    rows = [
        {"id": q.id, "question": q.question, "doc_ids": sorted({s.doc_id for s in q.sources})}
        for q in load_golden_set(split)
        if q.sources
    ]
    repo.write("data/golden.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    return {"pages": len(pages), "questions": len(rows)}


def structure_tree(repo: ScratchRepo, *, tracked: bool = True) -> str:
    """The repository's files as an indented tree (``tracked=False``: the working tree, with
    each git-ignored file or folder marked)."""
    names = set(repo.files())
    ignored: set[str] = set()
    if not tracked:
        status = repo.git("status", "--ignored", "--porcelain", "--untracked-files=normal")
        ignored = {line[3:] for line in status.splitlines() if line.startswith("!!")}
        names |= ignored | {line[3:] for line in status.splitlines() if line.startswith("??")}
    lines: list[str] = []
    seen: set[PurePosixPath] = set()
    for name in sorted(names):
        path = PurePosixPath(name.rstrip("/"))
        for depth, parent in enumerate(reversed(path.parents[:-1])):
            if parent not in seen:
                seen.add(parent)
                lines.append("    " * depth + parent.name + "/")
        shown = path.name + ("/" if name.endswith("/") else "")
        mark = "   (git-ignored)" if name in ignored else ""
        lines.append("    " * (len(path.parts) - 1) + shown + mark)
    return "\n".join(lines)


def install_wheel(repo: ScratchRepo, wheel: str, venv: str = ".venv") -> str:
    """Installs ``wheel`` (a path in the repository) into a new virtual environment at
    ``venv`` inside the repository, offline and without uv's cache, and returns the full path
    of the ``handbook-assistant`` command it installed. The learner's environment is untouched."""

    env = {"UV_NO_CONFIG": "1", "UV_PYTHON_DOWNLOADS": "never", "VIRTUAL_ENV": ""}
    repo.run("uv", "venv", "-q", "--no-cache", "--python", sys.executable, venv, env=env)
    env["VIRTUAL_ENV"] = str(repo.file(venv))
    repo.run("uv", "pip", "install", "-q", "--no-cache", "--no-index", "--no-deps", wheel, env=env)
    folder = "Scripts" if sys.platform == "win32" else "bin"
    return str(repo.file(f"{venv}/{folder}/handbook-assistant"))


@dataclass(frozen=True)
class SideEffects:
    """What importing one module did, counted in a fresh interpreter."""

    module: str
    imported: bool
    files_read: int
    files_written: int
    lines_printed: int
    error: str

    def as_row(self) -> dict[str, Any]:
        return {
            "import": self.module,
            "imports cleanly": self.imported,
            "files read": self.files_read,
            "files written": self.files_written,
            "lines printed": self.lines_printed,
            "error": self.error or "-",
        }


_AUDIT = """\
import io, json, os, sys
events = {"read": set(), "write": set()}
here = os.getcwd()
def hook(event, args):
    if event == "open" and isinstance(args[0], (str, os.PathLike)):
        path = os.path.abspath(os.fspath(args[0]))
        mode = args[1] or "r"
        code = path.endswith((".py", ".pyc")) or "__pycache__" in path
        if path.startswith(here) and not code:
            events["write" if any(c in mode for c in "wax+") else "read"].add(path)
sys.addaudithook(hook)
out, real = io.StringIO(), sys.stdout
sys.stdout = out
error = ""
try:
    __import__(sys.argv[1])
except BaseException as exc:
    error = type(exc).__name__
sys.stdout = real
print(json.dumps({"read": len(events["read"]), "write": len(events["write"]),
                  "printed": len(out.getvalue().splitlines()), "error": error}))
"""


def import_side_effects(repo: ScratchRepo, module: str, *, src: str = ".") -> SideEffects:
    """Imports ``module`` in a fresh Python started in the repository (``src`` on the path)
    and counts the files it opened there for reading and for writing, and the lines it
    printed. A test that imports the module pays all of it."""

    step = repo.run(sys.executable, "-c", _AUDIT, module, env={"PYTHONPATH": str(repo.file(src))})
    found = json.loads(step.output.splitlines()[-1])
    return SideEffects(
        module, not found["error"], found["read"], found["write"], found["printed"], found["error"]
    )


@dataclass(frozen=True)
class PytestSummary:
    """What ``pytest`` said: counts from its summary line, and the first problem it listed."""

    passed: int
    failed: int
    errors: int
    first_problem: str

    def __str__(self) -> str:
        counts = f"passed: {self.passed}, failed: {self.failed}, errors: {self.errors}"
        return counts + (f"\n  first problem: {self.first_problem}" if self.first_problem else "")


def pytest_summary(repo: ScratchRepo) -> PytestSummary:
    """Runs the repository's tests with ``pytest`` in a fresh interpreter, as CI would
    (third-party plugins off, no cache folder); returns the counts, never the timings."""

    step = repo.run(
        sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--color=no",
        ok=(0, 1, 2, 5), env={"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", **_PLAIN},
    )  # fmt: skip
    output = _ANSI.sub("", step.output).strip()
    summary = output.splitlines()[-1] if output else ""
    count = {
        kind: int(n.group(1)) if (n := re.search(rf"(\d+) {kind}", summary)) else 0
        for kind in ("passed", "failed", "error")
    }
    problems = re.findall(r"^(?:ERROR|FAILED) (.+)$", output, re.MULTILINE)
    return PytestSummary(
        count["passed"], count["failed"], count["error"], problems[0] if problems else ""
    )


@dataclass(frozen=True)
class LintReport:
    """What ``lint-imports`` said: contracts kept and broken, and the illegal imports."""

    kept: int
    broken: int
    illegal: tuple[str, ...]
    output: str

    @property
    def passed(self) -> bool:
        return self.broken == 0 and self.kept > 0

    @property
    def explanation(self) -> str:
        """lint-imports's own account of each broken contract (empty when none is broken)."""
        _, found, rest = self.output.partition("Broken contracts")
        return rest.strip().lstrip("-").strip() if found else ""

    def __str__(self) -> str:
        verdict = "PASS" if self.passed else "FAIL"
        lines = [f"{verdict}: {self.kept} kept, {self.broken} broken"]
        return "\n".join(lines + [f"  illegal: {chain}" for chain in self.illegal])


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_PLAIN = {
    "NO_COLOR": "1",
    "FORCE_COLOR": "",
    "CLICOLOR_FORCE": "",
    "PY_COLORS": "0",
    "TERM": "dumb",
}
"""A kernel asks tools for colours (``FORCE_COLOR``); the lab wants plain text to parse."""

_CHAIN = re.compile(r"^-\s+(\S+ -> \S+)", re.MULTILINE)


def lint_imports(repo: ScratchRepo) -> LintReport:
    """Runs ``lint-imports`` in the repository (``src`` on the path, no cache folder)."""
    env = {"PYTHONPATH": str(repo.file("src")), **_PLAIN}
    output = _ANSI.sub("", repo.run("lint-imports", "--no-cache", ok=(0, 1), env=env).output)
    counts = re.search(r"Contracts: (\d+) kept, (\d+) broken", output)
    if counts is None:
        tail = " | ".join(output.splitlines()[-3:])
        raise StructureLabError(f"lint-imports could not check the contracts: {tail}")
    illegal = tuple(dict.fromkeys(_CHAIN.findall(output)))
    return LintReport(int(counts[1]), int(counts[2]), illegal, output)


@dataclass(frozen=True)
class Tangle:
    """An illegal import: ``module`` (a file under the package) starts importing ``imports``."""

    name: str
    module: str
    imports: str

    def apply(self, repo: ScratchRepo) -> None:
        path = f"src/{SCRATCH_PACKAGE}/{self.module}"
        text = repo.read(path)
        repo.write(path, f"from {SCRATCH_PACKAGE}.{self.imports} import *  # noqa: F403\n" + text)


VISIBLE_TANGLES = (
    Tangle("retrieval imports the app", "retrieval/search.py", "app"),
    Tangle("the app imports evaluation", "app/answering.py", "evaluation"),
)
"""The tangles the lesson shows; the checker of exercise 3.2.3 keeps others for itself."""


@dataclass(frozen=True)
class ContractTrial:
    """One run of the learner's contracts: on the clean package or on a tangled copy."""

    variant: str
    should_pass: bool
    passed: bool | None
    detail: str

    @property
    def right(self) -> bool:
        return self.passed is self.should_pass


def try_contracts(
    contracts: str, tangles: tuple[Tangle, ...] = VISIBLE_TANGLES, *, root: Path | None = None
) -> list[ContractTrial]:
    """Writes ``contracts`` (the ``[tool.importlinter]`` TOML) into fresh copies of the
    package, one clean and one per tangle, and runs ``lint-imports`` in each.

    Raises:
        StructureLabError: ``contracts`` is not text naming a ``[tool.importlinter]`` table.
    """
    if not isinstance(contracts, str) or "[tool.importlinter]" not in contracts:
        raise StructureLabError(
            "contracts must be a string of TOML that starts a [tool.importlinter] table with "
            "root_package and at least one [[tool.importlinter.contracts]] entry."
        )
    from course_lib.workdir import work_path

    base = root or work_path("lesson_3_2", "contracts")
    variants = list(enumerate((None, *tangles)))
    with ThreadPoolExecutor(max_workers=2) as pool:  # two cores: two lint-imports at a time
        return list(pool.map(lambda v: _trial(contracts, base / f"variant-{v[0]}", v[1]), variants))


def _trial(contracts: str, folder: Path, tangle: Tangle | None) -> ContractTrial:
    """``lint-imports`` with ``contracts`` on one fresh copy of the package."""
    files_ = package_files(contracts=False, infra=False)
    files_["pyproject.toml"] += "\n" + contracts
    repo = ScratchRepo.create(folder, files=files_)
    if tangle is not None:
        tangle.apply(repo)
    name = "the clean package" if tangle is None else tangle.name
    try:
        report = lint_imports(repo)
    except StructureLabError as exc:
        return ContractTrial(name, tangle is None, None, str(exc))
    return ContractTrial(
        name, tangle is None, report.passed, f"{report.kept} kept, {report.broken} broken"
    )


def contract_names(pyproject: Path) -> list[str]:
    """The names of the import contracts in a ``pyproject.toml``."""

    data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    contracts = data.get("tool", {}).get("importlinter", {}).get("contracts", [])
    return [str(c.get("name", "")) for c in contracts]


def course_structure() -> dict[str, Any] | None:
    """Where the course keeps what this lesson builds, or ``None`` for an installed package."""
    root = course_repository()
    if root is None:
        return None

    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    classroom = ("course", "labs", "standin", "datasets")
    return {
        "contracts": contract_names(root / "pyproject.toml"),
        "course script": project["project"]["scripts"].get("course"),
        "classroom packages": [p for p in classroom if (root / "course_lib" / p).is_dir()],
        "production examples": [
            p
            for p in ("assistant", "rag", "llm", "evaluation")
            if (root / "course_lib" / p).is_dir()
        ],
        "architecture tests": (root / "tests" / "test_architecture.py").is_file(),
        "contracts kept": _course_contracts_kept(root),
    }


def _course_contracts_kept(root: Path) -> bool:
    """Whether ``lint-imports`` (no cache folder, so nothing is written) keeps every contract of
    the course's own ``pyproject.toml``."""
    tool = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or "lint-imports"
    env = {**os.environ, **_PLAIN}
    done = subprocess.run(
        [tool, "--no-cache"], cwd=root, env=env, capture_output=True, text=True, check=False
    )
    return done.returncode == 0 and ", 0 broken" in done.stdout


def checkout_without_data(repo: ScratchRepo, folder: Path) -> ScratchRepo:
    """What a colleague or CI checks out of ``repo`` at ``folder``: the committed files, and
    none of the git-ignored ones (no ``data/``)."""
    checkout = ScratchRepo.create(folder)
    checkout.git("pull", "-q", str(repo.path), "main")
    return checkout
