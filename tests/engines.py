"""Helpers for tests that run on both sides: the embedded default and the production engine.

The fixtures (``postgres_url``, ``index_place``) live in the root ``conftest.py``.
"""

from __future__ import annotations

from typing import Any


def same_place(index: Any) -> dict[str, Any]:
    """The keyword arguments that open ``index`` again, on either side."""
    store = index._store
    if index.backend == "postgres":
        return {"path": store.url, "name": store.name}
    return {"path": store.path}
