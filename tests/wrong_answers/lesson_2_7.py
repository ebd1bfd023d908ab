"""Plausible wrong answers to lesson 2.7's exercises; each must be rejected by its checker."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from course_lib.course.exercises.lesson_2_7 import PUBLISHED_CONTACTS
from course_lib.datasets import load_handbook
from course_lib.guardrails import Guardrails

_URL = re.compile(r"https?://[^\s)\]>\"']+", re.I)

# -- 2.7.1 links off the allow-list --------------------------------------------------------------


def _links_substring(text: str, allowed_domains: list[str]) -> list[str]:
    # "kestrel.example" in the URL: lookalikes and user-info tricks pass.
    return [u for u in _URL.findall(text) if not any(d in u for d in allowed_domains)]


def _links_endswith_no_dot(text: str, allowed_domains: list[str]) -> list[str]:
    # evilkestrel.example ends with kestrel.example.
    out = []
    for url in _URL.findall(text):
        host = (urlsplit(url).hostname or "").rstrip(".")
        if not any(host.endswith(d) for d in allowed_domains):
            out.append(url)
    return out


def _links_split_on_slash(text: str, allowed_domains: list[str]) -> list[str]:
    # The "host" is whatever sits between // and the next /: user info and ports stay in it.
    out = []
    for url in _URL.findall(text):
        host = url.split("//", 1)[1].split("/", 1)[0].lower()
        if not any(host == d or host.endswith("." + d) for d in allowed_domains):
            out.append(url)
    return out


def _links_case_sensitive(text: str, allowed_domains: list[str]) -> list[str]:
    out = []
    for url in re.findall(r"https?://[^\s)\]>\"']+", text):  # misses HTTPS:// too
        host = url.split("://", 1)[1].split("/", 1)[0].split("@")[-1].split(":")[0]
        if not any(host == d or host.endswith("." + d) for d in allowed_domains):
            out.append(url)
    return out


def _links_after_space_only(text: str, allowed_domains: list[str]) -> list[str]:
    # Only URLs after white space: Markdown links and images slip through.
    out = []
    for url in re.findall(r"(?:^|(?<=\s))https?://[^\s)\]]+", text, re.I):
        host = (urlsplit(url).hostname or "").rstrip(".")
        if not any(host == d or host.endswith("." + d) for d in allowed_domains):
            out.append(url)
    return out


def _links_allowed_ones(text: str, allowed_domains: list[str]) -> list[str]:
    # Inverted: returns the trusted links.
    out = []
    for url in _URL.findall(text):
        host = (urlsplit(url).hostname or "").rstrip(".")
        if any(host == d or host.endswith("." + d) for d in allowed_domains):
            out.append(url)
    return out


# -- 2.7.2 approval policy -----------------------------------------------------------------------

_DOCS = {doc.id: doc for doc in load_handbook()}


def _approve_everything(request: Any) -> bool:
    return True


def _approve_team_only(request: Any) -> bool:
    # Forgets restricted documents and whether the user named the document.
    if request.tool == "delete_document":
        doc = _DOCS.get(request.arguments.get("doc_id", ""))
        return bool(doc and doc.team == request.requester.team)
    if request.tool == "reset_mfa":
        return request.arguments.get("email", "").lower() == request.requester.email.lower()
    return False


def _approve_substring_named(request: Any) -> bool:
    # "oncall-policy" in "oncall-policy-draft" counts as named.
    if request.tool == "delete_document":
        doc_id = request.arguments.get("doc_id", "")
        doc = _DOCS.get(doc_id)
        return bool(
            doc
            and doc.team == request.requester.team
            and doc.access != "restricted"
            and doc_id in request.task
        )
    if request.tool == "reset_mfa":
        return request.arguments.get("email", "").lower() == request.requester.email.lower()
    return False


def _approve_any_company_account(request: Any) -> bool:
    if request.tool == "delete_document":
        return _approve_substring_named(request) and bool(
            re.search(rf"(?<![\w-]){re.escape(request.arguments['doc_id'])}(?![\w-])", request.task)
        )
    if request.tool == "reset_mfa":
        return request.arguments.get("email", "").endswith("@kestrel.example")
    return False


def _approve_case_sensitive_email(request: Any) -> bool:
    if request.tool == "reset_mfa":
        return request.arguments.get("email") == request.requester.email
    if request.tool == "delete_document":
        doc_id = request.arguments["doc_id"]  # a KeyError when the argument is missing
        doc = _DOCS.get(doc_id)
        named = re.search(rf"(?<![\w-]){re.escape(doc_id)}(?![\w-])", request.task)
        return bool(
            doc and doc.team == request.requester.team and doc.access != "restricted" and named
        )
    return False


def _approve_returns_strings(request: Any) -> Any:
    if request.tool in ("delete_document", "reset_mfa"):
        return "yes" if request.requester.team == "sre" else "no"
    return "no"


# -- 2.7.3 the company's guardrails -----------------------------------------------------------

_DOMAINS = ["kestrel.example", "okta.com"]
_CONTACTS = list(PUBLISHED_CONTACTS)  # the reference's contacts: each answer below errs elsewhere


def _guardrails_defaults(system_prompt: str) -> Any:
    # Every check, but the company's own contacts are redacted too.
    return Guardrails(system_prompt=system_prompt)


def _guardrails_dev_only(system_prompt: str) -> Any:
    # Only what the dev answers showed: the travel insurer and the offices are redacted.
    return Guardrails(
        allowed_domains=["kestrel.example"],
        allowed_contacts=["kestrel.example", "+44 113 555 0142"],
        system_prompt=system_prompt,
    )


def _guardrails_everything_in_the_handbook(system_prompt: str) -> Any:
    # Allows whatever the handbook mentions: the phishing page's address and customers' details.
    return Guardrails(
        allowed_domains=[*_DOMAINS, "kestrel-support.example", "example.org"],
        allowed_contacts=[
            *_CONTACTS,
            "kestrel-support.example",
            "example.org",
            "+351912345678",
        ],
        system_prompt=system_prompt,
    )


def _guardrails_address_prefixes(system_prompt: str) -> Any:
    # Addresses are allowed by prefix: "Rua" and "ul." spare every street in Lisbon and Krakow,
    # customers' homes included.
    return Guardrails(
        allowed_domains=_DOMAINS,
        allowed_contacts=[*_CONTACTS[:4], "Rua", "ul."],
        system_prompt=system_prompt,
    )


def _guardrails_forget_the_prompt(system_prompt: str) -> Any:
    # Right lists, but the prompt is never passed on: a repeated prompt goes out.
    return Guardrails(allowed_domains=_DOMAINS, allowed_contacts=_CONTACTS)


def _guardrails_always_the_naive_prompt(system_prompt: str) -> Any:
    from course_lib.labs import assistant_prompt

    return Guardrails(
        allowed_domains=_DOMAINS,
        allowed_contacts=_CONTACTS,
        system_prompt=assistant_prompt("naive"),
    )


def _guardrails_as_a_function(system_prompt: str) -> Any:
    guards = Guardrails(
        allowed_domains=_DOMAINS, allowed_contacts=_CONTACTS, system_prompt=system_prompt
    )
    return lambda text, channel: guards.check(text, channel).text


def _guardrails_no_injection_rules(system_prompt: str) -> Any:
    # Input checks switched off to stop false blocks: injected instructions reach the model.
    return Guardrails(
        allowed_domains=_DOMAINS,
        allowed_contacts=_CONTACTS,
        system_prompt=system_prompt,
        injection_rules=(),
        block_credential_requests=False,
        max_input_chars=1_000_000,
    )


WRONG_ANSWERS: dict[str, list[Any]] = {
    "2.7.1": [
        _links_substring,
        _links_endswith_no_dot,
        _links_split_on_slash,
        _links_case_sensitive,
        _links_after_space_only,
        _links_allowed_ones,
    ],
    "2.7.2": [
        _approve_everything,
        _approve_team_only,
        _approve_substring_named,
        _approve_any_company_account,
        _approve_case_sensitive_email,
        _approve_returns_strings,
    ],
    "2.7.3": [
        _guardrails_defaults,
        _guardrails_dev_only,
        _guardrails_everything_in_the_handbook,
        _guardrails_address_prefixes,
        _guardrails_forget_the_prompt,
        _guardrails_always_the_naive_prompt,
        _guardrails_as_a_function,
        _guardrails_no_injection_rules,
    ],
}
