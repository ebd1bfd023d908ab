"""The stand-in's behaviours, one handler each, and the one place that picks between them.

A request can fit several behaviours at once (a judge prompt that also asks for JSON, a failed
tool result in a request that offers tools), so the order of :data:`BEHAVIOURS` decides which
one answers: tool calls first, then a failed tool, the judge, structured output, and prose
(``docs/local-model.md`` describes each). A handler returns its
:class:`~course_lib.standin.turn.Reply`, or None when the request is not its kind and the next
handler should have it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from course_lib.llm.tokens import message_text
from course_lib.standin.answering import answer_question
from course_lib.standin.examples import apply_examples, solved_examples
from course_lib.standin.judge import (
    judge,
    judge_pair,
    parse_judge_request,
    parse_pair_request,
    render_pair_verdict,
    render_verdict,
)
from course_lib.standin.parallel import fan_out
from course_lib.standin.reading import ReadRequest, repaired_request
from course_lib.standin.strict import conform
from course_lib.standin.structured import (
    fill_from_request,
    fill_response,
    loose_json,
    malform,
    schema_from_prompt,
)
from course_lib.standin.text import stable_hash, stable_unit
from course_lib.standin.tools import choose_tool, is_error_result, request_steps
from course_lib.standin.turn import Reply, Turn

__all__ = ["BEHAVIOURS", "reply_to"]

Behaviour = Callable[[Turn], Reply | None]


def reply_to(turn: Turn) -> Reply:
    """The reply of the first behaviour that takes the request; prose when none does.

    Under a strict JSON schema, whatever the behaviour wrote is made to follow the schema.
    """
    reply = _first_reply(turn)
    schema = turn.strict_schema
    if schema is None or reply.content is None:
        return reply
    return _strictly(turn, reply, schema)


def _first_reply(turn: Turn) -> Reply:
    for behaviour in BEHAVIOURS:
        reply = behaviour(turn)
        if reply is not None:
            return reply
    return answer_in_prose(turn)


def _strictly(turn: Turn, reply: Reply, schema: Mapping[str, Any]) -> Reply:
    """The reply as JSON valid against ``schema``: a model decoding under a strict schema
    cannot write anything else, whichever behaviour answered (prose goes into the fields)."""
    text = _structured_input(repaired_request(turn.messages) or turn.read)
    content = reply.content or ""
    try:
        value = json.loads(content)
    except ValueError:
        text = f"{content}\n\n{text}"
        value = fill_response(schema, text, turn.tier)
    conformed = conform(value, schema, text, turn.tier)
    return Reply(reply.behaviour, json.dumps(conformed, ensure_ascii=False))


# -- tools --------------------------------------------------------------------------------


def call_tool(turn: Turn) -> Reply | None:
    """A tool call for the request's next step: its first, or the next after a good result."""
    if not turn.tools_on:
        return None
    # Several lookups of one tool ("parcels KF-1 and KF-2"): parallel calls (standin/parallel.py).
    if (fanned := fan_out(turn, _tool_call)) is not None:
        return fanned
    read, last_tool, tool_choice = turn.read, turn.last_tool, turn.tool_choice
    # A request naming its steps ("..., then ...") gets one tool call per step, in order.
    steps = request_steps(turn.question)
    done = sum(1 for result in read.tool_results if not is_error_result(result.text))
    next_step = (last_tool is None and read.last_role == "user") or (
        last_tool is not None
        and read.last_role == "tool"
        and not is_error_result(last_tool.text)
        and done < len(steps)
    )
    if not next_step:
        return None
    forced = None
    if isinstance(tool_choice, Mapping):
        forced = str(tool_choice.get("function", {}).get("name"))
    step_text = steps[done] if len(steps) > 1 else turn.question
    context = "\n".join(result.text for result in read.tool_results)
    choice = choose_tool(
        step_text,
        turn.tools,
        turn.tier,
        forced=forced if forced or tool_choice == "required" else None,
        context=context,
    )
    if choice is None and tool_choice == "required":
        first = str(turn.tools[0].get("function", {}).get("name"))
        choice = choose_tool(step_text, turn.tools, turn.tier, forced=first, context=context)
    if choice is None:
        return None
    arguments = json.dumps(choice.arguments, ensure_ascii=False)
    if turn.broken:
        arguments = malform(choice.arguments, None, turn.break_unit)
    calls = [_tool_call(choice.name, arguments, turn.fingerprint)]
    return Reply("tool_call", tool_calls=calls, malformed=turn.broken)


def retry_failed_tool(turn: Turn) -> Reply | None:
    """The small model retries a failing tool with the same arguments: a runaway loop."""
    last_tool = turn.last_tool
    if not turn.tools_on or turn.tier != "small":
        return None
    if last_tool is None or not is_error_result(last_tool.text):
        return None
    previous = _last_call(turn.messages)
    if previous is None:
        return None
    return Reply("tool_retry", tool_calls=[_tool_call(*previous, turn.fingerprint)])


def report_tool_error(turn: Turn) -> Reply | None:
    """The large model (or a request without tools) says the tool failed instead of guessing."""
    last_tool = turn.last_tool
    if last_tool is None or not is_error_result(last_tool.text):
        return None
    content = (
        f"The {last_tool.id} tool failed ({last_tool.text.strip()[:160]}), "
        "so I cannot answer that right now."
    )
    return Reply("tool_error", content)


def _tool_call(name: str, arguments: str, fingerprint: str) -> dict[str, Any]:
    call_id = "call_" + format(stable_hash(fingerprint, name, arguments), "016x")
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def _last_call(messages: list[Mapping[str, Any]]) -> tuple[str, str] | None:
    """The name and arguments of the latest tool call in the conversation."""
    for message in reversed(messages):
        for call in message.get("tool_calls") or ():
            function = call.get("function", {})
            return str(function.get("name")), str(function.get("arguments", "{}"))
    return None


# -- judging ------------------------------------------------------------------------------


def grade_answer(turn: Turn) -> Reply | None:
    """A verdict on an answer against a reference; temperature adds a little noise."""
    read = turn.read
    judged = parse_judge_request(f"{read.system}\n{read.user_text}", turn.format_type is not None)
    if judged is None:
        return None
    noise = (turn.rng.random() - 0.5) * 0.2 * turn.temperature
    verdict = judge(judged, noise=noise)
    content = render_verdict(
        verdict, judged.scale, turn.response_format, wants_json=read.instructions.json
    )
    return Reply("judge", content)


def compare_pair(turn: Turn) -> Reply | None:
    """Which of two answers agrees better with a reference (planted position bias)."""
    read = turn.read
    pair = parse_pair_request(f"{read.system}\n{read.user_text}")
    if pair is None:
        return None
    verdict = judge_pair(pair)
    content = render_pair_verdict(verdict, turn.response_format, wants_json=read.instructions.json)
    return Reply("judge", content)


# -- structured output --------------------------------------------------------------------


def fill_json_schema(turn: Turn) -> Reply | None:
    """The request's JSON schema, filled from its passages and question."""
    if turn.format_type != "json_schema":
        return None
    schema = turn.response_format.get("json_schema", {}).get("schema") or {}
    # A request to fix the previous answer is filled again from the original input.
    repaired = repaired_request(turn.messages)
    source = repaired or turn.read
    value = fill_response(schema, _structured_input(source), turn.tier)
    if repaired is None:  # solved examples in earlier turns (few-shot): a planted behaviour
        examples = solved_examples(turn.messages)
        value = apply_examples(value, schema, _structured_input(source), examples)
    # Strict mode never breaks the output (reply_to makes it fit the schema); without it, a
    # share of outputs comes out malformed, as real models' do.
    broken = turn.broken and turn.strict_schema is None
    content = (
        malform(value, schema, turn.break_unit) if broken else json.dumps(value, ensure_ascii=False)
    )
    return Reply("json_schema", content, malformed=broken)


def write_json(turn: Turn) -> Reply | None:
    """JSON without a schema (JSON mode, or a prompt asking for it), shaped by its examples."""
    read, format_type = turn.read, turn.format_type
    if format_type != "json_object" and not read.instructions.json:
        return None
    # Keys and types come from JSON examples: in the prompt, or in the assistant turns of
    # few-shot examples.
    examples = "\n".join(
        message_text(m) for m in turn.messages[:-1] if m.get("role") == "assistant"
    )
    schema = schema_from_prompt(f"{read.system}\n{examples}\n{read.user_text}")
    if not schema["properties"]:
        schema = {"type": "object", "properties": {"answer": {"type": "string"}}}
    value = fill_from_request(schema, turn.question, turn.tier)
    if turn.broken:
        content = malform(value, schema, turn.break_unit)
    elif format_type == "json_object":
        content = json.dumps(value, ensure_ascii=False)
    else:
        # Without JSON mode, models wrap JSON in fences or chatter now and then.
        unit = stable_unit("loose", turn.request.get("seed"), turn.fingerprint)
        content = loose_json(value, unit)
    return Reply("json", content, malformed=turn.broken)


def _structured_input(read: ReadRequest) -> str:
    """Passages' text without their ids, so a schema is never filled with an id."""
    if read.passages:
        return "\n\n".join([*(p.text for p in read.passages), read.question])
    return read.user_text


# -- prose --------------------------------------------------------------------------------


def answer_in_prose(turn: Turn) -> Reply:
    """Grounded in the passages, refused, from memory, or hijacked by an injected passage."""
    answer = answer_question(turn.read, turn.tier, temperature=turn.temperature, rng=turn.rng)
    if answer.injected:
        behaviour = "injected"
    elif answer.leaked:
        behaviour = "leaked"
    elif answer.refused:
        behaviour = "refused"
    elif answer.grounded:
        behaviour = "grounded"
    else:
        behaviour = "memory"
    return Reply(behaviour, answer.text)


# In order of precedence; a request none of them takes is answered in prose.
BEHAVIOURS: tuple[Behaviour, ...] = (
    call_tool,
    retry_failed_tool,
    report_tool_error,
    compare_pair,
    grade_answer,
    fill_json_schema,
    write_json,
)
