"""Prompt caching, modelled: a per-server cache of prompt prefixes, reported as cached tokens.

Hosted models keep the computed state of a prompt's beginning for a few minutes. A request that
starts with the very same tokens reuses it: it is answered sooner, and the provider bills the
reused tokens at a discount. OpenAI applies this automatically to prompts of 1,024 tokens or
more, counts hits in steps of 128 tokens, reports them in
``usage.prompt_tokens_details.cached_tokens``, and keeps a prefix for some 5 to 10 minutes of
inactivity (OpenAI cookbook, "Prompt Caching 201", and the API's prompt-caching guide; the
same guide gives savings of up to 90% of input cost). This module reproduces those rules for
the stand-in, so a lesson can measure what a stable prefix saves:

* the prompt is read in the order a provider renders it: tool definitions, then the messages
  in order (each with its role), so a change early in the prompt breaks every later block;
* it is cut into blocks of :data:`BLOCK_TOKENS`; block ``k`` is keyed by a hash of blocks
  ``1..k`` (a chained hash), so a key stands for an exact prefix;
* a request's cached tokens are the longest run of leading blocks already in the cache, counted
  only from :data:`MIN_CACHED_TOKENS` on; then every block of the request is stored (or its
  time to live renewed) for :data:`TTL_SECONDS` on the server's clock.

The cache lives in one :class:`~course_lib.standin.model.LocalModel` (one server), in memory.
It is deterministic: the same requests in the same order within the time to live give the same
cached tokens on every run. What it does not model: routing (a hosted cache can miss when a
request lands on another machine), and the faster first token that a hit brings.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from typing import Any

from course_lib.llm.tokens import message_text
from course_lib.standin.text import stable_hash

__all__ = [
    "BLOCK_TOKENS",
    "MIN_CACHED_TOKENS",
    "TTL_SECONDS",
    "PrefixCache",
    "encode",
    "prompt_token_ids",
]

# OpenAI's figures: caching starts at 1,024 prompt tokens and hits come in 128-token steps.
MIN_CACHED_TOKENS = 1024
BLOCK_TOKENS = 128
# How long an unused prefix stays cached: the low end of OpenAI's "5 to 10 minutes".
TTL_SECONDS = 300.0
# The most blocks one server keeps; the least recently used go first (a bound on memory).
MAX_BLOCKS = 65_536


@lru_cache(maxsize=4096)
def _encoded(text: str) -> tuple[int, ...]:
    from course_lib.standin.tokens import _tokenizer

    return tuple(_tokenizer().encode(text, add_special_tokens=False).ids) if text else ()


def encode(text: str) -> list[int]:
    """The stand-in tokenizer's ids for ``text`` (the vocabulary usage is counted in)."""
    return list(_encoded(text))


def prompt_token_ids(
    messages: Iterable[Mapping[str, Any]],
    tools: Iterable[Mapping[str, Any]] | None,
    encode: Callable[[str], list[int]] = encode,
) -> list[int]:
    """The prompt as one token sequence, in the order a provider renders it.

    Tool definitions come first, then each message: its role, its text, and the tool calls an
    assistant message made. A marker between parts keeps "ab" + "c" from matching "a" + "bc".
    """
    parts: list[str] = []
    if tools:
        parts.append("tools:" + json.dumps(list(tools), sort_keys=True, default=str))
    for message in messages:
        calls = message.get("tool_calls")
        call_text = (
            json.dumps(calls, sort_keys=True, default=str) if isinstance(calls, list) else ""
        )
        parts.append(f"{message.get('role')}:{message_text(message)}{call_text}")
    ids: list[int] = []
    for part in parts:
        ids.append(-1)  # the boundary marker: no real token has a negative id
        ids.extend(encode(part))
    return ids


class PrefixCache:
    """Cached prompt prefixes of one server, as chained hashes of 128-token blocks.

    Args:
        ttl_s: how long an unused prefix stays.
        clock: the server's clock in seconds (tests pass a fake one to step time).
        min_tokens: the shortest prompt that is cached at all.
        block_tokens: the step in which hits are counted.
    """

    def __init__(
        self,
        *,
        ttl_s: float = TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        min_tokens: int = MIN_CACHED_TOKENS,
        block_tokens: int = BLOCK_TOKENS,
        max_blocks: int = MAX_BLOCKS,
    ) -> None:
        if ttl_s <= 0 or block_tokens <= 0 or min_tokens < 0:
            raise ValueError("ttl_s and block_tokens must be positive, min_tokens not negative.")
        self.ttl_s = ttl_s
        self.clock = clock
        self.min_tokens = min_tokens
        self.block_tokens = block_tokens
        self.max_blocks = max_blocks
        self._expires: OrderedDict[int, float] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._expires)

    def _keys(self, token_ids: list[int]) -> list[int]:
        keys: list[int] = []
        previous = 0
        for start in range(0, len(token_ids) - self.block_tokens + 1, self.block_tokens):
            previous = stable_hash(previous, token_ids[start : start + self.block_tokens])
            keys.append(previous)
        return keys

    def lookup_and_store(self, token_ids: list[int], prompt_tokens: int) -> int:
        """The cached tokens of a request with these tokens; then its prefix is stored.

        ``prompt_tokens`` is what the request is billed for; the result never exceeds it.
        A prompt under ``min_tokens`` is neither served from nor stored in the cache.
        """
        if prompt_tokens < self.min_tokens or len(token_ids) < self.min_tokens:
            return 0
        keys = self._keys(token_ids)
        now = self.clock()
        with self._lock:
            hits = 0
            for key in keys:
                expires = self._expires.get(key)
                if expires is None or expires <= now:
                    break
                hits += 1
            for key in keys:
                self._expires[key] = now + self.ttl_s
                self._expires.move_to_end(key)
            while len(self._expires) > self.max_blocks:
                self._expires.popitem(last=False)
        cached = hits * self.block_tokens
        if cached < self.min_tokens:
            return 0
        # Whole blocks only, never more than the bill.
        return min(cached, prompt_tokens - prompt_tokens % self.block_tokens)

    def clear(self) -> None:
        """Forget every prefix (as a provider's cache does after its time to live)."""
        with self._lock:
            self._expires.clear()
