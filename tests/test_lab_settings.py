"""The course environment's Jupyter settings: no news prompt or update checks, course kernel."""

from __future__ import annotations

import json
from pathlib import Path

from course_lib.course.kernel import KERNEL_CLASS
from course_lib.course.lab_settings import (
    OVERRIDES,
    install_kernel_config,
    install_overrides,
    kernel_config_path,
    overrides_path,
)

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = "share/jupyter/lab/schemas/@jupyterlab/apputils-extension/notification.json"


def test_overrides_turn_off_news_and_update_checks(tmp_path: Path) -> None:
    path = install_overrides(tmp_path)
    assert path == overrides_path(tmp_path)
    settings = json.loads(path.read_text(encoding="utf-8"))
    notification = settings["@jupyterlab/apputils-extension:notification"]
    assert notification == {"checkForUpdates": False, "fetchNews": "false"}


def test_existing_overrides_are_kept(tmp_path: Path) -> None:
    path = overrides_path(tmp_path)
    path.parent.mkdir(parents=True)
    theme = {"@jupyterlab/apputils-extension:themes": {"theme": "JupyterLab Dark"}}
    path.write_text(json.dumps(theme), encoding="utf-8")
    settings = json.loads(install_overrides(tmp_path).read_text(encoding="utf-8"))
    assert settings["@jupyterlab/apputils-extension:themes"] == {"theme": "JupyterLab Dark"}
    assert "@jupyterlab/apputils-extension:notification" in settings


def test_a_broken_overrides_file_is_replaced(tmp_path: Path) -> None:
    path = overrides_path(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text("{not json", encoding="utf-8")
    assert json.loads(install_overrides(tmp_path).read_text(encoding="utf-8")) == OVERRIDES


def test_the_settings_exist_in_the_installed_jupyterlab() -> None:
    """The setting names and values are the ones this JupyterLab's schema defines."""
    import sys

    schema = json.loads((Path(sys.prefix) / SCHEMA).read_text(encoding="utf-8"))
    properties = schema["properties"]
    values = OVERRIDES["@jupyterlab/apputils-extension:notification"]
    assert set(values) <= set(properties)
    assert values["fetchNews"] in {choice["const"] for choice in properties["fetchNews"]["oneOf"]}


def test_run_and_binder_install_them() -> None:
    for script in ("run", "binder/postBuild"):
        assert "course_lib.course.lab_settings" in (ROOT / script).read_text(encoding="utf-8")


def test_kernel_config_selects_the_course_kernel_and_keeps_other_settings(tmp_path: Path) -> None:
    path = kernel_config_path(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"IPKernelApp": {"matplotlib": "inline"}}), encoding="utf-8")
    settings = json.loads(install_kernel_config(tmp_path).read_text(encoding="utf-8"))
    assert settings["IPKernelApp"] == {"kernel_class": KERNEL_CLASS, "matplotlib": "inline"}


def test_the_course_kernel_reports_what_the_lessons_store() -> None:
    """JupyterLab marks a lesson modified when the kernel's language_info differs from the
    stored one; the course kernel reports it without the Python version, as lessons store it."""
    import nbformat
    from ipykernel.ipkernel import IPythonKernel

    from course_lib.course.kernel import CourseKernel

    stored = nbformat.read(ROOT / "notebooks/0_start_here/00_start_here.ipynb", as_version=4)
    assert "version" in IPythonKernel.language_info  # what stock ipykernel adds on open
    assert CourseKernel.language_info == stored.metadata["language_info"]


def test_the_course_environment_starts_the_course_kernel() -> None:
    """./run installed the kernel config: a kernel of this environment reports no version."""
    from jupyter_client.manager import start_new_kernel

    manager, client = start_new_kernel(kernel_name="python3")
    try:
        reply = client.kernel_info(reply=True, timeout=60)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    assert "version" not in reply["content"]["language_info"]
