"""One chat request as the behaviours see it, read once, and the reply a behaviour gives.

Every behaviour needs the same readings of a request (its passages and question, the tools it
offers, the output format it asks for, whether its structured output comes out malformed,
its sampler). Reading them once, before any behaviour runs, keeps each behaviour a few lines
long and guarantees they all see the same request.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from course_lib.standin.ranking import Tier
from course_lib.standin.reading import Passage, ReadRequest, read_request
from course_lib.standin.structured import malformed_unit
from course_lib.standin.text import stable_hash
from course_lib.standin.validation import strict_schema_of

__all__ = ["Reply", "Turn", "read_turn", "sampler"]


@dataclass(frozen=True)
class Reply:
    """What a behaviour answers: prose or JSON in ``content``, or tool calls instead."""

    behaviour: str  # reported in the completion's ``course`` block, for lessons and tests
    content: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    malformed: bool = False  # the structured output was broken on purpose


@dataclass(frozen=True)
class Turn:
    """A chat request with everything the behaviours read from it."""

    request: Mapping[str, Any]
    read: ReadRequest
    tier: Tier
    fingerprint: str
    temperature: float
    # The sampler every random choice of this turn draws from (see :func:`sampler`).
    rng: random.Random
    broken: bool  # this request's structured output comes out malformed
    # Where the request falls inside the malformed share, 0 to 1: picks how the output breaks.
    break_unit: float

    @property
    def messages(self) -> list[Mapping[str, Any]]:
        return self.request["messages"]

    @property
    def tools(self) -> list[Mapping[str, Any]]:
        return self.request.get("tools") or []

    @property
    def tool_choice(self) -> Any:
        return self.request.get("tool_choice", "auto")

    @property
    def tools_on(self) -> bool:
        return bool(self.tools) and self.tool_choice != "none"

    @property
    def last_tool(self) -> Passage | None:
        return self.read.tool_results[-1] if self.read.tool_results else None

    @property
    def response_format(self) -> Any:
        return self.request.get("response_format") or {}

    @property
    def format_type(self) -> str | None:
        response_format = self.response_format
        return response_format.get("type") if isinstance(response_format, Mapping) else None

    @property
    def strict_schema(self) -> Mapping[str, Any] | None:
        """The JSON schema the reply must follow exactly (``strict: true``), if any."""
        return strict_schema_of(self.request.get("response_format"))

    @property
    def question(self) -> str:
        """The question, or the whole user text when the prompt marks no question."""
        return self.read.question or self.read.user_text


def read_turn(
    request: Mapping[str, Any],
    tier: Tier,
    fingerprint: str,
    malformed_rate: float,
    *,
    choice: int = 0,
) -> Turn:
    """Read ``request`` once for the behaviours; ``malformed_rate`` is the share that breaks.

    ``choice`` is the index of the choice being answered when the request asks for ``n`` of
    them: each gets its own sampler and its own malformed draw.
    """
    seed = request.get("seed")
    seed = int(seed) if seed is not None else None  # numpy's integers hash as Python's do
    unit = (
        malformed_unit(seed, fingerprint)
        if choice == 0
        else malformed_unit([seed, choice], fingerprint)
    )
    return Turn(
        request=request,
        read=read_request(request["messages"]),
        tier=tier,
        fingerprint=fingerprint,
        temperature=float(request.get("temperature") or 0.0),
        rng=sampler(seed, fingerprint, float(request.get("temperature") or 0.0), choice),
        broken=unit < malformed_rate,
        break_unit=unit / malformed_rate if malformed_rate > 0 else 0.0,
    )


def sampler(seed: Any, fingerprint: str, temperature: float, choice: int = 0) -> random.Random:
    """The turn's random generator: a function of the seed, the request and the choice index.

    The same request with the same ``seed`` samples the same way in every process and on
    every machine (the generator is seeded from a SHA-256 hash, not Python's salted ``hash``);
    another seed gives another stream, and so may another answer. Choice 0 draws the stream of
    the same request with ``n=1``, so asking for more choices leaves the first one as it was;
    choice ``i`` mixes ``i`` in. Without a seed, sampling above temperature 0 differs from call
    to call, as a hosted model's does; at temperature 0 the generator is seeded from the
    request, so anything drawn from it is reproducible.
    """
    if seed is None and temperature > 0:
        return random.Random()  # unseeded sampling differs from call to call
    parts: tuple[Any, ...] = ("sample", seed, fingerprint)
    return random.Random(stable_hash(*parts) if choice == 0 else stable_hash(*parts, choice))
