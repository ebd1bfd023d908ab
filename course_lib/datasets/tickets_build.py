"""Build the Kestrel Freight support-ticket dataset from hand-written templates, deterministically.

Lessons need labelled tickets that look like the real thing: typos, forwarded mails, pasted stack
traces, a second question tucked into the same message, the same outage reported twice. Real
tickets would carry personal data, so these are synthetic: 162 templates written by hand,
filled with slots (services, tools, amounts, dates, invented first names) and then roughened by
seeded noise. The committed ``tickets/tickets.jsonl`` is what learners load; this module
documents how it was made and reproduces it byte for byte::

    python -m course_lib.datasets.tickets_build           # rewrite tickets.jsonl, print tables
    python -m course_lib.datasets.tickets_build --check   # exit 1 if the file is out of date

Only ``random.Random(seed)`` is used (its algorithms are stable across Python versions and
platforms); never ``hash()``, set iteration order or numpy's generator.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import textwrap
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from course_lib.datasets.errors import DatasetError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "TICKET_CATEGORIES",
    "TICKET_PRIORITIES",
    "CATEGORIES",
    "CATEGORY_COUNTS",
    "CHANNELS",
    "DEFAULT_SEED",
    "FIELDS",
    "PRIORITIES",
    "SERVICES",
    "SPLITS",
    "TEAMS",
    "TICKETS_PATH",
    "build_tickets",
    "datasheet_tables",
    "generate",
    "load_tickets",
    "main",
    "to_jsonl",
]

DEFAULT_SEED = 2026
TICKETS_DIR = Path(__file__).parent / "tickets"
TICKETS_PATH = TICKETS_DIR / "tickets.jsonl"

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
TEST_SHARE = 0.2

# Eight weeks of autumn 2026, starting on a Monday.
WINDOW_START = datetime(2026, 9, 28, tzinfo=timezone.utc)
WINDOW_DAYS = 56

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

# Shares follow a service desk's usual shape: access and sign-in problems dominate.
CATEGORY_COUNTS: dict[str, int] = {
    "access_request": 122,
    "login_mfa": 108,
    "hardware": 79,
    "deploy_ci": 79,
    "incident_report": 72,
    "data_request": 65,
    "hr_people": 65,
    "expenses_travel": 58,
    "software_licence": 36,
    "security_report": 36,
}
# How many tickets of each category are a second report of an issue already in the set.
DUPLICATES: dict[str, int] = {
    "access_request": 0,
    "login_mfa": 3,
    "hardware": 2,
    "deploy_ci": 4,
    "incident_report": 13,
    "data_request": 2,
    "hr_people": 0,
    "expenses_travel": 0,
    "software_licence": 1,
    "security_report": 4,
}

# Noise rates (see README.md, the datasheet). Label noise is an exact share; the rest are
# probabilities.
P_ASIDE = 0.08
P_BODY_TYPOS = 0.20
P_SUBJECT_TYPO = 0.05
P_SUBJECT_MISSING = 0.04
P_SUBJECT_SHOUTED = 0.03
P_SUBJECT_LOWER = 0.10
P_URGENCY_INFLATED = 0.05
LABEL_NOISE_SHARE = 0.04

# ---------------------------------------------------------------------------------------------
# The company (COMPANY.md)
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
# Rough head counts, so big teams file more tickets.
TEAM_WEIGHTS: dict[str, int] = {
    "platform": 14,
    "sre": 10,
    "payments": 14,
    "routing": 12,
    "shipments": 16,
    "mobile": 12,
    "data": 12,
    "identity": 8,
    "security": 6,
    "it": 5,
    "people": 8,
    "eng-leadership": 4,
}
ENG_TEAMS = ("platform", "sre", "payments", "routing", "shipments", "mobile", "data", "identity")

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
DEPLOYABLE = (
    "parcel-api",
    "booking-web",
    "label-renderer",
    "route-planner",
    "eta-predictor",
    "billing-service",
    "ledger",
    "payout-worker",
    "notify-gateway",
    "driver-sync",
    "auth-service",
    "user-directory",
    "search-indexer",
    "edge-gateway",
)

ROLES: dict[str, tuple[str, ...]] = {
    "platform": ("Platform Engineer", "Senior Platform Engineer", "Staff Engineer"),
    "sre": ("Site Reliability Engineer", "Senior SRE"),
    "payments": ("Backend Engineer", "Senior Backend Engineer", "Engineering Manager"),
    "routing": ("Backend Engineer", "ML Engineer", "Engineering Manager"),
    "shipments": ("Backend Engineer", "Frontend Engineer", "Engineering Manager", "Staff Engineer"),
    "mobile": ("iOS Engineer", "Android Engineer", "Engineering Manager"),
    "data": ("Data Engineer", "Analytics Engineer", "Data Analyst"),
    "identity": ("Backend Engineer", "Identity Engineer"),
    "security": ("Security Engineer", "Security Analyst"),
    "it": ("IT Support Specialist", "IT Systems Administrator"),
    "people": ("People Partner", "People Ops Coordinator", "Talent Partner"),
    "eng-leadership": ("Technical Program Manager", "Engineering Director"),
}

# ---------------------------------------------------------------------------------------------
# Templates
# ---------------------------------------------------------------------------------------------

_VERBATIM = re.compile(r"^(\s|- |\* |> |```|\||\d+\. |\$ )")


def _reflow(source: str) -> str:
    """Join wrapped prose lines so the source can respect the line limit and the text need not.

    Blank lines separate paragraphs. Lines that start with indentation, a list marker, ``>``,
    a fence, ``$`` or ``|`` are kept as they are (``| `` is stripped: it marks a verbatim line
    such as a forwarded mail header).
    """
    out: list[str] = []
    keep_break = True
    in_fence = False
    for raw in textwrap.dedent(source).strip("\n").splitlines():
        line = raw.rstrip()
        if line.startswith("```"):
            in_fence = not in_fence
        if not line:
            out.append("")
            keep_break = True
            continue
        verbatim = in_fence or line.startswith("```") or bool(_VERBATIM.match(line))
        if line.startswith("|"):
            line = line[2:] if line.startswith("| ") else line[1:]
        if verbatim or keep_break:
            out.append(line)
        else:
            out[-1] += " " + line
        keep_break = verbatim
    return "\n".join(out)


def _weights(spec: str) -> tuple[tuple[str, int], ...]:
    """Parse ``"P2:1 P3:5"`` into ``(("P2", 1), ("P3", 5))``."""
    pairs = []
    for item in spec.split():
        name, _, weight = item.partition(":")
        pairs.append((name, int(weight or 1)))
    return tuple(pairs)


@dataclass(frozen=True)
class Template:
    """One hand-written ticket shape.

    ``body`` and ``subjects`` use two kinds of placeholder: ``{slot}`` (filled once per ticket, so
    the same slot says the same thing twice) and ``[[a|b|c]]`` (a phrasing chosen at random each
    time, which is what makes a near-duplicate differ from its original). ``{impact}`` is the
    sentence that carries the priority; it comes from ``impact`` or the category's pool.
    """

    category: str
    subjects: tuple[str, ...]
    body: str
    priorities: tuple[tuple[str, int], ...]
    services: tuple[str, ...] = ()
    impact: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    channels: tuple[tuple[str, int], ...] = ()
    teams: tuple[str, ...] = ()
    signed: bool = False
    dup_ok: bool = False


def _tpl(
    category: str,
    subjects: Sequence[str],
    body: str,
    prio: str,
    *,
    services: Sequence[str] = (),
    impact: Mapping[str, Sequence[str]] | None = None,
    channels: str = "",
    teams: Sequence[str] = (),
    signed: bool = False,
    dup_ok: bool = False,
) -> Template:
    return Template(
        category=category,
        subjects=tuple(subjects),
        body=_reflow(body),
        priorities=_weights(prio),
        services=tuple(services),
        impact={key: tuple(value) for key, value in (impact or {}).items()},
        channels=_weights(channels),
        teams=tuple(teams),
        signed=signed,
        dup_ok=dup_ok,
    )


# The sentence that states impact, urgency or deadline, per category and priority. Templates
# override it where the generic sentence would not fit.
IMPACT: dict[str, dict[str, tuple[str, ...]]] = {
    "access_request": {
        "P1": (
            "This is for the SEV1 that is open in #incidents right now: I'm on call and blocked "
            "without it.",
            "We're in the middle of a SEV1 with customers affected and I can't do my part until "
            "this is granted.",
        ),
        "P2": (
            "I start my first on-call week on Monday and need it before then.",
            "It's blocking a release we promised a customer for tomorrow.",
            "My whole sprint depends on it and the demo is the day after tomorrow.",
        ),
        "P3": (
            "My EM has approved in Slack.",
            "",
            "Thanks in advance!",
            "Happy to wait for the usual approval.",
        ),
        "P4": (
            "No rush at all, whenever someone has time.",
            "Not urgent, it's for something next month.",
            "Low priority, just nice to have.",
        ),
    },
    "login_mfa": {
        "P1": (
            "I'm the on-call engineer and there's an active SEV1: I can't get into anything.",
            "This is blocking incident response right now.",
        ),
        "P2": (
            "I can't work at all until this is fixed.",
            "Everything is behind Okta, so I'm completely stuck.",
            "I have a customer call in an hour and can't get into anything.",
            "I'm blocked from everything this morning.",
        ),
        "P3": (
            "I can still get into Slack on my phone, so it's not the end of the world.",
            "There's a workaround for now, but it's annoying.",
            "",
        ),
        "P4": ("Not urgent, just curious.", "No rush, it works after a retry."),
    },
    "hardware": {
        "P1": ("I'm on call with an active SEV1 and this is my only machine.",),
        "P2": (
            "I can't work at all at the moment.",
            "I have a customer demo tomorrow morning and need this working.",
            "It's the only machine I have, so I'm blocked.",
        ),
        "P3": ("I can work around it for now.", "", "Thanks!"),
        "P4": ("No rush.", "Whenever convenient, it's a nice-to-have.", "Not urgent at all."),
    },
    "software_licence": {
        "P2": (
            "I need it for a customer session tomorrow.",
            "Our release work is blocked without it and the deadline is the day after tomorrow.",
        ),
        "P3": ("", "My EM is aware.", "My EM approved the cost.", "Thanks!"),
        "P4": ("No rush.", "Low priority.", "Whenever it suits."),
    },
    "deploy_ci": {
        "P1": (
            "We're in a SEV1 right now and this is blocking the fix.",
            "Customers are affected (SEV1 open) and I can't get the rollback out.",
        ),
        "P2": (
            "This is blocking every merge for the team today.",
            "We have a customer-facing fix that has to go out today.",
            "The whole team is blocked, nobody can ship.",
            "We promised the fix to {shipper} by tomorrow.",
        ),
        "P3": ("", "Not blocking yet, we can retry.", "We have a workaround (re-running the job)."),
        "P4": (
            "No rush, just curious.",
            "Low priority, mostly annoying.",
            "Not urgent; it's for a cleanup task.",
        ),
    },
    "incident_report": {
        "P1": (
            "This is customer-facing: shippers can't create shipments at all.",
            "About {pct_high}% of requests are failing, for {dur} minutes so far.",
        ),
        "P2": (
            "It's degraded rather than down, but customers notice.",
            "Error rate is around {pct_mid}%, most requests still work.",
        ),
        "P3": (
            "Only one shipper seems affected and they have a workaround.",
            "Internal only, customers don't see it.",
        ),
        "P4": ("Cosmetic, nobody is blocked.", "Purely cosmetic, low priority."),
    },
    "data_request": {
        "P2": (
            "I need it for {shipper}'s quarterly review tomorrow.",
            "The VP Engineering needs it for the board pack due tomorrow.",
            "Finance needs the numbers for month-end close the day after tomorrow.",
        ),
        "P3": ("", "Sometime in the next week or two is fine.", "Deadline is {future_date}."),
        "P4": ("No rush at all.", "Nice to have, whenever there's capacity.", "Low priority."),
    },
    "security_report": {
        "P1": ("Please tell me what else to do, I'm at my desk.",),
        "P2": ("Flagging it quickly in case it's part of something bigger.",),
        "P3": ("Just flagging in case others got it too.", ""),
        "P4": ("Just curious, nothing urgent.",),
    },
    "expenses_travel": {
        "P2": ("I need an answer today.", "It has to be sorted by tomorrow."),
        "P3": ("", "Thanks!", "Let me know if you need anything else."),
        "P4": ("No rush.", "Just asking for future reference.", "Not urgent."),
    },
    "hr_people": {
        "P2": (
            "This month's payroll closes tomorrow, so I'd like it sorted before then.",
            "I need it by the day after tomorrow at the latest.",
        ),
        "P3": ("", "Thanks!", "Happy to jump on a call."),
        "P4": (
            "No rush, just planning ahead.",
            "Not urgent, asking for next year.",
            "Whenever you have time.",
        ),
    },
}

_A, _L, _H, _S = "access_request", "login_mfa", "hardware", "software_licence"
_D, _I, _R, _X = "deploy_ci", "incident_report", "data_request", "security_report"
_E, _P = "expenses_travel", "hr_people"

ACCESS_TEMPLATES = (
    _tpl(
        _A,
        (
            "Grafana editor access",
            "need edit rights in Grafana",
            "Access request: app-grafana-editor",
        ),
        """
        [[Could I|Can I please|Please can I]] get `app-grafana-editor`? I [[want to fix the
        panels|need to add a couple of panels|have to update the alert thresholds]] on the
        {dashboard} dashboard and I only have viewer. [[I tried /okta request but I'm not sure who
        approves Grafana.|The /okta request form didn't list Grafana for me.|]]

        {impact}
        """,
        "P2:2 P3:5 P4:2",
    ),
    _tpl(
        _A,
        (
            "Access to kestrel/{repo}",
            "404 on GitHub repo {repo}",
            "Please add me to the {repo} repo",
        ),
        """
        [[Hi, I|I]] get a 404 when I open github.com/kestrel/{repo}. [[I think I need to be added
        to the team that owns it.|A colleague says it's restricted to the owning team.|]] I [[need
        write access to open a PR|only need read access|need to review a PR there]] for [[a ticket
        in our sprint|the work on {shipper}'s integration|an RFC I'm reviewing]].

        {impact}
        """,
        "P2:2 P3:6 P4:1",
        teams=ENG_TEAMS,
    ),
    _tpl(
        _A,
        ("app-k8s-prod-deploy for {svc}", "Need prod deploy rights", "can't deploy {svc} to prod"),
        """
        `kctl deploy {svc} --env prod --version {version}` fails for me with:

            Error: permission denied: app-k8s-prod-deploy required in prod (exit 3)

        I [[joined {owner_name} recently|moved teams last month|just finished my on-call
        shadowing]] and I'll be [[the one doing releases for|releasing]] {service}. Can I get
        `app-k8s-prod-deploy`? {impact}
        """,
        "P1:1 P2:3 P3:5",
        services=DEPLOYABLE,
        channels="portal:3 slack:4 email:1",
    ),
    _tpl(
        _A,
        (
            "bq-pii-readers access",
            "Request: access to recipients_pii dataset",
            "PII dataset access",
        ),
        """
        [[Hello,|Hi data team,|]]

        I'd like to request membership of `bq-pii-readers` for {pii_purpose}. I [[tried with the
        hashed fields first|know most questions can be answered with hashed fields|checked the
        hashed columns first]], but [[I need to match the actual street lines|the hashed values
        don't show what the shipper typed|we need to compare the raw names with what the driver
        scanned]].

        My EM has approved; I understand the DPO approves as well and that it expires after 90
        days.

        {impact}
        """,
        "P2:2 P3:5 P4:1",
        channels="email:2 portal:3",
    ),
    _tpl(
        _A,
        (
            "Vault access for {svc} prod secrets",
            "vault policy for {svc}",
            "Need read on a Vault path",
        ),
        """
        I need read access to the prod Vault path for {service} ([[to check which database user
        the service uses|to verify the webhook config after a rotation|to debug why the pod can't
        read its config]]). I'm in `vault-{owner_team}-staging` already but not in
        `vault-{owner_team}-prod`. {impact}
        """,
        "P1:1 P2:2 P3:5",
        services=(
            "billing-service",
            "ledger",
            "payout-worker",
            "parcel-api",
            "route-planner",
            "driver-sync",
            "auth-service",
            "notify-gateway",
        ),
    ),
    _tpl(
        _A,
        ("AWS prod read-only", "app-aws-kf-prod-readonly please", "read-only access to kf-prod"),
        """
        [[Hey,|Hi,|]] requesting `app-aws-kf-prod-readonly` so I can [[look at CloudWatch metrics
        for the RDS instances|check the S3 bucket policies for our team|see the load balancer
        config]] without asking someone every time. Read-only is all I need, no admin. {impact}
        """,
        "P2:1 P3:5 P4:2",
        teams=ENG_TEAMS,
    ),
    _tpl(
        _A,
        (
            "Access for our new {joiner_role}",
            "New starter accounts - {team_name}",
            "Onboarding access for new joiner",
        ),
        """
        Hi,

        We have a new {joiner_role} joining {team_name} [[in a few weeks|next month]]. The
        birthright groups come from Personio, but could you also add:

        - `app-k8s-prod-deploy` (after the first two weeks is fine)
        - the `vault-{team}-prod` group
        - the private Slack channel #{team}-oncall
        - PagerDuty, as a shadow responder

        {impact}

        {first_name} (EM, {team_name})
        """,
        "P3:6 P4:2",
        teams=ENG_TEAMS,
        channels="email:3 portal:3",
        signed=True,
        impact={"P3": ("Thanks!", ""), "P4": ("No rush, the start date is a while away.",)},
    ),
    _tpl(
        _A,
        (
            "finance dataset access (BigQuery)",
            "Access to BigQuery finance dataset",
            "finance models",
        ),
        """
        [[Hi,|Hello,|]] I'm working on [[the PSP fee analysis|reconciliation checks for
        payouts|the cost-per-parcel model]] and need read access to the `finance` dataset in
        BigQuery (mainly `finance.fct_ledger_recon_daily`). [[The Finance Controller said yes on
        Slack, I can forward the message.|I've asked the Finance Controller to approve; they said
        to raise a ticket first.|]] {impact}
        """,
        "P2:1 P3:4 P4:1",
    ),
    _tpl(
        _A,
        ("Add me to #{private_channel}", "access to a private Slack channel", "private channel"),
        """
        [[can someone add me to|pls add me to|Could I be added to]] #{private_channel}? [[I'm
        joining the rota next month|I'm covering for a colleague who's on leave|my EM asked me to
        follow the discussions there]]. {impact}
        """,
        "P3:4 P4:3",
        channels="slack:6 portal:2",
    ),
    _tpl(
        _A,
        (
            "Can't open {okta_app} - not assigned",
            "{okta_app}: You are not assigned to this application",
            "no {okta_app} tile in Okta",
        ),
        """
        When I click {okta_app} in the Okta dashboard I get:

            You are not assigned to this application.
            Please contact your administrator.

        [[Others on my team can open it fine.|I had it in my previous team.|I've never had it but
        need it in my new role.]] I guess I need the app group? {impact}
        """,
        "P2:2 P3:5 P4:1",
    ),
    _tpl(
        _A,
        (
            "app-argocd-prod-admin for the {svc} change",
            "Time-bound Argo CD admin",
            "Argo CD prod admin (8h) request",
        ),
        """
        Requesting `app-argocd-prod-admin` for 8 hours for the {service} [[migration to the new
        node pool|namespace move|canary config change]]. It's planned in CHG-{chg} and approved by
        our EM and the Head of SRE. [[I know it expires automatically.|]] {impact}
        """,
        "P2:2 P3:4",
        services=DEPLOYABLE,
        teams=ENG_TEAMS,
        impact={
            "P2": ("The maintenance window is tonight, so it would need to be in place by 18:00.",),
            "P3": ("The window is on {future_date}, so there's time.",),
        },
    ),
    _tpl(
        _A,
        (
            "Jira board access",
            "can't see the {jira_key} board",
            "Access to Jira project {jira_key}",
        ),
        """
        I can't see the {jira_key} project in Jira, it says "You don't have permission to view
        this project". [[I'm helping {other_team_name} with a few tickets this sprint.|I need to
        comment on a bug that was assigned to us.|]] {impact}
        """,
        "P3:5 P4:3",
    ),
    _tpl(
        _A,
        ("kctl ssh login: not in app-bastion-user", "Bastion access", "SSH access to the bastion"),
        """
        Trying to get on a node to debug [[disk pressure|a kubelet issue|a DNS problem]] and
        `kctl ssh login` says:

            kctl: access denied - Okta group app-bastion-user required

        Could I get `app-bastion-user`? {impact}
        """,
        "P1:1 P2:2 P3:4",
        teams=("platform", "sre", "shipments", "payments", "routing", "data"),
    ),
    _tpl(
        _A,
        ("Extend contractor account", "Contractor Okta account expiring", "Contract renewed"),
        """
        [[Hi IT,|Hello,]]

        Our contractor's contract has been renewed for another six months, but their Okta account
        still has the old end date. Could you extend it and keep their current groups? I can attach
        the signed renewal.

        {impact}
        """,
        "P2:2 P3:4",
        channels="email:3 portal:3",
        impact={
            "P2": ("The account expires on {soon_date}, so they'll be locked out very soon.",),
            "P3": ("It expires on {future_date}, so no panic, but I'd rather not forget.",),
        },
    ),
    _tpl(
        _A,
        ("PagerDuty access", "Add me to PagerDuty", "pagerduty responder role"),
        """
        [[hey|hi]], I'm joining the {team_name} on-call rota and don't have a PagerDuty account yet
        (the tile isn't in Okta). Could you set me up as a responder? {impact}
        """,
        "P2:2 P3:5 P4:1",
        teams=ENG_TEAMS,
        dup_ok=True,
    ),
    _tpl(
        _A,
        ("app-k8s-readonly missing", "can't run kctl status", "read-only k8s group"),
        """
        pls add me to `app-k8s-readonly`, `kctl status` says I'm not allowed and I thought it was
        birthright for engineers? {impact}
        """,
        "P2:1 P3:5",
        channels="slack:5 portal:1",
        teams=ENG_TEAMS,
    ),
)

LOGIN_TEMPLATES = (
    _tpl(
        _L,
        ("Locked out of Okta", "account locked", "Okta says my account is locked"),
        """
        [[I typed my password wrong too many times|Caps lock was on and I tried a few times|I
        think my password manager filled an old password]] and now Okta says my account is
        locked. [[Self-unlock asks for a passkey I never set up.|Self-unlock wants Okta Verify,
        which is on my old phone.|I've waited about 20 minutes so far.]] {impact}
        """,
        "P1:1 P2:5 P3:3",
    ),
    _tpl(
        _L,
        (
            "New phone - Okta Verify gone",
            "lost Okta Verify after phone upgrade",
            "MFA reset needed",
        ),
        """
        [[Hi,|Hello,|]]

        I [[got a new phone|switched from Android to iPhone|had my phone replaced under
        warranty]] and Okta Verify didn't come across. I never enrolled Touch ID on my Mac, so I
        have no second factor left and can't sign in to anything.

        I know you need a video call to verify me; I'm free [[all morning|after 14:00|whenever
        suits]]. {impact}
        """,
        "P2:5 P3:2",
        impact={"P3": ("I'm on leave until next week, so it can wait until then.",)},
    ),
    _tpl(
        _L,
        (
            "INCIDENT: on-call locked out of Okta",
            "INCIDENT - IC can't sign in",
            "on-call can't log in",
        ),
        """
        INCIDENT. I'm [[primary on-call for {team_name}|the Incident Commander|secondary on-call
        for {team_name}]] and [[Okta Verify keeps rejecting my number match|my passkey stopped
        working after a macOS update|my account got locked]] in the middle of a {sev}. I can't get
        to Grafana, PagerDuty or kctl. Calling the helpdesk line as well. {impact}
        """,
        "P1:1",
        teams=ENG_TEAMS,
        channels="portal:2 email:2",
        impact={"P1": ("This is blocking incident response right now.", "Please call me back.")},
    ),
    _tpl(
        _L,
        ("SAML error when signing in to {saml_app}", "clock skew error", "{saml_app}: SAML error"),
        """
        Getting this when I sign in to {saml_app} through Okta:

            SAML response rejected: clock skew exceeds allowed limit (300s)

        [[Other apps work fine.|It started after I came back from a trip to {travel_city}.|Tried
        two browsers, same thing.]] {impact}
        """,
        "P2:1 P3:5 P4:1",
    ),
    _tpl(
        _L,
        (
            "Your device does not meet requirements",
            "{trusted_app} blocked - device not compliant",
            "Okta device trust blocking me",
        ),
        """
        Since this morning Okta blocks me from {trusted_app} with "Your device does not meet
        requirements". [[Jamf Self Service shows FileVault is on.|I'm on the loaner laptop from the
        {hub} walk-up desk.|I postponed the macOS update for a few weeks, could that be it?]]
        {impact}
        """,
        "P2:4 P3:3",
    ),
    _tpl(
        _L,
        ("forgot my password after leave", "Password reset", "Can't remember my Okta password"),
        """
        [[Back from|Just got back from]] [[three weeks of holiday|parental leave|a long sick
        leave]] and my Okta password has gone from my head. The reset flow sends me to Okta
        Verify, [[which says "enrolment expired"|but I reinstalled the app while I was away]].
        {impact}
        """,
        "P2:3 P3:3",
    ),
    _tpl(
        _L,
        ("YubiKey not accepted", "Hardware key for admin sign-in", "New YubiKey enrolment"),
        """
        My YubiKey [[stopped being recognised by Okta|got damaged (bent USB-C connector)|doesn't
        work since the macOS update]] and I need it for [[Vault admin|the AWS Admin role|GitHub
        owner actions]]. Okta Verify isn't enough for admin roles, so I can't do [[the access review
        cleanup|admin tasks]] at the moment. Can IT issue a new key and help me enrol it? {impact}
        """,
        "P2:2 P3:4 P4:1",
        teams=("platform", "sre", "identity", "security", "it"),
    ),
    _tpl(
        _L,
        ("1Password locked out", "forgot 1Password account password", "Can't unlock 1Password"),
        """
        I can't unlock 1Password. [[I changed my account password last week and the new one isn't
        accepted.|I think I mixed it up with my Okta one (they're different, as required).|The
        Emergency Kit is somewhere but I can't find it.]] Can someone from IT run a recovery on my
        account? {impact}
        """,
        "P2:3 P3:4",
    ),
    _tpl(
        _L,
        ("Okta redirect loop with {saml_app}", "stuck in a login loop", "Login loop"),
        """
        [[When I open|Opening]] {saml_app} I get bounced between login.kestrel.example and the app
        [[forever|until the browser gives up with ERR_TOO_MANY_REDIRECTS]]. Cleared cookies,
        [[updated the Okta plugin|tried a private window]], no change. {impact}
        """,
        "P2:2 P3:5 P4:1",
    ),
    _tpl(
        _L,
        (
            "Okta Verify pushes not arriving",
            "no push notification from Okta Verify",
            "MFA push delay",
        ),
        """
        Okta Verify push notifications [[stopped arriving|take several minutes to arrive|only show
        up when I open the app]] on my phone since [[this morning|yesterday|the last iOS update]].
        [[I can get in by opening the app and pulling to refresh, but it's slow.|Sometimes the
        sign-in times out before it shows up.|]] [[Is anyone else seeing this?|Not sure if it's just
        me.|]] {impact}
        """,
        "P2:2 P3:5 P4:2",
        dup_ok=True,
    ),
    _tpl(
        _L,
        ("Okta activation link expired", "can't activate my account", "Activation email expired"),
        """
        Hi, [[today is my first day|I start today]] in {team_name}. The Okta activation email went
        to my personal address but the link says it has expired. [[I'm writing from my personal
        email because I have no Kestrel account yet.|My EM suggested I raise this.|]] {impact}
        """,
        "P2:5 P3:1",
        channels="email:5 portal:1",
        impact={
            "P2": ("I can't do anything on the laptop until this works.",),
            "P3": (
                "My first day is mostly paperwork with People Ops, so it can wait a few hours.",
            ),
        },
    ),
    _tpl(
        _L,
        ("New password not accepted", "Okta refuses my new password", "Password change error"),
        """
        Trying to change my Okta password and it keeps refusing with "[[This password was found in
        a list of breached passwords|Password must not contain your first name, last name or
        username|Password has been used too recently]]". [[It's 16 characters.|I'm using a
        passphrase like the policy says.|]] What's the actual rule? {impact}
        """,
        "P3:4 P4:3",
    ),
    _tpl(
        _L,
        ("MFA reset for a team member abroad", "Colleague locked out while travelling", "MFA help"),
        """
        [[Hi,|Hello IT,|]] one of my engineers is at a customer site in {travel_city} and their
        phone [[died|won't turn on after getting wet|has a broken screen]], so no Okta Verify. They
        have their Mac but never set up the passkey. They can do a video call from the laptop
        whenever you're ready; I know you won't reset anything based on my message alone. {impact}
        """,
        "P2:4 P3:1",
        impact={
            "P2": ("They run a workshop with the customer tomorrow and need their accounts.",),
            "P3": ("They're back in the office next week, so it can wait if it has to.",),
        },
    ),
    _tpl(
        _L,
        ("Okta Verify crashes on Android", "Okta Verify work profile issue", "okta verify closes"),
        """
        Okta Verify in my Android work profile crashes as soon as I open it, since the [[security
        patch|OS update|work profile re-enrolment]] [[last night|yesterday]]. Reinstalled from the
        managed catalogue, same thing. Touch ID on the Mac still works [[so I can get in|for
        now]]. {impact}
        """,
        "P3:5 P4:2",
    ),
    _tpl(
        _L,
        ("Okta asks me to sign in constantly", "MFA prompts every hour", "too many MFA prompts"),
        """
        Okta [[asks me to sign in again|prompts for MFA]] roughly every hour, not every 12 hours
        like my colleagues. [[AWS and Vault ask every 4 hours, I understand that one.|I'm in
        Lisbon, in case location matters.|]] It's [[annoying more than blocking|slowing me down
        quite a bit]]. {impact}
        """,
        "P3:4 P4:3",
    ),
    _tpl(
        _L,
        ("okta locked me out again", "locked out", "can't log in"),
        """
        okta locked me out again :( can someone unlock? {impact}
        """,
        "P2:3 P3:2",
        channels="slack:6 portal:1",
    ),
)

HARDWARE_TEMPLATES = (
    _tpl(
        _H,
        ("Laptop won't boot", "MacBook black screen after update", "laptop dead"),
        """
        My {laptop} [[won't start after last night's macOS update|shows a black screen with the fan
        running|is stuck on the Apple logo with a progress bar that never moves]]. [[I tried an
        SMC/NVRAM reset as the internet suggests.|Holding power for 10 seconds does nothing.|]]
        I'm [[remote, in {home_city}|in the {hub} office today|working from home]]. {impact}
        """,
        "P1:1 P2:6 P3:1",
        impact={"P3": ("I've borrowed a loaner for now, so I'm not blocked.",)},
    ),
    _tpl(
        _H,
        ("Keyboard keys not working", "broken keyboard", "Replacement keyboard please"),
        """
        [[A few keys on my|The E and R keys on my|The space bar on my]] [[Logitech|Apple Magic]]
        keyboard [[stick|stopped working]] ([[coffee incident|no idea why|it's about three years
        old]]). Could I get a replacement from stock? {impact}
        """,
        "P3:5 P4:2",
    ),
    _tpl(
        _H,
        ("Second monitor request", "Request: 2nd monitor (on-call)", "extra monitor"),
        """
        I'm on the {team_name} on-call rota and the home office page says on-call engineers can
        have a second monitor. Could I order a second 27" 4K monitor for home? [[The address is in
        Personio.|I'll be in the {hub} office on {future_date} if pick-up is easier.|]] {impact}
        """,
        "P3:4 P4:3",
        teams=ENG_TEAMS,
        channels="portal:5 email:1 slack:1",
    ),
    _tpl(
        _H,
        ("Monitor flickering via dock", "USB-C dock disconnects", "display keeps going black"),
        """
        My monitor [[flickers|goes black for a second]] every few minutes when connected through
        the USB-C dock. A direct cable to the laptop is fine. [[Already tried another cable.|The
        dock also drops the ethernet at the same moment.|It happens in the {hub} office too, with a
        different dock, weirdly.]] {impact}
        """,
        "P2:1 P3:5 P4:2",
    ),
    _tpl(
        _H,
        ("Headset microphone broken", "Jabra mic not working", "New headset"),
        """
        The mic on my Jabra Evolve2 65 [[stopped working|makes a crackling noise]] - people on Meet
        say they can't hear me. [[It's more than two years old, so it's due for replacement
        anyway.|The boom arm is cracked.|Tried it on another laptop, same issue.]] {impact}
        """,
        "P2:2 P3:5",
    ),
    _tpl(
        _H,
        ("Laptop battery swollen?", "trackpad lifting up - battery?", "MacBook case bulging"),
        """
        The trackpad on my {laptop} is [[lifting at the front edge|not clicking any more and the
        case looks bent]], and the laptop wobbles on the desk. I've read this can be a swollen
        battery, so I've [[shut it down|stopped charging it]] and don't want to use it. [[Can I swap
        it at the walk-up desk?|I'm remote, can you send a courier box and a loaner?|]] {impact}
        """,
        "P2:5 P3:1",
        impact={"P3": ("I have an old personal machine I can use for a couple of days.",)},
    ),
    _tpl(
        _H,
        ("Laptop refresh", "My MacBook is due for replacement", "laptop refresh - 3 years"),
        """
        My MacBook Pro [[is three and a half years old|was issued in 2023|is past its refresh
        date]] and [[local builds take forever|the battery lasts about an hour|it struggles with
        Docker and two browsers]]. I believe engineers get a refresh every 3 years. What's the
        process? {impact}
        """,
        "P3:4 P4:4",
        teams=ENG_TEAMS,
    ),
    _tpl(
        _H,
        ("{room} screen not working", "Meeting room AV broken - {room}", "{room}: no signal"),
        """
        The [[screen|display|TV]] in {room} [[shows "no signal" with both the USB-C and the HDMI
        cable|won't turn on at all|is stuck on the Meet hardware setup screen]]. [[Tried turning it
        off and on.|The remote seems dead too.|]] {impact}
        """,
        "P2:2 P3:5 P4:1",
        channels="slack:5 portal:2",
        dup_ok=True,
        impact={"P2": ("We have the {team_name} all-hands in there tomorrow at 10:00.",)},
    ),
    _tpl(
        _H,
        ("Company phone screen cracked", "iPhone screen broken", "Cracked iPhone"),
        """
        [[Dropped|I dropped]] my company iPhone [[on the stairs|during a depot visit]] and the
        screen is cracked across the top. It still works, including Okta Verify and PagerDuty, but
        touch [[is patchy|doesn't work at the top]]. {impact}
        """,
        "P2:1 P3:5",
    ),
    _tpl(
        _H,
        ("Loaner laptop for travel", "Need a travel laptop", "loaner request"),
        """
        I'm travelling to {travel_city} on {future_date} for [[a customer visit|a conference|the
        team offsite]] and would rather not take my main laptop with my whole dev setup on it. Can
        I book a loaner from the {hub} office for about a week? {impact}
        """,
        "P3:4 P4:3",
    ),
    _tpl(
        _H,
        ("New joiner laptop not delivered", "Starter laptop stuck in customs", "starter laptop"),
        """
        Hi IT,

        Our new {joiner_role} works remotely from {home_city}. [[The courier tracking says the
        laptop is held in customs.|Tracking hasn't moved in four days.|They haven't received
        anything yet or heard from the courier.]] Could you check? {impact}
        """,
        "P2:4 P3:3",
        channels="email:3 portal:3",
        impact={
            "P2": (
                "They start the day after tomorrow, and the laptop should arrive the day before.",
            ),
            "P3": (
                "They start in a couple of weeks, so there's still time, but I wanted to flag it.",
            ),
        },
    ),
    _tpl(
        _H,
        ("{layout} keyboard layout", "Keyboard with {layout} layout", "different keyboard layout"),
        """
        [[Would it be possible|Is it possible]] to swap my keyboard for one with a {layout} layout?
        I keep [[typing the wrong characters|hunting for the @ sign]]. {impact}
        """,
        "P3:2 P4:5",
    ),
    _tpl(
        _H,
        ("Laptop very hot and loud", "MacBook fans at full speed", "overheating laptop"),
        """
        My laptop runs [[really hot|at 100°C according to a monitoring app]] and the fans are at
        full speed [[whenever Docker Desktop is running|even when idle|during video calls]].
        [[Activity Monitor shows a process called "mdworker" eating the CPU.|Nothing obvious in
        Activity Monitor.|]] {impact}
        """,
        "P3:5 P4:2",
    ),
    _tpl(
        _H,
        (
            "Ergonomic equipment after assessment",
            "Split keyboard and vertical mouse",
            "Standing desk",
        ),
        """
        I had the ergonomic assessment [[last week|on {recent_date}]] and it recommends [[a split
        keyboard and a vertical mouse|a standing desk|a monitor arm and a footrest]] because of
        [[wrist pain|back problems]]. The report is attached. How do I order it? {impact}
        """,
        "P3:5 P4:2",
    ),
    _tpl(
        _H,
        ("Charger stopped working", "USB-C charger broken", "need a new charger"),
        """
        My laptop charger [[stopped working|makes a buzzing noise and gets very hot]]. [[I can only
        charge through the dock at the moment.|The battery is at 20% now.]] Can I get one from
        stock? {impact}
        """,
        "P2:2 P3:5",
    ),
    _tpl(
        _H,
        ("mouse died", "Mouse", "spare mouse?"),
        """
        mouse died, any spares at the {hub} desk? {impact}
        """,
        "P3:3 P4:2",
        channels="slack:6",
    ),
)

SOFTWARE_TEMPLATES = (
    _tpl(
        _S,
        ("JetBrains licence", "IntelliJ licence request", "JetBrains All Products Pack"),
        """
        I'd like a JetBrains All Products Pack seat ([[mainly IntelliJ|mainly GoLand|PyCharm and
        DataGrip]]). [[I did /okta request app-jetbrains a week ago and it's still pending.|Is
        /okta request app-jetbrains the right way?|]] {impact}
        """,
        "P3:5 P4:3",
        teams=ENG_TEAMS,
    ),
    _tpl(
        _S,
        ("Figma seat", "Figma Professional licence", "Need Figma edit access"),
        """
        I'm a {figma_role} and need a Figma Professional seat to [[edit the Driver app
        designs|update the booking flow mockups|build the new label layouts]]; at the moment I'm
        view-only. {impact}
        """,
        "P2:1 P3:5 P4:2",
    ),
    _tpl(
        _S,
        (
            "Software request: {saas_tool}",
            "Buying {saas_tool} for the team",
            "New tool: {saas_tool}",
        ),
        """
        Hello,

        We'd like to buy {saas_tool} for {team_name}: {seats} seats on the [[Team|Business]] plan,
        roughly {big_amount} per year. It will [[only see our internal docs|see screenshots of
        internal dashboards|see our Jira tickets]], no customer data.

        Who runs the vendor review? I'm the budget holder (EM for the team). {impact}
        """,
        "P3:4 P4:3",
        channels="portal:4 email:3",
    ),
    _tpl(
        _S,
        (
            "Don't reclaim my {reclaim_tool} seat",
            "{reclaim_tool} licence reclaimed",
            "Seat reclaim notice - I still need it",
        ),
        """
        I got the Slack message that my {reclaim_tool} seat will be reclaimed because it's been
        unused for 60 days. [[I was on leave|I only use it at quarter end|I was on a long project
        that didn't need it]] and I do still need it. {impact}
        """,
        "P2:1 P3:4 P4:2",
    ),
    _tpl(
        _S,
        (
            "{renew_tool} renewal - reduce seats",
            "Renewal reminder: {renew_tool}",
            "Cancel at renewal",
        ),
        """
        We got the 60-day renewal reminder for {renew_tool}. We only use [[a handful of the
        seats|it occasionally since we moved to Miro|it for one old project]], so I'd like to
        [[reduce to {seats} seats|cancel at renewal]]. I'm listed as the contract owner in the
        licence register. {impact}
        """,
        "P3:3 P4:4",
        channels="email:3 portal:3",
    ),
    _tpl(
        _S,
        ("Zoom licence", "Need Zoom for a webinar", "Zoom account request"),
        """
        [[Meet is the default, I know, but|I know we use Meet, but]] {shipper} insists on Zoom for
        [[the quarterly review|their onboarding webinar|an integration workshop]]. Could I get a
        Zoom licence through Self Service? {impact}
        """,
        "P2:2 P3:4",
    ),
    _tpl(
        _S,
        ("Small app purchase under EUR 50", "Can I expense a macOS utility?", "buying {utility}"),
        """
        Quick question: I'd like to buy {utility} ({small_amount}, one-off). The software page says
        purchases under EUR 50 can be expensed with a receipt and that you want to be told - so
        this is me telling you. Anything else I need to do? {impact}
        """,
        "P3:1 P4:5",
    ),
    _tpl(
        _S,
        ("Docker Desktop subscription warning", "Docker Desktop not licensed", "docker desktop"),
        """
        Docker Desktop shows [[a banner "Your subscription has expired, sign in to
        continue"|"You are not part of an organization with an active subscription"]] and
        [[won't start containers|nags me at every start]]. I installed it from Self Service.
        {impact}
        """,
        "P2:2 P3:5",
        teams=ENG_TEAMS,
    ),
    _tpl(
        _S,
        ("ChatGPT Enterprise access", "Request: ChatGPT Enterprise seat", "AI tool licence"),
        """
        Could I get a ChatGPT Enterprise seat? [[I'd use it for drafting docs and RFC
        summaries.|I've been using the free version for public stuff only and would like the
        company one.|My team uses it to generate test data.]] {impact}
        """,
        "P3:4 P4:3",
    ),
    _tpl(
        _S,
        ("Postman Team seat", "Postman licence", "add me to the Postman team"),
        """
        Can I get a seat in our Postman Team workspace? I need [[the shared API collections|to share
        collections with a partner team]]. (No secrets in collections, I know.) {impact}
        """,
        "P3:5 P4:2",
        teams=ENG_TEAMS,
    ),
    _tpl(
        _S,
        ("Who owns the {renew_tool} contract?", "licence register question", "{renew_tool} seats"),
        """
        [[Hi,|]] how many {renew_tool} seats do we have and who owns the contract? I can't see costs
        in the licence register[[ (I'm not an EM)|]]. Asking because [[my team wants to try
        it|we may want a few more seats next quarter]]. {impact}
        """,
        "P3:1 P4:5",
    ),
    _tpl(
        _S,
        ("Copilot says no licence", "GitHub Copilot not active", "Copilot licence missing"),
        """
        GitHub Copilot in [[VS Code|IntelliJ]] says [["You do not have access to GitHub
        Copilot"|my account has no active Copilot seat]]. I thought it was birthright for
        engineers? [[I moved teams last month.|I'm a new joiner.|It worked until yesterday.]]
        {impact}
        """,
        "P3:5 P4:1",
        teams=ENG_TEAMS,
        dup_ok=True,
    ),
    _tpl(
        _S,
        (
            "Finance rejected my software expense",
            "Ledgerly rejected {saas_tool} subscription",
            "SaaS subscription on my card",
        ),
        """
        I paid for {saas_tool} ([[monthly plan|one seat]], {amount}) on my card and claimed it in
        Ledgerly, and Finance rejected it saying software needs IT approval. [[I didn't
        know.|Fair enough.|]] Can IT approve it retroactively or turn it into a proper licence?
        It [[doesn't see any customer data|only has our sprint notes in it]]. {impact}
        """,
        "P3:4 P4:2",
    ),
    _tpl(
        _S,
        ("Lucidchart licence", "Request: Lucidchart", "diagram tool licence"),
        """
        Could I get a Lucidchart licence? [[I need to edit the architecture diagrams the previous
        owner made there.|The RFC template links to diagrams in Lucidchart.|]] [[I know Miro
        exists, but these diagrams only open in Lucidchart.|]] {impact}
        """,
        "P3:4 P4:3",
    ),
    _tpl(
        _S,
        ("Miro licence free?", "miro", "Miro seat"),
        """
        do we have a Miro licence free? need to run a retro board {impact}
        """,
        "P3:2 P4:3",
        channels="slack:6",
    ),
)

DEPLOY_TEMPLATES = (
    _tpl(
        _D,
        ("kctl deploy blocked: SOAK", "SOAK error on prod deploy of {svc}", "prod deploy refused"),
        """
        Trying to deploy {service} {version} to prod and kctl says:

            SOAK: {version} has been in staging for {soak_min}m (< 30m)

        [[Is there a way to skip this for a tiny config change?|Is 30 minutes a hard rule?|Fine,
        I'll wait, but could the message say when it will be allowed?]] {impact}
        """,
        "P2:1 P3:3 P4:3",
        services=DEPLOYABLE,
    ),
    _tpl(
        _D,
        ("CI: docker push denied", "All builds failing at push step", "GitHub Actions failures"),
        """
        Builds on [[main|every branch]] of {service} fail at the push step since [[about
        {time}|this morning]]:

            Error: failed to push image: denied: requested access to the resource is denied
            Error: Process completed with exit code 1.

        [[Looks like it's not only us, {other_team_name} have the same.|Nothing changed in our
        workflow.|Re-running doesn't help.]] {impact}
        """,
        "P1:1 P2:5 P3:2",
        services=DEPLOYABLE,
        dup_ok=True,
    ),
    _tpl(
        _D,
        ("{svc} OutOfSync in Argo CD", "Argo CD sync failed for {svc}", "staging sync error"),
        """
        {service} in staging has been OutOfSync since [[the last merge|yesterday]] and a manual
        sync fails with:

            ComparisonError: failed to load target state: rpc error: code = Unknown desc =
            Manifest generation error (cached)

        [[Did something change in deploy-config?|I can't see what's wrong with our values
        file.|]] {impact}
        """,
        "P2:2 P3:5 P4:1",
        services=DEPLOYABLE,
    ),
    _tpl(
        _D,
        ("Freeze exception for {svc} hotfix", "Request: deploy during freeze", "Freeze exception"),
        """
        [[Hi SRE,|Hello,|]] we need to deploy {service} {version} during the freeze: it fixes
        [[wrong totals on invoices for one shipper|a crash in address validation for Polish
        postcodes|a timeout that hits {shipper}'s nightly batch]]. Our EM has approved; we need
        the Head of SRE's OK as well. The change request is CHG-{chg}. {impact}
        """,
        "P2:5 P3:2",
        services=DEPLOYABLE,
        impact={"P3": ("It can wait for Monday morning if you'd rather not.",)},
    ),
    _tpl(
        _D,
        (
            "kctl rollback failing during incident",
            "rollback of {svc} fails",
            "Can't roll back {svc}",
        ),
        """
        We're trying to roll back {service} in prod for the open incident and it fails:

            $ kctl rollback {svc} --env prod
            Error: rollout aborted: previous revision {prev_version} not found in history (exit 3)

        [[kctl history only shows the current version.|The Argo CD UI shows the app as
        Degraded.|]] {impact}
        """,
        "P1:5 P2:1",
        services=DEPLOYABLE,
        channels="slack:6 portal:1",
        impact={"P2": ("It's a SEV2, so customers are mostly fine, but we need the rollback.",)},
    ),
    _tpl(
        _D,
        ("Flaky integration tests in {svc}", "CI flaky: testcontainers timeout", "random CI fails"),
        """
        The integration tests for {service} fail in about one run out of three with:

            org.testcontainers.containers.ContainerLaunchException: Container startup failed
            Caused by: java.lang.IllegalStateException: Wait strategy failed. Container exited
            with code 1

        It passes locally every time. [[Are the runners short on memory?|Did the runner image
        change?|]] {impact}
        """,
        "P3:5 P4:2",
        services=DEPLOYABLE,
    ),
    _tpl(
        _D,
        ("GitHub Actions queue very long", "CI jobs waiting for runners", "runners?"),
        """
        [[Our|All our]] GitHub Actions jobs have been queued for [[20+|about 30|40]] minutes
        waiting for a runner (`self-hosted, linux, x64`). [[Is there a problem with the runner
        pool?|Anything known?|]] {impact}
        """,
        "P2:3 P3:4",
        channels="slack:6 portal:1",
        dup_ok=True,
    ),
    _tpl(
        _D,
        ("Trivy scan blocking {svc} build", "image scan failing - HIGH CVE", "CVE in base image"),
        """
        The image scan step now fails our build for {service}:

            Total: 1 (HIGH: 1, CRITICAL: 0)
            openssl | CVE-2026-{cve} | HIGH | fixed in 3.0.16

        The base image comes from the service template, we didn't change it. [[Can Platform bump
        the base image?|Can we get a temporary exception?|]] {impact}
        """,
        "P2:3 P3:4",
        services=DEPLOYABLE,
    ),
    _tpl(
        _D,
        ("kctl refuses to run - version too old", "kctl self-update fails", "kctl upgrade problem"),
        """
        kctl says it's more than two minor versions behind and refuses to run, but
        `kctl self-update` fails with:

            Error: could not replace binary: permission denied (/usr/local/bin/kctl)

        [[brew upgrade kestrel/tap/kctl says it's already up to date.|I installed it by hand a long
        time ago, maybe that's why.|]] {impact}
        """,
        "P2:2 P3:4 P4:1",
        teams=ENG_TEAMS,
    ),
    _tpl(
        _D,
        (
            "{svc}: sync PAUSED on deploy",
            "Who paused sync on {svc}?",
            "deploy blocked: sync paused",
        ),
        """
        The deploy of {service} {version} to prod stops with `sync: PAUSED`. [[I can't find
        anything in #deploys about a rollback.|I think someone rolled back last week and never
        resumed.|]] Is it safe for me to run `kctl sync resume {svc} --env prod`? {impact}
        """,
        "P2:2 P3:4 P4:1",
        services=DEPLOYABLE,
    ),
    _tpl(
        _D,
        (
            "kctl template upgrade conflicts",
            "Service template upgrade",
            "template upgrade on {svc}",
        ),
        """
        Running `kctl template upgrade` on {service} produces conflicts in [[the Dockerfile|the
        GitHub Actions workflow|the Helm values]] that I don't understand:

            CONFLICT (content): Merge conflict in .github/workflows/build.yaml

        [[Is there a guide for resolving these?|Could someone from Platform pair with me for 30
        minutes?|]] {impact}
        """,
        "P3:4 P4:4",
        services=DEPLOYABLE,
    ),
    _tpl(
        _D,
        ("Canary stuck at 10% in staging", "Argo Rollouts analysis inconclusive", "{svc} rollout"),
        """
        The rollout of {service} {version} in staging has been stuck at the first canary step
        (10%) for [[two hours|most of the morning]]. The analysis run says `Inconclusive` and
        nothing moves. [[Should I abort and redeploy?|Is the Prometheus query in the analysis
        template broken?|]] {impact}
        """,
        "P2:2 P3:5",
        services=DEPLOYABLE,
    ),
    _tpl(
        _D,
        ("Secret not synced from Vault in staging", "ExternalSecret error for {svc}", "pod config"),
        """
        After deploying {service} to staging the pods are in CreateContainerConfigError. The
        ExternalSecret shows:

            SecretSyncedError: could not get secret data from provider: permission denied

        [[We added a new key to the Vault path yesterday.|Nothing changed on our side that I know
        of.|]] {impact}
        """,
        "P2:2 P3:5",
        services=DEPLOYABLE,
    ),
    _tpl(
        _D,
        ("kctl config set PR not merging", "deploy-config auto-merge stuck", "config change stuck"),
        """
        I ran `kctl config set {svc} --env staging {config_var}` and the auto-merge PR in
        deploy-config has been open for an hour with a failing check `validate-values`. [[The
        error says the key isn't in the schema.|The check log is empty.|]] {impact}
        """,
        "P3:5 P4:2",
        services=DEPLOYABLE,
    ),
    _tpl(
        _D,
        ("Driver app release workflow failing", "TestFlight upload step fails", "iOS release CI"),
        """
        The Driver app release workflow fails at the [[TestFlight upload|App Store Connect
        upload|signing]] step:

            error: exportArchive: No signing certificate "iOS Distribution" found

        [[The release train is supposed to go to internal testers today.|We didn't touch the
        signing setup.|]] {impact}
        """,
        "P2:4 P3:3",
        teams=("mobile",),
    ),
    _tpl(
        _D,
        ("is CI down?", "CI red", "builds failing"),
        """
        is CI down? everything red since {time} {impact}
        """,
        "P2:3 P3:2",
        channels="slack:6",
        teams=ENG_TEAMS,
        dup_ok=True,
    ),
)

INCIDENT_TEMPLATES = (
    _tpl(
        _I,
        ("{svc} returning 5xx", "errors on {svc}", "{svc} 503s", "Is {svc} down?"),
        """
        [[Seeing|We're seeing|Support is seeing]] a lot of 5xx from {service} since about {time}.
        [[Grafana shows the error rate climbing on the overview dashboard.|Customers report
        "Something went wrong" pages.|Our synthetic checks started failing.]] {impact}

            {http_error}
        """,
        "P1:4 P2:3 P3:1",
        services=("parcel-api", "booking-web", "edge-gateway"),
        dup_ok=True,
        impact={
            "P1": (
                "Error rate is around {pct_high}% and shippers can't create shipments at all.",
                "[[About|Roughly]] {pct_high}% of requests fail, for at least {dur} minutes now. "
                "This is customer-facing.",
            ),
            "P2": (
                "Error rate is about {pct_mid}%, so most requests still go through, but it's "
                "above the alert threshold.",
            ),
            "P3": ("Only one shipper ({shipper}) seems affected, and retries work for them.",),
        },
    ),
    _tpl(
        _I,
        ("{svc} slow", "High latency on {svc}", "{svc} p99 through the roof"),
        """
        {service} has been [[very slow|sluggish]] since around {time}. {impact} [[Nothing in
        #deploys around that time.|There was a deploy just before, not sure if related.|CPU looks
        normal on the pods.]]
        """,
        "P2:5 P3:3",
        services=("parcel-api", "booking-web", "edge-gateway", "user-directory"),
        dup_ok=True,
        impact={
            "P2": (
                "p99 is about {p99_high} s, more than three times the SLO, for the last {dur} "
                "minutes.",
            ),
            "P3": (
                "p99 is a bit above normal ({p99_low} s) but within the SLO, and nobody has "
                "complained yet.",
            ),
        },
    ),
    _tpl(
        _I,
        ("Labels delayed", "label-renderer backlog", "Shipping labels not generating"),
        """
        [[Shippers report|We're seeing|Support tells us]] that shipping labels take ages to appear
        after booking. {impact} [[kctl events shows a few OOMKilled pods.|Queue depth on the
        {service} dashboard keeps growing.|]]
        """,
        "P1:1 P2:4 P3:3",
        services=("label-renderer",),
        dup_ok=True,
        impact={
            "P1": (
                "No labels at all for the last {dur} minutes; shippers can't dispatch anything.",
            ),
            "P2": ("The backlog is about {backlog_high} minutes right now.",),
            "P3": (
                "The delay is about {backlog_low} minutes, under the 30-minute line, but "
                "growing slowly.",
            ),
        },
    ),
    _tpl(
        _I,
        ("Drivers can't sync scans", "Driver app stuck on 'pending upload'", "sync issue in depot"),
        """
        Depot supervisors in {depot_city} [[report|say]] that the Driver app shows scans stuck on
        "pending upload" [[since this morning|for the last hour]]. {impact}

        The error in the app log a driver sent us:

            SyncError: POST /v2/sync/batches failed: 504 Gateway Timeout (attempt 5/5)

        [[Looks like {service} to me.|Is {service} having trouble?|]]
        """,
        "P1:4 P2:2 P3:2",
        services=("driver-sync",),
        dup_ok=True,
        impact={
            "P1": (
                "It's every driver we've heard from, in several depots, during delivery hours.",
            ),
            "P2": ("It's a subset of drivers; most still sync after a few retries.",),
            "P3": ("Only one driver so far, and logging out and in fixed it for them.",),
        },
    ),
    _tpl(
        _I,
        ("Customers can't log in", "Shipper logins failing", "Login errors on the booking portal"),
        """
        [[Several|Multiple]] shippers have called support because they can't log in to the
        booking portal: "Invalid token" right after entering their password. Grafana shows the
        {service} error rate jumping. {impact} [[Driver app logins may be affected too.|Our own
        Okta logins are fine, it's only customer accounts.|]]
        """,
        "P1:4 P2:2",
        services=("auth-service",),
        dup_ok=True,
        impact={
            "P1": ("It's every customer we've heard from, for {dur} minutes now.",),
            "P2": (
                "It's intermittent: about one login in {one_in} fails, and a retry usually works.",
            ),
        },
    ),
    _tpl(
        _I,
        ("SMS notifications not sent", "Recipients not getting delivery SMS", "SMS failures"),
        """
        Recipients aren't getting the "your parcel is on its way" SMS. {impact} In the {service}
        logs:

            WARN provider=sms-primary status=429 msg="rate limit exceeded, message dropped"
        """,
        "P2:5 P3:2",
        services=("notify-gateway",),
        dup_ok=True,
        impact={
            "P2": ("It looks like all SMS since {time}; email and push still work.",),
            "P3": ("It's only recipients of one shipper ({shipper}); the others are fine.",),
        },
    ),
    _tpl(
        _I,
        ("ETAs look off", "ETA missing for {region} depots", "eta-predictor serving fallback?"),
        """
        Since [[the last model rollout|this morning|the deploy yesterday]], ETAs on the tracking
        page [[are missing for the {region} region|look like the fallback model: every parcel
        says 'between 8:00 and 18:00']]. {impact} [[Is {service} OK?|Checked {service} in Grafana,
        latency looks normal.|]]
        """,
        "P2:1 P3:5",
        services=("eta-predictor",),
        impact={
            "P2": ("It's every depot, and support is getting a lot of calls about it.",),
            "P3": (
                "Deliveries are fine, it's only the ETA display.",
                "Drivers aren't affected; recipients just see a wider window.",
            ),
        },
    ),
    _tpl(
        _I,
        ("Depots on fallback route plans", "route-planner missed 23:00", "Fallback routes today"),
        """
        {impact} [[The {service} batch job log shows it timing out on the solver step.|The
        {service} job finished at 01:40, well after the 23:00 deadline.|]] Drivers are going out
        with [[yesterday's|the fallback]] plans, which are [[longer|less efficient]].
        """,
        "P2:4 P3:3",
        services=("route-planner",),
        impact={
            "P2": (
                "{depots_many} of about 140 depots were left on fallback route plans after the "
                "planning deadline.",
            ),
            "P3": ("Only {depots_few} depots were left on fallback plans, below the 10% line.",),
        },
    ),
    _tpl(
        _I,
        ("PayoutDuplicateSuspected firing", "Possible duplicate payouts", "carrier paid twice"),
        """
        [[PayoutDuplicateSuspected fired|A carrier emailed to say they were paid twice]] for
        [[this morning's|today's]] payout run. {impact}

        [[The {service} logs show the same batch processed twice after a pod restart.|It looks
        like two {service} pods picked up the same batch.|]]
        """,
        "P1:1",
        services=("payout-worker",),
        teams=("payments", "sre", "data", "eng-leadership"),
        impact={
            "P1": ("At least {n_carriers} carriers look affected; the money has left our account.",)
        },
    ),
    _tpl(
        _I,
        ("Search results stale in booking", "search not showing new shipments", "Stale search"),
        """
        New shipments don't show up in the search box of the booking site until [[about an
        hour|40 minutes or so]] later. [[{service} lag looks high.|Probably {service}?|]] {impact}
        """,
        "P2:1 P3:5",
        services=("search-indexer",),
        impact={
            "P2": ("It's been {hours} hours now and support can't find shipments for callers.",),
            "P3": ("You can still open them by tracking number, so there's a workaround.",),
        },
    ),
    _tpl(
        _I,
        ("geo-cache evictions", "geo-cache memory near limit", "Redis evicting keys"),
        """
        {service} memory is at [[97|98|99]]% and evictions started around {time}. Route planning
        and ETA latency are creeping up as they miss the cache. {impact}
        """,
        "P2:3 P3:4",
        services=("geo-cache",),
        impact={
            "P2": ("Tonight's route planning might not finish on time if this continues.",),
            "P3": ("No customer impact yet.",),
        },
    ),
    _tpl(
        _I,
        ("Typo in {svc}", "Small layout glitch", "cosmetic bug"),
        """
        [[There's a typo|The logo is squashed|The spacing is off]] in {cosmetic_place} ({service}).
        [[Screenshot attached.|Not a big deal.|]] {impact}
        """,
        "P4:1",
        services=("booking-web", "notify-gateway", "label-renderer"),
    ),
    _tpl(
        _I,
        ("Under-replicated partitions on event-bus", "event-bus producer timeouts", "Kafka issue"),
        """
        {service} ([[kafka-core-euw1|the core cluster]]) has had under-replicated partitions since
        {time}, and producers log timeouts:

            org.apache.kafka.common.errors.TimeoutException: Expiring 57 record(s) for
            shipments.events-3: 30012 ms has passed since batch creation

        {impact}
        """,
        "P1:1 P2:3 P3:2",
        services=("event-bus",),
        dup_ok=True,
        impact={
            "P1": ("Tracking events are being lost for some shipments, which is data loss.",),
            "P2": ("Events are delayed by several minutes but nothing is lost so far.",),
            "P3": ("It's one partition and messages go through after retries.",),
        },
    ),
    _tpl(
        _I,
        ("Fwd: API errors - {shipper}", "FW: 429 Too Many Requests", "Fwd: integration failing"),
        """
        Forwarding from the integration team at {shipper}, can someone look? [[Their account manager
        is asking for an update.|]] Probably {service} rate limits.

        | ---------- Forwarded message ---------
        | From: Integration team <integrations@{shipper_domain}>
        | Subject: API errors
        |
        | Hello Kestrel,
        | since this morning nearly all our calls to your parcel API return 429 Too Many Requests.
        | We have not changed our volumes. Our nightly label batch also failed.
        | Regards

        {impact}
        """,
        "P2:4 P3:2",
        services=("parcel-api",),
        channels="email:6 portal:1",
        impact={
            "P2": ("It's one customer, but a big one, and they're completely blocked.",),
            "P3": ("It might be their own doing: their call volume doubled yesterday.",),
        },
    ),
    _tpl(
        _I,
        ("LedgerImbalanceDetected fired", "ledger imbalance alert", "Ledger imbalance in prod"),
        """
        LedgerImbalanceDetected fired at {time} in #payments-oncall for {service}; [[the
        difference is {amount} on the EUR book|it's a small difference but it hasn't cleared]].
        Payments on-call is [[not answering yet|looking but wanted a ticket]]. {impact}
        """,
        "P1:1",
        services=("ledger",),
        teams=("payments", "sre", "data"),
        impact={"P1": ("Per the severity page this is a SEV1 whatever the amount.",)},
    ),
    _tpl(
        _I,
        ("Carrier admins can't see their drivers", "Driver list empty for carrier", "empty lists"),
        """
        [[Two|Several]] carrier admins say the driver list on their admin page is empty since
        {time}. {impact} The API call returns `200` with `[]` from {service}.
        """,
        "P2:3 P3:3",
        services=("user-directory",),
        impact={
            "P2": ("It's every carrier we've checked so far; they can't assign new drivers.",),
            "P3": ("Only one carrier, and drivers can still log in and work.",),
        },
    ),
    _tpl(
        _I,
        ("Invoices show wrong VAT", "wrong totals on invoices", "Invoice totals wrong"),
        """
        Invoices generated [[this morning|since the last deploy]] by {service} show [[VAT at 0% for
        Polish shippers|totals that don't match the line items]]. {impact}
        """,
        "P2:4 P3:3",
        services=("billing-service",),
        impact={
            "P2": ("Dozens of invoices are affected and they're being emailed to customers.",),
            "P3": ("It's a handful of invoices for one shipper; Finance can reissue them.",),
        },
    ),
    _tpl(
        _I,
        ("Grafana very slow", "dashboards timing out", "Loki queries failing"),
        """
        [[Grafana dashboards take a minute to load|Loki queries time out after 30 s|Tempo traces
        won't open]] since [[this morning|about {time}]]. {impact}
        """,
        "P2:1 P3:5",
        teams=ENG_TEAMS,
        impact={
            "P2": ("We're debugging a SEV2 and can't see the logs.",),
            "P3": ("Internal only, but it makes on-call work painful.",),
        },
    ),
    _tpl(
        _I,
        ("eta-predictor pods crashlooping", "CrashLoopBackOff after model rollout", "eta pods"),
        """
        {service} pods in prod are in CrashLoopBackOff after the model rollout. Log:

            Traceback (most recent call last):
              File "/app/serve.py", line 41, in <module>
                model = load_model(MODEL_URI)
              File "/app/eta/model.py", line 112, in load_model
                raise ModelLoadError("unsupported feature schema")
            eta.model.ModelLoadError: unsupported feature schema

        {impact}
        """,
        "P2:2 P3:3",
        services=("eta-predictor",),
        impact={
            "P2": ("The fallback isn't kicking in, so tracking pages show no ETA at all.",),
            "P3": ("The fallback model is serving, so ETAs are wider but nothing is broken.",),
        },
    ),
    _tpl(
        _I,
        ("{svc} down??", "{svc} 502", "is {svc} down"),
        """
        {svc} down?? getting 502s {impact}
        """,
        "P1:2 P2:2",
        services=("parcel-api", "booking-web", "edge-gateway"),
        channels="slack:6",
        dup_ok=True,
        impact={
            "P1": ("- shippers can't book at all", "from every customer account we tried"),
            "P2": ("on maybe one request in ten", "- most requests still work though"),
        },
    ),
)

DATA_TEMPLATES = (
    _tpl(
        _R,
        (
            "{looker_dashboard} dashboard empty",
            "Looker dashboard shows no data",
            "dashboard broken?",
        ),
        """
        The {looker_dashboard} dashboard in Looker shows [[no data|zeros]] since
        [[yesterday|{recent_date}]]. [[Other dashboards look fine.|The explore shows an error about
        a missing field.|]] {impact}
        """,
        "P2:2 P3:4 P4:1",
        dup_ok=True,
        impact={
            "P3": ("Not urgent today, but the team looks at it every week.", ""),
            "P4": ("Low priority, I only look at it once a month.",),
        },
    ),
    _tpl(
        _R,
        ("Data export for {shipper}", "Shipment volumes for {shipper} QBR", "Need shipment stats"),
        """
        [[Hi data team,|Hello,|Hi,]]

        For [[the quarterly business review|a renewal discussion|an account review]] with
        {shipper} I need monthly shipment volumes and the on-time delivery rate for the last six
        months, split by [[carrier|depot|service level]]. A CSV or a Looker look is fine,
        aggregated only, no recipient data.

        {impact}
        """,
        "P2:3 P3:4 P4:1",
        channels="email:4 portal:3 slack:1",
    ),
    _tpl(
        _R,
        ("New dbt model for returns", "Request: a new fact table", "dbt model request"),
        """
        Could Data Platform add a model for [[returns|failed delivery attempts by reason|carrier
        handovers]]? Today we [[join three staging tables by hand|run the same ad hoc query every
        week]]. Happy to write the first version if someone reviews it. {impact}
        """,
        "P3:3 P4:5",
    ),
    _tpl(
        _R,
        ("BigQuery quotaExceeded", "Query blocked: quota exceeded", "BQ daily quota hit"),
        """
        My queries fail with:

            Quota exceeded: Your usage exceeded quota for QueryUsagePerUserPerDay. (quotaExceeded)

        [[I think one of my queries on raw events forgot the partition filter.|I only ran a few
        queries on marts, so I'm surprised.|]] Can the quota be lifted for today? {impact}
        """,
        "P2:2 P3:4 P4:1",
        impact={
            "P3": ("If not, I can wait until the quota resets.", ""),
            "P4": ("If not, no big deal, it can wait until tomorrow.",),
        },
    ),
    _tpl(
        _R,
        ("On-time rate differs between reports", "Metric mismatch", "which on-time number?"),
        """
        The on-time delivery rate for {month_prev} is {pct_a}% in the Looker dashboard but {pct_b}%
        in the ops weekly report. [[Which one is right?|Are they using different definitions?|]]
        {impact}
        """,
        "P2:1 P3:4 P4:2",
    ),
    _tpl(
        _R,
        ("ETA accuracy by depot", "eta-predictor error stats", "ETA error per region"),
        """
        Could someone pull the ETA error (`eta_error_minutes`) of {service} predictions by depot
        for [[the last quarter|{month_prev}]]? [[We want to see whether the new model helped the
        rural depots.|Product wants it for the roadmap review.|]] {impact}
        """,
        "P3:4 P4:3",
        services=("eta-predictor",),
    ),
    _tpl(
        _R,
        ("fct_shipments not refreshed", "dbt nightly failed?", "Stale data in marts"),
        """
        `marts.fct_shipments` hasn't been updated since [[03:00|yesterday's nightly build]]. [[The
        hourly runs don't seem to have happened either.|I think the nightly dbt run failed.|]]
        {impact}
        """,
        "P2:3 P3:3",
        dup_ok=True,
        impact={"P3": ("Nothing urgent depends on it today.", "")},
    ),
    _tpl(
        _R,
        ("Sample events from staging", "Export of {topic} messages", "test fixture data"),
        """
        For [[a consumer we're building|contract tests|a replay test]] I'd like a sample of about
        1,000 messages from `{topic}` on {service} in staging, as JSON lines. Staging only, no
        production data. {impact}
        """,
        "P3:4 P4:3",
        services=("event-bus",),
        teams=ENG_TEAMS,
    ),
    _tpl(
        _R,
        (
            "Incident stats for board pack",
            "SEV counts per month",
            "Incident numbers for leadership",
        ),
        """
        The VP Engineering asked for the number of incidents per severity per month for the last
        [[6|12]] months, plus the mean time to resolve. [[Is there a dashboard I can use?|Can the
        data team pull it from the incident records?|]] {impact}
        """,
        "P2:3 P3:3",
        teams=("eng-leadership", "sre"),
    ),
    _tpl(
        _R,
        ("Add field to Looker explore", "carrier region in deliveries explore", "explore change"),
        """
        Could you add [[carrier region|depot country|service level]] to the `fct_deliveries`
        explore? I keep exporting to Sheets to join it by hand. {impact}
        """,
        "P3:2 P4:5",
    ),
    _tpl(
        _R,
        ("My scheduled query was disabled", "Scheduled query stopped", "BigQuery schedule removed"),
        """
        A scheduled query in my personal dataset stopped running and now shows as disabled. [[It
        fed a small team sheet.|A team dashboard uses it.]] I read that scheduled queries aren't
        allowed in personal projects - what's the right way to do this in dbt? {impact}
        """,
        "P3:4 P4:3",
    ),
    _tpl(
        _R,
        ("Accounts still on API v1", "API version usage per account", "Who calls the old API?"),
        """
        We're planning the deprecation of the v1 endpoints of {service}. Could I get a list of
        accounts that still called v1 in the last 4 weeks, with call volumes, from
        `fct_api_version_usage`? {impact}
        """,
        "P3:4 P4:2",
        services=("parcel-api",),
    ),
    _tpl(
        _R,
        ("Upload CSV to sandbox", "Sandbox dataset for a CSV", "kf-warehouse-sandbox upload"),
        """
        [[I'd like to|Can I]] upload a CSV of [[depot coordinates|carrier contract rates
        (internal)|public holiday calendars]] to `kf-warehouse-sandbox` to try a join. No
        production or customer data in it. Do I need a dataset created first? {impact}
        """,
        "P3:3 P4:4",
    ),
    _tpl(
        _R,
        ("Finance numbers don't match PSP report", "Recon mismatch for {month_prev}", "PSP recon"),
        """
        The {month_prev} totals in `finance.fct_ledger_recon_daily` don't match the
        [[Stripe|Adyen]] settlement report: we're off by {amount}. [[Could the Fivetran load have
        missed a day?|Is there a time-zone cut-off difference?|]] {impact}
        """,
        "P2:3 P3:3",
        teams=("payments", "data", "eng-leadership"),
    ),
    _tpl(
        _R,
        ("New dashboard for depot KPIs", "Dashboard request", "Looker dashboard for my team"),
        """
        We'd like a Looker dashboard for [[depot KPIs|Driver app adoption|API error rates per
        customer]] that our EM can check weekly. [[We have a rough mockup.|We can define the
        metrics with you.|]] {impact}
        """,
        "P3:3 P4:4",
    ),
    _tpl(
        _R,
        ("who owns {looker_dashboard}?", "dashboard owner", "question about a dashboard"),
        """
        who owns the {looker_dashboard} dashboard? one of the numbers looks odd {impact}
        """,
        "P3:2 P4:3",
        channels="slack:6",
    ),
)

SECURITY_TEMPLATES = (
    _tpl(
        _X,
        (
            "Phishing?",
            "Suspicious email: {phish_subject}",
            "Fwd: {phish_subject}",
            "Reported phish",
        ),
        """
        [[Got this|This landed in my inbox|Received this]] [[this morning|a few minutes ago]], looks
        like phishing. I didn't click anything and I've used the Report phishing button [[as
        well|too]].

        | ---------- Forwarded message ---------
        | From: "IT Support" <helpdesk@{lookalike}>
        | Subject: {phish_subject}
        |
        | {phish_line}

        {impact}
        """,
        "P2:1 P3:5 P4:1",
        channels="email:6 portal:1",
        dup_ok=True,
        impact={
            "P2": (
                "Several people on my team got the same one and one of them isn't sure whether "
                "they clicked.",
            ),
            "P4": ("Pretty obvious one, just letting you know.",),
        },
    ),
    _tpl(
        _X,
        (
            "I think I entered my password on a phishing page",
            "Clicked a phishing link",
            "entered Okta credentials on a fake page",
        ),
        """
        [[I clicked a link in an email about|I fell for an email about]] {phish_topic} and typed
        my Okta password on the page before I noticed the address was {lookalike}. [[I've changed
        my password already.|I haven't changed my password yet, doing it now.|]] [[I denied an Okta
        Verify push that came right after.|I didn't get any Okta Verify prompt.|]] {impact}
        """,
        "P1:1",
        channels="slack:4 email:2 portal:1",
        impact={
            "P1": (
                "Telling you straight away, as the page says. What else should I do?",
                "Please tell me what else to do, I'm at my desk.",
            )
        },
    ),
    _tpl(
        _X,
        (
            "Okta Verify pushes I didn't start",
            "Unexpected MFA prompts",
            "Someone logging in as me?",
        ),
        """
        I got [[three|several|two]] Okta Verify push requests [[at 06:10|just now|over the last ten
        minutes]] that I didn't start. I denied them. [[The location shown was somewhere I've
        never been.|I'm not signed in anywhere new.|]] {impact}
        """,
        "P1:4 P2:1",
        impact={
            "P1": (
                "I understand this means someone may have my password; changing it now.",
                "What should I do next?",
            ),
            "P2": ("It stopped after I changed my password, but I wanted you to know.",),
        },
    ),
    _tpl(
        _X,
        ("Lost laptop", "Laptop lost or stolen", "Missing work laptop"),
        """
        [[I left my work laptop on the train from {travel_city}|My laptop bag was stolen from a
        café in {travel_city}|My laptop is missing after the flight to {travel_city}]] [[about an
        hour ago|last night]]. It's a company MacBook, FileVault is on [[as far as I know|]].
        [[I've reported it to the police.|I've called lost property.|]] {impact}
        """,
        "P1:1",
        impact={"P1": ("Can you lock and wipe it through Jamf?", "Please lock it remotely.")},
    ),
    _tpl(
        _X,
        ("Secret committed to git", "Leaked credential in {svc} repo", "I pushed a key by mistake"),
        """
        I accidentally committed a [[PSP sandbox API key|staging database credential|Slack webhook
        URL]] to a branch of {service} [[about {hours_ago} hours ago|this morning]]. {impact} I've
        removed it in a new commit, but it's still in the history. Should I rotate it in Vault
        myself or wait for Security?
        """,
        "P1:2 P2:3",
        services=(
            "billing-service",
            "parcel-api",
            "route-planner",
            "notify-gateway",
            "driver-sync",
            "payout-worker",
        ),
        teams=ENG_TEAMS,
        impact={
            "P1": (
                "The branch was mirrored to the public SDK repo by the sync job, so it may be "
                "public.",
            ),
            "P2": ("The branch was pushed, but the repo is private to our GitHub organisation.",),
        },
    ),
    _tpl(
        _X,
        ("Credential pasted in Slack", "Token pasted in #{public_channel}", "Secret in Slack"),
        """
        Someone just pasted what looks like [[a database connection string|an API token for a
        carrier integration|a Vault token]] in #{public_channel} while asking for help. [[I've
        asked them to delete the message.|The message is still there.|]] [[About 200 people are in
        that channel.|]] {impact}
        """,
        "P1:3 P2:2",
        impact={
            "P1": ("It looks like a production credential, so I assume it needs rotating now.",),
            "P2": ("It looks like a staging one, but still.",),
        },
    ),
    _tpl(
        _X,
        (
            "Scam SMS using our name",
            "Fake Kestrel redelivery fee SMS",
            "Customers getting scam texts",
        ),
        """
        {shipper} says their customers are getting SMS claiming to be from Kestrel, asking for a
        {small_amount} redelivery fee, with a link to {lookalike}. [[One customer paid.|Screenshots
        attached.|]] {impact}
        """,
        "P2:4 P3:2",
        channels="email:4 portal:2 slack:1",
        dup_ok=True,
        impact={
            "P2": (
                "It's an active campaign against our customers' recipients and the site is "
                "still up.",
            ),
            "P3": ("Only two reports so far.",),
        },
    ),
    _tpl(
        _X,
        ("Lost my company phone", "Phone lost - Okta Verify on it", "lost iPhone"),
        """
        I [[lost|think I lost]] my company iPhone [[at the airport|in a taxi]] in {travel_city}. It
        has Okta Verify, Slack and PagerDuty on it. [[It has a 6-digit PIN.|Find My shows it
        offline.|]] {impact}
        """,
        "P1:3 P2:1",
        impact={
            "P1": ("Please wipe it; I can still sign in from my Mac with Touch ID.",),
            "P2": (
                "I've already wiped it myself through Find My; reporting it as the policy says.",
            ),
        },
    ),
    _tpl(
        _X,
        (
            "Suspicious bank change request",
            "Carrier bank details change email",
            "Fwd: bank details",
        ),
        """
        We (Payments) received an email from a carrier's "finance department" asking us to change
        their payout bank account, [[from a domain that's one letter off their real one|sent from a
        free webmail address]]. We haven't changed anything. [[Forwarding to you as the policy
        says.|]] {impact}
        """,
        "P2:3 P3:2",
        teams=("payments",),
        channels="email:5 portal:1",
        impact={
            "P2": (
                "The next payout run is tomorrow, so if anyone acted on a similar email it "
                "matters.",
            ),
            "P3": ("We're confirming with the carrier by phone as usual.",),
        },
    ),
    _tpl(
        _X,
        ("Possible data exposure in {svc}", "Other shippers' data visible", "IDOR?"),
        """
        While testing I noticed that changing the shipment id in [[the URL|the API call]] of
        {service} returns [[another shipper's shipment, including the recipient's name and
        address|a shipment from a different account]]. {impact}
        """,
        "P1:1",
        services=("parcel-api", "booking-web"),
        teams=ENG_TEAMS,
        impact={
            "P1": (
                "That's customer personal data visible to the wrong customer. I haven't "
                "shared it anywhere.",
            )
        },
    ),
    _tpl(
        _X,
        ("Found a USB stick", "Unknown USB drive in the office", "USB stick in {room}"),
        """
        Found a USB stick [[on the floor|on the table]] in {room}. I haven't plugged it in. [[Left
        it at the walk-up desk.|Where should I drop it?|]] {impact}
        """,
        "P3:4 P4:2",
    ),
    _tpl(
        _X,
        (
            "Weird popup asking to install",
            "Possible malware on laptop",
            "extension I didn't install",
        ),
        """
        [[A Chrome extension I don't remember installing|A popup saying my Mac is infected and to
        call a number|A "PDF converter" extension]] appeared [[after I opened an attachment from a
        supplier|this morning]]. {impact}
        """,
        "P1:1 P2:4",
        impact={
            "P1": (
                "I clicked 'allow' before I realised, so it may be able to read my pages. I've "
                "stopped using the laptop.",
            ),
            "P2": ("I haven't clicked anything in it and I've disconnected from Wi-Fi.",),
        },
    ),
    _tpl(
        _X,
        ("Was that a phishing test?", "Phishing simulation?", "question about a phishing email"),
        """
        Was the [["Q4 bonus letter"|"parcel held in customs"|"Okta password expiry"]] email
        yesterday one of your phishing tests? I reported it with the button. {impact}
        """,
        "P4:1",
    ),
    _tpl(
        _X,
        ("Phone call pretending to be IT", "Vishing attempt", "caller asked for my Okta number"),
        """
        Someone called [[the {hub} reception|me on my mobile]] claiming to be from IT and asked for
        [[the number shown in Okta Verify|my Okta Verify code|my 1Password details]] to "fix my
        account". I hung up and didn't give them anything. {impact}
        """,
        "P2:3 P3:2",
        impact={"P2": ("They knew my name and team, so it seems targeted.",)},
    ),
    _tpl(
        _X,
        ("weird SMS from 'Kestrel IT'", "smishing", "fake IT text"),
        """
        got a weird SMS claiming to be from "Kestrel IT" asking me to reinstall Okta Verify from a
        link. didn't click, forwarded to phishing@kestrel.example {impact}
        """,
        "P3:3 P4:1",
        channels="slack:6",
        dup_ok=True,
    ),
)

EXPENSES_TEMPLATES = (
    _tpl(
        _E,
        (
            "Ledgerly claim blocked - older than 30 days",
            "unlock expense claim",
            "Late expense claim",
        ),
        """
        Ledgerly won't let me submit [[a hotel receipt|my train tickets|a taxi receipt]] from
        {old_date} ({amount}) because it's older than 30 days. [[I was on leave.|The receipt only
        arrived by post last week.|I honestly forgot.]] Can People Ops unlock it? {impact}
        """,
        "P3:5 P4:2",
    ),
    _tpl(
        _E,
        ("Hotel over cap in {cap_city}", "Hotel cap question", "hotel price above limit"),
        """
        I'm going to {cap_city} on {future_date} for [[a customer workshop|a conference|a partner
        meeting]]. The only hotel near the venue with rooms is {hotel_price} per night, a bit above
        the EUR 250 cap. [[Does my EM approve the difference?|Will Ledgerly reject it?|What do I
        do?]] {impact}
        """,
        "P3:4 P4:3",
    ),
    _tpl(
        _E,
        ("Travel booking: {hub} hub visit", "Flights to {hub}", "Travel desk request"),
        """
        Hi Travel desk,

        Could you book [[flights|trains]] and a hotel for a visit to the {hub} hub [[from
        {future_date} for three nights|for the week starting {future_date}]]? Purpose: [[planning
        sessions with {other_team_name}|the team offsite|onboarding my new team members]]. My EM
        approved on Slack (screenshot attached).

        {impact}
        """,
        "P3:5 P4:1",
        channels="email:6",
        impact={"P4": ("The dates are flexible, so pick whatever is cheapest.",)},
    ),
    _tpl(
        _E,
        (
            "Expense not paid",
            "Approved claim missing from payment run",
            "Where's my reimbursement?",
        ),
        """
        My claim for {amount} ([[Lisbon trip|conference travel|home office desk]]) was approved on
        {recent_date} but wasn't in [[last Thursday's|the last]] payment run. [[I changed my bank
        details in Personio recently, could that be it?|Nothing changed on my side.|]] {impact}
        """,
        "P3:5 P4:1",
    ),
    _tpl(
        _E,
        ("Meal allowance question", "Per diem when travelling?", "meals on a business trip"),
        """
        Quick question about meals on a [[two|three]]-day trip to {travel_city}: is the EUR 60 per
        day a per diem or do I claim actual costs? And does a [[hotel breakfast|team dinner]] count
        towards it? {impact}
        """,
        "P3:1 P4:5",
    ),
    _tpl(
        _E,
        ("Ledgerly read the wrong amount", "Currency wrong on receipt", "receipt scan error"),
        """
        Ledgerly scanned my receipt from Kraków as {pln_amount} EUR instead of PLN, so the claim
        shows [[about four times|far more than]] what I spent. [[I can't edit the currency
        field.|I edited it but the approver sees the old value.|]] {impact}
        """,
        "P3:5 P4:2",
    ),
    _tpl(
        _E,
        ("Ledgerly virtual card", "Company card request", "Can I get a travel card?"),
        """
        I travel [[to Lisbon and Kraków most months|for customer workshops about eight times a
        year]]. Could I get a Ledgerly virtual card instead of paying and claiming every time? My
        EM is happy to request it. {impact}
        """,
        "P3:3 P4:4",
    ),
    _tpl(
        _E,
        ("Mileage claim", "Claiming km for a depot visit", "mileage rate"),
        """
        I drove my own car to the depot in {depot_city} and back ({km} km) for [[a Driver app
        pilot|a site visit]]. Do I claim that as mileage in Ledgerly under "Travel - transport",
        and are parking receipts separate? {impact}
        """,
        "P3:2 P4:4",
    ),
    _tpl(
        _E,
        ("Flight cancelled - need rebooking", "Stuck at {travel_city} airport", "rebooking needed"),
        """
        My flight back from {travel_city} [[was cancelled|has been cancelled because of a
        strike]] and the airline's next option is [[two days from now|tomorrow evening]]. [[The
        Travel desk line goes to voicemail.|I'm at the airport now.|]] Can I book an alternative
        myself, and a hotel for tonight? {impact}
        """,
        "P2:1",
        channels="email:3 slack:3",
        impact={
            "P2": (
                "I need to be back for [[my on-call week|a customer meeting]] tomorrow.",
                "I need an answer in the next hour or so.",
            )
        },
    ),
    _tpl(
        _E,
        ("Client dinner pre-approval", "Client entertainment budget", "Dinner with {shipper}"),
        """
        We'd like to take {n_people} people from {shipper} to dinner after the workshop on
        {future_date}. That's within the EUR 80 per head, I think. Is an OK from my EM on Slack
        enough as pre-approval, and can we include wine? {impact}
        """,
        "P3:3 P4:3",
    ),
    _tpl(
        _E,
        ("Ledgerly flagged a duplicate", "Claim marked as duplicate", "duplicate expense warning"),
        """
        Ledgerly flagged my taxi claim as a duplicate, but it's [[two separate rides on the same
        day|the outbound and return trips]] with the same amount ({small_amount}). How do I get it
        through? {impact}
        """,
        "P3:4 P4:3",
    ),
    _tpl(
        _E,
        ("Visa fee for conference", "Can I claim a visa?", "Visa for a trip to {far_city}"),
        """
        I'm speaking at a conference in {far_city} [[early next year|in the spring]] and need a visa
        ({amount}). Is the visa fee reimbursable, and does it go under "Other"? The trip is approved
        by my EM and the VP Engineering. {impact}
        """,
        "P3:4 P4:3",
    ),
    _tpl(
        _E,
        ("Claim waiting for approval", "Approver on leave - claim stuck", "Expense approval stuck"),
        """
        My claim for {big_amount} has been waiting for EM approval since {recent_date}; my EM is on
        [[parental leave|a long holiday]]. Who else can approve it? {impact}
        """,
        "P3:5 P4:1",
    ),
    _tpl(
        _E,
        ("Home office claim rejected", "Setup budget claim for a chair", "Ledgerly: home office"),
        """
        I bought [[an office chair|a desk lamp and a monitor arm|a standing desk]] for {amount} and
        claimed it under "Home office", but it was rejected with "budget exceeded". I'm remote and
        haven't used the EUR 600 setup budget before, [[as far as I know|I think]]. {impact}
        """,
        "P3:4 P4:2",
    ),
    _tpl(
        _E,
        ("Train instead of flight", "Can I take the train to {eu_city}?", "Travel question"),
        """
        For the trip to {eu_city} I'd rather take the train ([[about 7 hours|around 9 hours]]) than
        fly. Is that allowed if it costs a bit more, and does the travel day count as working time?
        {impact}
        """,
        "P3:2 P4:4",
    ),
    _tpl(
        _E,
        ("hotel cap {cap_city}?", "hotel cap", "quick travel q"),
        """
        what's the hotel cap in {cap_city} again? {impact}
        """,
        "P4:1",
        channels="slack:6",
    ),
)

PEOPLE_TEMPLATES = (
    _tpl(
        _P,
        ("Can't request leave in Personio", "Leave request error", "Personio leave booking fails"),
        """
        Personio gives me [[an error|"Request could not be submitted"]] when I try to book
        {leave_days} days of leave in December. [[I have enough days left.|Is this the December rule
        about a third of the team?|]] {impact}
        """,
        "P3:5 P4:1",
    ),
    _tpl(
        _P,
        ("On-call allowance missing from payslip", "Payslip wrong", "{month_prev} on-call pay"),
        """
        My {month_prev} payslip doesn't include the on-call allowance: I was on call [[one
        week|two weeks]] and had {pages} night-time pages. That should be EUR 300 per week plus EUR
        50 per page, if I read the policy right. {impact}
        """,
        "P2:2 P3:5",
        teams=ENG_TEAMS,
    ),
    _tpl(
        _P,
        ("Parental leave question", "Planning parental leave", "Shared parental leave?"),
        """
        [[My partner and I are expecting a baby in|We're expecting a baby around]] {baby_month}.
        I'm employed in [[the UK|Portugal|Poland]]. [[How much notice do I need to give?|How does
        Kestrel's top-up work on top of statutory leave?|Can I split my leave into two blocks?]]
        {impact}
        """,
        "P3:3 P4:4",
        channels="email:4 portal:3",
    ),
    _tpl(
        _P,
        ("Onboarding checklist for a new hire", "New joiner starting {start_date}", "Onboarding"),
        """
        I have a new {joiner_role} starting on {start_date}. [[What do I need to do in Personio
        before day one?|Who assigns the onboarding buddy?|Is there a checklist for the first week I
        should follow?]] [[It's my first hire as an EM.|]] {impact}
        """,
        "P3:5 P4:2",
    ),
    _tpl(
        _P,
        ("Team member leaving", "Offboarding process", "Leaver on {future_date}"),
        """
        One of my engineers has resigned; their last day is {future_date}. What do I need to do for
        the offboarding, and [[how is their unused leave handled|when does the laptop return
        happen|who runs the exit interview]]? {impact}
        """,
        "P3:5 P4:1",
        channels="email:4 portal:3",
    ),
    _tpl(
        _P,
        ("Sick days booked as holiday", "Wrong absence type in Personio", "fix absence record"),
        """
        I recorded [[two|three]] sick days last week as annual leave by mistake in Personio. Can I
        change them myself or does People Ops have to? {impact}
        """,
        "P3:3 P4:4",
    ),
    _tpl(
        _P,
        ("Changing bank details", "New bank account for salary", "bank details update"),
        """
        I've changed banks and updated the account in Personio [[today|yesterday]]. Will it be
        used for this month's salary? {impact}
        """,
        "P2:3 P3:3",
    ),
    _tpl(
        _P,
        ("Learning budget for a conference", "Learning budget: {conference}", "Learning budget"),
        """
        Can I use my learning budget for {conference}? The ticket is {amount} plus [[travel|two
        nights of hotel]]. I haven't used any of the EUR 1,200 this year. [[Does travel come out of
        the same budget?|Do I need EM approval first?|]] {impact}
        """,
        "P3:3 P4:4",
    ),
    _tpl(
        _P,
        ("TOIL after weekend incident", "Time off in lieu", "Weekend incident - TOIL?"),
        """
        I'm not on call but got pulled into the incident on Saturday for about [[three|five]]
        hours. The policy says that gives TOIL. How do I record it in Personio, and does my EM need
        to confirm? {impact}
        """,
        "P3:2 P4:4",
        teams=ENG_TEAMS,
    ),
    _tpl(
        _P,
        ("Employment letter needed", "Letter for a mortgage application", "Proof of employment"),
        """
        Could People Ops send me [[an employment confirmation letter with my salary for a mortgage
        application|a letter confirming my employment for a visa appointment|proof of employment
        for renting a flat]]? {impact}
        """,
        "P2:3 P3:4",
        channels="email:4 portal:3",
        impact={
            "P2": (
                "I need it by [[tomorrow|the day after tomorrow]]: the appointment can't be moved.",
            )
        },
    ),
    _tpl(
        _P,
        ("Relocation support question", "Moving from {hub} to {other_hub}", "relocation"),
        """
        I'm thinking about moving from {hub} to {other_hub} next year. What relocation support is
        there, and does my contract change country? {impact}
        """,
        "P3:1 P4:5",
    ),
    _tpl(
        _P,
        ("Internet stipend missing", "EUR 30 internet allowance not paid", "Remote stipend"),
        """
        I switched to remote [[in the summer|a few months ago]] but I don't see the EUR 30 internet
        stipend in my payslips. Personio shows my work mode as [[Hybrid|Remote]] - could that be
        why? {impact}
        """,
        "P3:5 P4:2",
    ),
    _tpl(
        _P,
        ("Compassionate leave", "Leave - family bereavement", "Time off for a funeral"),
        """
        [[My father passed away last night.|I lost a close relative this week.]] I'll need some
        days off; how do I record compassionate leave, and can someone let my team know? [[My EM
        knows.|]] {impact}
        """,
        "P2:4 P3:1",
        channels="email:4 portal:2 slack:1",
        impact={"P2": ("I'm not working from today.",), "P3": ("",)},
    ),
    _tpl(
        _P,
        ("Carry-over of leave", "Unused leave days", "How many days can I carry over?"),
        """
        I have about {leave_days} days left this year. How many can I carry over, and by when do I
        have to use them? {impact}
        """,
        "P3:1 P4:5",
    ),
    _tpl(
        _P,
        ("Counselling / wellbeing support", "Access to the wellbeing service", "Wellbeing"),
        """
        [[Is there still|How do I access]] the counselling service mentioned in the handbook? I'd
        rather not go through my EM. {impact}
        """,
        "P3:4 P4:1",
        channels="email:4 portal:3",
    ),
    _tpl(
        _P,
        ("payslips?", "where are payslips", "personio payslips"),
        """
        where do I find my payslips in Personio? {impact}
        """,
        "P4:1",
        channels="slack:6",
    ),
)

TEMPLATES: dict[str, tuple[Template, ...]] = {
    "access_request": ACCESS_TEMPLATES,
    "login_mfa": LOGIN_TEMPLATES,
    "hardware": HARDWARE_TEMPLATES,
    "software_licence": SOFTWARE_TEMPLATES,
    "deploy_ci": DEPLOY_TEMPLATES,
    "incident_report": INCIDENT_TEMPLATES,
    "data_request": DATA_TEMPLATES,
    "security_report": SECURITY_TEMPLATES,
    "expenses_travel": EXPENSES_TEMPLATES,
    "hr_people": PEOPLE_TEMPLATES,
}

# A second, minor issue of another category, tucked into ~8% of tickets. None mentions a
# service, so the `service` label stays the main issue's.
ASIDES: dict[str, tuple[str, ...]] = {
    "access_request": (
        "could I get `app-grafana-editor` at some point? No rush.",
        "could someone add me to #payments-oncall? Separate thing, not urgent.",
    ),
    "login_mfa": (
        "Okta asks me for Touch ID twice every morning, is that normal?",
        "my Okta Verify keeps telling me to update the app even though it's up to date.",
    ),
    "hardware": (
        "the left ear cup of my headset is cracked, can I order a new one at some point?",
        "the cable of my dock is fraying, I might need a new one eventually.",
    ),
    "software_licence": (
        "my JetBrains licence shows an expiry warning, do I need to do anything?",
        "is there a spare Miro seat for our team?",
    ),
    "deploy_ci": (
        "the CI queue was slow again this morning, not sure if that's known.",
        "`kctl doctor` warns that my version is one minor behind.",
    ),
    "incident_report": ("Grafana was very slow for me this morning.",),
    "data_request": (
        "is there a Looker dashboard for API usage per customer? Someone mentioned one.",
        "my scratch dataset disappeared, I guess that's the 7-day expiry?",
    ),
    "security_report": (
        "I got another of those 'mailbox full' emails and reported it with the button.",
    ),
    "expenses_travel": (
        "my expense claim from the Lisbon trip is still waiting for approval.",
        "what's the hotel cap in Paris again?",
    ),
    "hr_people": (
        "where do I find my payslips in Personio?",
        "I'm on leave from the 20th, so a colleague may follow up on this.",
    ),
}

# ---------------------------------------------------------------------------------------------
# Slots
# ---------------------------------------------------------------------------------------------

POOLS: dict[str, tuple[str, ...]] = {
    "first_name": (
        "Ana",
        "Bartek",
        "Beatriz",
        "Callum",
        "Chloe",
        "Diogo",
        "Dorota",
        "Ewa",
        "Filipa",
        "Gosia",
        "Harriet",
        "Inês",
        "Jakub",
        "Joana",
        "Kacper",
        "Leonor",
        "Liam",
        "Maja",
        "Mateus",
        "Nadia",
        "Oskar",
        "Priya",
        "Rafael",
        "Rosie",
        "Sofia",
        "Tiago",
        "Tom",
        "Wiktor",
        "Yusuf",
        "Zofia",
    ),
    "dashboard": (
        "SRE / On-call overview",
        "Platform / CI runners",
        "Data Platform / BigQuery spend",
        "Routing / Depot planning",
        "Mobile / Driver app releases",
        "Payments / PSP health",
    ),
    "repo": (
        "rfcs",
        "deploy-config",
        "service-templates",
        "driver-app-ios",
        "driver-app-android",
        "loadtest-scenarios",
        "terraform-aws",
        "warehouse-dbt",
    ),
    "pii_purpose": (
        "investigating a shipper complaint about misdelivered parcels",
        "debugging duplicate recipient records",
        "a data subject request Legal asked us to check",
        "checking address quality for the new routing model",
    ),
    "okta_app": (
        "Zendesk",
        "PagerDuty",
        "Greenhouse",
        "the Stripe dashboard",
        "the Adyen Customer Area",
        "Looker",
    ),
    "private_channel": (
        "payments-oncall",
        "shipments-oncall",
        "routing-oncall",
        "support-escalations",
        "data-oncall",
        "identity-oncall",
    ),
    "jira_key": ("PAY", "SHIP", "ROUTE", "MOB", "DATA", "PLAT", "SEC"),
    "joiner_role": (
        "backend engineer",
        "senior SRE",
        "data engineer",
        "iOS engineer",
        "engineering manager",
        "product designer",
        "QA engineer",
    ),
    "saml_app": ("Jira", "Confluence", "Looker", "Zendesk", "Ledgerly", "Personio", "Greenhouse"),
    "trusted_app": ("GitHub", "the AWS console", "Vault", "BigQuery", "Zendesk"),
    "hub": ("Leeds", "Lisbon", "Kraków"),
    "home_city": ("Porto", "Manchester", "Gdańsk", "Coimbra", "Bristol", "Wrocław", "Edinburgh"),
    "travel_city": ("Amsterdam", "Berlin", "Madrid", "Milan", "Vienna", "Dublin", "Warsaw"),
    "cap_city": ("London", "Paris", "Zurich"),
    "eu_city": ("Paris", "Amsterdam", "Berlin", "Brussels"),
    "far_city": ("Toronto", "Austin", "Singapore", "Bengaluru", "Cape Town"),
    "laptop": ('MacBook Pro 14"', 'MacBook Air 13"', "MacBook Pro", "laptop"),
    "room": (
        "Leeds – Aire",
        "Leeds – Calder",
        "Lisbon – Tejo",
        "Lisbon – Douro",
        "Kraków – Wisła",
        "Kraków – Wawel",
    ),
    "layout": ("Portuguese", "Polish programmer", "UK", "US international"),
    "figma_role": ("mobile engineer", "frontend engineer", "product designer", "product manager"),
    "saas_tool": ("Loom", "Sentry", "Retool", "Balsamiq", "Snagit", "Mural", "Linear"),
    "reclaim_tool": ("Looker", "Figma", "Lucidchart", "Zoom", "Miro", "Postman"),
    "renew_tool": ("Lucidchart", "Zoom", "Miro", "Postman", "Figma"),
    "utility": (
        "a window manager app",
        "a Markdown editor",
        "a screenshot tool",
        "a JSON viewer",
        "a clipboard manager",
    ),
    "shipper": (
        "Northway Retail",
        "Brightbox Home",
        "Pinewood Pharma",
        "Tejo Wines",
        "Wisła Outdoor",
        "Harbour & Hale",
        "Greenleaf Grocery",
        "Atlas Autoparts",
        "Lumen Publishing",
    ),
    "lookalike": (
        "kestrel-delivery.info",
        "kestrelparcel.top",
        "kestre1-freight.com",
        "kestrel-support.net",
        "kestrel-helpdesk.co",
    ),
    "phish_topic": (
        "a shared document from Finance",
        "my mailbox being full",
        "an expiring Okta session",
        "a parcel held at customs",
        "a Q4 bonus letter",
    ),
    "region": ("Yorkshire", "North West England", "Greater Lisbon", "Porto", "Lesser Poland"),
    "depot_city": (
        "Leeds",
        "Manchester",
        "Porto",
        "Lisbon",
        "Kraków",
        "Wrocław",
        "Birmingham",
        "Coimbra",
        "Gdańsk",
        "Bristol",
    ),
    "topic": ("shipments.events", "tracking.events", "billing.invoices", "driver.scans"),
    "sev": ("SEV1", "SEV2"),
    "config_var": (
        "LOG_LEVEL=debug",
        "FEATURE_BATCH_LABELS=true",
        "HTTP_TIMEOUT_MS=8000",
        "DB_POOL_SIZE=40",
    ),
    "conference": (
        "Cloud Native Days Lisbon",
        "the Logistics Software Summit",
        "Platform Engineering Europe",
        "a Kubernetes conference in Amsterdam",
        "DataOps Days",
    ),
    "baby_month": ("January", "February", "March", "April"),
    "public_channel": ("deploys", "sre-help", "platform-help", "it-help"),
    "http_error": (
        "HTTP 503 upstream connect error or disconnect/reset before headers. reset reason: "
        "overflow",
        'HTTP 500 {"error":"internal_error","message":"unexpected error, please retry"}',
        "HTTP 504 Gateway Timeout after 15000 ms",
    ),
    "looker_dashboard": (
        "Ops / On-time delivery",
        "Commercial / Shipper volumes",
        "Finance / Revenue by PSP",
        "Routing / Depot performance",
        "Mobile / Driver adoption",
    ),
}

# A phishing mail's subject and first line, which must belong together.
PHISHING_MAILS: tuple[tuple[str, str], ...] = (
    (
        "Your mailbox is almost full",
        "Click here to validate your mailbox within 24 hours or it will be suspended.",
    ),
    (
        "Action required: validate your account",
        "We noticed unusual activity. Confirm your identity to avoid losing access.",
    ),
    (
        "Shared document: Q4 bonus letter",
        "A document has been shared with you. Sign in with your company account to view it.",
    ),
    (
        "Your Okta session has expired",
        "Your password expires today. Keep your current password by signing in below.",
    ),
)

COSMETIC_PLACES: dict[str, tuple[str, ...]] = {
    "booking-web": ("the shipment form of the booking site", "the footer of the booking site"),
    "notify-gateway": ("the delivery confirmation email", "the 'out for delivery' SMS"),
    "label-renderer": ("the footer of the A6 labels", "the returns label"),
}


# English month names, independent of the machine's locale.
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _number(low: int, high: int) -> Callable[[_Ctx], str]:
    """A slot that draws an integer in ``[low, high]``."""
    return lambda ctx: str(ctx.rng.randint(low, high))


def _money(low: int, high: int) -> Callable[[_Ctx], str]:
    """A slot that draws an amount in euros, written the way this reporter writes money."""

    def draw(ctx: _Ctx) -> str:
        cents = ctx.rng.randrange(low * 100, high * 100)
        english = f"{cents // 100:,}.{cents % 100:02d}"
        continental = english.replace(",", " ").replace(".", ",")
        style = ctx.style("money", ("EUR {e}", "€{e}", "{e} EUR", "{c} €"))
        return style.format(e=english, c=continental)

    return draw


def _date(low: int, high: int) -> Callable[[_Ctx], str]:
    """A slot that draws a date ``low``..``high`` days after the ticket (negative: before it)."""

    def draw(ctx: _Ctx) -> str:
        day = ctx.created + timedelta(days=ctx.rng.randint(low, high))
        style = ctx.style("date", ("{d} {B}", "{d} {b}", "{d}/{m}", "{B} {d}"))
        month = MONTHS[day.month - 1]
        return style.format(d=day.day, m=f"{day.month:02d}", B=month, b=month[:3])

    return draw


def _clock(ctx: _Ctx) -> str:
    """A time of day shortly before the ticket was written (UTC, as the dashboards show)."""
    moment = ctx.created - timedelta(minutes=ctx.rng.randint(5, 90))
    return f"{moment:%H:%M}"


def _version(ctx: _Ctx) -> str:
    major, minor, patch = ctx.rng.randint(1, 5), ctx.rng.randint(2, 30), ctx.rng.randint(1, 9)
    ctx.values["prev_version"] = f"{major}.{minor}.{patch - 1}"
    return f"{major}.{minor}.{patch}"


def _prev_version(ctx: _Ctx) -> str:
    ctx.slot("version")
    return ctx.values["prev_version"]


def _pct_pair(ctx: _Ctx) -> str:
    first = ctx.rng.randint(880, 960)
    second = first - ctx.rng.randint(15, 45)
    ctx.values["pct_b"] = f"{second / 10:.1f}"
    return f"{first / 10:.1f}"


def _pct_b(ctx: _Ctx) -> str:
    ctx.slot("pct_a")
    return ctx.values["pct_b"]


def _other_team_name(ctx: _Ctx) -> str:
    return TEAMS[ctx.rng.choice([t for t in ENG_TEAMS if t != ctx.team])]


def _other_hub(ctx: _Ctx) -> str:
    hub = ctx.slot("hub")
    return ctx.rng.choice([h for h in POOLS["hub"] if h != hub])


def _shipper_domain(ctx: _Ctx) -> str:
    letters = re.sub(r"[^a-z]", "", ctx.slot("shipper").lower().replace("ł", "l"))
    return f"{letters}.example"


def _phish_subject(ctx: _Ctx) -> str:
    subject, line = ctx.rng.choice(PHISHING_MAILS)
    ctx.values["phish_line"] = line
    return subject


def _phish_line(ctx: _Ctx) -> str:
    ctx.slot("phish_subject")
    return ctx.values["phish_line"]


def _cosmetic_place(ctx: _Ctx) -> str:
    return ctx.rng.choice(COSMETIC_PLACES[ctx.service or "booking-web"])


def _month_prev(ctx: _Ctx) -> str:
    return MONTHS[(ctx.created.replace(day=1) - timedelta(days=1)).month - 1]


def _p99(low: int, high: int) -> Callable[[_Ctx], str]:
    return lambda ctx: f"{ctx.rng.randint(low, high) / 10:.1f}"


SLOT_FUNCS: dict[str, Callable[[_Ctx], str]] = {
    "version": _version,
    "prev_version": _prev_version,
    "pct_a": _pct_pair,
    "pct_b": _pct_b,
    "time": _clock,
    "other_team_name": _other_team_name,
    "other_hub": _other_hub,
    "shipper_domain": _shipper_domain,
    "phish_subject": _phish_subject,
    "phish_line": _phish_line,
    "cosmetic_place": _cosmetic_place,
    "month_prev": _month_prev,
    "recent_date": _date(-20, -2),
    "old_date": _date(-70, -35),
    "future_date": _date(8, 40),
    "start_date": _date(6, 30),
    "soon_date": _date(1, 2),
    "small_amount": _money(8, 45),
    "amount": _money(40, 480),
    "big_amount": _money(520, 1900),
    "hotel_price": _money(260, 320),
    "pln_amount": _number(120, 480),
    "seats": _number(3, 15),
    "n_people": _number(3, 8),
    "km": _number(40, 380),
    "soak_min": _number(3, 28),
    "chg": _number(1000, 2999),
    "cve": _number(10000, 49999),
    "dur": _number(5, 45),
    "pct_high": _number(30, 90),
    "pct_mid": _number(6, 20),
    "p99_high": _p99(26, 60),
    "p99_low": _p99(5, 7),
    "backlog_high": _number(35, 140),
    "backlog_low": _number(8, 25),
    "depots_many": _number(15, 45),
    "depots_few": _number(2, 9),
    "n_carriers": _number(3, 20),
    "hours": _number(2, 5),
    "hours_ago": _number(1, 6),
    "one_in": _number(3, 10),
    "leave_days": _number(3, 12),
    "pages": _number(1, 6),
}

# Slot values that belong to the person writing, not to the issue: a near-duplicate redraws them
# (the impact sentence is redrawn at the same priority, so the second report words it its own way).
PERSONAL_SLOTS = ("first_name", "role", "impact")

_ALTERNATION = re.compile(r"\[\[([^\[\]]*)\]\]")
_SLOT = re.compile(r"\{([a-z][a-z0-9_]*)\}")


@dataclass
class _Ctx:
    """Everything one ticket's rendering needs: its random source, labels and chosen values."""

    rng: random.Random
    template: Template
    priority: str
    created: datetime
    team: str
    service: str | None
    values: dict[str, str] = field(default_factory=dict)
    styles: dict[str, str] = field(default_factory=dict)

    def style(self, name: str, options: Sequence[str]) -> str:
        """One habit per writer (how they write dates, money, service names), kept throughout."""
        if name not in self.styles:
            self.styles[name] = self.rng.choice(list(options))
        return self.styles[name]

    def render(self, text: str) -> str:
        """Resolve ``[[a|b]]`` choices, then ``{slot}`` values (which may contain both)."""
        text = _ALTERNATION.sub(lambda m: self.rng.choice(m.group(1).split("|")), text)
        return _SLOT.sub(lambda m: self.slot(m.group(1)), text)

    def slot(self, name: str) -> str:
        fixed = self._fixed(name)
        if fixed is not None:
            return fixed
        if name not in self.values:
            self.values[name] = self._draw(name)
        return self.values[name]

    def _fixed(self, name: str) -> str | None:
        """Slots that follow from the ticket's labels rather than from a draw."""
        service = self.service or ""
        owner = SERVICES.get(service, "")
        fixed = {
            "svc": service,
            "owner_team": owner,
            "owner_name": TEAMS.get(owner, ""),
            "team": self.team,
            "team_name": TEAMS[self.team],
        }
        if name == "service":
            return self._styled_service()
        return fixed.get(name)

    def _styled_service(self) -> str:
        """Most people write `parcel-api`; some drop the backticks or the hyphen."""
        service = self.service or ""
        style = self.style("service", ("code", "code", "code", "bare", "bare", "spaced"))
        if style == "code":
            return f"`{service}`"
        if style == "spaced":
            return service.replace("-", " ")
        return service

    def _draw(self, name: str) -> str:
        if name == "impact":
            pool = self.template.impact.get(self.priority) or IMPACT[self.template.category].get(
                self.priority, ()
            )
            if not pool:
                raise DatasetError(
                    f"No impact sentence for {self.template.category} at {self.priority}: add one "
                    "to IMPACT or to the template's impact mapping."
                )
            return self.render(self.rng.choice(list(pool)))
        if name == "role":
            return self.rng.choice(list(ROLES[self.team]))
        if name in SLOT_FUNCS:
            return SLOT_FUNCS[name](self)
        if name in POOLS:
            return self.rng.choice(list(POOLS[name]))
        raise DatasetError(
            f"Template slot {{{name}}} has no value: add it to POOLS or SLOT_FUNCS in "
            "tickets_build.py, or fix the spelling in the template."
        )


# ---------------------------------------------------------------------------------------------
# Framing: greetings, signatures, asides
# ---------------------------------------------------------------------------------------------

_IT_CATEGORIES = ("access_request", "login_mfa", "hardware", "software_licence", "security_report")
_PEOPLE_CATEGORIES = ("expenses_travel", "hr_people")
GREETINGS: dict[str, tuple[str, ...]] = {
    "it": ("Hi,", "Hello,", "Hi IT,", "Hi team,", "Dear Service Desk,", "Good morning,"),
    "people": ("Hi,", "Hello,", "Hi People team,", "Dear People Ops,", "Hi all,"),
    "eng": ("Hi,", "Hi all,", "Hello,", "Hi team,", "Morning all,"),
    "slack": ("hey all", "hi :wave:", "morning!", "hi team", "hey", "hello"),
}
EMAIL_SIGNATURES = (
    "Thanks,\n{first_name}",
    "Best,\n{first_name}",
    "Thanks!\n{first_name}",
    "Kind regards,\n{first_name}\n{role}, {team_name}\nKestrel Freight",
    "Cheers,\n{first_name} ({team_name})",
    "Many thanks,\n{first_name}\n{role} | {team_name} | Kestrel Freight",
    "Sent from my iPhone",
)
PORTAL_SIGNATURES = ("Thanks, {first_name}", "{first_name}", "Thank you,\n{first_name}")
SLACK_SIGNOFFS = ("thanks!", "ty", "thx :pray:", "cheers")
_GREETING_WORDS = re.compile(r"^(hi|hello|hey|dear|morning|good morning)\b", re.IGNORECASE)


def _greeting_pool(category: str, channel: str) -> tuple[str, ...]:
    if channel == "slack":
        return GREETINGS["slack"]
    if category in _IT_CATEGORIES:
        return GREETINGS["it"]
    if category in _PEOPLE_CATEGORIES:
        return GREETINGS["people"]
    return GREETINGS["eng"]


def _add_aside(ctx: _Ctx, body: str) -> str:
    """Mention a second, minor issue: after the main one, or before it when the main is urgent."""
    others = [c for c in ASIDES if c != ctx.template.category]
    aside = ctx.rng.choice(ASIDES[ctx.rng.choice(others)])
    if ctx.priority in ("P1", "P2") and ctx.rng.random() < 0.3:
        opener = ctx.rng.choice(["Quick unrelated one first", "Two things", "Unrelated first"])
        lead = ctx.rng.choice(["The main thing", "More importantly", "Now the real issue"])
        return f"{opener}: {aside}\n\n{lead}: {body}"
    connector = ctx.rng.choice(["Also, ", "PS: ", "Unrelated, but ", "Side note: "])
    return f"{body}\n\n{connector}{aside}"


def _frame(ctx: _Ctx, body: str, channel: str) -> str:
    """Wrap the body as the channel would carry it: greeting, sign-off, signature."""
    greet_p, sign_p = {"email": (0.8, 0.75), "portal": (0.25, 0.35), "slack": (0.35, 0.2)}[channel]
    if not _GREETING_WORDS.match(body) and ctx.rng.random() < greet_p:
        greeting = ctx.rng.choice(_greeting_pool(ctx.template.category, channel))
        body = f"{greeting}\n{body}" if channel == "slack" else f"{greeting}\n\n{body}"
    if ctx.template.signed or ctx.rng.random() >= sign_p:
        return body
    if channel == "slack":
        return f"{body} {ctx.rng.choice(SLACK_SIGNOFFS)}"
    pool = EMAIL_SIGNATURES if channel == "email" else PORTAL_SIGNATURES
    return f"{body}\n\n{ctx.render(ctx.rng.choice(pool))}"


# ---------------------------------------------------------------------------------------------
# Noise
# ---------------------------------------------------------------------------------------------

_KEY_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_NEIGHBOURS: dict[str, str] = {
    row[i]: row[max(i - 1, 0) : i] + row[i + 1 : i + 2]
    for row in _KEY_ROWS
    for i in range(len(row))
}
_PROTECTED = re.compile(r"```.*?```|`[^`\n]*`|^(?: {4}|\t)[^\n]*", re.DOTALL | re.MULTILINE)
_WORD = re.compile(r"(?<![\w@./:-])[a-z]{4,}(?![\w@/:-]|\.\w)")


def _typo(rng: random.Random, word: str) -> str:
    """One human slip: swap two adjacent letters, drop one, double one, or hit the next key."""
    i = rng.randrange(1, len(word) - 1)
    kind = rng.choice(["swap", "drop", "double", "neighbour"])
    if kind == "swap" and word[i] != word[i + 1]:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind == "drop":
        return word[:i] + word[i + 1 :]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    return word[:i] + rng.choice(_NEIGHBOURS[word[i]]) + word[i + 1 :]


def _add_typos(rng: random.Random, text: str, count: int) -> str:
    """Misspell ``count`` prose words; code, commands, pasted logs and addresses stay intact."""
    protected = [m.span() for m in _PROTECTED.finditer(text)]
    words = [m for m in _WORD.finditer(text) if not any(a <= m.start() < b for a, b in protected)]
    if not words:
        return text
    chosen = sorted(rng.sample(words, min(count, len(words))), key=lambda m: m.start())
    for match in reversed(chosen):
        start, end = match.span()
        text = text[:start] + _typo(rng, match.group()) + text[end:]
    return text


def _noisy_subject(rng: random.Random, subject: str, priority: str, stats: Counter[str]) -> str:
    """Subjects as people type them: lower case, SHOUTED, empty, or 'URGENT' on a normal request."""
    if rng.random() < P_SUBJECT_TYPO:
        subject = _add_typos(rng, subject, 1)
        stats["subject_typo"] += 1
    roll = rng.random()
    if roll < P_SUBJECT_MISSING:
        stats["subject_missing"] += 1
        return ""
    if roll < P_SUBJECT_MISSING + P_SUBJECT_SHOUTED:
        stats["subject_shouted"] += 1
        subject = subject.upper()
    elif roll < P_SUBJECT_MISSING + P_SUBJECT_SHOUTED + P_SUBJECT_LOWER:
        stats["subject_lower"] += 1
        subject = subject.lower()
    if priority in ("P3", "P4") and rng.random() < P_URGENCY_INFLATED:
        stats["subject_urgency_inflated"] += 1
        subject = rng.choice(["URGENT: {}", "{} - ASAP", "{}!!", "[urgent] {}"]).format(subject)
    return subject


def _tidy(text: str) -> str:
    """Remove what empty choices leave behind: double spaces, trailing blanks, blank runs."""
    text = re.sub(r"(?<=\S) {2,}", " ", text)
    text = re.sub(r"(?m)^ {1,3}(?=\S)", "", text)  # prose only: code is indented by 4+
    text = re.sub(r" +([.,!?])(?=\s|$)", r"\1", text)
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


# ---------------------------------------------------------------------------------------------
# Assembly
# ---------------------------------------------------------------------------------------------


@dataclass
class _Draft:
    """A rendered ticket before ids, split and label noise are assigned."""

    order: int
    template_no: int  # position in TEMPLATES[category]; the split keeps templates together
    created: datetime
    channel: str
    team: str
    subject: str
    body: str
    category: str
    priority: str
    service: str | None
    ctx: _Ctx


def _weighted(rng: random.Random, pairs: Sequence[tuple[str, int]]) -> str:
    names = [name for name, _ in pairs]
    return rng.choices(names, weights=[weight for _, weight in pairs])[0]


DEFAULT_CHANNELS: dict[str, str] = {
    "access_request": "portal:4 slack:4 email:2",
    "login_mfa": "portal:4 slack:3 email:3",
    "hardware": "portal:5 slack:3 email:2",
    "software_licence": "portal:6 slack:2 email:2",
    "deploy_ci": "slack:6 portal:3 email:1",
    "incident_report": "slack:6 portal:2 email:2",
    "data_request": "portal:4 slack:4 email:2",
    "security_report": "email:4 slack:4 portal:2",
    "expenses_travel": "email:5 portal:3 slack:2",
    "hr_people": "email:4 portal:4 slack:2",
}
_NOT_FROM: dict[str, tuple[str, ...]] = {  # teams unlikely to file such a ticket
    "deploy_ci": ("it", "people"),
    "incident_report": ("it", "people"),
    "access_request": ("it",),
    "login_mfa": ("it",),
    "hardware": ("it",),
    "software_licence": ("it",),
    "security_report": ("security",),
    "expenses_travel": ("people",),
    "hr_people": ("people",),
}


def _pick_team(rng: random.Random, template: Template, service: str | None) -> str:
    """Reporters come from the template's teams, often the service's owners, else anyone."""
    if template.teams:
        candidates = list(template.teams)
    elif service and rng.random() < 0.5:
        return SERVICES[service]
    else:
        excluded = _NOT_FROM.get(template.category, ())
        candidates = [team for team in TEAMS if team not in excluded]
    return _weighted(rng, [(team, TEAM_WEIGHTS[team]) for team in candidates])


_DAY_WEIGHTS = (1.15, 1.0, 1.0, 1.0, 0.85, 0.1, 0.08)  # Monday .. Sunday
_OFFICE_HOURS = tuple(range(7, 18))  # UTC; 08:00-18:00 UK time for most of the window
_HOUR_WEIGHTS = (4, 8, 9, 8, 6, 6, 7, 7, 6, 5, 3)


def _pick_created(rng: random.Random, category: str, priority: str) -> datetime:
    """Office-hours heavy; a live incident or security event may come at any hour."""
    days = list(range(WINDOW_DAYS))
    weights = [_DAY_WEIGHTS[(WINDOW_START + timedelta(days=d)).weekday()] for d in days]
    day = rng.choices(days, weights=weights)[0]
    anytime = priority == "P1" and category in ("incident_report", "security_report")
    if anytime and rng.random() < 0.4:
        hour = rng.randrange(24)
    elif rng.random() < 0.88:
        hour = rng.choices(_OFFICE_HOURS, weights=_HOUR_WEIGHTS)[0]
    else:
        hour = rng.choice([5, 6, 18, 19, 20, 21, 22])
    return WINDOW_START + timedelta(days=day, hours=hour, minutes=rng.randrange(60))


def _render(
    rng: random.Random,
    template_no: int,
    template: Template,
    order: int,
    stats: Counter[str],
    source: _Draft | None = None,
) -> _Draft:
    """Render one ticket, or a second report of ``source``'s issue by someone else."""
    if source is None:
        priority = _weighted(rng, template.priorities)
        created = _pick_created(rng, template.category, priority)
        service = rng.choice(list(template.services)) if template.services else None
        values: dict[str, str] = {}
    else:
        priority, service = source.priority, source.service
        created = source.created + timedelta(minutes=rng.randint(4, 150))
        values = {k: v for k, v in source.ctx.values.items() if k not in PERSONAL_SLOTS}
    channel = _weighted(rng, template.channels or _weights(DEFAULT_CHANNELS[template.category]))
    team = _pick_team(rng, template, service)
    ctx = _Ctx(rng, template, priority, created, team, service, values=values)
    subject = _tidy(ctx.render(rng.choice(list(template.subjects))))
    body = ctx.render(template.body)
    if rng.random() < P_ASIDE:
        body = _add_aside(ctx, _tidy(body))
        stats["mixed_topic"] += 1
    body = _frame(ctx, _tidy(body), channel)
    if rng.random() < P_BODY_TYPOS:
        body = _add_typos(rng, body, rng.randint(1, 3))
        stats["body_typos"] += 1
    subject = _noisy_subject(rng, subject, priority, stats)
    return _Draft(
        order=order,
        template_no=template_no,
        created=created,
        channel=channel,
        team=team,
        subject=subject,
        body=_tidy(body),
        category=template.category,
        priority=priority,
        service=service,
        ctx=ctx,
    )


def _plan(rng: random.Random, n_templates: int, count: int) -> list[int]:
    """Use every template about equally often, in a shuffled order."""
    rounds = -(-count // n_templates)
    plan = [number for _ in range(rounds) for number in range(n_templates)]
    rng.shuffle(plan)
    return plan[:count]


def _category_drafts(
    rng: random.Random, category: str, start: int, stats: Counter[str]
) -> list[_Draft]:
    """All tickets of one category: originals, then second reports of some of them."""
    n_dups = DUPLICATES[category]
    templates = TEMPLATES[category]
    plan = _plan(rng, len(templates), CATEGORY_COUNTS[category] - n_dups)
    drafts = [_render(rng, k, templates[k], start + i, stats) for i, k in enumerate(plan)]
    eligible = [d for d in drafts if d.ctx.template.dup_ok]
    if len(eligible) < n_dups:
        eligible = drafts
    for source in rng.sample(eligible, n_dups):
        k = source.template_no
        drafts.append(_render(rng, k, templates[k], start + len(drafts), stats, source))
        stats["near_duplicate"] += 1
    return drafts


def _assign_splits(rng: random.Random, drafts: Sequence[_Draft]) -> dict[int, str]:
    """About 20% of each category goes to test, as whole templates.

    A random split would put re-fillings of the same template on both sides, and a
    bag-of-words classifier then scores about 99% on category. Holding out whole templates
    (and with them every near-duplicate) makes the test set measure generalisation to tickets
    phrased in ways the training set never saw.
    """
    splits: dict[int, str] = {}
    for category, templates in TEMPLATES.items():
        mine = [d for d in drafts if d.category == category]
        sizes = [sum(d.template_no == k for d in mine) for k in range(len(templates))]
        target = TEST_SHARE * len(mine)
        numbers = list(range(len(templates)))
        rng.shuffle(numbers)
        held_out: list[int] = []
        in_test = 0
        for k in numbers:  # fill up to the target, overshooting it by one ticket at most
            if in_test + sizes[k] <= target + 1:
                held_out.append(k)
                in_test += sizes[k]
        for draft in mine:
            splits[draft.order] = "test" if draft.template_no in held_out else "train"
    return splits


def _label_noise(rng: random.Random, priorities: list[str], stats: Counter[str]) -> list[str]:
    """Move an exact share of priorities one step, as a hurried human triager would."""
    order = ("P1", "P2", "P3", "P4")
    noisy = list(priorities)
    for i in sorted(rng.sample(range(len(noisy)), round(LABEL_NOISE_SHARE * len(noisy)))):
        level = order.index(noisy[i])
        step = 1 if level == 0 else -1 if level == 3 else rng.choice([-1, 1])
        noisy[i] = order[level + step]
        stats["priority_one_step_off"] += 1
    return noisy


_KEYLIKE = re.compile(
    r"(?=[A-Za-z0-9_+/=-]*\d)(?=[A-Za-z0-9_+/=-]*[A-Za-z])[A-Za-z0-9_+/=-]{24,}"
    r"|AKIA|ghp_|sk_live|xox[bp]-|-----BEGIN"
)


def _check(tickets: Sequence[dict[str, Any]]) -> None:
    """Fail the build on what would embarrass a lesson: leftovers, odd labels, key-like strings."""
    for ticket in tickets:
        text = f"{ticket['subject']}\n{ticket['body']}"
        if _SLOT.search(text) or "[[" in text or "]]" in text:
            raise DatasetError(f"{ticket['id']} has an unfilled placeholder: {text[:120]!r}")
        if _KEYLIKE.search(text):
            raise DatasetError(
                f"{ticket['id']} contains a key-like string; describe leaks, never paste keys."
            )
        if ticket["service"] is not None and ticket["service"] not in SERVICES:
            raise DatasetError(f"{ticket['id']} has unknown service {ticket['service']!r}.")


def generate(seed: int = DEFAULT_SEED) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Build the tickets and count the noise applied (the counts go into the datasheet)."""
    rng = random.Random(seed)
    stats: Counter[str] = Counter()
    drafts: list[_Draft] = []
    for category in CATEGORY_COUNTS:
        drafts.extend(_category_drafts(rng, category, len(drafts), stats))
    drafts.sort(key=lambda d: (d.created, d.order))
    splits = _assign_splits(rng, drafts)
    priorities = _label_noise(rng, [d.priority for d in drafts], stats)
    tickets = [
        {
            "id": f"TCK-{number:04d}",
            "created": draft.created.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "channel": draft.channel,
            "reporter_team": draft.team,
            "subject": draft.subject,
            "body": draft.body,
            "category": draft.category,
            "priority": priority,
            "service": draft.service,
            "split": splits[draft.order],
        }
        for number, (draft, priority) in enumerate(zip(drafts, priorities, strict=True), start=1)
    ]
    _check(tickets)
    return tickets, dict(sorted(stats.items()))


def build_tickets(seed: int = DEFAULT_SEED) -> list[dict[str, Any]]:
    """The labelled tickets for ``seed``, sorted by id (which is also creation order)."""
    return generate(seed)[0]


def to_jsonl(tickets: Sequence[Mapping[str, Any]]) -> str:
    """One JSON object per line, keys in FIELDS order, UTF-8 text as is, trailing newline."""
    return "".join(
        json.dumps({key: ticket[key] for key in FIELDS}, ensure_ascii=False) + "\n"
        for ticket in tickets
    )


# ---------------------------------------------------------------------------------------------
# Datasheet tables and loading
# ---------------------------------------------------------------------------------------------


def _count_table(tickets: Sequence[Mapping[str, Any]], column: str, labels: Sequence[str]) -> str:
    rows = [f"| {column} | train | test | all |", "|---|---:|---:|---:|"]
    totals = {s: sum(t["split"] == s for t in tickets) for s in SPLITS}
    for label in labels:
        cells = []
        for split in (*SPLITS, None):
            subset = [t for t in tickets if split is None or t["split"] == split]
            n = sum(t[column] == label for t in subset)
            cells.append(f"{n} ({100 * n / len(subset):.1f}%)")
        rows.append(f"| `{label}` | " + " | ".join(cells) + " |")
    rows.append(f"| total | {totals['train']} | {totals['test']} | {len(tickets)} |")
    return "\n".join(rows)


def datasheet_tables(tickets: Sequence[Mapping[str, Any]], noise: Mapping[str, int]) -> str:
    """The Markdown tables pasted into the datasheet, README.md (a test checks they agree)."""
    with_service = sum(t["service"] is not None for t in tickets)
    channel_counts = Counter(t["channel"] for t in tickets)
    lines = [
        _count_table(tickets, "category", list(CATEGORIES)),
        "",
        _count_table(tickets, "priority", list(PRIORITIES)),
        "",
        "| noise or property | tickets |",
        "|---|---:|",
        *(f"| {name.replace('_', ' ')} | {count} |" for name, count in noise.items()),
        f"| service not null | {with_service} |",
        *(f"| channel {c} | {channel_counts[c]} |" for c in CHANNELS),
    ]
    return "\n".join(lines)


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
            f"{path.name} is missing from {path.parent.name}/: rebuild it with "
            "`python -m course_lib.datasets.tickets_build`."
        )
    frame = pd.read_json(path, lines=True, dtype=False)
    frame["created"] = pd.to_datetime(frame["created"], format="%Y-%m-%dT%H:%M:%SZ", utc=True)
    if split is not None:
        frame = frame[frame["split"] == split].reset_index(drop=True)
    return frame


def main(argv: Sequence[str] | None = None) -> int:
    """Write tickets.jsonl (or, with --check, verify it) and print the datasheet tables."""
    parser = argparse.ArgumentParser(description="Build the support-ticket dataset.")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--check", action="store_true", help="compare with the committed file")
    parser.add_argument("--output", type=Path, default=TICKETS_PATH)
    args = parser.parse_args(argv)
    tickets, noise = generate(args.seed)
    data = to_jsonl(tickets).encode("utf-8")
    if args.check:
        if not args.output.exists() or args.output.read_bytes() != data:
            print(f"{args.output.name} is out of date: run without --check to rewrite it.")
            return 1
        print(f"{args.output.name} is up to date ({len(tickets)} tickets).")
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_bytes(data)
    print(f"Wrote {len(tickets)} tickets to {args.output.name}.\n")
    print(datasheet_tables(tickets, noise))
    return 0


if __name__ == "__main__":
    sys.exit(main())
