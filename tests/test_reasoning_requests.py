"""Reasoning models take their output limit as ``max_completion_tokens``.

OpenAI's reasoning models refuse ``max_tokens`` with a 400; the stand-in refuses it the same
way, and the course's client renames the limit for a model the registry marks as reasoning, so
one call works against both kinds of model.
"""

from __future__ import annotations

import openai
import pytest

from course_lib.llm import LLMClient, ReliabilityPolicy
from course_lib.models import get_registry
from course_lib.standin import local_client, shared_server


def test_the_stand_in_refuses_max_tokens_on_a_reasoning_model_as_openai_does() -> None:
    sdk = openai.OpenAI(base_url=shared_server().base_url, api_key="local", max_retries=0)
    model = get_registry().model_id("chat-reasoning")
    messages = [{"role": "user", "content": "When is the on-call handover?"}]
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.chat.completions.create(model=model, messages=messages, max_tokens=500)
    assert "Use 'max_completion_tokens' instead" in str(caught.value)
    reply = sdk.chat.completions.create(model=model, messages=messages, max_completion_tokens=2_000)
    assert reply.usage.completion_tokens_details.reasoning_tokens > 0


@pytest.mark.parametrize("over_http", [False, True])
def test_the_client_sends_the_limit_under_the_name_each_model_takes(over_http: bool) -> None:
    client = LLMClient.for_server(shared_server().base_url) if over_http else local_client()
    reasoning = client.chat(
        "When is the on-call handover?", model="chat-reasoning", max_tokens=2000
    )
    assert reasoning.usage.reasoning_tokens > 0
    plain = client.chat("When is the on-call handover?", model="chat-small", max_tokens=5)
    assert plain.finish_reason == "length"


def test_a_budgeted_client_sets_the_limit_a_reasoning_model_accepts() -> None:
    policy = ReliabilityPolicy(max_tokens_per_call=3_000)
    client = local_client(policy=policy)
    result = client.chat("When is the on-call handover?", model="chat-reasoning")  # no 400
    assert result.usage.reasoning_tokens > 0
