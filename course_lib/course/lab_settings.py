"""Jupyter settings the course environment ships with: no news prompt, no update checks, and
a kernel that leaves an untouched lesson unmodified.

A learner's first start should open lesson 00, not a box asking whether JupyterLab may fetch
news from the internet; and a course that runs offline should not reach for a website on its
own. JupyterLab reads administrator overrides from ``overrides.json`` in its application
settings directory (``<prefix>/share/jupyter/lab/settings``), so ``./run`` and Binder's
``postBuild`` write them there with :func:`install_overrides`. A learner can still change
either setting in JupyterLab's settings editor.

The same scripts select :class:`~course_lib.course.kernel.CourseKernel` in the environment's
IPython kernel config (``<prefix>/etc/ipython/ipython_kernel_config.json``, read by every
kernel that environment's Python starts) with :func:`install_kernel_config`: why is in that
module.

Run it as ``python -m course_lib.course.lab_settings`` to install both into the running
Python's environment.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from course_lib.course.kernel import KERNEL_CLASS

__all__ = [
    "KERNEL_CONFIG",
    "OVERRIDES",
    "install_kernel_config",
    "install_overrides",
    "kernel_config_path",
    "overrides_path",
]

OVERRIDES: dict[str, dict[str, Any]] = {
    "@jupyterlab/apputils-extension:notification": {
        "fetchNews": "false",  # "none" (the default) asks the learner on first start
        "checkForUpdates": False,
    }
}


KERNEL_CONFIG: dict[str, dict[str, Any]] = {"IPKernelApp": {"kernel_class": KERNEL_CLASS}}


def overrides_path(prefix: str | Path) -> Path:
    """Where JupyterLab in the environment at ``prefix`` reads its overrides."""
    return Path(prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"


def install_overrides(prefix: str | Path = sys.prefix) -> Path:
    """Write the course's overrides, keeping any others already in the file.

    An existing ``overrides.json`` that is not a JSON object is replaced, since JupyterLab
    would ignore it anyway.
    """
    return _merge_into(overrides_path(prefix), OVERRIDES)


def kernel_config_path(prefix: str | Path) -> Path:
    """Where IPython kernels started by the Python at ``prefix`` read their configuration."""
    return Path(prefix) / "etc" / "ipython" / "ipython_kernel_config.json"


def install_kernel_config(prefix: str | Path = sys.prefix) -> Path:
    """Select the course kernel, keeping any other kernel settings already in the file."""
    return _merge_into(kernel_config_path(prefix), KERNEL_CONFIG)


def _merge_into(path: Path, settings: dict[str, dict[str, Any]]) -> Path:
    """Write ``settings`` into the JSON object at ``path``, section by section.

    A file that is not a JSON object is replaced, since Jupyter would ignore it anyway.
    """
    current: dict[str, Any] = {}
    if path.exists():
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            loaded = None
        if isinstance(loaded, dict):
            current = loaded
    for section, values in settings.items():
        merged = current.get(section)
        current[section] = {**(merged if isinstance(merged, dict) else {}), **values}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


if __name__ == "__main__":
    print(f"JupyterLab overrides written to {install_overrides()}")
    print(f"Kernel settings written to {install_kernel_config()}")
