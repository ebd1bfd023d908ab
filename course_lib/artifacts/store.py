"""Artifacts stored by content: the SHA-256 of the bytes is the name.

A model file, a dataset snapshot or an evaluation report saved as ``model_final_v2.pkl`` can be
overwritten, copied under two names, or silently changed. Named by the hash of its bytes it
cannot: the same bytes are stored once, a name always means the same bytes, and a reader checks
the bytes against the name when it loads them. Human names ("classifier/production") are small
*tags* that point at a hash and can move, the way a git branch points at a commit.

Storage goes through ``fsspec``, so one URL picks the place: a folder on this machine by
default, ``s3://bucket/prefix`` for S3 or any S3-compatible store, and any other file system
fsspec knows. Layout under the root::

    objects/sha256/<first 2 hex>/<remaining 62 hex>   the bytes
    tags/<tag>.json                                   {"sha256": ..., "size": ...}
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from course_lib.errors import (
    ArtifactError,
    ArtifactNotFoundError,
    EngineUnavailableError,
    OptionalDependencyError,
)

__all__ = ["ArtifactRef", "ArtifactStore"]

_DIGEST = re.compile(r"[0-9a-f]{64}")
_TAG = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}(/[a-z0-9][a-z0-9._-]{0,63}){0,3}")


@dataclass(frozen=True)
class ArtifactRef:
    """Where an artifact is, by content.

    Attributes:
        sha256: the hex SHA-256 of its bytes: its name.
        size: its length in bytes.
        url: where its bytes are (``<root>/objects/sha256/..``).
        stored: True when this put wrote the bytes, False when they were there already.
    """

    sha256: str
    size: int
    url: str
    stored: bool = True


def _check_digest(digest: str) -> str:
    if not isinstance(digest, str) or not _DIGEST.fullmatch(digest):
        raise ArtifactError(
            f"An artifact's name is its SHA-256: 64 lower-case hex characters (got {digest!r}); "
            "use the sha256 of the ArtifactRef that put() returned, or resolve a tag."
        )
    return digest


def _check_tag(tag: str) -> str:
    if not isinstance(tag, str) or not _TAG.fullmatch(tag):
        raise ArtifactError(
            f"A tag is up to four '/'-separated parts of lower-case letters, digits, '.', '_' "
            f"or '-' (got {tag!r}), e.g. 'classifier/production'."
        )
    return tag


def _file_system(url: str, storage_options: dict[str, Any]) -> tuple[Any, str]:
    import fsspec

    try:
        return fsspec.core.url_to_fs(url, **storage_options)  # type: ignore[no-any-return]
    except ImportError as exc:
        raise OptionalDependencyError(
            f"The object store {url!r} needs a package fsspec could not import ({exc}). For "
            "s3://, run ./run services up (it installs s3fs), or pip install s3fs."
        ) from exc
    except ValueError as exc:
        raise ArtifactError(
            f"fsspec cannot open {url!r} ({exc}); use a folder, or a URL such as "
            "s3://bucket/prefix (COURSE_OBJECT_STORE_URL)."
        ) from exc


class ArtifactStore:
    """Content-addressed artifacts under one root URL, through fsspec.

    Args:
        url: a folder or an fsspec URL (``s3://bucket/prefix``). None reads the
            ``object_store_url`` setting; unset, the ``artifacts`` folder of the work directory.
        storage_options: passed to the file system (e.g. ``{"anon": True}`` for S3).
    """

    def __init__(self, url: str | Path | None = None, **storage_options: Any) -> None:
        if url is None:
            from course_lib.settings import get_settings

            url = get_settings().object_store_url
        if url is None:
            from course_lib.workdir import work_path

            url = work_path("artifacts")
        self.url = str(url).rstrip("/")
        options = dict(storage_options)
        if self.url.startswith("s3://"):
            # Another process may have written since: never answer "exists" from a stale listing.
            options.setdefault("use_listings_cache", False)
            options.setdefault("skip_instance_cache", True)
        self.fs, self.root = _file_system(self.url, options)
        self.root = self.root.rstrip("/")
        self._ensure_root()

    def _ensure_root(self) -> None:
        if self._is_local():
            self.fs.makedirs(self.root, exist_ok=True)
            return
        try:
            bucket = self.root.split("/", 1)[0]
            if self.url.startswith("s3://") and not self.fs.exists(bucket):
                self.fs.mkdir(bucket)
            self.fs.exists(f"{self.root}/tags")  # a first real request: fail here, not later
        except Exception as exc:  # botocore's connection errors are not OSErrors
            raise EngineUnavailableError(
                f"Cannot reach the object store at {self.url}: {' '.join(str(exc).split())}. "
                "For the course's S3 emulator run ./run services up and export the lines "
                "./run services status prints; otherwise check COURSE_OBJECT_STORE_URL and "
                "the AWS_* variables."
            ) from exc

    def _is_local(self) -> bool:
        protocols = (self.fs.protocol,) if isinstance(self.fs.protocol, str) else self.fs.protocol
        return "file" in protocols or "local" in protocols

    def _object_path(self, digest: str) -> str:
        return f"{self.root}/objects/sha256/{digest[:2]}/{digest[2:]}"

    def _tag_path(self, tag: str) -> str:
        return f"{self.root}/tags/{tag}.json"

    def _address(self, path: str) -> str:
        if self._is_local():
            return path
        protocol = self.fs.protocol if isinstance(self.fs.protocol, str) else self.fs.protocol[0]
        return f"{protocol}://{path}"

    def put_bytes(self, data: bytes) -> ArtifactRef:
        """Stores ``data`` under its SHA-256, unless the same bytes are there already."""
        if not isinstance(data, bytes | bytearray | memoryview):
            raise ArtifactError(
                f"put_bytes() stores bytes (got {type(data).__name__}); use put_json() for "
                "values and put_file() for files."
            )
        data = bytes(data)
        digest = hashlib.sha256(data).hexdigest()
        path = self._object_path(digest)
        if self.fs.exists(path):
            return ArtifactRef(digest, len(data), self._address(path), stored=False)
        self._write_atomically(path, data)
        return ArtifactRef(digest, len(data), self._address(path), stored=True)

    def _write_atomically(self, path: str, data: bytes) -> None:
        parent = path.rsplit("/", 1)[0]
        if self._is_local():
            # A reader must never see half a file: write beside it, then rename.
            self.fs.makedirs(parent, exist_ok=True)
            partial = f"{parent}/.partial-{uuid.uuid4().hex}"
            self.fs.pipe_file(partial, data)
            self.fs.mv(partial, path)
        else:
            self.fs.pipe_file(path, data)  # an object store's PUT is atomic already

    def put_file(self, path: str | Path) -> ArtifactRef:
        """Stores the bytes of the local file ``path``."""
        source = Path(path)
        if not source.is_file():
            raise ArtifactError(f"No file at {str(source)!r} to store.")
        return self.put_bytes(source.read_bytes())

    def put_json(self, value: Any) -> ArtifactRef:
        """Stores ``value`` as canonical JSON (keys sorted), so equal values share one artifact."""
        try:
            text = json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ArtifactError(f"put_json() stores plain JSON values: {exc}.") from exc
        return self.put_bytes(text.encode("utf-8"))

    def get_bytes(self, digest: str) -> bytes:
        """The bytes named ``digest``, after checking they still hash to it."""
        path = self._object_path(_check_digest(digest))
        try:
            data = bytes(self.fs.cat_file(path))
        except FileNotFoundError as exc:
            raise ArtifactNotFoundError(
                f"No artifact {digest[:12]}... in {self.url}; list what is there with "
                "store.digests(), or check that COURSE_OBJECT_STORE_URL names the same store."
            ) from exc
        if hashlib.sha256(data).hexdigest() != digest:
            raise ArtifactError(
                f"Artifact {digest[:12]}... in {self.url} was altered after it was stored: its "
                "bytes no longer match its name. Store the original again; do not load it."
            )
        return data

    def get_json(self, digest: str) -> Any:
        """The JSON value stored by :meth:`put_json`."""
        return json.loads(self.get_bytes(digest))

    def exists(self, digest: str) -> bool:
        return bool(self.fs.exists(self._object_path(_check_digest(digest))))

    def digests(self) -> Iterator[str]:
        """Every stored artifact's SHA-256, sorted."""
        base = f"{self.root}/objects/sha256"
        found = self.fs.find(base) if self.fs.exists(base) else []
        names = (f"{p.rstrip('/').split('/')[-2]}{p.rstrip('/').split('/')[-1]}" for p in found)
        yield from sorted(name for name in names if _DIGEST.fullmatch(name))

    def tag(self, tag: str, ref: ArtifactRef | str) -> None:
        """Points ``tag`` at an artifact (moving it if it pointed elsewhere)."""
        digest = _check_digest(ref.sha256 if isinstance(ref, ArtifactRef) else ref)
        if not self.exists(digest):
            raise ArtifactNotFoundError(f"Cannot tag {digest[:12]}...: it is not in {self.url}.")
        record = json.dumps({"sha256": digest}, sort_keys=True).encode()
        self._write_atomically(self._tag_path(_check_tag(tag)), record)

    def resolve(self, tag: str) -> str:
        """The SHA-256 that ``tag`` points at."""
        try:
            record = json.loads(self.fs.cat_file(self._tag_path(_check_tag(tag))))
        except FileNotFoundError as exc:
            raise ArtifactNotFoundError(
                f"No tag {tag!r} in {self.url}; tag an artifact first: store.tag({tag!r}, ref)."
            ) from exc
        return _check_digest(record["sha256"])

    def size_on_store(self) -> int:
        """Bytes the stored artifacts take (tags not counted)."""
        return sum(int(self.fs.size(self._object_path(d))) for d in self.digests())
