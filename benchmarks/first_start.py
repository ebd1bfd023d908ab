"""How long a learner waits from ``git clone`` to JupyterLab answering, and how big the result is.

Run from the repository root, on a quiet machine (each run installs the whole environment)::

    .venv/bin/python benchmarks/first_start.py            # print the figures
    .venv/bin/python benchmarks/first_start.py --write    # also record them in README.md

Four runs, each in a fresh clone of this repository in a temporary folder: with ``uv`` (as
``./run`` does by default: fetched into a private bootstrap folder when it is not installed)
and with ``pip`` (``COURSE_NO_UV=1``), each with a cold package cache (an empty one: every
package downloaded from the registry, uv itself fetched) and a warm one (the same cache, filled
by the cold run). A run is ``./run lab --no-browser`` until the server answers on its port.
The clone is local, so its time is small here; over a network add the clone of a repository
of about the size ``git count-objects`` reports.

Also measured: the size of the learner's environment (``.venv`` from ``requirements/lock.txt``)
and its largest packages, to keep it under the 1.5 GB budget and to say what each is for.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
START, END = "<!-- first-start:start -->", "<!-- first-start:end -->"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=1):
            return True
    except OSError as exc:  # a 403 without a token still means the server is up
        return getattr(exc, "code", None) is not None


def one_start(installer: str, cache: Path, scratch: Path) -> dict[str, object]:
    """Clone, then ``./run lab`` until JupyterLab answers; the times and the environment."""
    clone = scratch / f"clone-{installer}-{time.time_ns()}"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("COURSE_", "VIRTUAL_ENV", "UV_", "PIP_"))
    }
    env["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if not (Path(p) / "uv").exists()
    )
    env.update(
        XDG_CACHE_HOME=str(cache / "xdg"),  # uv's bootstrap folder lives here
        UV_CACHE_DIR=str(cache / "uv"),
        PIP_CACHE_DIR=str(cache / "pip"),
        COURSE_WORK_DIR=str(scratch / "work"),
        JUPYTER_CONFIG_DIR=str(scratch / "jupyter-config"),
        JUPYTER_DATA_DIR=str(scratch / "jupyter-data"),
    )
    if installer == "pip":
        env["COURSE_NO_UV"] = "1"
    started = time.perf_counter()
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True, env=env)
    cloned = time.perf_counter() - started
    port = _free_port()
    log = (scratch / f"lab-{installer}.log").open("wb")
    process = subprocess.Popen(
        ["./run", "lab", "--no-browser", f"--port={port}", "--ServerApp.open_browser=False"],
        cwd=clone,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        while not _answers(port):
            if process.poll() is not None:
                raise RuntimeError(f"./run lab exited; read {log.name}")
            if time.perf_counter() - started > 1800:
                raise RuntimeError("JupyterLab did not answer within 30 minutes")
            time.sleep(0.2)
        ready = time.perf_counter() - started
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)
        log.close()
    venv = clone / ".venv"
    size = _size(venv)
    packages = _largest_packages(venv)
    shutil.rmtree(clone, ignore_errors=True)
    return {"clone_s": cloned, "ready_s": ready, "venv_bytes": size, "largest": packages}


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def _largest_packages(venv: Path, count: int = 8) -> list[tuple[str, int]]:
    site = next(venv.glob("lib/python3*/site-packages"))
    sizes: dict[str, int] = {}
    for entry in site.iterdir():
        if entry.name.endswith((".dist-info", ".pth")) or entry.name.startswith("_"):
            continue
        name = entry.name.split(".")[0]
        size = _size(entry) if entry.is_dir() else entry.stat().st_size
        sizes[name] = sizes.get(name, 0) + size
    return sorted(sizes.items(), key=lambda item: -item[1])[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="record the figures in README.md")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="course-first-start-"))
    results: dict[tuple[str, str], dict[str, object]] = {}
    try:
        for installer in ("uv", "pip"):
            cache = scratch / f"cache-{installer}"
            for state in ("cold", "warm"):  # the cold run fills the cache the warm one uses
                results[(installer, state)] = one_start(installer, cache, scratch)
                print(installer, state, f"{results[(installer, state)]['ready_s']:.0f} s")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    report = _report(results)
    print(report)
    if args.write:
        text = README.read_text(encoding="utf-8")
        head, rest = text.split(START, 1)
        README.write_text(f"{head}{START}\n{report}\n{END}{rest.split(END, 1)[1]}", "utf-8")


def _report(results: dict[tuple[str, str], dict[str, object]]) -> str:
    machine = f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}"
    size = int(results[("uv", "warm")]["venv_bytes"])  # type: ignore[call-overload]
    largest = results[("uv", "warm")]["largest"]
    lines = [
        f"Measured {date.today().isoformat()} on a Linux machine with {machine}, by "
        "`benchmarks/first_start.py`: a fresh clone, then `./run lab` until JupyterLab answers.",
        "",
        "| installer | cold package cache | warm package cache |",
        "|---|---:|---:|",
    ]
    for installer in ("uv", "pip"):
        cold, warm = results[(installer, "cold")], results[(installer, "warm")]
        lines.append(f"| {installer} | {cold['ready_s']:.0f} s | {warm['ready_s']:.0f} s |")
    lines += [
        "",
        f"The learner's environment takes **{size / 1e9:.2f} GB** on disk; its largest "
        "packages: "
        + ", ".join(f"{name} {bytes_ / 1e6:.0f} MB" for name, bytes_ in largest)  # type: ignore[attr-defined]
        + ".",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
