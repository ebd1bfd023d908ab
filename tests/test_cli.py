"""The ``course`` command: an expected failure is one ``error:`` line and a documented code.

A learner who mistypes an option, a setting or a path must read what to do next, not a
traceback. Exit codes (see the module docstring of ``course_lib.course.cli``): 1 a check or
the command failed, 2 a bad option, argument or setting.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from course_lib.course import cli
from course_lib.course.cli import EXIT_FAILED, EXIT_USAGE, app

ROOT = Path(__file__).resolve().parent.parent
FAKE_KEY = "sk-fake-cli-test-key-0000"  # pragma: allowlist secret


def _invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def _one_error(result: Result, code: int) -> str:
    """Asserts the run failed with ``code`` and one ``error:`` line; returns that line."""
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), result.stderr
    return lines[0]


@pytest.mark.parametrize("port", ["99999", "-1", "65536"])
def test_a_port_out_of_range_is_a_usage_error(workspace: Path, port: str) -> None:
    line = _one_error(_invoke("serve-model", "--port", port), EXIT_USAGE)
    assert "--port must be 1 to 65535" in line and port in line


def test_a_busy_port_names_the_port_and_suggests_another(workspace: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = _invoke("serve-model", "--port", str(port))
    line = _one_error(result, EXIT_FAILED)
    assert f"port {port} is in use" in line
    assert "--port 0" in line
    assert "server on" not in result.output


def test_the_banner_shows_the_port_actually_bound(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With --port 0 the banner names the free port picked, printed once the server runs."""
    monkeypatch.setattr(cli, "_wait_until_stopped", lambda: None)
    result = _invoke("serve-model", "--port", "0")
    assert result.exit_code == 0, result.output
    banner = result.stdout.splitlines()[0]
    assert banner.startswith("Local model server on http://127.0.0.1:")
    assert ":0/" not in banner


def test_a_bad_setting_in_the_environment_is_a_usage_error(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COURSE_SEED", "abc")
    line = _one_error(_invoke("serve-model"), EXIT_USAGE)
    assert "'seed'" in line and "COURSE_SEED" in line


def test_a_bad_setting_in_course_toml_is_a_usage_error(workspace: Path) -> None:
    (workspace / "course.toml").write_text("llm_read_timeout = -1\n")
    line = _one_error(_invoke("reset", "--yes"), EXIT_USAGE)
    assert "'llm_read_timeout'" in line and "course.toml" in line


def test_an_unknown_course_variable_names_the_nearest_setting(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COURSE_SEEED", "3")
    line = _one_error(_invoke("reset", "--yes"), EXIT_USAGE)
    assert "COURSE_SEEED (did you mean COURSE_SEED?)" in line


def test_an_unknown_course_toml_key_names_the_nearest_setting(workspace: Path) -> None:
    (workspace / "course.toml").write_text("sed = 3\n")
    line = _one_error(_invoke("reset", "--yes"), EXIT_USAGE)
    assert "Unknown setting 'sed'" in line and "Did you mean 'seed'?" in line


def test_the_run_scripts_variables_are_accepted(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COURSE_VENV", str(workspace / "venv"))
    monkeypatch.setenv("COURSE_NO_UV", "1")
    result = _invoke("reset", "--yes")
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("where", ["file", "file and environment", "environment"])
def test_the_api_key_never_shows_in_an_error(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """A wrong-typed or malformed key fails (or is overridden) without printing its value."""
    if "file" in where:
        (workspace / "course.toml").write_text(f'llm_api_key = ["{FAKE_KEY}"]\n')
    if "environment" in where:
        env_key = FAKE_KEY if "file" in where else f"{FAKE_KEY}\n"
        monkeypatch.setenv("COURSE_LLM_API_KEY", env_key)
    result = _invoke("reset", "--yes")
    assert FAKE_KEY not in result.output
    if where != "file and environment":  # there the environment's valid key wins
        line = _one_error(result, EXIT_USAGE)
        assert "'llm_api_key'" in line and "hidden" in line


def test_the_work_dir_being_a_file_is_a_usage_error(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a_file = workspace / "not-a-folder"
    a_file.write_text("mine")
    monkeypatch.setenv("COURSE_WORK_DIR", str(a_file))
    line = _one_error(_invoke("reset", "--yes"), EXIT_USAGE)
    assert "is a file, not a folder" in line and "COURSE_WORK_DIR" in line
    assert a_file.read_text() == "mine"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("x.ipynb", "is not a lesson notebook or source"),
        ("no_such_lesson.py", "does not exist"),
        ("README.md", "is not a lesson source"),
    ],
)
def test_build_of_something_that_is_no_lesson_is_a_usage_error(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, source: str, expected: str
) -> None:
    monkeypatch.chdir(ROOT)
    line = _one_error(_invoke("build", "--check", source), EXIT_USAGE)
    assert expected in line and source in line


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["buidl"], "No such command 'buidl'"),
        (["doctor", "--bogus"], "No such option: --bogus"),
        (["serve-model", "--port", "abc"], "Invalid value for '--port'"),
        (["prompts", "lock", "--root", "no-such-folder"], "does not exist"),
    ],
)
def test_bad_options_and_arguments_are_one_line(
    workspace: Path, args: list[str], expected: str
) -> None:
    line = _one_error(_invoke(*args), EXIT_USAGE)
    assert expected in line and "--help" in line


def test_the_installed_command_prints_no_traceback(workspace: Path) -> None:
    """The console script itself, in a fresh process, as a learner runs it."""
    course = Path(sys.executable).parent / "course"
    env = {**os.environ, "COURSE_SEED": "abc"}
    result = subprocess.run(
        [str(course), "serve-model", "--port", "8000"],
        cwd=workspace,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == EXIT_USAGE, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: Setting 'seed'"), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""


def test_the_exit_codes_are_documented() -> None:
    result = _invoke("--help")
    assert result.exit_code == 0
    assert "Exit codes" in result.output
    assert cli.__doc__ is not None and "2: a usage error" in cli.__doc__
