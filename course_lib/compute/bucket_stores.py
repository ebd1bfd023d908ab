"""Where a rate limiter's buckets live: one process, one machine (SQLite) or many (Redis).

A limit kept in one process's memory is only a limit for that process: two workers each
holding "500 requests a minute" send 1,000. Sharing the buckets fixes it, and the one hard
requirement is that refill-and-take happens atomically, so two callers cannot both spend the
last unit. SQLite gets that from a write transaction (``BEGIN IMMEDIATE``), Redis from a Lua
script, which the server runs without interleaving other commands. Both run the arithmetic
of :func:`~course_lib.compute.rate_limits.take_from_buckets`, so under the same clock readings
they make the same decisions.

The callers pass the time. With real clocks on several machines, their readings must agree
(a monotonic clock does not, across machines): use wall-clock time synchronised by NTP, or
read Redis's ``TIME`` once per call.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from course_lib.compute.rate_limits import take_from_buckets
from course_lib.errors import EngineUnavailableError, SettingsError

__all__ = [
    "REDIS_TAKE_SCRIPT",
    "BucketStore",
    "MemoryBucketStore",
    "RedisBucketStore",
    "SQLiteBucketStore",
    "bucket_store",
]

ENGINES_HINT = "start the engines with ./run services up and export the lines it prints"


class BucketStore(Protocol):
    """Keeps bucket levels per key and decides, atomically, whether a take fits."""

    def take(
        self,
        key: str,
        amounts: Sequence[float],
        rates: Sequence[float],
        capacities: Sequence[float],
        now: float,
    ) -> float:
        """Refill the key's buckets to ``now`` and take ``amounts`` from all or none; returns
        the seconds to wait, 0 when taken."""
        ...

    def reset(self, key: str) -> None:
        """Forget the key's buckets: the next take finds them full."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


class MemoryBucketStore:
    """Buckets in this process's memory, behind a lock: one process, any number of tasks."""

    def __init__(self) -> None:
        self._state: dict[str, tuple[list[float], float]] = {}
        self._lock = threading.Lock()

    def take(
        self,
        key: str,
        amounts: Sequence[float],
        rates: Sequence[float],
        capacities: Sequence[float],
        now: float,
    ) -> float:
        with self._lock:
            levels, updated = self._state.get(key, (None, now))
            new, new_updated, wait = take_from_buckets(
                levels, updated, now, amounts, rates, capacities
            )
            self._state[key] = (new, new_updated)
            return wait

    def levels(self, key: str) -> list[float] | None:
        """The key's levels at its last take (``None`` before the first): for headers such as
        ``x-ratelimit-remaining-requests``."""
        with self._lock:
            state = self._state.get(key)
            return list(state[0]) if state else None

    def reset(self, key: str) -> None:
        with self._lock:
            self._state.pop(key, None)

    def close(self) -> None:
        return None


class SQLiteBucketStore:
    """Buckets in a SQLite file: every process on the machine that opens it shares them.

    Each take is one ``BEGIN IMMEDIATE`` transaction: SQLite lets one writer in at a time, so
    the read, the decision and the write cannot interleave with another process's.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._connection = sqlite3.connect(
            str(self.path), timeout=30.0, isolation_level=None, check_same_thread=False
        )
        self._lock = threading.Lock()
        self._connection.execute(
            "CREATE TABLE IF NOT EXISTS rate_buckets ("
            "key TEXT PRIMARY KEY, levels TEXT NOT NULL, updated REAL NOT NULL)"
        )

    def take(
        self,
        key: str,
        amounts: Sequence[float],
        rates: Sequence[float],
        capacities: Sequence[float],
        now: float,
    ) -> float:
        with self._lock:
            cursor = self._connection.cursor()
            cursor.execute("BEGIN IMMEDIATE")
            try:
                row = cursor.execute(
                    "SELECT levels, updated FROM rate_buckets WHERE key = ?", (key,)
                ).fetchone()
                levels = json.loads(row[0]) if row else None
                updated = float(row[1]) if row else now
                new, new_updated, wait = take_from_buckets(
                    levels, updated, now, amounts, rates, capacities
                )
                cursor.execute(
                    "INSERT INTO rate_buckets (key, levels, updated) VALUES (?, ?, ?) "
                    "ON CONFLICT(key) DO UPDATE SET levels = excluded.levels, "
                    "updated = excluded.updated",
                    (key, json.dumps(new), new_updated),
                )
                cursor.execute("COMMIT")
            except BaseException:
                cursor.execute("ROLLBACK")
                raise
            return wait

    def reset(self, key: str) -> None:
        with self._lock:
            self._connection.execute("DELETE FROM rate_buckets WHERE key = ?", (key,))

    def close(self) -> None:
        self._connection.close()


# The arithmetic of take_from_buckets, step for step, in Redis's Lua (numbers are doubles, so
# the results are the same bits). Levels and times are stored and returned as %.17g strings:
# Redis would truncate a Lua number returned as a reply to an integer.
REDIS_TAKE_SCRIPT = """
local n = tonumber(ARGV[2])
local now = tonumber(ARGV[1])
local stored = redis.call('HGET', KEYS[1], 'levels')
local updated = tonumber(redis.call('HGET', KEYS[1], 'updated') or ARGV[1])
local levels = {}
if stored then
  for value in string.gmatch(stored, '[^,]+') do table.insert(levels, tonumber(value)) end
end
if #levels ~= n then
  levels = {}
  for i = 1, n do levels[i] = tonumber(ARGV[2 + 3 * i]) end
  updated = now
end
local elapsed = math.max(0.0, now - updated)
local wait = 0.0
for i = 1, n do
  local amount = tonumber(ARGV[3 * i])
  local rate = tonumber(ARGV[1 + 3 * i])
  local capacity = tonumber(ARGV[2 + 3 * i])
  levels[i] = math.min(capacity, levels[i] + elapsed * rate)
  if amount - levels[i] > 1e-9 then wait = math.max(wait, (amount - levels[i]) / rate) end
end
local parts = {}
for i = 1, n do
  if wait == 0.0 then levels[i] = levels[i] - tonumber(ARGV[3 * i]) end
  parts[i] = string.format('%.17g', levels[i])
end
redis.call('HSET', KEYS[1], 'levels', table.concat(parts, ','),
           'updated', string.format('%.17g', math.max(updated, now)))
return string.format('%.17g', wait)
"""


class RedisBucketStore:
    """Buckets in Redis: every process on every machine that reaches it shares them.

    Each take is one ``EVAL`` of :data:`REDIS_TAKE_SCRIPT`; Redis runs a script to the end
    before any other command, so the decision is atomic across all callers. A key's buckets
    stay in Redis until :meth:`reset`: use one key per provider key, not per run.
    """

    def __init__(self, url: str, *, prefix: str = "course:rate:") -> None:
        from course_lib.services.clients import connect_redis

        self.prefix = prefix
        # One line naming the setting and the fix (password masked) when Redis is not there.
        self._client: Any = connect_redis(url, setting="COURSE_CACHE_URL")

    def take(
        self,
        key: str,
        amounts: Sequence[float],
        rates: Sequence[float],
        capacities: Sequence[float],
        now: float,
    ) -> float:
        arguments: list[str] = [repr(float(now)), str(len(amounts))]
        for amount, rate, capacity in zip(amounts, rates, capacities, strict=True):
            arguments += [repr(float(amount)), repr(float(rate)), repr(float(capacity))]
        import redis

        try:
            reply = self._client.eval(REDIS_TAKE_SCRIPT, 1, self.prefix + key, *arguments)
        except redis.exceptions.ConnectionError as exc:
            raise EngineUnavailableError(
                f"Lost the Redis of the rate limiter ({type(exc).__name__}); {ENGINES_HINT}. "
                "A caller that cannot reach the shared limit should wait and retry, not send."
            ) from None
        return float(reply)

    def reset(self, key: str) -> None:
        self._client.delete(self.prefix + key)

    def close(self) -> None:
        self._client.close()


def bucket_store(url: str | None = None, *, path: str | Path | None = None) -> BucketStore:
    """The store for ``url``: ``None`` for SQLite (``path``, or a file in the work
    directory), ``redis://``/``rediss://`` for Redis."""
    if url is None:
        if path is None:
            from course_lib.workdir import work_path

            path = work_path("compute", "rate_limits.sqlite")
        return SQLiteBucketStore(path)
    if url.startswith(("redis://", "rediss://")):
        return RedisBucketStore(url)
    scheme = url.split(":", 1)[0]
    raise SettingsError(
        f"A rate-limit store URL must start with redis:// or rediss:// (got {scheme}://...); "
        "leave it unset for SQLite in the work directory."
    )
