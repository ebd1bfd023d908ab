"""Executing notebooks the same way everywhere: in ``course build``, nbval and papermill.

Stored outputs are only a regression baseline if the kernel that made them and the kernel
that checks them see the same environment, so both take it from :func:`kernel_environment`.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import nbformat

__all__ = [
    "DETERMINISTIC_ENV",
    "KERNEL_NAME",
    "WIDGET_VIEW_MIME",
    "apply_kernel_environment",
    "execute_notebook",
    "kernel_environment",
    "temporary_work_dir",
]

KERNEL_NAME = "python3"
WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json"

# Values every kernel gets. None removes the variable: an inherited MPLBACKEND=Agg would
# drop every figure, and a learner's own course.toml must not change the stored outputs.
DETERMINISTIC_ENV: Mapping[str, str | None] = {
    "PYTHONHASHSEED": "0",
    "SOURCE_DATE_EPOCH": "0",
    "TQDM_DISABLE": "1",
    "PLOTLY_RENDERER": "plotly_mimetype",
    "MPLBACKEND": None,
    "COURSE_CONFIG_FILE": "",
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
}


def kernel_environment(
    *, strict: bool, work_dir: Path, base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Returns the environment a lesson kernel runs in.

    Args:
        strict: whether a failing exercise check raises (solutions) or only reports (learners).
        work_dir: the course work directory for this run; a fresh one per notebook keeps
            runs independent of what an earlier run left behind.
        base: the environment to start from (default: this process's).
    """
    env = dict(os.environ if base is None else base)
    for key, value in DETERMINISTIC_ENV.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    env["COURSE_STRICT"] = "1" if strict else "0"
    env["COURSE_WORK_DIR"] = str(work_dir)
    return env


def apply_kernel_environment(*, strict: bool, work_dir: Path) -> None:
    """Sets :func:`kernel_environment` on this process, for tools that start kernels from it."""
    wanted = kernel_environment(strict=strict, work_dir=work_dir)
    for key in [k for k in os.environ if k not in wanted]:
        del os.environ[key]
    os.environ.update(wanted)


@contextmanager
def temporary_work_dir(prefix: str = "course-work-") -> Iterator[Path]:
    """Yields a fresh, empty work directory that is removed afterwards."""
    with tempfile.TemporaryDirectory(prefix=prefix) as folder:
        yield Path(folder)


def execute_notebook(
    notebook: nbformat.NotebookNode,
    *,
    cwd: Path,
    strict: bool,
    timeout: int = 600,
) -> nbformat.NotebookNode:
    """Runs every cell of ``notebook`` in a fresh kernel and returns it with outputs.

    The kernel starts in ``cwd`` (as nbval's does: the notebook's folder) with a fresh work
    directory, so the outputs depend on the lesson alone.
    """
    from nbclient import NotebookClient  # heavy; only builds and tests execute notebooks

    with temporary_work_dir() as work_dir:
        env = kernel_environment(strict=strict, work_dir=work_dir)
        client = NotebookClient(
            notebook,
            kernel_name=KERNEL_NAME,
            timeout=timeout,
            record_timing=False,
            resources={"metadata": {"path": str(cwd)}},
        )
        cwd.mkdir(parents=True, exist_ok=True)
        # nbclient passes extra keyword arguments on to the kernel manager's start_kernel;
        # the kernel's own stderr only carries start-up banners, so it is dropped.
        client.execute(env=env, stderr=subprocess.DEVNULL)
    return notebook
