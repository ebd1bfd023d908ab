"""An agent loop that always ends: budgets, an allow-list, validated arguments, a full trace.

The loop a tutorial writes asks the model, runs whatever tool it names, sends the result back
and goes round again until the model answers. That loop never ends when the model keeps
calling a failing tool, crashes when a tool raises or the arguments are not JSON, and runs any
tool the model names. :func:`run_agent` is the same loop with the engineering added:

* every run stops: after ``max_steps`` model calls, when the tokens or dollars spent reach the
  budget, or when the model asks for the very same call ``max_repeats`` + 1 times;
* only tools on the allow-list are shown to the model, and a call to any other is refused;
* arguments are validated against the tool's signature before it runs;
* a bad argument or an exception inside a tool becomes an error message sent back to the model
  as the tool's result, so the model can correct itself and the loop never crashes;
* every model call and tool call is recorded as a :class:`Step` with its tokens and cost;
* when the model sends several calls in one message (parallel tool calls), every one runs, in
  order, and each ``tool_call_id`` gets its own ``tool`` message before the next model call.

>>> from course_lib.labs import HandbookWorld
>>> from course_lib.llm.client import LLMClient
>>> world = HandbookWorld()
>>> client = LLMClient.from_settings()
>>> run = run_agent(client, "Who owns payout-worker?", world.tools(), max_steps=4)
>>> run.stopped_reason, run.answer
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

from course_lib.agents.tools import Tool, ToolArgumentError

if TYPE_CHECKING:
    import pandas as pd

    from course_lib.llm.client import ChatResult, ToolCall

__all__ = [
    "STOP_REASONS",
    "AgentRun",
    "ChatClient",
    "RunTotals",
    "Step",
    "StepKind",
    "run_agent",
    "stop_reason",
]

StepKind = Literal["model", "tool", "invalid_arguments", "tool_error", "refused"]
# Why a run ended. Only "answered" means the model finished on its own.
STOP_REASONS: dict[str, str] = {
    "answered": "the model answered",
    "max_steps": "the step budget (model calls) ran out",
    "budget": "the token or cost budget ran out",
    "repeated_call": "the model kept asking for the same call",
    "tool_not_allowed": "the model asked for a tool outside the allow-list",
    "model_error": "the model call failed",
}


class ChatClient(Protocol):
    """What the loop needs from a client: :class:`course_lib.llm.client.LLMClient` fits."""

    def chat(self, messages: Any, **options: Any) -> ChatResult: ...


@dataclass(frozen=True)
class Step:
    """One entry of a run's trace: a model call, or what happened to one tool call.

    Attributes:
        kind: ``model`` (a call to the model), ``tool`` (a tool ran), ``invalid_arguments``
            (the arguments failed validation), ``tool_error`` (the tool raised), ``refused``
            (the tool is not on the allow-list).
        tool: the tool the model asked for (for a model step: the first one, if any).
        arguments: the arguments as the model wrote them (JSON text).
        result: the model's answer, or the text sent back to the model as the tool's result.
        tokens: tokens billed (model steps only).
        cost_usd: dollars billed (model steps only).
        latency_ms: the model's modelled latency (model steps of the local model).
    """

    kind: StepKind
    tool: str | None = None
    arguments: str | None = None
    result: str | None = None
    tokens: int = 0
    cost_usd: float = 0.0
    latency_ms: float = 0.0

    @property
    def call(self) -> tuple[str, str] | None:
        """``(tool, arguments)`` when this model step asked for a tool, else None."""
        if self.kind != "model" or self.tool is None:
            return None
        return (self.tool, _canonical(self.arguments))


def _canonical(arguments: str | None) -> str:
    """The arguments in one spelling, so that key order or spacing does not hide a repeat."""
    try:
        return json.dumps(json.loads(arguments or "{}"), sort_keys=True)
    except ValueError:
        return arguments or ""


@dataclass(frozen=True)
class RunTotals:
    """What a run spent."""

    model_calls: int
    tool_calls: int
    input_tokens: int
    output_tokens: int
    cost_usd: float
    latency_ms: float  # modelled latency of the model calls, added up
    # Input tokens the provider served from its prompt cache (part of input_tokens).
    cached_input_tokens: int = field(default=0, repr=False)

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass(frozen=True)
class AgentRun:
    """The outcome of :func:`run_agent`: the answer (if any), why it stopped, and the trace."""

    task: str
    answer: str | None
    stopped_reason: str
    steps: tuple[Step, ...]
    totals: RunTotals
    detail: str = ""  # one line on why the run stopped, when it did not answer
    messages: tuple[dict[str, Any], ...] = field(default=(), repr=False)

    @property
    def answered(self) -> bool:
        return self.stopped_reason == "answered"

    @property
    def reply(self) -> str:
        """What to show the user: the answer, or an apology that says why there is none."""
        if self.answer is not None:
            return self.answer
        return f"Sorry, I could not finish this request: {self.detail}"

    def trace(self) -> pd.DataFrame:
        """The steps as a table, one row per step (pandas is imported here)."""
        import pandas as pd

        rows = [
            {
                "step": i,
                "kind": s.kind,
                "tool": s.tool or "",
                "arguments": _shorten(s.arguments or "", 48),
                "result": _shorten(s.result or "", 72),
                "tokens": s.tokens,
                "cost_usd": s.cost_usd,
            }
            for i, s in enumerate(self.steps, 1)
        ]
        return pd.DataFrame(rows).set_index("step")


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def stop_reason(
    steps: Sequence[Step],
    *,
    max_steps: int,
    max_tokens: int | None = None,
    max_cost_usd: float | None = None,
    max_repeats: int | None = 2,
) -> str | None:
    """Whether a run must stop now, before it runs the tools the last model step asked for.

    Checked in this order: the step budget (model calls so far ``>= max_steps``), the token and
    cost budgets (spent so far ``>=`` the budget), then repetition: the last model step asks for
    a call (same tool, same arguments) that earlier model steps already asked for
    ``max_repeats`` times. With ``max_repeats=2`` a call may run twice (one retry); asking for it
    a third time stops the run.

    Returns:
        ``"max_steps"``, ``"budget"``, ``"repeated_call"``, or None to go on.
    """
    model_steps = [s for s in steps if s.kind == "model"]
    if len(model_steps) >= max_steps:
        return "max_steps"
    tokens = sum(s.tokens for s in steps)
    cost = math.fsum(s.cost_usd for s in steps)  # exact: the same on every Python version
    if (max_tokens is not None and tokens >= max_tokens) or (
        max_cost_usd is not None and cost >= max_cost_usd
    ):
        return "budget"
    if max_repeats is not None and model_steps and model_steps[-1].call is not None:
        last = model_steps[-1].call
        earlier = sum(1 for s in model_steps[:-1] if s.call == last)
        if earlier >= max_repeats:
            return "repeated_call"
    return None


def _totals(
    steps: Sequence[Step], input_tokens: int, output_tokens: int, cached_input_tokens: int = 0
) -> RunTotals:
    return RunTotals(
        model_calls=sum(1 for s in steps if s.kind == "model"),
        tool_calls=sum(1 for s in steps if s.kind != "model"),
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cost_usd=round(math.fsum(s.cost_usd for s in steps), 10),
        latency_ms=round(math.fsum(s.latency_ms for s in steps), 3),
        cached_input_tokens=cached_input_tokens,
    )


def _run_tool(tool: Tool, arguments: str) -> tuple[StepKind, str]:
    """Runs one validated tool call; any failure becomes an error text for the model."""
    try:
        values = tool.validate(arguments)
    except ToolArgumentError as exc:
        return "invalid_arguments", f"Error: {exc}"
    try:
        output = tool.function(**values)
    except Exception as exc:  # a tool's failure is the model's information, not a crash
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return "tool_error", f"Error: {tool.name} failed: {type(exc).__name__}: {detail}"
    return "tool", output if isinstance(output, str) else json.dumps(output, default=str)


def _tool_set(
    tools: Sequence[Tool], allowed_tools: Sequence[str] | None
) -> tuple[dict[str, Tool], set[str], list[dict[str, Any]]]:
    """The tools by name, the names this run may use, and the schemas shown to the model."""
    by_name = {t.name: t for t in tools}
    allowed = set(by_name) if allowed_tools is None else set(allowed_tools)
    unknown = sorted(allowed - set(by_name))
    if unknown:
        raise ValueError(f"allowed_tools names tools that do not exist: {unknown}.")
    offered = [t.schema for t in tools if t.name in allowed]
    return by_name, allowed, offered


@dataclass
class _Transcript:
    """A run in progress: the conversation, the trace, and the tokens billed so far."""

    task: str
    messages: list[dict[str, Any]]
    steps: list[Step] = field(default_factory=list)
    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0

    def record_reply(self, reply: ChatResult) -> None:
        """A model call: its step (with the first tool it asks for), tokens and message."""
        self.input_tokens += reply.usage.input_tokens
        self.output_tokens += reply.usage.output_tokens
        self.cached_input_tokens += getattr(reply.usage, "cached_input_tokens", 0)
        first = reply.tool_calls[0] if reply.tool_calls else None
        self.steps.append(
            Step(
                "model",
                tool=first.name if first else None,
                arguments=first.arguments if first else None,
                result=reply.content,
                tokens=reply.usage.total_tokens,
                cost_usd=reply.cost_usd,
                latency_ms=reply.simulated_latency_ms or 0.0,
            )
        )
        self.messages.append(reply.message)

    def record_tool(self, call: ToolCall, kind: StepKind, result: str) -> None:
        """A tool call's outcome: its step, and its result sent back to the model."""
        self.steps.append(Step(kind, call.name, call.arguments, result))
        self.messages.append({"role": "tool", "tool_call_id": call.id, "content": result})

    def refuse(self, call: ToolCall) -> AgentRun:
        """Ends the run on a call to a tool outside the allow-list."""
        self.steps.append(Step("refused", call.name, call.arguments, "not on the allow-list"))
        return self.finish(
            "tool_not_allowed",
            detail=f"the model asked for {call.name!r}, which this assistant may not use.",
        )

    def finish(self, reason: str, answer: str | None = None, detail: str = "") -> AgentRun:
        return AgentRun(
            task=self.task,
            answer=answer,
            stopped_reason=reason,
            steps=tuple(self.steps),
            totals=_totals(
                self.steps, self.input_tokens, self.output_tokens, self.cached_input_tokens
            ),
            detail=detail,
            messages=tuple(self.messages),
        )


def _stop_detail(steps: Sequence[Step], reason: str) -> str:
    """One line on why a limit stopped the run, with the last tool error if there was one."""
    last_error = next((s.result for s in reversed(steps) if s.kind != "model"), None)
    calls = sum(1 for s in steps if s.kind == "model")
    plural = "" if calls == 1 else "s"
    detail = f"stopped after {calls} model call{plural} ({STOP_REASONS[reason]})."
    if last_error and last_error.startswith("Error"):
        detail += f" The last tool result was: {last_error}"
    return detail


def run_agent(
    client: ChatClient,
    task: str,
    tools: Sequence[Tool],
    *,
    model: str = "chat-small",
    max_steps: int = 8,
    max_tokens: int | None = None,
    max_cost_usd: float | None = None,
    max_repeats: int | None = 2,
    allowed_tools: Sequence[str] | None = None,
    system: str | None = None,
    chat_options: Mapping[str, Any] | None = None,
    stop: Callable[..., str | None] | None = None,
) -> AgentRun:
    """Runs the tool-calling loop for ``task`` until the model answers or a limit stops it.

    Args:
        client: the model client (``LLMClient`` or anything with the same ``chat``).
        task: the user's request.
        tools: the tools the application has.
        model: a role or model id of the registry.
        max_steps: the most model calls the run may make; it always ends.
        max_tokens: stop once this many tokens (input + output, all calls) are spent.
        max_cost_usd: stop once this many dollars are spent.
        max_repeats: the most times the same call (same tool, same arguments) may run; the
            model asking for it once more stops the run. None allows any number.
        allowed_tools: the names of the tools this run may use (None: all of ``tools``). Only
            these are shown to the model, and a call to any other tool is refused.
        system: a system prompt.
        chat_options: more keyword arguments for ``client.chat`` (``seed``, ``temperature``).
        stop: the stop condition, called like :func:`stop_reason` (the default) after every
            model call that asks for tools.

    Returns:
        An :class:`AgentRun`; ``stopped_reason`` is one of :data:`STOP_REASONS`.
    """
    if max_steps < 1:
        raise ValueError(f"max_steps must be at least 1 (got {max_steps}).")
    by_name, allowed, offered = _tool_set(tools, allowed_tools)
    run = _Transcript(task, [{"role": "user", "content": task}])
    options = dict(chat_options or {})
    while True:
        try:
            reply = client.chat(
                run.messages, model=model, system=system, tools=offered or None, **options
            )
        except Exception as exc:  # retries and fallbacks are the client's job; this ends it
            return run.finish(
                "model_error", detail=f"the model call failed ({type(exc).__name__})."
            )
        run.record_reply(reply)
        if not reply.tool_calls:
            return run.finish("answered", answer=reply.content or "")
        refused = next((call for call in reply.tool_calls if call.name not in allowed), None)
        if refused is not None:
            return run.refuse(refused)
        reason = (stop or stop_reason)(
            run.steps,
            max_steps=max_steps,
            max_tokens=max_tokens,
            max_cost_usd=max_cost_usd,
            max_repeats=max_repeats,
        )
        if reason is not None:
            return run.finish(reason, detail=_stop_detail(run.steps, reason))
        for call in reply.tool_calls:
            run.record_tool(call, *_run_tool(by_name[call.name], call.arguments))
