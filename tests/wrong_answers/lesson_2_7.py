"""Plausible wrong answers to lesson 2.7's exercises; each must be rejected by its checker."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from course_lib.datasets import load_handbook
from course_lib.guardrails import (
    Guardrails,
    find_injection_attempts,
    remove_instructions,
)

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


# -- 2.7.3 the guard -------------------------------------------------------------------------------


def _guard_nothing(text: str, channel: str) -> str | None:
    return text


def _guard_blocks_everything(text: str, channel: str) -> str | None:
    return None


def _guard_input_only(text: str, channel: str) -> str | None:
    # Screens what comes in, never what goes out.
    if channel == "user":
        return None if find_injection_attempts(text) else text
    if channel in ("document", "tool"):
        return remove_instructions(text)[0]
    return text


def _guard_dev_wording(text: str, channel: str) -> str | None:
    # Rules fitted to the dev attacks' wording.
    dev_rule = r"ignore (all )?previous instructions|system prompt"
    if channel == "user" and re.search(dev_rule, text, re.I):
        return None
    if channel in ("document", "tool"):
        sentence = r"[^.]*ignore (your |all )?previous instructions[^.]*\."
        return re.sub(sentence, "", text, flags=re.I)
    if channel == "output":
        return re.sub(r"https?://\S+", "[link removed]", text)
    return text


_DEFAULTS = Guardrails()


def _guard_library_defaults(text: str, channel: str) -> str | None:
    # Every check, but no allow-list: published contacts and company links are redacted too.
    verdict = _DEFAULTS.check(text, channel)
    return None if verdict.blocked else verdict.text


def _guard_keywords(text: str, channel: str) -> str | None:
    # Blocks every message that mentions a password, MFA or a prompt: ordinary questions too.
    if channel == "user" and re.search(r"password|mfa|okta|prompt|instructions", text, re.I):
        return None
    return _guard_library_defaults(text, channel)


def _guard_returns_verdict(text: str, channel: str) -> Any:
    return _DEFAULTS.check(text, channel)


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
        _guard_nothing,
        _guard_blocks_everything,
        _guard_input_only,
        _guard_dev_wording,
        _guard_library_defaults,
        _guard_keywords,
        _guard_returns_verdict,
    ],
}
