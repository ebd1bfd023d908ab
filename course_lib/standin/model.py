"""The local stand-in model: Chat Completions and Embeddings requests in, OpenAI-shaped dicts out.

It ranks sentences rather than generating text (see ``docs/local-model.md``), and it behaves
like a hosted model where the lessons need it to: grounded answers with citations, refusals,
stale memory, prompt injection, JSON schemas, tool calls, a judge mode, temperature and seed,
real token usage, and seeded faults. Both the in-process provider of the client and the HTTP
server call :meth:`LocalModel.chat`, so the two behave identically.
"""

from __future__ import annotations

import base64
import json
import random
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from course_lib.errors import CourseLibError
from course_lib.llm.tokens import count_message_tokens, message_text
from course_lib.models import ModelRegistry, ModelSpec, get_registry
from course_lib.standin.answering import answer_question
from course_lib.standin.errors import InvalidRequestError
from course_lib.standin.faults import Fault, FaultInjector, FaultPlan
from course_lib.standin.judge import judge, parse_judge_request
from course_lib.standin.reading import read_request, repaired_request
from course_lib.standin.structured import (
    fill_from_request,
    loose_json,
    malform,
    malformed_unit,
    schema_from_prompt,
)
from course_lib.standin.text import stable_hash, stable_unit
from course_lib.standin.tokens import count_tokens, truncate_to_tokens
from course_lib.standin.tools import choose_tool, is_error_result, request_steps

__all__ = ["InjectedFault", "LocalModel", "stream_chunks"]

MODEL_VERSION = "2026.11"


class InjectedFault(CourseLibError, RuntimeError):
    """A fault drawn from the fault plan; the server turns it into an HTTP response."""

    def __init__(self, fault: Fault, model: str) -> None:
        super().__init__(f"Injected {fault.kind} from the fault plan (model {model}).")
        self.fault = fault


@dataclass(frozen=True)
class _Prepared:
    spec: ModelSpec
    tier: str
    fingerprint: str
    fault: Fault | None


def _fingerprint(request: Mapping[str, Any]) -> str:
    keys = (
        "model",
        "messages",
        "tools",
        "tool_choice",
        "response_format",
        "temperature",
        "max_tokens",
        "max_completion_tokens",
        "stop",
    )
    return format(stable_hash({k: request.get(k) for k in keys}), "016x")


class LocalModel:
    """The stand-in model. Thread-safe; one instance can serve a whole server.

    Args:
        faults: the fault plan; None for a model that never fails.
        registry: the model registry (default: the one the settings point at).
        latency_scale: sleep for the modelled latency times this factor (0: never sleep).
    """

    def __init__(
        self,
        *,
        faults: FaultPlan | None = None,
        registry: ModelRegistry | None = None,
        latency_scale: float = 0.0,
    ) -> None:
        if latency_scale < 0:
            raise ValueError(f"latency_scale must be >= 0, got {latency_scale!r}.")
        self.registry = registry or get_registry()
        self.faults = FaultInjector(faults)
        self.latency_scale = latency_scale
        self._counter = 0
        self.requests_received = 0  # every chat request, failed or not: retries show here
        self._lock = threading.Lock()

    # -- requests ----------------------------------------------------------------------

    def _spec(self, name: Any, kind: str) -> ModelSpec:
        if not isinstance(name, str) or not name:
            raise InvalidRequestError(
                "The request has no 'model'. Name a model or role of the "
                "registry, e.g. 'local-small'.",
                param="model",
            )
        try:
            spec = self.registry.resolve(name)
        except KeyError as exc:
            raise InvalidRequestError(
                str(exc), status=404, param="model", code="model_not_found"
            ) from None
        if spec.provider != "local" or spec.kind != kind:
            known = sorted(
                m.id
                for m in self.registry.models.values()
                if m.provider == "local" and m.kind == kind
            )
            raise InvalidRequestError(
                f"Model {name!r} is not a local {kind} model; this server serves {known}.",
                status=404,
                param="model",
                code="model_not_found",
            )
        return spec

    def prepare(self, request: Mapping[str, Any]) -> _Prepared:
        """Validate a chat request and draw its fault (raises nothing for the fault yet)."""
        with self._lock:
            self.requests_received += 1
        spec = self._spec(request.get("model"), "chat")
        messages = request.get("messages")
        if not isinstance(messages, list) or not messages:
            raise InvalidRequestError(
                "'messages' must be a non-empty list of chat messages.", param="messages"
            )
        for i, m in enumerate(messages):
            if not isinstance(m, Mapping) or m.get("role") not in (
                "system",
                "developer",
                "user",
                "assistant",
                "tool",
            ):
                raise InvalidRequestError(
                    f"messages[{i}] needs a role of system, developer, user, assistant or tool.",
                    param=f"messages[{i}].role",
                )
        if int(request.get("n") or 1) != 1:
            raise InvalidRequestError(
                "This model returns one choice per request; set n=1.", param="n"
            )
        temperature = request.get("temperature")
        if temperature is not None and not 0 <= float(temperature) <= 2:
            raise InvalidRequestError("temperature must be between 0 and 2.", param="temperature")
        fingerprint = _fingerprint(request)
        return _Prepared(
            spec, spec.tier or "small", fingerprint, self.faults.draw(fingerprint, spec.id)
        )

    def chat(self, request: Mapping[str, Any], *, sleep: bool = True) -> dict[str, Any]:
        """Answer a Chat Completions request with an OpenAI-shaped completion dict.

        Raises:
            InvalidRequestError: the request is not valid (unknown model, no messages...).
            InjectedFault: the fault plan says this call fails.
        """
        prepared = self.prepare(request)
        if prepared.fault is not None and prepared.fault.kind != "latency_spike":
            raise InjectedFault(prepared.fault, prepared.spec.id)
        response = self.answer(request, prepared)
        if sleep and self.latency_scale > 0:
            time.sleep(response["course"]["latency_ms"] * self.latency_scale / 1000)
        return response

    # -- answering ---------------------------------------------------------------------

    def _rng(self, request: Mapping[str, Any], fingerprint: str) -> random.Random:
        seed = request.get("seed")
        if seed is None and float(request.get("temperature") or 0) > 0:
            return random.Random()  # unseeded sampling differs from call to call
        return random.Random(stable_hash("sample", seed, fingerprint))

    def answer(self, request: Mapping[str, Any], prepared: _Prepared) -> dict[str, Any]:
        """The completion of a request :meth:`prepare` checked, whatever fault it drew.

        Callers that deliver faults themselves (the HTTP server, the in-process provider) use
        ``prepare`` then ``answer``, so a request is counted and its fault drawn exactly once.
        """
        spec, tier = prepared.spec, prepared.tier
        messages = request["messages"]
        read = read_request(messages)
        temperature = float(request.get("temperature") or 0.0)
        rng = self._rng(request, prepared.fingerprint)
        malformed_rate = (
            self.faults.plan.malformed_rate
            if self.faults.plan.malformed_rate is not None
            else spec.malformed_output_rate
        )
        unit = malformed_unit(request.get("seed"), prepared.fingerprint)
        broken = unit < malformed_rate
        sub_unit = unit / malformed_rate if malformed_rate > 0 else 0.0
        tools = request.get("tools") or []
        tool_choice = request.get("tool_choice", "auto")
        content: str | None
        tool_calls: list[dict[str, Any]] | None = None
        finish = "stop"
        behaviour = "answer"

        forced = None
        if isinstance(tool_choice, Mapping):
            forced = str(tool_choice.get("function", {}).get("name"))
        tools_on = bool(tools) and tool_choice != "none"
        last_tool = read.tool_results[-1] if read.tool_results else None
        response_format = request.get("response_format") or {}
        format_type = response_format.get("type") if isinstance(response_format, Mapping) else None
        everything = f"{read.system}\n{read.user_text}"

        # A request naming its steps ("..., then ...") gets one tool call per step, in order.
        steps = request_steps(read.question or read.user_text)
        done = sum(1 for result in read.tool_results if not is_error_result(result.text))
        next_step = (last_tool is None and read.last_role == "user") or (
            last_tool is not None
            and read.last_role == "tool"
            and not is_error_result(last_tool.text)
            and done < len(steps)
        )
        if tools_on and next_step:
            step_text = steps[done] if len(steps) > 1 else read.question or read.user_text
            context = "\n".join(result.text for result in read.tool_results)
            choice = choose_tool(
                step_text,
                tools,
                tier,  # type: ignore[arg-type]
                forced=forced if forced or tool_choice == "required" else None,
                context=context,
            )
            if choice is None and tool_choice == "required":
                choice = choose_tool(
                    step_text,
                    tools,
                    tier,  # type: ignore[arg-type]
                    forced=str(tools[0].get("function", {}).get("name")),
                    context=context,
                )
            if choice is not None:
                arguments = json.dumps(choice.arguments, ensure_ascii=False)
                if broken:
                    arguments = malform(choice.arguments, None, sub_unit)
                tool_calls = [self._tool_call(choice.name, arguments, prepared.fingerprint)]
                behaviour = "tool_call"
        if (
            tool_calls is None
            and tools_on
            and last_tool is not None
            and is_error_result(last_tool.text)
            and tier == "small"
        ):
            # The small model retries a failing tool with the same arguments: a runaway loop.
            previous = self._last_call(messages)
            if previous is not None:
                tool_calls = [self._tool_call(previous[0], previous[1], prepared.fingerprint)]
                behaviour = "tool_retry"
        if tool_calls is not None:
            content = None
            finish = "tool_calls"
        elif last_tool is not None and is_error_result(last_tool.text):
            content = (
                f"The {last_tool.id} tool failed ({last_tool.text.strip()[:160]}), "
                "so I cannot answer that right now."
            )
            behaviour = "tool_error"
        elif (judged := parse_judge_request(everything, format_type is not None)) is not None:
            noise = (rng.random() - 0.5) * 0.2 * temperature
            verdict = judge(judged, noise=noise)
            content = self._render_verdict(verdict, judged.scale, response_format, read)
            behaviour = "judge"
        elif format_type == "json_schema":
            schema = response_format.get("json_schema", {}).get("schema", {})
            # A request to fix the previous answer is filled again from the original input.
            source = repaired_request(messages) or read
            value = fill_from_request(schema, _structured_input(source), tier)  # type: ignore[arg-type]
            content = (
                malform(value, schema, sub_unit)
                if broken
                else json.dumps(value, ensure_ascii=False)
            )
            behaviour = "json_schema"
        elif format_type == "json_object" or read.instructions.json:
            # Keys and types come from JSON examples: in the prompt, or in the assistant turns
            # of few-shot examples.
            examples = "\n".join(
                message_text(m) for m in messages[:-1] if m.get("role") == "assistant"
            )
            schema = schema_from_prompt(f"{read.system}\n{examples}\n{read.user_text}")
            if not schema["properties"]:
                schema = {"type": "object", "properties": {"answer": {"type": "string"}}}
            value = fill_from_request(schema, read.question or read.user_text, tier)
            if broken:
                content = malform(value, schema, sub_unit)
            elif format_type == "json_object":
                content = json.dumps(value, ensure_ascii=False)
            else:
                content = loose_json(
                    value, stable_unit("loose", request.get("seed"), prepared.fingerprint)
                )
            behaviour = "json"
        else:
            answer = answer_question(read, tier, temperature=temperature, rng=rng)  # type: ignore[arg-type]
            content = answer.text
            behaviour = (
                "injected"
                if answer.injected
                else "refused"
                if answer.refused
                else "grounded"
                if answer.grounded
                else "memory"
            )

        if content is not None:
            for stop in _stops(request.get("stop")):
                if stop and stop in content:
                    content = content[: content.index(stop)]
            limit = request.get("max_completion_tokens") or request.get("max_tokens")
            if limit is not None and count_tokens(content) > int(limit):
                content = truncate_to_tokens(content, int(limit))
                finish = "length"

        input_tokens = count_message_tokens(messages, tools or None, count_tokens=count_tokens)
        output_tokens = count_tokens(content or "") + sum(
            count_tokens(c["function"]["name"] + c["function"]["arguments"])
            for c in tool_calls or ()
        )
        latency = spec.latency_ms(input_tokens, output_tokens)
        if prepared.fault is not None and prepared.fault.kind == "latency_spike":
            latency += prepared.fault.extra_latency_ms
        with self._lock:
            self._counter += 1
            number = self._counter
        message: dict[str, Any] = {"role": "assistant", "content": content}
        if tool_calls is not None:
            message["tool_calls"] = tool_calls
        return {
            "id": f"chatcmpl-{prepared.fingerprint}{number:06d}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": spec.id,
            "system_fingerprint": f"local-{MODEL_VERSION}",
            "choices": [
                {"index": 0, "message": message, "finish_reason": finish, "logprobs": None}
            ],
            "usage": {
                "prompt_tokens": input_tokens,
                "completion_tokens": output_tokens,
                "total_tokens": input_tokens + output_tokens,
            },
            # Not part of the OpenAI format: what the stand-in did, for lessons and tests.
            "course": {
                "behaviour": behaviour,
                "latency_ms": round(latency, 3),
                "cost_usd": spec.cost(input_tokens, output_tokens),
                "malformed": broken and behaviour in ("json_schema", "json", "tool_call"),
            },
        }

    @staticmethod
    def _tool_call(name: str, arguments: str, fingerprint: str) -> dict[str, Any]:
        call_id = "call_" + format(stable_hash(fingerprint, name, arguments), "016x")
        return {
            "id": call_id,
            "type": "function",
            "function": {"name": name, "arguments": arguments},
        }

    @staticmethod
    def _last_call(messages: list[Mapping[str, Any]]) -> tuple[str, str] | None:
        for message in reversed(messages):
            for call in message.get("tool_calls") or ():
                function = call.get("function", {})
                return str(function.get("name")), str(function.get("arguments", "{}"))
        return None

    @staticmethod
    def _render_verdict(verdict: Any, scale: Any, response_format: Any, read: Any) -> str:
        fields = {"score": verdict.score, "passed": verdict.passed, "reason": verdict.reason}
        if isinstance(response_format, Mapping) and response_format.get("type") == "json_schema":
            schema = response_format.get("json_schema", {}).get("schema", {})
            out: dict[str, Any] = {}
            for key, sub in schema.get("properties", {}).items():
                lowered = key.lower()
                if lowered in ("score", "rating", "grade", "points"):
                    out[key] = verdict.score if verdict.score is not None else int(verdict.passed)
                elif lowered in ("passed", "pass", "correct", "is_correct", "acceptable"):
                    out[key] = verdict.passed
                elif lowered in ("verdict", "label", "result"):
                    options = sub.get("enum") or ["pass", "fail"]
                    out[key] = options[0] if verdict.passed else options[-1]
                else:
                    out[key] = verdict.reason
            return json.dumps(out, ensure_ascii=False)
        if (
            isinstance(response_format, Mapping) and response_format.get("type") == "json_object"
        ) or read.instructions.json:
            return json.dumps(fields, ensure_ascii=False)
        if scale is None:
            return f"{'PASS' if verdict.passed else 'FAIL'}: {verdict.reason}"
        return f"Score: {verdict.score}\nReason: {verdict.reason}"

    # -- embeddings and models ---------------------------------------------------------

    def embeddings(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """Answer an Embeddings request (float or base64 encoding, as the SDK asks)."""
        spec = self._spec(request.get("model"), "embedding")
        raw = request.get("input")
        texts = [raw] if isinstance(raw, str) else raw
        if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
            raise InvalidRequestError(
                "'input' must be a string or a non-empty list of strings "
                "(token arrays are not supported).",
                param="input",
            )
        from course_lib.embeddings import get_embedder

        try:
            embedder = get_embedder(spec.id)
        except ImportError as exc:
            raise InvalidRequestError(
                str(exc), status=400, param="model", code="model_not_available"
            ) from None
        vectors = embedder.embed(texts)
        encoding = request.get("encoding_format") or "float"
        data = []
        for i, vector in enumerate(vectors):
            value: Any = (
                base64.b64encode(vector.astype("<f4").tobytes()).decode("ascii")
                if encoding == "base64"
                else [float(x) for x in vector]
            )
            data.append({"object": "embedding", "index": i, "embedding": value})
        tokens = sum(count_tokens(t) for t in texts)
        return {
            "object": "list",
            "data": data,
            "model": spec.id,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }

    def models(self) -> dict[str, Any]:
        """The local models, as ``GET /v1/models`` lists them."""
        data = [
            {"id": m.id, "object": "model", "created": 0, "owned_by": "course-local"}
            for m in self.registry.models.values()
            if m.provider == "local"
        ]
        return {"object": "list", "data": data}


def _structured_input(read: Any) -> str:
    """The text a schema is filled from: passages' text (without their ids) and the question."""
    if read.passages:
        return "\n\n".join([*(p.text for p in read.passages), read.question])
    return read.user_text


def _stops(stop: Any) -> list[str]:
    if stop is None:
        return []
    return [stop] if isinstance(stop, str) else [str(s) for s in stop]


def stream_chunks(
    response: Mapping[str, Any], *, include_usage: bool = False, words_per_chunk: int = 3
) -> Iterator[dict[str, Any]]:
    """The completion as ``chat.completion.chunk`` dicts, the way a streaming API sends it."""
    base = {
        "id": response["id"],
        "object": "chat.completion.chunk",
        "created": response["created"],
        "model": response["model"],
        "system_fingerprint": response.get("system_fingerprint"),
    }
    choice = response["choices"][0]
    message = choice["message"]

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {
            **base,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
        }

    yield chunk({"role": "assistant", "content": ""})
    if message.get("tool_calls"):
        for i, call in enumerate(message["tool_calls"]):
            yield chunk({"tool_calls": [{"index": i, **call}]})
    content = message.get("content") or ""
    words = content.split(" ")
    for start in range(0, len(words), words_per_chunk):
        piece = " ".join(words[start : start + words_per_chunk])
        if start + words_per_chunk < len(words):
            piece += " "
        if piece:
            yield chunk({"content": piece})
    yield chunk({}, choice["finish_reason"])
    if include_usage:
        yield {**base, "choices": [], "usage": response["usage"]}
