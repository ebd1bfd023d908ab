"""SQLite connections with the ``sqlite-vec`` extension loaded, on any Python build.

Many Python builds (pyenv's, some python.org ones) compile ``sqlite3`` without extension
loading. ``sqlean.py`` is a drop-in ``sqlite3`` that always can, so it is the fallback; the
SQL is the same either way.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

__all__ = ["connect_with_vec", "stdlib_can_load_extensions"]


def stdlib_can_load_extensions() -> bool:
    """Tells whether this Python's own sqlite3 can load extensions."""
    connection = sqlite3.connect(":memory:")
    try:
        return hasattr(connection, "enable_load_extension")
    finally:
        connection.close()


def connect_with_vec(path: str | Path = ":memory:") -> tuple[Any, str]:
    """Opens ``path`` with sqlite-vec loaded; returns the connection and the backend used.

    The backend is ``"sqlite3"`` (the standard library) or ``"sqlean"`` (the fallback).
    """
    import sqlite_vec

    if stdlib_can_load_extensions():
        connection: Any = sqlite3.connect(str(path))
        backend = "sqlite3"
    else:
        import sqlean

        connection = sqlean.connect(str(path))
        backend = "sqlean"
    connection.enable_load_extension(True)
    sqlite_vec.load(connection)
    connection.enable_load_extension(False)
    return connection, backend
