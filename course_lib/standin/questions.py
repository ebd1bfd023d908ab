"""What kind of answer a question asks for, and whether a piece of text holds one.

A careful reader who is asked "how much is the hotel budget?" looks for an amount of money,
and skips the sentence that repeats the question's words without one. The local model does the
same: a question's *answer types* (money, a duration, a time, a count, a size, a share, a
person or team, a Slack channel, a command) come from its wording, and a candidate sentence
that holds none of them ranks below one that does. A yes/no or open question has no type and
is judged on its words alone.
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["ANSWER_TYPES", "answer_types", "holds_type", "is_yes_no", "types_held"]

# Question wording -> the answer type it asks for. Checked on lower-cased questions.
_ASKS: dict[str, re.Pattern[str]] = {
    "money": re.compile(
        r"\bhow much (?!(?:time|longer|notice|warning|space|storage|memory|disk|data|traffic|"
        r"of|lag|leave|holiday)\b)"
        r"|\b(?:cost|costs|price|budget|allowance|fee|salary|salaries|spend|reimburs\w*|"
        r"stipend|per diem|expenses?|bonus|pay rise|pay bump)\b"
    ),
    "duration": re.compile(
        r"\bhow long\b"
        r"|\bhow many (?:[\w-]+ ){0,2}(?:days|weeks|hours|minutes|seconds|months|years)\b"
        r"|\bhow (?:soon|quickly|late)\b|\bhow fast (?:do|does|will|must|should|until)\b"
        r"|\bwithin what\b|\bby when\b|\bdeadline\b|\buntil\b|\bhow much (?:time|notice|"
        r"warning|longer|lag)\b|\bretention\b|\bkept for\b|\bexpire\w*\b|\btimeout\b"
    ),
    "time": re.compile(
        r"^\s*when\b|\bwhen (?:do|does|is|are|should|will|can|must)\b|\bwhat time\b"
        r"|\bwhich (?:day|days|time|month|week)\b|\bwhat day\b|\bhow often\b|\bschedule\w*\b"
        r"|\bby when\b|\bwhat date\b"
    ),
    "count": re.compile(r"\bhow many\b|\bnumber of\b|\bminimum\b|\bmaximum\b"),
    "size": re.compile(
        r"\bhow (?:big|large|much (?:space|storage|memory|disk|data))\b|\bsize\b|\bquota\b"
    ),
    "share": re.compile(r"\bpercent\w*\b|\bwhat share\b|\bwhat fraction\b|\brate\b|\bratio\b"),
    "who": re.compile(
        r"^\s*who\b|\bwho (?:do|does|is|are|should|can|must|approves|decides|signs|owns)\b"
        r"|\bwhom\b|\bwhich (?:team|person|role|group|manager)\b|\bsign off\b"
        r"|\bwho's\b|\bwho has to\b|\bin charge\b"
    ),
    "channel": re.compile(
        r"\bchannel\b|\bslack\b|\bwhere (?:do|should|can) (?:i|we) (?:post|ask|report|announce)"
    ),
    "command": re.compile(
        r"\bcommand\b|\bwhat (?:do|should) (?:i|we) (?:run|type)\b|\bhow do (?:i|we) run\b"
        r"|\bcli\b|\bflag\b"
    ),
}

# Text -> the answer types it holds.
_MONEY = r"(?:EUR|USD|GBP|CHF|€|\$|£)\s?\d|\d[\d,.]*\s?(?:EUR|USD|GBP|euros?|k€)"
_DURATION_UNITS = (
    r"seconds?|secs?|s|ms|minutes?|mins?|hours?|hrs?|h|days?|weeks?|months?|years?|"
    r"working days?|business days?|nights?"
)
_HOLDS: dict[str, re.Pattern[str]] = {
    "money": re.compile(_MONEY, re.I),
    "duration": re.compile(
        rf"\b(?:\d[\d,.]*|one|two|three|four|five|six|seven|eight|nine|ten|twelve|a|an)"
        rf"[\s-]*(?:{_DURATION_UNITS})\b|\b(?:daily|weekly|monthly|quarterly|annually|yearly)\b"
        r"|\bovernight\b|\bsame day\b|\bimmediately\b",
        re.I,
    ),
    "time": re.compile(
        r"\b\d{1,2}:\d{2}\b|\b(?:mon|tues|wednes|thurs|fri|satur|sun)days?\b"
        r"|\b(?:january|february|march|april|may|june|july|august|september|october|"
        r"november|december)\b|\bevery (?:day|week|month|quarter|year|morning|evening)\b"
        r"|\b(?:daily|weekly|monthly|quarterly|annually|yearly|fortnightly)\b|\bUTC\b"
        r"|\b\d{1,2}\s?(?:am|pm)\b|\b(?:19|20)\d{2}\b|\bQ[1-4]\b|\bweekend\b|\bnight\b",
        re.I,
    ),
    "count": re.compile(
        r"\b\d+\b|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|twelve|twenty)\b", re.I
    ),
    "size": re.compile(r"\b\d[\d,.]*\s?(?:[KMGT]i?B|bytes?|characters?|chars|tokens)\b", re.I),
    "share": re.compile(r"\d\s?%|\bper ?cent\b|\bpercentage points?\b|\bhalf\b", re.I),
    "who": re.compile(
        r"\b(?:EM|EMs|Head of [A-Z][\w ]+|VP [A-Z]\w+|CISO|CTO|CEO|CFO|COO|DPO|manager|lead|"
        r"owner|team|on-call|IC|Incident Commander|People (?:Operations|team)|HR|Security|"
        r"Finance|Legal|IT|SRE|director|department head|committee|partner|approver|"
        r"reviewer|you|your [a-z]+)\b"
    ),
    "channel": re.compile(r"(?<![\w/])#[a-z][\w-]+", re.I),
    "command": re.compile(r"`[^`]{3,}`|\b(?:kctl|kubectl|vault|git|make|gh|aws|terraform)\s+\w"),
}
ANSWER_TYPES: tuple[str, ...] = tuple(_ASKS)

# A yes/no question asks for a verdict, whatever type words it contains.
_YES_NO = re.compile(
    r"^\s*(?:is|are|can|could|do|does|did|should|may|must|will|would|am|have|has)\b", re.I
)


@lru_cache(maxsize=4096)
def answer_types(question: str) -> frozenset[str]:
    """The answer types ``question`` asks for (empty for yes/no and open questions).

    Example:
        >>> sorted(answer_types("How much can I spend on a hotel in Paris?"))
        ['money']
    """
    text = question.lower()
    found = {kind for kind, pattern in _ASKS.items() if pattern.search(text)}
    if "duration" in found or "money" in found or "size" in found:
        found.discard("count")  # "how many days" asks for a duration, not a bare count
    if _YES_NO.match(question) and not found & {"money", "duration", "time", "size"}:
        return frozenset()
    return frozenset(found)


def is_yes_no(question: str) -> bool:
    """True for a yes/no question ("Are taxis reimbursed?"): it asks for a rule.

    Its answer types (an amount, for "reimbursed") say what a passage must mention to answer
    it at all, not which sentence answers: "Taxis are reimbursed only when no public transport
    runs" answers it without an amount.
    """
    return bool(_YES_NO.match(question))


def types_held(text: str) -> frozenset[str]:
    """The answer types ``text`` holds: amounts, durations, times, names of roles..."""
    return frozenset(kind for kind, pattern in _HOLDS.items() if pattern.search(text))


def holds_type(text: str, wanted: frozenset[str]) -> bool:
    """True when ``text`` holds one of the ``wanted`` types (or nothing is wanted)."""
    if not wanted:
        return True
    return any(_HOLDS[kind].search(text) for kind in wanted)
