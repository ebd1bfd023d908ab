#!/usr/bin/env python
"""Fill the generated parts of the instructor guide, ``docs/instructors.md``, from the course.

An instructor plans a class from three facts that change whenever a lesson does: how long each
lesson takes, which exercises it has, and what learners get wrong in them. Typed by hand they
would drift; so this script reads them from the lessons and their tests, and writes them
between the guide's ``<!-- instructors:<part>:start -->`` / ``:end -->`` markers:

- ``lessons``: each lesson's stated time (the "**Time:** about N minutes" line, set by reading
  the lesson cold) and its exercises, the open-ended ones marked;
- ``tracks``: the three tracks below, each lesson's part in them, and their totals computed
  from those times (the script fails when a track no longer fits its day);
- ``mistakes``: for every exercise, what the checker tells a learner for each plausible wrong
  answer in ``tests/wrong_answers/`` (the answers its tests prove it rejects);
- ``cost``: what running the course's model calls against a real provider costs, from the
  tokens the lessons use (``docs/data/lesson_tokens.json``, measured by
  ``benchmarks/lesson_tokens.py``) at the prices of a model registry.

Run from the repository root with the course's environment::

    python tools/instructors/build.py            # rewrite the generated parts
    python tools/instructors/build.py --check    # exit 1 if a cheap part (lessons, tracks,
                                                 # cost, the list of exercises) is stale
    python tools/instructors/build.py --registry my-models.toml --learners 20   # a class's cost

The mistakes are found by running every wrong answer through its checker, as the test suite
does (a few minutes); ``--check`` compares only which exercises they cover.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "instructors.md"
TOKENS = ROOT / "docs" / "data" / "lesson_tokens.json"

_TIME = re.compile(r"\*\*Time:\*\*\s+about\s+(\d+)\s+minutes")
_TITLE = re.compile(r"^#\s+((?:\d+\.\d+|00)\s+.+)$", re.MULTILINE)
_TEMP_PATH = re.compile(r"(?:/private)?/(?:tmp|var/folders)/[^\s'\")]+")
_HEX = re.compile(r"\b[0-9a-f]{16,}\b")
_OPEN = re.compile(r"#{2,3}\s+(?:\d+\.\s+)?Exercise\s+([\d.]+)[^\n]*open-ended", re.IGNORECASE)


@dataclass(frozen=True)
class Track:
    """A way to run the course in a fixed time: lessons taught in class, and lessons assigned."""

    name: str
    minutes: int  # teaching time available, breaks excluded
    teach: tuple[str, ...]
    assign: tuple[str, ...]
    audience: str


# Chosen for what each audience needs first; the totals are computed from the lessons' times.
TRACKS = (
    Track(
        "Half day",
        210,
        ("00", "1.1", "1.4", "2.2"),
        ("1.2", "1.3", "2.1", "3.5"),
        "a team with a prototype, deciding what it needs before it ships",
    ),
    Track(
        "One day",
        390,
        ("00", "1.1", "1.2", "1.4", "2.1", "2.2", "2.5"),
        ("1.3", "1.5", "2.4", "3.4", "3.5", "4.2"),
        "engineers who will build and run an AI feature",
    ),
    Track(
        "Two days",
        780,
        (
            "00",
            "1.1",
            "1.2",
            "1.3",
            "1.4",
            "1.5",
            "2.1",
            "2.2",
            "2.4",
            "2.5",
            "3.4",
            "3.5",
            "4.2",
            "4.4",
        ),
        ("1.6", "1.7", "2.3", "2.6", "2.7", "3.1", "3.2", "3.3", "3.6", "3.7", "4.1", "4.3"),
        "a team that will own an AI system in production",
    ),
)


@dataclass(frozen=True)
class LessonFacts:
    number: str
    title: str
    minutes: int
    exercises: tuple[tuple[str, str, bool], ...]  # id, title, open-ended
    source: str


def lesson_facts() -> list[LessonFacts]:
    from course_lib.course.build import find_lessons
    from course_lib.course.checking import get_exercise
    from course_lib.course.lesson_source import read_lesson_source

    facts = []
    for lesson in find_lessons(ROOT):
        text = (ROOT / lesson.source).read_text(encoding="utf-8")
        markdown = "\n".join(
            line[2:] if line.startswith("# ") else line.lstrip("#") for line in text.splitlines()
        )
        title = _TITLE.search(markdown)
        time = _TIME.search(markdown)
        if title is None or time is None:
            raise SystemExit(
                f"{lesson.source}: no '# <number> <title>' heading or no '**Time:** about N "
                "minutes' line; every lesson states both in its first cell."
            )
        number, name = title.group(1).split(" ", 1)
        opened = set(_OPEN.findall(markdown))
        ids = read_lesson_source(ROOT / lesson.source).exercise_ids
        exercises = tuple((e, get_exercise(e).title, e in opened) for e in ids)
        facts.append(
            LessonFacts(number, name, int(time.group(1)), exercises, lesson.source.as_posix())
        )
    return facts


def lessons_part(facts: list[LessonFacts]) -> str:
    lines = ["| lesson | time (min) | exercises (open-ended in bold) |", "|---|---:|---|"]
    for f in facts:
        shown = ", ".join(f"**{e}**" if is_open else e for e, _, is_open in f.exercises)
        lines.append(f"| {f.number} {f.title} | {f.minutes} | {shown or '-'} |")
    total = sum(f.minutes for f in facts)
    lines.append(f"| all {len(facts)} lessons | {total} ({total / 60:.1f} h) | |")
    return "\n".join(lines)


def tracks_part(facts: list[LessonFacts]) -> str:
    by_number = {f.number: f for f in facts}
    problems, lines = [], []
    for track in TRACKS:
        unknown = [n for n in (*track.teach, *track.assign) if n not in by_number]
        if unknown:
            problems.append(f"{track.name}: no lesson {', '.join(unknown)}")
            continue
        taught = sum(by_number[n].minutes for n in track.teach)
        assigned = sum(by_number[n].minutes for n in track.assign)
        if taught > track.minutes:
            problems.append(
                f"{track.name}: the lessons taught take {taught} min, over its {track.minutes}; "
                "move one to 'assign' in TRACKS"
            )
        skipped = [f.number for f in facts if f.number not in (*track.teach, *track.assign)]
        lines += [
            f"### {track.name}: {track.minutes // 60} h {track.minutes % 60:02d} min of "
            f"teaching, for {track.audience}",
            "",
            f"- **Teach** ({taught} min, leaving {track.minutes - taught} for questions and "
            "slack): " + ", ".join(f"{n} {by_number[n].title}" for n in track.teach) + ".",
            f"- **Assign** as reading and exercises before or after ({assigned} min): "
            + ", ".join(f"{n} {by_number[n].title}" for n in track.assign)
            + ".",
            "- **Skip**: " + (", ".join(skipped) if skipped else "none") + ".",
            "",
        ]
    if problems:
        raise SystemExit("The tracks no longer fit the lessons:\n- " + "\n- ".join(problems))
    return "\n".join(lines).rstrip()


def mistakes_part(facts: list[LessonFacts]) -> str:
    sys.path.insert(0, str(ROOT / "tests"))
    from wrong_answers import collect_wrong_answers

    from course_lib.course.checking import check

    wrong = collect_wrong_answers()
    lines = []
    for f in facts:
        if not f.exercises:
            continue
        lines += [f"### {f.number} {f.title}", ""]
        for exercise_id, title, is_open in f.exercises:
            messages: list[str] = []
            for answer in wrong.get(exercise_id, []):
                with contextlib.redirect_stdout(io.StringIO()):
                    feedback = check(exercise_id, answer)
                message = _plain(feedback.message)
                if message not in messages:
                    messages.append(message)
            lines.append(f"**{exercise_id} {title}**{' (open-ended)' if is_open else ''}")
            lines.append("")
            lines += [f"- {m}" for m in messages] or ["- (no wrong answers recorded)"]
            lines.append("")
    return "\n".join(lines).rstrip()


def _plain(message: str) -> str:
    """One line, markdown-safe, short enough to scan in a table of mistakes."""
    text = " ".join(message.split()).replace("|", "\\|")
    # A checker may name a file in a temporary folder; the guide names no machine's paths.
    text = _TEMP_PATH.sub("<a temporary file>", text)
    # Digests read as secrets to a scanner, and say nothing to a reader past their start.
    text = _HEX.sub(lambda m: m.group(0)[:8] + "...", text)
    return text if len(text) <= 300 else text[:297] + "..."


def cost_part(registry_path: str | None, learners: int) -> str:
    from course_lib.errors import CourseLibError
    from course_lib.models import load_registry

    registry = load_registry(Path(registry_path)) if registry_path else load_registry()
    if not TOKENS.exists():
        raise SystemExit(
            f"{TOKENS.relative_to(ROOT)} is missing: run `python benchmarks/lesson_tokens.py "
            "--write` first."
        )
    usage = json.loads(TOKENS.read_text(encoding="utf-8"))
    lines = [
        f"Tokens the lessons' model calls use when one learner runs every lesson once "
        f"(measured {usage['measured']} by `benchmarks/lesson_tokens.py`), priced at "
        f"{'the course registry' if registry_path is None else registry_path}'s prices for "
        "the model each role maps to:",
        "",
        "| role | model | calls | input tokens | of which cached | output tokens | cost per "
        "learner (USD) |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    total = 0.0
    local = usage["roles"].get("stand-in only", {}).get("calls", 0)
    for role, row in sorted(usage["roles"].items()):
        if role == "stand-in only":
            continue
        try:
            model = registry.resolve(role)
        except CourseLibError as exc:
            raise SystemExit(f"The registry cannot price role {role!r}: {exc}") from None
        cost = model.cost(row["input_tokens"], row["output_tokens"], row["cached_input_tokens"])
        total += cost
        lines.append(
            f"| {role} | {model.id} | {row['calls']:,} | {row['input_tokens']:,} | "
            f"{row['cached_input_tokens']:,} | {row['output_tokens']:,} | {cost:.4f} |"
        )
    lines += [
        "",
        f"Another {local:,} calls go to the stand-in whatever the settings say (planted faults, "
        "a local server to time), and cost nothing.",
        "",
        f"One run of every lesson: **${total:.2f}** per learner, **${total * learners:.2f}** "
        f"for a class of {learners}. Learners rerun cells and try their own prompts: budget "
        f"three runs, **${3 * total * learners:.2f}**.",
    ]
    return "\n".join(lines)


def replace_part(text: str, name: str, body: str) -> str:
    start, end = f"<!-- instructors:{name}:start -->", f"<!-- instructors:{name}:end -->"
    if start not in text or end not in text:
        raise SystemExit(f"{GUIDE.relative_to(ROOT)} lacks the markers {start} ... {end}.")
    head, rest = text.split(start, 1)
    return f"{head}{start}\n{body}\n{end}{rest.split(end, 1)[1]}"


def part(text: str, name: str) -> str:
    start, end = f"<!-- instructors:{name}:start -->", f"<!-- instructors:{name}:end -->"
    return text.split(start, 1)[1].split(end, 1)[0].strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the guide is stale")
    parser.add_argument("--registry", help="a model registry file to price the class with")
    parser.add_argument("--learners", type=int, default=20, help="learners in the class")
    args = parser.parse_args(argv)
    if args.learners < 1:
        parser.error("--learners must be 1 or more")
    facts = lesson_facts()
    text = GUIDE.read_text(encoding="utf-8")
    if args.registry:  # an instructor's own prices: print, never rewrite the guide
        print(cost_part(args.registry, args.learners))
        return 0
    cheap = {
        "lessons": lessons_part(facts),
        "tracks": tracks_part(facts),
        "cost": cost_part(None, args.learners),
    }
    if args.check:
        stale = [name for name, body in cheap.items() if part(text, name) != body]
        covered = set(re.findall(r"^\*\*([\d.]+) ", part(text, "mistakes"), re.MULTILINE))
        expected = {e for f in facts for e, _, _ in f.exercises}
        if covered != expected:
            stale.append("mistakes")
        if stale:
            print(
                f"{GUIDE.relative_to(ROOT)} is stale ({', '.join(stale)}): run "
                "`python tools/instructors/build.py` and commit the result.",
                file=sys.stderr,
            )
            return 1
        return 0
    for name, body in {**cheap, "mistakes": mistakes_part(facts)}.items():
        text = replace_part(text, name, body)
    GUIDE.write_text(text, encoding="utf-8")
    print(f"wrote {GUIDE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
