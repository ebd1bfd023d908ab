"""The ``course`` command line: ``doctor``, ``build``, ``reset``, ``serve-model``, and the
maintainers' checks ``data baselines`` and ``prompts lock``.

Exit codes: 0 all good; 1 a check found a problem (a failing doctor check, a stale notebook,
a failed build); 2 a usage error. Errors print as one ``error:`` line on stderr.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from course_lib.errors import CourseLibError

__all__ = ["app", "main"]

app = typer.Typer(
    name="course",
    help="Production AI Engineering: set up, check and build the course.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


data_app = typer.Typer(help="The bundled datasets: tables derived from them.", no_args_is_help=True)
prompts_app = typer.Typer(
    help="The bundled prompt library: the lock of released versions.", no_args_is_help=True
)
app.add_typer(data_app, name="data")
app.add_typer(prompts_app, name="prompts")


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _one_action(check: bool, write: bool) -> None:
    if check and write:
        raise _fail("use --check or --write, not both.", 2)


@app.command()
def doctor(
    kernel: Annotated[
        bool,
        typer.Option(
            help="Start the notebooks' Jupyter kernel to check it (takes a second or two)."
        ),
    ] = True,
) -> None:
    """Check this machine is ready: Python, packages, kernel, work directory, SQLite, model.

    Prints one line per check, with the fix for any that fail, and exits 1 if one fails.
    """
    from course_lib.course.doctor import run_checks

    results = run_checks(kernel=kernel)
    for result in results:
        typer.echo(result.line)
    failed = [r for r in results if not r.ok]
    if failed:
        typer.echo(
            f"{len(failed)} of {len(results)} checks failed; "
            "apply the fixes above and run 'course doctor' again."
        )
        raise typer.Exit(1)
    typer.echo(f"All {len(results)} checks passed: this machine is ready for the course.")


@app.command()
def build(
    sources: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Lesson sources (solutions/<module>/<lesson>.py) to build. Default: all."
        ),
    ] = None,
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Build nothing; exit 1 naming each generated notebook that is out of date.",
        ),
    ] = False,
    execute: Annotated[
        bool,
        typer.Option(
            help="Execute the notebooks and store their outputs (turn off to preview cells only)."
        ),
    ] = True,
) -> None:
    """Generate, execute and store each lesson's solution and learner notebooks.

    With --check, build nothing and fail naming every generated notebook that is out of date.
    """
    from course_lib.course.build import (
        build_lesson,
        find_lessons,
        find_project_root,
        find_stale_files,
    )

    try:
        root = find_project_root()
        lessons = find_lessons(root, sources or ())
        if check:
            stale = find_stale_files(root, lessons if sources else None)
            for item in stale:
                typer.echo(f"stale: {item}", err=True)
            if stale:
                raise _fail(
                    f"{len(stale)} generated notebooks are out of date; "
                    "run the commands above (or 'course build' for all)."
                )
            typer.echo(
                f"All {2 * len(lessons)} generated notebooks of {len(lessons)} lessons "
                "are up to date."
            )
            return
        started = time.perf_counter()
        for lesson in lessons:
            lesson_started = time.perf_counter()
            written = build_lesson(lesson, execute=execute)
            shown = ", ".join(p.as_posix() for p in written)
            typer.echo(f"built {shown} ({time.perf_counter() - lesson_started:.1f} s)")
        typer.echo(
            f"Built {2 * len(lessons)} notebooks from {len(lessons)} lessons "
            f"in {time.perf_counter() - started:.1f} s."
        )
    except CourseLibError as exc:
        raise _fail(str(exc)) from None


@app.command()
def reset(
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Empty the course work directory (indexes, databases, caches, artifacts) to start over."""
    from course_lib.settings import load_settings
    from course_lib.workdir import reset_work_dir

    try:
        settings = load_settings()
        if not yes:
            typer.confirm(f"Delete everything in {settings.work_dir}?", abort=True)
        removed = reset_work_dir(settings)
    except CourseLibError as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"Emptied {settings.work_dir} ({removed} entries removed).")


@app.command("serve-model")
def serve_model(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    fault_rate: Annotated[
        float, typer.Option(help="Share of requests that fail (429, 500/503, timeouts).")
    ] = 0.0,
    fault_seed: Annotated[int, typer.Option(help="Seed of the fault plan.")] = 0,
    latency_scale: Annotated[
        float,
        typer.Option(help="Sleep for the modelled latency times this factor (0: answer at once)."),
    ] = 0.0,
) -> None:
    """Serve the local model over an OpenAI-compatible HTTP API until interrupted.

    Point any OpenAI client at http://HOST:PORT/v1 with any API key.
    """
    from course_lib.standin.faults import FaultPlan

    try:
        plan = FaultPlan(rate=fault_rate, seed=fault_seed) if fault_rate else None
    except ValueError as exc:
        raise _fail(str(exc)) from None
    if latency_scale < 0:
        raise _fail(f"--latency-scale must be >= 0, got {latency_scale}.")
    from course_lib.standin.server import run_server

    typer.echo(f"Local model server on http://{host}:{port}/v1 (any API key; Ctrl-C to stop).")
    try:
        run_server(host=host, port=port, faults=plan, latency_scale=latency_scale)
    except OSError as exc:
        raise _fail(
            f"Cannot listen on {host}:{port}: {exc.strerror}. Try another --port."
        ) from None


@data_app.command("baselines")
def data_baselines(
    check: Annotated[
        bool,
        typer.Option("--check", help="Exit 1 if the datasheet's table differs from a fresh one."),
    ] = False,
    write: Annotated[
        bool, typer.Option("--write", help="Update the table in the datasheet.")
    ] = False,
    datasheet: Annotated[Path | None, typer.Option(hidden=True)] = None,
) -> None:
    """Compute the golden set's baseline retrieval numbers (BM25 and dense) and print the table.

    --write also updates the table in the datasheet, course_lib/datasets/README.md.

    --check only compares: exit 1 if the datasheet's table is stale.
    """
    _one_action(check, write)
    from course_lib.labs.baselines import DATASHEET, baseline_table, datasheet_table, write_table

    path = datasheet or DATASHEET
    try:
        table = baseline_table()
        if check:
            if datasheet_table(path) != table:
                typer.echo(
                    f"The baseline table in {path.name} is stale. Run "
                    "`course data baselines --write` and commit the result."
                )
                raise typer.Exit(1)
            typer.echo(f"The baseline table in {path.name} is up to date.")
            return
        typer.echo(table)
        if write:
            changed = write_table(table, path)
            typer.echo(f"\n{'Updated' if changed else 'No change to'} {path.name}.")
    except CourseLibError as exc:
        raise _fail(str(exc)) from None


@prompts_app.command("lock")
def prompts_lock(
    check: Annotated[
        bool, typer.Option("--check", help="Exit 1 if the lock is not up to date (default).")
    ] = False,
    write: Annotated[
        bool, typer.Option("--write", help="Record new versions in the lock file.")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="With --write: also rewrite hashes of changed versions.")
    ] = False,
    root: Annotated[
        Path | None, typer.Option(help="The prompt library folder (default: the bundled one).")
    ] = None,
) -> None:
    """Check or update the content hashes of released prompt versions (prompts.lock.json).

    --check (the default): exit 1 naming each version changed, deleted or not yet released.

    --write: release new versions; --force also re-hashes changed ones (if nobody used them).
    """
    _one_action(check, write)
    from course_lib.prompts.lockfile import LOCK_FILE, check_lock, compute_hashes, write_lock
    from course_lib.prompts.registry import BUNDLED_LIBRARY

    library = root or BUNDLED_LIBRARY
    try:
        if write:
            written = write_lock(library, force=force)
            verbs = {"unreleased": "released", "changed": "re-hashed", "missing": "dropped"}
            for problem in written:
                typer.echo(f"{verbs[problem.kind]} {problem.name}@{problem.version}")
            typer.echo(f"{LOCK_FILE} is up to date ({len(written)} change(s)).")
            return
        problems = check_lock(library)
    except CourseLibError as exc:
        raise _fail(str(exc)) from None
    for problem in problems:
        typer.echo(f"error: {problem}", err=True)
    if problems:
        raise typer.Exit(1)
    count = sum(len(versions) for versions in compute_hashes(library).values())
    typer.echo(f"{LOCK_FILE} matches all {count} prompt version(s).")


def main() -> None:
    """Entry point of the ``course`` console script."""
    try:
        app()
    except KeyboardInterrupt:  # pragma: no cover - interactive only
        typer.echo("interrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    main()
