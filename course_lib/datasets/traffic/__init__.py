"""A week of Handbook Assistant production traffic, with one hidden incident.

Observability, cost and incident lessons need logs that look like a real service's: office-hour
peaks, heavy users, a long latency tail, rare errors, and something that went wrong. This
package simulates one week of requests to the assistant. Somewhere on a weekday afternoon a
prompt rollout makes the ``ask`` feature dearer, slower and worse at citing; two harmless
anomalies (a Monday-morning traffic peak and a few minutes of errors on one model) sit
elsewhere in the week to mislead a hasty analyst.

* ``generate_traffic``: build a week from a seed. Every draw comes from one ``random.Random``,
  whose algorithms, unlike numpy's generators, have not changed across Python versions, so a
  seed gives the same rows wherever the course runs;
* ``load_traffic``: the requests of the default week, cached per seed;
* ``load_traffic_incident``: the ground truth (the incident, its measured effect and the
  distractors). Lessons should let learners search before they look at it.

Prices and latencies come from the bundled model registry (``course_lib/models.toml``),
never from the learner's settings, so every copy of the course sees the same numbers. The
datasheet is the "Traffic" part of ``course_lib/datasets/README.md``.

The modules: :mod:`~.params` (every number of the simulation), :mod:`~.questions` (the
question pool, ``questions.txt``), :mod:`~.clock` (time zones and windows), :mod:`~.draws`
(one request), :mod:`~.truth` (the ground truth) and :mod:`~.week` (a whole week).
"""

from __future__ import annotations

from course_lib.datasets.traffic.params import COLUMNS, FEATURES, OUTCOMES, PROMPT_VERSIONS, TEAMS
from course_lib.datasets.traffic.questions import QUESTIONS_FILE, load_traffic_questions
from course_lib.datasets.traffic.truth import (
    IncidentEffect,
    TrafficDistractor,
    TrafficIncident,
    TrafficWeek,
)
from course_lib.datasets.traffic.week import generate_traffic, load_traffic, load_traffic_incident

__all__ = [
    "COLUMNS",
    "FEATURES",
    "OUTCOMES",
    "PROMPT_VERSIONS",
    "QUESTIONS_FILE",
    "TEAMS",
    "IncidentEffect",
    "TrafficDistractor",
    "TrafficIncident",
    "TrafficWeek",
    "generate_traffic",
    "load_traffic",
    "load_traffic_incident",
    "load_traffic_questions",
]
