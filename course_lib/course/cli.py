"""The ``course`` command line: ``doctor``, ``build``, ``progress``, ``reset``, ``serve-model``,
``services up|status|down`` (the production engines), and the maintainers' checks ``data
baselines`` and ``prompts lock``.

Every expected failure prints one ``error: ...`` line on stderr that says what to do next,
and exits with a documented code:

* 0: all good.
* 1: a check found a problem or the command could not finish: a failing doctor check, a
  stale notebook, table or prompt lock, a failed build, a port already in use, a work
  directory that cannot be emptied, an engine that is not healthy or would not stop.
* 2: a usage error: a bad option or argument (an unknown option, ``--port 99999``, a file
  that is not a lesson), or a bad setting (a ``COURSE_*`` variable or a ``course.toml`` key
  that is unknown or has a bad value, a work directory that is a file).

Anything else is a bug in the course and still shows its traceback.
"""

from __future__ import annotations

import errno
import math
import shlex
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from course_lib.errors import CourseLibError, SettingsError

if TYPE_CHECKING:
    from course_lib.course.build import Lesson
    from course_lib.settings import CourseSettings

__all__ = ["EXIT_FAILED", "EXIT_USAGE", "app", "main"]

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_CODES_HELP = (
    "Exit codes: 0 all good; 1 a check found a problem or the command could not finish "
    "(a busy port, say); 2 a bad option, argument or setting."
)


def _fail(message: str, code: int = EXIT_FAILED) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


@contextmanager
def _reported() -> Iterator[None]:
    """Turns the failures a user can fix into one ``error:`` line and the documented code."""
    try:
        yield
    except SettingsError as exc:
        raise _fail(str(exc), EXIT_USAGE) from None
    except CourseLibError as exc:
        raise _fail(str(exc), EXIT_FAILED) from None
    except typer.TyperException as exc:  # a bad option or argument, found while parsing
        message = exc.format_message().strip()
        message += "" if message.endswith((".", "?", "!")) else "."
        context = getattr(exc, "ctx", None)
        hint = f" See '{context.command_path} --help'." if context is not None else ""
        raise _fail(f"{message}{hint}", getattr(exc, "exit_code", EXIT_USAGE)) from None


class _CourseGroup(TyperGroup):
    """A command group whose parsing and commands report errors through :func:`_reported`.

    Subcommands are parsed and run inside the top group's ``invoke``, so wrapping this one
    group covers every command, including ``data`` and ``prompts`` ones.
    """

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: Any = None,
        **extra: Any,
    ) -> Any:
        with _reported():
            return super().make_context(info_name, args, parent=parent, **extra)

    def invoke(self, ctx: Any) -> Any:
        with _reported():
            return super().invoke(ctx)


def _help_when_bare(ctx: typer.Context) -> None:
    # Instead of click's no_args_is_help, whose help screen travels as a usage error.
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())
        raise typer.Exit(EXIT_USAGE)


app = typer.Typer(
    name="course",
    cls=_CourseGroup,
    help="Production AI Engineering: set up, check and build the course.",
    epilog=EXIT_CODES_HELP,
    invoke_without_command=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.callback()(_help_when_bare)


data_app = typer.Typer(
    help="The bundled datasets: tables derived from them.", invoke_without_command=True
)
prompts_app = typer.Typer(
    help="The bundled prompt library: the lock of released versions.",
    invoke_without_command=True,
)
services_app = typer.Typer(
    help="The production engines (Postgres with pgvector, Redis, the trace backend, an S3 "
    "emulator): start, check and stop them.",
    invoke_without_command=True,
)
data_app.callback()(_help_when_bare)
prompts_app.callback()(_help_when_bare)
services_app.callback()(_help_when_bare)
app.add_typer(data_app, name="data")
app.add_typer(prompts_app, name="prompts")
app.add_typer(services_app, name="services")


def _one_action(check: bool, write: bool) -> None:
    if check and write:
        raise _fail("use --check or --write, not both.", EXIT_USAGE)


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
    from course_lib.course.build import build_lesson, find_project_root, find_stale_files

    root = find_project_root()
    lessons = _select_lessons(root, sources or ())
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
            f"All {2 * len(lessons)} generated notebooks of {len(lessons)} lessons are up to date."
        )
        return
    _load_settings()  # the notebooks' kernels read them: a bad one fails here, not per cell
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


def _select_lessons(root: Path, sources: Sequence[Path]) -> list[Lesson]:
    """The lessons to build or check; a path that names no lesson is a usage error."""
    from course_lib.course.build import find_lessons
    from course_lib.course.errors import BuildError

    if not sources:
        return find_lessons(root)
    lessons: list[Lesson] = []
    for source in sources:  # one at a time, so the error names the path at fault
        if not source.exists() and source.suffix != ".ipynb":
            raise _fail(
                f"{str(source)!r} does not exist; pass a lesson source such as "
                "solutions/<module>/<lesson>.py, or nothing to build every lesson.",
                EXIT_USAGE,
            )
        try:
            found = find_lessons(root, [source])
        except BuildError as exc:
            raise _fail(str(exc), EXIT_USAGE) from None
        except ValueError:  # a notebook path that maps to no lesson source
            raise _fail(
                f"{str(source)!r} is not a lesson notebook or source; pass "
                "notebooks/<module>/<lesson>.ipynb or solutions/<module>/<lesson>.py, or "
                "nothing to build every lesson.",
                EXIT_USAGE,
            ) from None
        # A source and its notebook name one lesson: build it once.
        lessons.extend(lesson for lesson in found if lesson not in lessons)
    return lessons


def _load_settings() -> CourseSettings:
    """Reads the settings afresh (not the process-wide cache) so a bad one fails up front."""
    from course_lib.settings import load_settings

    return load_settings()


@app.command()
def reset(
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Empty the course work directory (indexes, databases, caches, artifacts) to start over."""
    from course_lib.workdir import reset_work_dir

    settings = _load_settings()
    work_dir = settings.work_dir
    if work_dir.exists() and not work_dir.is_dir():
        raise _fail(
            f"the work directory {str(work_dir)!r} is a file, not a folder; point "
            "COURSE_WORK_DIR (or work_dir in course.toml) at a folder of its own.",
            EXIT_USAGE,
        )
    if not yes:
        typer.confirm(f"Delete everything in {work_dir}{_progress_note(settings)}?", abort=True)
    try:
        removed = reset_work_dir(settings)
    except CourseLibError:
        raise
    except OSError as exc:  # a file it may not delete, say
        where = f" ({exc.filename})" if exc.filename else ""
        raise _fail(
            f"could not empty {str(work_dir)!r}: {exc.strerror or exc}{where}. Fix the "
            "permissions or delete it by hand, then run 'course reset' again."
        ) from None
    typer.echo(f"Emptied {work_dir} ({removed} entries removed).")


def _progress_note(settings: CourseSettings) -> str:
    """What a reset would lose of the learner's own work, for the confirmation question."""
    from course_lib.course.progress import solved_exercises

    try:
        solved = len(solved_exercises(settings))
    except CourseLibError:
        return ", including an unreadable progress record"
    if not solved:
        return ""
    return f", including your record of {solved} solved exercise{'s' if solved != 1 else ''}"


@app.command()
def progress() -> None:
    """Show which exercises you have solved, lesson by lesson (from the record check keeps)."""
    from course_lib.course.checking import all_exercises
    from course_lib.course.progress import progress_by_lesson, progress_path

    settings = _load_settings()
    lessons = progress_by_lesson([e.id for e in all_exercises()], settings)
    solved = sum(len(lesson.solved) for lesson in lessons)
    total = sum(lesson.total for lesson in lessons)
    typer.echo(f"{solved} of {total} exercises solved (record: {progress_path(settings)}).")
    width = max(len(lesson.lesson) for lesson in lessons)
    for lesson in lessons:
        todo = ", ".join(lesson.remaining) if lesson.remaining else "all solved"
        typer.echo(
            f"  {lesson.lesson:<{width}}  {len(lesson.solved)}/{lesson.total}  "
            f"{'to do: ' + todo if lesson.remaining else todo}"
        )


@app.command("serve-model")
def serve_model(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(help="Port to listen on: 1 to 65535, or 0 for any free port.")
    ] = 8000,
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

    Point any OpenAI client at http://HOST:PORT/v1 with any API key. --port 0 picks a free
    port and prints it.
    """
    from course_lib.standin.faults import FaultPlan
    from course_lib.standin.server import serve_model as serving

    _check_serve_options(port, fault_rate, latency_scale)
    _load_settings()  # the model reads them: a bad one fails before anything starts
    try:
        plan = FaultPlan(rate=fault_rate, seed=fault_seed) if fault_rate else None
    except ValueError as exc:
        raise _fail(f"--fault-rate or --fault-seed: {exc}", EXIT_USAGE) from None
    _check_port_free(host, port)
    with serving(host=host, port=port, faults=plan, latency_scale=latency_scale) as server:
        # Only now is the port bound and the server answering: the address printed is real.
        typer.echo(f"Local model server on {server.base_url} (any API key; Ctrl-C to stop).")
        _wait_until_stopped()
    typer.echo("Stopped the local model server.")


def _check_serve_options(port: int, fault_rate: float, latency_scale: float) -> None:
    if not 0 <= port <= 65535:
        raise _fail(f"--port must be 1 to 65535 (or 0 for any free port), got {port}.", EXIT_USAGE)
    if not math.isfinite(fault_rate):
        raise _fail(f"--fault-rate must be a number from 0 to 1, got {fault_rate}.", EXIT_USAGE)
    if not (math.isfinite(latency_scale) and latency_scale >= 0):
        raise _fail(f"--latency-scale must be a number >= 0, got {latency_scale}.", EXIT_USAGE)


def _check_port_free(host: str, port: int) -> None:
    """Fails with a line that names the port (and what to try) when it cannot be bound."""
    if port == 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # The server binds with SO_REUSEADDR too: a port left in TIME_WAIT counts as free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            reason = exc.strerror or str(exc)
            if isinstance(exc, socket.gaierror) or exc.errno == errno.EADDRNOTAVAIL:
                raise _fail(
                    f"cannot listen on {host}:{port} ({reason}): --host {host!r} is not an "
                    "address of this machine; use 127.0.0.1 (this machine only) or 0.0.0.0.",
                    EXIT_USAGE,
                ) from None
            other = port + 1 if port < 65535 else port - 1
            why = "needs administrator rights" if exc.errno == errno.EACCES else "is in use"
            raise _fail(
                f"cannot listen on {host}:{port} ({reason}): port {port} {why}. Choose another "
                f"port (e.g. --port {other}), or --port 0 for any free one."
            ) from None


def _wait_until_stopped() -> None:
    """Blocks until Ctrl-C, or SIGTERM (what ``kill`` and container runtimes send)."""
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)


EngineNames = Annotated[
    list[str] | None,
    typer.Argument(help="Engines to act on (postgres, redis, traces, objects); all by default."),
]


def _engine_report(statuses: Sequence[Any]) -> None:
    """One line per engine, then the settings that point the course at the healthy ones."""
    for engine in statuses:
        typer.echo(engine.line())
    settings = [line for engine in statuses if engine.healthy for line in engine.settings]
    if settings:
        typer.echo("\nTo point the course at them (in the shell that runs it):")
        for line in settings:
            name, _, value = line.partition("=")
            typer.echo(f"  export {name}={shlex.quote(value)}")
    if not all(engine.healthy for engine in statuses):
        raise typer.Exit(EXIT_FAILED)


def _engines(names: list[str] | None) -> list[str]:
    from course_lib.services import ENGINES

    unknown = [name for name in names or [] if name not in ENGINES]
    if unknown:
        raise _fail(
            f"no engine named {', '.join(map(repr, unknown))}; use {', '.join(ENGINES)}.",
            EXIT_USAGE,
        )
    return list(names or [])


@services_app.command("up")
def services_up(names: EngineNames = None) -> None:
    """Start the engines that are not running (their data stays in the work directory)."""
    from course_lib.services import up

    _load_settings()
    _engine_report(up(_engines(names), say=lambda line: typer.echo(line, err=True)))


@services_app.command("status")
def services_status(names: EngineNames = None) -> None:
    """One line per engine: healthy or not, its address, its version or what to do."""
    from course_lib.services import status

    _load_settings()
    _engine_report(status(_engines(names)))


@services_app.command("down")
def services_down(names: EngineNames = None) -> None:
    """Stop the engines (their data stays; the S3 emulator's objects, in memory, do not)."""
    from course_lib.services import down

    _load_settings()
    stuck = down(_engines(names))
    if stuck:
        raise _fail(f"{', '.join(stuck)} would not stop; see services/ in the work directory.")
    typer.echo("Engines stopped.")


@data_app.command("baselines")
def data_baselines(
    check: Annotated[
        bool,
        typer.Option("--check", help="Exit 1 if the datasheet's table differs from a fresh one."),
    ] = False,
    write: Annotated[
        bool, typer.Option("--write", help="Update the table in the datasheet.")
    ] = False,
    datasheet: Annotated[
        Path | None, typer.Option(hidden=True, exists=True, dir_okay=False)
    ] = None,
) -> None:
    """Compute the golden set's baseline retrieval numbers (BM25 and dense) and print the table.

    --write also updates the table in the datasheet, course_lib/datasets/README.md.

    --check only compares: exit 1 if the datasheet's table is stale.
    """
    _one_action(check, write)
    from course_lib.labs.baselines import DATASHEET, baseline_table, datasheet_table, write_table

    path = datasheet or DATASHEET
    table = baseline_table()
    if check:
        if datasheet_table(path) != table:
            typer.echo(
                f"The baseline table in {path.name} is stale. Run "
                "`course data baselines --write` and commit the result."
            )
            raise typer.Exit(EXIT_FAILED)
        typer.echo(f"The baseline table in {path.name} is up to date.")
        return
    typer.echo(table)
    if write:
        changed = write_table(table, path)
        typer.echo(f"\n{'Updated' if changed else 'No change to'} {path.name}.")


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
        Path | None,
        typer.Option(
            help="The prompt library folder (default: the bundled one).",
            exists=True,
            file_okay=False,
        ),
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
    if write:
        written = write_lock(library, force=force)
        verbs = {"unreleased": "released", "changed": "re-hashed", "missing": "dropped"}
        for problem in written:
            typer.echo(f"{verbs[problem.kind]} {problem.name}@{problem.version}")
        typer.echo(f"{LOCK_FILE} is up to date ({len(written)} change(s)).")
        return
    problems = check_lock(library)
    for problem in problems:
        typer.echo(f"error: {problem}", err=True)
    if problems:
        raise typer.Exit(EXIT_FAILED)
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
