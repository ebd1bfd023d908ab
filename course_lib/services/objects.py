"""An S3-compatible object store on this machine: moto's server, an emulator of Amazon S3.

No real S3-compatible server (MinIO, Garage, SeaweedFS) installs from PyPI, so the course runs
moto's S3 emulator: it speaks the S3 HTTP API that ``s3fs``/``fsspec`` and ``boto3`` use, and
keeps objects in memory, so they are gone when it stops. It is a stand-in for testing code that
talks to S3, not a store to keep data in; point ``COURSE_OBJECT_STORE_URL`` at a real bucket for
that.
"""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
import urllib.request
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from course_lib.services.base import EngineStatus, StartError
from course_lib.services.process import free_port, process_alive, stop_process, wait_for

__all__ = ["BUCKET", "CREDENTIALS", "ObjectStoreEngine"]

# The bucket the course's artifacts go to; the artifact store creates it when missing.
BUCKET = "course-artifacts"

# moto accepts any credentials; clients still need some to sign their requests.
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "course", "AWS_SECRET_ACCESS_KEY": "course-local"}


def _answers(url: str) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: no proxy
    try:
        with opener.open(f"{url}/moto-api/data.json", timeout=2) as response:
            return int(response.status) == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


class ObjectStoreEngine:
    """Artifacts' production side: S3 over HTTP (an emulator here; say so when showing it)."""

    name = "objects"
    purpose = "object store (S3 API; moto's emulator, in memory)"

    def start(self, folder: Path, previous: dict[str, Any] | None) -> dict[str, Any]:
        missing = [m for m in ("moto", "flask", "flask_cors", "s3fs") if find_spec(m) is None]
        if missing:
            raise StartError(
                f"{', '.join(missing)} missing: ./run services up installs the engines extra"
            )
        data = folder / "objects"
        data.mkdir(parents=True, exist_ok=True)
        port = free_port((previous or {}).get("port"))
        url = f"http://127.0.0.1:{port}"
        with (data / "server.log").open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "TMPDIR": str(data)},
                cwd=data,
                start_new_session=True,
            )
        if not wait_for(lambda: _answers(url), 60.0, 0.25):
            stop_process(process.pid)
            raise StartError(f"moto's S3 server did not answer; read {data / 'server.log'}")
        return {"url": url, "pid": process.pid, "port": port}

    def check(self, record: dict[str, Any]) -> EngineStatus:
        url = str(record.get("url", ""))
        if not process_alive(record.get("pid")):
            return EngineStatus(self.name, False, url, "not running: ./run services up")
        if not _answers(url):
            return EngineStatus(self.name, False, url, "no answer: ./run services up")
        from importlib.metadata import version

        settings = (
            f"COURSE_OBJECT_STORE_URL=s3://{BUCKET}/artifacts",
            f"AWS_ENDPOINT_URL_S3={url}",  # botocore's, so s3fs and boto3 find it
            *(f"{key}={value}" for key, value in CREDENTIALS.items()),
        )
        return EngineStatus(
            self.name, True, url, f"moto {version('moto')} S3 emulator (in memory)", settings
        )

    def stop(self, record: dict[str, Any]) -> bool:
        return stop_process(record.get("pid"))
