"""The Handbook Assistant's data, bundled with the package so nothing is downloaded.

* ``load_handbook``, ``handbook_frame``, ``split_sections``: the Kestrel Freight handbook,
  current or as its v1 snapshot, as records or a DataFrame, and cut into sections;
* ``load_golden_set``: questions with the passages that answer them, split into dev and test;
* ``load_tickets``: labelled support tickets;
* ``load_traffic``, ``load_traffic_incident``, ``generate_traffic``: a week of Handbook
  Assistant requests with a hidden incident, and its ground truth.

Each set is described in ``course_lib/datasets/README.md`` (the datasheet).

Importing this package loads no numpy, pandas, yaml or pandera: the loaders import them when
called. The ticket and traffic modules hold large generator tables, so they are imported only
when one of their names is first used (PEP 562), which keeps ``import course_lib`` quick for
lessons that never touch them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from course_lib.datasets.golden import GoldenQuestion, GoldenSource, load_golden_set
from course_lib.datasets.handbook import (
    HandbookDocument,
    Section,
    handbook_frame,
    load_handbook,
    split_sections,
)

if TYPE_CHECKING:
    from course_lib.datasets.tickets_build import TICKET_CATEGORIES, TICKET_PRIORITIES, load_tickets
    from course_lib.datasets.traffic import (
        IncidentEffect,
        TrafficDistractor,
        TrafficIncident,
        TrafficWeek,
        generate_traffic,
        load_traffic,
        load_traffic_incident,
    )

__all__ = [
    "GoldenQuestion",
    "GoldenSource",
    "HandbookDocument",
    "IncidentEffect",
    "Section",
    "TICKET_CATEGORIES",
    "TICKET_PRIORITIES",
    "TrafficDistractor",
    "TrafficIncident",
    "TrafficWeek",
    "generate_traffic",
    "handbook_frame",
    "load_golden_set",
    "load_handbook",
    "load_tickets",
    "load_traffic",
    "load_traffic_incident",
    "split_sections",
]

_LAZY = {
    "load_tickets": "course_lib.datasets.tickets_build",
    "TICKET_CATEGORIES": "course_lib.datasets.tickets_build",
    "TICKET_PRIORITIES": "course_lib.datasets.tickets_build",
    "IncidentEffect": "course_lib.datasets.traffic",
    "TrafficDistractor": "course_lib.datasets.traffic",
    "TrafficIncident": "course_lib.datasets.traffic",
    "TrafficWeek": "course_lib.datasets.traffic",
    "generate_traffic": "course_lib.datasets.traffic",
    "load_traffic": "course_lib.datasets.traffic",
    "load_traffic_incident": "course_lib.datasets.traffic",
}


def __getattr__(name: str) -> Any:
    """Imports the ticket or traffic module the first time one of its names is used."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
