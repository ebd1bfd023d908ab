"""``course doctor``: is this machine ready for the course?

Instructors run it on every laptop before a workshop. Each check prints one line; a failing
line carries the command that fixes it, and the command exits non-zero if any check fails.
"""

from __future__ import annotations

import importlib.metadata
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "CheckResult",
    "check_embedded_components",
    "check_jupyter_kernel",
    "check_lock",
    "check_python",
    "check_settings",
    "check_sqlite_extensions",
    "check_work_dir",
    "find_lock_file",
    "locked_requirements",
    "run_checks",
]

SUPPORTED_PYTHONS = ((3, 10), (3, 13))
LOCK_RELATIVE = Path("requirements", "lock.txt")
SETUP_FIX = "run ./run setup in the course folder (or: pip install -r requirements/lock.txt)"


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check, printed as one line."""

    name: str
    ok: bool
    detail: str
    fix: str = ""

    @property
    def line(self) -> str:
        mark = "ok  " if self.ok else "FAIL"
        text = f"[{mark}] {self.name:<12} {self.detail}"
        return text if self.ok or not self.fix else f"{text} -> fix: {self.fix}"

    @property
    def short_line(self) -> str:
        """The line without machine-specific details (paths, versions), for notebooks."""
        mark = "ok  " if self.ok else "FAIL"
        text = f"[{mark}] {self.name}"
        return text if self.ok else f"{text}: {self.detail} -> fix: {self.fix}"


def check_python() -> CheckResult:
    version = sys.version_info[:3]
    shown = ".".join(map(str, version))
    low, high = SUPPORTED_PYTHONS
    if low <= version[:2] <= high:
        return CheckResult("python", True, f"Python {shown} ({sys.executable})")
    return CheckResult(
        "python",
        False,
        f"Python {shown} is not supported; the course needs 3.10 to 3.13",
        "install Python 3.10 to 3.13 and point ./run at it, which rebuilds the environment: "
        "PYTHON=/path/to/python3.12 ./run setup",
    )


def check_settings() -> CheckResult:
    """Loads the settings as every lesson will; unknown ``COURSE_*`` variables fail too.

    ``load_settings`` itself rejects them (naming the nearest setting) and accepts the
    variables of the course's scripts (``COURSE_VENV``, ``COURSE_NO_UV``), so the doctor, the
    lessons and the ``course`` command agree on what is an error.
    """
    from course_lib.errors import SettingsError
    from course_lib.settings import find_config_file, load_settings

    try:
        config = find_config_file()
        settings = load_settings()
    except SettingsError as exc:
        return CheckResult(
            "settings",
            False,
            str(exc),
            "correct or unset the setting named above (in course.toml or the environment)",
        )
    source = f"from {config}" if config else "defaults, no course.toml"
    return CheckResult(
        "settings", True, f"valid ({source}); seed={settings.seed}, strict={settings.strict}"
    )


def check_work_dir(min_free_gb: float = 1.0) -> CheckResult:
    from course_lib.errors import CourseLibError
    from course_lib.settings import load_settings
    from course_lib.workdir import ensure_work_dir

    try:
        root = ensure_work_dir(load_settings())
        with tempfile.NamedTemporaryFile(dir=root, prefix=".doctor-") as handle:
            handle.write(b"ok")
    except (CourseLibError, OSError) as exc:
        return CheckResult("work dir", False, str(exc), "set COURSE_WORK_DIR to a writable folder")
    free_gb = shutil.disk_usage(root).free / 1e9
    if free_gb < min_free_gb:
        return CheckResult(
            "work dir",
            False,
            f"{root} has only {free_gb:.1f} GB free; lessons need about {min_free_gb:.0f} GB",
            "free disk space or point COURSE_WORK_DIR at a larger disk",
        )
    return CheckResult("work dir", True, f"{root} is writable, {free_gb:.0f} GB free")


def find_lock_file() -> Path | None:
    """Returns the lock file of the repository this course_lib was installed from, if any."""
    import course_lib

    package_dir = Path(course_lib.__file__).resolve().parent
    candidate = package_dir.parent / LOCK_RELATIVE
    return candidate if candidate.is_file() else None


def locked_requirements(lock: Path) -> dict[str, str]:
    """Returns ``{normalised name: version}`` for the lock's entries that apply here."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    pins: dict[str, str] = {}
    logical = lock.read_text().replace("\\\n", " ").splitlines()
    for raw in logical:
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith(("#", "-")):
            continue
        line = " ".join(part for part in line.split() if not part.startswith("--hash="))
        requirement = Requirement(line)
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        specs = list(requirement.specifier)
        if len(specs) == 1 and specs[0].operator == "==":
            pins[canonicalize_name(requirement.name)] = specs[0].version
    return pins


def check_lock() -> CheckResult:
    from packaging.utils import canonicalize_name

    lock = find_lock_file()
    if lock is None:
        return CheckResult(
            "packages",
            True,
            "no lock file beside this installation (installed from a wheel); skipped",
        )
    pins = locked_requirements(lock)
    installed: dict[str, str] = {
        str(canonicalize_name(d.metadata["Name"])): d.version
        for d in importlib.metadata.distributions()
        if d.metadata["Name"]
    }
    problems = []
    for name, version in sorted(pins.items()):
        have = installed.get(name)
        if have is None:
            problems.append(f"{name} missing (lock {version})")
        elif have != version:
            problems.append(f"{name} {have} (lock {version})")
    if problems:
        shown = ", ".join(problems[:4]) + (
            f" and {len(problems) - 4} more" if len(problems) > 4 else ""
        )
        return CheckResult(
            "packages",
            False,
            f"{len(problems)} of {len(pins)} differ from the lock: {shown}",
            SETUP_FIX,
        )
    return CheckResult(
        "packages", True, f"all {len(pins)} locked packages installed at their pinned versions"
    )


def check_jupyter_kernel(timeout: float = 60) -> CheckResult:
    """Starts the notebooks' kernel and checks it imports this very course_lib."""
    import course_lib

    fix = "python -m ipykernel install --sys-prefix (inside the course environment), or ./run setup"
    try:
        from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
        from jupyter_client.manager import start_new_kernel
    except ImportError as exc:
        return CheckResult("kernel", False, f"jupyter_client is not installed ({exc})", SETUP_FIX)
    try:
        spec = KernelSpecManager().get_kernel_spec("python3")
    except NoSuchKernel:
        return CheckResult("kernel", False, "no 'python3' Jupyter kernel is installed", fix)
    started = time.perf_counter()
    try:
        manager, client = start_new_kernel(
            kernel_name="python3", startup_timeout=timeout, stderr=subprocess.DEVNULL
        )
    except Exception as exc:
        return CheckResult(
            "kernel", False, f"the python3 kernel did not start ({type(exc).__name__}: {exc})", fix
        )
    try:
        out: list[str] = []
        reply = client.execute_interactive(
            "import course_lib; print(course_lib.__file__); "
            "print(type(get_ipython().kernel).__name__)",
            timeout=timeout,
            output_hook=_collect(out),
        )
        status = reply["content"]["status"]
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    seconds = time.perf_counter() - started
    expected = str(Path(course_lib.__file__).resolve())
    seen, _, kernel_class = "".join(out).strip().rpartition("\n")
    if status != "ok" or Path(seen).resolve() != Path(expected):
        where = seen or "an error"
        return CheckResult(
            "kernel",
            False,
            f"the python3 kernel ({spec.argv[0]}) imports course_lib from {where}, not {expected}",
            fix,
        )
    if kernel_class != "CourseKernel":
        return CheckResult(
            "kernel",
            False,
            f"the python3 kernel is {kernel_class or 'unknown'}, not the course's, so every "
            "lesson is marked modified as soon as it opens",
            "python -m course_lib.course.lab_settings (inside the course environment), "
            "or ./run setup",
        )
    return CheckResult(
        "kernel", True, f"python3 kernel starts and imports course_lib ({seconds:.1f} s)"
    )


def _collect(out: list[str]) -> Callable[[dict[str, Any]], None]:
    def hook(message: dict[str, Any]) -> None:
        if message["msg_type"] == "stream":
            out.append(message["content"]["text"])

    return hook


def check_sqlite_extensions() -> CheckResult:
    from course_lib.sqlite_db import connect_with_vec

    try:
        connection, backend = connect_with_vec()
        (version,) = connection.execute("select vec_version()").fetchone()
        connection.close()
    except Exception as exc:
        return CheckResult(
            "sqlite",
            False,
            f"sqlite-vec could not be loaded ({type(exc).__name__}: {exc})",
            SETUP_FIX,
        )
    how = (
        "with Python's sqlite3"
        if backend == "sqlite3"
        else "through sqlean.py (this Python's sqlite3 cannot load extensions)"
    )
    return CheckResult("sqlite", True, f"sqlite-vec {version} loads {how}")


def check_embedded_components() -> CheckResult:
    """Loads the bundled embedding model offline and embeds one sentence."""
    from course_lib.embeddings import load_wordllama

    try:
        model = load_wordllama()
        vector = model.embed(["Where is the on-call runbook?"])
    except Exception as exc:
        return CheckResult(
            "embeddings",
            False,
            f"the bundled WordLlama model did not load offline ({type(exc).__name__}: {exc})",
            SETUP_FIX,
        )
    version = importlib.metadata.version("wordllama")
    return CheckResult(
        "embeddings", True, f"WordLlama {version} loads offline, {vector.shape[1]} dimensions"
    )


def check_local_model() -> CheckResult:
    """Starts the local model server and asks it one question through the openai SDK."""
    try:
        import openai

        from course_lib.models import get_registry
        from course_lib.standin.server import serve_model

        with serve_model() as server:
            client = openai.OpenAI(base_url=server.base_url, api_key="local", max_retries=0)
            reply = client.chat.completions.create(
                model=get_registry().model_id("chat-small"),
                messages=[
                    {
                        "role": "user",
                        "content": "[doctor] The doctor check passed.\n"
                        "Question: did the doctor check pass?",
                    }
                ],
                timeout=30,
            )
    except Exception as exc:
        return CheckResult(
            "model",
            False,
            f"the local model server did not answer ({type(exc).__name__}: {exc})",
            SETUP_FIX,
        )
    return CheckResult(
        "model",
        True,
        f"the local model answers over HTTP through the openai SDK {openai.__version__} "
        f"({reply.usage.total_tokens if reply.usage else 0} tokens)",
    )


def run_checks(*, kernel: bool = True, embeddings: bool = True) -> list[CheckResult]:
    """Runs every check in order.

    Args:
        kernel: start a Jupyter kernel to check it; turn off inside a notebook.
        embeddings: load the embedding model and ask the local model one question (about a
            second); turn off for speed.
    """
    checks: Iterable[Callable[[], CheckResult]] = [
        check_python,
        check_settings,
        check_lock,
        *([check_jupyter_kernel] if kernel else []),
        check_work_dir,
        check_sqlite_extensions,
        *([check_embedded_components, check_local_model] if embeddings else []),
    ]
    results = []
    for run in checks:
        try:
            results.append(run())
        except Exception as exc:  # a check must never hide the others
            results.append(
                CheckResult(
                    run.__name__.removeprefix("check_"),
                    False,
                    f"crashed: {type(exc).__name__}: {exc}",
                    "report this as a course bug",
                )
            )
    return results
