"""The course work directory: the one place lessons write to.

Indexes, databases, caches, throwaway git repositories and artifacts all go under it, never
into the repository, so a learner can always start over with ``course reset``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from course_lib.errors import WorkDirError
from course_lib.settings import CourseSettings, get_settings

__all__ = ["MARKER_FILE", "ensure_work_dir", "reset_work_dir", "work_path"]

# Written into the directory on creation; reset refuses to empty a folder without it, so a
# mistyped COURSE_WORK_DIR can never wipe a home directory or a repository.
MARKER_FILE = ".course-work-dir"


def ensure_work_dir(settings: CourseSettings | None = None) -> Path:
    """Returns the work directory, creating it (and its marker) when missing."""
    root = (settings or get_settings()).work_dir
    try:
        root.mkdir(parents=True, exist_ok=True)
        marker = root / MARKER_FILE
        if not marker.exists():
            _refuse_foreign_directory(root)
            marker.write_text("Created by the Production AI Engineering course.\n")
    except WorkDirError:
        raise  # already says what to do; an OSError subclass, so it must not be wrapped
    except OSError as exc:
        raise WorkDirError(
            f"Cannot use {str(root)!r} as the course work directory ({exc.strerror or exc}); "
            "set COURSE_WORK_DIR to a writable folder."
        ) from exc
    return root


def work_path(*parts: str, settings: CourseSettings | None = None) -> Path:
    """Returns a path inside the work directory, creating its parent folders.

    >>> work_path("indexes", "handbook.sqlite").name
    'handbook.sqlite'
    """
    root = ensure_work_dir(settings)
    path = root.joinpath(*parts).resolve()
    if root.resolve() not in (path, *path.parents):
        raise WorkDirError(
            f"{'/'.join(parts)!r} points outside the course work directory {str(root)!r}; "
            "use a relative path without '..'."
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def reset_work_dir(settings: CourseSettings | None = None) -> int:
    """Empties the work directory and returns how many top-level entries it removed."""
    root = (settings or get_settings()).work_dir
    if not root.exists():
        return 0
    if not (root / MARKER_FILE).exists():
        _refuse_foreign_directory(root)
    removed = 0
    for entry in sorted(root.iterdir()):
        if entry.name == MARKER_FILE:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
        removed += 1
    return removed


def _refuse_foreign_directory(root: Path) -> None:
    """Raises unless ``root`` is empty: a folder with content we did not create is not ours."""
    resolved = root.resolve()
    if resolved in (Path.home().resolve(), Path(resolved.anchor)) or (root / ".git").exists():
        raise WorkDirError(
            f"Refusing to use {str(root)!r} as the course work directory: it is a home, root "
            "or repository folder. Set COURSE_WORK_DIR to a folder of its own."
        )
    if any(root.iterdir()):
        raise WorkDirError(
            f"Refusing to use {str(root)!r} as the course work directory: it already holds "
            f"files the course did not create (no {MARKER_FILE} marker). Set COURSE_WORK_DIR "
            "to an empty or new folder."
        )
