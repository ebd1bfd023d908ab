"""The command line of the prompt lock: ``python -m course_lib.prompts.lock``.

    python -m course_lib.prompts.lock --check     # the default; exit 1 if the lock is stale
    python -m course_lib.prompts.lock --write     # release new versions (record their hashes)
    python -m course_lib.prompts.lock --write --force   # also re-hash changed versions

Exit codes: 0 the lock matches (or was written), 1 a difference or a refused write.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from course_lib.errors import PromptFileError, PromptIntegrityError
from course_lib.prompts.lockfile import LOCK_FILE, check_lock, compute_hashes, write_lock
from course_lib.prompts.registry import BUNDLED_LIBRARY

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """The command line: ``--check`` (the default) or ``--write``; exit 0 ok, 1 problems."""
    parser = argparse.ArgumentParser(
        prog="python -m course_lib.prompts.lock",
        description="Check or update the content hashes of released prompt versions.",
    )
    action = parser.add_mutually_exclusive_group()
    action.add_argument(
        "--check", action="store_true", help="Exit 1 if the lock is not up to date (default)."
    )
    action.add_argument(
        "--write", action="store_true", help="Record new versions in the lock file."
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="With --write: also rewrite hashes of changed versions.",
    )
    parser.add_argument(
        "--root",
        type=Path,
        default=BUNDLED_LIBRARY,
        help="The prompt library folder [default: the bundled one].",
    )
    args = parser.parse_args(argv)
    try:
        if args.write:
            written = write_lock(args.root, force=args.force)
            verbs = {"unreleased": "released", "changed": "re-hashed", "missing": "dropped"}
            for problem in written:
                print(f"{verbs[problem.kind]} {problem.name}@{problem.version}")
            print(f"{LOCK_FILE} is up to date ({len(written)} change(s)).")
            return 0
        problems = check_lock(args.root)
    except (PromptIntegrityError, PromptFileError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if problems:
        return 1
    count = sum(len(v) for v in compute_hashes(args.root).values())
    print(f"{LOCK_FILE} matches all {count} prompt version(s).")
    return 0


if __name__ == "__main__":  # pragma: no cover - exercised through main()
    sys.exit(main())
