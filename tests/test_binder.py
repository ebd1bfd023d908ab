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
    # Every module a lesson imports is there: a new lesson's dependency missing from the lock
    # file (and so from Binder) fails here, not in a learner's browser.
    modules = sorted(_lesson_imports())
    run(
        str(bin_dir / "python"),
        "-c",
        f"import importlib; [importlib.import_module(m) for m in {modules!r}]",
    )


def _lesson_imports() -> set[str]:
    """The top-level modules the lesson sources import."""
    import ast

    found: set[str] = set()
    for source in (ROOT / "solutions").glob("*/*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module)
    return found


def test_lessons_with_a_production_side_say_what_to_do_on_binder() -> None:
    """Binder has no engines: a lesson whose production section needs one says so."""
    for source in sorted((ROOT / "solutions").glob("*/*.py")):
        text = source.read_text(encoding="utf-8")
        if "\nengines = False\n" in text:
            assert "Binder" in text, f"{source.name}: say what to do on Binder (no engines there)"


def test_the_import_list_covers_layer_4s_packages() -> None:
    """The Binder check above sees the lessons' imports, the production packages included."""
    modules = _lesson_imports()
    assert {"course_lib.tasks", "course_lib.caching", "course_lib.artifacts"} <= modules
