"""The prompt lock file: the content hash of every released prompt version.

A version, once released, never changes: answers and traces stamped ``handbook-answer@v2``
must mean the same text next month. The lock file records each version's hash; the registry
refuses to serve a released version whose file no longer matches, and the test suite fails
on it, so a changed prompt has to become a new version.

Release new versions (and check the lock) from the command line::

    course prompts lock --write     # record versions not yet in the lock
    course prompts lock --check     # exit 1 if any file differs from the lock

Writing only adds: it refuses to rewrite the hash of a released version unless forced (for a
version no one has used yet).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from course_lib.errors import PromptFileError, PromptIntegrityError
from course_lib.prompts._files import atomic_write, version_files
from course_lib.prompts.versions import content_sha256

__all__ = [
    "LOCK_FILE",
    "LockProblem",
    "check_lock",
    "compute_hashes",
    "read_lock",
    "verify_lock",
    "write_lock",
]

LOCK_FILE = "prompts.lock.json"
_WRITE_COMMAND = "course prompts lock --write"

Hashes = dict[str, dict[str, str]]  # prompt name -> "vN" -> sha256


@dataclass(frozen=True)
class LockProblem:
    """One difference between the library and its lock file.

    ``kind`` is ``"changed"`` (a released file was edited), ``"missing"`` (a released file was
    deleted) or ``"unreleased"`` (a version file the lock does not list yet).
    """

    kind: str
    name: str
    version: str

    def __str__(self) -> str:
        ref = f"{self.name}@{self.version}"
        if self.kind == "changed":
            return (
                f"{ref} changed after release; restore its file and put the change in a new "
                "version file instead"
            )
        if self.kind == "missing":
            return f"{ref} is released but its file is gone; restore it from version control"
        return f"{ref} is not released yet; run {_WRITE_COMMAND}"


def compute_hashes(root: Path) -> Hashes:
    """The hash of every version file under ``root``, as the lock file stores them."""
    return {
        name: {
            f"v{n}": content_sha256(path.read_text(encoding="utf-8")) for n, path in files.items()
        }
        for name, files in version_files(Path(root)).items()
    }


def read_lock(root: Path) -> Hashes | None:
    """The hashes the lock file of ``root`` records, or None when there is no lock file."""
    path = Path(root) / LOCK_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except json.JSONDecodeError as exc:
        raise PromptFileError(
            f"{path} is not valid JSON ({exc.msg}, line {exc.lineno}); regenerate it with "
            f"{_WRITE_COMMAND} --force after checking no released prompt changed."
        ) from None
    prompts = data.get("prompts") if isinstance(data, dict) else None
    if not isinstance(prompts, dict):
        raise PromptFileError(
            f"{path} has no 'prompts' mapping; regenerate it with {_WRITE_COMMAND}."
        )
    return {
        str(name): {str(v): str(h) for v, h in versions.items()}
        for name, versions in prompts.items()
    }


def check_lock(root: Path) -> list[LockProblem]:
    """Every difference between the version files under ``root`` and its lock file."""
    current = compute_hashes(Path(root))
    locked = read_lock(Path(root)) or {}
    problems = []
    for name in sorted(current.keys() | locked.keys()):
        now, then = current.get(name, {}), locked.get(name, {})
        for version in sorted(now.keys() | then.keys(), key=lambda v: int(v[1:])):
            if version not in then:
                problems.append(LockProblem("unreleased", name, version))
            elif version not in now:
                problems.append(LockProblem("missing", name, version))
            elif now[version] != then[version]:
                problems.append(LockProblem("changed", name, version))
    return problems


def verify_lock(root: Path, *, allow_unreleased: bool = True) -> None:
    """Raises PromptIntegrityError when a released version changed or disappeared.

    Args:
        allow_unreleased: accept version files the lock does not list yet (drafts); CI
            passes False so that nothing reaches the main branch unreleased.
    """
    problems = [p for p in check_lock(root) if not (allow_unreleased and p.kind == "unreleased")]
    if problems:
        raise PromptIntegrityError(
            f"The prompt library {str(root)!r} does not match {LOCK_FILE}: "
            + "; ".join(map(str, problems))
            + "."
        )


def write_lock(root: Path, *, force: bool = False) -> list[LockProblem]:
    """Records every version not yet in the lock; returns the differences it resolved.

    Raises:
        PromptIntegrityError: a released version changed or disappeared and ``force`` is
            False. ``force`` rewrites those hashes: only for a version no one has used yet.
    """
    root = Path(root)
    problems = check_lock(root)
    refused = [p for p in problems if p.kind != "unreleased"]
    if refused and not force:
        raise PromptIntegrityError(
            "Refusing to rewrite the lock: "
            + "; ".join(map(str, refused))
            + ". Released versions are immutable (use --force only if nobody has used them)."
        )
    document = {
        "generated_by": f"{_WRITE_COMMAND} (do not edit by hand)",
        "hash": "sha256 of each version file's text with LF line endings",
        "prompts": compute_hashes(root),
    }
    text = json.dumps(document, indent=2, sort_keys=False) + "\n"
    atomic_write(root / LOCK_FILE, text)
    return [p for p in problems if p.kind == "unreleased" or force]
