"""The Responses API (``POST /v1/responses``) in front of the same model as Chat Completions.

Clients built on the Responses API (the ``openai`` SDK's ``client.responses``, inspect_ai's
``openai/`` provider, the OpenAI Agents SDK) call the stand-in unmodified. A request is
translated into the equivalent chat request and takes the chat path, :meth:`LocalModel.prepare`
then :meth:`LocalModel.answer`, so its answer, usage, latency, price and faults are exactly
those of the same conversation sent to ``/v1/chat/completions``. The completion is then
translated back into a Response object, or into the Responses stream of typed events.

The server keeps no state: ``store`` is accepted but nothing is stored, and what needs stored
state (``previous_response_id``, ``conversation``, ``background``, item references) is refused
with a 400 that says to send the whole conversation as input items.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from course_lib.standin.errors import InvalidRequestError
from course_lib.standin.faults import Fault
from course_lib.standin.model import LocalModel

__all__ = ["add_responses_routes", "response_events", "to_chat_request", "to_response"]

T = TypeVar("T")

MIN_OUTPUT_TOKENS = 16  # the smallest max_output_tokens OpenAI's Responses API accepts
_STATELESS = (
    "This server is stateless: it stores no responses or conversations. Send the whole "
    "conversation as input items (earlier messages, function_call and function_call_output "
    "items) instead of {what}."
)
# Chat Completions parameters people carry over by habit, and the Responses parameter to use.
_CHAT_ONLY = {
    "messages": "Send the conversation as 'input' (a string or a list of input items).",
    "max_tokens": "Use 'max_output_tokens'.",
    "max_completion_tokens": "Use 'max_output_tokens'.",
    "response_format": "Use 'text': {'format': {'type': 'json_schema', ...}}.",
    "stop": "The Responses API has no stop sequences; cut the text in your own code.",
    "n": "The Responses API returns one output per request; send several requests.",
}
# Chat parameter names in the chat path's error messages, and what a Responses client sends.
_MESSAGE_RENAMES = (
    ("response_format.json_schema.schema", "text.format.schema"),
    ("response_format.json_schema", "text.format"),
    ("response_format", "text.format"),
    ("max_completion_tokens", "max_output_tokens"),
    ("'messages'", "'input'"),
)
_ROLES = ("user", "system", "developer", "assistant")
_TEXT_PARTS = {"input_text": "text", "output_text": "text", "text": "text", "refusal": "refusal"}
_WORDS_PER_DELTA = 3  # as the chat stream sends them
_ARGUMENT_CHARS_PER_DELTA = 16


def _invalid(message: str, param: str | None, code: str = "invalid_value") -> InvalidRequestError:
    return InvalidRequestError(message, param=param, code=code)


# -- request: Responses to Chat Completions ------------------------------------------------


def to_chat_request(body: Mapping[str, Any]) -> dict[str, Any]:
    """The chat request that asks the model what ``body`` asks, or a 400 saying what to fix."""
    _refuse_unserved(body)
    tools = _chat_tools(body.get("tools"))
    chat: dict[str, Any] = {"model": body.get("model"), "messages": _chat_messages(body)}
    if tools:
        chat["tools"] = tools
    if "tool_choice" in body and body["tool_choice"] is not None:
        chat["tool_choice"] = _chat_tool_choice(body["tool_choice"], tools)
    response_format = _chat_response_format(body.get("text"))
    if response_format is not None:
        chat["response_format"] = response_format
    limit = body.get("max_output_tokens")
    if limit is not None:
        if isinstance(limit, bool) or not isinstance(limit, int):
            raise _invalid("max_output_tokens must be an integer.", "max_output_tokens")
        if limit < MIN_OUTPUT_TOKENS:
            raise _invalid(
                f"max_output_tokens must be at least {MIN_OUTPUT_TOKENS}, got {limit}; "
                "raise it, or cut the text in your own code.",
                "max_output_tokens",
                "integer_below_min_value",
            )
        chat["max_completion_tokens"] = limit
    for key in ("temperature", "top_p", "seed", "parallel_tool_calls"):
        if body.get(key) is not None:
            chat[key] = body[key]
    return chat


def _refuse_unserved(body: Mapping[str, Any]) -> None:
    """Refuse what needs stored state, reasoning or a Chat Completions habit, saying why."""
    for key, hint in _CHAT_ONLY.items():
        if key in body:
            raise _invalid(
                f"Unsupported parameter: {key!r} is a Chat Completions parameter. {hint}",
                key,
                "unsupported_parameter",
            )
    if body.get("previous_response_id") is not None:
        what = "'previous_response_id'"
        raise _invalid(
            _STATELESS.format(what=what), "previous_response_id", "unsupported_parameter"
        )
    if body.get("conversation") is not None:
        what = "a 'conversation'"
        raise _invalid(_STATELESS.format(what=what), "conversation", "unsupported_parameter")
    if body.get("prompt") is not None:
        raise _invalid(
            "Stored prompt templates are not served: this server is stateless. Send the "
            "prompt's text as 'instructions' and 'input'.",
            "prompt",
            "unsupported_parameter",
        )
    if body.get("background"):
        raise _invalid(
            "Background responses need stored state, and this server is stateless. Omit "
            "'background' and wait for the response, or set stream=true to see it arrive.",
            "background",
            "unsupported_parameter",
        )
    reasoning = body.get("reasoning")
    if isinstance(reasoning, Mapping) and reasoning.get("effort") is not None:
        raise _invalid(
            "Unsupported parameter: 'reasoning.effort' is not supported with this model; "
            "the local models do not reason. Remove 'reasoning'.",
            "reasoning.effort",
            "unsupported_parameter",
        )
    if body.get("stream") is not None and not isinstance(body["stream"], bool):
        raise _invalid("'stream' must be true or false.", "stream", "invalid_type")
    metadata = body.get("metadata")
    if metadata is not None and not isinstance(metadata, Mapping):
        raise _invalid("'metadata' must be an object of string keys and values.", "metadata")


def _chat_messages(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``instructions`` as a system message, then the input as chat messages."""
    messages: list[dict[str, Any]] = []
    instructions = body.get("instructions")
    if instructions is not None:
        if not isinstance(instructions, str):
            raise _invalid("'instructions' must be a string.", "instructions", "invalid_type")
        messages.append({"role": "system", "content": instructions})
    raw = body.get("input")
    if isinstance(raw, str):
        return [*messages, {"role": "user", "content": raw}]
    if not isinstance(raw, list) or not raw:
        raise _invalid(
            "'input' is required: send a string, or a non-empty list of input items "
            "(messages, function_call and function_call_output items).",
            "input",
            "missing_required_parameter",
        )
    calls: set[str] = set()
    for i, item in enumerate(raw):
        if not isinstance(item, Mapping):
            raise _invalid(f"input[{i}] must be an object (an input item).", f"input[{i}]")
        _add_item(messages, item, i, calls)
    return messages


def _add_item(
    messages: list[dict[str, Any]], item: Mapping[str, Any], i: int, calls: set[str]
) -> None:
    """Append one input item to the chat messages; ``calls`` collects the call ids seen."""
    kind = item.get("type", "message")
    if kind == "message":
        messages.append(_message(item, i))
    elif kind == "function_call":
        call = _function_call(item, i)
        calls.add(call["id"])
        last = messages[-1] if messages else None
        if last is not None and last["role"] == "assistant":
            last.setdefault("tool_calls", []).append(call)  # one turn, several calls
        else:
            messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
    elif kind == "function_call_output":
        messages.append(_function_call_output(item, i, calls))
    elif kind == "reasoning":
        return  # the local models never reason, so a replayed reasoning item carries nothing
    elif kind == "item_reference":
        what = "an 'item_reference'"
        raise _invalid(_STATELESS.format(what=what), f"input[{i}]", "unsupported_parameter")
    else:
        raise _invalid(
            f"Input items of type {kind!r} are not served by the local model. Send messages, "
            "function_call and function_call_output items.",
            f"input[{i}].type",
        )


def _message(item: Mapping[str, Any], i: int) -> dict[str, Any]:
    role = item.get("role")
    if role not in _ROLES:
        hint = (
            " A tool's result is a function_call_output item with the call's call_id."
            if role == "tool"
            else ""
        )
        raise _invalid(
            f"Invalid value for input[{i}].role: {role!r}. Supported values are 'user', "
            f"'system', 'developer' and 'assistant'.{hint}",
            f"input[{i}].role",
        )
    return {"role": role, "content": _text_of(item.get("content"), f"input[{i}].content")}


def _text_of(content: Any, param: str) -> str:
    """The text of a message's content, given as a string or a list of text parts."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise _invalid(
            f"{param} must be a string or a list of input_text parts.", param, "invalid_type"
        )
    texts: list[str] = []
    for j, part in enumerate(content):
        kind = part.get("type") if isinstance(part, Mapping) else None
        field = _TEXT_PARTS.get(str(kind))
        if not isinstance(part, Mapping) or field is None:
            raise _invalid(
                f"{param}[{j}] has type {kind!r}; the local model reads text only. Send "
                "input_text parts (images, files and audio are not served).",
                f"{param}[{j}].type",
            )
        texts.append(str(part.get(field, "")))
    return "\n".join(texts)  # as the chat path joins a message's text parts


def _function_call(item: Mapping[str, Any], i: int) -> dict[str, Any]:
    for key in ("call_id", "name", "arguments"):
        if not isinstance(item.get(key), str):
            raise _invalid(
                f"input[{i}] (a function_call item) needs {key!r} as a string; send the item "
                "as the response's output gave it.",
                f"input[{i}].{key}",
                "missing_required_parameter",
            )
    function = {"name": item["name"], "arguments": item["arguments"]}
    return {"id": item["call_id"], "type": "function", "function": function}


def _function_call_output(item: Mapping[str, Any], i: int, calls: set[str]) -> dict[str, Any]:
    call_id = item.get("call_id")
    if not isinstance(call_id, str):
        raise _invalid(
            f"input[{i}] (a function_call_output item) needs the 'call_id' of the call it answers.",
            f"input[{i}].call_id",
            "missing_required_parameter",
        )
    if call_id not in calls:
        raise _invalid(
            f"No tool call found for function call output with call_id {call_id!r}. This "
            "server is stateless: send the function_call item before its output in 'input'.",
            "input",
        )
    output = item.get("output")
    if output is None:
        raise _invalid(
            f"input[{i}] (a function_call_output item) needs an 'output'.",
            f"input[{i}].output",
            "missing_required_parameter",
        )
    content = output if isinstance(output, str) else _text_of(output, f"input[{i}].output")
    return {"role": "tool", "tool_call_id": call_id, "content": content}


def _chat_tools(tools: Any) -> list[dict[str, Any]]:
    """Flat Responses function tools as nested chat tools; any other tool type is refused."""
    if tools is None:
        return []
    if not isinstance(tools, list):
        raise _invalid("'tools' must be a list of function tools.", "tools", "invalid_type")
    chat: list[dict[str, Any]] = []
    for i, tool in enumerate(tools):
        kind = tool.get("type") if isinstance(tool, Mapping) else None
        if not isinstance(tool, Mapping) or kind != "function":
            raise _invalid(
                f"Tools of type {kind!r} are not served: the local model serves only function "
                "tools. Declare a function tool and run it in your own code.",
                f"tools[{i}].type",
            )
        if not isinstance(tool.get("name"), str) or not tool["name"]:
            nested = (
                " Responses tools are flat: put 'name', 'description' and 'parameters' "
                "beside 'type', not under 'function'."
                if "function" in tool
                else ""
            )
            raise _invalid(
                f"Missing required parameter: 'tools[{i}].name'.{nested}",
                f"tools[{i}].name",
                "missing_required_parameter",
            )
        keys = ("name", "description", "parameters", "strict")
        function = {key: tool[key] for key in keys if tool.get(key) is not None}
        chat.append({"type": "function", "function": function})
    return chat


def _chat_tool_choice(choice: Any, tools: list[dict[str, Any]]) -> Any:
    if choice in ("auto", "none", "required"):
        return choice
    if isinstance(choice, Mapping) and choice.get("type") == "function":
        name = choice.get("name")
        if name not in {tool["function"]["name"] for tool in tools}:
            raise _invalid(
                f"Tool choice function {name!r} is not in 'tools'; name one of the function "
                "tools the request declares.",
                "tool_choice.name",
            )
        return {"type": "function", "function": {"name": name}}
    raise _invalid(
        "tool_choice must be 'auto', 'none', 'required' or {'type': 'function', 'name': ...}; "
        "the local model serves only function tools.",
        "tool_choice",
    )


def _chat_response_format(text: Any) -> dict[str, Any] | None:
    """``text.format`` as the chat ``response_format``; None for plain text."""
    if text is None:
        return None
    if not isinstance(text, Mapping):
        raise _invalid("'text' must be an object with a 'format'.", "text", "invalid_type")
    fmt = text.get("format")
    if fmt is None:
        return None
    kind = fmt.get("type") if isinstance(fmt, Mapping) else None
    if kind == "text":
        return None
    if kind == "json_object":
        return {"type": "json_object"}
    if kind != "json_schema" or not isinstance(fmt, Mapping):
        raise _invalid(
            f"text.format.type {kind!r} is not served; use 'text', 'json_object' or 'json_schema'.",
            "text.format.type",
        )
    for key, expected in (("name", str), ("schema", Mapping)):
        if not isinstance(fmt.get(key), expected):
            nested = " Responses formats are flat: put 'name' and 'schema' beside 'type'."
            raise _invalid(
                f"Missing required parameter: 'text.format.{key}'."
                + (nested if "json_schema" in fmt else ""),
                f"text.format.{key}",
                "missing_required_parameter",
            )
    keys = ("name", "schema", "strict", "description")
    return {"type": "json_schema", "json_schema": {k: fmt[k] for k in keys if k in fmt}}


def in_responses_terms(call: Callable[[], T]) -> T:
    """Run a step of the chat path, naming the Responses parameter in any error it raises."""
    try:
        return call()
    except InvalidRequestError as exc:
        exc.param = _responses_param(exc.param)
        if exc.args and isinstance(exc.args[0], str):
            message = exc.args[0]
            for chat, responses in _MESSAGE_RENAMES:
                message = message.replace(chat, responses)
            exc.args = (message, *exc.args[1:])
        raise


def _responses_param(param: str | None) -> str | None:
    """The Responses parameter that became chat parameter ``param``."""
    if param is None:
        return None
    if param == "messages" or param.startswith(("messages[", "messages.")):
        return "input"  # indexes shift when instructions and tool calls are merged
    for chat, responses in (
        ("response_format.json_schema", "text.format"),
        ("response_format", "text.format"),
        ("max_completion_tokens", "max_output_tokens"),
        ("max_tokens", "max_output_tokens"),
        ("tool_choice.function", "tool_choice"),
    ):
        if param == chat or param.startswith((chat + ".", chat + "[")):
            return responses + param[len(chat) :]
    return re.sub(r"^tools\[(\d+)\]\.function", r"tools[\1]", param)


# -- response: a chat completion as a Response object --------------------------------------


def to_response(body: Mapping[str, Any], completion: Mapping[str, Any]) -> dict[str, Any]:
    """The Response object for ``completion``, the answer to the chat form of ``body``."""
    choice = completion["choices"][0]
    suffix = str(completion["id"]).split("-", 1)[-1]
    cut = choice["finish_reason"] == "length"
    status = "incomplete" if cut else "completed"
    usage = completion["usage"]
    return {
        "id": f"resp_{suffix}",
        "object": "response",
        "created_at": completion["created"],
        "status": status,
        "background": False,
        "error": None,
        "incomplete_details": {"reason": "max_output_tokens"} if cut else None,
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "max_tool_calls": None,
        "metadata": dict(body.get("metadata") or {}),
        "model": completion["model"],
        "output": _output_items(choice["message"], suffix, status),
        "parallel_tool_calls": body.get("parallel_tool_calls", True) is not False,
        "previous_response_id": None,
        "reasoning": {"effort": None, "summary": None},
        "service_tier": "default",
        "store": False,  # whatever the request asked: nothing is kept
        "temperature": float(body.get("temperature") or 0.0),  # the stand-in's default is 0
        "text": {"format": _echo_format(body.get("text"))},
        "tool_choice": body.get("tool_choice") or "auto",
        "tools": [
            {"type": "function", **tool["function"]} for tool in _chat_tools(body.get("tools"))
        ],
        "top_p": float(body.get("top_p") or 0.0) if body.get("top_p") is not None else 1.0,
        "truncation": "disabled",
        "usage": {
            "input_tokens": usage["prompt_tokens"],
            "input_tokens_details": {
                "cached_tokens": (usage.get("prompt_tokens_details") or {}).get("cached_tokens", 0),
                "cache_write_tokens": 0,
            },
            "output_tokens": usage["completion_tokens"],
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": usage["total_tokens"],
        },
        "user": None,
        # Not part of the OpenAI format: what the stand-in did, as chat completions carry it.
        "course": dict(completion["course"]),
    }


def _output_items(message: Mapping[str, Any], suffix: str, status: str) -> list[dict[str, Any]]:
    """The assistant message as output items: its text (if any), then one item per call."""
    items: list[dict[str, Any]] = []
    calls = message.get("tool_calls") or []
    content = message.get("content")
    if content or not calls:
        part: dict[str, Any] = {
            "type": "output_text",
            "text": content or "",
            "annotations": [],
            "logprobs": [],
        }
        items.append(
            {
                "id": f"msg_{suffix}",
                "type": "message",
                "role": "assistant",
                "status": status,
                "content": [part],
            }
        )
    for i, call in enumerate(calls):
        items.append(
            {
                "id": f"fc_{suffix}{i:02d}",
                "type": "function_call",
                "call_id": call["id"],
                "name": call["function"]["name"],
                "arguments": call["function"]["arguments"],
                "status": "completed",
            }
        )
    return items


def _echo_format(text: Any) -> dict[str, Any]:
    fmt = text.get("format") if isinstance(text, Mapping) else None
    return dict(fmt) if isinstance(fmt, Mapping) else {"type": "text"}


# -- streaming: the Response as typed server-sent events -----------------------------------


class _EventLog:
    """Events in the order they are sent, each numbered as the API numbers them."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def add(self, kind: str, **fields: Any) -> None:
        self.events.append({"type": kind, "sequence_number": len(self.events), **fields})


def response_events(response: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The stream of events that delivers ``response``, from created to completed."""
    log = _EventLog()
    pending = {
        **{k: v for k, v in response.items() if k != "course"},
        "status": "in_progress",
        "output": [],
        "incomplete_details": None,
        "usage": None,
    }
    log.add("response.created", response=pending)
    log.add("response.in_progress", response=pending)
    for index, item in enumerate(response["output"]):
        if item["type"] == "message":
            _message_events(log, index, item)
        else:
            _function_call_events(log, index, item)
    # A response cut by max_output_tokens ends with response.incomplete, as OpenAI sends it.
    last = "response.incomplete" if response["status"] == "incomplete" else "response.completed"
    log.add(last, response=dict(response))
    return log.events


def _message_events(log: _EventLog, index: int, item: Mapping[str, Any]) -> None:
    log.add(
        "response.output_item.added",
        output_index=index,
        item={**item, "status": "in_progress", "content": []},
    )
    for c, part in enumerate(item["content"]):
        where = {"item_id": item["id"], "output_index": index, "content_index": c}
        log.add("response.content_part.added", **where, part={**part, "text": ""})
        for piece in _text_pieces(part["text"]):
            log.add("response.output_text.delta", **where, delta=piece, logprobs=[])
        log.add("response.output_text.done", **where, text=part["text"], logprobs=[])
        log.add("response.content_part.done", **where, part=part)
    log.add("response.output_item.done", output_index=index, item=item)


def _function_call_events(log: _EventLog, index: int, item: Mapping[str, Any]) -> None:
    log.add(
        "response.output_item.added",
        output_index=index,
        item={**item, "status": "in_progress", "arguments": ""},
    )
    where = {"item_id": item["id"], "output_index": index}
    arguments = item["arguments"]
    step = _ARGUMENT_CHARS_PER_DELTA
    for start in range(0, len(arguments), step):
        log.add(
            "response.function_call_arguments.delta", **where, delta=arguments[start : start + step]
        )
    log.add("response.function_call_arguments.done", **where, arguments=arguments)
    log.add("response.output_item.done", output_index=index, item=item)


def _text_pieces(text: str) -> Iterator[str]:
    """A few words at a time, the pieces the chat stream sends for the same text."""
    words = text.split(" ")
    for start in range(0, len(words), _WORDS_PER_DELTA):
        piece = " ".join(words[start : start + _WORDS_PER_DELTA])
        if start + _WORDS_PER_DELTA < len(words):
            piece += " "
        if piece:
            yield piece


def _sse(events: list[dict[str, Any]], first_s: float, per_delta_s: float) -> AsyncIterator[bytes]:
    """The events as server-sent events, paced like the chat stream: output after ``first_s``."""

    async def stream() -> AsyncIterator[bytes]:
        waited = False
        for event in events:
            kind = event["type"]
            if kind not in ("response.created", "response.in_progress"):
                if not waited:
                    await asyncio.sleep(first_s)
                    waited = True
                elif kind.endswith(".delta"):
                    await asyncio.sleep(per_delta_s)
            data = json.dumps(event, ensure_ascii=False)
            yield f"event: {kind}\ndata: {data}\n\n".encode()

    return stream()


# -- the route -----------------------------------------------------------------------------


def add_responses_routes(
    app: FastAPI,
    model: LocalModel,
    fault_response: Callable[[Fault], Any],
    body_of: Callable[[Request], Awaitable[dict[str, Any]]],
) -> None:
    """Serve ``POST /v1/responses`` from ``model`` on ``app``.

    ``fault_response`` turns a drawn fault into the HTTP error the chat route sends, so a
    fault plan fails Responses requests exactly as it fails chat requests. Errors are raised
    as :class:`InvalidRequestError`, which the app renders in OpenAI's error shape.
    """

    @app.post("/v1/responses")
    async def responses(request: Request) -> Any:
        body = await body_of(request)
        chat = to_chat_request(body)
        prepared = await run_in_threadpool(in_responses_terms, lambda: model.prepare(chat))
        fault = prepared.fault
        if fault is not None and fault.kind in ("rate_limit", "server_error"):
            return fault_response(fault)
        completion = await run_in_threadpool(
            in_responses_terms, lambda: model.answer(chat, prepared)
        )
        response = to_response(body, completion)
        if fault is not None and fault.kind == "timeout":
            await asyncio.sleep(fault.delay_s)  # slower than the client is willing to wait
        course = response["course"]
        headers = {
            "x-course-behaviour": str(course["behaviour"]),
            "x-course-latency-ms": str(course["latency_ms"]),
        }
        scale = model.latency_scale
        latency_s = course["latency_ms"] * scale / 1000
        if not body.get("stream"):
            await asyncio.sleep(latency_s)
            return JSONResponse(response, headers=headers)
        events = response_events(response)
        first_s = prepared.spec.latency_base_ms * scale / 1000
        deltas = sum(1 for event in events if event["type"].endswith(".delta"))
        per_delta_s = max(latency_s - first_s, 0.0) / max(deltas, 1)
        return StreamingResponse(
            _sse(events, first_s, per_delta_s), media_type="text/event-stream", headers=headers
        )
