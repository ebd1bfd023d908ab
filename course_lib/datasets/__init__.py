"""The Handbook Assistant's data, bundled with the package so nothing is downloaded.

* ``load_handbook``: the Kestrel Freight handbook, current or as its v1 snapshot;
* ``load_golden_set``: questions with the documents that answer them, split into dev and test;
* ``load_tickets``: labelled support tickets;
* ``load_traffic``: a week of Handbook Assistant requests with a hidden incident.

Each set is described in ``course_lib/datasets/README.md`` (the datasheet).
"""

from __future__ import annotations

from course_lib.datasets.handbook import (
    HandbookDocument,
    Section,
    handbook_frame,
    load_handbook,
    split_sections,
)

__all__ = [
    "HandbookDocument",
    "Section",
    "handbook_frame",
    "load_handbook",
    "split_sections",
]
