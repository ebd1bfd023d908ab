"""What an engine is to the services manager: start it, check it, stop it.

Each engine module defines one :class:`Engine`. Starting returns a *record* (a small JSON-able
dict: pid, port, URL, folder) that the manager stores; checking and stopping read it back, so
a later ``course services status`` in another process finds the same engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

__all__ = ["Engine", "EngineStatus", "StartError"]


class StartError(Exception):
    """An engine cannot start here; the message is one line that ends with the fix."""


@dataclass(frozen=True)
class EngineStatus:
    """One engine, as ``course services status`` prints it.

    Attributes:
        name: the engine's short name (``postgres``, ``redis``, ``traces``, ``objects``).
        healthy: it answered a real request just now (a query, a PING, an HTTP call).
        address: where clients connect (no password ever appears here).
        detail: the server's version when healthy, else what is wrong and the fix.
        settings: the environment lines that point the course (and standard clients) at it.
    """

    name: str
    healthy: bool
    address: str
    detail: str
    settings: tuple[str, ...] = ()

    def line(self) -> str:
        state = "healthy" if self.healthy else "DOWN"
        return f"{self.name:<9} {state:<8} {self.address:<48} {self.detail}"


class Engine(Protocol):
    """One production engine that ``course services`` manages."""

    name: str
    purpose: str

    def start(self, folder: Path, previous: dict[str, Any] | None) -> dict[str, Any]:
        """Starts the engine with its data in ``folder``; returns its record.

        ``previous`` is the record of an earlier run, so an engine can keep its port.

        Raises:
            StartError: the engine cannot run here (a missing program, no free port).
        """
        ...

    def check(self, record: dict[str, Any]) -> EngineStatus:
        """Asks the engine a real question; never raises."""
        ...

    def stop(self, record: dict[str, Any]) -> bool:
        """Stops the engine; True when its process is gone. Its data stays in the folder."""
        ...
