"""Counting the tokens of a chat request, with the counter the provider supplies.

The client counts tokens only when it must decide something before sending: a per-call token
or cost budget. Each provider supplies the counter that fits its model (the local stand-in
counts with its own tokenizer; a remote endpoint estimates, since its provider reports the
real usage afterwards). ``tiktoken`` is not used: it downloads its vocabularies on first use,
which fails offline.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = [
    "CHARS_PER_TOKEN",
    "MESSAGE_OVERHEAD_TOKENS",
    "REPLY_PRIMING_TOKENS",
    "TokenCounter",
    "count_message_tokens",
    "estimate_tokens",
    "message_text",
]

TokenCounter = Callable[[str], int]
"""Counts the tokens of one text for a given model."""

# Chat formats wrap every message in a few special tokens (role markers, separators) and prime
# the reply with a few more; providers bill them. These are the usual sizes.
MESSAGE_OVERHEAD_TOKENS = 4
REPLY_PRIMING_TOKENS = 3

# English text averages about four characters per token in the common BPE vocabularies. The
# estimate rounds up, so a budget checked with it errs on the safe side.
CHARS_PER_TOKEN = 4


def estimate_tokens(text: str) -> int:
    """A tokenizer-free estimate: one token per four characters, rounded up."""
    return math.ceil(len(text) / CHARS_PER_TOKEN) if text else 0


def message_text(message: Mapping[str, Any]) -> str:
    """The text of a chat message, whether its content is a string or a list of parts.

    Content of another type (a number, an object) is counted as its JSON text: a budget is
    checked before the endpoint sees the request, and it is the endpoint that refuses it.
    """
    content = message.get("content")
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if not isinstance(content, list | tuple):
        return json.dumps(content, default=str)
    parts: list[str] = []
    for part in content:
        if isinstance(part, Mapping):
            if part.get("type") in (None, "text", "input_text"):
                parts.append(str(part.get("text", "")))
        else:
            parts.append(str(part))
    return "\n".join(parts)


def count_message_tokens(
    messages: Iterable[Mapping[str, Any]],
    tools: Iterable[Mapping[str, Any]] | None = None,
    *,
    count_tokens: TokenCounter = estimate_tokens,
) -> int:
    """Input tokens of a chat request: every message's text and tool calls, plus overheads.

    Parts of the wrong shape are counted as far as they can be, never raised on: the endpoint
    refuses them with an error that names the parameter.
    """
    total = REPLY_PRIMING_TOKENS
    for message in messages:
        total += MESSAGE_OVERHEAD_TOKENS + count_tokens(message_text(message))
        calls = message.get("tool_calls")
        for call in calls if isinstance(calls, list | tuple) else ():
            function = call.get("function") if isinstance(call, Mapping) else None
            if isinstance(function, Mapping):
                name, arguments = function.get("name", ""), function.get("arguments", "")
                total += count_tokens(f"{name} {arguments}")
    if tools:
        total += count_tokens(json.dumps(list(tools), sort_keys=True, default=str))
    return total
