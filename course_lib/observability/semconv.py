"""Attribute and span names: the OpenTelemetry GenAI semantic conventions, and ours.

The ``gen_ai.*`` names follow the GenAI semantic conventions (all of Development status;
https://opentelemetry.io/docs/specs/semconv/gen-ai/). Backends such as Langfuse, Phoenix and
Datadog map these names, so spans recorded here show up as model calls there without any
adapter. They are spelled out here, not imported from ``opentelemetry-semantic-conventions``:
that package marks its ``gen_ai`` constants deprecated (the conventions moved to their own
repository) and renames them between releases.

What the conventions do not cover (cost, prompt versions, retrieval details, context
packing) goes under the ``course.`` namespace, so it can never collide with a future
``gen_ai.*`` name.
"""

from __future__ import annotations

__all__ = [
    "COURSE_ATTEMPTS",
    "COURSE_COST_USD",
    "COURSE_FALLBACK_USED",
    "COURSE_MODEL_ROLE",
    "COURSE_PACKING_BUDGET_TOKENS",
    "COURSE_PACKING_CANDIDATE_COUNT",
    "COURSE_PACKING_DROPPED_COUNT",
    "COURSE_PACKING_KEPT_COUNT",
    "COURSE_PACKING_KEPT_IDS",
    "COURSE_PACKING_TOKENS",
    "COURSE_PROMPT_NAME",
    "COURSE_PROMPT_REF",
    "COURSE_PROMPT_VERSION",
    "COURSE_RETRIEVAL_DOCUMENT_IDS",
    "COURSE_RETRIEVAL_MODE",
    "COURSE_RETRIEVAL_RESULT_COUNT",
    "COURSE_RETRIEVAL_SCORES",
    "COURSE_SIMULATED_LATENCY_MS",
    "ERROR_TYPE",
    "EXCEPTION_MESSAGE",
    "EXCEPTION_STACKTRACE",
    "GEN_AI_DATA_SOURCE_ID",
    "GEN_AI_INPUT_MESSAGES",
    "GEN_AI_OPERATION_NAME",
    "GEN_AI_OUTPUT_MESSAGES",
    "GEN_AI_OUTPUT_TYPE",
    "GEN_AI_PROVIDER_NAME",
    "GEN_AI_REQUEST_MAX_TOKENS",
    "GEN_AI_REQUEST_MODEL",
    "GEN_AI_REQUEST_SEED",
    "GEN_AI_REQUEST_STOP_SEQUENCES",
    "GEN_AI_REQUEST_TEMPERATURE",
    "GEN_AI_REQUEST_TOP_K",
    "GEN_AI_REQUEST_TOP_P",
    "GEN_AI_RESPONSE_FINISH_REASONS",
    "GEN_AI_RESPONSE_ID",
    "GEN_AI_RESPONSE_MODEL",
    "GEN_AI_RETRIEVAL_QUERY_TEXT",
    "GEN_AI_SYSTEM_INSTRUCTIONS",
    "GEN_AI_USAGE_INPUT_TOKENS",
    "GEN_AI_USAGE_OUTPUT_TOKENS",
    "GEN_AI_WORKFLOW_NAME",
    "OPERATION_CHAT",
    "OPERATION_INVOKE_WORKFLOW",
    "OPERATION_RETRIEVAL",
    "SERVER_ADDRESS",
    "SERVER_PORT",
]

# -- GenAI semantic conventions ------------------------------------------------------------
# Required on every GenAI span; set when the span starts, so samplers can use them.
GEN_AI_OPERATION_NAME = "gen_ai.operation.name"
GEN_AI_PROVIDER_NAME = "gen_ai.provider.name"  # replaces the older gen_ai.system

# Request (set at span start)
GEN_AI_REQUEST_MODEL = "gen_ai.request.model"
GEN_AI_REQUEST_TEMPERATURE = "gen_ai.request.temperature"
GEN_AI_REQUEST_MAX_TOKENS = "gen_ai.request.max_tokens"
GEN_AI_REQUEST_SEED = "gen_ai.request.seed"
GEN_AI_REQUEST_TOP_P = "gen_ai.request.top_p"
GEN_AI_REQUEST_TOP_K = "gen_ai.request.top_k"
GEN_AI_REQUEST_STOP_SEQUENCES = "gen_ai.request.stop_sequences"
SERVER_ADDRESS = "server.address"
SERVER_PORT = "server.port"

# Response (set when the call returns)
GEN_AI_RESPONSE_MODEL = "gen_ai.response.model"
GEN_AI_RESPONSE_ID = "gen_ai.response.id"
GEN_AI_RESPONSE_FINISH_REASONS = "gen_ai.response.finish_reasons"  # a list of strings
GEN_AI_USAGE_INPUT_TOKENS = "gen_ai.usage.input_tokens"
GEN_AI_USAGE_OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
GEN_AI_OUTPUT_TYPE = "gen_ai.output.type"
ERROR_TYPE = "error.type"
# The ``exception`` event's text (general conventions), recorded redacted.
EXCEPTION_MESSAGE = "exception.message"
EXCEPTION_STACKTRACE = "exception.stacktrace"

# Opt-in content: prompts, answers and queries may hold personal data. Recorded only when
# capture_message_content is on.
GEN_AI_INPUT_MESSAGES = "gen_ai.input.messages"
GEN_AI_OUTPUT_MESSAGES = "gen_ai.output.messages"
GEN_AI_SYSTEM_INSTRUCTIONS = "gen_ai.system_instructions"
GEN_AI_RETRIEVAL_QUERY_TEXT = "gen_ai.retrieval.query.text"

# Retrieval and workflow spans
GEN_AI_DATA_SOURCE_ID = "gen_ai.data_source.id"
GEN_AI_WORKFLOW_NAME = "gen_ai.workflow.name"

# Well-known gen_ai.operation.name values used here. Span names are
# "{operation} {model}" for inference, "retrieval {data source}", "invoke_workflow {name}".
OPERATION_CHAT = "chat"
OPERATION_RETRIEVAL = "retrieval"
OPERATION_INVOKE_WORKFLOW = "invoke_workflow"

# -- Course attributes (no convention covers them) -----------------------------------------
COURSE_COST_USD = "course.cost_usd"
COURSE_PROMPT_REF = "course.prompt.ref"  # "handbook-answer@v3"
COURSE_PROMPT_NAME = "course.prompt.name"
COURSE_PROMPT_VERSION = "course.prompt.version"
COURSE_MODEL_ROLE = "course.model.role"  # the role asked for ("chat-small"), when not an id
COURSE_ATTEMPTS = "course.attempts"
COURSE_FALLBACK_USED = "course.fallback_used"
COURSE_SIMULATED_LATENCY_MS = "course.simulated_latency_ms"  # the local model's modelled time

COURSE_RETRIEVAL_MODE = "course.retrieval.mode"
COURSE_RETRIEVAL_RESULT_COUNT = "course.retrieval.result_count"
COURSE_RETRIEVAL_DOCUMENT_IDS = "course.retrieval.document_ids"
COURSE_RETRIEVAL_SCORES = "course.retrieval.scores"

COURSE_PACKING_BUDGET_TOKENS = "course.packing.budget_tokens"
COURSE_PACKING_CANDIDATE_COUNT = "course.packing.candidate_count"
COURSE_PACKING_KEPT_COUNT = "course.packing.kept_count"
COURSE_PACKING_DROPPED_COUNT = "course.packing.dropped_count"
COURSE_PACKING_KEPT_IDS = "course.packing.kept_ids"
COURSE_PACKING_TOKENS = "course.packing.tokens"
