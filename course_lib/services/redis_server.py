"""Redis, the production side of the task queue and the caches: the machine's ``redis-server``.

Redis has no wheel on PyPI, so it is the one engine a learner installs with the system's
package manager (Debian and Ubuntu: ``apt-get install redis-server``; macOS: ``brew install
redis``; Windows: WSL or a container). It listens on the loopback interface only, on a free
port kept across restarts, with its append-only file in the course work directory.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

from course_lib.services.base import EngineStatus, StartError
from course_lib.services.process import free_port, process_alive, stop_process, wait_for

__all__ = ["RedisEngine", "start_redis"]

INSTALL_HINT = (
    "install it (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis), "
    "then ./run services up"
)


def _ping(url: str) -> str | None:
    """The server's version when it answers PING, else None."""
    try:
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        try:
            client.ping()
            return str(client.info("server").get("redis_version", "?"))
        finally:
            client.close()
    except Exception:
        return None


def start_redis(folder: Path, port: int | None = None) -> tuple[str, int, int]:
    """Starts ``redis-server`` with its data in ``folder``; returns its URL, pid and port.

    Raises:
        StartError: no ``redis-server`` on PATH, or it did not answer within 10 s.
    """
    program = shutil.which("redis-server")
    if program is None:
        raise StartError(f"redis-server is not installed: {INSTALL_HINT}")
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port(port)
    pidfile = folder / "redis.pid"
    pidfile.unlink(missing_ok=True)
    command = [
        program,
        "--bind", "127.0.0.1",
        "--port", str(port),
        "--dir", str(folder),
        "--daemonize", "yes",
        "--pidfile", str(pidfile),
        "--logfile", str(folder / "redis.log"),
        "--appendonly", "yes",  # queued jobs survive a restart of Redis
        "--save", "",
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    url = f"redis://127.0.0.1:{port}/0"
    if result.returncode != 0 or not wait_for(lambda: _ping(url) is not None, 10.0):
        raise StartError(
            f"redis-server did not start on port {port} ({(result.stderr or '').strip()[:160]}); "
            f"read {folder / 'redis.log'} for why"
        )
    pid = int(pidfile.read_text().strip()) if pidfile.is_file() else 0
    return url, pid, port


class RedisEngine:
    """The task queue's and the caches' production side."""

    name = "redis"
    purpose = "task queue (huey) and caches"

    def start(self, folder: Path, previous: dict[str, Any] | None) -> dict[str, Any]:
        url, pid, port = start_redis(folder / "redis", (previous or {}).get("port"))
        return {"url": url, "pid": pid, "port": port}

    def check(self, record: dict[str, Any]) -> EngineStatus:
        url = str(record.get("url", ""))
        if not process_alive(record.get("pid")):
            return EngineStatus(self.name, False, url, "not running: ./run services up")
        version = _ping(url)
        if version is None:
            return EngineStatus(self.name, False, url, "no answer to PING: ./run services up")
        # The queue and the caches in separate databases: clearing a cache never drops a job.
        base = url.rsplit("/", 1)[0]
        settings = (f"COURSE_QUEUE_URL={base}/0", f"COURSE_CACHE_URL={base}/1")
        return EngineStatus(self.name, True, url, f"Redis {version}", settings)

    def stop(self, record: dict[str, Any]) -> bool:
        return stop_process(record.get("pid"))
