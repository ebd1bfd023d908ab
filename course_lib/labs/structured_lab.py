"""Lesson 1.2's measurements of structured output: failure kinds, repair costs, repair budgets.

* :func:`lesson_tickets` and :func:`held_out_tickets`: the lesson's fixed sample of the ticket
  set, and the tickets outside it, which only exercise 1.2.3's checker triages;
* :func:`json_wrapping`: how a prompt-only JSON reply was wrapped (a fence, a preamble...);
* :func:`kinds_table`: pydantic error types counted once per reply, ties in name order;
* :func:`cost_row`: calls, tokens and dollars per valid output of a run, with or without its
  repairs, the dollars summed exactly (as ``Decimal``) so that a total on a rounding boundary
  prints the same on every Python version;
* :class:`NoStrictClient` and :func:`repair_report`: a triage policy run on a provider without
  strict mode, on a bad day, with every call counted and every reply logged by the client (not
  by the policy's own report), a triage counted valid only when it is a logged reply's, and the
  worst case measured on a provider that breaks every reply.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from course_lib.errors import CourseLibError

if TYPE_CHECKING:
    import pandas as pd
    from pydantic import BaseModel

    from course_lib.llm import ChatResult

__all__ = [
    "BAD_DAY_RATE",
    "CALLS_CAP",
    "FEW_SHOT_TEMPLATE",
    "LESSON_SAMPLE_SEED",
    "CallsCapReachedError",
    "NoStrictClient",
    "RepairReport",
    "StrictModeUnavailableError",
    "TriagePolicy",
    "cost_row",
    "held_out_tickets",
    "json_wrapping",
    "kinds_table",
    "lesson_tickets",
    "repair_report",
]

LESSON_SAMPLE_SEED = 12
"""The ``random_state`` of the lesson's sample of tickets."""
LESSON_SAMPLE_SIZE = 200
BAD_DAY_RATE = 0.3
"""The share of replies the stand-in breaks on exercise 1.2.3's bad day, whichever the model,
on top of the model's own failures."""
CALLS_CAP = 10
"""Calls one ticket may take before :class:`NoStrictClient` stops an unbounded policy."""

TriagePolicy = Callable[[Any, "type[BaseModel]", str, str, int], Any]
"""``triage(client, schema, subject, body, seed)``: a StructuredResult (or the value, or None)."""


class StrictModeUnavailableError(CourseLibError, ValueError):
    """A request asked for strict mode from a provider that has none."""


class CallsCapReachedError(CourseLibError, RuntimeError):
    """A policy made more than :data:`CALLS_CAP` calls for one ticket."""


def lesson_tickets(n: int = LESSON_SAMPLE_SIZE) -> pd.DataFrame:
    """The lesson's sample: ``n`` tickets, the same on every run (the first ``n`` of 200)."""
    from course_lib.datasets import load_tickets

    sample = load_tickets().sample(LESSON_SAMPLE_SIZE, random_state=LESSON_SAMPLE_SEED)
    return sample.head(n).reset_index(drop=True)


def held_out_tickets() -> pd.DataFrame:
    """Every ticket outside the lesson's sample of 200: what the lesson never shows."""
    from course_lib.datasets import load_tickets

    tickets = load_tickets()
    sample = tickets.sample(LESSON_SAMPLE_SIZE, random_state=LESSON_SAMPLE_SEED)
    return tickets.drop(sample.index).reset_index(drop=True)


def json_wrapping(reply: str) -> str:
    """How a reply's JSON was wrapped: ``plain JSON``, ``in a code fence``, ``after a
    preamble``, ``with a comment after it``, or ``broken JSON (cut off or invalid)``."""
    import json

    try:
        json.loads(reply)
    except ValueError:
        pass
    else:
        return "plain JSON"
    if "```" in reply:
        return "in a code fence"
    if not reply.lstrip().startswith("{"):
        return "after a preamble"
    if "\n//" in reply:
        return "with a comment after it"
    return "broken JSON (cut off or invalid)"


def kinds_table(problem_lists: Iterable[Sequence[str]]) -> pd.DataFrame:
    """Error types counted once per reply, most frequent first, ties in name order.

    ``value_counts`` leaves the order of ties to the pandas version; sorting by name first,
    then stably by count, fixes it.
    """
    import pandas as pd

    kinds = [kind for kinds in problem_lists for kind in sorted(set(kinds))]
    counts = pd.Series(kinds, dtype=object).value_counts()
    counts = counts.sort_index().sort_values(ascending=False, kind="stable")
    return counts.rename("replies").to_frame()


def cost_row(results: Sequence[Any], *, repair: bool) -> dict[str, float]:
    """Calls per ticket, tokens and dollars per valid output of a run of ``generate_structured``.

    With ``repair=False`` only each ticket's first call counts (its cost is in ``errors[0]``
    when the first reply failed), and only the tickets valid at once count as valid.

    Each call's cost is exact to 1e-10 dollars; floats hold it only nearly, and a float sum's
    last digits depend on the order of the terms and on the Python version (3.12 changed
    ``sum``). Summed as ``Decimal`` and rounded half up, the figure is the same everywhere.
    """
    if repair:
        spent = [(r.attempts, r.total_tokens, r.cost_usd) for r in results]
        valid = sum(bool(r.ok) for r in results)
    else:
        first = [r.errors[0] if r.errors else r for r in results]
        spent = [(1, f.total_tokens, f.cost_usd) for f in first]
        valid = sum(bool(r.ok and r.attempts == 1) for r in results)
    calls = sum(c for c, _, _ in spent)
    tokens = sum(t for _, t, _ in spent)
    dollars = sum((Decimal(d).quantize(Decimal("1e-10")) for _, _, d in spent), Decimal(0))
    per_1000 = (1000 * dollars / max(valid, 1)).quantize(Decimal("0.0001"), ROUND_HALF_UP)
    return {
        "calls/ticket": round(calls / max(len(results), 1), 3),
        "tokens/valid output": round(tokens / max(valid, 1), 1),
        "$ per 1,000 valid": float(per_1000),
    }


class NoStrictClient:
    """A client of a provider without strict mode, counting every call of every ticket.

    It logs the current ticket's replies (every choice of each), so a triage can be traced to
    one of them. It refuses ``"strict": true`` as such a provider would (in one line), and
    stops a policy that makes more than :data:`CALLS_CAP` calls for one ticket, so an
    unbounded loop ends. A request for ``n`` choices counts as ``n`` calls: each is a reply
    the provider generates and bills, so asking for many choices at once does not hide a
    policy's real bound.
    """

    def __init__(self, client: Any) -> None:
        self._client = client
        self.calls = 0
        self.ticket_calls = 0
        self.ticket_replies: list[str] = []
        self.tokens = 0
        self.cost = Decimal(0)

    def start_ticket(self) -> None:
        self.ticket_calls = 0
        self.ticket_replies = []

    def chat(self, messages: Any, **options: Any) -> ChatResult:
        response_format = options.get("response_format")
        if isinstance(response_format, Mapping):
            spec = response_format.get("json_schema")
            if isinstance(spec, Mapping) and spec.get("strict") is True:
                raise StrictModeUnavailableError(
                    "This provider has no strict mode: send the schema without it "
                    "(generate_structured(..., strict=False))."
                )
        replies = int(options.get("n") or 1)  # n choices: n replies generated and billed
        if self.ticket_calls + replies > CALLS_CAP:
            raise CallsCapReachedError(
                f"More than {CALLS_CAP} calls for one ticket: the policy has no bound."
            )
        self.calls += replies
        self.ticket_calls += replies
        result = self._client.chat(messages, **options)
        self.ticket_replies.extend(_replies(result))
        self.tokens += result.usage.input_tokens + result.usage.output_tokens
        self.cost += Decimal(result.cost_usd).quantize(Decimal("1e-10"))
        return result


@dataclass(frozen=True)
class RepairReport:
    """A triage policy measured: valid share, calls, cost, and its worst case in calls."""

    tickets: int
    valid: int
    calls: int
    most_calls: int  # the most calls any one ticket took on this run
    outage_calls: int  # calls per ticket when every reply is broken: the policy's real bound
    cost_usd: float
    invented: int = 0  # triages that validate but are no reply of the model for their ticket

    @property
    def valid_share(self) -> float:
        return self.valid / max(self.tickets, 1)

    def line(self) -> str:
        """One line: the figures the exercise's target is about."""
        per_1000 = 1000 * self.cost_usd / max(self.valid, 1)
        return (
            f"valid {self.valid_share:.1%} of {self.tickets}, "
            f"{self.calls / max(self.tickets, 1):.2f} calls/ticket "
            f"(at most {self.most_calls}), ${per_1000:.4f} per 1,000 valid; "
            f"worst case {self.outage_calls} calls/ticket"
        )


def _replies(result: Any) -> list[str]:
    """Every reply text of one call: each choice when the raw response lists them."""
    choices = result.raw.get("choices") if isinstance(result.raw, Mapping) else None
    texts = [
        choice["message"]["content"]
        for choice in choices or ()
        if isinstance(choice, Mapping)
        and isinstance(choice.get("message"), Mapping)
        and isinstance(choice["message"].get("content"), str)
    ]
    if not texts and isinstance(result.content, str):
        texts = [result.content]
    return texts


def _value(outcome: Any) -> Any:
    """The triage a policy returned: a StructuredResult's value, or the value itself."""
    return getattr(outcome, "value", outcome)


def _run(
    policy: TriagePolicy,
    client: NoStrictClient,
    schema: type[BaseModel],
    tickets: pd.DataFrame,
    seed: int,
    check: type[BaseModel],
) -> tuple[int, int, int]:
    """Valid outputs, invented ones, and the most calls of one ticket.

    A triage is valid when ``check`` validates it and it equals the validated value of a reply
    the client logged for its ticket; one that validates but matches no reply was invented
    (a default, a copy of the subject...), and never counts.
    """
    from pydantic import BaseModel, ValidationError

    from course_lib.structured import validate_output

    valid = invented = most = 0
    for index, ticket in enumerate(tickets.itertuples()):
        client.start_ticket()
        value = _value(policy(client, schema, ticket.subject, ticket.body, seed + index))
        most = max(most, client.ticket_calls)
        if not isinstance(value, BaseModel):
            continue
        try:
            triage = check.model_validate(value.model_dump(mode="json")).model_dump(mode="json")
        except ValidationError:
            continue
        replied = (validate_output(reply, check).value for reply in client.ticket_replies)
        if any(r is not None and r.model_dump(mode="json") == triage for r in replied):
            valid += 1
        else:
            invented += 1
    return valid, invented, most


def repair_report(
    policy: TriagePolicy,
    schema: type[BaseModel],
    tickets: pd.DataFrame,
    *,
    seed: int = 0,
    rate: float = BAD_DAY_RATE,
    check: type[BaseModel] | None = None,
    outage_tickets: int = 3,
) -> RepairReport:
    """Run ``policy`` on ``tickets`` on a provider without strict mode that breaks ``rate``.

    Ticket ``i`` gets seed ``seed + i``. A triage counts as valid when ``check`` (default:
    ``schema``) validates it and it is the validated value of one of the ticket's replies;
    ``invented`` counts the ones that validate but match no reply. The worst case is
    measured, not declared: the policy runs on ``outage_tickets`` tickets with a provider that
    breaks every reply.

    Raises:
        StrictModeUnavailableError: the policy asked for strict mode.
        CallsCapReachedError: the policy made more than :data:`CALLS_CAP` calls for a ticket.
    """
    from course_lib.standin import FaultPlan, local_client

    check = check or schema
    day = NoStrictClient(local_client(faults=FaultPlan(malformed_rate=rate)))
    valid, invented, most = _run(policy, day, schema, tickets, seed, check)
    outage = NoStrictClient(local_client(faults=FaultPlan(malformed_rate=1.0)))
    _, outage_invented, outage_most = _run(
        policy, outage, schema, tickets.head(outage_tickets), seed, check
    )
    return RepairReport(
        tickets=len(tickets),
        valid=valid,
        calls=day.calls,
        most_calls=most,
        outage_calls=outage_most,
        cost_usd=float(day.cost),
        invented=invented + outage_invented,
    )


# The few-shot triage template of lesson 1.2 (exercise 1.2.1's reference answer): the lesson's
# later measurements use it, so a learner's passing variant does not change the stored figures.
FEW_SHOT_TEMPLATE = """You triage support tickets for the Kestrel Freight service desk.

Categories:
{% for name, meaning in categories.items() %}
- {{ name }}: {{ meaning }}
{% endfor %}

Examples:
{% for example in examples %}
Ticket:
{{ example.ticket }}
Answer: {{ example.answer | tojson }}

{% endfor %}
Respond in JSON, like the examples.
category is one of {{ categories | join(", ") }}.
priority is one of P1, P2, P3, P4.
summary is one line, at most 120 characters."""
