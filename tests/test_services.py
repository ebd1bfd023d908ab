"""Tests of ``course services up|status|down``: the production engines, started for real.

The whole cycle runs every engine in a throwaway work directory and checks what the issue of a
learner would be: each engine answers a real request, ``status`` prints one line per engine
with its address, and ``down`` leaves no process behind.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from course_lib.services import ENGINES, EngineStatus
from course_lib.services.process import free_port, process_alive, read_state


def _course(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "course_lib.course.cli", *args],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        check=False,
    )


def test_a_status_line_names_the_engine_its_state_and_address() -> None:
    line = EngineStatus("redis", True, "redis://127.0.0.1:6390/0", "Redis 7.0.15").line()
    assert line.split()[:4] == ["redis", "healthy", "redis://127.0.0.1:6390/0", "Redis"]
    assert EngineStatus("redis", False, "-", "not started").line().split()[1] == "DOWN"


def test_status_before_any_start_says_what_to_run(workspace: Path) -> None:
    result = _course("services", "status")
    assert result.returncode == 1
    lines = result.stdout.strip().splitlines()
    assert [line.split()[0] for line in lines] == list(ENGINES)
    assert all("not started: ./run services up" in line for line in lines)


def test_an_unknown_engine_is_a_usage_error(workspace: Path) -> None:
    result = _course("services", "up", "mongodb")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: no engine named 'mongodb'; use postgres, redis, traces, objects."
    )


def test_a_missing_redis_server_is_one_line_with_the_install_command(
    workspace: Path, tmp_path: Path
) -> None:
    bare = tmp_path / "bin"
    bare.mkdir()
    env = {**os.environ, "PATH": str(bare)}
    result = _course("services", "up", "redis", env=env)
    assert result.returncode == 1
    (line,) = result.stdout.strip().splitlines()
    assert line.split()[:2] == ["redis", "DOWN"]
    assert "redis-server is not installed" in line and "apt-get install redis-server" in line


def test_a_busy_port_is_not_reused() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        busy = taken.getsockname()[1]
        assert free_port(busy) != busy
    assert free_port(busy) == busy  # free again: an engine gets its old address back


@pytest.mark.slow
def test_up_status_down_runs_every_engine_and_leaves_no_process(workspace: Path) -> None:
    if shutil.which("redis-server") is None and os.environ.get("REQUIRE_ENGINES") != "1":
        pytest.skip("no redis-server here: apt-get install redis-server")
    try:
        _cycle(workspace / "work" / "services")
    finally:
        _course("services", "down")  # whatever failed, no engine outlives the test


def _cycle(folder: Path) -> None:
    up = _course("services", "up")
    assert up.returncode == 0, up.stdout + up.stderr
    status = _course("services", "status")
    assert status.returncode == 0, status.stdout
    lines = status.stdout.splitlines()
    rows = {line.split()[0]: line.split() for line in lines[: len(ENGINES)]}
    assert set(rows) == set(ENGINES) and all(row[1] == "healthy" for row in rows.values())
    assert rows["postgres"][2].startswith("postgresql://")
    assert rows["redis"][2].startswith("redis://127.0.0.1:")
    assert rows["traces"][2].endswith("/v1/traces")
    assert "export COURSE_VECTOR_STORE_URL=" in status.stdout
    state = read_state(folder)
    pids = {name: record["pid"] for name, record in state.items()}
    assert all(process_alive(pid) for pid in pids.values())

    again = _course("services", "up")  # idempotent: nothing restarts
    assert again.returncode == 0 and "Starting" not in again.stderr
    assert {n: r["pid"] for n, r in read_state(folder).items()} == pids

    down = _course("services", "down")
    assert down.returncode == 0, down.stderr
    assert not any(process_alive(pid) for pid in pids.values())
    after = json.loads((folder / "state.json").read_text())
    assert all("pid" not in record for record in after.values())
    assert _course("services", "status").returncode == 1
