"""What every engine needs: a folder, a free port, a pid to watch and a record that outlives us.

Engines run as background processes that stay up after ``course services up`` returns, so
what is needed to find, check and stop them is written to ``services/state.json`` in the course
work directory. Nothing here touches a process that the record does not name.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import Any

__all__ = [
    "free_port",
    "port_is_free",
    "process_alive",
    "read_state",
    "services_dir",
    "stop_process",
    "wait_for",
    "write_state",
]

_STATE = "state.json"


def services_dir() -> Path:
    """``services/`` in the course work directory: every engine's data, logs and the record."""
    from course_lib.workdir import ensure_work_dir

    folder = ensure_work_dir() / "services"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def read_state(folder: Path) -> dict[str, dict[str, Any]]:
    """The record of running engines; empty when none was written or it is unreadable."""
    try:
        state = json.loads((folder / _STATE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def write_state(folder: Path, state: dict[str, dict[str, Any]]) -> None:
    """Writes the record atomically (a crash never leaves half a file)."""
    target = folder / _STATE
    partial = target.with_suffix(".tmp")
    partial.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    partial.replace(target)


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(preferred: int | None = None, host: str = "127.0.0.1") -> int:
    """``preferred`` when it is free (an engine keeps its address across restarts), else any."""
    if preferred and port_is_free(preferred, host):
        return preferred
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def process_alive(pid: int | None) -> bool:
    """True while ``pid`` runs (a zombie left by our own child counts as gone)."""
    if not pid or pid <= 0:
        return False
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)  # reap it if it was our child and has ended
        if waited == pid:
            return False
    except ChildProcessError:
        pass  # not our child: ask the system
    except OSError:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_process(
    pid: int | None, *, timeout_s: float = 10.0, first: signal.Signals = signal.SIGTERM
) -> bool:
    """``first`` (SIGTERM), then SIGKILL after ``timeout_s``; True when the process is gone."""
    if not process_alive(pid):
        return True
    assert pid is not None
    with suppress(ProcessLookupError):
        os.kill(pid, first)
    if wait_for(lambda: not process_alive(pid), timeout_s):
        return True
    with suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    return wait_for(lambda: not process_alive(pid), 5.0)


def wait_for(condition: Callable[[], bool], timeout_s: float, interval_s: float = 0.1) -> bool:
    """Polls ``condition`` until it holds or ``timeout_s`` passes; returns the last result."""
    deadline = time.monotonic() + timeout_s
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval_s)
