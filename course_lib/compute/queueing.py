"""Queueing models for capacity planning: Little's law, utilisation, latency, a simulator.

A server with ``c`` slots that each take ``S`` seconds per request can finish ``c / S``
requests a second. Long before traffic reaches that, requests start waiting for a free slot,
and the wait grows without bound as utilisation ``rho = lambda * S / c`` nears 1. These
formulas say how fast, so a pool can be sized for a latency target instead of for the mean:

* :func:`littles_law`: ``L = lambda * W``, requests in the system from rate and time in it;
* :func:`erlang_c`: the probability that an arriving request has to wait (M/M/c);
* :func:`mean_latency`: service time plus the mean wait, for exponential service times
  (M/M/c, exact) or fixed ones (M/D/c, the Allen-Cunneen approximation, exact for c = 1);
* :func:`simulate_queue`: a seeded discrete-event simulation in virtual time, to check the
  formulas (and to measure what they do not cover) without waiting.
"""

from __future__ import annotations

import heapq
import math
import random
from dataclasses import dataclass
from typing import Literal

from course_lib.errors import SettingsError

__all__ = [
    "QueueRun",
    "ServiceKind",
    "erlang_c",
    "littles_law",
    "mean_latency",
    "percentile",
    "servers_needed",
    "simulate_queue",
    "utilisation",
]

ServiceKind = Literal["deterministic", "exponential"]


def _positive(name: str, value: float) -> None:
    if not value > 0 or math.isinf(value):
        raise SettingsError(f"{name} is {value}; it must be a positive, finite number.")


def _servers(servers: int) -> None:
    if isinstance(servers, bool) or not isinstance(servers, int) or servers < 1:
        raise SettingsError(f"servers is {servers!r}; use a whole number of slots, 1 or more.")


def littles_law(arrival_rate: float, time_in_system: float) -> float:
    """Mean number of requests in the system, ``L = lambda * W``: true of any stable queue,
    whatever the arrival and service distributions."""
    if arrival_rate < 0 or time_in_system < 0:
        raise SettingsError("Little's law takes a rate and a time of 0 or more.")
    return arrival_rate * time_in_system


def utilisation(arrival_rate: float, service_time: float, servers: int = 1) -> float:
    """The share of slot time in use, ``rho = lambda * S / c``; at 1 or above the queue grows
    without bound."""
    _positive("service_time", service_time)
    _servers(servers)
    if arrival_rate < 0:
        raise SettingsError(f"arrival_rate is {arrival_rate}; use 0 or more per second.")
    return arrival_rate * service_time / servers


def erlang_c(servers: int, offered_load: float) -> float:
    """The probability that a request waits for a slot in an M/M/c queue.

    ``offered_load`` is ``lambda * S`` (in Erlangs); it must be under ``servers``. Computed
    with the stable recurrence of the Erlang B formula, so large pools do not overflow.
    """
    _servers(servers)
    if offered_load < 0:
        raise SettingsError(f"offered_load is {offered_load}; use 0 or more Erlangs.")
    if offered_load >= servers:
        return 1.0
    blocking = 1.0
    for k in range(1, servers + 1):
        blocking = offered_load * blocking / (k + offered_load * blocking)
    rho = offered_load / servers
    return blocking / (1 - rho + rho * blocking)


def mean_latency(
    arrival_rate: float,
    service_time: float,
    servers: int = 1,
    *,
    service: ServiceKind = "deterministic",
) -> float:
    """Mean time in the system (wait + service) for Poisson arrivals; ``inf`` when
    utilisation reaches 1.

    Fixed service times wait half as long as exponential ones (Allen-Cunneen: the wait scales
    with ``(1 + cv^2) / 2``, ``cv`` the service time's coefficient of variation).
    """
    rho = utilisation(arrival_rate, service_time, servers)
    if rho >= 1:
        return math.inf
    if service not in ("deterministic", "exponential"):
        raise SettingsError(f"service is {service!r}; use 'deterministic' or 'exponential'.")
    offered = arrival_rate * service_time
    wait = erlang_c(servers, offered) * service_time / (servers * (1 - rho))
    if service == "deterministic":
        wait /= 2
    return service_time + wait


def servers_needed(
    arrival_rate: float,
    service_time: float,
    target_latency: float,
    *,
    service: ServiceKind = "deterministic",
) -> int:
    """The fewest slots whose mean latency meets ``target_latency`` at ``arrival_rate``."""
    _positive("target_latency", target_latency)
    if target_latency <= service_time:
        raise SettingsError(
            f"A target of {target_latency} s cannot be met with a service time of "
            f"{service_time} s: no queue is faster than its service. Raise the target or make "
            "each request faster (a smaller model, fewer output tokens)."
        )
    servers = max(1, math.ceil(arrival_rate * service_time))
    while mean_latency(arrival_rate, service_time, servers, service=service) > target_latency:
        servers += 1
    return servers


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank percentile ``q`` (0-100) of ``values``."""
    if not values:
        raise SettingsError("A percentile of no values is undefined; measure something first.")
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass(frozen=True)
class QueueRun:
    """What a simulated (or measured) run of a queue gave."""

    arrival_rate: float
    service_time: float
    servers: int
    latencies: tuple[float, ...]
    duration: float

    @property
    def mean_latency(self) -> float:
        return sum(self.latencies) / len(self.latencies)

    @property
    def p95_latency(self) -> float:
        return percentile(list(self.latencies), 95)

    @property
    def throughput(self) -> float:
        """Requests finished per second over the run."""
        return len(self.latencies) / self.duration

    @property
    def mean_in_system(self) -> float:
        """Time-averaged number of requests in the system: total time spent / duration."""
        return sum(self.latencies) / self.duration


def simulate_queue(
    arrival_rate: float,
    service_time: float,
    servers: int = 1,
    *,
    n_requests: int = 2000,
    seed: int = 0,
    service: ServiceKind = "deterministic",
) -> QueueRun:
    """Poisson arrivals served first come, first served by ``servers`` slots, in virtual time.

    Deterministic for a seed on every machine (one ``random.Random``); no clock is read.
    """
    _positive("arrival_rate", arrival_rate)
    _positive("service_time", service_time)
    _servers(servers)
    if n_requests < 1:
        raise SettingsError(f"n_requests is {n_requests}; simulate at least one request.")
    rng = random.Random(seed)
    free_at = [0.0] * servers  # a heap of the times each slot next becomes free
    arrival = 0.0
    latencies = []
    finish_last = 0.0
    for _ in range(n_requests):
        arrival += rng.expovariate(arrival_rate)
        took = service_time if service == "deterministic" else rng.expovariate(1 / service_time)
        start = max(arrival, heapq.heappop(free_at))
        done = start + took
        heapq.heappush(free_at, done)
        latencies.append(done - arrival)
        finish_last = max(finish_last, done)
    return QueueRun(arrival_rate, service_time, servers, tuple(latencies), finish_last)
