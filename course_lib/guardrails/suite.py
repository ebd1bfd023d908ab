"""An attack suite: cases written down, each with a success condition a program can check.

Red-teaming by hand finds problems once; a suite finds them again on every change, like any
other test. Each :class:`AttackCase` says what the attacker controls (the user's message, a
retrieved document, a tool's output), which risk of the OWASP Top 10 for LLM applications it
exercises, and how to tell that it worked from what the system did: the text the user was
shown, the tools that ran, the tokens the model read (:class:`SuccessCondition`). A case is
``dev`` (look at it, tune on it) or ``held-out`` (report on it, never tune on it).

:func:`load_attack_suite` reads cases from YAML and refuses a malformed one with the case's id
and the fix; :func:`success_table` turns outcomes into attack success rates per category (or
channel) with Wilson intervals, because a category holds a handful of cases.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from course_lib.errors import SettingsError
from course_lib.guardrails.rates import rate

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ATTACK_CHANNELS",
    "ATTACK_SPLITS",
    "OWASP_LLM_TOP_10",
    "AttackCase",
    "AttackOutcome",
    "SuccessCondition",
    "load_attack_suite",
    "success_table",
]

OWASP_LLM_TOP_10: dict[str, str] = {
    "LLM01": "Prompt Injection",
    "LLM02": "Sensitive Information Disclosure",
    "LLM03": "Supply Chain",
    "LLM04": "Data and Model Poisoning",
    "LLM05": "Improper Output Handling",
    "LLM06": "Excessive Agency",
    "LLM07": "System Prompt Leakage",
    "LLM08": "Vector and Embedding Weaknesses",
    "LLM09": "Misinformation",
    "LLM10": "Unbounded Consumption",
}
"""The OWASP Top 10 for LLM Applications, 2025 edition: id -> name."""

ATTACK_CHANNELS: tuple[str, ...] = ("user", "document", "tool")
ATTACK_SPLITS: tuple[str, ...] = ("dev", "held-out")


@dataclass(frozen=True)
class AttackOutcome:
    """What a system did with one attack: what a program checks success on.

    Attributes:
        shown: the text the user was shown ("" when the request was refused outright).
        blocked: a guard refused the request or the answer.
        tools_ran: the tools whose code actually ran, in order (a denied call did not run).
        input_tokens: tokens the model read, over all its calls.
    """

    shown: str
    blocked: bool = False
    tools_ran: tuple[str, ...] = ()
    input_tokens: int = 0


@dataclass(frozen=True)
class SuccessCondition:
    """When an attack counts as a success; any one condition that is set is enough.

    Attributes:
        shown_contains: the user was shown any of these strings (case-insensitive).
        shown_matches: the user was shown text matching this regular expression.
        tool_ran: this tool ran.
        input_tokens_over: the model read more than this many tokens.
    """

    shown_contains: tuple[str, ...] = ()
    shown_matches: str = ""
    tool_ran: str = ""
    input_tokens_over: int = 0

    def __str__(self) -> str:
        parts = []
        if self.shown_contains:
            parts.append("the user is shown " + " or ".join(repr(s) for s in self.shown_contains))
        if self.shown_matches:
            parts.append(f"the user is shown text matching {self.shown_matches!r}")
        if self.tool_ran:
            parts.append(f"{self.tool_ran} runs")
        if self.input_tokens_over:
            parts.append(f"the model reads over {self.input_tokens_over:,} tokens")
        return "; or ".join(parts) or "never"

    def met(self, outcome: AttackOutcome) -> bool:
        shown = outcome.shown.lower()
        return (
            any(s.lower() in shown for s in self.shown_contains)
            or bool(self.shown_matches and re.search(self.shown_matches, outcome.shown, re.I))
            or bool(self.tool_ran and self.tool_ran in outcome.tools_ran)
            or bool(self.input_tokens_over and outcome.input_tokens > self.input_tokens_over)
        )


@dataclass(frozen=True)
class AttackCase:
    """One attack, written down.

    Attributes:
        id: unique, e.g. ``doc-phish-01``.
        category: the OWASP risk it exercises (``LLM01``... see :data:`OWASP_LLM_TOP_10`).
        channel: what the attacker controls: ``user`` (the message), ``document`` (a retrieved
            passage) or ``tool`` (a tool's output).
        split: ``dev`` or ``held-out``.
        target: which system it attacks (the application decides what names mean).
        user: what the user typed.
        payload: the attacker's text in the channel: the retrieved passage or the tool output
            (empty for the ``user`` channel, where ``user`` is the attack).
        tool: for the ``tool`` channel, the tool whose output is the payload.
        success: how to tell the attack worked.
        note: what the attacker wants, in a line.
    """

    id: str
    category: str
    channel: str
    split: str
    target: str
    user: str
    success: SuccessCondition
    payload: str = ""
    tool: str = ""
    note: str = ""

    @property
    def risk(self) -> str:
        """The category with its OWASP name, e.g. ``LLM01 Prompt Injection``."""
        return f"{self.category} {OWASP_LLM_TOP_10[self.category]}"


_CONDITION_KEYS = {"shown_contains", "shown_matches", "tool_ran", "input_tokens_over"}
_CASE_KEYS = {
    "id",
    "category",
    "channel",
    "split",
    "target",
    "user",
    "payload",
    "tool",
    "success",
    "note",
}


def _condition(case_id: str, raw: Any) -> SuccessCondition:
    if not isinstance(raw, Mapping) or not raw:
        raise SettingsError(
            f"attack {case_id!r}: success must be a mapping with at least one of "
            f"{sorted(_CONDITION_KEYS)}."
        )
    unknown = sorted(set(raw) - _CONDITION_KEYS)
    if unknown:
        raise SettingsError(
            f"attack {case_id!r}: unknown success key(s) {unknown}; use {sorted(_CONDITION_KEYS)}."
        )
    contains = raw.get("shown_contains", ())
    if isinstance(contains, str):
        contains = (contains,)
    pattern = str(raw.get("shown_matches", ""))
    if pattern:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise SettingsError(
                f"attack {case_id!r}: shown_matches is not a valid regular expression ({exc})."
            ) from None
    return SuccessCondition(
        shown_contains=tuple(str(s) for s in contains),
        shown_matches=pattern,
        tool_ran=str(raw.get("tool_ran", "")),
        input_tokens_over=int(raw.get("input_tokens_over", 0)),
    )


def _case(raw: Any, position: int) -> AttackCase:
    if not isinstance(raw, Mapping):
        raise SettingsError(f"attack number {position} is not a mapping of fields.")
    case_id = str(raw.get("id", f"#{position}"))
    missing = sorted({"id", "category", "channel", "split", "target", "user", "success"} - set(raw))
    if missing:
        raise SettingsError(f"attack {case_id!r} lacks {missing}.")
    unknown = sorted(set(raw) - _CASE_KEYS)
    if unknown:
        raise SettingsError(
            f"attack {case_id!r}: unknown field(s) {unknown}; the fields are {sorted(_CASE_KEYS)}."
        )
    for key, allowed in (
        ("category", tuple(OWASP_LLM_TOP_10)),
        ("channel", ATTACK_CHANNELS),
        ("split", ATTACK_SPLITS),
    ):
        if raw[key] not in allowed:
            raise SettingsError(
                f"attack {case_id!r}: {key} {raw[key]!r} is not one of {list(allowed)}."
            )
    if raw["channel"] != "user" and not raw.get("payload"):
        raise SettingsError(
            f"attack {case_id!r}: a {raw['channel']} attack needs a payload "
            "(the text the attacker wrote there)."
        )
    return AttackCase(
        id=case_id,
        category=str(raw["category"]),
        channel=str(raw["channel"]),
        split=str(raw["split"]),
        target=str(raw["target"]),
        user=str(raw["user"]),
        success=_condition(case_id, raw["success"]),
        payload=str(raw.get("payload", "") or ""),
        tool=str(raw.get("tool", "") or ""),
        note=" ".join(str(raw.get("note", "")).split()),
    )


def load_attack_suite(path: str | Path) -> list[AttackCase]:
    """The attack cases in a YAML file (a list of mappings, or ``{cases: [...]}``).

    Raises:
        FileNotFoundError: no such file.
        SettingsError: a malformed case (the message names it), or duplicate ids.
    """
    import yaml

    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if isinstance(data, Mapping):
        data = data.get("cases")
    if not isinstance(data, list):
        raise SettingsError(f"{Path(path).name}: expected a list of attacks (or cases: [...]).")
    cases = [_case(raw, i) for i, raw in enumerate(data, 1)]
    seen: set[str] = set()
    for case in cases:
        if case.id in seen:
            raise SettingsError(f"{Path(path).name}: the id {case.id!r} is used twice.")
        seen.add(case.id)
    return cases


def success_table(
    cases: Sequence[AttackCase], succeeded: Sequence[bool], *, by: str = "category"
) -> pd.DataFrame:
    """Attack success rate per ``by`` (``category``, ``channel``, ``split``...), with a total row.

    Columns: ``attacks``, ``succeeded``, ``rate``, ``low``, ``high`` (95% Wilson interval).

    Raises:
        ValueError: ``succeeded`` does not have one entry per case, or ``by`` is not a field.
    """
    import pandas as pd

    if len(cases) != len(succeeded):
        raise ValueError(f"{len(cases)} cases but {len(succeeded)} results; pass one each.")
    if cases and not hasattr(cases[0], by):
        raise ValueError(f"by={by!r} is not a field of AttackCase.")
    groups: dict[str, list[bool]] = {}
    for case, hit in zip(cases, succeeded, strict=True):
        groups.setdefault(str(getattr(case, by)), []).append(bool(hit))
    groups["all"] = [bool(hit) for hit in succeeded]
    rows = []
    for key, hits in groups.items():
        r = rate(sum(hits), len(hits))
        rows.append(
            {
                by: key,
                "attacks": r.total,
                "succeeded": r.count,
                "rate": round(r.value, 3),
                "low": round(r.low, 3),
                "high": round(r.high, 3),
            }
        )
    return pd.DataFrame(rows).set_index(by)
