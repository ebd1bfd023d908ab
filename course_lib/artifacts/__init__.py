"""Artifacts by content: models, datasets and reports named by the SHA-256 of their bytes.

:class:`ArtifactStore` stores bytes, files and JSON values under their hash through fsspec, in
the work directory by default or wherever ``object_store_url`` points (``s3://bucket/prefix``);
tags give human names that can move. The test suite runs every behaviour on a local folder and
on an S3 API.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from course_lib._lazy import lazy_exports

if TYPE_CHECKING:
    from course_lib.artifacts.store import ArtifactRef, ArtifactStore

__all__ = ["ArtifactRef", "ArtifactStore"]

_EXPORTS = {
    "ArtifactRef": "course_lib.artifacts.store",
    "ArtifactStore": "course_lib.artifacts.store",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
