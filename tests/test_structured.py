"""Structured output: templates, JSON extraction, validation and the bounded repair loop."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping, Sequence
from enum import Enum
from typing import Any

import pytest
from pydantic import BaseModel, Field

from course_lib.errors import PromptRenderError, StrictSchemaError
from course_lib.llm import ChatResult, Usage
from course_lib.standin import FaultPlan, local_client
from course_lib.structured import (
    JSONExtractionError,
    default_repair_message,
    extract_json,
    generate_structured,
    render_prompt,
    response_format_for,
    strict_json_schema,
    template_variables,
    validate_output,
)


class Kind(str, Enum):
    access = "access"
    hardware = "hardware"
    incident = "incident"


class Ticket(BaseModel):
    kind: Kind = Field(
        description="access: needs permission to a system or group. hardware: a broken or "
        "missing laptop, monitor or phone. incident: a production service is down now."
    )
    summary: str = Field(max_length=80)
    urgent: bool
    service: str | None = None


GOOD = {"kind": "access", "summary": "Needs Vault access", "urgent": False, "service": None}


# -- render_prompt ----------------------------------------------------------------------------


def test_render_prompt_fills_variables_and_strips() -> None:
    assert render_prompt("  Subject: {{ subject }}\n", subject="VPN down") == "Subject: VPN down"


def test_a_missing_variable_is_an_error_naming_it_and_the_given_ones() -> None:
    with pytest.raises(PromptRenderError) as caught:
        render_prompt("Subject: {{ subject }}\n\n{{ body }}", subject="VPN down")
    message = str(caught.value)
    assert "'body'" in message and "given: 'subject'" in message
    assert "\n" not in message
    assert isinstance(caught.value, ValueError)


def test_a_missing_attribute_of_a_value_is_an_error() -> None:
    template = "{% for e in examples %}{{ e.ticket }} -> {{ e.answer }}{% endfor %}"
    with pytest.raises(PromptRenderError, match="answer"):
        render_prompt(template, examples=[{"ticket": "t"}])


def test_a_syntax_error_names_the_line() -> None:
    with pytest.raises(PromptRenderError, match="line 2"):
        render_prompt("ok\n{% for x in xs %}{{ x }}")


def test_tojson_writes_plain_json_not_html_escaped() -> None:
    text = render_prompt("{{ answer | tojson }}", answer={"summary": "can't log in, Inês <3"})
    assert text == '{"summary": "can\'t log in, Inês <3"}'
    assert json.loads(text) == {"summary": "can't log in, Inês <3"}


def test_values_are_not_rendered_again() -> None:
    assert render_prompt("{{ body }}", body="literal {{ x }}") == "literal {{ x }}"


def test_block_tags_leave_no_blank_lines() -> None:
    template = "Categories:\n{% for name in names %}\n- {{ name }}\n{% endfor %}\nDone."
    assert render_prompt(template, names=["a", "b"]) == "Categories:\n- a\n- b\nDone."


def test_template_variables_excludes_loop_and_set_names() -> None:
    template = "{% set n = 3 %}{% for e in examples %}{{ e.ticket }}{{ n }}{% endfor %}{{ body }}"
    assert template_variables(template) == {"examples", "body"}


# -- extract_json -----------------------------------------------------------------------------

OBJECT = {"kind": "access", "summary": "a } brace and a { brace", "nested": {"a": [1, 2]}}
TEXT = json.dumps(OBJECT)


@pytest.mark.parametrize(
    "output",
    [
        TEXT,
        f"```json\n{TEXT}\n```",
        f"```\n{json.dumps(OBJECT, indent=2)}\n```",
        f"Here is the JSON you asked for:\n{TEXT}",
        f"{TEXT}\n// fields inferred from the message",
        f"Sure! ```json\n{TEXT}\n``` Let me know if you need more.",
        f"The format is {{key: value}}:\n{TEXT}",
        '{\n  "kind": "access", // the main issue\n  "summary": "a } brace and a { brace",\n'
        '  "nested": {"a": [1, 2]}\n}',
    ],
    ids=["plain", "fenced", "fence-no-lang", "preamble", "trailing-comment", "chatty",
         "brace-in-preamble", "inline-comment"],
)  # fmt: skip
def test_extract_json_finds_the_object(output: str) -> None:
    assert extract_json(output) == OBJECT


@pytest.mark.parametrize(
    ("output", "says"),
    [
        ("", "empty"),
        (None, "empty"),
        ("I cannot help with that.", "No JSON object"),
        ("[1, 2, 3]", "No JSON object"),
        ('{"kind": "access", "summ', "truncated"),
        ('{"kind": "access", "nested": {"a": 1}, "summary": "cut', "truncated"),
        ("Format: {key: value}. Sorry, no answer.", "does not parse"),
    ],
)
def test_extract_json_explains_why_there_is_no_object(output: str | None, says: str) -> None:
    with pytest.raises(JSONExtractionError, match=says) as caught:
        extract_json(output)
    assert isinstance(caught.value, ValueError)
    assert "\n" not in str(caught.value)


# -- validate_output --------------------------------------------------------------------------


def test_validate_output_returns_the_value() -> None:
    checked = validate_output(json.dumps(GOOD), Ticket)
    assert checked.ok and checked.value == Ticket.model_validate(GOOD) and not checked.problems


def test_extract_decides_whether_fences_are_forgiven() -> None:
    fenced = f"```json\n{json.dumps(GOOD)}\n```"
    assert validate_output(fenced, Ticket).ok
    strict = validate_output(fenced, Ticket, extract=False)
    assert not strict.ok and strict.kinds == ("json_invalid",)


@pytest.mark.parametrize(
    ("change", "field", "kind"),
    [
        ({"kind": "Access"}, "kind", "enum"),
        ({"urgent": "Yes."}, "urgent", "bool_parsing"),
        ({"summary": ["Needs Vault access"]}, "summary", "string_type"),
        ({"summary": "x" * 81}, "summary", "string_too_long"),
    ],
)
def test_problems_name_the_field_and_pydantic_error_type(
    change: dict[str, Any], field: str, kind: str
) -> None:
    checked = validate_output(json.dumps({**GOOD, **change}), Ticket)
    assert not checked.ok
    (problem,) = checked.problems
    assert (problem.field, problem.kind) == (field, kind)
    assert problem.describe().startswith(f"- {field}: ")
    assert problem.got is not None


def test_a_missing_field_and_an_empty_output() -> None:
    missing = validate_output(json.dumps({k: v for k, v in GOOD.items() if k != "urgent"}), Ticket)
    assert [(p.field, p.kind, p.got) for p in missing.problems] == [("urgent", "missing", None)]
    empty = validate_output("", Ticket)
    assert empty.kinds == ("json_invalid",)


# -- generate_structured with a scripted client -----------------------------------------------


class ScriptedClient:
    """Returns the scripted outputs in order and records every conversation it was sent."""

    def __init__(self, outputs: Sequence[str], finish: str = "stop") -> None:
        self.outputs = list(outputs)
        self.finish = finish
        self.sent: list[list[dict[str, Any]]] = []
        self.options: list[dict[str, Any]] = []

    def chat(self, messages: Sequence[Mapping[str, Any]], **options: Any) -> ChatResult:
        self.sent.append([dict(m) for m in messages])
        self.options.append(options)
        content = self.outputs[min(len(self.sent) - 1, len(self.outputs) - 1)]
        return ChatResult(
            content=content,
            model="scripted",
            usage=Usage(100 + 10 * len(messages), 20),
            cost_usd=0.001,
            latency_ms=1.0,
            finish_reason=self.finish,
            simulated_latency_ms=50.0,
        )


BROKEN = json.dumps({**GOOD, "urgent": "Yes."})


def test_a_valid_first_answer_takes_one_call() -> None:
    client = ScriptedClient([json.dumps(GOOD)])
    result = generate_structured(client, "Need Vault access", Ticket, seed=3, model="chat-large")
    assert result.ok and result.value == Ticket.model_validate(GOOD)
    assert (result.attempts, result.repairs, result.errors, result.stopped) == (1, 0, (), "valid")
    sent_format = client.options[0]["response_format"]
    assert sent_format == response_format_for(Ticket)
    assert sent_format["json_schema"]["strict"] is True
    assert client.options[0]["seed"] == 3 and client.options[0]["model"] == "chat-large"


def test_a_repair_sends_back_the_answer_and_the_errors() -> None:
    client = ScriptedClient([BROKEN, json.dumps(GOOD)])
    result = generate_structured(client, "Need Vault access", Ticket, system="Triage tickets.")
    assert result.ok and result.attempts == 2 and result.stopped == "valid"
    assert [f.kinds for f in result.errors] == [("bool_parsing",)]
    second = client.sent[1]
    assert [m["role"] for m in second] == ["system", "user", "assistant", "user"]
    assert second[2]["content"] == BROKEN
    assert "did not validate" in second[3]["content"] and "- urgent:" in second[3]["content"]
    assert second[3]["content"] == default_repair_message(result.errors[0].problems)


def test_the_loop_stops_after_max_repairs() -> None:
    outputs = [BROKEN, json.dumps({**GOOD, "kind": "Access"}), json.dumps({**GOOD, "urgent": 2})]
    client = ScriptedClient(outputs)
    result = generate_structured(client, "Need Vault access", Ticket, max_repairs=2)
    assert result.value is None and result.attempts == 3 and result.stopped == "max_repairs"
    assert [f.attempt for f in result.errors] == [1, 2, 3]
    assert [f.total_tokens for f in result.errors] == [130, 150, 170]
    assert sum(f.cost_usd for f in result.errors) == pytest.approx(result.cost_usd)
    assert len(client.sent) == 3
    assert result.input_tokens == 110 + 130 + 150 and result.output_tokens == 60
    assert result.cost_usd == pytest.approx(0.003)
    assert result.simulated_latency_ms == pytest.approx(150.0)


def test_no_repairs_means_one_call() -> None:
    client = ScriptedClient([BROKEN])
    result = generate_structured(client, "Need Vault access", Ticket, max_repairs=0)
    assert result.value is None and result.attempts == 1 and len(client.sent) == 1


def test_an_answer_cut_by_max_tokens_is_not_repaired() -> None:
    client = ScriptedClient(['{"kind": "acc'], finish="length")
    result = generate_structured(client, "Need Vault access", Ticket, max_tokens=5)
    assert result.stopped == "length" and result.attempts == 1
    assert client.options[0]["max_tokens"] == 5


def test_negative_max_repairs_is_refused() -> None:
    with pytest.raises(ValueError, match="max_repairs"):
        generate_structured(ScriptedClient([BROKEN]), "x", Ticket, max_repairs=-1)


# -- with the local model ---------------------------------------------------------------------

TEXTS = [
    f"Ticket {i}: please give me permission to the Vault group for billing-service, not urgent."
    for i in range(12)
] + [
    f"Ticket {i}: my laptop screen is broken and flickers, I cannot work today."
    for i in range(12, 24)
]


def test_repair_with_the_local_model_gives_the_values_an_unbroken_answer_has() -> None:
    """A repair request is answered from the original ticket, not from the error text."""
    clean = local_client(faults=FaultPlan(malformed_rate=0.0))
    shaky = local_client(faults=FaultPlan(malformed_rate=0.3))
    repaired = valid = 0
    for text in TEXTS:
        expected = generate_structured(clean, text, Ticket, max_repairs=0, seed=1).value
        result = generate_structured(shaky, text, Ticket, max_repairs=4, seed=1, strict=False)
        if result.ok:
            assert result.value == expected
            valid += 1
            repaired += result.attempts > 1
    assert valid >= len(TEXTS) - 1 and repaired >= 4


def test_a_model_that_always_breaks_is_given_up_on() -> None:
    broken = local_client(faults=FaultPlan(malformed_rate=1.0))
    result = generate_structured(broken, TEXTS[0], Ticket, max_repairs=2, seed=0, strict=False)
    assert result.value is None and result.attempts == 3 and len(result.errors) == 3
    assert broken.stats.calls == 3


def test_the_local_model_takes_keys_and_types_from_few_shot_turns() -> None:
    """Prompt-only JSON: an example answer in an assistant turn sets the keys and types."""
    client = local_client(faults=FaultPlan(malformed_rate=0.0))
    example = json.dumps({"kind": "hardware", "summary": "Broken dock", "urgent": False})
    messages = [
        {"role": "system", "content": "Triage the ticket. Respond in JSON like the examples."},
        {"role": "user", "content": "My dock is broken."},
        {"role": "assistant", "content": example},
        {"role": "user", "content": TEXTS[12]},
    ]
    value = extract_json(client.chat(messages, seed=0).content)
    assert set(value) == {"kind", "summary", "urgent"}
    assert isinstance(value["urgent"], bool)


def test_importing_the_package_loads_neither_pydantic_nor_jinja2() -> None:
    code = (
        "import sys, course_lib.structured;"
        "print([m for m in ('pydantic', 'jinja2') if m in sys.modules])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


# -- strict mode ------------------------------------------------------------------------------


class Inner(BaseModel):
    name: str
    note: str | None = None


class Outer(BaseModel):
    items: list[Inner]
    count: int = 0
    label: str | None = None


def _objects(node: Any) -> list[dict[str, Any]]:
    """Every object schema inside ``node``."""
    found = []
    if isinstance(node, dict):
        if node.get("type") == "object" or "properties" in node:
            found.append(node)
        for value in node.values():
            found += _objects(value)
    elif isinstance(node, list):
        for value in node:
            found += _objects(value)
    return found


def test_the_response_format_is_strict_by_default() -> None:
    sent = response_format_for(Ticket)["json_schema"]
    assert sent["strict"] is True and sent["name"] == "Ticket"
    schema = sent["schema"]
    assert schema["required"] == ["kind", "summary", "urgent", "service"]
    assert schema["additionalProperties"] is False
    assert schema["properties"]["service"] == {
        "anyOf": [{"type": "string"}, {"type": "null"}],
        "title": "Service",
    }  # optional = nullable, and no default
    assert "strict" not in response_format_for(Ticket, strict=False)["json_schema"]
    assert response_format_for(Ticket, strict=False)["json_schema"]["schema"] == (
        Ticket.model_json_schema()
    )


def test_every_nested_object_is_closed_and_lists_all_its_fields() -> None:
    schema = strict_json_schema(Outer.model_json_schema(), name="Outer")
    objects = _objects(schema)
    assert len(objects) == 2  # Outer and Inner (under $defs)
    for node in objects:
        assert node["additionalProperties"] is False
        assert node["required"] == list(node["properties"])
    assert "default" not in json.dumps(schema)
    assert Outer.model_json_schema()["required"] == ["items"]  # the input is not changed


def test_a_strict_reply_validates_with_the_original_model() -> None:
    strict = local_client(faults=FaultPlan(malformed_rate=1.0))
    for text in TEXTS[:6]:
        result = generate_structured(strict, text, Ticket, max_repairs=0, seed=0)
        assert result.ok and result.attempts == 1  # strict mode is never malformed


class WithSet(BaseModel):
    tags: set[str]


class WithDict(BaseModel):
    counts: dict[str, int]


class WithTuple(BaseModel):
    pair: tuple[int, str]


@pytest.mark.parametrize(
    ("model", "says"),
    [
        (WithSet, "'uniqueItems' is not supported at tags; use list[...]"),
        (WithDict, "free-form keys (a dict field) at counts"),
        (WithTuple, "'prefixItems' is not supported at pair"),
    ],
)
def test_a_schema_strict_mode_cannot_serve_is_refused_in_one_line(
    model: type[BaseModel], says: str
) -> None:
    with pytest.raises(StrictSchemaError) as caught:
        response_format_for(model)
    message = str(caught.value)
    assert says in message and "strict=False" in message and "\n" not in message
    assert message.startswith(f"{model.__name__} cannot be sent in strict mode")
    assert response_format_for(model, strict=False)["json_schema"]["name"] == model.__name__


def test_a_root_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(StrictSchemaError, match="root is 'array'"):
        strict_json_schema({"type": "array", "items": {"type": "string"}})
