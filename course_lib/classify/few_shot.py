"""Routing by prompting with solved examples: few-shot, and examples retrieved per ticket.

Lesson 1.2 put examples in the system prompt. Here each example is a pair of chat turns, the
ticket as a ``user`` message and its label as the ``assistant``'s JSON answer, the form the
providers' guides recommend for few-shot prompts; the ticket to route comes last. Two ways to
choose the examples:

* **few-shot**: one fixed set for every ticket (:func:`stratified_indices` draws it so every
  queue appears about in its share);
* **retrieved examples**: for each ticket, the labelled tickets nearest to it by embedding
  (:func:`nearest_indices`), so the examples look like the ticket.

Either way the examples are input tokens on every call: :func:`few_shot_route` returns the
call's record, and its cost says what they add.
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from course_lib.classify.text import ticket_text
from course_lib.classify.zero_shot import (
    ROUTING_SYSTEM_PROMPT,
    RouteResult,
    _parse_category,
    routing_response_format,
)

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from course_lib.llm.client import LLMClient

__all__ = [
    "FEW_SHOT_PROMPT_VERSION",
    "few_shot_messages",
    "few_shot_route",
    "nearest_indices",
    "stratified_indices",
]

FEW_SHOT_PROMPT_VERSION = "ticket-routing-examples@1"


def few_shot_messages(
    ticket: Mapping[str, Any] | str, examples: Sequence[tuple[str, str]]
) -> list[dict[str, str]]:
    """Chat messages: each (text, label) example as a user turn and a JSON answer, then the
    ticket. The system prompt is added by the client."""
    messages: list[dict[str, str]] = []
    for text, label in examples:
        messages.append({"role": "user", "content": text})
        messages.append({"role": "assistant", "content": json.dumps({"category": label})})
    text = ticket if isinstance(ticket, str) else ticket_text(ticket)
    messages.append({"role": "user", "content": text})
    return messages


def few_shot_route(
    client: LLMClient,
    ticket: Mapping[str, Any] | str,
    *,
    examples: Sequence[tuple[str, str]],
    categories: Mapping[str, str],
    model: str = "chat-small",
    seed: int | None = None,
) -> RouteResult:
    """Like :func:`~course_lib.classify.zero_shot_route`, with solved examples before the ticket.

    Args:
        examples: (ticket text, category) pairs; every category must be one of ``categories``.
    """
    labels = dict(categories)
    unknown = sorted({label for _, label in examples if label not in labels})
    if unknown:
        raise ValueError(
            f"Example labels {unknown} are not among the {len(labels)} categories; give each "
            "example one of them."
        )
    result = client.chat(
        few_shot_messages(ticket, examples),
        model=model,
        system=ROUTING_SYSTEM_PROMPT,
        prompt_version=FEW_SHOT_PROMPT_VERSION,
        response_format=routing_response_format(labels),
        seed=seed,
    )
    category, error = _parse_category(result.content, labels)
    return RouteResult(category, result, error)


def stratified_indices(labels: Sequence[Hashable], size: int, *, seed: int = 0) -> list[int]:
    """Positions of ``size`` items drawn so each label keeps about its share (seeded).

    ``size`` at or above ``len(labels)`` gives every position. A size smaller than the
    number of labels draws without stratifying (some labels are then missing, necessarily).
    """
    import numpy as np
    from sklearn.model_selection import train_test_split

    if size <= 0:
        raise ValueError(f"size must be positive; got {size}.")
    positions = np.arange(len(labels))
    if size >= len(labels):
        return list(range(len(labels)))
    targets = [str(label) for label in labels]
    stratify = targets if size >= len(set(targets)) else None
    chosen, _ = train_test_split(positions, train_size=size, stratify=stratify, random_state=seed)
    return sorted(int(i) for i in chosen)


def nearest_indices(queries: NDArray[Any], pool: NDArray[Any], k: int) -> NDArray[Any]:
    """For each query vector, the positions of the ``k`` most similar pool vectors (cosine),
    most similar first; ties go to the earlier position."""
    import numpy as np

    if k <= 0:
        raise ValueError(f"k must be positive; got {k}.")
    q = np.asarray(queries, dtype=np.float64)
    p = np.asarray(pool, dtype=np.float64)
    q = q / np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-12)
    p = p / np.maximum(np.linalg.norm(p, axis=1, keepdims=True), 1e-12)
    similarity = np.round(q @ p.T, 9)  # rounded: the same order on every CPU
    order: NDArray[Any] = np.argsort(-similarity, axis=1, kind="stable")[:, : min(k, len(p))]
    return order
