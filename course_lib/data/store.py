"""A store of immutable dataset versions, on a local folder.

Layout under ``root`` (the lesson puts it in the course work directory)::

    objects/3f/3f2a...e1.jsonl          canonical content of one file, named by its SHA-256
    tickets/versions/<version>.json     the manifest of one version
    tickets/log.jsonl                   the versions of "tickets" in the order they were made

A file unchanged between versions is stored once. Objects and manifests are written to a
temporary name, moved into place, and made read-only; every read checks the bytes against the
manifest's hash, so an edit made behind the store's back (file modes do not stop root, or a
sync tool) fails loudly instead of changing a result silently.

>>> store = DatasetStore(work_path("datasets"))
>>> v1 = store.commit("tickets", {"train": train, "test": test}, key="id", created_by="ana")
>>> v1.ref
'tickets@3f2a9c1b2d4e'
>>> store.read(v1.ref, "test")
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import stat
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from course_lib.data.canonical import canonical_bytes, column_types
from course_lib.data.validation import validation_error, validation_report
from course_lib.data.versions import SHORT, DatasetVersion, FileEntry, check_name, version_id
from course_lib.errors import (
    ColumnAccessError,
    DataIntegrityError,
    DataVersionError,
    DataVersionNotFoundError,
)

if TYPE_CHECKING:
    import pandas as pd

    from course_lib.data.access import ColumnPolicy

__all__ = ["DatasetStore"]

_READ_ONLY = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH


class DatasetStore:
    """Commit tables as immutable versions, read them back (as a role), diff and trace them.

    Args:
        root: the folder the store lives in (created when missing).
        policy: column access rules applied on every read; with a policy, every read names
            a role. Without one, every column is readable.
    """

    def __init__(self, root: str | os.PathLike[str], *, policy: ColumnPolicy | None = None):
        self.root = Path(root)
        self.policy = policy
        self.root.mkdir(parents=True, exist_ok=True)

    # -- writing ----------------------------------------------------------------------------

    def commit(
        self,
        name: str,
        files: Mapping[str, pd.DataFrame] | pd.DataFrame,
        *,
        key: str,
        created_by: str,
        message: str = "",
        parent: str | DatasetVersion | None = None,
        schema: Any = None,
        created_at: dt.datetime | None = None,
    ) -> DatasetVersion:
        """Stores ``files`` (one table, or file name -> table) as a version of ``name``.

        With ``schema`` (a pandera schema), every file is validated first and nothing is
        written unless all pass. Committing content the store already holds returns that
        version unchanged: the id is the content, the first manifest stays.
        """
        check_name(name, "dataset name")
        tables = {"data": files} if not isinstance(files, Mapping) else dict(files)
        if not tables:
            raise DataVersionError(f"Nothing to commit to {name!r}: give at least one table.")
        if not isinstance(created_by, str) or not created_by.strip():
            raise DataVersionError("Say who made this version: created_by='name or pipeline'.")
        parent_version = None if parent is None else self.get(_as_ref(parent, name)).version
        for file_name in tables:
            check_name(file_name, "file name")
        if schema is not None:
            _validate_all(name, tables, schema, key)
        encoded = {f: (canonical_bytes(table, key), table) for f, table in tables.items()}
        hashes = {f: hashlib.sha256(data).hexdigest() for f, (data, _) in encoded.items()}
        version = version_id(hashes)
        existing = self._manifest_path(name, version)
        if existing.exists():
            return self._load_manifest(existing)
        entries = []
        for file_name, (data, table) in sorted(encoded.items()):
            self._write_once(self._object_path(hashes[file_name]), data)
            types = tuple(column_types(table).items())
            entries.append(FileEntry(file_name, hashes[file_name], len(table), len(data), types))
        when = created_at or dt.datetime.now(dt.timezone.utc)
        manifest = DatasetVersion(
            name=name,
            version=version,
            key=key,
            files=tuple(entries),
            parent=parent_version,
            created_by=created_by,
            created_at=when.isoformat(timespec="seconds"),
            message=message,
        )
        text = json.dumps(manifest.to_dict(), indent=2, sort_keys=True, ensure_ascii=False)
        self._write_once(existing, (text + "\n").encode("utf-8"))
        with (self.root / name / "log.jsonl").open("a", encoding="utf-8") as log:
            log.write(json.dumps({"version": version}) + "\n")
        return manifest

    # -- reading ----------------------------------------------------------------------------

    def get(self, ref: str | DatasetVersion) -> DatasetVersion:
        """The manifest of ``ref``: ``name@<hex prefix>``, ``name@latest`` or ``name``."""
        if isinstance(ref, DatasetVersion):
            ref = f"{ref.name}@{ref.version}"
        if not isinstance(ref, str):
            raise DataVersionError(
                f"A version reference is text such as 'tickets@3f2a9c1b2d4e'; got "
                f"{type(ref).__name__}."
            )
        name, _, wanted = ref.partition("@")
        check_name(name, "dataset name")
        history = self._log(name)
        if not wanted or wanted == "latest":
            return self._load_manifest(self._manifest_path(name, history[-1]))
        matches = [v for v in dict.fromkeys(history) if v.startswith(wanted.lower())]
        if len(wanted) < 6 or len(matches) > 1:
            raise DataVersionError(
                f"{ref!r} is too short to name one version; give {SHORT} hex digits, as in "
                f"{name}@{history[-1][:SHORT]}."
            )
        if not matches:
            known = ", ".join(f"{name}@{v[:SHORT]}" for v in dict.fromkeys(history))
            raise DataVersionNotFoundError(f"No version {ref!r}; {name} has: {known}.")
        return self._load_manifest(self._manifest_path(name, matches[0]))

    def read(
        self,
        ref: str | DatasetVersion,
        file: str | None = None,
        *,
        role: str | None = None,
        columns: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """One file of a version as a DataFrame (rows in key order), checked against its hash.

        With a policy, ``role`` is required and the policy decides which columns come back
        and how (:class:`~course_lib.data.access.ColumnPolicy`).
        """
        import pandas as pd

        manifest = self.get(ref)
        entry = manifest.file(file)
        if self.policy is None and role is not None:
            raise ColumnAccessError(
                f"This store has no access policy, so role {role!r} means nothing here; "
                "create it with DatasetStore(root, policy=...) to enforce one."
            )
        if self.policy is not None and role is None:
            raise ColumnAccessError(
                f"This store enforces column access: read {manifest.ref} as a role, e.g. "
                f"role={self.policy.roles[0]!r} (roles: {', '.join(self.policy.roles)})."
            )
        data = self._verified_bytes(manifest, entry)
        records = [json.loads(line) for line in data.decode("utf-8").splitlines()]
        order = [c for c, _ in entry.columns]
        frame = _restore_types(pd.DataFrame.from_records(records, columns=order), entry.columns)
        if self.policy is not None and role is not None:
            return self.policy.apply(frame, role, columns)
        return frame if columns is None else frame[list(columns)]

    def history(self, name: str) -> list[DatasetVersion]:
        """The versions of ``name`` in the order they were first committed."""
        check_name(name, "dataset name")
        return [
            self._load_manifest(self._manifest_path(name, v))
            for v in dict.fromkeys(self._log(name))
        ]

    def history_frame(self, name: str) -> pd.DataFrame:
        """:meth:`history` as a table: version, parent, rows per file, who, why."""
        import pandas as pd

        return pd.DataFrame([m.summary() for m in self.history(name)])

    def diff(self, old: str | DatasetVersion, new: str | DatasetVersion) -> pd.DataFrame:
        """Rows added, removed or changed from ``old`` to ``new``: one row per key and file.

        ``columns`` names the columns whose values changed; a key that now has more or fewer
        rows (a pasted duplicate, say) is ``changed`` with ``rows`` saying how many.
        """
        import pandas as pd

        before_version, after_version = self.get(old), self.get(new)
        names = {f.name for f in before_version.files} | {f.name for f in after_version.files}
        rows: list[tuple[str, Any, str, str]] = []
        for file in sorted(names):
            before = self._records_by_key(before_version, file)
            after = self._records_by_key(after_version, file)
            for label in sorted(set(before) | set(after)):
                if label not in before:
                    rows.append((file, after[label][0][after_version.key], "added", ""))
                elif label not in after:
                    rows.append((file, before[label][0][before_version.key], "removed", ""))
                elif before[label] != after[label]:
                    key_value = after[label][0][after_version.key]
                    rows.append((file, key_value, "changed", _changes(before[label], after[label])))
        return pd.DataFrame(rows, columns=["file", "key", "change", "columns"])

    def verify(self, ref: str | DatasetVersion) -> DatasetVersion:
        """Re-hashes every file of ``ref``; raises DataIntegrityError on any changed byte."""
        manifest = self.get(ref)
        for entry in manifest.files:
            self._verified_bytes(manifest, entry)
        return manifest

    def object_path(self, ref: str | DatasetVersion, file: str | None = None) -> Path:
        """Where the bytes of one file of ``ref`` live (read them with :meth:`read`)."""
        return self._object_path(self.get(ref).file(file).sha256)

    def stored_bytes(self) -> int:
        """Bytes of every object in the store: each distinct file counted once."""
        return sum(p.stat().st_size for p in (self.root / "objects").glob("*/*.jsonl"))

    # -- internals --------------------------------------------------------------------------

    def _object_path(self, sha: str) -> Path:
        return self.root / "objects" / sha[:2] / f"{sha}.jsonl"

    def _manifest_path(self, name: str, version: str) -> Path:
        return self.root / name / "versions" / f"{version}.json"

    def _log(self, name: str) -> list[str]:
        path = self.root / name / "log.jsonl"
        if not path.exists():
            known = sorted(p.name for p in self.root.iterdir() if (p / "log.jsonl").exists())
            raise DataVersionNotFoundError(
                f"No dataset {name!r} in the store at {self.root.name!r}; it holds "
                f"{', '.join(known) or 'nothing yet'}. Commit one with store.commit(...)."
            )
        lines = path.read_text(encoding="utf-8").splitlines()
        return [str(json.loads(line)["version"]) for line in lines if line.strip()]

    def _load_manifest(self, path: Path) -> DatasetVersion:
        data = path.read_bytes()
        manifest = DatasetVersion.from_dict(json.loads(data))
        if path.stem != manifest.version:
            raise DataIntegrityError(
                f"Manifest {path.name} describes version {manifest.version[:SHORT]}; it was "
                "moved or edited. Restore it from a backup; never edit a manifest by hand."
            )
        return manifest

    def _records_by_key(
        self, manifest: DatasetVersion, file: str
    ) -> dict[str, list[dict[str, Any]]]:
        """The rows of one file grouped by their key (as JSON text); empty if there is none."""
        entry = next((f for f in manifest.files if f.name == file), None)
        if entry is None:
            return {}
        grouped: dict[str, list[dict[str, Any]]] = {}
        for line in self._verified_bytes(manifest, entry).decode("utf-8").splitlines():
            record = json.loads(line)
            label = json.dumps(record.get(manifest.key), sort_keys=True)
            grouped.setdefault(label, []).append(record)
        return grouped

    def _verified_bytes(self, manifest: DatasetVersion, entry: FileEntry) -> bytes:
        path = self._object_path(entry.sha256)
        if not path.exists():
            raise DataIntegrityError(
                f"The bytes of {manifest.ref}/{entry.name} are missing from the store "
                f"({path.relative_to(self.root)}); restore the store from its backup."
            )
        data = path.read_bytes()
        actual = hashlib.sha256(data).hexdigest()
        if actual != entry.sha256:
            raise DataIntegrityError(
                f"{manifest.ref}/{entry.name} was changed after it was written: its SHA-256 "
                f"is {actual[:SHORT]}..., the manifest recorded {entry.sha256[:SHORT]}.... "
                "Results computed on it cannot be trusted; restore it, and commit edits as a "
                "new version instead."
            )
        return data

    @staticmethod
    def _write_once(path: Path, data: bytes) -> None:
        """Writes ``data`` to ``path`` atomically and makes it read-only; never overwrites."""
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".writing-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.chmod(temporary, _READ_ONLY)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


def _validate_all(name: str, tables: Mapping[str, pd.DataFrame], schema: Any, key: str) -> None:
    """Validates every file; one error lists the failures of all of them."""
    import pandas as pd

    reports = [
        report.assign(file=file_name)
        for file_name, table in tables.items()
        if not (report := validation_report(table, schema, key=key)).empty
    ]
    if reports:
        failures = pd.concat(reports, ignore_index=True)
        raise validation_error(failures, f"{name} (nothing was written)")


def _as_ref(value: str | DatasetVersion, name: str) -> str:
    if isinstance(value, DatasetVersion):
        return f"{value.name}@{value.version}"
    return value if "@" in value else f"{name}@{value}"


def _changes(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> str:
    """Which columns differ between two versions of one key's rows."""
    if len(before) != len(after):
        return f"rows: {len(before)} -> {len(after)}"
    pairs = zip(before, after, strict=True)
    changed = sorted({c for b, a in pairs for c in set(b) | set(a) if b.get(c) != a.get(c)})
    return ", ".join(changed)


def _restore_types(frame: pd.DataFrame, columns: Sequence[tuple[str, str]]) -> pd.DataFrame:
    """Gives each column back the dtype recorded in the manifest where JSON lost it."""
    import pandas as pd

    for column, dtype in columns:
        if dtype.startswith("datetime64"):
            parsed = pd.to_datetime(frame[column], format="ISO8601", utc="UTC" in dtype)
            frame[column] = parsed.astype(dtype)
        elif dtype.startswith(("int", "uint", "float", "bool")):
            frame[column] = frame[column].astype(dtype)
    return frame
