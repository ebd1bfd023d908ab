"""Version control for AI work, measured in throwaway repositories (lesson 3.1).

The lesson commits a tutorial's Handbook Assistant project as a tutorial leaves it (data, a
``.env``, a model file, notebooks with outputs, caches), measures what that costs, and then
builds the production version. This module makes the project's files, re-runs its notebook
the way a colleague would, measures diffs and clones, and checks ``.gitignore`` rules with
``git check-ignore``. Every command runs through :class:`~course_lib.labs.ScratchRepo`, so it
is recorded and never touches the course's own repository.

Nothing here prints a secret: the project's fake key is built at run time from a seed and
only its redacted form is ever shown.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import os
import random
import shutil
import string
import struct
import time
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from course_lib.errors import CourseLibError
from course_lib.labs.scratch_repo import ScratchRepo, ScratchRepoError

__all__ = [
    "KEEP_IN",
    "KEEP_OUT",
    "MANIFEST_KEYS",
    "TUTORIAL_MODEL",
    "TUTORIAL_NOTEBOOK",
    "DiffSize",
    "IgnoreReport",
    "VersionControlLabError",
    "clone_objects_size",
    "diff_size",
    "explore_notebook",
    "ignore_report",
    "ignored_paths",
    "largest_blobs",
    "mask_value",
    "merge",
    "nbdime_diff",
    "notebook_diffs",
    "pair_script",
    "parse_manifest",
    "save_notebook",
    "sha256_bytes",
    "tag_release",
    "tutorial_project",
    "write_project_files",
]

TUTORIAL_MODEL = "models/reranker.bin"
"""Where the tutorial saves its fine-tuned re-ranker's weights."""

TUTORIAL_NOTEBOOK = "notebooks/explore.ipynb"
"""The tutorial's exploration notebook."""

KEEP_OUT: tuple[str, ...] = (
    "data/golden_dev.csv",
    "data/raw/tickets.jsonl",
    "models/reranker.bin",
    "models/embedder.safetensors",
    ".env",
    ".env.test",
    "services/api/.env.staging",
    "src/__pycache__/assistant.cpython-311.pyc",
    ".ipynb_checkpoints/explore-checkpoint.ipynb",
    ".venv/bin/python",
    "workdir/handbook-index.sqlite",
    ".pytest_cache/README.md",
)
"""Paths an AI project must keep out of git: the visible list the lesson tunes on."""

KEEP_IN: tuple[str, ...] = (
    "README.md",
    ".gitignore",
    "src/assistant.py",
    "src/retrieval/models/__init__.py",
    "src/assistant/workdir/paths.py",
    "prompts/handbook-answer.txt",
    "notebooks/explore.ipynb",
    "notebooks/explore.py",
    ".env.example",
    "tests/test_assistant.py",
    "tests/data/questions.csv",
    "data/README.md",
)
"""Paths it must keep: the visible list the lesson tunes on."""

_CHECK_FOLDER = ("lesson_3_1", "ignore-check")


class VersionControlLabError(CourseLibError, ValueError):
    """An argument the lab cannot use; the message says what to pass instead."""


def mask_value(value: str, keep: int = 4) -> str:
    """``value`` with all but its first ``keep`` characters replaced: safe to print."""
    return value[:keep] + "*" * max(len(value) - keep, 0)


def _fake_key(seed: int) -> str:
    # Built from a seed at run time so no key-shaped string sits in any source file.
    rng = random.Random(seed)
    alphabet = string.ascii_lowercase + string.digits
    return "sk-" + "".join(rng.choice(alphabet) for _ in range(40))


def _golden_csv() -> bytes:
    from course_lib.datasets import load_golden_set

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["id", "question", "answer"])
    for q in load_golden_set("dev"):
        writer.writerow([q.id, q.question, q.answer])
    return out.getvalue().encode("utf-8")


_ASSISTANT = '''"""The Handbook Assistant: retrieve handbook passages, then answer from them."""

CHUNK_SIZE = 384


def answer(question: str) -> str:
    raise NotImplementedError
'''

_PROMPT = (
    "Answer the employee's question from the handbook passages below.\n"
    "Cite the passages you used as [doc-id]. If they do not answer it, say you do not know.\n"
)


def tutorial_project(*, model_bytes: int = 2_000_000, seed: int = 0) -> dict[str, bytes]:
    """The files of the tutorial's project, as ``git add .`` would find them.

    ``model_bytes`` of seeded random bytes stand in for the re-ranker's weights (weights are
    close to random to a compressor); ``seed`` fixes them and the fake key in ``.env``.
    """
    if model_bytes < 1:
        raise VersionControlLabError(f"model_bytes must be a positive size, got {model_bytes}.")
    rng = random.Random(seed)
    return {
        "README.md": b"# Handbook Assistant\n\nAnswers employees' questions from the handbook.\n",
        "src/assistant.py": _ASSISTANT.encode(),
        "prompts/handbook-answer.txt": _PROMPT.encode(),
        "data/golden_dev.csv": _golden_csv(),
        ".env": f"OPENAI_API_KEY={_fake_key(seed)}\n".encode(),
        TUTORIAL_MODEL: rng.randbytes(model_bytes),
        TUTORIAL_NOTEBOOK: explore_notebook(chunk_size=384, run=1).encode(),
        ".ipynb_checkpoints/explore-checkpoint.ipynb": explore_notebook(
            chunk_size=384, run=1
        ).encode(),
        "src/__pycache__/assistant.cpython-311.pyc": rng.randbytes(600),
        "workdir/handbook-index.sqlite": rng.randbytes(40_000),
    }


def write_project_files(repo: ScratchRepo, files: Mapping[str, bytes | str]) -> list[str]:
    """Writes ``files`` into the repository's working tree; returns their paths, sorted."""
    for name, data in files.items():
        if isinstance(data, str):
            repo.write(name, data)
        else:
            repo.write_bytes(name, data)
    return sorted(files)


# -- the exploration notebook, as Jupyter saves it after a run ------------------------------


def _png(width: int, height: int, seed: int) -> bytes:
    """A real grayscale PNG of seeded noise, with stored (uncompressed) deflate blocks, so its
    bytes are the same under every zlib build."""
    rng = random.Random(seed)
    rows = b"".join(b"\x00" + rng.randbytes(width) for _ in range(height))
    stored = b"\x01" + struct.pack("<HH", len(rows), len(rows) ^ 0xFFFF) + rows
    data = b"\x78\x01" + stored + struct.pack(">I", zlib.adler32(rows))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


def explore_notebook(*, chunk_size: int, run: int) -> str:
    """The tutorial's notebook as Jupyter saves it after its ``run``-th execution.

    A re-run changes what a re-run changes: execution counts, a timing, the plot's bytes, the
    figures that depend on ``chunk_size``, and (from the second run on, by a colleague) the
    Python version in the metadata.
    """
    if chunk_size < 16 or run < 1:
        raise VersionControlLabError("chunk_size must be at least 16 and run at least 1.")
    rng = random.Random(run * 1000 + chunk_size)
    chunks = 96_000 // chunk_size
    recall = round(0.62 + 0.0001 * (chunk_size % 97), 3)
    png = base64.b64encode(_png(120, 80, run * 7 + chunk_size)).decode()

    def code(i: int, source: str, outputs: list[dict[str, object]]) -> dict[str, object]:
        return {
            "cell_type": "code",
            "execution_count": (run - 1) * 4 + i,
            "id": f"cell-{i}",
            "metadata": {},
            "outputs": outputs,
            "source": source.splitlines(keepends=True),
        }

    head = ["id", "question"]
    rows = [["dev-001", "How many days of leave do I get?"], ["dev-002", "Who approves travel?"]]
    html = "<table><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr>"
    html += "".join("<tr>" + "".join(f"<td>{v}</td>" for v in r) + "</tr>" for r in rows)
    html += "</table>"
    cells = [
        {
            "cell_type": "markdown",
            "id": "cell-0",
            "metadata": {},
            "source": ["# Which chunk size?\n"],
        },
        code(
            1,
            'import pandas as pd\nquestions = pd.read_csv("../data/golden_dev.csv")\n'
            "questions.head(2)",
            [
                {
                    "data": {"text/html": [html], "text/plain": ["      id  question\n"]},
                    "execution_count": (run - 1) * 4 + 1,
                    "metadata": {},
                    "output_type": "execute_result",
                }
            ],
        ),
        code(
            2,
            f"CHUNK_SIZE = {chunk_size}\nchunks = chunk_handbook(CHUNK_SIZE)\nlen(chunks)",
            [
                {
                    "data": {"text/plain": [str(chunks)]},
                    "execution_count": (run - 1) * 4 + 2,
                    "metadata": {},
                    "output_type": "execute_result",
                }
            ],
        ),
        code(
            3,
            "%time recall = evaluate(chunks, questions)\nprint(f'recall@5 {recall:.3f}')",
            [
                {
                    "name": "stdout",
                    "output_type": "stream",
                    "text": [
                        f"CPU times: user {rng.uniform(1, 3):.2f} s, sys: "
                        f"{rng.uniform(0.01, 0.2):.2f} s\n",
                        f"Wall time: {rng.uniform(1, 4):.2f} s\n",
                        f"recall@5 {recall:.3f}\n",
                    ],
                }
            ],
        ),
        code(
            4,
            "plot_recall_by_section(chunks, questions)",
            [
                {
                    "data": {
                        "image/png": png,
                        "text/plain": ["<Figure size 640x480 with 1 Axes>"],
                    },
                    "metadata": {},
                    "output_type": "display_data",
                }
            ],
        ),
    ]
    python = "3.11.7" if run == 1 else "3.12.4"
    notebook = {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python", "version": python},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"


# -- measuring diffs --------------------------------------------------------------------------


@dataclass(frozen=True)
class DiffSize:
    """What a reviewer reads: changed lines and their characters."""

    lines: int
    chars: int


def diff_size(diff: str) -> DiffSize:
    """The changed lines (``+``/``-``, headers excluded) of a unified or nbdime diff."""
    changed = [
        line
        for line in diff.splitlines()
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    return DiffSize(len(changed), sum(len(line) for line in changed))


def nbdime_diff(repo: ScratchRepo, path: str = TUTORIAL_NOTEBOOK) -> str:
    """What ``nbdiff HEAD -- <path>`` prints, without its header (whose last line holds the
    file's date): nbdime's cell-by-cell diff of the working tree's notebook against HEAD.

    It calls nbdime's Python API rather than the ``nbdiff`` command, which would start
    another Python and import the notebook libraries again (seconds on a small machine).
    """
    import nbdime  # type: ignore[import-untyped]
    import nbformat
    from nbdime.prettyprint import (  # type: ignore[import-untyped]
        PrettyPrintConfig,
        pretty_print_diff,
    )

    base = nbformat.reads(repo.git("show", f"HEAD:{path}"), as_version=4)
    remote = nbformat.reads(repo.read(path), as_version=4)
    out = io.StringIO()
    config = PrettyPrintConfig(out=out, use_color=False, use_git=False)
    pretty_print_diff(base, nbdime.diff_notebooks(base, remote), "", config)
    return out.getvalue()


def notebook_diffs(repo: ScratchRepo, path: str = TUTORIAL_NOTEBOOK) -> dict[str, DiffSize]:
    """The working tree's change to notebook ``path`` against HEAD, as ``git diff`` shows it
    and as nbdime's ``nbdiff`` shows it."""
    return {
        "git diff": diff_size(repo.git("diff", "--no-textconv", "--", path)),
        "nbdiff": diff_size(nbdime_diff(repo, path)),
    }


def save_notebook(repo: ScratchRepo, path: str, text: str) -> Path:
    """Saves a notebook as Jupyter would, dated a few seconds ago.

    A file modified in the same second as git's index is "racily clean": git re-reads it on
    every later command, and with a clean filter installed (nbstripout) that means starting
    the filter each time. A real save is seconds older than the next command; so is this one,
    and its time differs from the previous save's, so git sees the change.
    """
    target = repo.file(path)
    before = int(target.stat().st_mtime) if target.exists() else None
    saved = repo.write(path, text)
    then = int(time.time()) - 5
    if then == before:
        then -= 1  # the same second and size would look unchanged to git
    os.utime(saved, (then, then))
    return saved


def pair_script(repo: ScratchRepo, notebook: str) -> str:
    """Writes the notebook's paired ``py:percent`` script beside it, as ``jupytext --sync``
    does with ``formats = "ipynb,py:percent"``, and returns the script's path.

    It calls jupytext's Python API, the library behind the command, in this process.
    """
    import jupytext

    if not notebook.endswith(".ipynb"):
        raise VersionControlLabError(f"Pair a .ipynb notebook, not {notebook!r}.")
    script = notebook[: -len(".ipynb")] + ".py"
    paired = jupytext.reads(repo.read(notebook), fmt="ipynb")
    repo.write(script, jupytext.writes(paired, fmt="py:percent"))
    return script


# -- clones ---------------------------------------------------------------------------------

_CLONE_MARKER = "course-scratch-clone"


def clone_objects_size(repo: ScratchRepo, name: str) -> int:
    """Clones ``repo`` (as a remote would serve it) beside it as ``<name>`` and returns the
    bytes of the clone's object store: what every colleague and CI run downloads."""
    if not name or any(c in name for c in "/\\") or name.startswith("."):
        raise VersionControlLabError(f"Name the clone with a plain folder name, not {name!r}.")
    target = repo.path.parent / name
    if target.exists():
        if not (target / ".git" / _CLONE_MARKER).exists():
            raise ScratchRepoError(f"Refusing to replace {name!r}: no lesson made it.")
        shutil.rmtree(target)
    repo.git("clone", "-q", "--no-local", str(repo.path), str(target))
    (target / ".git" / _CLONE_MARKER).write_text("A clone made by lesson 3.1.\n")
    objects = target / ".git" / "objects"
    return sum(p.stat().st_size for p in objects.rglob("*") if p.is_file())


# -- branches ------------------------------------------------------------------------------


def merge(repo: ScratchRepo, branch: str, message: str) -> str:
    """Merges ``branch`` into the branch checked out with ``git merge --no-ff`` (always a merge
    commit, so the history shows the experiment as a branch), at the next hour of the
    repository's fixed clock, deletes the merged branch, and returns the merge's short id."""
    if not branch or branch.startswith("-"):
        raise VersionControlLabError(f"Name the branch to merge, not {branch!r}.")
    repo.commits += 1  # a merge is a commit: it takes the next hour of the clock
    repo.git("merge", "-q", "--no-ff", branch, "-m", message)
    repo.git("branch", "-q", "-d", branch)
    return repo.head()


# -- .gitignore rules -------------------------------------------------------------------------


@dataclass(frozen=True)
class IgnoreReport:
    """How a ``.gitignore`` sorts two lists of paths."""

    tracked_but_should_not_be: tuple[str, ...]
    ignored_but_should_not_be: tuple[str, ...]
    checked: int

    @property
    def passed(self) -> int:
        return (
            self.checked - len(self.tracked_but_should_not_be) - len(self.ignored_but_should_not_be)
        )

    @property
    def ok(self) -> bool:
        return not self.tracked_but_should_not_be and not self.ignored_but_should_not_be

    def __str__(self) -> str:
        lines = [f"{self.passed} of {self.checked} paths sorted right"]
        lines += [f"  would be committed: {p}" for p in self.tracked_but_should_not_be]
        lines += [f"  would be ignored:   {p}" for p in self.ignored_but_should_not_be]
        return "\n".join(lines)


def ignored_paths(gitignore: str, paths: Iterable[str], *, folder: Sequence[str] = ()) -> set[str]:
    """The ``paths`` that ``git check-ignore`` says ``gitignore`` ignores, in a fresh
    repository where every path exists as a file."""
    from course_lib.workdir import work_path

    if not isinstance(gitignore, str):
        raise VersionControlLabError(
            f"A .gitignore is text (a str), not {type(gitignore).__name__}."
        )
    paths = list(paths)
    repo = ScratchRepo.create(work_path(*(folder or _CHECK_FOLDER)))
    repo.write(".gitignore", gitignore)
    for path in paths:
        if path != ".gitignore":
            repo.write_bytes(path, b"")
    answer = repo.git("check-ignore", "--", *paths, ok=(0, 1))
    return set(answer.splitlines())


def ignore_report(
    gitignore: str,
    keep_out: Iterable[str] = KEEP_OUT,
    keep_in: Iterable[str] = KEEP_IN,
    *,
    folder: Sequence[str] = (),
) -> IgnoreReport:
    """Checks ``gitignore`` with ``git check-ignore``: every ``keep_out`` path must be ignored,
    no ``keep_in`` path may be."""
    keep_out, keep_in = list(keep_out), list(keep_in)
    ignored = ignored_paths(gitignore, keep_out + keep_in, folder=folder)
    return IgnoreReport(
        tracked_but_should_not_be=tuple(p for p in keep_out if p not in ignored),
        ignored_but_should_not_be=tuple(p for p in keep_in if p in ignored),
        checked=len(keep_out) + len(keep_in),
    )


# -- release manifests ------------------------------------------------------------------------

MANIFEST_KEYS = ("data_sha256", "prompt_version", "model")


def parse_manifest(message: str) -> dict[str, str]:
    """The ``key: value`` lines of a release tag's message (other lines are prose)."""
    manifest: dict[str, str] = {}
    for line in message.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() in MANIFEST_KEYS:
            manifest[key.strip()] = value.strip()
    return manifest


def sha256_bytes(data: bytes) -> str:
    """The hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


# -- the references of exercises 3.1.2 and 3.1.3 ---------------------------------------------


def largest_blobs(repo: ScratchRepo, n: int = 3) -> list[tuple[str, int]]:
    """The ``n`` largest files ever committed, on any branch or tag, deleted or not:
    ``(path, bytes)``, largest first. What every clone downloads, whatever HEAD holds."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise VersionControlLabError(f"n must be a positive whole number, got {n!r}.")
    path_of: dict[str, str] = {}
    for line in repo.git("rev-list", "--objects", "--all").splitlines():
        sha, _, path = line.partition(" ")
        if path:
            path_of.setdefault(sha, path)
    if not path_of:
        return []
    batch = repo.git(
        "cat-file",
        "--batch-check=%(objectname) %(objecttype) %(objectsize)",
        stdin="\n".join(path_of) + "\n",
    )
    sizes = [
        (path_of[sha], int(size))
        for sha, kind, size in (line.split() for line in batch.splitlines())
        if kind == "blob"
    ]
    return sorted(sizes, key=lambda item: (-item[1], item[0]))[:n]


def tag_release(
    repo: ScratchRepo,
    version: str,
    *,
    data_file: str,
    prompt_version: str,
    model: str,
) -> dict[str, str]:
    """Tags HEAD with an annotated tag ``version`` whose message pins the release: the
    SHA-256 of ``data_file``'s bytes (data lives outside git, so its hash is the pin), the
    prompt version and the model. Refuses a working tree with uncommitted changes to tracked
    files: the tag would name code that is not the code that ran. Returns the manifest."""
    dirty = repo.git("status", "--porcelain", "--untracked-files=no")
    if dirty:
        raise ValueError(
            f"Commit or stash your changes before tagging {version}: {dirty.splitlines()[0]}"
        )
    manifest = {
        "data_sha256": sha256_bytes(repo.file(data_file).read_bytes()),
        "prompt_version": prompt_version,
        "model": model,
    }
    lines = [f"Release {version}", ""] + [f"{key}: {value}" for key, value in manifest.items()]
    repo.git("tag", "-a", version, "-m", "\n".join(lines))
    return manifest
