"""A trace backend on your own machine: MLflow's tracking server, receiving spans over OTLP.

In production, spans go over OTLP to a collector or a backend (Jaeger, Phoenix, Langfuse,
MLflow). For development, tests and lessons, :func:`start_mlflow_backend` starts MLflow's
server from its package, in a subprocess, with a SQLite store in the course work directory:

>>> backend = start_mlflow_backend()          # returns at once; the server starts meanwhile
>>> backend.wait_until_ready()                # a clear TracingError, with its log, if it fails
>>> tracing = setup_tracing(
...     "otlp", otlp_endpoint=backend.otlp_endpoint, otlp_headers=backend.otlp_headers
... )
>>> ...                                       # traced work
>>> tracing.force_flush()
>>> backend.spans_frame()                     # read back through MLflow's own client
>>> backend.stop()                            # also done when the process exits

The server listens on a free port of the loopback interface only. It runs offline: MLflow's
telemetry (``MLFLOW_DISABLE_TELEMETRY``) and its download of model prices
(``MLFLOW_MODEL_CATALOG_URI``) are switched off, in the server and in this process. Starting takes
some seconds (imports, then the tables of a new database), so start it early and wait late.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from course_lib.errors import OptionalDependencyError, TracingError

if TYPE_CHECKING:
    import pandas as pd
    from mlflow.entities import Trace

__all__ = ["MLFLOW_EXPERIMENT_HEADER", "MLflowBackend", "start_mlflow_backend"]

MLFLOW_EXPERIMENT_HEADER = "x-mlflow-experiment-id"
"""The OTLP header that tells MLflow's ``/v1/traces`` endpoint which experiment spans go to."""

_PACKAGES = "mlflow-skinny sqlalchemy alembic flask"
# What the backend writes in its folder; a fresh start removes these and nothing else.
_DB, _ARTIFACTS, _LOG = "mlflow.db", "artifacts", "server.log"
# Attributes MLflow adds to every span that identify one run's trace: random, not content.
_RANDOM_ATTRIBUTES = ("mlflow.traceRequestId",)


# MLflow reaches out to the network unless told not to: its usage telemetry, and the price
# list it fetches to put a cost on each model span (about 10 s of timeout per attempt offline).
# The course keeps its own costs (``course.cost_usd``) and runs offline.
_OFFLINE = {"MLFLOW_DISABLE_TELEMETRY": "true", "MLFLOW_MODEL_CATALOG_URI": ""}


def _telemetry_off() -> None:
    os.environ.update(_OFFLINE)


@dataclass
class MLflowBackend:
    """A running (or starting) MLflow server and the experiment its traces go to.

    Attributes:
        directory: where its database, artifacts and log live.
        url: the server's base URL (``http://127.0.0.1:<port>``).
        experiment: the experiment's name; ``experiment_id`` is known once ready.
    """

    directory: Path
    url: str
    experiment: str
    process: subprocess.Popen[bytes]
    log_file: IO[bytes] = field(repr=False)
    experiment_id: str | None = None

    @property
    def log_path(self) -> Path:
        return self.directory / _LOG

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    @property
    def otlp_endpoint(self) -> str:
        """The OTLP/HTTP traces URL: ``setup_tracing("otlp", otlp_endpoint=...)``."""
        return f"{self.url}/v1/traces"

    @property
    def otlp_headers(self) -> dict[str, str]:
        """The headers each export needs: the experiment id (call wait_until_ready first)."""
        return {MLFLOW_EXPERIMENT_HEADER: self._ready_experiment_id()}

    def wait_until_ready(self, timeout_s: float = 120.0) -> MLflowBackend:
        """Blocks until the server answers and its experiment exists; returns ``self``.

        Raises:
            TracingError: the server exited, or did not answer within ``timeout_s``; the
                message quotes the end of its log.
        """
        self._refuse_if_stopped()
        deadline = time.monotonic() + timeout_s
        while self.experiment_id is None:
            if not self.running:
                raise TracingError(
                    f"The MLflow server exited with code {self.process.returncode} before it "
                    f"was ready. The end of its log ({self.log_path.name} in "
                    f"{self.directory.name}/):\n{self._log_tail()}"
                )
            self.experiment_id = self._experiment_id()
            if self.experiment_id is None:
                if time.monotonic() > deadline:
                    self.stop()
                    raise TracingError(
                        f"The MLflow server did not answer within {timeout_s:.0f} s, so it was "
                        "stopped. A busy machine can be this slow: try again with a larger "
                        f"timeout_s. The end of its log:\n{self._log_tail()}"
                    )
                time.sleep(0.2)
        return self

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stops the server (it can be called more than once); the files stay for inspection."""
        if self.running:
            self.process.terminate()
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:  # pragma: no cover - a server stuck in a request
                self.process.kill()
                self.process.wait(timeout_s)
        if not self.log_file.closed:
            self.log_file.close()

    def __enter__(self) -> MLflowBackend:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def search_traces(self, max_results: int = 500) -> list[Trace]:
        """The experiment's traces, read back through MLflow's client (its REST API)."""
        self._refuse_if_stopped()
        _telemetry_off()
        from mlflow import MlflowClient

        client = MlflowClient(tracking_uri=self.url)
        traces = client.search_traces(
            locations=[self._ready_experiment_id()], max_results=max_results
        )
        return list(traces)

    def spans_frame(self, max_results: int = 500) -> pd.DataFrame:
        """One row per span the backend stored, oldest trace first.

        Columns: ``trace`` (1, 2, ... in the order the traces started: ids are random),
        ``name``, ``parent`` (the parent span's name, None for a root), ``span_type`` (MLflow's
        reading of the span, e.g. ``CHAT_MODEL``), then one column per attribute as MLflow
        stored it (``gen_ai.*``, ``course.*``, and MLflow's own ``mlflow.*``).
        """
        import pandas as pd

        traces = sorted(
            self.search_traces(max_results),
            key=lambda t: (t.info.request_time, min(s.start_time_ns for s in t.data.spans)),
        )
        rows: list[dict[str, Any]] = []
        for number, trace in enumerate(traces, start=1):
            spans = sorted(trace.data.spans, key=lambda s: (s.start_time_ns, s.name))
            names = {span.span_id: span.name for span in spans}
            for span in spans:
                row: dict[str, Any] = {
                    "trace": number,
                    "name": span.name,
                    "parent": names.get(span.parent_id) if span.parent_id else None,
                    "span_type": span.span_type,
                }
                for key, value in (span.attributes or {}).items():
                    if key not in _RANDOM_ATTRIBUTES:
                        row[key] = value
                rows.append(row)
        base = ["trace", "name", "parent", "span_type"]
        others = sorted({key for row in rows for key in row} - set(base))
        return pd.DataFrame(rows, columns=[*base, *others])

    # -- internals ----------------------------------------------------------------------------

    def _refuse_if_stopped(self) -> None:
        if self.experiment_id is not None and not self.running:
            raise TracingError(
                "This MLflow server has been stopped (its traces stay in "
                f"{self.directory.name}/{_DB}); start another with start_mlflow_backend()."
            )

    def _ready_experiment_id(self) -> str:
        if self.experiment_id is None:
            raise TracingError(
                "The MLflow server is not ready yet: call backend.wait_until_ready() before "
                "exporting spans to it or reading them back."
            )
        return self.experiment_id

    def _experiment_id(self) -> str | None:
        """The experiment's id once the server answers, else None (not up yet)."""
        query = urllib.parse.urlencode({"experiment_name": self.experiment})
        url = f"{self.url}/api/2.0/mlflow/experiments/get-by-name?{query}"
        # Loopback only: no proxy from the environment may stand in between.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(url, timeout=2) as response:
                body = json.loads(response.read())
        except (urllib.error.URLError, OSError, ValueError):
            return None
        experiment = body.get("experiment", {}) if isinstance(body, dict) else {}
        found = experiment.get("experiment_id")
        return str(found) if found is not None else None

    def _log_tail(self, lines: int = 15) -> str:
        if not self.log_file.closed:
            self.log_file.flush()
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log was written)"
        tail = text.strip().splitlines()[-lines:]
        return "\n".join(tail) if tail else "(the log is empty)"


def start_mlflow_backend(
    directory: str | Path | None = None,
    *,
    experiment: str = "handbook-assistant",
    host: str = "127.0.0.1",
    fresh: bool = True,
) -> MLflowBackend:
    """Starts MLflow's tracking server in a subprocess and returns without waiting for it.

    Args:
        directory: where the server keeps its SQLite database, artifacts and log; default
            ``trace-backend`` in the course work directory.
        experiment: the experiment that receives the traces (created if missing).
        host: the interface to listen on; keep the loopback one unless you mean to share.
        fresh: remove the database, artifacts and log a previous run left in ``directory``.

    Call :meth:`MLflowBackend.wait_until_ready` before exporting to it. The server stops with
    :meth:`MLflowBackend.stop`, when this process exits, or when this process dies (it watches
    its parent).

    Raises:
        OptionalDependencyError: MLflow's server packages are not installed.
        TracingError: no port could be opened on ``host``.
    """
    for module in ("mlflow", "sqlalchemy", "alembic", "flask", "uvicorn"):
        if find_spec(module) is None:
            raise OptionalDependencyError(
                f"The local trace backend needs MLflow's tracking server, and {module!r} is not "
                f"installed. Install it with: pip install {_PACKAGES}"
            )
    folder = Path(directory) if directory is not None else _default_directory()
    folder.mkdir(parents=True, exist_ok=True)
    if fresh:
        _remove_previous_run(folder)
    listening = _listening_socket(host)
    port = listening.getsockname()[1]
    log_file = (folder / _LOG).open("ab")
    _telemetry_off()
    env = {
        **os.environ,
        **_OFFLINE,
        "PYTHONUNBUFFERED": "1",
        "TMPDIR": str(folder),  # whatever MLflow writes to a temporary folder stays here
    }
    try:
        process = subprocess.Popen(
            _server_command(folder, listening.fileno(), experiment),
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=folder,
            pass_fds=(listening.fileno(),),
        )
    finally:
        listening.close()  # the server holds its own copy
    backend = MLflowBackend(
        directory=folder,
        url=f"http://{host}:{port}",
        experiment=experiment,
        process=process,
        log_file=log_file,
    )
    atexit.register(backend.stop)
    return backend


def _server_command(folder: Path, fd: int, experiment: str) -> list[str]:
    """The server's command line: this Python, MLflow's app on socket ``fd``, SQLite store."""
    return [
        sys.executable,
        "-m",
        "course_lib.observability._mlflow_server",
        "--fd",
        str(fd),
        "--backend-store-uri",
        f"sqlite:///{(folder / _DB).resolve().as_posix()}",
        "--artifact-root",
        (folder / _ARTIFACTS).resolve().as_uri(),
        "--experiment",
        experiment,
        "--parent-pid",
        str(os.getpid()),
    ]


def _default_directory() -> Path:
    from course_lib.workdir import ensure_work_dir

    return ensure_work_dir() / "trace-backend"


def _remove_previous_run(folder: Path) -> None:
    for name in (_DB, f"{_DB}-journal", f"{_DB}-wal", f"{_DB}-shm", _LOG):
        (folder / name).unlink(missing_ok=True)
    shutil.rmtree(folder / _ARTIFACTS, ignore_errors=True)


def _listening_socket(host: str) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind((host, 0))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise TracingError(
            f"Cannot open a port on {host} for the MLflow server ({exc.strerror or exc}); "
            "use host='127.0.0.1'."
        ) from None
    sock.set_inheritable(True)
    return sock
