"""Model calls: one client over every provider, under one reliability policy.

>>> from course_lib.llm import LLMClient
>>> client = LLMClient.from_settings()           # the provider the settings name
>>> client.chat("When is the on-call handover?").content

* :class:`LLMClient`: ``chat``, ``stream`` and ``embed``, with results that carry usage,
  cost, latency, the model that answered and the prompt version;
* :class:`ReliabilityPolicy`: timeouts, one retry layer, fallback, circuit breaker, budgets;
* providers: :class:`OpenAICompatibleProvider` for any OpenAI-compatible endpoint, and
  :func:`register_provider` for others (the course's local stand-in model registers itself
  that way, so this package names no concrete model);
* :mod:`~course_lib.llm.tokens`: counting a request's tokens with the provider's counter.

Importing this package is cheap: each name loads its module on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from course_lib._lazy import lazy_exports

if TYPE_CHECKING:
    from course_lib.llm.client import (
        ChatResult,
        ChatStream,
        ClientStats,
        LLMClient,
        Messages,
        ToolCall,
        Usage,
    )
    from course_lib.llm.policy import (
        RETRYABLE,
        CircuitBreaker,
        ReliabilityPolicy,
        is_retryable,
    )
    from course_lib.llm.providers import (
        OpenAICompatibleProvider,
        Provider,
        ProviderFactory,
        make_provider,
        provider_names,
        register_provider,
    )
    from course_lib.llm.tokens import (
        TokenCounter,
        count_message_tokens,
        estimate_tokens,
        message_text,
    )

_EXPORTS = {
    "ChatResult": "course_lib.llm.client",
    "ChatStream": "course_lib.llm.client",
    "ClientStats": "course_lib.llm.client",
    "LLMClient": "course_lib.llm.client",
    "Messages": "course_lib.llm.client",
    "ToolCall": "course_lib.llm.client",
    "Usage": "course_lib.llm.client",
    "RETRYABLE": "course_lib.llm.policy",
    "CircuitBreaker": "course_lib.llm.policy",
    "ReliabilityPolicy": "course_lib.llm.policy",
    "is_retryable": "course_lib.llm.policy",
    "OpenAICompatibleProvider": "course_lib.llm.providers",
    "Provider": "course_lib.llm.providers",
    "ProviderFactory": "course_lib.llm.providers",
    "make_provider": "course_lib.llm.providers",
    "provider_names": "course_lib.llm.providers",
    "register_provider": "course_lib.llm.providers",
    "TokenCounter": "course_lib.llm.tokens",
    "count_message_tokens": "course_lib.llm.tokens",
    "estimate_tokens": "course_lib.llm.tokens",
    "message_text": "course_lib.llm.tokens",
}

__all__ = [
    "RETRYABLE",
    "ChatResult",
    "ChatStream",
    "CircuitBreaker",
    "ClientStats",
    "LLMClient",
    "Messages",
    "OpenAICompatibleProvider",
    "Provider",
    "ProviderFactory",
    "ReliabilityPolicy",
    "TokenCounter",
    "ToolCall",
    "Usage",
    "count_message_tokens",
    "estimate_tokens",
    "is_retryable",
    "make_provider",
    "message_text",
    "provider_names",
    "register_provider",
]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
