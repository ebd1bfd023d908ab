"""The Handbook Assistant's world: the tools an agent may call, over fake company data.

Kestrel Freight's assistant can search the handbook, read a document, find who owns a service,
track a parcel, convert money into euros, open a service-desk ticket and page an on-call
engineer. The data behind the last five is invented here (the handbook is the real bundled
one), small and fixed, so every run gives the same results. Each :class:`HandbookWorld` keeps
its own record of the tickets opened and people paged, so a test can check what an agent did.

>>> world = HandbookWorld()
>>> [t.name for t in world.tools()][:3]
['search_handbook', 'get_document', 'service_owner']
"""

# No `from __future__ import annotations` here: the tools' hints stay real types, so help() and
# inspect show the allowed values of each Literal, as the model's schema does.
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

from course_lib.agents.tools import Tool, tool

__all__ = [
    "CURRENCIES",
    "PARCELS",
    "READ_ONLY_TOOLS",
    "SERVICES",
    "TICKET_CATEGORIES",
    "HandbookWorld",
    "Page",
    "Ticket",
]

Service = Literal[
    "edge-gateway",
    "parcel-api",
    "booking-web",
    "label-renderer",
    "route-planner",
    "eta-predictor",
    "geo-cache",
    "billing-service",
    "ledger",
    "payout-worker",
    "notify-gateway",
    "driver-sync",
    "auth-service",
    "user-directory",
    "event-bus",
    "search-indexer",
]
# service -> (team id, team name, on-call Slack channel)
SERVICES: dict[str, tuple[str, str, str]] = {
    "edge-gateway": ("platform", "Platform Engineering", "#platform-oncall"),
    "parcel-api": ("shipments", "Shipments", "#shipments-oncall"),
    "booking-web": ("shipments", "Shipments", "#shipments-oncall"),
    "label-renderer": ("shipments", "Shipments", "#shipments-oncall"),
    "route-planner": ("routing", "Routing", "#routing-oncall"),
    "eta-predictor": ("routing", "Routing", "#routing-oncall"),
    "geo-cache": ("routing", "Routing", "#routing-oncall"),
    "billing-service": ("payments", "Payments", "#payments-oncall"),
    "ledger": ("payments", "Payments", "#payments-oncall"),
    "payout-worker": ("payments", "Payments", "#payments-oncall"),
    "notify-gateway": ("platform", "Platform Engineering", "#platform-oncall"),
    "driver-sync": ("mobile", "Mobile", "#mobile-oncall"),
    "auth-service": ("identity", "Identity", "#identity-oncall"),
    "user-directory": ("identity", "Identity", "#identity-oncall"),
    "event-bus": ("data", "Data Platform", "#data-oncall"),
    "search-indexer": ("data", "Data Platform", "#data-oncall"),
}

# tracking number -> (status, where, expected delivery)
PARCELS: dict[str, tuple[str, str, str]] = {
    "KF-20931": ("in transit", "the Lisbon hub", "2026-11-19"),
    "KF-20417": ("delivered", "Leeds, signed for by the recipient", "2026-11-16"),
    "KF-31877": ("out for delivery", "a van in Kraków", "2026-11-18"),
    "KF-44120": ("held at customs", "Leeds customs warehouse", "unknown until customs clear it"),
}

Currency = Literal["GBP", "USD", "CHF", "PLN", "SEK"]
# Euros per unit: the treasury team's fixed planning rates (invented for the course).
CURRENCIES: dict[str, float] = {
    "GBP": 1.17,
    "USD": 0.92,
    "CHF": 1.05,
    "PLN": 0.23,
    "SEK": 0.087,
}

Category = Literal[
    "access_request",
    "login_mfa",
    "hardware",
    "software_licence",
    "deploy_ci",
    "incident_report",
    "data_request",
    "security_report",
    "expenses_travel",
    "hr_people",
]
TICKET_CATEGORIES: tuple[str, ...] = Category.__args__  # type: ignore[attr-defined]

# What the Handbook Assistant may do on its own: read, and open tickets (people triage those).
READ_ONLY_TOOLS: tuple[str, ...] = (
    "search_handbook",
    "get_document",
    "service_owner",
    "parcel_status",
    "convert_currency",
)


@dataclass(frozen=True)
class Ticket:
    """A service-desk ticket an agent opened."""

    id: str
    category: str
    summary: str


@dataclass(frozen=True)
class Page:
    """An on-call engineer an agent paged."""

    service: str
    channel: str
    message: str


_WORD = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_STOP_WORDS = (
    "a an and are as at be by can do does for from how i in is it me my of on or our the this "
    "that to we what when where which who why with you your about search handbook find look "
    "document documents tell show please open get"
)
_STOP = frozenset(_STOP_WORDS.split())


def _terms(text: str) -> list[str]:
    out: list[str] = []
    for word in _WORD.findall(text.lower()):
        if word in _STOP:
            continue
        out.append(word[:-1] if len(word) > 4 and word.endswith("s") else word)
        if "-" in word:
            out.extend(part for part in word.split("-") if part not in _STOP)
    return out


@dataclass(frozen=True)
class _Document:
    id: str
    title: str
    title_terms: frozenset[str]
    sentences: tuple[tuple[str, frozenset[str]], ...]


@lru_cache(maxsize=1)
def _search_index() -> tuple[tuple[_Document, ...], dict[str, float]]:
    """The readable handbook cut into sentences, and each term's inverse document frequency."""
    from course_lib.datasets import load_handbook
    from course_lib.standin.text import split_sentences

    documents = []
    for doc in load_handbook(access=("public", "internal")):
        sentences = tuple(
            (sentence, frozenset(_terms(sentence)))
            for sentence in split_sentences(doc.text)
            if len(sentence) > 20
        )
        documents.append(_Document(doc.id, doc.title, frozenset(_terms(doc.title)), sentences))
    df: dict[str, int] = {}
    for document in documents:
        for term in document.title_terms.union(*(t for _, t in document.sentences)):
            df[term] = df.get(term, 0) + 1
    idf = {term: math.log(1 + len(documents) / count) for term, count in df.items()}
    return tuple(documents), idf


def _search(query: str, limit: int) -> list[tuple[float, _Document, str]]:
    """Documents scored by their title and their best sentence; the sentence is the excerpt."""
    documents, idf = _search_index()
    wanted = set(_terms(query))
    scored = []
    for document in documents:
        # fsum: a set's order (so a plain sum's rounding) differs between Python versions.
        title = math.fsum(idf.get(t, 0.0) for t in wanted & document.title_terms)
        best, excerpt = 0.0, ""
        for sentence, found in document.sentences:
            score = math.fsum(idf.get(t, 0.0) for t in wanted & found)
            if score > best:
                best, excerpt = score, sentence
        if title + best > 0:
            scored.append((round(1.5 * title + best, 9), document, excerpt))
    scored.sort(key=lambda item: (-item[0], item[1].id))
    return scored[:limit]


@dataclass
class HandbookWorld:
    """One fresh copy of the assistant's world: tools, and a record of what they changed.

    Args:
        access: the handbook access levels this user may read.
    """

    access: tuple[str, ...] = ("public", "internal")
    tickets: list[Ticket] = field(default_factory=list)
    pages: list[Page] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)  # every tool that ran, in order

    # -- the tools (their docstrings are what the model reads) -----------------------------

    def search_handbook(self, query: str) -> str:
        """Search the engineering handbook; returns the best matching documents with an excerpt.

        Args:
            query: what to look for, in a few words.
        """
        self.calls.append("search_handbook")
        if not _terms(query):
            raise ValueError("the query has no searchable words; say what to look for.")
        hits = _search(query, limit=3)
        if not hits:
            return f"No handbook document matches {query!r}."
        return "\n".join(
            f"{i}. `{doc.id}` ({doc.title}): {text}" for i, (_, doc, text) in enumerate(hits, 1)
        )

    def get_document(self, doc_id: str) -> str:
        """Fetch the full text of one handbook document by its id.

        Args:
            doc_id: the document's id, such as `oncall-policy` (search_handbook lists ids).
        """
        from course_lib.datasets import load_handbook

        self.calls.append("get_document")
        docs = {doc.id: doc for doc in load_handbook()}
        doc = docs.get(doc_id.strip().strip("`"))
        if doc is None:
            raise LookupError(f"no handbook document has the id {doc_id!r}")
        if doc.access not in self.access:
            raise PermissionError(f"document {doc.id!r} is {doc.access}; this user may not read it")
        return f"# {doc.title}\n\n{doc.text}"

    def service_owner(self, service: Service) -> str:
        """Look up which team owns a service, and who is on call for it.

        Args:
            service: the service's name, such as `parcel-api`.
        """
        self.calls.append("service_owner")
        if service not in SERVICES:
            raise LookupError(f"there is no service called {service!r}")
        team, name, channel = SERVICES[service]
        return f"{service} is owned by the {name} team ({team}); on-call: {channel}."

    def parcel_status(self, tracking_number: str) -> str:
        """Track a parcel: its delivery status and where it is, by tracking number.

        Args:
            tracking_number: the parcel's tracking number, such as KF-12345.
        """
        self.calls.append("parcel_status")
        key = tracking_number.strip().upper()
        if key not in PARCELS:
            raise LookupError(f"no parcel with tracking number {tracking_number!r}")
        status, where, eta = PARCELS[key]
        return f"Parcel {key} is {status}, at {where}; expected delivery: {eta}."

    def convert_currency(self, amount: float, currency: Currency) -> str:
        """Convert an amount of money in another currency into euros (EUR).

        Args:
            amount: how much money, in that currency.
            currency: the currency of the amount: GBP: British pounds; USD: US dollars;
                CHF: Swiss francs; PLN: Polish zloty; SEK: Swedish kronor.
        """
        self.calls.append("convert_currency")
        rate = CURRENCIES[currency]  # a KeyError for anything else
        euros = round(float(amount) * rate, 2)
        return f"{amount:g} {currency} is EUR {euros:,.2f} at the planning rate of {rate:g}."

    def create_ticket(self, category: Category, summary: str) -> str:
        """Open a support ticket with the service desk, for a problem or a request.

        Args:
            category: what the ticket is about: access_request: access to a system, group or
                repository; login_mfa: cannot log in, password, MFA, Okta lockout; hardware:
                laptop, screen, phone or other broken equipment; software_licence: a licence
                or seat for a tool; deploy_ci: builds, CI, deploys, rollbacks; incident_report:
                a production service failing or degraded now; data_request: warehouse queries,
                dashboards, exports; security_report: phishing, leaked secret, lost device;
                expenses_travel: expense claims, travel bookings; hr_people: leave, payroll,
                benefits.
            summary: one line saying what is wrong or needed.
        """
        from pydantic import BaseModel, Field

        class _TicketRequest(BaseModel):  # the service desk's own check, whoever calls it
            category: Category
            summary: str = Field(min_length=5, max_length=300)

        self.calls.append("create_ticket")
        checked = _TicketRequest(category=category, summary=summary)
        ticket = Ticket(f"SD-{1001 + len(self.tickets)}", checked.category, checked.summary)
        self.tickets.append(ticket)
        return f"Opened ticket {ticket.id} ({ticket.category}): {ticket.summary}"

    def page_oncall(self, service: Service, message: str) -> str:
        """Page the on-call engineer of a service right now (wakes them up at night).

        Args:
            service: the service whose on-call engineer to page, such as `parcel-api`.
            message: what is wrong, in one line.
        """
        self.calls.append("page_oncall")
        if service not in SERVICES:
            raise LookupError(f"there is no service called {service!r}")
        channel = SERVICES[service][2]
        self.pages.append(Page(service, channel, message))
        return f"Paged the {service} on-call engineer via {channel}."

    # -- the tools, as a model sees them ----------------------------------------------------

    def tools(self) -> list[Tool]:
        """Every tool of this world, schemas derived from the methods above."""
        return [
            tool(self.search_handbook),
            tool(self.get_document),
            tool(self.service_owner),
            tool(self.parcel_status),
            tool(self.convert_currency),
            tool(side_effects=True)(self.create_ticket),
            tool(side_effects=True)(self.page_oncall),
        ]

    def functions(self) -> dict[str, object]:
        """Each tool's plain method by name: what a hand-written loop calls."""
        return {t.name: t.function for t in self.tools()}
