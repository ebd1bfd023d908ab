"""Quarantine: bad records kept with their reasons, never dropped silently.

A record that fails validation is not loaded, and not forgotten either: it goes into the
``quarantine`` table beside the index, with the file, the id it claimed, the hash of its
bytes, every reason it failed and the run that found it. Someone fixes the file (or the rule),
and the next run loads it.

The table's key is ``(file, content_hash)``: the same bad file seen by a second run is the
same row, so rerunning a drop adds nothing, while an edited (still bad) version of the file is
a new row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from course_lib.pipelines.place import PipelinePlace

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["QUARANTINE_COLUMNS", "Quarantine"]

QUARANTINE_COLUMNS = ("file", "record_id", "reasons", "run", "content_hash")


class Quarantine:
    """The quarantine table of one pipeline (see the module docstring)."""

    def __init__(self, place: PipelinePlace) -> None:
        if not isinstance(place, PipelinePlace):
            raise TypeError(f"Quarantine() takes a PipelinePlace, not {type(place).__name__}.")
        self.place = place

    def add(self, rejected: pd.DataFrame, *, run: int) -> int:
        """Stores the rows of ``split_records(...).rejected``; returns how many were new."""
        rows = [
            (r["file"], r["content_hash"], r["record_id"], r["reasons"], int(run))
            for r in rejected.to_dict(orient="records")
        ]
        added = 0
        with self.place.connect() as connection, connection.transaction():
            for row in rows:
                cursor = connection.execute(
                    "INSERT INTO quarantine (file, content_hash, record_id, reasons, run) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (file, content_hash) DO NOTHING",
                    row,
                )
                added += max(int(cursor.rowcount), 0)
        return added

    def frame(self) -> pd.DataFrame:
        """Every quarantined record, by file, with its reasons and the run that found it."""
        import pandas as pd

        with self.place.connect() as connection:
            rows = connection.rows(
                f"SELECT {', '.join(QUARANTINE_COLUMNS)} FROM quarantine ORDER BY file, run"
            )
        # dtype=object: a missing id shows as None on every pandas version.
        return pd.DataFrame(rows, columns=list(QUARANTINE_COLUMNS), dtype=object)

    def __len__(self) -> int:
        with self.place.connect() as connection:
            return int(connection.rows("SELECT count(*) FROM quarantine")[0][0])
