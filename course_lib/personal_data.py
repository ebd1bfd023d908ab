"""Personal data in text: one detector for every place text leaves the assistant.

Users type personal data into questions, tools return it, documents quote it, and all of that
flows on into answers, logs and traces. Two exits need the same answer to "is this personal
data?": spans on their way to a trace backend (:mod:`course_lib.observability`) and answers on
their way to a reader (:mod:`course_lib.guardrails`). One module keeps them from drifting apart:
a pattern fixed here is fixed for both.

It recognises these kinds (:data:`PERSONAL_DATA_KINDS`):

* ``email``: an e-mail address;
* ``iban``: an IBAN, kept only when its mod-97 check digits are right;
* ``card``: a payment card number, 13 to 19 digits, kept only when the Luhn check passes;
* ``tracking_number``: a Kestrel tracking number (``KF`` and ten digits);
* ``phone``: international (``+44 113 555 0142``, ``+44 (0)20 7946 0958``) or national
  (``0113 555 0142``) numbers of 9 to 15 digits;
* ``address``: a street address (``14 Wharf Street, Leeds LS2 7EQ``, ``Rua das Amoreiras 28``);
* ``national_id``: a UK National Insurance number (``JT 12 34 56 C``).

Why checks and guards, not bare patterns: a trace is full of ids, token counts, prices,
timestamps and scores, and an answer is full of dates, ticket ids and amounts. Check digits and
lengths turn away numbers that merely look like a card or an IBAN, and no number is matched
inside a longer one (the decimals of a score, the digits of an id).

The default placeholder, ``[REDACTED:<kind>]``, is the one the handbook's logging rule
(``logging-and-pii``) asks for:

>>> redact_personal_data("Parcel KF1234567890 for anna.nowak@example.com")[0]
'Parcel [REDACTED:tracking_number] for [REDACTED:email]'

Published contacts are not personal data: a helpdesk's number, or any address at the company's
own domain, belong in an answer, and hiding them makes the answer worse. ``allow`` spares them.
Patterns are a floor, not a ceiling: a name, or an address written unusually, gets through. A
named-entity model (Microsoft Presidio, spaCy) finds more, at a cost in speed and in false
alarms; measure both on your own traffic.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from course_lib.errors import SettingsError

__all__ = [
    "DEFAULT_PLACEHOLDER",
    "PERSONAL_DATA_KINDS",
    "PersonalData",
    "find_personal_data",
    "redact_personal_data",
    "redact_personal_data_value",
]

PERSONAL_DATA_KINDS: tuple[str, ...] = (
    "email",
    "iban",
    "card",
    "tracking_number",
    "phone",
    "address",
    "national_id",
)
"""Every kind recognised, in the order the patterns claim text: an e-mail address before the
digits in it, an IBAN before a phone pattern could take some of its digits."""

DEFAULT_PLACEHOLDER = "[REDACTED:{kind}]"
"""What replaces a value unless told otherwise; ``{kind}`` becomes its kind."""

# Not inside a longer token: no letter, digit or "+" just before, nor a digit and a decimal
# point or comma (the decimals of 0.034865653088544654); no letter or digit just after, nor a
# decimal point and a digit (2026.11).
_NOT_AFTER = r"(?<![\w+])(?<!\d[.,])"
_NOT_BEFORE = r"(?!\w|[.,]\d)"

_PATTERNS: dict[str, re.Pattern[str]] = {
    "email": re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+-]+@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}\b"),
    "iban": re.compile(r"\b[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b"),
    "card": re.compile(_NOT_AFTER + r"\d(?:[ -]?\d){12,18}" + _NOT_BEFORE),
    "tracking_number": re.compile(r"\bKF\d{10}\b"),
    "phone": re.compile(
        # +44 113 555 0142, +48 601-234-567, +1 (415) 555-0100, +44 (0)20 7946 0958: brackets
        # only round the area code, so "+441135550142 (24/7)" ends before the bracket.
        _NOT_AFTER
        + r"\+\d{1,3}[ .-]?(?:\(0\)[ .-]?)?(?:\(\d{1,4}\)|\d{1,4})(?:[ .-]?\d{2,4}){1,4}"
        + _NOT_BEFORE
        # 0113 555 0142, 07700 900123, (0113) 496 0321
        + "|"
        + _NOT_AFTER
        + r"(?:\(0\d{2,4}\)|0\d{2,4})[ .-]?\d{3,4}[ .-]?\d{3,4}"
        + _NOT_BEFORE
    ),
    "address": re.compile(
        # 14 Wharf Street, Leeds LS2 7EQ
        r"\b\d{1,4}[A-Za-z]? (?:[A-Z][a-z]+ ){1,3}(?:Road|Street|Lane|Avenue|Way|Close|Drive|"
        r"Place|Square|Terrace|Crescent|Rd|St|Ave)\b(?:,? [A-Z][a-z]+)?"
        r"(?:,? [A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}\b)?"
        # Rua das Amoreiras 28, 1250-020 Lisboa; ul. Zabłocie 23, 30-701 Kraków
        r"|\b(?:Rua|Avenida|Travessa|Largo|ul\.|ulica|aleja)\s+(?:[^\W\d][\w'-]*\.?\s+){1,4}?"
        r"\d{1,4}[A-Za-z]?\b(?:,? (?:\d{4}-\d{3}|\d{2}-\d{3})\b)?(?:,? [A-Z][^\W\d]+)?"
    ),
    "national_id": re.compile(r"\b[A-CEGHJ-PR-TW-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b"),
}


@dataclass(frozen=True)
class PersonalData:
    """One piece of personal data found in a text: its kind, the text itself, and where it sits
    (``text[start:end] == value``)."""

    kind: str
    value: str
    start: int
    end: int


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _iban_valid(candidate: str) -> bool:
    compact = candidate.replace(" ", "")
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


def _card_valid(candidate: str) -> bool:
    digits = _digits(candidate)
    return 13 <= len(digits) <= 19 and _luhn_valid(digits)


def _phone_valid(candidate: str) -> bool:
    return 9 <= len(_digits(candidate)) <= 15


_CHECKS: dict[str, Callable[[str], bool]] = {
    "iban": _iban_valid,
    "card": _card_valid,
    "phone": _phone_valid,
}


def _compact(text: str) -> str:
    return re.sub(r"[\W_]", "", text).upper()


def _allowed(kind: str, value: str, allow: Sequence[str]) -> bool:
    """Whether ``value`` is a published contact, compared the way its kind is written."""
    if kind == "email":
        address = value.lower()
        domain = address.rsplit("@", 1)[-1]
        for item in allow:
            item = item.strip().lower().lstrip("@")
            if item and (address == item or domain == item or domain.endswith("." + item)):
                return True
        return False
    if kind in ("phone", "card"):  # the same number however it is grouped
        digits = _digits(value)
        return any(_digits(item) == digits for item in allow)
    if kind == "address":  # the street and number, with or without postcode and town
        written = " ".join(value.split()).casefold()
        return any(
            item.strip() and written.startswith(" ".join(item.split()).casefold()) for item in allow
        )
    compact = _compact(value)
    return any(_compact(item) == compact for item in allow)


def _check_kinds(kinds: Iterable[str] | str) -> frozenset[str]:
    chosen = (kinds,) if isinstance(kinds, str) else tuple(kinds)
    unknown = [kind for kind in chosen if kind not in _PATTERNS]
    if unknown:
        raise SettingsError(
            f"unknown personal-data kind(s) {unknown}; choose from {list(PERSONAL_DATA_KINDS)}."
        )
    return frozenset(chosen)


def _check_allow(allow: Sequence[str] | str) -> tuple[str, ...]:
    items = (allow,) if isinstance(allow, str) else tuple(allow)
    wrong = [item for item in items if not isinstance(item, str)]
    if wrong:
        raise SettingsError(
            f"published contacts to allow must be strings, got {wrong!r}; write them as "
            "['+44 113 555 0142', 'kestrel.example'] (numbers, addresses or e-mail domains)."
        )
    return items


def _check_placeholder(placeholder: str) -> str:
    if not isinstance(placeholder, str):
        raise SettingsError(
            f"placeholder must be a string such as {DEFAULT_PLACEHOLDER!r}, "
            f"got {type(placeholder).__name__}."
        )
    try:
        placeholder.format(kind="email")
    except (KeyError, IndexError, ValueError):
        raise SettingsError(
            f"placeholder {placeholder!r} may use only {{kind}}, e.g. {DEFAULT_PLACEHOLDER!r} "
            "(write a literal brace as {{ or }})."
        ) from None
    return placeholder


def find_personal_data(
    text: str,
    kinds: Iterable[str] | str = PERSONAL_DATA_KINDS,
    *,
    allow: Sequence[str] | str = (),
) -> list[PersonalData]:
    """The personal data of ``kinds`` in ``text``, in reading order, never overlapping.

    Every kind is looked for, in the order of :data:`PERSONAL_DATA_KINDS`, even when only some
    are asked for: the digits of an IBAN or of a published e-mail address are never reported as
    a phone number.

    Args:
        kinds: the kinds to report (see :data:`PERSONAL_DATA_KINDS`); one kind may be given as
            a string.
        allow: published contacts to leave alone: phone numbers (any grouping of the same
            digits), e-mail addresses, e-mail domains such as ``kestrel.example`` (which cover
            their subdomains), or an address's street and number.

    Raises:
        TypeError: ``text`` is not a string.
        SettingsError: an unknown kind, or ``allow`` holding something other than strings.
    """
    if not isinstance(text, str):
        raise TypeError(
            f"find personal data in a string, got {type(text).__name__}; "
            "convert the value with str() first, or skip it."
        )
    wanted = _check_kinds(kinds)
    published = _check_allow(allow)
    found: list[PersonalData] = []
    taken: list[tuple[int, int]] = []
    for kind in PERSONAL_DATA_KINDS:
        for match in _PATTERNS[kind].finditer(text):
            start, end = match.span()
            if any(start < t_end and t_start < end for t_start, t_end in taken):
                continue
            value = match.group(0)
            check = _CHECKS.get(kind)
            if check is not None and not check(value):
                continue
            taken.append((start, end))  # claimed, even when spared or not asked for
            if kind in wanted and not _allowed(kind, value, published):
                found.append(PersonalData(kind, value, start, end))
    return sorted(found, key=lambda item: item.start)


def redact_personal_data(
    text: str,
    kinds: Iterable[str] | str = PERSONAL_DATA_KINDS,
    *,
    allow: Sequence[str] | str = (),
    placeholder: str = DEFAULT_PLACEHOLDER,
) -> tuple[str, list[PersonalData]]:
    """``text`` with each piece of personal data replaced, and the list of what was replaced.

    The list is what a caller records (a guardrail's decision, a count in a report) without
    scanning the text twice; take ``[0]`` when only the text matters.

    Args:
        kinds, allow: as for :func:`find_personal_data`.
        placeholder: what replaces a value; ``{kind}`` becomes its kind.

    Raises:
        TypeError: ``text`` is not a string.
        SettingsError: an unknown kind, a bad ``allow``, or a placeholder with another
            ``{field}`` than ``{kind}``.
    """
    _check_placeholder(placeholder)
    found = find_personal_data(text, kinds, allow=allow)
    pieces: list[str] = []
    cursor = 0
    for item in found:
        pieces.append(text[cursor : item.start])
        pieces.append(placeholder.format(kind=item.kind))
        cursor = item.end
    pieces.append(text[cursor:])
    return "".join(pieces), found


def redact_personal_data_value(
    value: Any,
    kinds: Iterable[str] | str = PERSONAL_DATA_KINDS,
    *,
    allow: Sequence[str] | str = (),
    placeholder: str = DEFAULT_PLACEHOLDER,
) -> Any:
    """A span attribute or log field with its text redacted: strings, and strings in lists and
    tuples; numbers, flags and None come back unchanged (a token count is never personal data).
    """
    if isinstance(value, str):
        return redact_personal_data(value, kinds, allow=allow, placeholder=placeholder)[0]
    if isinstance(value, list | tuple):
        cleaned = [
            redact_personal_data_value(item, kinds, allow=allow, placeholder=placeholder)
            for item in value
        ]
        return tuple(cleaned) if isinstance(value, tuple) else cleaned
    return value
