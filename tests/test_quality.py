"""Quality gates in the one test command: lint, secrets, workflows, a light import."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)


def test_ruff_lints_code_lesson_sources_and_learner_notebooks() -> None:
    result = _run(sys.executable, "-m", "ruff", "check", "--no-cache", ".")
    assert result.returncode == 0, (
        f"ruff found problems; fix them or run 'ruff check --fix .':\n{result.stdout}"
    )


def _tracked_files() -> list[str]:
    listed = _run("git", "ls-files", "--cached", "--others", "--exclude-standard")
    if listed.returncode != 0:  # not a git checkout (e.g. an sdist): scan the tree instead
        return [
            str(p.relative_to(ROOT))
            for p in ROOT.rglob("*")
            if p.is_file() and ".venv" not in p.parts
        ]
    return [f for f in listed.stdout.splitlines() if (ROOT / f).is_file()]


def test_no_new_secrets_against_the_baseline() -> None:
    """detect-secrets finds nothing that the committed baseline does not already list."""
    files = [f for f in _tracked_files() if f != ".secrets.baseline"]
    result = _run(
        sys.executable,
        "-m",
        "detect_secrets.pre_commit_hook",
        "--baseline",
        ".secrets.baseline",
        *files,
    )
    assert result.returncode == 0, (
        "detect-secrets found a possible secret. Remove it, or if it is a deliberate example, "
        "audit it into the baseline (detect-secrets scan --baseline .secrets.baseline):\n"
        + result.stdout
        + result.stderr
    )


def test_secrets_baseline_is_committed_and_valid() -> None:
    baseline = json.loads((ROOT / ".secrets.baseline").read_text())
    assert "results" in baseline and "plugins_used" in baseline


def test_import_course_lib_loads_no_heavy_library() -> None:
    """``import course_lib`` stays well under a second: heavy libraries load lazily."""
    heavy = [
        "numpy",
        "pandas",
        "matplotlib",
        "jupytext",
        "nbclient",
        "wordllama",
        "sqlite_vec",
        "typer",
        "pydantic",
        "openai",
        "fastapi",
        "httpx",
        "tenacity",
        "bm25s",
        "pandera",
        "yaml",
    ]
    code = (
        "import sys, course_lib, course_lib.course, course_lib.errors, course_lib.llm,"
        " course_lib.embeddings, course_lib.datasets;"
        f"print([m for m in {heavy!r} if m in sys.modules])"
    )
    result = _run(sys.executable, "-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]", f"imported at start-up: {result.stdout.strip()}"


@pytest.mark.slow
def test_wheel_ships_every_data_file(tmp_path: Path) -> None:
    """Data folders have no __init__.py; without package-data globs a wheel leaves them out."""
    import shutil
    import zipfile

    tracked = _run("git", "-C", str(ROOT), "ls-files").stdout.split()
    source = tmp_path / "src"
    for path in tracked:  # build from a copy so the build leaves no files in the repository
        if (ROOT / path).is_file():
            (source / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / path, source / path)
    result = _run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "-q",
        str(source),
        "-w",
        str(tmp_path / "dist"),
    )
    assert result.returncode == 0, result.stderr[-2000:]
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    shipped = set(zipfile.ZipFile(wheel).namelist())
    data = [p for p in tracked if p.startswith("course_lib/") and not p.endswith(".py")]
    missing = [path for path in data if path not in shipped]
    assert not missing, f"not in the wheel: {missing[:10]}"


def test_the_workflows_pass_actionlint() -> None:
    """The course's GitHub workflows are checked the way lesson 3.5 teaches."""
    workflows = sorted(
        str(p.relative_to(ROOT)) for p in (ROOT / ".github/workflows").glob("*.y*ml")
    )
    assert workflows, "no workflow found under .github/workflows"
    actionlint = Path(sys.executable).with_name("actionlint")
    assert actionlint.exists(), "actionlint is missing from the environment; run ./run setup"
    result = _run(str(actionlint), *workflows)
    assert result.returncode == 0, f"actionlint found problems:\n{result.stdout}{result.stderr}"
