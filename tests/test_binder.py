"""Binder's environment is built from binder/ alone; it must be the tested environment."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"


def test_binder_requirements_are_the_lock_file() -> None:
    lock = (ROOT / "requirements" / "lock.txt").read_text()
    assert (BINDER / "requirements.txt").read_text() == lock, (
        "binder/requirements.txt differs from requirements/lock.txt; "
        "fix: cp requirements/lock.txt binder/requirements.txt"
    )


def test_binder_runtime_matches_a_supported_python() -> None:
    runtime = (BINDER / "runtime.txt").read_text().strip()
    assert runtime in {"python-3.10", "python-3.11", "python-3.12", "python-3.13"}


def _python_for(runtime: str) -> str:
    wanted = runtime.removeprefix("python-")
    candidate = shutil.which(f"python{wanted}")
    if candidate:
        probe = subprocess.run([candidate, "--version"], capture_output=True, text=True)
        if probe.returncode == 0 and wanted in probe.stdout:
            return candidate
    return sys.executable


@pytest.mark.slow
def test_fresh_environment_from_binder_spec_passes_doctor(tmp_path: Path) -> None:
    """Install exactly what Binder installs into a new venv, then run `course doctor` in it."""
    python = _python_for((BINDER / "runtime.txt").read_text().strip())
    venv = tmp_path / "binder-venv"
    subprocess.run([python, "-m", "venv", str(venv)], check=True)
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONPATH"}}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"
    env["COURSE_WORK_DIR"] = str(tmp_path / "work")

    def run(*command: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
        assert result.returncode == 0, (
            f"{' '.join(command)} failed:\n{result.stdout}{result.stderr}"
        )
        return result

    run(str(bin_dir / "python"), "-m", "pip", "install", "--quiet", "-r", "binder/requirements.txt")
    run("bash", "binder/postBuild")
    doctor = run(str(bin_dir / "course"), "doctor")
    assert "checks passed" in doctor.stdout, doctor.stdout
    assert str(venv) in doctor.stdout  # the doctor ran in the Binder venv, not ours
