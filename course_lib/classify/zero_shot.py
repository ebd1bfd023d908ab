"""Routing a ticket by prompting: no training data, one model call per ticket.

The model gets the ticket as the user message and a JSON schema whose ``category`` field is an
enum of the queues, each value explained in the field's description (``value: meaning``), so
the definitions the service desk uses reach the model with the request. The answer is parsed
and checked against the enum; one that cannot be parsed, or names no known queue, is returned
as ``category=None`` with the reason, never guessed at. (Lesson 1.2 adds validation with
pydantic and a bounded repair loop, which wins most of those back at the price of a second
call.)

>>> from course_lib.llm import LLMClient
>>> queues = {"network": "VPN, Wi-Fi and connectivity", "access": "accounts and permissions"}
>>> ticket = {"subject": "VPN down", "body": "Since 9am nobody in Leeds can connect."}
>>> route = zero_shot_route(LLMClient.from_settings(), ticket, categories=queues)
>>> route.category, route.cost_usd, route.simulated_latency_ms
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from course_lib.classify.text import ticket_text

if TYPE_CHECKING:
    from course_lib.llm.client import ChatResult, LLMClient

__all__ = [
    "ROUTING_PROMPT_VERSION",
    "ROUTING_SYSTEM_PROMPT",
    "RouteResult",
    "routing_response_format",
    "routing_schema",
    "zero_shot_route",
]

ROUTING_PROMPT_VERSION = "ticket-routing@1"
ROUTING_SYSTEM_PROMPT = (
    "You route internal support tickets of Kestrel Freight to the queue that handles them. "
    "Read the ticket and choose the category of its main issue, using the definitions in the "
    "schema. Reply with JSON only, matching the schema."
)


@dataclass(frozen=True)
class RouteResult:
    """The category a model chose (None when its answer was unusable), and the call's record."""

    category: str | None
    result: ChatResult
    error: str | None = None

    @property
    def valid(self) -> bool:
        return self.category is not None

    @property
    def cost_usd(self) -> float:
        return self.result.cost_usd

    @property
    def simulated_latency_ms(self) -> float | None:
        """The local model's modelled latency; None from a real provider (use latency_ms)."""
        return self.result.simulated_latency_ms


def routing_schema(categories: Mapping[str, str]) -> dict[str, Any]:
    """A JSON schema with one required field, ``category``, an enum of the queues.

    The description lists ``value: meaning`` for every value: models (the local one included)
    choose better when each value is explained where the value is declared.
    """
    labels = dict(categories)
    if not labels:
        raise ValueError("routing_schema needs at least one category.")
    described = " ".join(f"{value}: {meaning.strip()}" for value, meaning in labels.items())
    return {
        "type": "object",
        "properties": {
            "category": {
                "type": "string",
                "enum": list(labels),
                "description": f"The queue for the ticket's main issue. {described}",
            }
        },
        "required": ["category"],
        "additionalProperties": False,
    }


def routing_response_format(categories: Mapping[str, str]) -> dict[str, Any]:
    """The Chat Completions ``response_format`` that asks for :func:`routing_schema`."""
    return {
        "type": "json_schema",
        "json_schema": {
            "name": "ticket_route",
            "schema": routing_schema(categories),
            "strict": True,
        },
    }


def zero_shot_route(
    client: LLMClient,
    ticket: Mapping[str, Any] | str,
    *,
    categories: Mapping[str, str],
    model: str = "chat-small",
    seed: int | None = None,
) -> RouteResult:
    """Asks ``model`` which category ``ticket`` belongs to, with a schema of the categories.

    Args:
        client: any :class:`~course_lib.llm.client.LLMClient` (local, a server, a provider).
        ticket: a mapping with ``subject`` and ``body`` (a dict, a DataFrame row), or the text.
        model: a role of the model registry, e.g. ``"chat-small"`` or ``"chat-large"``.
        categories: value -> definition of each queue (e.g. the ticket dataset's
            ``TICKET_CATEGORIES``).
        seed: passed to the model, for reproducible sampling.

    Model-call errors (rate limits, timeouts after the client's retries) propagate: a router
    that cannot reach its model must say so, not pick a queue.
    """
    labels = dict(categories)
    text = ticket if isinstance(ticket, str) else ticket_text(ticket)
    result = client.chat(
        text,
        model=model,
        system=ROUTING_SYSTEM_PROMPT,
        prompt_version=ROUTING_PROMPT_VERSION,
        response_format=routing_response_format(labels),
        seed=seed,
    )
    category, error = _parse_category(result.content, labels)
    return RouteResult(category, result, error)


def _parse_category(
    content: str | None, labels: Mapping[str, str]
) -> tuple[str | None, str | None]:
    if not content:
        return None, "the model returned no content"
    try:
        value = json.loads(content)
    except json.JSONDecodeError as exc:
        return None, f"the answer is not valid JSON ({exc.msg})"
    if not isinstance(value, dict) or "category" not in value:
        return None, "the answer has no 'category' field"
    category = value["category"]
    if not isinstance(category, str) or category not in labels:
        return None, f"{category!r} is not one of the {len(labels)} categories"
    return category, None
