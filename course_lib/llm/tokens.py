"""Token counting for the local model, with a real tokenizer.

The local model counts with the default embedding model's tokenizer (a Llama-2 vocabulary that
ships in WordLlama's wheel), so usage and cost behave like a real model's: longer prompts cost
more, code and numbers take more tokens than words. ``tiktoken`` is not used because it
downloads its vocabularies on first use, which fails offline. Real providers report usage
themselves; the client uses their numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

__all__ = [
    "MESSAGE_OVERHEAD_TOKENS",
    "REPLY_PRIMING_TOKENS",
    "count_message_tokens",
    "count_tokens",
    "message_text",
    "truncate_to_tokens",
]

# Chat formats wrap every message in a few special tokens (role markers, separators) and prime
# the reply with a few more; providers bill them. These are the usual sizes.
MESSAGE_OVERHEAD_TOKENS = 4
REPLY_PRIMING_TOKENS = 3


@lru_cache(maxsize=1)
def _tokenizer() -> Any:
    from course_lib.embeddings.wordllama_model import load_wordllama

    return load_wordllama().tokenizer


@lru_cache(maxsize=8192)
def count_tokens(text: str) -> int:
    """Number of tokens in ``text`` (no special tokens)."""
    if not text:
        return 0
    return len(_tokenizer().encode(text, add_special_tokens=False).ids)


def truncate_to_tokens(text: str, max_tokens: int) -> str:
    """The longest prefix of ``text`` holding at most ``max_tokens`` tokens."""
    if max_tokens <= 0:
        return ""
    encoding = _tokenizer().encode(text, add_special_tokens=False)
    if len(encoding.ids) <= max_tokens:
        return text
    end = encoding.offsets[max_tokens - 1][1]
    return text[:end]


def message_text(message: Mapping[str, Any]) -> str:
    """The text of a chat message, whether its content is a string or a list of parts."""
    content = message.get("content")
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    parts: list[str] = []
    for part in content:
        if isinstance(part, Mapping):
            if part.get("type") in (None, "text", "input_text"):
                parts.append(str(part.get("text", "")))
        else:
            parts.append(str(part))
    return "\n".join(parts)


def count_message_tokens(
    messages: Iterable[Mapping[str, Any]], tools: Iterable[Mapping[str, Any]] | None = None
) -> int:
    """Input tokens of a chat request: every message's text and tool calls, plus overheads."""
    import json

    total = REPLY_PRIMING_TOKENS
    for message in messages:
        total += MESSAGE_OVERHEAD_TOKENS + count_tokens(message_text(message))
        for call in message.get("tool_calls") or ():
            function = call.get("function", {})
            total += count_tokens(f"{function.get('name', '')} {function.get('arguments', '')}")
    if tools:
        total += count_tokens(json.dumps(list(tools), sort_keys=True))
    return total
