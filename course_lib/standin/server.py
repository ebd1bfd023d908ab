"""A local OpenAI-compatible HTTP server for the stand-in model (FastAPI + uvicorn).

The official ``openai`` SDK talks to it unmodified::

    with serve_model() as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="local")
        client.chat.completions.create(model="local-small", messages=[...])

Faults from the fault plan arrive as real HTTP: 429 with ``Retry-After``, 500, 503, and
responses slower than the client's timeout, so the SDK raises its own exception types.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from course_lib.models import ModelSpec
from course_lib.standin.capacity import ServerCapacity, ServerLimits
from course_lib.standin.errors import InvalidRequestError, ServerStartError
from course_lib.standin.faults import Fault, FaultPlan
from course_lib.standin.model import LocalModel, stream_chunks

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_JSON_DEPTH",
    "ModelServer",
    "create_app",
    "run_server",
    "serve_model",
    "shared_server",
]

# A request body larger than this is refused with a 413 before it is parsed: the largest
# legitimate request (an embeddings batch of some thousand paragraphs) is well under it, and a
# runaway one should not take the server's memory.
MAX_BODY_BYTES = 8 * 1024 * 1024
# JSON nested deeper than this is refused with a 400: a chat request with a strict schema of
# ten nested objects is some 30 levels deep, and walking thousands of levels would exhaust the
# stack of whatever reads the request next.
MAX_JSON_DEPTH = 64
_MB = 1024 * 1024
_logger = logging.getLogger(__name__)


def _error(
    status: int,
    message: str,
    kind: str,
    code: str | None = None,
    param: str | None = None,
    headers: dict[str, str] | None = None,
) -> Any:
    body = {"error": {"message": message, "type": kind, "param": param, "code": code}}
    return JSONResponse(body, status_code=status, headers=headers)


def _fault_response(fault: Fault) -> Any:
    if fault.kind == "rate_limit":
        seconds = fault.retry_after_s or 1.0
        headers = {
            "retry-after": str(max(1, math.ceil(seconds))),
            "retry-after-ms": str(int(seconds * 1000)),
        }
        return _error(
            429,
            "Rate limit reached for requests. Please retry after the time in "
            "the Retry-After header.",
            "requests",
            "rate_limit_exceeded",
            headers=headers,
        )
    status = fault.status_code or 500
    if status == 503:
        return _error(
            503, "The server is overloaded or not ready yet.", "server_error", "service_unavailable"
        )
    return _error(
        500,
        "The server had an error while processing your request.",
        "server_error",
        "internal_error",
    )


def _too_large(size: int | None, limit: int) -> InvalidRequestError:
    seen = f"is {size} bytes" if size is not None else "is larger than that"
    return InvalidRequestError(
        f"The request body {seen}; this server accepts at most {limit // _MB} MB "
        f"({limit} bytes). Send fewer or shorter texts per request, for example by splitting "
        "an embeddings batch into several requests.",
        status=413,
        code="request_too_large",
    )


async def _read_capped(request: Request, limit: int) -> bytes:
    """The raw body, refused as soon as it is known to exceed ``limit`` bytes.

    A declared ``content-length`` over the limit is refused before a byte is read; a body sent
    without one is read chunk by chunk and refused once it passes the limit. The server
    discards the unread rest, so the keep-alive connection stays usable.
    """
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(int(declared), limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(None, limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_deep() -> InvalidRequestError:
    return InvalidRequestError(
        f"The request body nests JSON more than {MAX_JSON_DEPTH} levels deep. No chat, "
        "embeddings or responses request needs that much nesting: flatten the values, or send "
        "a deeply nested document as a JSON string inside the message content.",
        code="json_too_deep",
    )


def _check_depth(value: Any) -> None:
    """Refuse nesting deeper than :data:`MAX_JSON_DEPTH`, walking without recursion."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise _too_deep()
        children = node.values() if isinstance(node, dict) else node
        for child in children:
            if isinstance(child, dict | list):
                stack.append((child, depth + 1))


async def _body_of(request: Request) -> dict[str, Any]:
    """The JSON object a POST carries; anything else is a 400 the SDK reports as such.

    The body is capped in size before parsing and in depth right after, so no request can
    exhaust the server's memory or stack: the C JSON parser stops at Python's recursion limit
    with an error, which is refused here as too deep.
    """
    limit = getattr(request.app.state, "max_body_bytes", MAX_BODY_BYTES)
    raw = await _read_capped(request, limit)
    try:
        body = json.loads(raw)
    except RecursionError:
        raise _too_deep() from None
    except (ValueError, UnicodeDecodeError):
        raise InvalidRequestError(
            "The request body is not valid JSON. Send a JSON object with "
            "'content-type: application/json'."
        ) from None
    if not isinstance(body, dict):
        raise InvalidRequestError("The request body must be a JSON object.")
    _check_depth(body)
    return body


def _add_error_handlers(app: FastAPI) -> None:
    """Every error in OpenAI's shape, so the SDK raises its own typed exception with a message."""

    @app.exception_handler(InvalidRequestError)
    async def invalid(_: Request, exc: InvalidRequestError) -> Any:
        return _error(exc.status, str(exc), "invalid_request_error", exc.code, exc.param)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Any:
        return _http_error(request, exc)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> Any:
        return _validation_error(exc)

    app.add_middleware(_CrashesAsServerErrors)


def _crash_response(exc: BaseException) -> Any:
    return _error(
        500,
        f"The server had an error while processing your request ({type(exc).__name__}). "
        "Retry the request; if it fails again, the server's log has the details.",
        "server_error",
        "internal_error",
    )


class _CrashesAsServerErrors:
    """An unexpected exception becomes a 500 in OpenAI's shape on a connection that stays open.

    Starlette's own handler for ``Exception`` sends the 500 and then re-raises, and uvicorn
    answers the re-raise by closing the connection: the client's next request on that
    keep-alive connection then fails as a connection error instead of a readable one. This
    middleware sends the 500 and logs the traceback without re-raising; only a crash after the
    response has started (mid-stream) still closes the connection, as nothing else can end it.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:
                raise
            _logger.exception("The local model server failed on %s", scope.get("path"))
            await _crash_response(exc)(scope, receive, send)


def _http_error(request: Request, exc: StarletteHTTPException) -> Any:
    """404 and 405 (and any other HTTP error the router raises) in OpenAI's shape."""
    route = f"{request.method} {request.url.path}"
    headers = dict(exc.headers or {})
    if exc.status_code == 404:
        message = (
            f"Invalid URL ({route}). Check the path, and that the client's base URL ends in "
            "/v1 (for example POST /v1/chat/completions, POST /v1/responses, GET /v1/models)."
        )
        return _error(404, message, "invalid_request_error", "unknown_url", headers=headers)
    if exc.status_code == 405:
        allowed = headers.get("allow") or headers.get("Allow") or "another method"
        message = f"Method not allowed ({route}). Use {allowed} for {request.url.path}."
        return _error(405, message, "invalid_request_error", "method_not_allowed", headers=headers)
    kind = "server_error" if exc.status_code >= 500 else "invalid_request_error"
    return _error(exc.status_code, str(exc.detail), kind, headers=headers)


def _validation_error(exc: RequestValidationError) -> Any:
    """FastAPI's 422 as OpenAI's 400, naming the first parameter that is wrong."""
    errors = exc.errors()
    first = errors[0] if errors else {}
    location = [str(part) for part in first.get("loc", ()) if part not in ("body", "query")]
    param = ".".join(location) or None
    problem = first.get("msg", "the request is malformed")
    message = (
        f"Invalid value for '{param}': {problem}." if param else f"Invalid request: {problem}."
    )
    return _error(400, message, "invalid_request_error", "invalid_value", param)


def _add_model_routes(app: FastAPI, model: LocalModel) -> None:
    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        return await run_in_threadpool(model.models)

    @app.get("/v1/models/{model_id}")
    async def one_model(model_id: str) -> Any:
        listed = await run_in_threadpool(model.models)
        for entry in listed["data"]:
            if entry["id"] == model_id:
                return entry
        return _error(
            404,
            f"The model '{model_id}' does not exist or you do not have access to it. "
            "GET /v1/models lists the models this server can serve.",
            "invalid_request_error",
            "model_not_found",
            "model",
        )


def _add_embedding_routes(app: FastAPI, model: LocalModel) -> None:
    @app.post("/v1/embeddings")
    async def embeddings(request: Request) -> Any:
        body = await _body_of(request)
        return await run_in_threadpool(model.embeddings, body)


def _rate_limited(wait_s: float, headers: dict[str, str]) -> Any:
    """A 429 for a request over the server's own limits (see ``ServerLimits``)."""
    retry = {
        "retry-after": str(max(1, math.ceil(wait_s))),
        "retry-after-ms": str(math.ceil(wait_s * 1000)),
    }
    return _error(
        429,
        "Rate limit reached for requests or tokens per minute. Please retry after the time "
        "in the Retry-After header, or pace requests on the client side.",
        "requests",
        "rate_limit_exceeded",
        headers={**headers, **retry},
    )


def _add_chat_routes(app: FastAPI, model: LocalModel) -> None:
    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Any:
        body = await _body_of(request)
        capacity: ServerCapacity | None = getattr(request.app.state, "capacity", None)
        limit_headers: dict[str, str] = {}
        if capacity is not None and capacity.active:
            admitted = capacity.admit(body)
            if isinstance(admitted, tuple):
                return _rate_limited(*admitted)
            limit_headers = admitted
        prepared = await run_in_threadpool(model.prepare, body)
        fault = prepared.fault
        if fault is not None and fault.kind in ("rate_limit", "server_error"):
            return _fault_response(fault)
        response = await run_in_threadpool(model.answer, body, prepared)
        if fault is not None and fault.kind == "timeout":
            await asyncio.sleep(fault.delay_s)  # slower than the client is willing to wait
        if capacity is not None and capacity.active:
            await capacity.serve()  # a slot of the "GPU" for its service time
        delivered = await _deliver(model, body, prepared.spec, response)
        delivered.headers.update(limit_headers)
        return delivered


async def _deliver(
    model: LocalModel, body: dict[str, Any], spec: ModelSpec, response: dict[str, Any]
) -> Any:
    """The completion as JSON or as server-sent events, after its modelled latency."""
    scale = model.latency_scale
    latency_s = response["course"]["latency_ms"] * scale / 1000
    headers = {
        "x-course-behaviour": response["course"]["behaviour"],
        "x-course-latency-ms": str(response["course"]["latency_ms"]),
    }
    if not body.get("stream"):
        await asyncio.sleep(latency_s)
        return JSONResponse(response, headers=headers)
    options = body.get("stream_options") or {}
    chunks = list(stream_chunks(response, include_usage=bool(options.get("include_usage"))))
    first_s = spec.latency_base_ms * scale / 1000
    per_chunk_s = max(latency_s - first_s, 0.0) / max(len(chunks) - 1, 1)

    async def events() -> AsyncIterator[bytes]:
        await asyncio.sleep(first_s)
        for i, chunk in enumerate(chunks):
            if i:
                await asyncio.sleep(per_chunk_s)
            yield f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode()
        yield b"data: [DONE]\n\n"

    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)


def create_app(
    model: LocalModel,
    *,
    max_body_bytes: int = MAX_BODY_BYTES,
    capacity: ServerCapacity | None = None,
) -> FastAPI:
    """The FastAPI application serving ``model``; each group of routes registers itself.

    ``max_body_bytes`` caps a request body (a larger one is a 413 in OpenAI's shape).
    ``capacity`` holds optional rate limits and slots for chat requests (none by default).
    """
    app = FastAPI(title="Local model server", version="1", docs_url=None, redoc_url=None)
    app.state.max_body_bytes = max_body_bytes
    app.state.capacity = capacity
    _add_error_handlers(app)
    _add_model_routes(app, model)
    _add_embedding_routes(app, model)
    _add_chat_routes(app, model)

    from course_lib.standin.responses import add_responses_routes

    add_responses_routes(app, model, _fault_response, _body_of)
    return app


@dataclass
class ModelServer:
    """A running local server: its address and the model behind it."""

    host: str
    port: int
    model: LocalModel
    capacity: ServerCapacity | None = None

    @property
    def base_url(self) -> str:
        """The API root to give an OpenAI-compatible client, ending in ``/v1``."""
        return f"http://{self.host}:{self.port}/v1"

    def set_faults(self, plan: FaultPlan | None) -> None:
        """Change the fault plan of the running server (resets its fault counters)."""
        from course_lib.standin.faults import FaultInjector

        self.model.faults = FaultInjector(plan)

    def set_limits(self, limits: ServerLimits | None) -> None:
        """Change the rate limits and slots of the running server (fresh buckets and
        counters); ``None`` turns them off. Only servers started by ``serve_model`` have them."""
        if self.capacity is None:
            raise ServerStartError(
                "This server was started without capacity limits; start it with "
                "serve_model(limits=...) to change them while it runs."
            )
        self.capacity.set(limits)


@contextmanager
def serve_model(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    faults: FaultPlan | None = None,
    latency_scale: float = 0.0,
    model: LocalModel | None = None,
    startup_timeout_s: float = 15.0,
    limits: ServerLimits | None = None,
) -> Iterator[ModelServer]:
    """Run the server in a background thread for the ``with`` block; always shut it down.

    ``port=0`` picks a free port. The block starts once the server accepts connections.
    ``limits`` turns on rate limits and slots for chat requests (off by default); change
    them later with :meth:`ModelServer.set_limits`.
    """
    import uvicorn

    model = model or LocalModel(faults=faults, latency_scale=latency_scale)
    capacity = ServerCapacity(limits or ServerLimits())
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit this; without it, small responses wait ~40 ms for Nagle's
    # algorithm and delayed ACKs, and every local call looks slow.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ServerStartError(
            f"Cannot serve the local model on {host}:{port} ({exc.strerror}); "
            "choose another port, or port=0 for a free one."
        ) from None
    actual_port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(model, capacity=capacity),
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    # Uvicorn before 0.29 installed signal handlers in Server.run, which fails off the main
    # thread; later versions skip them there, and this attribute is then unused.
    server.install_signal_handlers = lambda: None  # type: ignore[attr-defined]
    thread = threading.Thread(
        target=server.run,
        kwargs={"sockets": [sock]},
        name=f"local-model-server:{actual_port}",
        daemon=True,
    )
    thread.start()
    deadline = time.monotonic() + startup_timeout_s
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise ServerStartError(
                f"The local model server did not start on {host}:{actual_port} "
                f"within {startup_timeout_s:.0f} s."
            )
        time.sleep(0.01)
    try:
        yield ModelServer(host, actual_port, model, capacity)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        if thread.is_alive():  # pragma: no cover - a stuck connection
            server.force_exit = True
            thread.join(timeout=5)
        sock.close()


def run_server(
    host: str = "127.0.0.1",
    port: int = 8000,
    faults: FaultPlan | None = None,
    latency_scale: float = 0.0,
) -> None:
    """Serve in the foreground until interrupted (``course serve-model``)."""
    import uvicorn

    model = LocalModel(faults=faults, latency_scale=latency_scale)
    uvicorn.run(create_app(model), host=host, port=port, log_level="info")


_shared: list[ModelServer] = []
_shared_lock = threading.Lock()


def shared_server() -> ModelServer:
    """One local server for the whole process, started on first use and stopped at exit."""
    import atexit

    with _shared_lock:
        if not _shared:
            context = serve_model()
            server: ModelServer = context.__enter__()
            atexit.register(context.__exit__, None, None, None)
            _shared.append(server)
        return _shared[0]
