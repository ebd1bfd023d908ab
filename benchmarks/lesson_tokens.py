"""The tokens each lesson's model calls use: what running the course costs on a real provider.

Run from the repository root (a few minutes; it executes every solution notebook once)::

    .venv/bin/python benchmarks/lesson_tokens.py            # print the totals
    .venv/bin/python benchmarks/lesson_tokens.py --write 14  # measure lesson 1.4 again
    .venv/bin/python benchmarks/lesson_tokens.py --write    # also record them, in docs/data

Each solution notebook runs as ``course build`` runs it (a fresh kernel, the deterministic
environment, a fresh work directory), with ``COURSE_USAGE_LOG`` set, so every chat call of
every client appends its role and token counts (:mod:`course_lib.llm.usage_log`). Only the
calls of clients made from the settings (``LLMClient.from_settings``) would go to a real
provider; the clients a lesson builds on the stand-in on purpose (planted faults, a local
server to time) stay local, and are counted under ``"stand-in only"``. Calls the
lessons make with the ``openai`` SDK directly, where they show the SDK itself, are not
counted, so the figures are a floor. The totals are per role, because a class on a real
provider prices each role at whatever model its registry maps it to; the instructor guide's
``tools/instructors/build.py`` does that.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "docs" / "data" / "lesson_tokens.json"
STAND_IN = "stand-in only"
COUNTS = ("calls", "input_tokens", "output_tokens", "cached_input_tokens", "reasoning_tokens")


def role_of(name: str, roles: dict[str, str]) -> str:
    """The role a call asked for; a model id asked for directly counts under its first role."""
    if name in roles:
        return name
    return next((role for role, model in sorted(roles.items()) if model == name), name)


def lesson_usage(source: Path, log: Path) -> dict[str, dict[str, int]]:
    import nbformat

    from course_lib.course.execution import execute_notebook
    from course_lib.models import get_registry

    notebook = nbformat.read(source.with_suffix(".ipynb"), as_version=4)
    log.unlink(missing_ok=True)
    os.environ["COURSE_USAGE_LOG"] = str(log)
    try:
        execute_notebook(notebook, cwd=source.parent, strict=True)
    finally:
        del os.environ["COURSE_USAGE_LOG"]
    roles = get_registry().roles
    totals: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTS, 0))
    lines = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    for line in lines:
        row = json.loads(line)
        # A client the lesson builds on the stand-in on purpose (planted faults, a local
        # server) stays there whatever the settings say: counted apart, never priced.
        role = role_of(str(row["role"]), roles) if row.get("follows_settings") else STAND_IN
        total = totals[role]
        total["calls"] += 1
        for key in COUNTS[1:]:
            total[key] += int(row.get(key) or 0)
    return dict(sorted(totals.items()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help=f"record {OUTPUT.name}")
    parser.add_argument(
        "lessons",
        nargs="*",
        help="measure only the lessons whose file name starts with one of these (e.g. 14 2); "
        "with --write, the others keep their recorded counts",
    )
    args = parser.parse_args()
    from course_lib.course.build import find_lessons

    recorded = json.loads(OUTPUT.read_text(encoding="utf-8")) if OUTPUT.exists() else {}
    lessons: dict[str, Any] = dict(recorded.get("lessons", {})) if args.lessons else {}
    chosen = [
        lesson
        for lesson in find_lessons(ROOT)
        if not args.lessons or lesson.source.stem.startswith(tuple(args.lessons))
    ]
    if not chosen:
        parser.error(f"no lesson file name starts with any of {args.lessons}")
    with tempfile.TemporaryDirectory(prefix="course-tokens-") as scratch:
        for lesson in chosen:
            usage = lesson_usage(ROOT / lesson.source, Path(scratch) / "usage.jsonl")
            lessons[lesson.source.stem] = usage
            calls = sum(c["calls"] for c in usage.values())
            print(f"{lesson.source.stem}: {calls} calls", flush=True)
    current = {lesson.source.stem for lesson in find_lessons(ROOT)}
    lessons = {name: usage for name, usage in sorted(lessons.items()) if name in current}
    roles: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTS, 0))
    for usage in lessons.values():
        for role, counts in usage.items():
            for key, value in counts.items():
                roles[role][key] += value
    missing = sorted(current - set(lessons))
    if missing:
        print(f"not measured yet: {', '.join(missing)}", file=sys.stderr)
    result = {
        "measured": date.today().isoformat(),
        "roles": dict(sorted(roles.items())),
        "lessons": lessons,
    }
    print(json.dumps(result["roles"], indent=2))
    if args.write:
        OUTPUT.parent.mkdir(parents=True, exist_ok=True)
        OUTPUT.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
