"""Layer 3's practice ground: a throwaway git repository in the course work directory.

Every Layer 3 lesson changes a repository: it commits a notebook, tags a release, leaks a key
and rewrites history, locks dependencies. None of that may touch the course's own repository,
and a lesson's stored outputs must be the same on every machine. :class:`ScratchRepo` gives
both:

* it refuses any folder inside the course's repository, and it only ever deletes a folder it
  made itself (marked inside its ``.git``) or an empty one;
* git ignores the learner's and the system's configuration (``GIT_CONFIG_GLOBAL`` points at
  the null device, ``GIT_CONFIG_NOSYSTEM=1``), so no user hook, alias, signing key or default
  branch leaks in;
* every commit has the same author and a date on a fixed clock (one hour per commit after
  :data:`SCRATCH_EPOCH`), and every other git command runs at the clock's current time, so
  commit ids, tags and rewritten histories are identical from run to run;
* the command-line tools of this environment (``nbdime``, ``detect-secrets``,
  ``git-filter-repo``, ``actionlint``, ``uv``...) come first on ``PATH``, even in a kernel
  started without activating the environment.

Each command is recorded as a learner would type it (paths shortened), so a lesson can show
the session with :meth:`ScratchRepo.transcript`.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from course_lib.errors import CourseLibError, OptionalDependencyError

__all__ = [
    "SCRATCH_AUTHOR",
    "SCRATCH_EPOCH",
    "ScratchRepo",
    "ScratchRepoError",
    "ScratchStep",
    "course_repository",
    "require_git",
]

SCRATCH_EPOCH = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.timezone.utc)
"""The date of a scratch repository's first commit; each later commit is one hour later."""

SCRATCH_AUTHOR = ("Course Learner", "learner@kestrel.example")
"""Author and committer of every scratch commit (name, email)."""

# Written inside .git, so it is never part of the working tree; create() deletes only folders
# that carry it (or empty ones).
_MARKER = "course-scratch-repo"
_TIMEOUT_S = 120


class ScratchRepoError(CourseLibError, RuntimeError):
    """A command in a scratch repository failed, or the folder asked for is not safe to use."""


@dataclass(frozen=True)
class ScratchStep:
    """One command: as typed (paths shortened), its exit code and what it printed."""

    command: str
    returncode: int
    output: str


def course_repository() -> Path | None:
    """The root of the course's own checkout, or ``None`` for an installed package.

    Lessons point at it as the worked example; scratch repositories must never be inside it.
    """
    root = Path(__file__).resolve().parents[2]
    return root if (root / ".git").exists() and (root / "pyproject.toml").exists() else None


class ScratchRepo:
    """A git repository the lesson may change freely, at ``root``, on a fixed clock."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.path = Path(root).resolve()
        self.steps: list[ScratchStep] = []
        self.commits = 0

    @classmethod
    def create(
        cls, root: str | os.PathLike[str], *, files: Mapping[str, str] | None = None
    ) -> ScratchRepo:
        """A fresh repository at ``root`` (an earlier scratch repository there is removed).

        ``files`` are written before anything is committed (paths relative to the root).
        """
        require_git()
        repo = cls(root)
        repo._refuse_unsafe_root()
        if repo.path.exists():
            shutil.rmtree(repo.path)
        repo.path.mkdir(parents=True)
        repo.git("init", "-q", "-b", "main")
        (repo.path / ".git" / _MARKER).write_text(
            "A throwaway repository made by a Production AI Engineering lesson.\n",
            encoding="utf-8",
        )
        for key, value in (
            ("core.autocrlf", "false"),
            ("commit.gpgsign", "false"),
            ("tag.gpgsign", "false"),
        ):
            repo._run(["git", "config", key, value], record=False)
        repo.steps.clear()  # the set-up is not part of what the lesson shows
        repo.steps.append(ScratchStep("git init -b main", 0, ""))
        for name, text in (files or {}).items():
            repo.write(name, text)
        return repo

    # -- files -------------------------------------------------------------------------

    def file(self, name: str) -> Path:
        """The path of ``name`` inside the repository (refusing names that leave it)."""
        path = (self.path / name).resolve()
        if self.path not in (path, *path.parents):
            raise ScratchRepoError(
                f"{name!r} points outside the scratch repository; use a path relative to its "
                "root, without '..'."
            )
        return path

    def write(self, name: str, text: str) -> Path:
        """Writes a text file (creating its folders), as an editor would save it."""
        path = self.file(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
        return path

    def write_bytes(self, name: str, data: bytes) -> Path:
        """Writes a binary file: a model's weights, an image, a database."""
        path = self.file(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return path

    def read(self, name: str) -> str:
        """The text of a file in the working tree."""
        path = self.file(name)
        if not path.is_file():
            raise ScratchRepoError(f"There is no file {name!r} in the scratch repository.")
        return path.read_text(encoding="utf-8")

    def files(self) -> list[str]:
        """The files git tracks, as ``git ls-files`` lists them."""
        return self.git("ls-files").splitlines()

    def size(self, folder: str = ".git") -> int:
        """Bytes under ``folder`` of the repository (by default, everything git stores)."""
        root = self.file(folder)
        return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())

    # -- commands ----------------------------------------------------------------------

    @property
    def now(self) -> dt.datetime:
        """The clock: the date of the last commit (the epoch before the first)."""
        return SCRATCH_EPOCH + dt.timedelta(hours=max(self.commits - 1, 0))

    def git(self, *args: str, ok: Iterable[int] = (0,), stdin: str | None = None) -> str:
        """Runs ``git <args>`` in the repository and returns what it printed.

        ``ok`` lists the exit codes that are answers rather than failures (``git
        check-ignore`` answers 1 for "not ignored").
        """
        return self.run("git", *args, ok=ok, stdin=stdin).output

    def run(
        self,
        *argv: str,
        ok: Iterable[int] = (0,),
        stdin: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> ScratchStep:
        """Runs a command in the repository, this environment's tools first on ``PATH``.

        Returns the step (exit code and output, stdout then stderr); an exit code not in
        ``ok`` raises :class:`ScratchRepoError` quoting the command's last lines.
        """
        return self._run(list(argv), ok=tuple(ok), stdin=stdin, extra=env)

    def commit(self, message: str, *paths: str, add_all: bool = False) -> str:
        """Stages ``paths`` (or everything, with ``add_all``), commits at the next hour of
        the clock, and returns the commit's short id."""
        if add_all:
            self.git("add", "-A")
        elif paths:
            self.git("add", "--", *paths)
        self.commits += 1
        self.git("commit", "-q", "-m", message)
        return self.head()

    def head(self) -> str:
        """The short id of the commit checked out (not recorded in the transcript)."""
        return self._run(["git", "rev-parse", "--short", "HEAD"], record=False).output.strip()

    def log(self, *args: str) -> str:
        """``git log --oneline`` (plus ``args``): the story the commits tell."""
        return self.git("log", "--oneline", *args)

    def transcript(self, *, last: int | None = None, outputs: bool = False) -> str:
        """The commands run so far (the ``last`` few), one per line as a shell would show
        them, each followed by its output when ``outputs`` is true."""
        steps = self.steps if last is None else self.steps[-last:]
        lines: list[str] = []
        for step in steps:
            lines.append(f"$ {step.command}")
            if outputs and step.output:
                lines.append(step.output)
        return "\n".join(lines)

    def environment(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """The environment every command runs with: isolated git, fixed author and clock."""
        env = dict(os.environ)
        stamp = self.now.isoformat()
        tools = str(Path(sys.executable).parent)
        env.update(
            {
                "PATH": os.pathsep.join([tools, env.get("PATH", "")]),
                "GIT_CONFIG_GLOBAL": os.devnull,
                "GIT_CONFIG_NOSYSTEM": "1",
                "GIT_TERMINAL_PROMPT": "0",
                "GIT_AUTHOR_NAME": SCRATCH_AUTHOR[0],
                "GIT_AUTHOR_EMAIL": SCRATCH_AUTHOR[1],
                "GIT_COMMITTER_NAME": SCRATCH_AUTHOR[0],
                "GIT_COMMITTER_EMAIL": SCRATCH_AUTHOR[1],
                "GIT_AUTHOR_DATE": stamp,
                "GIT_COMMITTER_DATE": stamp,
                "LC_ALL": "C",
                "TZ": "UTC",
                # Plain text on every Python: 3.13 colours tracebacks under some kernels.
                "NO_COLOR": "1",
                "PYTHON_COLORS": "0",
            }
        )
        for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
            env.pop(name, None)  # a hook's variables would point git at another repository
        env.update(extra or {})
        return env

    def shorten(self, text: str) -> str:
        """``text`` with this repository's path (and its parent's) shown relative to it."""
        return text.replace(str(self.path), ".").replace(str(self.path.parent), "..")

    def _run(
        self,
        argv: list[str],
        *,
        ok: Sequence[int] = (0,),
        stdin: str | None = None,
        extra: Mapping[str, str] | None = None,
        record: bool = True,
    ) -> ScratchStep:
        shown = self.shorten(" ".join(_quote(a) for a in argv))
        env = self.environment(extra)
        program = shutil.which(argv[0], path=env["PATH"])
        if program is None:
            raise OptionalDependencyError(
                f"`{argv[0]}` is not installed in this environment; run `./run setup` (the "
                "course's lock file pins it) and restart the kernel."
            )
        try:
            done = subprocess.run(
                [program, *argv[1:]],
                cwd=self.path,
                env=env,
                input=stdin,
                capture_output=True,
                text=True,
                encoding="utf-8",
                errors="replace",
                timeout=_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise ScratchRepoError(f"`{shown}` did not finish within {_TIMEOUT_S} s.") from exc
        output = self.shorten("\n".join(p for p in (done.stdout, done.stderr) if p).rstrip())
        step = ScratchStep(shown, done.returncode, output)
        if done.returncode not in ok:
            tail = " | ".join(output.splitlines()[-3:]) or "no output"
            raise ScratchRepoError(f"`{shown}` failed with exit code {done.returncode}: {tail}")
        if record:
            self.steps.append(step)
        return step

    def _refuse_unsafe_root(self) -> None:
        course = course_repository()
        if course is not None and course in (self.path, *self.path.parents):
            raise ScratchRepoError(
                f"Refusing to make a scratch repository inside the course's own repository "
                f"({self.path}); use a folder of the course work directory, e.g. "
                "work_path('lesson_3_1', 'repo')."
            )
        if not self.path.exists():
            return
        if not self.path.is_dir():
            raise ScratchRepoError(f"{self.path} is a file; choose a folder for the repository.")
        if (self.path / ".git" / _MARKER).exists() or not any(self.path.iterdir()):
            return
        raise ScratchRepoError(
            f"Refusing to replace {self.path}: it holds files that no lesson made. Choose an "
            "empty folder, or a new one, in the course work directory."
        )


def require_git() -> None:
    """Fails with what to install when git is missing."""
    if shutil.which("git") is None:
        raise OptionalDependencyError(
            "Layer 3's lessons need git, which is not on this machine's PATH; install git "
            "(https://git-scm.com/downloads) and restart the kernel."
        )


def _quote(arg: str) -> str:
    """An argument as a shell user would type it (quoted when it holds spaces or quotes)."""
    if arg and all(c.isalnum() or c in "-_./=:@,+%^~{}*" for c in arg):
        return arg
    return '"' + arg.replace('"', '\\"') + '"'
