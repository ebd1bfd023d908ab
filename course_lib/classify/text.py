"""The text a ticket router reads: the subject and the body, as one string.

Every approach in lesson 1.6 (a prompted model, a classifier on embeddings) must see the same
text, or the comparison measures the inputs instead of the methods. So the text is built in one
place.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["ticket_text", "ticket_texts"]


def ticket_text(ticket: Mapping[str, Any] | Any) -> str:
    """The subject, a blank line and the body; the body alone when the subject is empty.

    ``ticket`` is anything with ``subject`` and ``body`` items (a dict, a pandas row) or
    attributes. A missing or ``None`` subject counts as empty (about 4% of tickets have none).

    >>> ticket_text({"subject": "VPN down", "body": "Since 9am."})
    'VPN down\\n\\nSince 9am.'
    """
    subject = _field(ticket, "subject")
    body = _field(ticket, "body")
    if body is None:
        raise ValueError(
            f"A ticket needs a 'body' to route; got {type(ticket).__name__} without one."
        )
    subject_text = "" if subject is None else str(subject).strip()
    body_text = str(body).strip()
    return f"{subject_text}\n\n{body_text}" if subject_text else body_text


def ticket_texts(tickets: Iterable[Mapping[str, Any]] | Any) -> list[str]:
    """:func:`ticket_text` of every ticket: a list of mappings, or a DataFrame's rows."""
    if hasattr(tickets, "iterrows"):  # a pandas DataFrame
        return [ticket_text(row) for _, row in tickets.iterrows()]
    return [ticket_text(ticket) for ticket in tickets]


def _field(ticket: Any, name: str) -> Any:
    if isinstance(ticket, Mapping):
        return ticket.get(name)
    if hasattr(ticket, "get") and callable(ticket.get):  # a pandas Series
        return ticket.get(name)
    return getattr(ticket, name, None)
