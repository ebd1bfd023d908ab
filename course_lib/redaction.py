"""Secrets never leave the course in text: one place that knows them and hides them.

A model endpoint may echo what it was sent (a gateway's 401 page that quotes the
``Authorization`` header, a debug proxy that dumps the request), and that text then travels on
into error messages, logs, span events, span status and the frames built from spans. Every
such exit calls :func:`redact`, which replaces

* every secret registered with :func:`register_secret` (the configured API key: the
  OpenAI-compatible provider registers the key it is given),
* the value of any ``Authorization``, ``api-key`` or ``x-api-key`` header or field,
* any ``Bearer`` token and any ``sk-...``-shaped key, and
* the password written into a URL, before its ``@host``

with :data:`REDACTED`. Patterns catch keys the course was never told about; the registered
values catch a key of any shape, wherever it appears.

>>> register_secret("my-very-secret-key")
>>> redact("refused: Authorization: Bearer my-very-secret-key")
'refused: Authorization: [redacted]'

Exceptions and log records carry text in several places (``args``, the chained
``__cause__``/``__context__``, a pre-rendered traceback): :func:`scrub_exception` and
:class:`RedactingFilter` clean all of them.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
from collections.abc import Iterable
from typing import Any

__all__ = [
    "REDACTED",
    "RedactingFilter",
    "get_logger",
    "redact",
    "redact_value",
    "register_secret",
    "scrub_exception",
]

REDACTED = "[redacted]"
# A registered secret shorter than this is not hidden by value: replacing a two-letter string
# everywhere would mangle every message. (The patterns below still hide it in a header.)
MIN_SECRET_LENGTH = 8

_SECRETS: set[str] = set()
_LOCK = threading.Lock()

_HEADER_VALUE = re.compile(
    # "Authorization: Bearer x", "authorization": "Bearer x", api-key=x, 'x-api-key': 'x'...
    r"(?i)(\b(?:proxy-)?authorization|\b(?:x-)?api[-_]?key)"
    r"([\"']?\s*[:=]\s*[\"']?)"
    r"([^\"'\r\n,;&}]+)"
)
_BEARER = re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]{8,}")
_KEY_SHAPED = re.compile(r"\bsk-[A-Za-z0-9_-]{16,}")
_URL_PASSWORD = re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^/\s:@]+:)[^/\s@]+@")


def register_secret(secret: Any) -> None:
    """Hides ``secret`` (a string or a pydantic ``SecretStr``) in all text redacted from now on.

    None, empty and very short values are ignored (see ``MIN_SECRET_LENGTH``). Registering is
    process-wide on purpose: a span or log line made far from the provider must hide the key
    too.
    """
    if secret is not None and hasattr(secret, "get_secret_value"):
        secret = secret.get_secret_value()
    if not isinstance(secret, str) or len(secret) < MIN_SECRET_LENGTH:
        return
    with _LOCK:
        _SECRETS.add(secret)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every known secret and credential-shaped value replaced by ``[redacted]``.

    Args:
        secrets: values to hide in this call only, besides the registered ones.
    """
    if not text:
        return text
    with _LOCK:
        known = [*_SECRETS, *(s for s in secrets if len(s) >= MIN_SECRET_LENGTH)]
    # Longest first, so a secret that contains another is hidden whole.
    for secret in sorted(known, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, REDACTED)
    text = _HEADER_VALUE.sub(_hide_header_value, text)
    text = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    text = _KEY_SHAPED.sub(REDACTED, text)
    return _URL_PASSWORD.sub(rf"\1{REDACTED}@", text)


def _hide_header_value(match: re.Match[str]) -> str:
    name, separator, value = match.groups()
    if value.strip() == REDACTED:  # already hidden (a registered key inside the header)
        return match.group(0)
    return f"{name}{separator}{REDACTED}"


def redact_value(value: Any) -> Any:
    """``value`` with its text redacted: strings, and strings inside lists and tuples.

    Other values (numbers, flags, None) come back unchanged. Built for span attributes, whose
    values are strings, numbers, flags or sequences of them.
    """
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list | tuple):
        cleaned = [redact_value(item) for item in value]
        return tuple(cleaned) if isinstance(value, tuple) else cleaned
    return value


def scrub_exception(exc: BaseException) -> BaseException:
    """Redacts the text of ``exc`` and of every exception chained to it, in place.

    Rewrites ``args`` (what ``str`` and ``repr`` show, and what a traceback prints) and the
    ``message`` and ``body`` an HTTP client's error keeps, for ``exc``, its ``__cause__``, its
    ``__context__`` and theirs. An exception whose text holds no secret is left as it was.
    Returns ``exc``, so ``raise scrub_exception(error) from cause`` reads naturally.
    """
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        _scrub_one(current)
        pending.extend((current.__cause__, current.__context__))
    return exc


def _scrub_one(exc: BaseException) -> None:
    args = tuple(redact_value(arg) for arg in exc.args)
    if args != exc.args:
        exc.args = args
    for name in ("message", "body"):
        value = getattr(exc, name, None)
        cleaned = _redact_nested(value)
        if cleaned != value:
            # A read-only property is skipped: its text comes from args, redacted above.
            with contextlib.suppress(AttributeError):
                setattr(exc, name, cleaned)


def _redact_nested(value: Any) -> Any:
    """Strings anywhere inside dicts and lists (a parsed JSON error body) redacted."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: _redact_nested(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_redact_nested(item) for item in value)
    return value


class RedactingFilter(logging.Filter):
    """A logging filter that redacts each record's message, arguments and traceback.

    The course's own loggers (from :func:`get_logger`) carry it. Attach it to a handler to
    clean everything that handler writes, other libraries' records included::

        handler.addFilter(RedactingFilter())
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            try:
                message = record.getMessage()
            except (TypeError, ValueError):  # arguments that do not fit: keep both, redacted
                message = f"{record.msg} {record.args!r}"
            record.msg = redact(message)
            record.args = None
        elif isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if record.exc_info and record.exc_info[1] is not None:
            scrub_exception(record.exc_info[1])
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


_FILTER = RedactingFilter()


def get_logger(name: str) -> logging.Logger:
    """The logger ``name`` with :class:`RedactingFilter` on it: what course modules log with.

    A filter on a logger sees only the records logged on that very logger (not those of its
    children), so each course module gets its own filtered logger rather than sharing one.
    """
    logger = logging.getLogger(name)
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
    return logger
