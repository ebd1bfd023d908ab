"""What an agent may do: an allow-list of tools, and a person's approval for destructive ones.

A prompt can be talked round; code cannot. So the last line of defence against a hijacked or
mistaken model (OWASP LLM06, excessive agency) sits in the tools, not in the prompt:

* :class:`ActionPolicy` names the tools the assistant may call on its own (``allowed``) and
  those it may call only with a person's approval (``needs_approval``); every other tool is
  not offered to the model at all;
* an **approver** is any callable that takes an :class:`ApprovalRequest` (the tool, its
  validated arguments, who asked, and the words they typed) and returns ``True`` to let the
  call run. In production it asks a person (a button in the chat, a ticket to a reviewer);
  here it is a function you can test. The default, :func:`deny_all`, approves nothing;
  anything but ``True`` (``"yes"``, ``None``, an exception) counts as no: fail closed;
* :func:`guard_tools` wraps the tools so that the policy and the approver apply to every call,
  whichever loop runs them, records each decision, and can screen every tool output (cutting
  injected instructions) before the model reads it.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from course_lib.agents import Tool
from course_lib.errors import SettingsError
from course_lib.guardrails.decisions import Decision, DecisionLog, Verdict

__all__ = [
    "ActionPolicy",
    "ApprovalRequest",
    "Approver",
    "Requester",
    "deny_all",
    "guard_tools",
]


@dataclass(frozen=True)
class Requester:
    """The person the agent acts for: what an approval policy checks the request against."""

    id: str
    team: str = ""
    email: str = ""


@dataclass(frozen=True)
class ApprovalRequest:
    """A tool call waiting for approval.

    Attributes:
        tool: the tool's name.
        arguments: the arguments, already validated against the tool's signature.
        requester: who the agent acts for.
        task: the request the person typed; what the model read afterwards (a document, a
            tool's output) is not in it, so an id found only there did not come from them.
    """

    tool: str
    arguments: Mapping[str, Any]
    requester: Requester
    task: str = ""


Approver = Callable[[ApprovalRequest], Any]
"""Returns ``True`` to approve; anything else, or an exception, denies."""


def deny_all(request: ApprovalRequest) -> bool:
    """The default approver: approves nothing, so a destructive tool never runs unasked."""
    return False


@dataclass(frozen=True, init=False)
class ActionPolicy:
    """Which tools the assistant may call on its own, and which only with approval.

    >>> policy = ActionPolicy(allowed={"search_handbook"}, needs_approval={"delete_document"})
    >>> policy.decide("delete_document"), policy.decide("page_oncall")
    ('approve', 'deny')

    Raises:
        SettingsError: a single string instead of a collection, a name that is not a string,
            or a tool in both sets.
    """

    allowed: frozenset[str]
    needs_approval: frozenset[str]

    def __init__(self, allowed: Iterable[str] = (), needs_approval: Iterable[str] = ()) -> None:
        for name, value in (("allowed", allowed), ("needs_approval", needs_approval)):
            if isinstance(value, str):
                raise SettingsError(
                    f"ActionPolicy({name}=...) takes a collection of tool names, not the single "
                    f"string {value!r}; write {name}={{{value!r}}}."
                )
            names = frozenset(value)
            bad = [n for n in names if not isinstance(n, str) or not n]
            if bad:
                raise SettingsError(f"ActionPolicy.{name} holds {bad!r}; use tool names.")
            object.__setattr__(self, name, names)
        both = sorted(self.allowed & self.needs_approval)
        if both:
            raise SettingsError(
                f"{both} are both allowed and in need of approval; put each tool in one set."
            )

    def decide(self, tool: str) -> Literal["allow", "approve", "deny"]:
        """``allow`` (runs), ``approve`` (runs if approved) or ``deny`` (not offered)."""
        if tool in self.allowed:
            return "allow"
        if tool in self.needs_approval:
            return "approve"
        return "deny"


def _as_text(output: Any) -> str:
    return output if isinstance(output, str) else json.dumps(output, default=str)


def _ask(approver: Approver, request: ApprovalRequest) -> tuple[bool, str]:
    """Whether the approver approved, and the reason to log; anything but True denies."""
    try:
        answer = approver(request)
    except Exception as exc:  # a broken approver must not let the call through
        return False, f"the approver raised {type(exc).__name__}, so the call was denied"
    if answer is True:
        return True, "approved"
    if answer is False:
        return False, "the approver said no"
    return False, f"the approver returned {answer!r}, not True, so the call was denied"


@dataclass
class _Guarded:
    """The pieces a wrapped tool needs at call time."""

    policy: ActionPolicy
    approver: Approver
    requester: Requester
    task: str
    log: DecisionLog
    screen: Callable[[str, str], Verdict] | None


def _wrap(tool: Tool, guard: _Guarded) -> Tool:
    needs_approval = guard.policy.decide(tool.name) == "approve"

    @functools.wraps(tool.function)
    def run(**arguments: Any) -> str:
        if needs_approval:
            request = ApprovalRequest(tool.name, dict(arguments), guard.requester, guard.task)
            approved, why = _ask(guard.approver, request)
            action = "approve" if approved else "deny"
            shown = json.dumps(arguments, sort_keys=True, default=str)[:120]
            guard.log.record(
                [Decision("approval", "action", action, f"{why}: {tool.name}({shown})", tool.name)]
            )
            if not approved:
                return (
                    f"Not done: {tool.name} needs a person's approval and did not get it "
                    f"({why}). Nothing was changed. Tell the user it was not done."
                )
        output = _as_text(tool.function(**arguments))
        if guard.screen is None:
            return output
        verdict = guard.screen(output, tool.name)
        if verdict.blocked:
            return f"[{tool.name} output withheld: {'; '.join(verdict.reasons)}]"
        return verdict.text

    return Tool(run, tool.schema, tool.side_effects)


def guard_tools(
    tools: Sequence[Tool],
    policy: ActionPolicy,
    *,
    approver: Approver = deny_all,
    requester: Requester | None = None,
    task: str = "",
    screen: Callable[[str, str], Verdict] | None = None,
    log: DecisionLog | None = None,
) -> list[Tool]:
    """The tools the policy lets the model see, each wrapped to enforce it.

    Args:
        tools: the application's tools (``course_lib.agents.Tool``).
        policy: what may run on its own, and what needs approval.
        approver: asked before every call to a tool in ``policy.needs_approval``.
        requester: who the agent acts for (passed to the approver).
        task: what they asked, as typed (passed to the approver).
        screen: called as ``screen(output, tool_name)`` on every tool output; a blocked verdict
            withholds the output, otherwise the model reads ``verdict.text``.
        log: where decisions go (a new log when None).

    Raises:
        SettingsError: ``approver`` is not callable, or the policy names tools that do not exist.
    """
    if not callable(approver):
        raise SettingsError(
            f"approver must be a function taking an ApprovalRequest, got {type(approver).__name__}."
        )
    names = {t.name for t in tools}
    unknown = sorted((policy.allowed | policy.needs_approval) - names)
    if unknown:
        raise SettingsError(
            f"the policy names tools that do not exist: {unknown}; the tools are {sorted(names)}."
        )
    guard = _Guarded(
        policy,
        approver,
        requester or Requester("anonymous"),
        task,
        log if log is not None else DecisionLog(),
        screen,
    )
    kept = []
    for tool in tools:
        if policy.decide(tool.name) == "deny":
            continue
        kept.append(_wrap(tool, guard))
    return kept
