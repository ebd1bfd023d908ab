"""The guardrails of an assistant in one object: configure once, check every channel.

>>> guards = Guardrails(allowed_domains=["kestrel.example"], allowed_contacts=["kestrel.example"])
>>> guards.check_output("Details: https://collect.attacker.example/p?d=1").text
'Details: [link removed]'

Text reaches a model through several channels, and each gets the check that fits it:

======== ===================================================== ==============================
channel  what arrives                                          :class:`Guardrails` does
======== ===================================================== ==============================
user     the user's message                                    blocks it if it is too long
                                                               (unbounded consumption) or
                                                               matches an injection rule
document a retrieved passage                                   cuts the sentences that carry
tool     a tool's output                                       instructions (or drops it all)
output   the model's answer                                    blocks a leaked system prompt
                                                               or a request for credentials;
                                                               removes links off the
                                                               allow-list and active HTML;
                                                               redacts secrets and personal
                                                               data
action   a tool call                                           allow-list and approval
                                                               (:meth:`guard_tools`)
======== ===================================================== ==============================

Every check returns a :class:`~course_lib.guardrails.decisions.Verdict` and adds its
decisions, each with a reason, to :attr:`Guardrails.log`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from course_lib.errors import SettingsError
from course_lib.guardrails.actions import ActionPolicy, Approver, Requester, deny_all, guard_tools
from course_lib.guardrails.decisions import CHANNELS, Decision, DecisionLog, Verdict
from course_lib.guardrails.injection import (
    INJECTION_RULES,
    Rule,
    find_injection_attempts,
    remove_instructions,
)
from course_lib.guardrails.output import (
    check_domains,
    find_active_html,
    find_credential_requests,
    leaks_system_prompt,
    redact_credentials,
    redact_personal_data,
    untrusted_links,
)
from course_lib.personal_data import PERSONAL_DATA_KINDS, find_personal_data

if TYPE_CHECKING:
    from course_lib.agents import Tool

__all__ = ["LINK_REMOVED", "Guardrails"]

LINK_REMOVED = "[link removed]"
"""What replaces a link to a host off the allow-list, or a piece of active HTML."""


def _cut(text: str, spans: Sequence[tuple[int, int]], replacement: str) -> str:
    for start, end in sorted(spans, reverse=True):
        text = text[:start] + replacement + text[end:]
    return text


@dataclass
class Guardrails:
    """Input checks, output checks, personal-data redaction and a tool policy, configured once.

    Args:
        allowed_domains: hosts links may point to (each covers its subdomains), e.g.
            ``["kestrel.example"]``. Empty: every absolute link in an answer is removed.
        allowed_contacts: published contacts that are not personal data: phone numbers, e-mail
            addresses, or e-mail domains (``kestrel.example`` spares every company address).
        personal_data: the kinds of personal data to redact from answers (see
            :data:`~course_lib.personal_data.PERSONAL_DATA_KINDS`); each becomes
            ``[<kind> removed]``.
        max_input_chars: the longest user message accepted.
        system_prompt: the prompt the model runs with; an answer repeating a run of it is
            blocked (empty: no leak check).
        injection_rules: the patterns of injected instructions.
        on_injection: for documents and tool outputs, ``remove`` the sentences with
            instructions (the rest is kept) or ``drop`` the whole text.
        block_credential_requests: block an answer that asks for a password or an MFA code.
        secrets: values to hide in answers besides the registered ones.
        policy: the tools the agent may use on its own and with approval (:meth:`guard_tools`).
        approver: asked before each call to a tool that needs approval; denies by default.

    Raises:
        SettingsError: a bad value, named with what to write instead.
    """

    allowed_domains: Sequence[str] = ()
    allowed_contacts: Sequence[str] = ()
    personal_data: Sequence[str] = PERSONAL_DATA_KINDS
    max_input_chars: int = 4_000
    system_prompt: str = ""
    injection_rules: Sequence[Rule] = INJECTION_RULES
    on_injection: str = "remove"
    block_credential_requests: bool = True
    secrets: Sequence[str] = ()
    policy: ActionPolicy | None = None
    approver: Approver = deny_all
    log: DecisionLog = field(default_factory=DecisionLog, repr=False)

    def __post_init__(self) -> None:
        self.allowed_domains = check_domains(self.allowed_domains)
        if isinstance(self.allowed_contacts, str):
            self.allowed_contacts = (self.allowed_contacts,)
        # Raises SettingsError on an unknown kind or a contact that is not a string.
        find_personal_data("", self.personal_data, allow=self.allowed_contacts)
        if isinstance(self.personal_data, str):
            self.personal_data = (self.personal_data,)
        if (
            isinstance(self.max_input_chars, bool)
            or not isinstance(self.max_input_chars, int)
            or self.max_input_chars < 1
        ):
            raise SettingsError(
                f"max_input_chars must be a positive whole number, got {self.max_input_chars!r}."
            )
        if self.on_injection not in ("remove", "drop"):
            raise SettingsError(f"on_injection is 'remove' or 'drop', got {self.on_injection!r}.")
        if not all(isinstance(r, Rule) for r in self.injection_rules):
            raise SettingsError("injection_rules must be Rule objects; build them with rule().")
        if not callable(self.approver):
            raise SettingsError(
                "approver must be a function taking an ApprovalRequest and returning True to "
                f"approve, got {type(self.approver).__name__}."
            )
        if not isinstance(self.system_prompt, str):
            raise SettingsError("system_prompt must be the prompt's text (a string).")

    def _done(self, verdict: Verdict) -> Verdict:
        self.log.record(verdict.decisions)
        return verdict

    # -- input ---------------------------------------------------------------------------

    def check_input(self, text: str, *, source: str = "") -> Verdict:
        """The user's message: blocked when too long or when it matches an injection rule."""
        if len(text) > self.max_input_chars:
            reason = (
                f"the message has {len(text):,} characters; the limit is {self.max_input_chars:,}"
            )
            return self._done(
                Verdict(text, True, (Decision("length", "user", "block", reason, source),))
            )
        findings = find_injection_attempts(text, self.injection_rules)
        if findings:
            decisions = tuple(
                Decision(
                    "injection", "user", "block", f"{f.reason} ({f.rule}): {f.excerpt!r}", source
                )
                for f in findings
            )
            return self._done(Verdict(text, True, decisions))
        return Verdict(text)

    def screen_data(self, text: str, *, source: str = "", channel: str = "document") -> Verdict:
        """A retrieved passage or a tool's output: injected instructions cut out (or all of it)."""
        cleaned, findings = remove_instructions(text, self.injection_rules)
        if not findings:
            return Verdict(text)
        action = "block" if self.on_injection == "drop" else "remove"
        decisions = tuple(
            Decision("injection", channel, action, f"{f.reason} ({f.rule}): {f.excerpt!r}", source)
            for f in findings
        )
        if self.on_injection == "drop":
            return self._done(Verdict(text, True, decisions))
        return self._done(Verdict(cleaned, False, decisions))

    # -- output --------------------------------------------------------------------------

    def _blocking(self, text: str, source: str) -> tuple[Decision, ...]:
        decisions: list[Decision] = []
        if self.system_prompt and leaks_system_prompt(text, self.system_prompt):
            decisions.append(
                Decision(
                    "system_prompt", "output", "block", "repeats a run of the system prompt", source
                )
            )
        if self.block_credential_requests:
            for sentence in find_credential_requests(text):
                shown = sentence if len(sentence) <= 80 else sentence[:77] + "..."
                decisions.append(
                    Decision(
                        "credentials",
                        "output",
                        "block",
                        f"asks the user for a credential: {shown!r}",
                        source,
                    )
                )
        return tuple(decisions)

    def check_output(self, text: str, *, source: str = "") -> Verdict:
        """The model's answer, checked and cleaned before anyone sees it."""
        blocking = self._blocking(text, source)
        if blocking:
            return self._done(Verdict(text, True, blocking))
        decisions: list[Decision] = []
        links = untrusted_links(text, self.allowed_domains)
        for link in links:
            kind = "image" if link.image else "link"
            decisions.append(
                Decision(
                    "links",
                    "output",
                    "remove",
                    f"{kind} to {link.host or 'an unknown host'} is not on the allow-list",
                    source,
                )
            )
        text = _cut(text, [(link.start, link.end) for link in links], LINK_REMOVED)
        html = find_active_html(text)
        if html:
            decisions.append(
                Decision("html", "output", "remove", f"{len(html)} piece(s) of active HTML", source)
            )
            text = _cut(text, html, LINK_REMOVED)
        hidden = redact_credentials(text, self.secrets)
        if hidden != text:
            decisions.append(Decision("secrets", "output", "redact", "a credential", source))
            text = hidden
        text, found = redact_personal_data(text, self.personal_data, allow=self.allowed_contacts)
        for item in found:
            kind = item.kind.replace("_", " ")
            article = "an" if kind[0] in "aeiou" else "a"
            decisions.append(
                Decision("personal_data", "output", "redact", f"{article} {kind}", source)
            )
        return self._done(Verdict(text, False, tuple(decisions)))

    # -- any channel, and tools ----------------------------------------------------------

    def check(self, text: str, channel: str, *, source: str = "") -> Verdict:
        """The check that fits ``channel``: ``user``, ``document``, ``tool`` or ``output``.

        Raises:
            ValueError: an unknown channel (``action`` goes through :meth:`guard_tools`).
        """
        if channel == "user":
            return self.check_input(text, source=source)
        if channel in ("document", "tool"):
            return self.screen_data(text, source=source, channel=channel)
        if channel == "output":
            return self.check_output(text, source=source)
        known = [c for c in CHANNELS if c != "action"]
        raise ValueError(f"unknown channel {channel!r}; use one of {known}.")

    def guard_tools(
        self, tools: Sequence[Tool], *, requester: Requester | None = None, task: str = ""
    ) -> list[Tool]:
        """``tools`` under :attr:`policy` and :attr:`approver`, each output screened.

        Raises:
            SettingsError: no policy is configured, or it names tools that do not exist.
        """
        if self.policy is None:
            raise SettingsError(
                "this Guardrails has no policy; pass policy=ActionPolicy(allowed=..., "
                "needs_approval=...) to say which tools the agent may use."
            )
        return guard_tools(
            tools,
            self.policy,
            approver=self.approver,
            requester=requester,
            task=task,
            screen=lambda output, name: self.screen_data(output, source=name, channel="tool"),
            log=self.log,
        )
