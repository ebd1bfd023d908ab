"""A golden question cut down to what the labs read, for tests that build their own cases.

The real :class:`~course_lib.datasets.golden.GoldenQuestion` needs sources, a split and stale
fields; the labs under test read only these, so a test's cases stay one line each.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StubQuestion:
    id: str
    question: str
    answer: str
    doc_ids: tuple[str, ...]
    type: str = "fact"

    @property
    def answerable(self) -> bool:
        return self.type != "unanswerable"
