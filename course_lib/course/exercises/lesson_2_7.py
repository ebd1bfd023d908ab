"""Checkers of lesson 2.7, "Guardrails and AI security"."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from course_lib.course.checking import NotYet, Probe, exercise

SOLUTION = "solutions/2_engineering_patterns/27_guardrails.ipynb"


# -- 2.7.1 links off the allow-list -----------------------------------------------------------


def untrusted_urls(text: str, allowed_domains: list[str]) -> list[str]:
    """The reference: the URLs whose host is off the allow-list, from course_lib.guardrails."""
    from course_lib.guardrails import untrusted_links

    return [link.url for link in untrusted_links(text, allowed_domains)]


_KESTREL = ["kestrel.example"]

# (text, allowed domains, the hosts expected, in order, why)
_LINK_CASES: list[tuple[str, list[str], list[str], str]] = [
    (
        "VPN set-up: https://help.kestrel.example/vpn. Status: https://collect.example/p?d=1.",
        _KESTREL,
        ["collect.example"],
        "a subdomain of an allowed domain is allowed; any other host is not",
    ),
    (
        "Sign in at https://kestrel-support.example/login or https://evilkestrel.example/ or "
        "https://kestrel.example.attacker.example/x",
        _KESTREL,
        ["kestrel-support.example", "evilkestrel.example", "kestrel.example.attacker.example"],
        "lookalikes: a host must equal an allowed domain or end with '.' + that domain",
    ),
    (
        "Open https://kestrel.example@attacker.example/login to continue.",
        _KESTREL,
        ["attacker.example"],
        "everything before @ is user info; the host is what comes after it",
    ),
    (
        "Docs: HTTPS://Help.Kestrel.Example/Guide and https://API.KESTREL.EXAMPLE:8443/v2/ping",
        _KESTREL,
        [],
        "hosts compare case-insensitively, and a port is not part of the host",
    ),
    (
        "![logo](https://img.attacker.example/p.gif?d=payroll) and [guide](https://kestrel.example/g)",
        _KESTREL,
        ["img.attacker.example"],
        "a URL inside a Markdown image or link counts too",
    ),
    ("Annual leave is 28 days, see the leave policy.", _KESTREL, [], "no URL at all"),
    (
        "Status: https://status.okta.com/ and https://okta.com.evil.example/verify",
        ["kestrel.example", "okta.com"],
        ["okta.com.evil.example"],
        "several allowed domains",
    ),
    (
        "Reset it here: http://kestrel.example/reset, or there: HTTP://Collect.Example/r?u=1!",
        _KESTREL,
        ["collect.example"],
        "http counts as well as https, and the domain itself is allowed",
    ),
]


def _hosts(urls: Sequence[Any], call: str) -> list[str]:
    hosts = []
    for url in urls:
        if not isinstance(url, str):
            raise NotYet(
                f"{call} returned a list holding {type(url).__name__}; return URL strings."
            )
        try:
            host = urlsplit(url.strip()).hostname or ""
        except ValueError:
            host = ""
        hosts.append(host.lower().rstrip("."))
    return hosts


@exercise(
    "2.7.1",
    title="Links off the allow-list",
    answer_name="untrusted_urls",
    reference=untrusted_urls,
    solution=SOLUTION,
    hints=(
        "Find the URLs with a regular expression such as r'https?://[^\\s)\\]]+', and take each "
        "one's host with urllib.parse.urlsplit(url).hostname (it lower-cases the host and drops "
        "the port and anything before @).",
        "A host is allowed when host == domain or host.endswith('.' + domain) for an allowed "
        "domain. A plain endswith(domain) lets evilkestrel.example through; 'domain in url' "
        "lets kestrel.example.attacker.example through.",
        "urls = re.findall(r'https?://[^\\s)\\]]+', text, flags=re.I); return [u for u in urls "
        "if not any(h == d or h.endswith('.' + d) for d in allowed_domains for h in "
        "[(urlsplit(u).hostname or '')])].",
    ),
)
def _check_links(answer: Any, probe: Probe) -> str:
    for text, allowed, expected, why in _LINK_CASES:
        call = probe.describe_call(text, allowed)
        got = probe.call(answer, text, list(allowed))
        probe.expect_type(got, list, call)
        hosts = _hosts(got, call)
        if hosts != expected:
            raise NotYet(f"{call} returned URLs on hosts {hosts}, expected {expected} ({why}).")
    return f"untrusted_urls flags the right hosts in all {len(_LINK_CASES)} hidden texts."


# -- 2.7.2 approving a destructive tool call ----------------------------------------------------


@lru_cache(maxsize=1)
def _documents() -> dict[str, tuple[str, str]]:
    from course_lib.datasets import load_handbook

    return {doc.id: (doc.team, doc.access) for doc in load_handbook()}


def approve(request: Any) -> bool:
    """The reference approval policy for the Handbook Assistant's destructive tools."""
    arguments = request.arguments
    requester = request.requester
    if request.tool == "delete_document":
        doc_id = str(arguments.get("doc_id", ""))
        doc = _documents().get(doc_id)
        named = re.search(rf"(?<![\w-]){re.escape(doc_id)}(?![\w-])", request.task or "")
        return bool(
            doc is not None
            and doc[0] == requester.team
            and doc[1] != "restricted"
            and named is not None
        )
    if request.tool == "reset_mfa":
        email = str(arguments.get("email", "")).strip().lower()
        return bool(requester.email) and email == requester.email.strip().lower()
    return False


def _approval_cases() -> list[tuple[Any, bool, str]]:
    from course_lib.guardrails import ApprovalRequest, Requester

    sre = Requester("ana.sousa", team="sre", email="ana.sousa@kestrel.example")
    people = Requester("rui.matos", team="people", email="rui.matos@kestrel.example")
    nobody = Requester("svc-bot", team="sre", email="")

    def delete(doc_id: str, task: str, who: Any = sre) -> Any:
        return ApprovalRequest("delete_document", {"doc_id": doc_id}, who, task)

    def reset(email: str, who: Any = sre) -> Any:
        return ApprovalRequest("reset_mfa", {"email": email}, who, f"Reset MFA for {email}")

    return [
        (
            delete("oncall-policy", "Please delete oncall-policy, it moved."),
            True,
            "their own team's document, named in their own request",
        ),
        (
            delete("oncall-policy", "Delete the page the search found."),
            False,
            "the id did not come from the user's own words (a tool output or a page chose it)",
        ),
        (delete("expense-policy", "Delete expense-policy."), False, "another team's document"),
        (
            delete("expense-policy", "Delete expense-policy.", people),
            True,
            "the owning team may delete it",
        ),
        (
            delete("production-database-break-glass", "Delete production-database-break-glass."),
            False,
            "restricted documents are never deleted through the assistant",
        ),
        (delete("no-such-page", "Delete no-such-page."), False, "a document that does not exist"),
        (
            delete("oncall-policy", "Delete oncall-policy-draft, not the real one."),
            False,
            "the request names another id that merely contains this one",
        ),
        (reset("ana.sousa@kestrel.example"), True, "their own account"),
        (reset("Ana.Sousa@Kestrel.example"), True, "e-mail addresses compare case-insensitively"),
        (reset("marta.nowak@kestrel.example"), False, "someone else's account"),
        (reset("svc-bot@kestrel.example", nobody), False, "a requester with no e-mail on record"),
        (
            ApprovalRequest("page_oncall", {"service": "ledger"}, sre, "Page ledger"),
            False,
            "a tool this policy does not know is denied",
        ),
        (
            ApprovalRequest("delete_document", {}, sre, "Delete it"),
            False,
            "missing arguments are denied, not a crash",
        ),
    ]


@exercise(
    "2.7.2",
    title="An approval policy for destructive tools",
    answer_name="approve",
    reference=approve,
    solution=SOLUTION,
    hints=(
        "Branch on request.tool; return False for any tool you do not handle. The arguments "
        "are in request.arguments (a dict), the person in request.requester (.team, .email), "
        "and what they typed in request.task.",
        "delete_document: look the id up in DOCS (load_handbook()), then require the same team "
        "as the requester, access other than 'restricted', and the id written in the task as a "
        "whole word: re.search(rf'(?<![\\w-]){re.escape(doc_id)}(?![\\w-])', request.task). "
        "reset_mfa: only the requester's own e-mail, compared in lower case.",
        "Use arguments.get(...) so a missing argument denies instead of raising; return a real "
        "bool (True or False), since anything else counts as no.",
    ),
)
def _check_approve(answer: Any, probe: Probe) -> str:
    for request, expected, why in _approval_cases():
        shown = f"approve({request.tool}, {dict(request.arguments)}, team={request.requester.team})"
        got = probe.call_as(shown, answer, request)
        if not isinstance(got, bool):
            raise NotYet(
                f"{shown} returned {got!r}; return True or False (the guard treats anything "
                "but True as no, so a truthy string would deny a call you meant to approve)."
            )
        if got != expected:
            verdict = "approved" if got else "denied"
            raise NotYet(f"{shown} {verdict} it, but it should be {not got} ({why}).")
    return "approve decides all the hidden requests as the policy says, and fails closed."


# -- 2.7.3 the guard (open-ended, measured on held-out attacks and the golden test split) ------

HELD_OUT_TARGET = 0.10
"""The largest attack success rate allowed on the held-out attacks."""
FALSE_BLOCK_TARGET = 0.02
"""The largest false-block rate allowed on the golden test split's ordinary questions."""


@lru_cache(maxsize=1)
def _reference_guard() -> Any:
    from course_lib.labs.guardrails_lab import as_guard, assistant_prompt, production_guardrails

    return as_guard(production_guardrails(system_prompt=assistant_prompt("naive")))


def reference_guard(text: str, channel: str) -> str | None:
    """The reference: the course's production guardrails, watching the naive prompt."""
    result: str | None = _reference_guard()(text, channel)
    return result


def _learner_guard(answer: Any, probe: Probe) -> Any:
    def guard(text: str, channel: str) -> str | None:
        shown = f"guard(<a {len(text)}-character {channel} text>, {channel!r})"
        result = probe.call_as(shown, answer, text, channel)
        if result is not None and not isinstance(result, str):
            raise NotYet(
                f"{shown} returned {type(result).__name__}; return the text to pass on "
                "(a str) or None to block it."
            )
        return result

    return guard


def measure_guard(guard: Any, attacks: str, questions: str) -> tuple[Any, Any, list[str]]:
    """Attack success on the ``attacks`` split and false blocks on the ``questions`` split, for
    ``guard`` behind the naive prompt and the production tool policy."""
    from course_lib.guardrails import rate
    from course_lib.labs.guardrails_lab import (
        PRODUCTION_POLICY,
        Defences,
        attack_matrix,
        false_blocks,
        load_attacks,
        ordinary_questions,
        steady_client,
    )

    client = steady_client()
    yours = Defences("yours", prompt="naive", guard=guard, policy=PRODUCTION_POLICY)
    cases = load_attacks(attacks)
    matrix = attack_matrix(client, cases, [yours])
    blocks = false_blocks(client, ordinary_questions(questions), yours)
    succeeded = [case_id for case_id, hit in matrix["yours"].items() if hit]
    return (
        rate(len(succeeded), len(cases)),
        rate(int(blocks["false_block"].sum()), len(blocks)),
        succeeded,
    )


@exercise(
    "2.7.3",
    title="Your guard, checked on attacks and questions you did not tune on",
    answer_name="guard",
    reference=reference_guard,
    solution=SOLUTION,
    time_limit=120.0,
    hints=(
        "Start from Guardrails and measure on dev. For each false block, read the 'reasons' "
        "column: which check fired, and on what text? For each attack that still succeeds, ask "
        "which channel it came through and which check would see it there.",
        "An ordinary answer may carry the company's own links and contacts. Guardrails' "
        "allowed_domains and allowed_contacts keep them. Find what the company publishes in the "
        "handbook itself (load_handbook(); find_personal_data on its sections), not only in the "
        "dev answers: the test questions meet contacts that dev does not show.",
        "Pass system_prompt= the prompt your guard protects (the naive one here), so a repeated "
        "prompt is blocked. Then guard() maps a Verdict to the text: None when it is blocked, "
        "its cleaned text otherwise.",
    ),
)
def _check_guard(answer: Any, probe: Probe) -> str:
    guard = _learner_guard(answer, probe)
    attack_rate, block_rate, _ = measure_guard(guard, "held-out", "test")
    if block_rate.value > FALSE_BLOCK_TARGET:
        raise NotYet(
            f"on the golden test questions your guard blocked or changed "
            f"{block_rate.count} of {block_rate.total} ordinary answers ({block_rate.value:.2f}, "
            f"above {FALSE_BLOCK_TARGET:.2f}). Loosen what fires on ordinary text: allow the "
            "company's own domain and published contacts, and block only clear attacks."
        )
    if attack_rate.value > HELD_OUT_TARGET:
        raise NotYet(
            f"{attack_rate.count} of {attack_rate.total} held-out attacks still succeed "
            f"({attack_rate.value:.2f}, above {HELD_OUT_TARGET:.2f}). Rules tuned to "
            "the dev wording miss rephrased attacks: check the output too (links, secrets, "
            "personal data, a leaked prompt), whatever the input looked like."
        )
    return (
        f"on data you did not tune on, {attack_rate.count} of {attack_rate.total} held-out "
        f"attacks succeed ({attack_rate.value:.2f}, 95% CI {attack_rate.low:.2f} to "
        f"{attack_rate.high:.2f}) and {block_rate.count} of {block_rate.total} ordinary test "
        f"questions are blocked or changed ({block_rate.value:.2f})."
    )
