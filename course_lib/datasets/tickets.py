"""The Kestrel Freight support tickets: the loader, the labels and the company they describe.

``tickets/tickets.jsonl`` holds synthetic service-desk tickets, each labelled with a category,
a priority and the service it is about (if any). They were generated from hand-written
templates by ``tools/tickets/build.py``, a script of the course repository that reproduces the
file byte for byte from :data:`DEFAULT_SEED`; the installed package only reads it. The
datasheet is the "Support tickets" part of ``course_lib/datasets/README.md``.

* :func:`load_tickets`: the tickets as a DataFrame, all of them or one split;
* :data:`CATEGORIES` and :data:`PRIORITIES` (exported by :mod:`course_lib.datasets` as
  ``TICKET_CATEGORIES`` and ``TICKET_PRIORITIES``): every label with its definition, ready to
  paste into a prompt;
* :data:`TEAMS` and :data:`SERVICES`: the teams and services of ``handbook/COMPANY.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from course_lib.datasets.errors import DatasetError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "CATEGORIES",
    "CHANNELS",
    "DEFAULT_SEED",
    "FIELDS",
    "PRIORITIES",
    "SERVICES",
    "SPLITS",
    "TEAMS",
    "TICKETS_DIR",
    "TICKETS_PATH",
    "TICKET_CATEGORIES",
    "TICKET_PRIORITIES",
    "load_tickets",
]

DEFAULT_SEED = 2026  # the seed tickets.jsonl was generated with
TICKETS_DIR = Path(__file__).parent / "tickets"
TICKETS_PATH = TICKETS_DIR / "tickets.jsonl"
_BUILD_COMMAND = "python tools/tickets/build.py"  # in a clone of the course repository

# Keys of every JSON object, in this order.
FIELDS = (
    "id",
    "created",
    "channel",
    "reporter_team",
    "subject",
    "body",
    "category",
    "priority",
    "service",
    "split",
)
CHANNELS = ("email", "portal", "slack")
SPLITS = ("train", "test")

# ---------------------------------------------------------------------------------------------
# Labels
# ---------------------------------------------------------------------------------------------

CATEGORIES: dict[str, str] = {
    "access_request": "Needs access to an existing system, group, repository, channel or dataset "
    "(Okta groups, Vault, AWS, GitHub, Jira, PagerDuty).",
    "login_mfa": "Cannot sign in: password, MFA factor (Okta Verify, passkey, YubiKey), SSO or "
    "Okta lockout, device-trust block.",
    "hardware": "Laptop, phone, monitor, dock, headset, keyboard or other equipment: faults, "
    "replacements, orders.",
    "software_licence": "Getting, keeping, renewing or buying a licence or seat for a software "
    "tool.",
    "deploy_ci": "Builds, GitHub Actions, image scans, Argo CD sync, kctl deploy and rollback: the "
    "path from a merge to a running service.",
    "incident_report": "A production service (or an internal tool) is broken or degraded now.",
    "data_request": "Warehouse queries, dashboards, data exports, metric questions, dbt models.",
    "security_report": "Phishing, leaked secret, lost or stolen device, suspicious sign-in or "
    "another security event.",
    "expenses_travel": "Expense claims in Ledgerly, reimbursements, company cards, trips booked "
    "through the Travel desk.",
    "hr_people": "Leave, payroll, benefits, learning budget, onboarding and offboarding, letters.",
}

PRIORITIES: dict[str, str] = {
    "P1": "Urgent: a customer-facing outage or data loss (SEV1 level), a live security incident "
    "(credentials typed into a phishing page, unexpected MFA pushes, a secret exposed, a lost "
    "device, customer data shown to the wrong customer), or someone blocked while handling an "
    "active incident.",
    "P2": "High: major degradation of a production service (SEV2 level), a person or team "
    "completely blocked from working, or a hard deadline within two working days.",
    "P3": "Normal: requests and problems with a workaround or without a near deadline.",
    "P4": "Low: cosmetic issues, nice-to-haves, questions asked for later, 'no rush'.",
}

# The names the package exports: the ticket dataset's queues and priorities.
TICKET_CATEGORIES = CATEGORIES
TICKET_PRIORITIES = PRIORITIES

# ---------------------------------------------------------------------------------------------
# The company (handbook/COMPANY.md)
# ---------------------------------------------------------------------------------------------

TEAMS: dict[str, str] = {
    "platform": "Platform Engineering",
    "sre": "Site Reliability Engineering",
    "payments": "Payments",
    "routing": "Routing",
    "shipments": "Shipments",
    "mobile": "Mobile",
    "data": "Data Platform",
    "identity": "Identity",
    "security": "Security",
    "it": "IT & Workplace",
    "people": "People Operations",
    "eng-leadership": "Engineering Leadership",
}
# Service id -> owning team.
SERVICES: dict[str, str] = {
    "edge-gateway": "platform",
    "parcel-api": "shipments",
    "booking-web": "shipments",
    "label-renderer": "shipments",
    "route-planner": "routing",
    "eta-predictor": "routing",
    "geo-cache": "routing",
    "billing-service": "payments",
    "ledger": "payments",
    "payout-worker": "payments",
    "notify-gateway": "platform",
    "driver-sync": "mobile",
    "auth-service": "identity",
    "user-directory": "identity",
    "event-bus": "data",
    "search-indexer": "data",
}


def load_tickets(split: str | None = None, path: Path | None = None) -> pd.DataFrame:
    """The committed tickets as a DataFrame, ``created`` parsed to UTC timestamps.

    ``split`` is ``"train"``, ``"test"`` or None for all tickets.
    """
    if split is not None and split not in SPLITS:
        raise DatasetError(
            f"Unknown split {split!r}: use 'train', 'test', or None for all tickets."
        )
    import pandas as pd

    path = path or TICKETS_PATH
    if not path.exists():
        raise DatasetError(
            f"{path.name} is missing from {path.parent.name}/: reinstall course_lib, or rebuild "
            f"the file with `{_BUILD_COMMAND}` in a clone of the course repository."
        )
    frame = pd.read_json(path, lines=True, dtype=False)
    frame["created"] = pd.to_datetime(frame["created"], format="%Y-%m-%dT%H:%M:%SZ", utc=True)
    if split is not None:
        frame = frame[frame["split"] == split].reset_index(drop=True)
    return frame
