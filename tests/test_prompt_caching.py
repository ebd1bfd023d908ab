"""Prompt caching as the stand-in models it: cached tokens reported, priced at the discount."""

from __future__ import annotations

from typing import Any

import pytest

from course_lib.labs.agent_caching import VirtualClock, caching_saving
from course_lib.labs.agent_tasks import TASKS
from course_lib.labs.agent_world import HandbookWorld
from course_lib.llm.client import LLMClient, Usage
from course_lib.models import get_registry
from course_lib.standin.caching import BLOCK_TOKENS, MIN_CACHED_TOKENS, PrefixCache
from course_lib.standin.model import LocalModel
from course_lib.standin.provider import LocalProvider

TOOLS = [t.schema for t in HandbookWorld().tools()]  # some 1,170 tokens: over the threshold


def _client(cache: Any) -> LLMClient:
    return LLMClient(LocalProvider(LocalModel(prompt_cache=cache)))


def _ask(client: LLMClient, text: str, tools: Any = TOOLS) -> Any:
    return client.chat([{"role": "user", "content": text}], tools=tools)


# -- the prefix cache itself --------------------------------------------------------------


def test_short_prompts_are_never_cached() -> None:
    cache = PrefixCache(clock=VirtualClock())
    ids = list(range(MIN_CACHED_TOKENS - 1))
    assert cache.lookup_and_store(ids, len(ids)) == 0
    assert cache.lookup_and_store(ids, len(ids)) == 0
    assert len(cache) == 0


def test_hits_come_in_whole_blocks_from_the_threshold_on() -> None:
    cache = PrefixCache(clock=VirtualClock())
    ids = list(range(1300))
    assert cache.lookup_and_store(ids, 1300) == 0  # first time: a miss, then stored
    assert cache.lookup_and_store(ids, 1300) == 1280  # 10 whole blocks of 128
    longer = [*ids, *range(5000, 5200)]
    assert cache.lookup_and_store(longer, 1500) == 1280  # the shared prefix only
    assert cache.lookup_and_store(longer, 1500) == 1408
    assert 1408 % BLOCK_TOKENS == 0


def test_a_change_early_in_the_prompt_breaks_the_whole_prefix() -> None:
    cache = PrefixCache(clock=VirtualClock())
    ids = list(range(2000))
    cache.lookup_and_store(ids, 2000)
    changed = [99_999, *ids[1:]]
    assert cache.lookup_and_store(changed, 2000) == 0
    late_change = [*ids[:1900], *range(7000, 7100)]
    assert cache.lookup_and_store(late_change, 2000) == 1792  # 14 blocks before the change


def test_prefixes_expire_after_the_time_to_live() -> None:
    clock = VirtualClock()
    cache = PrefixCache(clock=clock, ttl_s=300)
    ids = list(range(1100))
    cache.lookup_and_store(ids, 1100)
    clock.advance(299)
    assert cache.lookup_and_store(ids, 1100) == 1024  # a hit renews the time to live
    clock.advance(299)
    assert cache.lookup_and_store(ids, 1100) == 1024
    clock.advance(301)
    assert cache.lookup_and_store(ids, 1100) == 0


def test_cached_tokens_never_exceed_the_bill() -> None:
    cache = PrefixCache(clock=VirtualClock())
    ids = list(range(1280))
    cache.lookup_and_store(ids, 1100)
    assert cache.lookup_and_store(ids, 1100) <= 1100


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        PrefixCache(ttl_s=0)


# -- the stand-in and the client ----------------------------------------------------------


def test_default_model_reports_usage_exactly_as_before() -> None:
    client = _client(False)
    for _ in range(2):
        reply = _ask(client, "Who owns ledger?")
        assert "prompt_tokens_details" not in reply.raw["usage"]
        assert reply.usage.cached_input_tokens == 0
    assert repr(reply.usage) == (
        f"Usage(input_tokens={reply.usage.input_tokens}, output_tokens={reply.usage.output_tokens})"
    )


def test_below_the_threshold_nothing_changes_even_with_the_cache_on() -> None:
    plain, cached = _client(False), _client(True)
    for _ in range(2):
        a, b = _ask(plain, "Who owns ledger?", None), _ask(cached, "Who owns ledger?", None)
        assert a.raw["usage"] == b.raw["usage"]
        assert a.cost_usd == b.cost_usd


def test_a_repeated_prefix_is_reported_and_billed_at_the_cached_price() -> None:
    client = _client(True)
    first = _ask(client, "Who owns ledger?")
    second = _ask(client, "Where is parcel KF-20931?")
    assert first.usage.cached_input_tokens == 0
    assert first.raw["usage"]["prompt_tokens_details"] == {"cached_tokens": 0}
    cached = second.usage.cached_input_tokens
    assert cached >= MIN_CACHED_TOKENS and cached % BLOCK_TOKENS == 0
    assert cached < second.usage.input_tokens  # the question differs: not cached
    spec = get_registry().resolve("chat-small")
    assert spec.cached_input_price_per_million is not None
    assert spec.cached_input_price_per_million < spec.input_price_per_million
    expected = (
        (second.usage.input_tokens - cached) * spec.input_price_per_million
        + cached * spec.cached_input_price_per_million
        + second.usage.output_tokens * spec.output_price_per_million
    ) / 1_000_000
    assert second.cost_usd == pytest.approx(expected)
    assert second.cost_usd < spec.cost(second.usage.input_tokens, second.usage.output_tokens)
    assert second.raw["course"]["cost_usd"] == pytest.approx(second.cost_usd)
    assert "cached_input_tokens=" in repr(second.usage)


def test_every_local_chat_model_has_a_discounted_cached_price() -> None:
    for spec in get_registry().chat_models():
        if spec.provider == "local" and "retired" not in spec.extra:  # a retired one is unused
            assert spec.cached_input_price_per_million is not None
            share = spec.cached_input_price_per_million / spec.input_price_per_million
            assert 0.1 <= share <= 0.25


def test_cost_without_cached_tokens_is_unchanged() -> None:
    spec = get_registry().resolve("chat-large")
    assert spec.cost(1234, 56) == spec.cost(1234, 56, 0)
    assert spec.cost(1234, 56, 5000) == spec.cost(1234, 56, 1234)  # capped at the input


def test_usage_reads_the_responses_api_field_too() -> None:
    from course_lib.llm.client import _cached_tokens

    assert _cached_tokens({"input_tokens_details": {"cached_tokens": 256}}) == 256
    assert _cached_tokens({"prompt_tokens_details": None}) == 0
    assert Usage(10, 2) == Usage(10, 2, 0)


def test_the_sdk_sees_cached_tokens_over_http() -> None:
    import openai

    from course_lib.standin.server import serve_model

    with serve_model(model=LocalModel(prompt_cache=True)) as server:
        sdk = openai.OpenAI(base_url=server.base_url, api_key="local")
        messages = [{"role": "user", "content": "Who owns ledger?"}]
        for _ in range(2):
            reply = sdk.chat.completions.create(
                model="local-small",
                messages=messages,  # type: ignore[arg-type]
                tools=TOOLS,  # type: ignore[arg-type]
            )
    assert reply.usage is not None and reply.usage.prompt_tokens_details is not None
    assert reply.usage.prompt_tokens_details.cached_tokens == 1152


# -- the lab: what caching saves on the agent loop ----------------------------------------


def test_caching_saving_on_the_agent_loop() -> None:
    table = caching_saving(TASKS[:6])
    assert list(table.index) == ["no cache", "cache, back to back", "cache, 600 s apart"]
    assert table["correct"].nunique() == 1  # the cache changes the bill, not the answers
    assert table["input_tokens"].nunique() == 1
    assert table.loc["no cache", "cached_input_tokens"] == 0
    back, apart = table.loc["cache, back to back"], table.loc["cache, 600 s apart"]
    assert back["cached_input_tokens"] > apart["cached_input_tokens"] > 0
    assert 0 < apart["saving"] < back["saving"] < 1
    assert table.equals(caching_saving(TASKS[:6]))  # deterministic


def test_caching_saving_refuses_empty_input() -> None:
    with pytest.raises(ValueError, match="at least one task"):
        caching_saving(())
