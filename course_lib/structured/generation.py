"""Structured output you can rely on: validate against a schema, repair, stop.

A schema in ``response_format`` makes a model far more likely to return the right shape, not
certain: outputs still arrive truncated, with a wrong type or without a required field (and a
provider without constrained decoding gives no guarantee at all). The production answer is a
loop with a bound:

1. ask with the pydantic model's JSON schema;
2. validate the reply with the same pydantic model;
3. if it fails, send the validation errors back and ask for a corrected object;
4. stop when it validates, after ``max_repairs`` repairs, or when the reply was cut off by
   ``max_tokens`` (a repair would be cut off too).

Every attempt's tokens and cost are added up, so the price of repair is visible.

>>> from course_lib.llm.client import LLMClient
>>> client = LLMClient.from_settings()
>>> result = generate_structured(client, ticket_text, TicketTriage, max_repairs=2)
>>> result.value          # a validated TicketTriage, or None
>>> result.attempts, result.total_tokens, result.cost_usd, result.stopped
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from course_lib.structured.extraction import JSONExtractionError, extract_json

if TYPE_CHECKING:
    from pydantic import BaseModel, ValidationError

    from course_lib.llm.client import ChatResult

__all__ = [
    "AttemptFailure",
    "ChatClient",
    "StructuredResult",
    "Validation",
    "ValidationProblem",
    "default_repair_message",
    "generate_structured",
    "response_format_for",
    "validate_output",
]

T = TypeVar("T", bound="BaseModel")

STOP_REASONS = ("valid", "max_repairs", "length")


class ChatClient(Protocol):
    """What :func:`generate_structured` needs of a client: ``LLMClient.chat``'s signature."""

    def chat(self, messages: Any, **options: Any) -> ChatResult: ...


@dataclass(frozen=True)
class ValidationProblem:
    """One reason an output is not valid: where, which kind, and what was found.

    ``kind`` is pydantic's error type (``missing``, ``enum``, ``bool_parsing``,
    ``string_too_long``, ...) or ``json_invalid`` when there is no parsable JSON object.
    """

    field: str  # "category", "items.0.name"; "" for the output as a whole
    kind: str
    message: str
    got: str | None = None  # a short repr of the offending value, when there is one

    def describe(self) -> str:
        """One line for a repair message: ``- category: Input should be ... (got 'Hw')``."""
        where = self.field or "output"
        got = f" (got {self.got})" if self.got is not None else ""
        return f"- {where}: {self.message}{got}"


@dataclass(frozen=True)
class Validation(Generic[T]):
    """The outcome of validating one output: the value, or the problems."""

    value: T | None
    problems: tuple[ValidationProblem, ...] = ()

    @property
    def ok(self) -> bool:
        return self.value is not None

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(p.kind for p in self.problems)


@dataclass(frozen=True)
class AttemptFailure:
    """An attempt whose output failed validation, why, and what the attempt cost."""

    attempt: int  # 1 for the first call, 2 for the first repair...
    content: str | None
    finish_reason: str
    problems: tuple[ValidationProblem, ...]
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(p.kind for p in self.problems)

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass(frozen=True)
class StructuredResult(Generic[T]):
    """A validated value (or None), with every attempt's failures and the total cost.

    ``stopped`` says why the loop ended: ``valid``, ``max_repairs`` (out of repairs) or
    ``length`` (the reply hit ``max_tokens``).
    """

    value: T | None
    attempts: int
    errors: tuple[AttemptFailure, ...]
    input_tokens: int
    output_tokens: int
    cost_usd: float
    simulated_latency_ms: float | None  # the local model's modelled latency, summed
    stopped: str

    @property
    def ok(self) -> bool:
        return self.value is not None

    @property
    def repairs(self) -> int:
        """Calls made after the first one."""
        return self.attempts - 1

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _problems(error: ValidationError) -> tuple[ValidationProblem, ...]:
    problems = []
    for item in error.errors(include_url=False):
        kind = str(item["type"])
        field = ".".join(str(part) for part in item.get("loc", ()))
        # For a missing field the input is the whole object, and for bad JSON the whole text:
        # neither helps the reader (or the model) more than the message does.
        got = None if kind in ("missing", "json_invalid", "model_type") else _short(item["input"])
        problems.append(ValidationProblem(field, kind, str(item["msg"]), got))
    return tuple(problems)


def validate_output(text: str | None, schema: type[T], *, extract: bool = True) -> Validation[T]:
    """Validates a model's output against a pydantic model, without raising.

    Args:
        text: the model's output.
        schema: the pydantic model class.
        extract: find the JSON object inside fences, preambles and comments first (see
            :func:`~course_lib.structured.extract_json`); False validates the text as it is,
            as ``json.loads`` would.

    Returns:
        A :class:`Validation`: the value, or the problems (field, pydantic error type, message).
    """
    from pydantic import ValidationError

    if text is None or not text.strip():
        problem = ValidationProblem("", "json_invalid", "the output is empty")
        return Validation(None, (problem,))
    try:
        return Validation(schema.model_validate_json(text))
    except ValidationError as exc:
        problems = _problems(exc)
    if not extract or "json_invalid" not in {p.kind for p in problems}:
        return Validation(None, problems)
    try:
        data = extract_json(text)
    except JSONExtractionError as exc:
        return Validation(None, (ValidationProblem("", "json_invalid", str(exc)),))
    try:
        return Validation(schema.model_validate(data))
    except ValidationError as exc:
        return Validation(None, _problems(exc))


def default_repair_message(problems: Sequence[ValidationProblem]) -> str:
    """The user message that asks the model to fix its last answer."""
    listed = "\n".join(p.describe() for p in problems)
    return (
        "Your previous answer did not validate against the JSON schema:\n"
        f"{listed}\n"
        "Reply with the corrected JSON object only, with every required field."
    )


@lru_cache(maxsize=64)
def response_format_for(schema: type[BaseModel], *, strict: bool = True) -> dict[str, Any]:
    """The Chat Completions ``response_format`` of a pydantic model: its JSON schema.

    With ``strict`` (the default), the schema is rewritten for strict mode
    (:func:`~course_lib.structured.strict_json_schema`: every field required, optional ones
    nullable, ``additionalProperties: false``) and sent with ``"strict": true``, so a provider
    that supports it decodes under the schema. ``strict=False`` sends pydantic's schema as it
    is, as a hint: for providers without strict mode, or to see what validation catches.
    Cached per class: building a JSON schema takes pydantic milliseconds, every call.

    Raises:
        StrictSchemaError: with ``strict``, the model uses a JSON Schema feature strict mode
            refuses; the message says which field and what to change.
    """
    from course_lib.structured.strict import strict_json_schema

    plain = schema.model_json_schema()
    if not strict:
        return {"type": "json_schema", "json_schema": {"name": schema.__name__, "schema": plain}}
    return {
        "type": "json_schema",
        "json_schema": {
            "name": schema.__name__,
            "schema": strict_json_schema(plain, name=schema.__name__),
            "strict": True,
        },
    }


def _conversation(
    messages: str | Sequence[Mapping[str, Any]], system: str | None
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = (
        [{"role": "user", "content": messages}]
        if isinstance(messages, str)
        else [dict(m) for m in messages]
    )
    if system is not None:
        out.insert(0, {"role": "system", "content": system})
    if not out:
        raise ValueError("generate_structured needs at least one message.")
    return out


@dataclass
class _Tally:
    """What the attempts so far cost: tokens, dollars, and the local model's modelled latency."""

    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    latency_ms: float | None = 0.0  # None as soon as one attempt has no modelled latency

    def add(self, result: ChatResult) -> None:
        self.input_tokens += result.usage.input_tokens
        self.output_tokens += result.usage.output_tokens
        self.cost_usd += result.cost_usd
        self.latency_ms = (
            None
            if self.latency_ms is None or result.simulated_latency_ms is None
            else self.latency_ms + result.simulated_latency_ms
        )

    def result(
        self, value: T | None, failures: Sequence[AttemptFailure], stopped: str
    ) -> StructuredResult[T]:
        """The loop's outcome: ``value`` (or None), the failed attempts, and these totals."""
        return StructuredResult(
            value=value,
            attempts=len(failures) + (1 if value is not None else 0),
            errors=tuple(failures),
            input_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
            cost_usd=self.cost_usd,
            simulated_latency_ms=None if self.latency_ms is None else round(self.latency_ms, 3),
            stopped=stopped,
        )


def _failure(
    attempt: int, result: ChatResult, problems: tuple[ValidationProblem, ...]
) -> AttemptFailure:
    """The record of an attempt whose reply did not validate."""
    return AttemptFailure(
        attempt,
        result.content,
        result.finish_reason,
        problems,
        result.usage.input_tokens,
        result.usage.output_tokens,
        result.cost_usd,
    )


def generate_structured(
    client: ChatClient,
    messages: str | Sequence[Mapping[str, Any]],
    schema: type[T],
    *,
    model: str = "chat-small",
    max_repairs: int = 2,
    seed: int | None = None,
    strict: bool = True,
    system: str | None = None,
    repair_message: Callable[[Sequence[ValidationProblem]], str] = default_repair_message,
    **chat_options: Any,
) -> StructuredResult[T]:
    """Asks for output matching ``schema``, validates it, and repairs it at most ``max_repairs``.

    Args:
        client: an ``LLMClient`` (or anything with its ``chat`` method).
        messages: a user message, or Chat Completions messages.
        schema: the pydantic model class; its JSON schema goes in ``response_format`` and the
            reply is validated with it.
        model: a role of the model registry.
        max_repairs: how many repair requests may follow the first call (0: none). The loop
            makes at most ``1 + max_repairs`` calls.
        seed: passed to every call, for reproducible runs.
        strict: send the schema with ``"strict": true`` (see :func:`response_format_for`);
            False for a provider without strict mode. Validation and repair run either way.
        system: a system prompt to put first.
        repair_message: builds the repair request from the problems found.
        **chat_options: passed to ``client.chat`` (``temperature``, ``max_tokens``,
            ``prompt_version``...).

    Returns:
        A :class:`StructuredResult`; ``value`` is None when no attempt validated. Validation
        failures never raise: the caller decides (retry later, route to a human...).

    Raises:
        ValueError: ``max_repairs`` is negative.
        StrictSchemaError: ``strict`` and a schema strict mode cannot serve.
        Whatever ``client.chat`` raises (rate limits, timeouts...) once its own policy gives up.
    """
    if max_repairs < 0:
        raise ValueError(f"max_repairs must be 0 or more (got {max_repairs}).")
    conversation = _conversation(messages, system)
    response_format = response_format_for(schema, strict=strict)
    failures: list[AttemptFailure] = []
    tally = _Tally()
    value: T | None = None
    stopped = "max_repairs"
    for attempt in range(1, max_repairs + 2):
        result = client.chat(
            conversation, model=model, response_format=response_format, seed=seed, **chat_options
        )
        tally.add(result)
        checked = validate_output(result.content, schema)
        if checked.ok:
            value, stopped = checked.value, "valid"
            break
        failures.append(_failure(attempt, result, checked.problems))
        if result.finish_reason == "length":
            stopped = "length"  # the repair would hit the same limit
            break
        if attempt <= max_repairs:
            conversation += [
                {"role": "assistant", "content": result.content or ""},
                {"role": "user", "content": repair_message(checked.problems)},
            ]
    return tally.result(value, failures, stopped)
