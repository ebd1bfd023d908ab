#!/usr/bin/env python
"""Build the Kestrel Freight support-ticket dataset from hand-written templates, deterministically.

Lessons need labelled tickets that look like the real thing: typos, forwarded mails, pasted stack
traces, a second question tucked into the same message, the same outage reported twice. Real
tickets would carry personal data, so these are synthetic: 162 templates written by hand,
filled with slots (services, tools, amounts, dates, invented first names) and then roughened by
seeded noise. The committed ``course_lib/datasets/tickets/tickets.jsonl`` is what learners load
(with ``course_lib.datasets.load_tickets``); this script documents how it was made and
reproduces it byte for byte. Run it from the repository root with the course's environment::

    python tools/tickets/build.py            # rewrite tickets.jsonl, print the datasheet tables
    python tools/tickets/build.py --check    # exit 1 if tickets.jsonl is out of date
    python tools/tickets/build.py --seed 7 --output tickets-7.jsonl

The text lives in YAML files next to this script (``templates/<category>.yaml``,
``phrases.yaml``, ``slots.yaml``, ``company.yaml``; their format is in ``README.md``); the
labels, teams and services come from ``course_lib.datasets.tickets``, so the generator and the
loader cannot disagree.

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
from typing import Any

import yaml

from course_lib.datasets.errors import DatasetError
from course_lib.datasets.tickets import (
    CATEGORIES,
    CHANNELS,
    DEFAULT_SEED,
    FIELDS,
    PRIORITIES,
    SERVICES,
    SPLITS,
    TEAMS,
    TICKETS_PATH,
)

__all__ = [
    "DATA_DIR",
    "TEMPLATES",
    "Template",
    "build_tickets",
    "datasheet_tables",
    "generate",
    "load_templates",
    "main",
    "to_jsonl",
]

DATA_DIR = Path(__file__).resolve().parent
TEST_SHARE = 0.2

# Eight weeks of autumn 2026, starting on a Monday.
WINDOW_START = datetime(2026, 9, 28, tzinfo=timezone.utc)
WINDOW_DAYS = 56

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
# Data files
# ---------------------------------------------------------------------------------------------


def _read(path: Path) -> Any:
    """One YAML file, parsed."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DatasetError(f"Cannot read {path}: {exc}") from None


def _strings(value: Any, where: str) -> tuple[str, ...]:
    """A list of strings from YAML, as a tuple; anything else is a mistake in the file."""
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise DatasetError(f"{where} must be a list of strings (quote values YAML would convert).")
    return tuple(value)


def _pools(mapping: Mapping[str, Any], where: str) -> dict[str, tuple[str, ...]]:
    return {str(key): _strings(value, f"{where}.{key}") for key, value in mapping.items()}


_COMPANY = _read(DATA_DIR / "company.yaml")
_PHRASES = _read(DATA_DIR / "phrases.yaml")
_SLOTS = _read(DATA_DIR / "slots.yaml")

CATEGORY_COUNTS: dict[str, int] = dict(_COMPANY["category_counts"])
DUPLICATES: dict[str, int] = dict(_COMPANY["duplicates"])
TEAM_WEIGHTS: dict[str, int] = dict(_COMPANY["team_weights"])
ROLES: dict[str, tuple[str, ...]] = _pools(_COMPANY["roles"], "company.yaml roles")
GROUPS: dict[str, tuple[str, ...]] = _pools(_COMPANY["groups"], "company.yaml groups")
ENG_TEAMS = GROUPS["engineering"]
DEFAULT_CHANNELS: dict[str, str] = dict(_COMPANY["default_channels"])
_NOT_FROM = _pools(_COMPANY["not_from"], "company.yaml not_from")  # unlikely reporters

IMPACT: dict[str, dict[str, tuple[str, ...]]] = {
    category: _pools(by_priority, f"phrases.yaml impact.{category}")
    for category, by_priority in _PHRASES["impact"].items()
}
ASIDES = _pools(_PHRASES["asides"], "phrases.yaml asides")
GREETINGS = _pools(_PHRASES["greetings"], "phrases.yaml greetings")
EMAIL_SIGNATURES = _strings(_PHRASES["email_signatures"], "phrases.yaml email_signatures")
PORTAL_SIGNATURES = _strings(_PHRASES["portal_signatures"], "phrases.yaml portal_signatures")
SLACK_SIGNOFFS = _strings(_PHRASES["slack_signoffs"], "phrases.yaml slack_signoffs")

POOLS = _pools(_SLOTS["pools"], "slots.yaml pools")
PHISHING_MAILS: tuple[tuple[str, str], ...] = tuple(
    (str(mail["subject"]), str(mail["line"])) for mail in _SLOTS["phishing_mails"]
)
COSMETIC_PLACES = _pools(_SLOTS["cosmetic_places"], "slots.yaml cosmetic_places")


def _check_company() -> None:
    """The counts and team lists name exactly the labels and teams of the loader's module."""
    for name, keys in (("category_counts", CATEGORY_COUNTS), ("duplicates", DUPLICATES)):
        if set(keys) != set(CATEGORIES):
            raise DatasetError(f"company.yaml {name} must list every category of CATEGORIES.")
    if set(TEAM_WEIGHTS) != set(TEAMS) or set(ROLES) != set(TEAMS):
        raise DatasetError("company.yaml team_weights and roles must list every team of TEAMS.")
    unknown = sorted({t for teams in (*_NOT_FROM.values(), ENG_TEAMS) for t in teams} - set(TEAMS))
    if unknown or not set(GROUPS["deployable"]) <= set(SERVICES):
        raise DatasetError(f"company.yaml names unknown teams or services: {unknown}.")


_check_company()

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


_TEMPLATE_KEYS = {
    "subjects",
    "body",
    "priorities",
    "services",
    "impact",
    "channels",
    "teams",
    "signed",
    "dup_ok",
}


def _names(value: Any, known: Mapping[str, Any], where: str) -> tuple[str, ...]:
    """Team or service ids: a list, or the name of a group of company.yaml."""
    if isinstance(value, str):
        if value not in GROUPS:
            raise DatasetError(f"{where} names no group of company.yaml: {value!r}.")
        names = GROUPS[value]
    else:
        names = _strings(value, where)
    unknown = [name for name in names if name not in known]
    if unknown:
        raise DatasetError(f"{where} has unknown ids {unknown}.")
    return names


def _template(category: str, entry: Any, where: str) -> Template:
    """One template of ``templates/<category>.yaml``, checked and with its body reflowed."""
    if not isinstance(entry, dict) or not {"subjects", "body", "priorities"} <= entry.keys():
        raise DatasetError(f"{where} needs at least subjects, body and priorities.")
    if entry.keys() - _TEMPLATE_KEYS:
        raise DatasetError(f"{where} has unknown keys {sorted(entry.keys() - _TEMPLATE_KEYS)}.")
    priorities = _weights(entry["priorities"])
    if any(priority not in PRIORITIES for priority, _ in priorities):
        raise DatasetError(f"{where} has a priority outside {list(PRIORITIES)}.")
    return Template(
        category=category,
        subjects=_strings(entry["subjects"], f"{where} subjects"),
        body=_reflow(entry["body"]),
        priorities=priorities,
        services=_names(entry.get("services", []), SERVICES, f"{where} services"),
        impact=_pools(entry.get("impact", {}), f"{where} impact"),
        channels=_weights(entry.get("channels", "")),
        teams=_names(entry.get("teams", []), TEAMS, f"{where} teams"),
        signed=bool(entry.get("signed", False)),
        dup_ok=bool(entry.get("dup_ok", False)),
    )


def load_templates(folder: Path = DATA_DIR / "templates") -> dict[str, tuple[Template, ...]]:
    """Every category's templates, in the order of CATEGORIES and of each file."""
    templates = {}
    for category in CATEGORIES:
        entries = _read(folder / f"{category}.yaml")
        if not isinstance(entries, list) or not entries:
            raise DatasetError(f"templates/{category}.yaml must be a non-empty list of templates.")
        templates[category] = tuple(
            _template(category, entry, f"templates/{category}.yaml template {number}")
            for number, entry in enumerate(entries, start=1)
        )
    return templates


TEMPLATES = load_templates()

# ---------------------------------------------------------------------------------------------
# Slots
# ---------------------------------------------------------------------------------------------

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
                    "to the impact of phrases.yaml or to the template's impact mapping."
                )
            return self.render(self.rng.choice(list(pool)))
        if name == "role":
            return self.rng.choice(list(ROLES[self.team]))
        if name in SLOT_FUNCS:
            return SLOT_FUNCS[name](self)
        if name in POOLS:
            return self.rng.choice(list(POOLS[name]))
        raise DatasetError(
            f"Template slot {{{name}}} has no value: add it to the pools of slots.yaml or to "
            "SLOT_FUNCS in build.py, or fix the spelling in the template."
        )


# ---------------------------------------------------------------------------------------------
# Framing: greetings, signatures, asides
# ---------------------------------------------------------------------------------------------

_IT_CATEGORIES = ("access_request", "login_mfa", "hardware", "software_licence", "security_report")
_PEOPLE_CATEGORIES = ("expenses_travel", "hr_people")
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
# Datasheet tables and the command line
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
