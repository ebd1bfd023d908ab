"""Guardrails: checks on what goes into and out of the assistant, and on what its tools may do.

>>> from course_lib.guardrails import ActionPolicy, Guardrails
>>> guards = Guardrails(
...     allowed_domains=["kestrel.example"],
...     allowed_contacts=["kestrel.example", "+44 113 555 0142"],
...     policy=ActionPolicy(allowed={"search_handbook"}, needs_approval={"delete_document"}),
... )
>>> guards.check_output("Send your password to it-verify@kestrel-support.example").blocked
True

The modules, one concern each:

* :mod:`~course_lib.guardrails.injection`: injected instructions in user input, documents and
  tool output (:data:`INJECTION_RULES`, :func:`find_injection_attempts`,
  :func:`remove_instructions`), and marking data as data (:func:`delimit`);
* :mod:`~course_lib.guardrails.output`: links off an allow-list (:func:`untrusted_links`),
  active HTML, secrets, personal data (:func:`redact_personal_data`, sparing published
  contacts), a leaked system prompt, requests for credentials;
* :func:`find_personal_data`, :class:`PersonalData`, :data:`PERSONAL_DATA_KINDS`: the course's
  one personal-data detector (:mod:`course_lib.personal_data`), shared with the traces'
  redaction and re-exported here; answers get ``[<kind> removed]``
  (:data:`PERSONAL_DATA_REMOVED`), logs and traces ``[REDACTED:<kind>]``;
* :mod:`~course_lib.guardrails.actions`: :class:`ActionPolicy` (an allow-list, and tools that
  need approval), approvers (:func:`deny_all` by default) and :func:`guard_tools`;
* :mod:`~course_lib.guardrails.guard`: :class:`Guardrails`, all of it configured once, each
  decision recorded with its reason (:mod:`~course_lib.guardrails.decisions`);
* :mod:`~course_lib.guardrails.suite`: attack cases with checkable success conditions, mapped
  to the OWASP Top 10 for LLM applications, and success rates with Wilson intervals
  (:mod:`~course_lib.guardrails.rates`).

Importing this package is cheap: each name loads its module on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from course_lib._lazy import lazy_exports

if TYPE_CHECKING:
    from course_lib.guardrails.actions import (
        ActionPolicy,
        ApprovalRequest,
        Approver,
        Requester,
        deny_all,
        guard_tools,
    )
    from course_lib.guardrails.decisions import (
        ACTIONS,
        CHANNELS,
        Decision,
        DecisionLog,
        Verdict,
    )
    from course_lib.guardrails.guard import LINK_REMOVED, Guardrails
    from course_lib.guardrails.injection import (
        DATA_NOT_INSTRUCTIONS,
        INJECTION_RULES,
        Finding,
        Rule,
        delimit,
        find_injection_attempts,
        remove_instructions,
        rule,
    )
    from course_lib.guardrails.output import (
        PERSONAL_DATA_REMOVED,
        Link,
        check_domains,
        contains_credential,
        find_active_html,
        find_credential_requests,
        find_links,
        host_allowed,
        leaks_system_prompt,
        redact_credentials,
        redact_personal_data,
        untrusted_links,
    )
    from course_lib.guardrails.rates import Rate, rate
    from course_lib.guardrails.suite import (
        ATTACK_CHANNELS,
        ATTACK_SPLITS,
        OWASP_LLM_TOP_10,
        AttackCase,
        AttackOutcome,
        SuccessCondition,
        load_attack_suite,
        success_table,
    )
    from course_lib.personal_data import PERSONAL_DATA_KINDS, PersonalData, find_personal_data

_EXPORTS = {
    "ActionPolicy": "course_lib.guardrails.actions",
    "ApprovalRequest": "course_lib.guardrails.actions",
    "Approver": "course_lib.guardrails.actions",
    "Requester": "course_lib.guardrails.actions",
    "deny_all": "course_lib.guardrails.actions",
    "guard_tools": "course_lib.guardrails.actions",
    "ACTIONS": "course_lib.guardrails.decisions",
    "CHANNELS": "course_lib.guardrails.decisions",
    "Decision": "course_lib.guardrails.decisions",
    "DecisionLog": "course_lib.guardrails.decisions",
    "Verdict": "course_lib.guardrails.decisions",
    "LINK_REMOVED": "course_lib.guardrails.guard",
    "Guardrails": "course_lib.guardrails.guard",
    "DATA_NOT_INSTRUCTIONS": "course_lib.guardrails.injection",
    "INJECTION_RULES": "course_lib.guardrails.injection",
    "Finding": "course_lib.guardrails.injection",
    "Rule": "course_lib.guardrails.injection",
    "delimit": "course_lib.guardrails.injection",
    "find_injection_attempts": "course_lib.guardrails.injection",
    "remove_instructions": "course_lib.guardrails.injection",
    "rule": "course_lib.guardrails.injection",
    "Link": "course_lib.guardrails.output",
    "check_domains": "course_lib.guardrails.output",
    "contains_credential": "course_lib.guardrails.output",
    "find_active_html": "course_lib.guardrails.output",
    "find_credential_requests": "course_lib.guardrails.output",
    "find_links": "course_lib.guardrails.output",
    "host_allowed": "course_lib.guardrails.output",
    "leaks_system_prompt": "course_lib.guardrails.output",
    "redact_credentials": "course_lib.guardrails.output",
    "untrusted_links": "course_lib.guardrails.output",
    "PERSONAL_DATA_REMOVED": "course_lib.guardrails.output",
    "redact_personal_data": "course_lib.guardrails.output",
    "PERSONAL_DATA_KINDS": "course_lib.personal_data",
    "PersonalData": "course_lib.personal_data",
    "find_personal_data": "course_lib.personal_data",
    "Rate": "course_lib.guardrails.rates",
    "rate": "course_lib.guardrails.rates",
    "ATTACK_CHANNELS": "course_lib.guardrails.suite",
    "ATTACK_SPLITS": "course_lib.guardrails.suite",
    "OWASP_LLM_TOP_10": "course_lib.guardrails.suite",
    "AttackCase": "course_lib.guardrails.suite",
    "AttackOutcome": "course_lib.guardrails.suite",
    "SuccessCondition": "course_lib.guardrails.suite",
    "load_attack_suite": "course_lib.guardrails.suite",
    "success_table": "course_lib.guardrails.suite",
}

__all__ = [
    "ACTIONS",
    "ATTACK_CHANNELS",
    "ATTACK_SPLITS",
    "CHANNELS",
    "DATA_NOT_INSTRUCTIONS",
    "INJECTION_RULES",
    "LINK_REMOVED",
    "OWASP_LLM_TOP_10",
    "PERSONAL_DATA_KINDS",
    "PERSONAL_DATA_REMOVED",
    "ActionPolicy",
    "ApprovalRequest",
    "Approver",
    "AttackCase",
    "AttackOutcome",
    "Decision",
    "DecisionLog",
    "Finding",
    "Guardrails",
    "Link",
    "PersonalData",
    "Rate",
    "Requester",
    "Rule",
    "SuccessCondition",
    "Verdict",
    "check_domains",
    "contains_credential",
    "delimit",
    "deny_all",
    "find_active_html",
    "find_credential_requests",
    "find_injection_attempts",
    "find_links",
    "find_personal_data",
    "guard_tools",
    "host_allowed",
    "leaks_system_prompt",
    "load_attack_suite",
    "rate",
    "redact_credentials",
    "redact_personal_data",
    "remove_instructions",
    "rule",
    "success_table",
    "untrusted_links",
]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
