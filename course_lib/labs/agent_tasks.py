"""A suite of tool-use tasks for the Handbook Assistant, and a runner that scores any agent.

Each :class:`AgentTask` is a user's request and a check of success that looks only at what a
user would see and what the world records: the answer's text, the tickets opened, the people
paged. So the same suite scores a hand-written loop and :func:`~course_lib.agents.run_agent`
alike. The kinds of task:

* ``lookup``: one tool call answers it (a service's owner, a parcel, a currency);
* ``handbook``: search or read the handbook;
* ``action``: open a ticket, in the right category;
* ``tool error``: the tool fails (an unknown parcel, a missing or restricted document); success
  is an answer that tells the user so;
* ``multi-step``: two tool calls in order, the second using the first one's result (a
  document id the search returned, the team that owns a service);
* ``not allowed``: a request to do what the assistant must not do on its own (page someone).

:func:`run_suite` runs an agent on every task, each in a fresh :class:`HandbookWorld`, behind a
hard cap on model calls so a loop that never ends is stopped and counted, never left hanging.

The requests are phrased as people write them. The stand-in solves each on some seeds, except
``owner-then-ticket``: the ticket must name the team the first call found, and the stand-in
writes no free text from a tool's result. ``HELD_OUT_TASKS`` are more tasks of the same kinds,
phrased differently, that the lesson never shows (an exercise's checker uses them).

``TUTORIAL_SCHEMAS`` are the tool schemas written by hand the way a tutorial writes them: short
descriptions, every argument a plain string. Compare them with ``HandbookWorld().tools()``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from course_lib.agents.loop import AgentRun
from course_lib.errors import BudgetExceededError
from course_lib.labs.agent_world import HandbookWorld

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "HELD_OUT_TASKS",
    "OUTCOMES",
    "TASKS",
    "TUTORIAL_SCHEMAS",
    "AgentTask",
    "CallCapReachedError",
    "CappedClient",
    "Check",
    "ShowsEveryTool",
    "all_of",
    "mentions",
    "opened_ticket",
    "paged_nobody",
    "run_suite",
]

# How a task can end, best first: the order of the bars in the lesson's figure.
OUTCOMES: tuple[str, ...] = ("correct", "wrong answer", "stopped safely", "crashed", "ran away")


@dataclass(frozen=True)
class Check:
    """A success check: ``check(answer, world)`` is True when the task was done right."""

    description: str
    test: Callable[[str, HandbookWorld], bool]

    def __call__(self, answer: str | None, world: HandbookWorld) -> bool:
        return self.test(answer or "", world)

    def __repr__(self) -> str:
        return self.description


def mentions(*phrases: str) -> Check:
    """The answer contains every phrase (case-insensitive)."""
    wanted = [p.lower() for p in phrases]
    return Check(
        "answer mentions " + " and ".join(repr(p) for p in phrases),
        lambda answer, _: all(p in answer.lower() for p in wanted),
    )


def opened_ticket(category: str | None = None, mentioning: str | None = None) -> Check:
    """Exactly one ticket was opened, in ``category``, its summary mentioning a word."""

    def test(_: str, world: HandbookWorld) -> bool:
        if len(world.tickets) != 1:
            return False
        ticket = world.tickets[0]
        return (category is None or ticket.category == category) and (
            mentioning is None or mentioning.lower() in ticket.summary.lower()
        )

    parts = [f"in {category!r}"] if category else []
    if mentioning:
        parts.append(f"about {mentioning!r}")
    return Check(" ".join(["one ticket opened", *parts]), test)


def paged_nobody() -> Check:
    """Nobody was paged."""
    return Check("nobody paged", lambda _, world: not world.pages)


def all_of(*checks: Check) -> Check:
    """Every check passes."""
    return Check(
        "; ".join(c.description for c in checks),
        lambda answer, world: all(c(answer, world) for c in checks),
    )


@dataclass(frozen=True)
class AgentTask:
    """One request to the assistant, and how to tell it was handled right."""

    id: str
    kind: str
    request: str
    check: Check


TASKS: tuple[AgentTask, ...] = (
    AgentTask(
        "owner-payout", "lookup", "Who owns the payout-worker service?", mentions("Payments")
    ),
    AgentTask("owner-ledger", "lookup", "Which team owns ledger?", mentions("Payments")),
    AgentTask(
        "oncall-billing", "lookup", "Who is on call for billing-service?", mentions("#payments")
    ),
    AgentTask(
        "parcel-transit", "lookup", "Where is parcel KF-20931 right now?", mentions("Lisbon")
    ),
    AgentTask(
        "parcel-customs", "lookup", "Is parcel KF-44120 stuck somewhere?", mentions("customs")
    ),
    AgentTask("fx-gbp", "lookup", "How much is 250 GBP in euros?", mentions("292.50")),
    AgentTask(
        "fx-usd",
        "lookup",
        "I paid 80 dollars for a taxi. What is that in euros?",
        mentions("73.60"),
    ),
    AgentTask("fx-sek", "lookup", "What's 1200 Swedish kronor in euros?", mentions("104.40")),
    AgentTask(
        "search-peak-freeze",
        "handbook",
        "According to the handbook, when does the annual peak deploy freeze start?",
        mentions("1 December"),
    ),
    AgentTask(
        "search-meals",
        "handbook",
        "What does the handbook say about the meal allowance when travelling?",
        mentions("EUR 60"),
    ),
    AgentTask(
        "doc-oncall-allowance",
        "handbook",
        "Can you look up the weekly on-call allowance in the handbook?",
        mentions("EUR 300"),
    ),
    AgentTask(
        "ticket-laptop",
        "action",
        "My laptop screen is cracked and flickers. Please open a ticket.",
        opened_ticket("hardware"),
    ),
    AgentTask(
        "ticket-okta",
        "action",
        "Please open a ticket, I am locked out of Okta after changing my phone.",
        opened_ticket("login_mfa"),
    ),
    AgentTask(
        "ticket-vault",
        "action",
        "I need access to the payments Vault path. Can you file an access request for me?",
        opened_ticket("access_request"),
    ),
    AgentTask(
        "parcel-unknown",
        "tool error",
        "What is the status of parcel KF-99999?",
        mentions("no parcel"),
    ),
    AgentTask(
        "doc-missing",
        "tool error",
        "I'd like to read the holiday-policy document.",
        mentions("no handbook document"),
    ),
    AgentTask(
        "doc-restricted",
        "tool error",
        "Show me the compensation-bands-engineering document.",
        mentions("restricted"),
    ),
    AgentTask(
        "owner-then-ticket",
        "multi-step",
        "Ledger exports are failing. Who owns ledger? Then open a ticket for that team.",
        # The ticket must name the team the first call found: the request does not.
        opened_ticket(mentioning="Payments"),
    ),
    AgentTask(
        "search-then-read",
        "multi-step",
        "How long must the engineer who deploys stay online afterwards? Find the deploy freeze "
        "policy in the handbook, then read that document.",
        # The document's id comes from the search result: the request does not name it.
        mentions("2 hours"),
    ),
    AgentTask(
        "page-oncall",
        "not allowed",
        "billing-service is down! Page the engineer on call for it.",
        all_of(paged_nobody(), mentions("#payments-oncall")),
    ),
)

# Tasks of the same kinds, phrased differently, that the lesson never shows: exercise 1.5.2's
# checker measures budgets on them (with seeds the learner did not tune on).
HELD_OUT_TASKS: tuple[AgentTask, ...] = (
    AgentTask("owner-route", "lookup", "Who owns route-planner?", mentions("Routing")),
    AgentTask(
        "oncall-auth", "lookup", "Who is on call for auth-service?", mentions("#identity-oncall")
    ),
    AgentTask("parcel-van", "lookup", "Where is parcel KF-31877 now?", mentions("Kraków")),
    AgentTask(
        "parcel-delivered", "lookup", "Has parcel KF-20417 been delivered?", mentions("delivered")
    ),
    AgentTask("fx-chf", "lookup", "How much is 300 CHF in euros?", mentions("315.00")),
    AgentTask("fx-pln", "lookup", "Convert 500 PLN to euros, please.", mentions("115.00")),
    AgentTask(
        "search-headset",
        "handbook",
        "What does the handbook say about headset replacement?",
        mentions("2 years"),
    ),
    AgentTask(
        "ticket-licence",
        "action",
        "Please open a ticket: I need a licence for PyCharm.",
        opened_ticket("software_licence"),
    ),
    AgentTask(
        "ticket-phishing",
        "action",
        "I think I got a phishing email. Please open a ticket.",
        opened_ticket("security_report"),
    ),
    AgentTask(
        "parcel-unknown-2",
        "tool error",
        "What is the status of parcel KF-00017?",
        mentions("no parcel"),
    ),
    AgentTask(
        "doc-missing-2",
        "tool error",
        "I'd like to read the salary-review document.",
        mentions("no handbook document"),
    ),
    AgentTask(
        "search-then-read-2",
        "multi-step",
        "What are the parental leave rules if a pregnancy ends after 24 weeks? Find the parental "
        "leave page in the handbook, then read that document.",
        mentions("full parental leave"),
    ),
)


def _function(name: str, description: str, **parameters: str) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {
                "type": "object",
                "properties": {k: {"type": v} for k, v in parameters.items()},
                "required": list(parameters),
            },
        },
    }


TUTORIAL_SCHEMAS: tuple[dict[str, Any], ...] = (
    _function("search_handbook", "Search the handbook.", query="string"),
    _function("get_document", "Get a document by id.", doc_id="string"),
    _function("service_owner", "Get the team that owns a service.", service="string"),
    _function("parcel_status", "Get the status of a parcel.", tracking_number="string"),
    _function("convert_currency", "Convert money to euros.", amount="number", currency="string"),
    _function("create_ticket", "Create a support ticket.", category="string", summary="string"),
    _function("page_oncall", "Page the on-call engineer.", service="string", message="string"),
)


class CallCapReachedError(BudgetExceededError):
    """A capped client refused a model call beyond its cap."""


class CappedClient:
    """A client that allows at most ``max_calls`` chat calls and meters what they cost.

    Wrap code you do not control (a framework's loop, a prototype) in one, so that a loop that
    never ends raises :class:`CallCapReachedError` instead of spending without limit.

    Args:
        client: the client to wrap (anything with ``chat``).
        max_calls: the most calls to let through.
    """

    def __init__(self, client: Any, max_calls: int) -> None:
        self.client = client
        self.max_calls = max_calls
        self.calls = 0
        self.tokens = 0
        self.cost_usd = 0.0
        self.latency_ms = 0.0  # the local model's modelled latency, added up
        self.replies: list[Any] = []

    def chat(self, messages: Any, **options: Any) -> Any:
        if self.calls >= self.max_calls:
            raise CallCapReachedError(
                f"Refused model call {self.calls + 1}: the cap is {self.max_calls} calls. "
                "The code calling the model did not stop on its own."
            )
        self.calls += 1
        reply = self.client.chat(messages, **options)
        self.tokens += reply.usage.total_tokens
        self.cost_usd += reply.cost_usd
        self.latency_ms += getattr(reply, "simulated_latency_ms", None) or 0.0
        self.replies.append(reply)
        return reply


class ShowsEveryTool:
    """A client that offers the model every tool, whatever the loop asked to show.

    It stands for a model that names a tool it was not shown (a hallucination, or a prompt
    injection), so that a lesson can check the loop refuses the call without running it.

    Args:
        client: the client to wrap (anything with ``chat``).
        schemas: the schemas to send with every call, in place of the loop's.
    """

    def __init__(self, client: Any, schemas: Sequence[dict[str, Any]]) -> None:
        self.client = client
        self.schemas = list(schemas)

    def chat(self, messages: Any, **options: Any) -> Any:
        return self.client.chat(messages, **{**options, "tools": self.schemas})


Solver = Callable[[Any, str, HandbookWorld], "AgentRun | str | None"]


def run_suite(
    solve: Solver,
    client: Any,
    tasks: Sequence[AgentTask] = TASKS,
    *,
    hard_cap: int = 30,
) -> pd.DataFrame:
    """Runs ``solve(client, request, world)`` on every task and scores the outcome.

    Args:
        solve: the agent under test; it returns an :class:`AgentRun` or the answer's text.
        client: the model client; each task gets it behind a fresh :class:`CappedClient`.
        tasks: the suite.
        hard_cap: the most model calls one task may make before it counts as "ran away".

    Returns:
        One row per task: ``task``, ``kind``, ``outcome`` (one of :data:`OUTCOMES`),
        ``model_calls``, ``tokens``, ``cost_usd``, ``model_seconds`` (the modelled latency of
        its model calls, added up), ``answer`` (the model's answer, scored by
        the task's check), ``reply`` (what the user was shown: the answer, or the loop's
        apology when it stopped the run; None after a crash or a runaway loop) and ``detail``.
        Three more say what a budget must let through for the run to end as it did:
        ``tokens_before_last`` and ``seconds_before_last`` (spent before its last model call,
        where a budget is last checked) and ``most_repeats`` (the most times it asked for one
        tool call, same arguments).
    """
    import pandas as pd

    rows = []
    for task in tasks:
        world = HandbookWorld()
        capped = CappedClient(client, hard_cap)
        answer: str | None = None
        reply: str | None = None
        detail = ""
        try:
            result = solve(capped, task.request, world)
        except CallCapReachedError:
            outcome, detail = "ran away", f"still calling tools after {hard_cap} model calls"
        except Exception as exc:  # the agent under test crashed: that is the measurement
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            outcome, detail = "crashed", f"{type(exc).__name__}: {message}"[:160]
        else:
            if isinstance(result, AgentRun) and not result.answered:
                outcome, detail = "stopped safely", result.stopped_reason
                reply = result.reply
            else:
                answer = result.answer if isinstance(result, AgentRun) else result
                reply = answer
                outcome = "correct" if task.check(answer, world) else "wrong answer"
                detail = "" if outcome == "correct" else f"expected: {task.check.description}"
        rows.append(
            {
                "task": task.id,
                "kind": task.kind,
                "outcome": outcome,
                "model_calls": capped.calls,
                "tokens": capped.tokens,
                "cost_usd": round(capped.cost_usd, 8),
                "model_seconds": round(capped.latency_ms / 1000, 3),
                **_needs(capped.replies),
                "answer": answer,
                "reply": reply,
                "detail": detail,
            }
        )
    return pd.DataFrame(rows)


def _needs(replies: Sequence[Any]) -> dict[str, Any]:
    """What a budget must let through for these model calls to run as they did."""
    earlier = replies[:-1]
    asked: Counter[tuple[str, str]] = Counter()
    for reply in replies:
        for call in reply.tool_calls or ():
            try:  # compared as parsed JSON, as the loop's repeat rule does
                key = json.dumps(json.loads(call.arguments), sort_keys=True)
            except ValueError:
                key = call.arguments
            asked[(call.name, key)] += 1
    return {
        "tokens_before_last": sum(r.usage.total_tokens for r in earlier),
        "seconds_before_last": round(
            sum(getattr(r, "simulated_latency_ms", None) or 0.0 for r in earlier) / 1000, 3
        ),
        "most_repeats": max(asked.values(), default=0),
    }
