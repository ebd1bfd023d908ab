"""The stand-in model's tokenizer: WordLlama's Llama-2 vocabulary, which ships in its wheel.

Counting with a real tokenizer makes usage and cost behave like a real model's: longer prompts
cost more, code and numbers take more tokens than words.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

__all__ = ["count_tokens", "truncate_to_tokens"]


@lru_cache(maxsize=1)
def _tokenizer() -> Any:
    from course_lib.embeddings import load_wordllama

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
