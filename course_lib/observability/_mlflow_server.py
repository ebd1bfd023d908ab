"""The process :func:`~course_lib.observability.start_mlflow_backend` runs: MLflow's server.

``python -m course_lib.observability._mlflow_server --fd N --backend-store-uri URI ...``

It prepares the tracking database and the experiment first, then serves MLflow's FastAPI
application (the one ``mlflow server`` runs under uvicorn, OTLP endpoint included) on the
listening socket the parent passed as file descriptor ``N``. So the server answers its
``/health`` only once it can take traces, and the parent knows the port before it starts.

It stops by itself when the process that started it goes away (a notebook kernel that was
killed cannot run its clean-up), so no server outlives its notebook. Started by ``course
services up`` (``--parent-pid 0``), it runs until ``course services down`` stops it.
"""

from __future__ import annotations

import argparse
import os
import socket
import threading
import time

__all__ = ["main"]

# Server settings MLflow's app reads from the environment (``mlflow.server.constants``), which
# ``mlflow server`` sets before it starts uvicorn.
_BACKEND_STORE_URI = "_MLFLOW_SERVER_FILE_STORE"
_ARTIFACT_ROOT = "_MLFLOW_SERVER_ARTIFACT_ROOT"


def _exit_with_parent(parent_pid: int, interval_s: float = 1.0) -> None:
    """Ends this process as soon as its parent is gone (it is then adopted by another)."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(interval_s)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _prepare_store(backend_store_uri: str, artifact_root: str, experiment: str) -> None:
    """Creates the tracking tables (a few seconds on a new database) and the experiment."""
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    # MLflow's store methods carry no annotations.
    store = SqlAlchemyStore(backend_store_uri, artifact_root)  # type: ignore[no-untyped-call]
    if store.get_experiment_by_name(experiment) is None:  # type: ignore[no-untyped-call]
        store.create_experiment(experiment)  # type: ignore[no-untyped-call]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fd", type=int, required=True, help="listening socket to serve on")
    parser.add_argument("--backend-store-uri", required=True)
    parser.add_argument("--artifact-root", required=True)
    parser.add_argument("--experiment", required=True)
    parser.add_argument(
        "--parent-pid", type=int, default=0, help="exit when it is gone; 0: run as a service"
    )
    args = parser.parse_args(argv)

    if args.parent_pid:
        _exit_with_parent(args.parent_pid)
    # Offline: no usage telemetry, no download of model prices to cost each span.
    os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
    os.environ["MLFLOW_MODEL_CATALOG_URI"] = ""
    os.environ[_BACKEND_STORE_URI] = args.backend_store_uri
    os.environ[_ARTIFACT_ROOT] = args.artifact_root
    _prepare_store(args.backend_store_uri, args.artifact_root, args.experiment)

    import uvicorn

    # socket(fileno=...) detects the family (TCP here); uvicorn's own fd option assumes a Unix
    # socket.
    listening = socket.socket(fileno=args.fd)
    config = uvicorn.Config("mlflow.server.fastapi_app:app", log_level="warning", access_log=False)
    uvicorn.Server(config).run(sockets=[listening])


if __name__ == "__main__":
    main()
