"""Test-session set-up shared by unit tests, nbval and papermill runs.

Kernels inherit this process's environment, so it must match what ``course build`` used to
make the stored outputs (``course_lib.course.execution.kernel_environment``), or nbval would
compare outputs made under different conditions.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from course_lib.course.execution import apply_kernel_environment
from course_lib.settings import get_settings

ROOT = Path(__file__).parent
_TEMP_DIRS: list[str] = []
_STATUS_AT_START = pytest.StashKey["str | None"]()


def _fresh_work_dir() -> Path:
    folder = tempfile.mkdtemp(prefix="course-test-work-")
    _TEMP_DIRS.append(folder)
    return Path(folder)


def _learner_work_dir() -> Path:
    """The work directory a learner's settings name: where tests leave what is worth keeping
    after the run (a failing browser test's screenshots), unlike the throwaway ones below."""
    from course_lib.settings import CourseSettings

    configured = os.environ.get("COURSE_WORK_DIR")
    if configured:
        return Path(configured).expanduser()
    return Path(CourseSettings.model_fields["work_dir"].get_default(call_default_factory=True))


LEARNER_WORK_DIR = _learner_work_dir()

# Unit tests and anything else this process starts: learner mode, a throwaway work directory.
apply_kernel_environment(strict=False, work_dir=_fresh_work_dir())


def pytest_collectstart(collector: pytest.Collector) -> None:
    if hasattr(collector, "skip_compare"):  # nbval's notebook collectors only
        collector.skip_compare += ("image/svg+xml", "application/vnd.plotly.v1+json")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Before nbval starts a notebook's kernel, give it the environment its outputs were made in.

    Solution notebooks run in strict mode (a failing check raises), learner notebooks do not,
    and each notebook gets a fresh work directory, exactly as in ``course build``.
    """
    notebook = item.parent
    if type(notebook).__name__ == "IPyNbFile":
        if getattr(notebook, "kernel", None) is None:
            strict = Path(str(notebook.fspath)).resolve().is_relative_to(ROOT / "solutions")
            apply_kernel_environment(strict=strict, work_dir=_fresh_work_dir())
    elif os.environ.get("COURSE_STRICT") == "1":
        # A solution notebook ran earlier in this worker; other tests run in learner mode, as
        # the session started (a wrong answer is then a verdict, not an exception).
        os.environ["COURSE_STRICT"] = "0"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """Keeps each phase's report on the test item, for fixtures that act on a failure."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def _git_status() -> str | None:
    if not (ROOT / ".git").exists():
        return None
    return subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[_STATUS_AT_START] = _git_status()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fails the run if it changed the repository: lessons write only to the work directory.

    Compared with the status at the start, so a contributor's uncommitted edits are not
    blamed on the tests; on a clean clone (CI) this means ``git status`` must stay empty.
    """
    for folder in _TEMP_DIRS:
        shutil.rmtree(folder, ignore_errors=True)
    if hasattr(session.config, "workerinput"):  # an xdist worker: the controller checks once
        return
    before = session.config.stash.get(_STATUS_AT_START, None)
    after = _git_status()
    if before is None or after is None or after == before:
        return
    new = sorted(set(after.splitlines()) - set(before.splitlines()))
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter:
        reporter.write_line(
            "FAILED: the test run changed the repository (tests and notebooks must write only "
            "to the course work directory); new in git status:",
            red=True,
        )
        for line in new or after.splitlines():
            reporter.write_line(f"    {line}", red=True)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


# The local model server and an official SDK client on it, for the tests of its HTTP API
# (chat completions, the Responses API, OpenAI parity): one server per test module.


@pytest.fixture(scope="module")
def server():  # type: ignore[no-untyped-def]
    from course_lib.standin import FaultPlan, serve_model

    with serve_model(faults=FaultPlan(malformed_rate=0.0)) as running:
        yield running


@pytest.fixture
def sdk(server):  # type: ignore[no-untyped-def]
    import openai

    from course_lib.standin import FaultPlan

    server.set_faults(FaultPlan(malformed_rate=0.0))
    key = "local"  # the local server accepts any key  # pragma: allowlist secret
    return openai.OpenAI(base_url=server.base_url, api_key=key, max_retries=0)


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A clean environment: an empty course.toml, a fresh work directory, no other COURSE_*.

    The process-wide settings are rebuilt too, so no earlier test's settings stand in.
    """
    for key in list(os.environ):
        if key.upper().startswith("COURSE_"):
            monkeypatch.delenv(key)
    config = tmp_path / "course.toml"
    config.write_text("")
    monkeypatch.setenv("COURSE_CONFIG_FILE", str(config))
    monkeypatch.setenv("COURSE_WORK_DIR", str(tmp_path / "work"))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


# --- Production engines: each xdist worker starts its own on first use and stops it at the end
# of the session, so tests share no state with a learner's engines or with another worker.
# Without an engine's program its tests are skipped with the install line; REQUIRE_ENGINES=1
# (as in .ci/run) makes that a failure.


def _engine_unavailable(message: str) -> None:
    if os.environ.get("REQUIRE_ENGINES") == "1":
        pytest.fail(f"REQUIRE_ENGINES=1, and {message}")
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A Postgres with pgvector for this worker: its URL (a Unix socket in a short path)."""
    from course_lib.services.base import StartError
    from course_lib.services.postgres import start_postgres
    from course_lib.services.process import stop_process

    # Not in pytest's own temporary folders: they are private to this user (0700), and as root
    # the server runs as another user, who must reach its data folder.
    parent = Path(tempfile.mkdtemp(prefix="course-test-postgres-"))
    parent.chmod(0o755)
    try:
        url, pid = start_postgres(parent / "data")
    except StartError as exc:
        shutil.rmtree(parent, ignore_errors=True)
        _engine_unavailable(str(exc))
    yield url
    stop_process(pid, first=signal.SIGINT)
    shutil.rmtree(parent, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgres"])
def index_place(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """Where a test's indexes go: ``place("name")`` gives ``build``/``open`` keyword arguments.

    On SQLite a file in the test's folder; on Postgres a schema of its own in the worker's
    database, so tests never see each other's indexes.
    """
    if request.param == "sqlite":
        return lambda label: {"path": tmp_path / f"{label}.sqlite"}
    url = request.getfixturevalue("postgres_url")
    prefix = f"t{uuid.uuid4().hex[:12]}"
    return lambda label: {"path": url, "name": f"{prefix}_{label}"}


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A Redis for this worker: its URL (database 0). Tests keep apart by names of their own."""
    from course_lib.services.base import StartError
    from course_lib.services.process import stop_process
    from course_lib.services.redis_server import start_redis

    folder = Path(tempfile.mkdtemp(prefix="course-test-redis-"))
    try:
        url, pid, _port = start_redis(folder)
    except StartError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        _engine_unavailable(str(exc))
    yield url
    stop_process(pid)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(params=["sqlite", "redis"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """Where a test's queue or cache lives: None (SQLite in the work directory) or Redis.

    The work directory is the test's own (an autouse fixture), so SQLite tests never share
    a file; Redis tests share the worker's server and keep apart by the names they choose.
    """
    if request.param == "sqlite":
        return None
    return request.getfixturevalue("redis_url")


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """An S3 API for this worker (moto's emulator, objects in memory): its endpoint URL."""
    from course_lib.services.base import StartError
    from course_lib.services.objects import ObjectStoreEngine
    from course_lib.services.process import stop_process

    folder = Path(tempfile.mkdtemp(prefix="course-test-s3-"))
    try:
        record = ObjectStoreEngine().start(folder, None)
    except StartError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        _engine_unavailable(str(exc))
    yield str(record["url"])
    stop_process(record["pid"])
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def s3_environment(s3_server: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The variables that point S3 clients at the worker's emulator, set for this test."""
    from course_lib.services.objects import CREDENTIALS

    variables = {"AWS_ENDPOINT_URL_S3": s3_server, "AWS_DEFAULT_REGION": "us-east-1"}
    variables.update(CREDENTIALS)
    for key, value in variables.items():
        monkeypatch.setenv(key, value)
    return variables


@pytest.fixture(params=["local", "s3"])
def object_store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """Where a test's artifacts go: a local folder, or a prefix of its own in an S3 bucket."""
    if request.param == "local":
        return str(tmp_path / "artifacts")
    request.getfixturevalue("s3_environment")
    from course_lib.services.objects import BUCKET

    return f"s3://{BUCKET}/t{uuid.uuid4().hex[:12]}"


@pytest.fixture
def engine_environment(
    postgres_url: str, redis_url: str, s3_environment: dict[str, str]
) -> dict[str, str]:
    """Every ``COURSE_*`` setting that moves the embedded defaults to the engines."""
    from course_lib.services.objects import BUCKET

    base = redis_url.rsplit("/", 1)[0]
    return {
        "COURSE_VECTOR_STORE_URL": postgres_url,
        "COURSE_QUEUE_URL": f"{base}/0",
        "COURSE_CACHE_URL": f"{base}/1",
        "COURSE_OBJECT_STORE_URL": f"s3://{BUCKET}/t{uuid.uuid4().hex[:12]}",
        **s3_environment,
    }


@pytest.fixture(scope="session")
def trace_backend() -> Iterator[Any]:
    """A trace backend for this worker: MLflow's server, fed over OTLP, read back."""
    from course_lib.errors import OptionalDependencyError, TracingError
    from course_lib.observability import start_mlflow_backend

    folder = Path(tempfile.mkdtemp(prefix="course-test-traces-"))
    try:
        backend = start_mlflow_backend(folder, experiment="engine-suite").wait_until_ready(180)
    except (OptionalDependencyError, TracingError) as exc:
        shutil.rmtree(folder, ignore_errors=True)
        _engine_unavailable(f"the trace backend did not start: {exc}")
    yield backend
    backend.stop()
    shutil.rmtree(folder, ignore_errors=True)
