"""The Handbook Assistant's data, bundled with the package so nothing is downloaded.

* ``load_handbook``, ``handbook_frame``, ``split_sections``: the Kestrel Freight handbook,
  current or as its v1 snapshot, as records or a DataFrame, and cut into sections;
* ``load_golden_set``: questions with the passages that answer them, split into dev and test;
* ``load_tickets``, ``TICKET_CATEGORIES``, ``TICKET_PRIORITIES``: labelled support tickets,
  and the definitions of their labels;
* ``load_traffic``, ``load_traffic_incident``, ``generate_traffic``: a week of Handbook
  Assistant requests with a hidden incident, and its ground truth.

Each set is described in ``course_lib/datasets/README.md`` (the datasheet).

Importing this package is cheap: each name loads its module on first use, and no loader
imports numpy, pandas, yaml or pandera before it is called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from course_lib._lazy import lazy_exports

if TYPE_CHECKING:
    from course_lib.datasets.golden import GoldenQuestion, GoldenSource, load_golden_set
    from course_lib.datasets.handbook import (
        HandbookDocument,
        Section,
        handbook_frame,
        load_handbook,
        split_sections,
    )
    from course_lib.datasets.tickets import TICKET_CATEGORIES, TICKET_PRIORITIES, load_tickets
    from course_lib.datasets.traffic import (
        IncidentEffect,
        TrafficDistractor,
        TrafficIncident,
        TrafficWeek,
        generate_traffic,
        load_traffic,
        load_traffic_incident,
    )

_EXPORTS = {
    "GoldenQuestion": "course_lib.datasets.golden",
    "GoldenSource": "course_lib.datasets.golden",
    "load_golden_set": "course_lib.datasets.golden",
    "HandbookDocument": "course_lib.datasets.handbook",
    "Section": "course_lib.datasets.handbook",
    "handbook_frame": "course_lib.datasets.handbook",
    "load_handbook": "course_lib.datasets.handbook",
    "split_sections": "course_lib.datasets.handbook",
    "TICKET_CATEGORIES": "course_lib.datasets.tickets",
    "TICKET_PRIORITIES": "course_lib.datasets.tickets",
    "load_tickets": "course_lib.datasets.tickets",
    "IncidentEffect": "course_lib.datasets.traffic",
    "TrafficDistractor": "course_lib.datasets.traffic",
    "TrafficIncident": "course_lib.datasets.traffic",
    "TrafficWeek": "course_lib.datasets.traffic",
    "generate_traffic": "course_lib.datasets.traffic",
    "load_traffic": "course_lib.datasets.traffic",
    "load_traffic_incident": "course_lib.datasets.traffic",
}

__all__ = [
    "TICKET_CATEGORIES",
    "TICKET_PRIORITIES",
    "GoldenQuestion",
    "GoldenSource",
    "HandbookDocument",
    "IncidentEffect",
    "Section",
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

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
