"""What a guard decided and why: one :class:`Decision` per action, kept in a :class:`DecisionLog`.

A guard that blocks without saying why cannot be tuned, audited or explained to the user it
refused. So every check returns its decisions, each with the check's name, the channel it
looked at, what it did and a one-line reason, and the guard adds them to its log. The log is
what an on-call engineer reads the morning after, and what shows a false block on an ordinary
question for what it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ACTIONS", "CHANNELS", "Action", "Channel", "Decision", "DecisionLog", "Verdict"]

Channel = Literal["user", "document", "tool", "output", "action"]
CHANNELS: tuple[str, ...] = ("user", "document", "tool", "output", "action")
"""Where text or a request comes from: the user's message, a retrieved document, a tool's
output, the model's answer, or a tool call the model asks for."""

Action = Literal["block", "remove", "redact", "deny", "approve"]
ACTIONS: tuple[str, ...] = ("block", "remove", "redact", "deny", "approve")
"""What a guard did: refused the whole text (``block``), cut part of it out (``remove``),
replaced a value with a placeholder (``redact``), refused a tool call (``deny``) or let one
run after approval (``approve``)."""


@dataclass(frozen=True)
class Decision:
    """One thing a guard did, and why.

    Attributes:
        check: the check that acted (``injection``, ``links``, ``personal_data``...).
        channel: where it looked (see :data:`CHANNELS`).
        action: what it did (see :data:`ACTIONS`).
        reason: one line for the audit log, naming what was found, never a secret itself.
        source: the passage id or tool name the text came from, when there is one.
    """

    check: str
    channel: str
    action: str
    reason: str
    source: str = ""


@dataclass(frozen=True)
class Verdict:
    """The outcome of a check: the text to pass on, whether it was blocked, and why.

    ``text`` is the cleaned text (links removed, personal data redacted) when the check let it
    through; when ``blocked`` it is the original, for the log, and must not be shown.
    """

    text: str
    blocked: bool = False
    decisions: tuple[Decision, ...] = ()

    @property
    def allowed(self) -> bool:
        return not self.blocked

    @property
    def changed(self) -> bool:
        """Whether the check did anything at all: blocked, removed or redacted."""
        return bool(self.decisions)

    @property
    def reasons(self) -> tuple[str, ...]:
        return tuple(d.reason for d in self.decisions)


class DecisionLog:
    """Every decision a guard made, in order: what to read when a user asks why."""

    def __init__(self) -> None:
        self._decisions: list[Decision] = []

    def record(self, decisions: Iterable[Decision]) -> None:
        self._decisions.extend(decisions)

    def clear(self) -> None:
        self._decisions.clear()

    def __iter__(self) -> Iterator[Decision]:
        return iter(self._decisions)

    def __len__(self) -> int:
        return len(self._decisions)

    def __repr__(self) -> str:
        return f"DecisionLog({len(self._decisions)} decisions)"

    def frame(self) -> pd.DataFrame:
        """The decisions as a table, one row each (pandas is imported here)."""
        import pandas as pd

        columns = ["check", "channel", "action", "source", "reason"]
        rows = [
            {
                "check": d.check,
                "channel": d.channel,
                "action": d.action,
                "source": d.source,
                "reason": d.reason,
            }
            for d in self._decisions
        ]
        return pd.DataFrame(rows, columns=columns)
