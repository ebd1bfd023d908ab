"""Plausible wrong answers to lesson 1.2's exercises; each must be rejected by its checker."""

from __future__ import annotations

import json
from typing import Any

from course_lib.labs.structured_lab import FEW_SHOT_TEMPLATE
from course_lib.structured import extract_json, generate_structured, validate_output

# -- 1.2.1 ------------------------------------------------------------------------------------

_PYTHON_REPR = FEW_SHOT_TEMPLATE.replace("{{ example.answer | tojson }}", "{{ example.answer }}")
_NAMES_ONLY = FEW_SHOT_TEMPLATE.replace(
    "{% for name, meaning in categories.items() %}\n- {{ name }}: {{ meaning }}\n{% endfor %}",
    "{% for name in categories %}\n- {{ name }}\n{% endfor %}",
)
_UNDEFINED_TICKET = FEW_SHOT_TEMPLATE + "\n\nTicket:\n{{ ticket }}"
_FIRST_EXAMPLE_ONLY = FEW_SHOT_TEMPLATE.replace(
    "{% for example in examples %}\nTicket:\n{{ example.ticket }}\n"
    "Answer: {{ example.answer | tojson }}\n\n{% endfor %}",
    "Ticket:\n{{ examples[0].ticket }}\nAnswer: {{ examples[0].answer | tojson }}\n",
)
_REVERSED = FEW_SHOT_TEMPLATE.replace(
    "{% for example in examples %}", "{% for example in examples | reverse %}"
)
_ANSWER_BEFORE_TICKET = FEW_SHOT_TEMPLATE.replace(
    "Ticket:\n{{ example.ticket }}\nAnswer: {{ example.answer | tojson }}",
    "Answer: {{ example.answer | tojson }}\nTicket:\n{{ example.ticket }}",
)
_NO_LABELS = FEW_SHOT_TEMPLATE.replace(
    "Ticket:\n{{ example.ticket }}\nAnswer: {{ example.answer | tojson }}",
    "{{ example.ticket }}\n{{ example.answer | tojson }}",
)
_NO_ANSWER_LABEL = FEW_SHOT_TEMPLATE.replace(
    "Answer: {{ example.answer | tojson }}", "{{ example.answer | tojson }}"
)
_NO_CLOSING = FEW_SHOT_TEMPLATE[: FEW_SHOT_TEMPLATE.index("Respond in JSON")].rstrip()
_NO_PRIORITY_LINE = FEW_SHOT_TEMPLATE.replace("priority is one of P1, P2, P3, P4.\n", "")
_INDENTED_JSON = FEW_SHOT_TEMPLATE.replace(
    "{{ example.answer | tojson }}", "{{ example.answer | tojson(indent=2) }}"
)
_VARIANTS = {
    _PYTHON_REPR, _NAMES_ONLY, _FIRST_EXAMPLE_ONLY, _REVERSED, _ANSWER_BEFORE_TICKET, _NO_LABELS,
    _NO_ANSWER_LABEL, _NO_CLOSING, _NO_PRIORITY_LINE, _INDENTED_JSON, FEW_SHOT_TEMPLATE,
}  # fmt: skip
assert len(_VARIANTS) == 11, "a replace() above no longer matches the course's template"


# -- 1.2.2 ------------------------------------------------------------------------------------


def _loads_only(reply: str, schema: Any) -> str:
    """Never tries extraction: every wrapped reply counts as 'no JSON object'."""
    try:
        data = json.loads(reply)
    except ValueError:
        return "no JSON object"
    return "valid" if validate_output(json.dumps(data), schema, extract=False).ok else (
        "breaks the schema"
    )  # fmt: skip


def _extract_first(reply: str, schema: Any) -> str:
    """Extracts before asking whether the reply was fine as it was: wrapped counts as valid."""
    checked = validate_output(reply, schema)
    if checked.ok:
        return "valid"
    return "no JSON object" if "json_invalid" in checked.kinds else "breaks the schema"


def _object_found_means_wrapped(reply: str, schema: Any) -> str:
    """Any object inside a wrapper is 'wrapped', even one that breaks the schema."""
    if validate_output(reply, schema, extract=False).ok:
        return "valid"
    try:
        extract_json(reply)
    except ValueError:
        return "no JSON object"
    if reply.strip().startswith("{"):
        return "breaks the schema"
    return "wrapped"


def _every_failure_is_no_json(reply: str, schema: Any) -> str:
    if validate_output(reply, schema, extract=False).ok:
        return "valid"
    return "wrapped" if validate_output(reply, schema).ok else "no JSON object"


def _any_problem_breaks_the_schema(reply: str, schema: Any) -> str:
    """Cut-off objects and prose reported as schema failures."""
    if validate_output(reply, schema, extract=False).ok:
        return "valid"
    return "wrapped" if validate_output(reply, schema).ok else "breaks the schema"


def _always_the_triage_schema(reply: str, schema: Any) -> str:
    """Ignores the schema it is given."""
    from course_lib.course.exercises.lesson_1_2 import TicketTriage, failure_kind

    return failure_kind(reply, TicketTriage)


def _json_list_means_wrapped(reply: str, schema: Any) -> str:
    """A top-level list counted as wrapped: extraction finds no object in it to fix."""
    if reply.strip().startswith("["):
        return "wrapped"
    from course_lib.course.exercises.lesson_1_2 import failure_kind

    return failure_kind(reply, schema)


def _returns_the_validation(reply: str, schema: Any) -> Any:
    return validate_output(reply, schema)


# -- 1.2.3 ------------------------------------------------------------------------------------


_SYSTEM = "You triage support tickets for the Kestrel Freight service desk."


def _messages(subject: str, body: str) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": _SYSTEM},
        {"role": "user", "content": f"Subject: {subject}\n\n{body}"},
    ]


def _budget(max_repairs: int, **options: Any) -> Any:
    """generate_structured with a given budget and options (strict=False unless given)."""

    def triage(client: Any, schema: Any, subject: str, body: str, seed: int) -> Any:
        return generate_structured(
            client,
            _messages(subject, body),
            schema,
            max_repairs=max_repairs,
            seed=seed,
            **{"strict": False, **options},
        )

    return triage


def _until_valid(client: Any, schema: Any, subject: str, body: str, seed: int) -> Any:
    """Retries until a reply validates: no bound at all."""
    attempt = 0
    while True:
        result = generate_structured(
            client, _messages(subject, body), schema, max_repairs=0, seed=seed + attempt,
            strict=False,
        )  # fmt: skip
        if result.ok:
            return result
        attempt += 1


def _made_up(client: Any, schema: Any, subject: str, body: str, seed: int) -> Any:
    """Always valid, never asks the model."""
    return schema(category="access_request", priority="P3", summary=subject[:120], needs_human=True)


def _default_when_invalid(client: Any, schema: Any, subject: str, body: str, seed: int) -> Any:
    """One call; when it fails, a made-up default triage instead of None."""
    result = generate_structured(
        client, _messages(subject, body), schema, max_repairs=0, seed=seed, strict=False
    )
    if result.ok:
        return result
    return schema(category="access_request", priority="P2", summary=subject[:120], needs_human=True)


def _repaired_then_default(client: Any, schema: Any, subject: str, body: str, seed: int) -> Any:
    """Two repairs, then a made-up default: the valid share reaches 100% by invention."""
    result = generate_structured(
        client, _messages(subject, body), schema, max_repairs=2, seed=seed, strict=False
    )
    if result.ok:
        return result
    return schema(category="access_request", priority="P2", summary=subject[:120], needs_human=True)


def _nothing_when_invalid(client: Any, schema: Any, subject: str, body: str, seed: int) -> Any:
    """Prompt-only JSON read with extract_json: no schema sent, no repair."""
    from course_lib.structured import validate_output

    reply = client.chat(
        _messages(subject, body + "\nReply in JSON."), model="chat-small", seed=seed
    )
    return validate_output(reply.content, schema).value


def _fallback(small_repairs: int, large_repairs: int) -> Any:
    """The small model first, then the large one with its own budget if nothing validated."""

    def triage(client: Any, schema: Any, subject: str, body: str, seed: int) -> Any:
        for model, repairs in (("chat-small", small_repairs), ("chat-large", large_repairs)):
            result = generate_structured(
                client, _messages(subject, body), schema, model=model, max_repairs=repairs,
                seed=seed, strict=False,
            )  # fmt: skip
            if result.ok:
                break
        return result

    return triage


def _fresh_calls(calls: int) -> Any:
    """A new call with a new seed after each failure, instead of a repair."""

    def triage(client: Any, schema: Any, subject: str, body: str, seed: int) -> Any:
        for attempt in range(calls):
            result = generate_structured(
                client, _messages(subject, body), schema, max_repairs=0,
                seed=seed + 7_919 * attempt, strict=False,
            )  # fmt: skip
            if result.ok:
                break
        return result

    return triage


def _choices(n: int) -> Any:
    """One request for n choices, the first valid one kept."""
    from course_lib.structured import response_format_for

    def triage(client: Any, schema: Any, subject: str, body: str, seed: int) -> Any:
        reply = client.chat(
            _messages(subject, body), model="chat-small", seed=seed, n=n,
            response_format=response_format_for(schema, strict=False),
        )  # fmt: skip
        for choice in reply.raw.get("choices") or ():
            checked = validate_output(choice["message"]["content"], schema)
            if checked.ok:
                return checked.value
        return None

    return triage


WRONG_ANSWERS: dict[str, list[Any]] = {
    "1.2.1": [
        _PYTHON_REPR,
        _NAMES_ONLY,
        _UNDEFINED_TICKET,
        _FIRST_EXAMPLE_ONLY,
        _REVERSED,
        _ANSWER_BEFORE_TICKET,
        _NO_LABELS,  # the examples without 'Ticket:' and 'Answer: '
        _NO_ANSWER_LABEL,
        _NO_CLOSING,  # the closing instructions deleted
        _NO_PRIORITY_LINE,
        _INDENTED_JSON,  # each answer spread over several lines
        ["- expenses_travel: Claims and refunds."],
    ],
    "1.2.2": [
        _loads_only,
        _extract_first,
        _object_found_means_wrapped,
        _every_failure_is_no_json,
        _any_problem_breaks_the_schema,
        _always_the_triage_schema,
        _json_list_means_wrapped,
        _returns_the_validation,
    ],
    "1.2.3": [
        _budget(0),  # the stub: no repair
        _budget(1),  # one repair: not enough on a bad day
        _budget(4),  # enough, but five calls per ticket when the provider breaks everything
        _budget(3),  # enough, but one repair more than the target needs
        _budget(2, model="chat-large"),  # valid enough, but over the cost budget
        _budget(2, strict=True),  # the provider has no strict mode
        _budget(2, max_tokens=30),  # replies cut off, and a cut-off reply is not repaired
        _budget(9, model="chat-large"),  # far more than needed, on the dearer model
        _fallback(2, 0),  # valid and cheap, but four calls per ticket at worst
        _fallback(0, 0),  # two calls at most: below the target on a bad day
        _fresh_calls(2),  # two fresh calls: below the target too
        _choices(8),  # one request, but eight replies billed per ticket
        _until_valid,
        _made_up,
        _default_when_invalid,  # one call, then a made-up default: valid 100%, 1 call at worst
        _repaired_then_default,
        _nothing_when_invalid,
    ],
}
