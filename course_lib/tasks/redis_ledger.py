"""The job ledger on Redis: the same states and rules as on SQLite, each move a Lua script.

A job is a hash ``course:queue:<name>:job:<key>``; a sorted set per state holds the keys in
submission order (the score is a sequence number from ``INCR``), so counts and listings read
one set. Redis runs each script alone, so a claim and a completion are atomic as SQLite's
``BEGIN IMMEDIATE`` transactions are.
"""

from __future__ import annotations

import json
from typing import Any

from course_lib.tasks.ledger import STATES, Job, JobState

__all__ = ["RedisLedger"]

# KEYS[1] the job hash, KEYS[2] the state-set prefix; ARGV as named in each script.
_CREATE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local seq = redis.call('INCR', KEYS[2] .. 'seq')
redis.call('HSET', KEYS[1], 'payload', ARGV[2], 'state', 'queued', 'attempts', 0,
           'created', ARGV[3], 'updated', ARGV[3], 'seq', seq)
redis.call('ZADD', KEYS[2] .. 'queued', seq, ARGV[1])
return 1
"""

# ARGV: key, worker, lease_until, now. Returns the claimed job's fields (one round trip).
_CLAIM = """
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return 0 end
local lease = tonumber(redis.call('HGET', KEYS[1], 'lease_until') or '0')
local now = tonumber(ARGV[4])
if state == 'queued' or state == 'retrying' or (state == 'running' and lease <= now) then
  local seq = redis.call('HGET', KEYS[1], 'seq')
  redis.call('ZREM', KEYS[2] .. state, ARGV[1])
  redis.call('ZADD', KEYS[2] .. 'running', seq, ARGV[1])
  redis.call('HSET', KEYS[1], 'state', 'running', 'owner', ARGV[2], 'lease_until', ARGV[3],
             'updated', ARGV[4])
  redis.call('HINCRBY', KEYS[1], 'attempts', 1)
  return redis.call('HGETALL', KEYS[1])
end
return 0
"""

# ARGV: key, worker, new state, field, value, now
_FINISH = """
if redis.call('HGET', KEYS[1], 'state') ~= 'running' then return 0 end
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[2] then return 0 end
local seq = redis.call('HGET', KEYS[1], 'seq')
redis.call('ZREM', KEYS[2] .. 'running', ARGV[1])
redis.call('ZADD', KEYS[2] .. ARGV[3], seq, ARGV[1])
redis.call('HDEL', KEYS[1], 'owner', 'lease_until')
if ARGV[3] == 'done' then redis.call('HDEL', KEYS[1], 'error') end
redis.call('HSET', KEYS[1], 'state', ARGV[3], ARGV[4], ARGV[5], 'updated', ARGV[6])
return 1
"""

# ARGV: key, now
_REQUEUE = """
local state = redis.call('HGET', KEYS[1], 'state')
local lease = tonumber(redis.call('HGET', KEYS[1], 'lease_until') or '0')
local now = tonumber(ARGV[2])
if state == 'dead' or (state == 'running' and lease <= now) then
  local seq = redis.call('HGET', KEYS[1], 'seq')
  redis.call('ZREM', KEYS[2] .. state, ARGV[1])
  redis.call('ZADD', KEYS[2] .. 'queued', seq, ARGV[1])
  redis.call('HDEL', KEYS[1], 'owner', 'lease_until')
  redis.call('HSET', KEYS[1], 'state', 'queued', 'updated', ARGV[2])
  return 1
end
return 0
"""


def _job(key: str, raw: dict[bytes, bytes]) -> Job:
    row = {k.decode(): v.decode() for k, v in raw.items()}
    lease = row.get("lease_until")
    return Job(
        key=key,
        payload=json.loads(row["payload"]),
        state=row["state"],  # type: ignore[arg-type]
        attempts=int(row.get("attempts", 0)),
        owner=row.get("owner"),
        lease_until=float(lease) if lease is not None else None,
        result=json.loads(row["result"]) if "result" in row else None,
        error=row.get("error"),
        created=float(row["created"]),
        updated=float(row["updated"]),
    )


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


class RedisLedger:
    """The ledger in Redis, under ``course:queue:<name>:``."""

    def __init__(self, name: str, url: str) -> None:
        from course_lib.services.clients import connect_redis, safe_url

        self._redis = connect_redis(url, setting="COURSE_QUEUE_URL")
        self.location = f"{safe_url(url)} (queue {name!r})"
        self._prefix = f"course:queue:{name}:"
        self._states = f"{self._prefix}state:"
        self._create = self._redis.register_script(_CREATE)
        self._claim = self._redis.register_script(_CLAIM)
        self._finish = self._redis.register_script(_FINISH)
        self._requeue = self._redis.register_script(_REQUEUE)

    def _job_key(self, key: str) -> str:
        return f"{self._prefix}job:{key}"

    def _keys(self, key: str) -> list[str]:
        return [self._job_key(key), self._states]

    def create(self, key: str, payload: Any, now: float) -> tuple[Job, bool]:
        created = self._create(keys=self._keys(key), args=[key, _dumps(payload), repr(now)])
        job = self.get(key)
        assert job is not None
        return job, bool(created)

    def get(self, key: str) -> Job | None:
        raw = self._redis.hgetall(self._job_key(key))
        return _job(key, raw) if raw else None

    def claim(self, key: str, worker: str, lease_until: float, now: float) -> Job | None:
        claimed = self._claim(
            keys=self._keys(key), args=[key, worker, repr(lease_until), repr(now)]
        )
        return self.get(key) if claimed else None

    def complete(self, key: str, worker: str, result: Any, now: float) -> bool:
        args = [key, worker, "done", "result", _dumps(result), repr(now)]
        return bool(self._finish(keys=self._keys(key), args=args))

    def release(self, key: str, worker: str, error: str, now: float, *, dead: bool) -> bool:
        args = [key, worker, "dead" if dead else "retrying", "error", error, repr(now)]
        return bool(self._finish(keys=self._keys(key), args=args))

    def expired(self, now: float) -> list[str]:
        found = []
        for key in self.keys("running"):
            lease = self._redis.hget(self._job_key(key), "lease_until")
            if lease is not None and float(lease) <= now:
                found.append(key)
        return found

    def requeue(self, key: str, now: float) -> bool:
        return bool(self._requeue(keys=self._keys(key), args=[key, repr(now)]))

    def keys(self, state: JobState) -> list[str]:
        return [k.decode() for k in self._redis.zrange(f"{self._states}{state}", 0, -1)]

    def counts(self) -> dict[JobState, int]:
        with self._redis.pipeline(transaction=False) as pipe:
            for state in STATES:
                pipe.zcard(f"{self._states}{state}")
            sizes = pipe.execute()
        return {state: int(size) for state, size in zip(STATES, sizes, strict=True)}

    def clear(self) -> None:
        keys = list(self._redis.scan_iter(match=f"{self._prefix}*", count=500))
        for start in range(0, len(keys), 500):
            self._redis.delete(*keys[start : start + 500])

    def close(self) -> None:
        self._redis.close()
