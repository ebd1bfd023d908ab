"""A versioned index: readers find the live version through an alias, switched atomically.

Rebuilding an index in place (after a chunker change, say) lets a reader in between see it
half-built: some documents chunked the new way, others missing. The catalogue avoids it. Each
build is a **new index version** beside the live one (``handbook_v2`` while ``handbook_v1``
serves), recorded in ``index_versions`` as ``building`` and then ``ready``; the ``aliases``
table maps an alias to the live version. Readers resolve the alias on every query
(:meth:`IndexCatalogue.live`), and the switch is one ``UPDATE`` in one transaction, so a reader
sees the complete old version or the complete new one, never a mix. The old version stays
until it is dropped: switching back is the rollback.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from course_lib.errors import IndexNotFoundError
from course_lib.pipelines.place import PipelinePlace

__all__ = ["IndexCatalogue", "IndexVersion"]


@dataclass(frozen=True)
class IndexVersion:
    """One index version: its name, number, chunking (strategy and options) and state."""

    name: str
    version: int
    chunking: Mapping[str, object]
    state: str  # "building" or "ready"
    live: bool


class IndexCatalogue:
    """The alias and index-version tables of one pipeline (see the module docstring)."""

    def __init__(self, place: PipelinePlace) -> None:
        if not isinstance(place, PipelinePlace):
            raise TypeError(f"IndexCatalogue() takes a PipelinePlace, not {type(place).__name__}.")
        self.place = place

    def new_version(self, alias: str, chunking: Mapping[str, object]) -> str:
        """Registers the next version of ``alias`` as ``building``; returns its index name."""
        with self.place.connect() as connection, connection.transaction():
            (latest,) = connection.rows(
                "SELECT coalesce(max(version), 0) FROM index_versions WHERE alias = ?", (alias,)
            )[0]
            version = int(latest) + 1
            name = self.place.version_name(version)
            connection.execute("DELETE FROM index_versions WHERE name = ?", (name,))
            connection.execute(
                "INSERT INTO index_versions (name, alias, version, chunking, state) "
                "VALUES (?, ?, ?, ?, 'building')",
                (name, alias, version, json.dumps(dict(chunking), sort_keys=True)),
            )
        return name

    def mark_ready(self, name: str) -> None:
        """Records that index ``name`` is complete: only then may an alias point at it."""
        with self.place.connect() as connection, connection.transaction():
            connection.execute("UPDATE index_versions SET state = 'ready' WHERE name = ?", (name,))

    def switch(self, alias: str, name: str) -> None:
        """Points ``alias`` at the complete version ``name``: one statement, one transaction.

        Raises:
            IndexNotFoundError: ``name`` is not a complete version of ``alias``.
        """
        with self.place.connect() as connection, connection.transaction():
            found = connection.rows(
                "SELECT state FROM index_versions WHERE name = ? AND alias = ?", (name, alias)
            )
            if not found or found[0][0] != "ready":
                state = found[0][0] if found else "unknown"
                raise IndexNotFoundError(
                    f"Index {name!r} is not a complete version of {alias!r} (it is {state}); "
                    "finish its build (mark_ready) before switching readers to it."
                )
            connection.execute(
                "INSERT INTO aliases (alias, index_name) VALUES (?, ?) "
                "ON CONFLICT (alias) DO UPDATE SET index_name = excluded.index_name",
                (alias, name),
            )

    def live(self, alias: str) -> str:
        """The index name ``alias`` points at now.

        Raises:
            IndexNotFoundError: the alias points nowhere yet.
        """
        with self.place.connect() as connection:
            found = connection.rows("SELECT index_name FROM aliases WHERE alias = ?", (alias,))
        if not found:
            raise IndexNotFoundError(
                f"The alias {alias!r} points at no index yet; run the pipeline once to build "
                "its first version."
            )
        return str(found[0][0])

    def versions(self, alias: str) -> list[IndexVersion]:
        """Every version of ``alias``, oldest first."""
        with self.place.connect() as connection:
            rows = connection.rows(
                "SELECT v.name, v.version, v.chunking, v.state, a.index_name FROM index_versions "
                "AS v LEFT JOIN aliases AS a ON a.alias = v.alias AND a.index_name = v.name "
                "WHERE v.alias = ? ORDER BY v.version",
                (alias,),
            )
        return [
            IndexVersion(str(n), int(v), json.loads(c), str(s), live is not None)
            for n, v, c, s, live in rows
        ]
