"""An exact-match cache: the same request, byte for byte, gets the stored response.

The key is the SHA-256 of the request in a canonical JSON form (keys sorted, no spaces), so
two requests that differ in anything the model sees, the model name, a parameter, one
character of a message, miss each other, and two dicts built in another order hit. A hit is
safe exactly when the response is a function of the request: temperature 0, no tool results
that change, no time-dependent context. Requests that break that belong outside the cache.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from course_lib.caching.stores import CacheStore, StoredEntry, open_cache_store
from course_lib.errors import CacheError

__all__ = ["CacheStats", "ExactCache", "request_key"]

_SCOPE = "exact"


def request_key(request: Mapping[str, Any]) -> str:
    """The SHA-256 (hex) of ``request``'s canonical JSON: equal requests, equal keys.

    >>> a = request_key({"model": "m", "temperature": 0})
    >>> a == request_key({"temperature": 0, "model": "m"})
    True
    """
    try:
        text = json.dumps(
            request, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
    except (TypeError, ValueError) as exc:
        raise CacheError(
            f"A cached request must be plain JSON (dicts, lists, strings, numbers, booleans, "
            f"None): {exc}. Convert objects first, e.g. model.model_dump(mode='json')."
        ) from exc
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class CacheStats:
    """Hits and misses since the cache object was made."""

    hits: int = 0
    misses: int = 0

    @property
    def lookups(self) -> int:
        return self.hits + self.misses

    @property
    def hit_rate(self) -> float:
        """Hits per lookup; 0.0 before the first lookup."""
        return self.hits / self.lookups if self.lookups else 0.0


def check_ttl(ttl_s: float | None) -> float | None:
    if ttl_s is None:
        return None
    if isinstance(ttl_s, bool) or not isinstance(ttl_s, int | float) or not ttl_s > 0:
        raise CacheError(
            f"ttl_s is a number of seconds > 0, or None for no expiry (got {ttl_s!r})."
        )
    return float(ttl_s)


def check_max_entries(max_entries: int | None) -> int | None:
    if max_entries is None:
        return None
    if isinstance(max_entries, bool) or not isinstance(max_entries, int) or max_entries < 1:
        raise CacheError(
            f"max_entries is a positive whole number, or None for no limit (got {max_entries!r})."
        )
    return max_entries


class ExactCache:
    """Responses by request, on SQLite or Redis, with an expiry and a size limit.

    Args:
        name: the cache's name; entries are shared by every cache of that name and store.
        url: a ``redis://`` URL; None reads the ``cache_url`` setting; "" forces SQLite.
        path: the SQLite file (default ``caches/<name>.sqlite`` in the work directory).
        ttl_s: seconds an entry is served after it is stored (None: until evicted).
        max_entries: keep at most this many entries, dropping the oldest (None: no limit).
        clock: seconds now; tests and simulations pass a virtual clock.
    """

    def __init__(
        self,
        name: str = "answers",
        *,
        url: str | None = None,
        path: Path | None = None,
        ttl_s: float | None = None,
        max_entries: int | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.ttl_s = check_ttl(ttl_s)
        self.max_entries = check_max_entries(max_entries)
        self.clock = clock
        self.store: CacheStore = open_cache_store(name, url, path=path)
        self.stats = CacheStats()

    @property
    def location(self) -> str:
        """Where the entries live (a file path, or the Redis URL without its password)."""
        return self.store.location

    def get(self, request: Mapping[str, Any]) -> Any | None:
        """The stored response for ``request``, or None (a miss) when absent or expired."""
        key = request_key(request)
        entry = self.store.get(_SCOPE, key)
        if entry is not None and entry.expires is not None and entry.expires <= self.clock():
            self.store.delete(_SCOPE, key)
            entry = None
        if entry is None:
            self.stats.misses += 1
            return None
        self.stats.hits += 1
        return json.loads(entry.value)

    def put(self, request: Mapping[str, Any], response: Any) -> str:
        """Stores ``response`` (plain JSON) for ``request``; returns the request's key."""
        key = request_key(request)
        if response is None:
            raise CacheError("None cannot be cached: a lookup returns None for a miss.")
        try:
            value = json.dumps(response, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise CacheError(
                f"A cached response must be plain JSON: {exc}. Store the parts you need, "
                "e.g. response.model_dump(mode='json')."
            ) from exc
        now = self.clock()
        expires = now + self.ttl_s if self.ttl_s is not None else None
        self.store.put(_SCOPE, StoredEntry(key, value, now, expires))
        if self.max_entries is not None:
            self.store.evict_oldest(_SCOPE, self.max_entries)
        return key

    def get_or_compute(self, request: Mapping[str, Any], compute: Callable[[], Any]) -> Any:
        """The cached response, or ``compute()``'s, stored for next time."""
        found = self.get(request)
        if found is not None:
            return found
        response = compute()
        self.put(request, response)
        return response

    def __len__(self) -> int:
        return self.store.count(_SCOPE)

    def clear(self) -> None:
        """Removes every entry of this cache's name (both kinds) from its store."""
        self.store.clear()

    def close(self) -> None:
        self.store.close()
