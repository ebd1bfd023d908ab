"""MLflow's prompt registry beside the course's: the same versions, aliases and rollback.

The course's registry keeps prompts as files under version control, identified by content
hashes. MLflow keeps them in its tracking store (a database behind a server, here a local
SQLite file), identified by a number per registration, with aliases that any client with
write access can move. This adapter registers course versions in MLflow (the course's hash
and ref ride along as tags), moves MLflow aliases, and reads a version back as a course
:class:`~course_lib.prompts.PromptVersion`, so both registries can do the same promotion and
be compared on what each records.

>>> store = MlflowPromptStore.create_sqlite(work_path("mlflow", "prompts.db"))
>>> number = store.register(registry.get("handbook-answer", 3))
>>> store.set_alias("handbook-answer", "production", number)
>>> store.load("handbook-answer", "production").ref
'handbook-answer@v3'

Offline by construction: ``MLFLOW_DISABLE_TELEMETRY=true`` is set before MLflow is imported,
and a SQLite store needs no server. MLflow loads only when a store is created (it takes a
few seconds to import).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from course_lib.errors import OptionalDependencyError, PromptError, PromptNotFoundError
from course_lib.prompts.versions import PromptMessage, PromptVersion

if TYPE_CHECKING:
    from mlflow import MlflowClient

__all__ = ["MlflowPromptStore", "MlflowPromptVersion"]

_OPENED: set[str] = set()  # the SQLite stores this process has opened through MLflow

# Tags the adapter adds to each MLflow version, to map it back to the course's file.
SHA_TAG = "course.sha256"
REF_TAG = "course.ref"
ROLE_TAG = "course.model_role"
PARAMS_TAG = "course.params"


@dataclass(frozen=True)
class MlflowPromptVersion:
    """What MLflow records of one version: its number, the course file it came from, its
    aliases (MLflow keeps only where each alias points now) and its commit message."""

    name: str
    number: int
    course_ref: str | None
    sha256: str | None
    aliases: tuple[str, ...]
    commit_message: str


def _import_mlflow() -> Any:
    os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"  # before the import: MLflow reads it then
    try:
        import mlflow
    except ImportError as exc:  # pragma: no cover - the lock installs mlflow-skinny
        raise OptionalDependencyError(
            "MLflow is not installed; install mlflow-skinny, sqlalchemy and alembic (the "
            "course's lock file has them) to use MlflowPromptStore."
        ) from exc
    return mlflow


class MlflowPromptStore:
    """Course prompt versions in an MLflow prompt registry.

    Args:
        tracking_uri: the MLflow store, e.g. ``sqlite:///path/to/prompts.db`` or a server's
            ``http://...`` address (then nothing here changes but the URI).
    """

    def __init__(self, tracking_uri: str) -> None:
        mlflow = _import_mlflow()
        self.tracking_uri = tracking_uri
        self.client: MlflowClient = mlflow.MlflowClient(
            tracking_uri=tracking_uri, registry_uri=tracking_uri
        )

    def __repr__(self) -> str:
        return "MlflowPromptStore(<MLflow store>)"

    @classmethod
    def create_sqlite(cls, path: str | Path, *, fresh: bool = True) -> MlflowPromptStore:
        """A store in the SQLite file ``path``; ``fresh`` deletes every prompt already in it,
        so version numbers start at 1 on every run.

        MLflow creates its schema by running its migrations, one committed statement after
        another. With SQLite's defaults each commit waits for the disk, which takes seconds;
        the schema of a new file is created without those waits (a failed creation is simply
        done again), and the store then runs with SQLite's defaults.

        Raises:
            PromptError: the file was deleted while this process still holds MLflow's
                connection to it (MLflow caches a store per URI); restart the process.
        """
        path = Path(path).resolve()
        uri = f"sqlite:///{path.as_posix()}"
        if uri in _OPENED and not path.exists():
            raise PromptError(
                "The MLflow store file was deleted while this process still holds MLflow's "
                "connection to it (MLflow keeps one per store for the life of the process); "
                "restart the kernel, or use another path."
            )
        _import_mlflow()  # first: importing MLflow sets its loggers' levels
        path.parent.mkdir(parents=True, exist_ok=True)
        new = not path.exists()
        with _quiet_mlflow_logs(), _fast_schema_creation(path, enabled=new):
            store = cls(uri)
            store.client.search_prompts(max_results=1)  # creates the schema now
        _OPENED.add(uri)
        if fresh and not new:
            store._delete_all_prompts()
        return store

    def _delete_all_prompts(self) -> None:
        while True:
            found = self.client.search_prompts(max_results=100)
            if not found:
                return
            for prompt in found:
                self.client.delete_prompt(prompt.name)

    # -- versions ------------------------------------------------------------------------

    def register(self, version: PromptVersion) -> int:
        """Registers ``version``'s template as a new MLflow version; returns its number.

        MLflow numbers registrations, not contents: registering the same file twice gives
        two numbers. The course's hash is kept as a tag, so either can be found from the other.
        """
        import json

        template = [{"role": m.role, "content": m.content} for m in version.template]
        registered = self.client.register_prompt(
            name=version.name,
            template=template,
            commit_message=version.description or version.ref,
            tags={
                SHA_TAG: version.sha256,
                REF_TAG: version.ref,
                ROLE_TAG: version.model_role,
                PARAMS_TAG: json.dumps(dict(version.params), sort_keys=True),
            },
        )
        return int(registered.version)

    def versions(self, name: str) -> list[MlflowPromptVersion]:
        """Every MLflow version of prompt ``name``, oldest first, with its current aliases."""
        return self._numbered(name)

    def _numbered(self, name: str) -> list[MlflowPromptVersion]:
        if self.client.get_prompt(name) is None:
            raise PromptNotFoundError(f"MLflow has no prompt named {name!r}; register it first.")
        numbers = sorted(int(v.version) for v in self.client.search_prompt_versions(name))
        rows = []
        for number in numbers:
            item = self.client.get_prompt_version(name, number)  # search lists no aliases
            tags = dict(item.tags or {})
            rows.append(
                MlflowPromptVersion(
                    name=name,
                    number=number,
                    course_ref=tags.get(REF_TAG),
                    sha256=tags.get(SHA_TAG),
                    aliases=tuple(sorted(str(a) for a in item.aliases or ())),
                    commit_message=str(item.commit_message or ""),
                )
            )
        return rows

    # -- aliases -------------------------------------------------------------------------

    def set_alias(self, name: str, alias: str, number: int) -> None:
        """Points ``alias`` at MLflow version ``number``. MLflow checks nothing else: no gate,
        and no record of where the alias pointed before."""
        self.client.set_prompt_alias(name, alias=alias, version=int(number))

    def aliases(self, name: str) -> dict[str, int]:
        """Alias -> the MLflow version it points at now."""
        return {
            alias: version.number for version in self._numbered(name) for alias in version.aliases
        }

    def load(self, name: str, alias: str) -> PromptVersion:
        """The version ``alias`` points at, as a course :class:`PromptVersion` (render it
        with the course's engine: the template is sent exactly as the gate measured it).

        Raises:
            PromptNotFoundError: no such prompt or alias.
            PromptError: the MLflow version was not registered from a course file.
        """
        loaded = self.client.load_prompt(f"prompts:/{name}@{alias}", allow_missing=True)
        if loaded is None:
            raise PromptNotFoundError(
                f"MLflow has no alias {alias!r} for prompt {name!r}; set it with set_alias()."
            )
        tags = dict(loaded.tags or {})
        if SHA_TAG not in tags or REF_TAG not in tags:
            raise PromptError(
                f"MLflow version {loaded.version} of {name!r} has no {SHA_TAG!r} tag: it was "
                "not registered from a course prompt file, so nothing ties it to one."
            )
        import json

        template = loaded.template
        messages = (
            (PromptMessage("user", template),)
            if isinstance(template, str)
            else tuple(PromptMessage(m["role"], m["content"]) for m in template)
        )
        number = int(str(tags[REF_TAG]).rsplit("@v", 1)[-1])
        metadata = MappingProxyType(
            {
                "description": str(loaded.commit_message or ""),
                "model_role": tags.get(ROLE_TAG, "chat-small"),
                "params": MappingProxyType(json.loads(tags.get(PARAMS_TAG, "{}"))),
            }
        )
        return PromptVersion(name, number, messages, metadata, tags[SHA_TAG])

    def mlflow_render(self, name: str, alias: str, **values: Any) -> list[dict[str, str]]:
        """What MLflow's own ``format`` makes of the version ``alias`` points at."""
        loaded = self.client.load_prompt(f"prompts:/{name}@{alias}")
        rendered = loaded.format(**values)
        if isinstance(rendered, str):
            return [{"role": "user", "content": rendered}]
        return [dict(m) for m in rendered]


@contextmanager
def _quiet_mlflow_logs() -> Iterator[None]:
    """MLflow and Alembic log each migration step at INFO, with a timestamp; keep it out."""
    loggers = [logging.getLogger(n) for n in ("mlflow", "alembic")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


@contextmanager
def _fast_schema_creation(path: Path, *, enabled: bool) -> Iterator[None]:
    """While MLflow creates the schema of the new file ``path``, its connections to that file
    skip the wait for the disk after each commit (``synchronous=OFF``, journal in memory)."""
    if not enabled:
        yield
        return
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    target = str(path.resolve())

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        if not type(dbapi_connection).__module__.startswith("sqlite3"):
            return
        cursor = dbapi_connection.cursor()
        try:
            files = {str(row[2]) for row in cursor.execute("PRAGMA database_list")}
            if target in files:
                cursor.execute("PRAGMA synchronous=OFF")
                cursor.execute("PRAGMA journal_mode=MEMORY")
        finally:
            cursor.close()

    event.listen(Engine, "connect", on_connect)
    try:
        yield
    finally:
        event.remove(Engine, "connect", on_connect)
