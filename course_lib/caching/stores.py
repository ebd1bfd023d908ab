"""Where cache entries live: a SQLite file in the work directory, or Redis.

Both stores keep the same record per entry (the value as JSON text, the text and vector a
semantic cache compares, when it was stored and when it expires) and hand entries back in the
order they were stored. The caches above them do every comparison in Python, so a lookup gives
the same answer on either store: the test suite runs each cache on both and fails on any
difference.

Redis here is the plain server (Debian's ``redis-server``), which has no vector search: a
semantic lookup reads the scope's vectors in one round trip and compares them in numpy. That
is fine for thousands of entries per scope; past that, use Redis's vector search (Redis Stack,
or Redis 8's vector sets) or pgvector, and keep this interface.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from course_lib.errors import CacheError

__all__ = ["CacheStore", "RedisCacheStore", "SqliteCacheStore", "StoredEntry", "open_cache_store"]

_NAME = re.compile(r"[a-z][a-z0-9_-]{0,63}")


@dataclass(frozen=True)
class StoredEntry:
    """One cache entry as a store keeps it.

    Attributes:
        key: the entry's key within its scope (a request's hash, or a semantic entry's id).
        value: the cached value, as JSON text.
        created: when it was stored, in the cache's clock (seconds).
        expires: when it stops being served, or None for never.
        text: the text a semantic cache compares (None in an exact cache).
        vector: that text's embedding as float32 bytes (None in an exact cache).
    """

    key: str
    value: str
    created: float
    expires: float | None
    text: str | None = None
    vector: bytes | None = None


class CacheStore(Protocol):
    """What a cache needs from its storage; each method is one transaction or round trip."""

    location: str

    def get(self, scope: str, key: str) -> StoredEntry | None: ...

    def put(self, scope: str, entry: StoredEntry) -> None: ...

    def delete(self, scope: str, key: str) -> None: ...

    def entries(self, scope: str) -> list[StoredEntry]:
        """Every entry of ``scope``, oldest first."""
        ...

    def vectors(self, scope: str) -> list[tuple[str, bytes, float | None]]:
        """(key, vector, expires) of every entry of ``scope`` that has a vector, oldest first.

        A semantic lookup reads only these, then the one entry that matched.
        """
        ...

    def count(self, scope: str | None = None) -> int: ...

    def evict_oldest(self, scope: str, keep: int) -> int:
        """Removes all but the ``keep`` newest entries of ``scope``; returns how many went."""
        ...

    def clear(self) -> None: ...

    def read_meta(self) -> dict[str, str]: ...

    def write_meta(self, values: dict[str, str]) -> None: ...

    def close(self) -> None: ...


def check_cache_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise CacheError(
            f"A cache name is 1-64 lower-case letters, digits, '-' or '_', starting with a "
            f"letter (got {name!r}), e.g. 'answers'."
        )
    return name


class SqliteCacheStore:
    """Entries in ``caches/<name>.sqlite`` in the work directory (or the ``path`` given)."""

    def __init__(self, name: str, path: Path) -> None:
        self.name = check_cache_name(name)
        self.path = Path(path)
        self.location = str(self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Autocommit: each statement is its own transaction; a cache never needs more.
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        # WAL with NORMAL sync cannot corrupt the file; a crash may lose the last entries,
        # which a cache recomputes. FULL would wait for the disk on every put.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(
            """
            CREATE TABLE IF NOT EXISTS entries (
                scope TEXT NOT NULL, key TEXT NOT NULL, seq INTEGER NOT NULL,
                value TEXT NOT NULL, created REAL NOT NULL, expires REAL,
                text TEXT, vector BLOB,
                PRIMARY KEY (scope, key)
            );
            CREATE INDEX IF NOT EXISTS entries_by_age ON entries (scope, seq);
            CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            """
        )

    def get(self, scope: str, key: str) -> StoredEntry | None:
        row = self._db.execute(
            "SELECT key, value, created, expires, text, vector FROM entries "
            "WHERE scope = ? AND key = ?",
            (scope, key),
        ).fetchone()
        return StoredEntry(*row) if row else None

    def put(self, scope: str, entry: StoredEntry) -> None:
        # A replaced entry takes a new sequence number: it is the newest now.
        self._db.execute(
            "INSERT OR REPLACE INTO entries "
            "(scope, key, seq, value, created, expires, text, vector) VALUES "
            "(?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM entries), ?, ?, ?, ?, ?)",
            (
                scope,
                entry.key,
                entry.value,
                entry.created,
                entry.expires,
                entry.text,
                entry.vector,
            ),
        )

    def delete(self, scope: str, key: str) -> None:
        self._db.execute("DELETE FROM entries WHERE scope = ? AND key = ?", (scope, key))

    def entries(self, scope: str) -> list[StoredEntry]:
        rows = self._db.execute(
            "SELECT key, value, created, expires, text, vector FROM entries "
            "WHERE scope = ? ORDER BY seq",
            (scope,),
        ).fetchall()
        return [StoredEntry(*row) for row in rows]

    def vectors(self, scope: str) -> list[tuple[str, bytes, float | None]]:
        rows = self._db.execute(
            "SELECT key, vector, expires FROM entries WHERE scope = ? AND vector IS NOT NULL "
            "ORDER BY seq",
            (scope,),
        ).fetchall()
        return [(key, bytes(vector), expires) for key, vector, expires in rows]

    def count(self, scope: str | None = None) -> int:
        if scope is None:
            return int(self._db.execute("SELECT COUNT(*) FROM entries").fetchone()[0])
        row = self._db.execute("SELECT COUNT(*) FROM entries WHERE scope = ?", (scope,))
        return int(row.fetchone()[0])

    def evict_oldest(self, scope: str, keep: int) -> int:
        cursor = self._db.execute(
            "DELETE FROM entries WHERE scope = ? AND seq NOT IN "
            "(SELECT seq FROM entries WHERE scope = ? ORDER BY seq DESC LIMIT ?)",
            (scope, scope, keep),
        )
        return int(cursor.rowcount)

    def clear(self) -> None:
        self._db.execute("DELETE FROM entries")
        self._db.execute("DELETE FROM meta")

    def read_meta(self) -> dict[str, str]:
        return dict(self._db.execute("SELECT key, value FROM meta").fetchall())

    def write_meta(self, values: dict[str, str]) -> None:
        self._db.executemany(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", list(values.items())
        )

    def close(self) -> None:
        self._db.close()


class RedisCacheStore:
    """Entries in Redis under ``course:cache:<name>:``: a hash per entry, a sorted set per scope.

    The sorted set orders a scope's keys by a sequence number (``INCR``), the same order the
    SQLite store keeps, so both stores hand entries back alike. A scope's vectors (and expiry
    times) are also kept together in one hash each, so a semantic lookup reads them in one
    round trip of three replies rather than one reply per entry.
    """

    def __init__(self, name: str, url: str) -> None:
        from course_lib.services.clients import connect_redis, safe_url

        self.name = check_cache_name(name)
        self._redis = connect_redis(url, setting="COURSE_CACHE_URL")
        self.location = f"{safe_url(url)} (cache {name!r})"
        self._prefix = f"course:cache:{name}:"

    def _entry_key(self, scope: str, key: str) -> str:
        return f"{self._prefix}e:{scope}:{key}"

    def _scope_key(self, scope: str) -> str:
        return f"{self._prefix}z:{scope}"

    def _vectors_key(self, scope: str) -> str:
        return f"{self._prefix}v:{scope}"

    def _expiry_key(self, scope: str) -> str:
        return f"{self._prefix}x:{scope}"

    def get(self, scope: str, key: str) -> StoredEntry | None:
        return _entry_from_hash(key, self._redis.hgetall(self._entry_key(scope, key)))

    def put(self, scope: str, entry: StoredEntry) -> None:
        fields: dict[str, Any] = {"value": entry.value, "created": repr(entry.created)}
        if entry.expires is not None:
            fields["expires"] = repr(entry.expires)
        if entry.text is not None:
            fields["text"] = entry.text
        if entry.vector is not None:
            fields["vector"] = entry.vector
        seq = self._redis.incr(f"{self._prefix}seq")
        with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(self._entry_key(scope, entry.key))
            pipe.hset(self._entry_key(scope, entry.key), mapping=fields)
            pipe.zadd(self._scope_key(scope), {entry.key: seq})
            pipe.hdel(self._vectors_key(scope), entry.key)
            pipe.hdel(self._expiry_key(scope), entry.key)
            if entry.vector is not None:
                pipe.hset(self._vectors_key(scope), entry.key, entry.vector)
            if entry.expires is not None:
                pipe.hset(self._expiry_key(scope), entry.key, repr(entry.expires))
            pipe.sadd(f"{self._prefix}scopes", scope)
            pipe.execute()

    def delete(self, scope: str, key: str) -> None:
        with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(self._entry_key(scope, key))
            pipe.zrem(self._scope_key(scope), key)
            pipe.hdel(self._vectors_key(scope), key)
            pipe.hdel(self._expiry_key(scope), key)
            pipe.execute()

    def vectors(self, scope: str) -> list[tuple[str, bytes, float | None]]:
        with self._redis.pipeline(transaction=True) as pipe:
            pipe.zrange(self._scope_key(scope), 0, -1)
            pipe.hgetall(self._vectors_key(scope))
            pipe.hgetall(self._expiry_key(scope))
            order, vectors, expiries = pipe.execute()
        found = []
        for raw in order:
            vector = vectors.get(raw)
            if vector is not None:
                expires = expiries.get(raw)
                found.append((raw.decode(), vector, float(expires) if expires else None))
        return found

    def entries(self, scope: str) -> list[StoredEntry]:
        keys = [k.decode() for k in self._redis.zrange(self._scope_key(scope), 0, -1)]
        with self._redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.hgetall(self._entry_key(scope, key))
            rows = pipe.execute()
        found = [_entry_from_hash(key, row) for key, row in zip(keys, rows, strict=True)]
        return [entry for entry in found if entry is not None]

    def count(self, scope: str | None = None) -> int:
        if scope is not None:
            return int(self._redis.zcard(self._scope_key(scope)))
        scopes = [s.decode() for s in self._redis.smembers(f"{self._prefix}scopes")]
        return sum(int(self._redis.zcard(self._scope_key(s))) for s in scopes)

    def evict_oldest(self, scope: str, keep: int) -> int:
        size = int(self._redis.zcard(self._scope_key(scope)))
        if size <= keep:
            return 0
        old = [k.decode() for k in self._redis.zrange(self._scope_key(scope), 0, size - keep - 1)]
        with self._redis.pipeline(transaction=True) as pipe:
            for key in old:
                pipe.delete(self._entry_key(scope, key))
            pipe.zrem(self._scope_key(scope), *old)
            pipe.hdel(self._vectors_key(scope), *old)
            pipe.hdel(self._expiry_key(scope), *old)
            pipe.execute()
        return len(old)

    def clear(self) -> None:
        keys = list(self._redis.scan_iter(match=f"{self._prefix}*", count=500))
        for start in range(0, len(keys), 500):
            self._redis.delete(*keys[start : start + 500])

    def read_meta(self) -> dict[str, str]:
        raw = self._redis.hgetall(f"{self._prefix}meta")
        return {k.decode(): v.decode() for k, v in raw.items()}

    def write_meta(self, values: dict[str, str]) -> None:
        self._redis.hset(f"{self._prefix}meta", mapping=values)

    def close(self) -> None:
        self._redis.close()


def _entry_from_hash(key: str, row: dict[bytes, bytes]) -> StoredEntry | None:
    if not row or b"value" not in row:
        return None
    expires = row.get(b"expires")
    text = row.get(b"text")
    return StoredEntry(
        key=key,
        value=row[b"value"].decode(),
        created=float(row[b"created"]),
        expires=float(expires) if expires is not None else None,
        text=text.decode() if text is not None else None,
        vector=row.get(b"vector"),
    )


def open_cache_store(name: str, url: str | None = None, *, path: Path | None = None) -> CacheStore:
    """The store for cache ``name``: Redis when ``url`` is given, else a SQLite file.

    Args:
        name: the cache's name, e.g. ``"answers"``; two caches with one name share entries.
        url: a ``redis://`` URL, or None for the ``cache_url`` setting, and when that is unset
            too, SQLite.
        path: the SQLite file (default ``caches/<name>.sqlite`` in the work directory).
    """
    check_cache_name(name)
    if url is None:
        from course_lib.settings import get_settings

        secret = get_settings().cache_url
        url = secret.get_secret_value() if secret is not None else None
    if url:
        return RedisCacheStore(name, url)
    if path is None:
        from course_lib.workdir import work_path

        path = work_path("caches") / f"{name}.sqlite"
    return SqliteCacheStore(name, path)
