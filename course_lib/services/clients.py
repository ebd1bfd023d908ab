"""Connecting to an engine from library code, with errors that say what to do next.

The queue, the caches and the shared rate limits talk to Redis through :func:`connect_redis`;
the vector store and the data pipelines talk to Postgres through :func:`connect_postgres`. A
missing client library, a wrong URL or a server that is down gives one line naming the setting
and the fix, never a traceback from inside the client, and never the password a URL may carry.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from course_lib.errors import EngineUnavailableError, OptionalDependencyError

__all__ = ["connect_postgres", "connect_redis", "safe_url"]


def safe_url(url: str) -> str:
    """``url`` with any password replaced by ``***``: fit for a message or a log line."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    user = parts.username or ""
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def connect_redis(url: str, *, setting: str, check: bool = True) -> Any:
    """A ``redis.Redis`` client for ``url``, after a PING when ``check`` is true.

    Args:
        url: a ``redis://`` (or ``rediss://``, ``unix://``) URL.
        setting: the environment variable that holds the URL, named in error messages.
        check: ping the server now, so a wrong URL fails here rather than mid-job.

    Raises:
        OptionalDependencyError: the ``redis`` client package is not installed.
        EngineUnavailableError: the URL is malformed or the server does not answer.
    """
    try:
        import redis
    except ImportError as exc:
        raise OptionalDependencyError(
            "Redis needs the redis client package, from the course's engines extra. Run: "
            "./run services up (it installs the extra), or pip install redis."
        ) from exc
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=30)
    except ValueError as exc:
        raise EngineUnavailableError(
            f"{setting} is not a Redis URL ({safe_url(url)}): {exc}. Use the form "
            "redis://host:6379/0, as ./run services status prints it."
        ) from exc
    if check:
        try:
            client.ping()
        except redis.RedisError as exc:
            client.close()
            reason = " ".join(str(exc).split())
            raise EngineUnavailableError(
                f"Cannot reach Redis at {safe_url(url)}: {reason}. Start the course's engines "
                f"with ./run services up (then ./run services status), or check {setting}."
            ) from exc
    return client


def connect_postgres(url: str, *, purpose: str, setting: str = "COURSE_VECTOR_STORE_URL") -> Any:
    """A psycopg connection (autocommit) to ``url``.

    Args:
        url: a ``postgresql://`` URL.
        purpose: what needs Postgres, for the message, e.g. "An index on Postgres".
        setting: the environment variable that holds the URL, named in error messages.

    Raises:
        OptionalDependencyError: psycopg is not installed.
        EngineUnavailableError: the server cannot be reached with that URL.
    """
    try:
        import psycopg
    except ImportError as exc:
        raise OptionalDependencyError(
            f"{purpose} needs psycopg, from the course's engines extra. Run: ./run services up "
            "(it installs the extra), or pip install 'psycopg[binary]'."
        ) from exc
    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=5)
    except psycopg.Error as exc:
        reason = " ".join(str(exc).split())
        raise EngineUnavailableError(
            f"Cannot reach Postgres at {safe_url(url)}: {reason}. Start the course's engines "
            f"with ./run services up (then ./run services status), or check the URL in {setting}."
        ) from exc
