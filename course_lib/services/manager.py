"""Starting, checking and stopping every engine, with one line per engine and a record on disk."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from course_lib.services.base import Engine, EngineStatus, StartError
from course_lib.services.objects import ObjectStoreEngine
from course_lib.services.postgres import PostgresEngine
from course_lib.services.process import read_state, services_dir, write_state
from course_lib.services.redis_server import RedisEngine
from course_lib.services.traces import TraceEngine

__all__ = ["ENGINES", "down", "status", "up"]

ENGINES: dict[str, Engine] = {
    engine.name: engine
    for engine in (PostgresEngine(), RedisEngine(), TraceEngine(), ObjectStoreEngine())
}

Say = Callable[[str], None]


def _chosen(names: Sequence[str] | None) -> list[Engine]:
    if not names:
        return list(ENGINES.values())
    unknown = [name for name in names if name not in ENGINES]
    if unknown:
        raise ValueError(
            f"No engine named {', '.join(map(repr, unknown))}; the engines are "
            f"{', '.join(ENGINES)}."
        )
    return [ENGINES[name] for name in names]


def up(
    names: Sequence[str] | None = None, *, folder: Path | None = None, say: Say = print
) -> list[EngineStatus]:
    """Starts the engines that are not running and healthy; one status per engine.

    An engine that cannot start gets a status with the reason and the fix; the others still
    start.
    """
    folder = folder or services_dir()
    statuses = []
    for engine in _chosen(names):
        state = read_state(folder)
        previous = state.get(engine.name)
        if previous is not None and "pid" in previous:
            current = engine.check(previous)
            if current.healthy:
                statuses.append(current)
                continue
            engine.stop(previous)  # a half-dead one (no answer) must not hold its port
        say(f"Starting {engine.name} ({engine.purpose})...")
        try:
            record = engine.start(folder, previous)
        except StartError as exc:
            statuses.append(EngineStatus(engine.name, False, "-", str(exc)))
            continue
        state = read_state(folder)
        state[engine.name] = record
        write_state(folder, state)
        statuses.append(engine.check(record))
    return statuses


def status(names: Sequence[str] | None = None, *, folder: Path | None = None) -> list[EngineStatus]:
    """Checks each engine with a real request; one status per engine, never raising."""
    folder = folder or services_dir()
    state = read_state(folder)
    statuses = []
    for engine in _chosen(names):
        record = state.get(engine.name)
        if record is None or "pid" not in record:
            statuses.append(EngineStatus(engine.name, False, "-", "not started: ./run services up"))
        else:
            statuses.append(engine.check(record))
    return statuses


def down(names: Sequence[str] | None = None, *, folder: Path | None = None) -> list[str]:
    """Stops the engines the record names; returns the names of those that would not stop."""
    folder = folder or services_dir()
    stuck = []
    for engine in _chosen(names):
        state = read_state(folder)
        record = state.get(engine.name)
        if record is None or "pid" not in record:
            continue
        if engine.stop(record):
            # Keep only the port, so the next start gets the same address when it is free.
            kept = {"port": record["port"]} if "port" in record else None
            if kept is None:
                state.pop(engine.name, None)
            else:
                state[engine.name] = kept
            write_state(folder, state)
        else:
            stuck.append(engine.name)
    return stuck
