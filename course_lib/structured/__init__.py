"""Structured output: prompt templates, JSON extraction, schema validation and bounded repair.

* ``render_prompt``: Jinja2 templates where a missing variable is an error that names it;
* ``extract_json``: the JSON object inside fences, preambles and trailing comments;
* ``validate_output``: a model's output checked against a pydantic model, problems listed
  by field and pydantic error type, never raised;
* ``response_format_for``: the model's JSON schema made strict-compatible and sent with
  ``"strict": true`` (``strict_json_schema`` does the rewrite, or says what to change);
* ``generate_structured``: ask with the model's JSON schema, validate, send the errors back,
  and stop after ``max_repairs``; the result carries every attempt's failures and the total
  tokens and cost.

>>> from course_lib.structured import generate_structured
>>> result = generate_structured(client, messages, TicketTriage, model="chat-small", seed=0)
>>> result.value, result.attempts, result.cost_usd

Importing this package loads neither pydantic nor Jinja2; they load on first use.
"""

from __future__ import annotations

from course_lib.structured.extraction import JSONExtractionError, extract_json
from course_lib.structured.generation import (
    AttemptFailure,
    ChatClient,
    StructuredResult,
    Validation,
    ValidationProblem,
    default_repair_message,
    generate_structured,
    response_format_for,
    validate_output,
)
from course_lib.structured.strict import STRICT_KEYWORDS, strict_json_schema
from course_lib.structured.templates import render_prompt, template_variables

__all__ = [
    "STRICT_KEYWORDS",
    "AttemptFailure",
    "ChatClient",
    "JSONExtractionError",
    "StructuredResult",
    "Validation",
    "ValidationProblem",
    "default_repair_message",
    "extract_json",
    "generate_structured",
    "render_prompt",
    "response_format_for",
    "strict_json_schema",
    "template_variables",
    "validate_output",
]
