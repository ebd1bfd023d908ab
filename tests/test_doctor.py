"""`course doctor` and `course reset`: one line per check, fixes for failures, exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from course_lib.course import doctor
from course_lib.course.cli import app
from course_lib.course.doctor import CheckResult, check_lock, locked_requirements


def test_every_check_passes_in_the_course_environment() -> None:
    results = doctor.run_checks(kernel=True)
    failed = [r.line for r in results if not r.ok]
    assert not failed, "\n".join(failed)
    assert [r.name for r in results] == [
        "python",
        "settings",
        "packages",
        "kernel",
        "work dir",
        "sqlite",
        "embeddings",
        "model",
    ]


def test_lock_parsing_applies_markers(tmp_path: Path) -> None:
    lock = tmp_path / "lock.txt"
    lock.write_text(
        "numpy==1.0.0 ; python_full_version < '3.0' \\\n    --hash=sha256:abc\n"
        "Pydantic_Core==2.0.0 \\\n    --hash=sha256:def \\\n    --hash=sha256:123\n"
        "    # via pydantic\n"
    )
    assert locked_requirements(lock) == {"pydantic-core": "2.0.0"}


def test_drift_from_the_lock_is_a_failure_with_a_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lock = tmp_path / "lock.txt"
    lock.write_text("pytest==0.0.1\nno-such-package-for-sure==1.0\n")
    monkeypatch.setattr(doctor, "find_lock_file", lambda: lock)
    result = check_lock()
    assert not result.ok
    assert "2 of 2 differ from the lock" in result.detail
    assert "pytest" in result.detail and "no-such-package-for-sure missing" in result.detail
    assert "-> fix: run ./run setup" in result.line


def test_unknown_course_variable_is_flagged(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COURSE_SEEED", "3")
    result = doctor.check_settings()
    assert not result.ok and "COURSE_SEEED (did you mean COURSE_SEED?)" in result.detail


def test_the_run_scripts_variables_pass_the_settings_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """./run's own variables are no settings but no typos either (lesson 00 runs this check)."""
    monkeypatch.setenv("COURSE_VENV", "/somewhere/.venv")
    monkeypatch.setenv("COURSE_NO_UV", "1")
    result = doctor.check_settings()
    assert result.ok, result.line


def test_bad_setting_is_flagged(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COURSE_SEED", "-1")
    result = doctor.check_settings()
    assert not result.ok and "'seed'" in result.detail


def test_doctor_command_exits_non_zero_on_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = [
        CheckResult("python", True, "Python 3.x"),
        CheckResult("sqlite", False, "sqlite-vec could not be loaded", "pip install sqlite-vec"),
    ]
    monkeypatch.setattr(doctor, "run_checks", lambda **_: fake)
    result = CliRunner().invoke(app, ["doctor", "--no-kernel"])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0].startswith("[ok  ] python")
    assert lines[1] == (
        "[FAIL] sqlite       sqlite-vec could not be loaded -> fix: pip install sqlite-vec"
    )
    assert "1 of 2 checks failed" in lines[2]


def test_reset_command_empties_the_work_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from course_lib.settings import load_settings
    from course_lib.workdir import ensure_work_dir, work_path

    monkeypatch.setenv("COURSE_WORK_DIR", str(tmp_path / "work"))
    settings = load_settings()  # not the process-wide cache, which another test may have filled
    ensure_work_dir(settings)
    work_path("index.sqlite", settings=settings).write_text("x")
    result = CliRunner().invoke(app, ["reset", "--yes"])
    assert result.exit_code == 0, result.output
    assert "1 entries removed" in result.output
    assert not (tmp_path / "work" / "index.sqlite").exists()


def test_reset_refuses_a_foreign_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    monkeypatch.setenv("COURSE_WORK_DIR", str(tmp_path))
    result = CliRunner().invoke(app, ["reset", "--yes"])
    assert result.exit_code == 1
    assert "error: Refusing" in result.output
    assert (tmp_path / "notes.txt").exists()


def test_a_stock_kernel_is_reported_with_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the course's kernel config, lessons open as modified: doctor says how to fix it."""
    import jupyter_client.manager

    import course_lib

    class Client:
        def execute_interactive(self, code: str, timeout: float, output_hook) -> dict:  # type: ignore[no-untyped-def]
            text = f"{course_lib.__file__}\nIPythonKernel\n"
            output_hook({"msg_type": "stream", "content": {"text": text}})
            return {"content": {"status": "ok"}}

        def stop_channels(self) -> None:
            pass

    class Manager:
        def shutdown_kernel(self, now: bool) -> None:
            pass

    monkeypatch.setattr(
        jupyter_client.manager, "start_new_kernel", lambda **kwargs: (Manager(), Client())
    )
    result = doctor.check_jupyter_kernel()
    assert not result.ok
    assert "IPythonKernel" in result.detail and "marked modified" in result.detail
    assert "course_lib.course.lab_settings" in result.fix
