"""course_lib: the helper library of the Production AI Engineering course.

Two parts, kept apart on purpose:

* the production library learners study and reuse (settings, work directory, embeddings,
  storage, and more as the course grows), which never imports the course machinery;
* ``course_lib.course``: the classroom (building lessons, exercise checkers, ``course doctor``,
  the ``course`` command line).

Importing ``course_lib`` is cheap: heavy libraries load only when a function needs them.
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["__version__"]
