"""A log of what each chat call used: how the cost of a whole run is measured.

A class run on a real provider costs the tokens its model calls use, at that provider's
prices. Counting them needs no guesswork: with ``usage_log`` set (``COURSE_USAGE_LOG``), every
chat call of every :class:`~course_lib.llm.LLMClient` appends one JSON line with the role it
asked for, the model that answered and its token counts. The role matters more than the
model: priced with another registry, the same role may be another model. No prompt or answer
text is written, so the log is safe to keep and share.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from course_lib.settings import ENV_PREFIX

if TYPE_CHECKING:
    from course_lib.llm.client import ChatResult

__all__ = ["USAGE_LOG_ENV", "UsageLog"]

USAGE_LOG_ENV = f"{ENV_PREFIX}USAGE_LOG"


class UsageLog:
    """Appends one line per call to a JSON Lines file, safely from several threads."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path).expanduser()
        self._lock = threading.Lock()

    @classmethod
    def from_environment(cls) -> UsageLog | None:
        """The log ``COURSE_USAGE_LOG`` names, for clients built without the settings."""
        value = os.environ.get(USAGE_LOG_ENV, "").strip()
        return cls(Path(value)) if value else None

    def record(self, role: str, result: ChatResult, *, follows_settings: bool = False) -> None:
        """One line for one call; ``follows_settings`` marks a client made by ``from_settings``,
        the only kind that a real provider's settings would move off the local model."""
        usage = result.usage
        line = json.dumps(
            {
                "role": role,
                "model": result.model,
                "follows_settings": follows_settings,
                "input_tokens": usage.input_tokens,
                "output_tokens": usage.output_tokens,
                "cached_input_tokens": usage.cached_input_tokens,
                "reasoning_tokens": usage.reasoning_tokens,
            }
        )
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as log:
                log.write(line + "\n")
