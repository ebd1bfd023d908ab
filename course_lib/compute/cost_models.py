"""Three ways to pay for inference, as pure functions of volume: a hosted API, dedicated GPU
servers, and serverless functions.

A hosted API bills tokens, so its cost grows in proportion to traffic. A dedicated server
bills hours whether it is busy or not, so its cost is a staircase: flat until the traffic
needs another instance. Serverless bills each request's seconds and scales to zero, at the
price of cold starts after idle gaps. Which is cheapest depends on volume, and
:func:`break_even` finds the volume where the answer changes.

Every price here is a parameter. The hosted prices come from the model registry; GPU and
serverless prices are assumptions the caller states (the lesson lists its own with sources).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from course_lib.compute.queueing import mean_latency
from course_lib.errors import SettingsError

__all__ = [
    "HOURS_PER_MONTH",
    "SECONDS_PER_MONTH",
    "ComputeOption",
    "DedicatedGPU",
    "HostedAPI",
    "Serverless",
    "Workload",
    "break_even",
    "cheapest",
]

HOURS_PER_MONTH = 730.0
"""24 hours x 365 days / 12 months: what a server that never stops is billed for."""
SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600


def _not_negative(owner: str, **values: float) -> None:
    for name, value in values.items():
        if not value >= 0 or math.isinf(value):
            raise SettingsError(
                f"{owner}.{name} is {value}; it must be a finite number, 0 or more."
            )


@dataclass(frozen=True)
class Workload:
    """A month of traffic: its volume, the size of a request, and how peaky it is.

    ``peak_to_mean`` is the busiest hour's rate over the month's mean rate: capacity must be
    sized for the peak, and a fleet sized for it idles the rest of the time.
    """

    requests_per_month: float
    input_tokens: float
    output_tokens: float
    peak_to_mean: float = 3.0

    def __post_init__(self) -> None:
        _not_negative(
            "Workload",
            requests_per_month=self.requests_per_month,
            input_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
        )
        if not self.peak_to_mean >= 1:
            raise SettingsError(
                f"Workload.peak_to_mean is {self.peak_to_mean}; the peak rate cannot be below "
                "the mean, so use 1 or more."
            )

    @property
    def mean_rate(self) -> float:
        """Requests per second, averaged over the month."""
        return self.requests_per_month / SECONDS_PER_MONTH

    @property
    def peak_rate(self) -> float:
        """Requests per second in the busiest hour."""
        return self.mean_rate * self.peak_to_mean

    def at(self, requests_per_month: float) -> Workload:
        """The same requests at another volume."""
        return Workload(
            requests_per_month, self.input_tokens, self.output_tokens, self.peak_to_mean
        )


class ComputeOption(Protocol):
    """Anything with a monthly cost and a mean latency for a workload."""

    name: str

    def monthly_cost(self, workload: Workload) -> float:
        """US dollars for a month of ``workload``."""
        ...

    def latency_s(self, workload: Workload) -> float:
        """Mean seconds per request at the workload's peak."""
        ...


@dataclass(frozen=True)
class HostedAPI:
    """A provider's API: per-token prices, no servers to run, latency set by the provider."""

    name: str
    input_price_per_million: float
    output_price_per_million: float
    seconds_per_request: float

    def __post_init__(self) -> None:
        _not_negative(
            "HostedAPI",
            input_price_per_million=self.input_price_per_million,
            output_price_per_million=self.output_price_per_million,
            seconds_per_request=self.seconds_per_request,
        )

    @classmethod
    def from_registry(cls, role: str, workload: Workload) -> HostedAPI:
        """Prices of a model of the registry (a role or an id), and its latency formula
        applied to the workload's request size."""
        from course_lib.models import get_registry

        spec = get_registry().resolve(role)
        latency_ms = spec.latency_ms(round(workload.input_tokens), round(workload.output_tokens))
        return cls(
            f"hosted API ({spec.id})",
            spec.input_price_per_million,
            spec.output_price_per_million,
            latency_ms / 1000,
        )

    def cost_per_request(self, workload: Workload) -> float:
        return (
            workload.input_tokens * self.input_price_per_million
            + workload.output_tokens * self.output_price_per_million
        ) / 1_000_000

    def monthly_cost(self, workload: Workload) -> float:
        return workload.requests_per_month * self.cost_per_request(workload)

    def latency_s(self, workload: Workload) -> float:
        return self.seconds_per_request


@dataclass(frozen=True)
class DedicatedGPU:
    """GPU servers rented by the hour, sized for the peak at a target utilisation.

    ``requests_per_s`` is what one instance sustains (measure it with a load test);
    ``service_time_s`` is one request's time on it. Sizing for utilisation 1.0 makes the
    queue, and latency, grow without bound at the peak: leave headroom.
    """

    name: str
    hourly_usd: float
    requests_per_s: float
    service_time_s: float
    target_utilisation: float = 0.7
    min_instances: int = 1

    def __post_init__(self) -> None:
        _not_negative("DedicatedGPU", hourly_usd=self.hourly_usd)
        if not self.requests_per_s > 0 or not self.service_time_s > 0:
            raise SettingsError(
                "DedicatedGPU.requests_per_s and service_time_s must be above 0: measure them "
                "with a load test on one instance."
            )
        if not 0 < self.target_utilisation < 1:
            raise SettingsError(
                f"DedicatedGPU.target_utilisation is {self.target_utilisation}; use a share "
                "between 0 and 1 (0.6 to 0.8 is usual): at 1 the queue grows without bound."
            )
        if self.min_instances < 0:
            raise SettingsError("DedicatedGPU.min_instances must be 0 or more.")

    def instances(self, workload: Workload) -> int:
        """Instances for the peak at the target utilisation (at least ``min_instances``)."""
        needed = workload.peak_rate / (self.requests_per_s * self.target_utilisation)
        return max(self.min_instances, math.ceil(needed - 1e-9))

    def monthly_cost(self, workload: Workload) -> float:
        return self.instances(workload) * self.hourly_usd * HOURS_PER_MONTH

    def latency_s(self, workload: Workload) -> float:
        instances = self.instances(workload)
        if instances == 0:
            return math.inf
        slots = max(1, round(self.requests_per_s * self.service_time_s)) * instances
        if workload.peak_rate == 0:
            return self.service_time_s
        return mean_latency(workload.peak_rate, self.service_time_s, slots)


@dataclass(frozen=True)
class Serverless:
    """Functions billed per request and per GB-second, scaled to zero when idle.

    After ``idle_timeout_s`` without traffic an instance is reclaimed, and the next request
    waits ``cold_start_s`` for a new one to load the model. With Poisson arrivals at rate
    ``r``, the share of requests that find no warm instance is about ``exp(-r * timeout)``.
    """

    name: str
    per_request_usd: float
    per_gb_second_usd: float
    memory_gb: float
    seconds_per_request: float
    cold_start_s: float
    idle_timeout_s: float

    def __post_init__(self) -> None:
        _not_negative(
            "Serverless",
            per_request_usd=self.per_request_usd,
            per_gb_second_usd=self.per_gb_second_usd,
            memory_gb=self.memory_gb,
            seconds_per_request=self.seconds_per_request,
            cold_start_s=self.cold_start_s,
            idle_timeout_s=self.idle_timeout_s,
        )

    def cost_per_request(self) -> float:
        return self.per_request_usd + self.memory_gb * self.seconds_per_request * (
            self.per_gb_second_usd
        )

    def monthly_cost(self, workload: Workload) -> float:
        return workload.requests_per_month * self.cost_per_request()

    def cold_start_share(self, workload: Workload) -> float:
        """Share of requests that arrive after an idle gap longer than the timeout."""
        return math.exp(-workload.mean_rate * self.idle_timeout_s)

    def latency_s(self, workload: Workload) -> float:
        return self.seconds_per_request + self.cold_start_share(workload) * self.cold_start_s


def cheapest(options: list[ComputeOption], workload: Workload) -> ComputeOption:
    """The option with the lowest monthly cost for ``workload`` (the first on a tie)."""
    if not options:
        raise SettingsError("cheapest() needs at least one compute option to compare.")
    return min(options, key=lambda option: option.monthly_cost(workload))


def break_even(
    first: ComputeOption,
    second: ComputeOption,
    workload: Workload,
    *,
    low: float = 1_000.0,
    high: float = 1e9,
    steps: int = 400,
) -> float | None:
    """The lowest monthly volume in ``[low, high]`` from which ``second`` costs no more than
    ``first``, to 0.1 %; ``None`` if it never does in the range.

    A dedicated fleet's cost is a staircase, so the difference is not monotonic: the range is
    scanned on a log scale for the first change, which bisection then pins down.
    """
    if not 0 < low < high:
        raise SettingsError(f"break_even needs 0 < low < high (got {low} and {high}).")

    def second_wins(volume: float) -> bool:
        at = workload.at(volume)
        return second.monthly_cost(at) <= first.monthly_cost(at)

    if second_wins(low):
        return low
    ratio = (high / low) ** (1 / steps)
    previous = low
    for step in range(1, steps + 1):
        volume = low * ratio**step
        if second_wins(volume):
            return _bisect(second_wins, previous, volume)
        previous = volume
    return None


def _bisect(wins: Callable[[float], bool], lose: float, win: float) -> float:
    while win - lose > win * 1e-3:
        middle = (lose + win) / 2
        if wins(middle):
            win = middle
        else:
            lose = middle
    return win
