"""The architecture, enforced: import contracts, sizes, and the public API of each package.

The import contracts live in ``pyproject.toml`` (``[tool.importlinter]``); these tests run them,
show that breaking one fails with both module names, and keep modules and functions small.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "course_lib"
CLASSROOM = {"course", "labs", "standin", "datasets"}
MAX_FILE_LINES = 800
MAX_FUNCTION_LINES = 80


def _lint_imports(cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from importlinter.cli import lint_imports_command; "
            "sys.exit(lint_imports_command())",
            "--no-cache",
        ],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def test_the_import_contracts_are_kept() -> None:
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.slow
def test_a_forbidden_import_fails_naming_both_modules(tmp_path: Path) -> None:
    """An import inside a function counts: the model client may not reach the stand-in."""
    shutil.copytree(PACKAGE, tmp_path / "course_lib", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    tokens = tmp_path / "course_lib" / "llm" / "tokens.py"
    tokens.write_text(
        tokens.read_text()
        + "\n\ndef _sneaky() -> None:\n    from course_lib.standin import tokens  # noqa: F401\n"
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    result = _lint_imports(tmp_path, env)
    assert result.returncode != 0, result.stdout
    assert "course_lib.llm.tokens -> course_lib.standin" in result.stdout, result.stdout
    assert "BROKEN" in result.stdout


def _python_files() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def test_no_module_in_the_package_is_over_800_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): n
        for path in _python_files()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_FILE_LINES
    }
    assert not long, f"split these modules (over {MAX_FILE_LINES} lines): {long}"


def test_no_function_in_the_production_packages_is_over_80_lines() -> None:
    long = {}
    for path in _python_files():
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] in CLASSROOM:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long[f"{relative}:{node.name}"] = length
    assert not long, f"split these functions (over {MAX_FUNCTION_LINES} lines): {long}"


def test_the_type_checker_is_clean() -> None:
    """mypy, strict on the production packages, against Python 3.10's standard library."""
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-error-summary"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, "mypy found problems:\n" + result.stdout + result.stderr
