"""The IPython kernel the course environment runs: ipykernel, minus the Python version it reports.

JupyterLab copies the kernel's ``language_info`` into a notebook's metadata as soon as the
kernel connects, and marks the notebook modified when the value differs from the stored one.
Stock ipykernel reports the exact Python version ("3.12.4"), which the lessons cannot store:
they are built once and opened on every supported Python. So an untouched lesson would be
"modified" on open, ask "Save your work?" on close, and autosave would rewrite a tracked file.
This kernel reports everything ipykernel does except ``version``, which is what ``course
build`` stores, so opening a lesson changes nothing. Execution is stock ipykernel.

The environment selects it through ``<prefix>/etc/ipython/ipython_kernel_config.json`` (see
:mod:`course_lib.course.lab_settings`); a Jupyter without that file runs stock ipykernel, and
the lessons work the same, only marked modified on open.
"""

from __future__ import annotations

from typing import Any

from ipykernel.ipkernel import IPythonKernel

__all__ = ["KERNEL_CLASS", "CourseKernel"]

KERNEL_CLASS = "course_lib.course.kernel.CourseKernel"


class CourseKernel(IPythonKernel):
    """ipykernel with a ``language_info`` that is the same on every Python 3 version."""

    language_info: dict[str, Any] = {  # noqa: RUF012 - replaces ipykernel's class attribute
        key: value for key, value in IPythonKernel.language_info.items() if key != "version"
    }
