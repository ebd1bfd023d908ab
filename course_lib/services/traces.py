"""The trace backend: MLflow's tracking server, taking spans over OTLP/HTTP (lesson 2.5's).

The same server :func:`course_lib.observability.start_mlflow_backend` starts for one notebook,
run here as a service: it stays up until ``course services down``, on a loopback port kept
across restarts, with its SQLite store and artifacts in the course work directory. Point any
OpenTelemetry exporter at it with the standard variables ``status`` prints.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from course_lib.services.base import EngineStatus, StartError
from course_lib.services.process import free_port, process_alive, stop_process, wait_for

__all__ = ["TraceEngine"]

EXPERIMENT = "handbook-assistant"
_OFFLINE = {"MLFLOW_DISABLE_TELEMETRY": "true", "MLFLOW_MODEL_CATALOG_URI": ""}


def _get(url: str, timeout_s: float = 2.0) -> bytes | None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: no proxy
    try:
        with opener.open(url, timeout=timeout_s) as response:
            return bytes(response.read())
    except (urllib.error.URLError, OSError, ValueError):
        return None


def _experiment_id(url: str) -> str | None:
    body = _get(f"{url}/api/2.0/mlflow/experiments/get-by-name?experiment_name={EXPERIMENT}")
    try:
        found = json.loads(body or b"{}").get("experiment", {}).get("experiment_id")
    except (ValueError, AttributeError):
        return None
    return str(found) if found is not None else None


class TraceEngine:
    """Traces' production side: an OTLP endpoint with a backend that stores and shows spans."""

    name = "traces"
    purpose = "trace backend (MLflow over OTLP/HTTP)"

    def start(self, folder: Path, previous: dict[str, Any] | None) -> dict[str, Any]:
        missing = [m for m in ("mlflow", "sqlalchemy", "alembic", "uvicorn") if not find_spec(m)]
        if missing:
            raise StartError(f"{', '.join(missing)} missing: run ./run setup")
        data = folder / "traces"
        data.mkdir(parents=True, exist_ok=True)
        port = free_port((previous or {}).get("port"))
        listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            listening.bind(("127.0.0.1", port))
            listening.listen(128)
        except OSError as exc:
            listening.close()
            raise StartError(f"port {port} cannot be opened ({exc.strerror}): try again") from exc
        command = [
            sys.executable, "-m", "course_lib.observability._mlflow_server",
            "--fd", str(listening.fileno()),
            "--backend-store-uri", f"sqlite:///{(data / 'mlflow.db').resolve().as_posix()}",
            "--artifact-root", (data / "artifacts").resolve().as_uri(),
            "--experiment", EXPERIMENT,
        ]  # fmt: skip
        with (data / "server.log").open("ab") as log:
            try:
                process = subprocess.Popen(
                    command,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env={**os.environ, **_OFFLINE, "TMPDIR": str(data)},
                    cwd=data,
                    pass_fds=(listening.fileno(),),
                    start_new_session=True,  # not stopped by a Ctrl+C in the terminal
                )
            finally:
                listening.close()
        url = f"http://127.0.0.1:{port}"
        if not wait_for(lambda: _experiment_id(url) is not None, 120.0, 0.5):
            stop_process(process.pid)
            raise StartError(f"the MLflow server did not answer; read {data / 'server.log'}")
        return {"url": url, "pid": process.pid, "port": port}

    def check(self, record: dict[str, Any]) -> EngineStatus:
        url = str(record.get("url", ""))
        endpoint = f"{url}/v1/traces"
        if not process_alive(record.get("pid")):
            return EngineStatus(self.name, False, endpoint, "not running: ./run services up")
        experiment = _experiment_id(url)
        if experiment is None:
            return EngineStatus(self.name, False, endpoint, "no answer: ./run services up")
        version = (_get(f"{url}/version") or b"?").decode("utf-8", "replace").strip()
        settings = (
            "COURSE_TRACING_EXPORTER=otlp",
            f"COURSE_OTLP_ENDPOINT={endpoint}",
            f"OTEL_EXPORTER_OTLP_TRACES_HEADERS=x-mlflow-experiment-id={experiment}",
        )
        return EngineStatus(self.name, True, endpoint, f"MLflow {version}, UI {url}", settings)

    def stop(self, record: dict[str, Any]) -> bool:
        return stop_process(record.get("pid"))
