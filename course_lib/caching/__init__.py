"""Caches in front of model calls: exact-match and semantic, on SQLite or on Redis.

* :class:`ExactCache` serves a stored response to the same request (canonical JSON, SHA-256).
* :class:`SemanticCache` serves the answer of the most similar earlier question in the same
  scope, when the cosine similarity reaches its threshold.
* Both keep their entries in a store chosen by one setting: ``cache_url`` unset keeps them in
  ``caches/<name>.sqlite`` in the work directory; a ``redis://`` URL moves them to Redis. Both
  stores give the same answers (the test suite runs every behaviour on each).

Importing this package loads no numpy, no model and no Redis client: that happens on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from course_lib._lazy import lazy_exports

if TYPE_CHECKING:
    from course_lib.caching.exact import CacheStats, ExactCache, request_key
    from course_lib.caching.semantic import SemanticCache, SemanticHit
    from course_lib.caching.stores import (
        CacheStore,
        RedisCacheStore,
        SqliteCacheStore,
        StoredEntry,
        open_cache_store,
    )

__all__ = [
    "CacheStats",
    "CacheStore",
    "ExactCache",
    "RedisCacheStore",
    "SemanticCache",
    "SemanticHit",
    "SqliteCacheStore",
    "StoredEntry",
    "open_cache_store",
    "request_key",
]

_EXPORTS = {
    "CacheStats": "course_lib.caching.exact",
    "ExactCache": "course_lib.caching.exact",
    "request_key": "course_lib.caching.exact",
    "SemanticCache": "course_lib.caching.semantic",
    "SemanticHit": "course_lib.caching.semantic",
    "CacheStore": "course_lib.caching.stores",
    "RedisCacheStore": "course_lib.caching.stores",
    "SqliteCacheStore": "course_lib.caching.stores",
    "StoredEntry": "course_lib.caching.stores",
    "open_cache_store": "course_lib.caching.stores",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
