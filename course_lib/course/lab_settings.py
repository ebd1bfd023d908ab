"""JupyterLab settings the course environment ships with: no news prompt, no update checks.

A learner's first start should open lesson 00, not a box asking whether JupyterLab may fetch
news from the internet; and a course that runs offline should not reach for a website on its
own. JupyterLab reads administrator overrides from ``overrides.json`` in its application
settings directory (``<prefix>/share/jupyter/lab/settings``), so ``./run`` and Binder's
``postBuild`` write them there with :func:`install_overrides`. A learner can still change
either setting in JupyterLab's settings editor.

Run it as ``python -m course_lib.course.lab_settings`` to install into the running Python's
environment.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

__all__ = ["OVERRIDES", "install_overrides", "overrides_path"]

OVERRIDES: dict[str, dict[str, Any]] = {
    "@jupyterlab/apputils-extension:notification": {
        "fetchNews": "false",  # "none" (the default) asks the learner on first start
        "checkForUpdates": False,
    }
}


def overrides_path(prefix: str | Path) -> Path:
    """Where JupyterLab in the environment at ``prefix`` reads its overrides."""
    return Path(prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"


def install_overrides(prefix: str | Path = sys.prefix) -> Path:
    """Write the course's overrides, keeping any others already in the file.

    An existing ``overrides.json`` that is not a JSON object is replaced, since JupyterLab
    would ignore it anyway.
    """
    path = overrides_path(prefix)
    current: dict[str, Any] = {}
    if path.exists():
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            loaded = None
        if isinstance(loaded, dict):
            current = loaded
    for plugin, values in OVERRIDES.items():
        merged = current.get(plugin)
        current[plugin] = {**(merged if isinstance(merged, dict) else {}), **values}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


if __name__ == "__main__":
    print(f"JupyterLab overrides written to {install_overrides()}")
