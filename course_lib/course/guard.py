"""Runs a learner's code for a checker with a time limit, its output captured and bounded.

A check must always come back with one line, whatever the learner's function does: loop
forever, sleep, print a megabyte, call ``sys.exit()`` or raise ``KeyboardInterrupt``. So the
checker runs in a worker thread while the calling thread waits at most ``time_limit`` seconds.

Why a thread, and what it can and cannot stop:

* It works the same in a Jupyter kernel on Linux, macOS and Windows. ``signal.setitimer`` would
  interrupt ``time.sleep`` but exists only on Unix and only for the main thread, and
  ``sys.settrace`` slows every line and fights debuggers and coverage tools.
* Python cannot kill a thread. When the limit passes, the waiting thread raises an exception
  *inside* the worker (``PyThreadState_SetAsyncExc``). That stops any loop of Python code,
  such as ``while True: pass``, within a few milliseconds.
* It cannot stop code that is blocked inside one C call: ``time.sleep(1e9)``, a socket read
  without a timeout, ``sum(range(10**12))``. The check still answers after the limit (except
  for a C call that holds the GIL throughout, like that ``sum``, which freezes the whole
  interpreter), but the worker lives on in the background, so the verdict says so and suggests
  restarting the kernel.
* The worker runs in a copy of the caller's context variables, so settings scoped with
  ``contextvars`` still apply. Objects bound to the thread that made them (a ``sqlite3``
  connection made with the default ``check_same_thread=True``) cannot be used from the
  worker; an exercise with such answers declares ``time_limit=None`` and runs inline, unguarded.

While the checker runs, ``sys.stdout`` and ``sys.stderr`` are replaced by buffers that keep the
first :data:`OUTPUT_LIMIT` characters and count the rest, so an endless ``print`` loop cannot
fill the memory or the notebook. ``sys.stdout`` is process-wide, so anything another thread
prints during a check is captured too; checks are short and the kernel runs one cell at a time.
"""

from __future__ import annotations

import contextvars
import ctypes
import reprlib
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

__all__ = [
    "OUTPUT_LIMIT",
    "Outcome",
    "run_guarded",
    "safe_repr",
    "shorten",
]

OUTPUT_LIMIT = 500
"""Characters of the learner's printed output shown after a check; the rest is counted."""

_GRACE = 0.5
"""Seconds to wait for the worker to stop after it was asked to: long enough for any Python
loop to notice, short enough that a learner does not wait noticeably longer than the limit."""


class _TimeLimitExceeded(BaseException):
    """Raised inside the worker when its time is up; not an ``Exception``, so a learner's
    ``except Exception`` (or a checker's) does not swallow it."""


def shorten(text: str, limit: int) -> str:
    """Cuts ``text`` to ``limit`` characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit} more characters)"


def safe_repr(value: Any, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters; a ``__repr__`` that raises gets a
    placeholder naming the error, because it is the learner's bug and must not look like the
    checker's."""
    try:
        text = repr(value)
    except Exception as exc:
        return f"<{type(value).__name__} object; its __repr__ raised {type(exc).__name__}>"
    if not isinstance(text, str):  # pragma: no cover - repr() itself enforces str
        text = reprlib.repr(text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class _BoundedText:
    """A write-only text stream that keeps the first ``limit`` characters and counts the rest."""

    def __init__(self, limit: int, encoding: str = "utf-8") -> None:
        self._parts: list[str] = []
        self._kept = 0
        self._limit = limit
        self.dropped = 0
        self.encoding = encoding

    def write(self, text: str) -> int:
        text = str(text)
        room = self._limit - self._kept
        if room > 0:
            self._parts.append(text[:room])
            self._kept += min(room, len(text))
        self.dropped += max(0, len(text) - max(room, 0))
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        """Nothing to flush: the text stays in memory until the check ends."""

    def isatty(self) -> bool:
        return False

    def writable(self) -> bool:
        return True

    def text(self) -> str:
        """What was written, with a note of how many characters were left out."""
        kept = "".join(self._parts)
        if not self.dropped:
            return kept
        return f"{kept}... ({self.dropped} more characters)\n"


@dataclass(frozen=True)
class Outcome:
    """What happened when the guarded function ran.

    Exactly one of ``value`` (when ``error`` is None and nothing else happened), ``error``,
    ``timed_out`` or ``interrupted`` describes the result; ``still_running`` is true when the
    worker could not be stopped and goes on in the background.
    """

    value: Any = None
    error: BaseException | None = None
    timed_out: bool = False
    interrupted: bool = False
    still_running: bool = False
    stdout: str = ""
    stderr: str = ""


def _stop(thread: threading.Thread) -> None:
    """Asks ``thread`` to raise :class:`_TimeLimitExceeded` at its next Python instruction."""
    if thread.ident is None or not hasattr(ctypes, "pythonapi"):  # pragma: no cover - PyPy
        return
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread.ident), ctypes.py_object(_TimeLimitExceeded)
    )


def _run_inline(function: Callable[[], Any], out: _BoundedText, err: _BoundedText) -> Outcome:
    """Runs ``function`` in this thread without a time limit, still capturing its output."""
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _as_stream(out), _as_stream(err)
    try:
        value = function()
    except BaseException as exc:  # learner code may raise SystemExit or KeyboardInterrupt
        return Outcome(error=exc, stdout=out.text(), stderr=err.text())
    finally:
        sys.stdout, sys.stderr = saved
    return Outcome(value=value, stdout=out.text(), stderr=err.text())


def _as_stream(buffer: _BoundedText) -> TextIO:
    """The buffer, typed as the stream it stands in for (it implements what ``print`` uses)."""
    stream: TextIO = buffer  # type: ignore[assignment]
    return stream


def run_guarded(function: Callable[[], Any], time_limit: float | None) -> Outcome:
    """Runs ``function()`` with its output captured and, unless ``time_limit`` is None, for at
    most ``time_limit`` seconds; never raises for anything ``function`` does."""
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    out, err = _BoundedText(OUTPUT_LIMIT, encoding), _BoundedText(OUTPUT_LIMIT, encoding)
    if time_limit is None:
        return _run_inline(function, out, err)
    result: dict[str, Any] = {}
    done = threading.Event()
    context = contextvars.copy_context()

    def work() -> None:
        try:
            result["value"] = context.run(function)
        except BaseException as exc:  # reported by the waiting thread, never lost
            result["error"] = exc
        finally:
            done.set()

    worker = threading.Thread(target=work, name="course-check", daemon=True)
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _as_stream(out), _as_stream(err)
    timed_out = interrupted = False
    try:
        worker.start()
        timed_out = not done.wait(time_limit)
    except KeyboardInterrupt:  # the learner pressed Interrupt while the check was waiting
        interrupted = True
    finally:
        if (timed_out or interrupted) and not done.is_set():
            _stop(worker)
            done.wait(_GRACE)
        sys.stdout, sys.stderr = saved
    return Outcome(
        value=result.get("value"),
        error=None if timed_out or interrupted else result.get("error"),
        timed_out=timed_out,
        interrupted=interrupted,
        still_running=not done.is_set(),
        stdout=out.text(),
        stderr=err.text(),
    )
