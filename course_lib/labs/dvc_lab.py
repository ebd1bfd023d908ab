"""Lesson 2.6's real tool: DVC, driven through its command line in a throwaway repository.

:class:`DvcRepo` makes a folder with a git repository tracked by DVC, a local DVC remote (a
plain folder standing in for S3 or GCS), and a private state folder, all inside the course
work directory, then runs ``git`` and ``dvc`` as a learner would type them. Every command is
recorded (with its folder paths shortened) and timed.

DVC runs in a separate process that stays up between commands: each ``dvc ...`` line is
handed to DVC's command-line entry point (``dvc.cli.main``, as DVC's own test-suite calls it),
which saves the second of start-up each fresh ``dvc`` process costs. git runs as a new process
per command, as usual.

Nothing leaves the machine and nothing outside the folder is read or written: DVC's analytics
are off (``DVC_NO_ANALYTICS=1``), its global, system and site-cache folders point into the
state folder, git ignores the user's and the system's configuration, and every commit has a
fixed author and date, so the same commands give the same commits on every run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from course_lib.errors import CourseLibError, OptionalDependencyError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["COMMIT_EPOCH", "DvcCommandError", "DvcRepo", "DvcStep", "file_md5"]

COMMIT_EPOCH = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.timezone.utc)
"""The date of the first commit; each later commit is one hour after the previous."""


class DvcCommandError(CourseLibError, RuntimeError):
    """A git or dvc command of the walkthrough failed; the message quotes its error output."""


@dataclass(frozen=True)
class DvcStep:
    """One command: as typed (paths shortened), how long it took, what it printed."""

    command: str
    seconds: float
    output: str


def file_md5(path: str | os.PathLike[str]) -> str:
    """The MD5 of a file's bytes: what DVC 3 records as a file's ``md5``."""
    return hashlib.md5(Path(path).read_bytes()).hexdigest()


# The DVC session: reads one JSON argv per line, runs DVC's CLI on it with file descriptors 1
# and 2 sent to a file, and answers {"rc": ..., "out": ...} on the protocol channel.
_SESSION = """
import json, os, sys
channel = os.fdopen(os.dup(1), "w")
log_path = sys.argv[1]
from dvc.cli import main
for line in sys.stdin:
    argv = json.loads(line)
    saved = os.dup(1), os.dup(2)
    with open(log_path, "w") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            rc = main(argv)
        except BaseException as exc:
            rc = 255
            print(type(exc).__name__, exc)
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
    for fd in saved:
        os.close(fd)
    with open(log_path) as log:
        out = log.read()
    channel.write(json.dumps({"rc": rc, "out": out}) + "\\n")
    channel.flush()
"""


class DvcRepo:
    """A git + DVC repository under ``root/repo``, with its remote at ``root/remote``.

    Call :meth:`close` (or use it as a context manager) to stop its DVC process.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.path = self.root / "repo"
        self.remote = self.root / "remote"
        self.state = self.root / "state"
        self.steps: list[DvcStep] = []
        self._commits = 0
        self._session: subprocess.Popen[str] | None = None

    def __enter__(self) -> DvcRepo:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stops the DVC process (the repository stays)."""
        if self._session is not None:
            if self._session.stdin is not None:
                self._session.stdin.close()
            self._session.wait(timeout=30)
            self._session = None

    @classmethod
    def create(cls, root: str | os.PathLike[str]) -> DvcRepo:
        """A fresh repository (whatever was at ``root`` is removed): ``git init``,
        ``dvc init`` and ``dvc remote add -d``."""
        _require_tools()
        repo = cls(root)
        if repo.root.exists():  # a folder of the work directory, made by an earlier run
            shutil.rmtree(repo.root)
        for folder in (repo.path, repo.remote, repo.state):
            folder.mkdir(parents=True)
        repo.git("init", "-q", "-b", "main")
        repo.dvc("init", "-q")
        # A relative URL keeps the committed config (and so the commit ids) the same wherever
        # the work directory is.
        repo.dvc("remote", "add", "-d", "storage", os.path.relpath(repo.remote, repo.path))
        return repo

    def git(self, *args: str) -> str:
        """Runs ``git <args>`` in the repository and returns what it printed."""
        return self._run(["git", *args], "git " + " ".join(args))

    def dvc(self, *args: str) -> str:
        """Runs ``dvc <args>`` (this environment's DVC) and returns what it printed."""
        shown = self._shown("dvc " + " ".join(args))
        session = self._dvc_session()
        assert session.stdin is not None and session.stdout is not None
        started = time.perf_counter()
        session.stdin.write(json.dumps(list(args)) + "\n")
        session.stdin.flush()
        answer = session.stdout.readline()
        if not answer:
            raise DvcCommandError(f"`{shown}`: the DVC process stopped; create the repo again.")
        reply = json.loads(answer)
        output = str(reply["out"]).strip()
        if reply["rc"] != 0:
            tail = " | ".join(output.splitlines()[-3:])
            raise DvcCommandError(f"`{shown}` failed with exit code {reply['rc']}: {tail}")
        self.steps.append(DvcStep(shown, time.perf_counter() - started, output))
        return output

    def _dvc_session(self) -> subprocess.Popen[str]:
        if self._session is None:
            self._session = subprocess.Popen(
                [sys.executable, "-c", _SESSION, str(self.state / "last-command.log")],
                cwd=self.path,
                env=self._environment(None),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
        return self._session

    def _shown(self, command: str) -> str:
        return command.replace(str(self.remote), "../remote").replace(str(self.path), ".")

    def commit(self, message: str) -> str:
        """``git commit -m message`` at the next fixed date; returns the commit's short id."""
        when = COMMIT_EPOCH + dt.timedelta(hours=self._commits)
        self._commits += 1
        stamp = when.isoformat()
        self._run(
            ["git", "commit", "-q", "-m", message],
            f'git commit -m "{message}"',
            extra={"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp},
        )
        return self.git("rev-parse", "--short", "HEAD").strip()

    def pointer(self, file: str) -> dict[str, Any]:
        """The ``outs`` entry of ``<file>.dvc``: what git versions instead of the data."""
        import yaml

        data = yaml.safe_load((self.path / f"{file}.dvc").read_text(encoding="utf-8"))
        return dict(data["outs"][0])

    def cache_objects(self) -> list[Path]:
        """The files in DVC's cache (one per distinct file content ever added)."""
        return sorted(p for p in (self.path / ".dvc" / "cache").rglob("*") if p.is_file())

    def remote_objects(self) -> list[Path]:
        """The files pushed to the remote."""
        return sorted(p for p in self.remote.rglob("*") if p.is_file())

    def write_csv(self, frame: pd.DataFrame, file: str) -> Path:
        """Writes ``frame`` as a CSV in the repository (how the prototype's file is written)."""
        path = self.path / file
        frame.to_csv(path, index=False)
        return path

    def transcript(self) -> str:
        """Every command run so far, one per line, as a shell session would show them."""
        return "\n".join(f"$ {step.command}" for step in self.steps)

    def timings(self) -> pd.DataFrame:
        """Seconds per command (wall clock: they vary from run to run)."""
        import pandas as pd

        return pd.DataFrame([(s.command, s.seconds) for s in self.steps], columns=["command", "s"])

    def _environment(self, extra: dict[str, str] | None) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "DVC_NO_ANALYTICS": "1",
                "DVC_SITE_CACHE_DIR": str(self.state / "site-cache"),
                "DVC_GLOBAL_CONFIG_DIR": str(self.state / "global-config"),
                "DVC_SYSTEM_CONFIG_DIR": str(self.state / "system-config"),
                "GIT_CONFIG_GLOBAL": os.devnull,
                "GIT_CONFIG_NOSYSTEM": "1",
                "GIT_TERMINAL_PROMPT": "0",
                "GIT_AUTHOR_NAME": "Course Learner",
                "GIT_AUTHOR_EMAIL": "learner@kestrel.example",
                "GIT_COMMITTER_NAME": "Course Learner",
                "GIT_COMMITTER_EMAIL": "learner@kestrel.example",
            }
        )
        env.update(extra or {})
        return env

    def _run(self, argv: list[str], shown: str, extra: dict[str, str] | None = None) -> str:
        shown = self._shown(shown)
        started = time.perf_counter()
        try:
            done = subprocess.run(
                argv,
                cwd=self.path,
                env=self._environment(extra),
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise DvcCommandError(f"`{shown}` did not finish within 120 s.") from exc
        seconds = time.perf_counter() - started
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            raise DvcCommandError(
                f"`{shown}` failed with exit code {done.returncode}: {' | '.join(tail)}"
            )
        output = done.stdout.strip()
        self.steps.append(DvcStep(shown, seconds, output))
        return output


def _require_tools() -> None:
    """Fails with what to install when git or DVC is missing."""
    if shutil.which("git") is None:
        raise OptionalDependencyError(
            "The DVC walkthrough needs git, which is not on this machine's PATH; install git "
            "(https://git-scm.com/downloads) and restart the kernel."
        )
    if importlib.util.find_spec("dvc") is None:
        raise OptionalDependencyError(
            "The DVC walkthrough needs DVC, which is not installed in this environment; run "
            "`pip install dvc` (the course's lock file pins it) and restart the kernel."
        )
