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

from course_lib.models import ModelSpec
from course_lib.standin.errors import InvalidRequestError, ServerStartError
from course_lib.standin.faults import Fault, FaultPlan
from course_lib.standin.model import LocalModel, stream_chunks

__all__ = ["ModelServer", "create_app", "run_server", "serve_model", "shared_server"]


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


async def _body_of(request: Request) -> dict[str, Any]:
    """The JSON object a POST carries; anything else is a 400 the SDK reports as such."""
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        raise InvalidRequestError(
            "The request body is not valid JSON. Send a JSON object with "
            "'content-type: application/json'."
        ) from None
    if not isinstance(body, dict):
        raise InvalidRequestError("The request body must be a JSON object.")
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

    @app.exception_handler(Exception)
    async def crash(_: Request, exc: Exception) -> Any:
        return _error(
            500,
            f"The server had an error while processing your request ({type(exc).__name__}). "
            "Retry the request; if it fails again, the server's log has the details.",
            "server_error",
            "internal_error",
        )


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


def _add_chat_routes(app: FastAPI, model: LocalModel) -> None:
    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Any:
        body = await _body_of(request)
        prepared = await run_in_threadpool(model.prepare, body)
        fault = prepared.fault
        if fault is not None and fault.kind in ("rate_limit", "server_error"):
            return _fault_response(fault)
        response = await run_in_threadpool(model.answer, body, prepared)
        if fault is not None and fault.kind == "timeout":
            await asyncio.sleep(fault.delay_s)  # slower than the client is willing to wait
        return await _deliver(model, body, prepared.spec, response)


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


def create_app(model: LocalModel) -> FastAPI:
    """The FastAPI application serving ``model``; each group of routes registers itself."""
    app = FastAPI(title="Local model server", version="1", docs_url=None, redoc_url=None)
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

    @property
    def base_url(self) -> str:
        """The API root to give an OpenAI-compatible client, ending in ``/v1``."""
        return f"http://{self.host}:{self.port}/v1"

    def set_faults(self, plan: FaultPlan | None) -> None:
        """Change the fault plan of the running server (resets its fault counters)."""
        from course_lib.standin.faults import FaultInjector

        self.model.faults = FaultInjector(plan)


@contextmanager
def serve_model(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    faults: FaultPlan | None = None,
    latency_scale: float = 0.0,
    model: LocalModel | None = None,
    startup_timeout_s: float = 15.0,
) -> Iterator[ModelServer]:
    """Run the server in a background thread for the ``with`` block; always shut it down.

    ``port=0`` picks a free port. The block starts once the server accepts connections.
    """
    import uvicorn

    model = model or LocalModel(faults=faults, latency_scale=latency_scale)
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
        create_app(model),
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
        yield ModelServer(host, actual_port, model)
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
