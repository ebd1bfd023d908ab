"""The local trace backend: MLflow's server started from its package, fed over OTLP, read back.

The end-to-end test starts a real server (some seconds); the others check the ways it can
fail and that no server outlives what started it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from course_lib.errors import OptionalDependencyError, TracingError
from course_lib.observability import (
    MLFLOW_EXPERIMENT_HEADER,
    MLflowBackend,
    backend as backend_module,
    find_personal_data,
    setup_tracing,
    start_mlflow_backend,
    trace_workflow,
    traced_chat,
)
from course_lib.standin import local_client

EMAIL = "jan.kowalski@kestrel.example"


def _gone(pid: int, within_s: float) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        # A child that exited but was not waited for is a zombie: gone for our purpose.
        stat = Path(f"/proc/{pid}/stat")
        if stat.exists() and stat.read_text().split(") ")[-1].startswith("Z"):
            return True
        time.sleep(0.1)
    return False


@pytest.mark.slow
def test_spans_exported_over_otlp_come_back_redacted(tmp_path: Path) -> None:
    backend = start_mlflow_backend(tmp_path / "backend", experiment="tests")
    try:
        assert backend.running and backend.url.startswith("http://127.0.0.1:")
        with pytest.raises(TracingError, match="wait_until_ready"):
            _ = backend.otlp_headers
        backend.wait_until_ready(timeout_s=180)
        assert backend.otlp_headers == {MLFLOW_EXPERIMENT_HEADER: backend.experiment_id}
        assert backend.otlp_endpoint == f"{backend.url}/v1/traces"
        tracing = setup_tracing(
            "otlp",
            otlp_endpoint=backend.otlp_endpoint,
            otlp_headers=backend.otlp_headers,
            capture_message_content=True,
            redact_personal_data=True,
        )
        client = local_client()
        for question in ("When is the on-call handover?", f"I am {EMAIL}, how do I reset MFA?"):
            with trace_workflow(tracing):
                traced_chat(client, tracing, question, prompt_version="handbook-answer@v3")
        assert tracing.force_flush()
        tracing.shutdown()
        frame = backend.spans_frame()
    finally:
        backend.stop()
    assert list(frame["trace"]) == [1, 1, 2, 2]
    assert list(frame["name"]) == ["invoke_workflow handbook-assistant", "chat local-small"] * 2
    assert list(frame["parent"].fillna("-")) == ["-", "invoke_workflow handbook-assistant"] * 2
    chats = frame[frame["name"] == "chat local-small"]
    assert set(chats["span_type"]) == {"CHAT_MODEL"}
    assert set(chats["course.prompt.ref"]) == {"handbook-answer@v3"}
    assert (chats["gen_ai.usage.input_tokens"] > 0).all()
    assert "mlflow.traceRequestId" not in frame.columns  # random ids are left out
    stored = frame.to_json()
    assert EMAIL not in stored and "[REDACTED:email]" in stored
    assert not backend.running
    assert "server.log" in {p.name for p in (tmp_path / "backend").iterdir()}
    with pytest.raises(TracingError, match=r"has been stopped.*start_mlflow_backend"):
        backend.spans_frame()
    with pytest.raises(TracingError, match="has been stopped"):
        backend.wait_until_ready()


def test_the_server_runs_offline(tmp_path: Path) -> None:
    """Telemetry off and no download of model prices, in the server's own environment."""
    backend = start_mlflow_backend(tmp_path)
    try:
        # Until the child has exec'd the server, /proc shows the environment it forked with.
        backend.wait_until_ready()
        environ = Path(f"/proc/{backend.process.pid}/environ")
        if not environ.exists():
            pytest.skip("no /proc on this system")
        variables = dict(
            item.split("=", 1) for item in environ.read_text().split("\0") if "=" in item
        )
    finally:
        backend.stop()
    assert variables["MLFLOW_DISABLE_TELEMETRY"] == "true"
    assert variables["MLFLOW_MODEL_CATALOG_URI"] == ""
    assert variables["TMPDIR"] == str(tmp_path)
    assert os.environ["MLFLOW_DISABLE_TELEMETRY"] == "true"


def test_stop_ends_the_server_and_can_be_called_twice(tmp_path: Path) -> None:
    backend = start_mlflow_backend(tmp_path)
    pid = backend.process.pid
    backend.stop()
    backend.stop()
    assert not backend.running and _gone(pid, 5)
    assert backend.log_file.closed


def test_the_server_ends_when_its_parent_dies(tmp_path: Path) -> None:
    """A kernel killed outright cannot stop its server: the server notices and exits."""
    code = textwrap.dedent(
        f"""
        import os
        from course_lib.observability import start_mlflow_backend
        backend = start_mlflow_backend({str(tmp_path)!r})
        print(backend.process.pid, flush=True)
        os._exit(0)  # no clean-up runs, as when a kernel is killed
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    server_pid = int(out.stdout.strip())
    assert _gone(server_pid, 10), "the MLflow server outlived the process that started it"


def test_a_server_that_exits_early_is_reported_with_its_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "fake_python"
    fake.write_text("#!/bin/sh\necho 'ModuleNotFoundError: no module named flask_cors'\nexit 3\n")
    fake.chmod(0o755)
    monkeypatch.setattr(backend_module.sys, "executable", str(fake))
    backend = start_mlflow_backend(tmp_path / "backend")
    with pytest.raises(TracingError) as info:
        backend.wait_until_ready(timeout_s=30)
    message = str(info.value)
    assert "exited with code 3" in message and "flask_cors" in message


def test_a_server_that_does_not_answer_in_time_is_stopped(tmp_path: Path) -> None:
    backend = start_mlflow_backend(tmp_path)
    with pytest.raises(TracingError, match=r"did not answer within 0 s, so it was stopped"):
        backend.wait_until_ready(timeout_s=0.01)
    assert not backend.running


def test_missing_server_packages_say_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = backend_module.find_spec
    monkeypatch.setattr(
        backend_module, "find_spec", lambda name: None if name == "alembic" else real(name)
    )
    with pytest.raises(OptionalDependencyError, match=r"'alembic'.*pip install mlflow-skinny"):
        start_mlflow_backend(tmp_path)


def test_a_fresh_start_removes_only_the_previous_runs_files(tmp_path: Path) -> None:
    for name in ("mlflow.db", "server.log", "notes.txt"):
        (tmp_path / name).write_text("old")
    (tmp_path / "artifacts").mkdir()
    backend = start_mlflow_backend(tmp_path)
    backend.stop()
    assert (tmp_path / "notes.txt").read_text() == "old"
    assert not (tmp_path / "artifacts").exists()
    assert (tmp_path / "server.log").read_text() != "old"


def test_a_backend_is_a_context_manager(tmp_path: Path) -> None:
    with start_mlflow_backend(tmp_path) as backend:
        assert isinstance(backend, MLflowBackend) and backend.running
    assert not backend.running


def test_the_default_folder_is_in_the_work_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from course_lib.settings import get_settings

    monkeypatch.setenv("COURSE_WORK_DIR", str(tmp_path / "work"))
    get_settings.cache_clear()
    try:
        with start_mlflow_backend() as backend:
            assert backend.directory == (tmp_path / "work" / "trace-backend")
    finally:
        get_settings.cache_clear()


def test_personal_data_is_recognised_in_the_questions_it_guards() -> None:
    assert [m.kind for m in find_personal_data(f"mail {EMAIL}")] == ["email"]
