"""Tools from an MCP server, handed to the same agent loop: calls go over the protocol.

:class:`MCPTools` starts an MCP server as a subprocess of this Python (stdio, no network),
connects the official ``mcp`` SDK's :class:`mcp.Client` to it, lists its tools and turns each
into a course :class:`~course_lib.agents.Tool` whose function sends a ``tools/call`` request.
:func:`~course_lib.agents.run_agent` takes those tools unchanged: the model sees the schemas
the server listed, and every call it makes runs in the server process.

>>> with MCPTools.serving("course_lib.labs.agent_world:HandbookWorld") as server:
...     run = run_agent(client, "Where is parcel KF-20931?", server.tools())

The SDK is asynchronous and a notebook already runs an event loop, so the client lives on an
event loop of its own in a background thread (anyio's blocking portal); the loop's calls
block until the server answers, as an in-process tool call does. Arguments are checked
against the listed schema (``jsonschema``) before they are sent, so a bad call costs no round
trip, and the server checks them again. A failed call (``isError``) raises
:class:`MCPToolError`, which the agent loop sends back to the model as the tool's error.
"""

from __future__ import annotations

import atexit
import os
import sys
import tempfile
from collections.abc import Mapping, Sequence
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from typing import Any

from course_lib.agents.tools import Tool, parse_arguments
from course_lib.errors import CourseLibError, ToolArgumentError

__all__ = ["MCPServerError", "MCPToolError", "MCPTools", "mcp_course_tool"]


_INHERITED = ("PYTHONPATH", "COURSE_WORK_DIR")


class MCPServerError(CourseLibError, RuntimeError):
    """The MCP server could not be started, or stopped answering."""


class MCPToolError(CourseLibError, RuntimeError):
    """The server ran the call and reported a failure (``isError``)."""


def _validate(
    name: str, schema: Mapping[str, Any], arguments: str | Mapping[str, Any]
) -> dict[str, Any]:
    """The arguments as a dict, checked against the tool's listed JSON schema."""
    import jsonschema

    parsed = parse_arguments(name, arguments)
    validator = jsonschema.Draft202012Validator(dict(schema))
    errors = sorted(validator.iter_errors(parsed), key=lambda e: list(e.absolute_path))
    if errors:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.absolute_path) or 'arguments'}: {e.message}"
            for e in errors[:3]
        )
        raise ToolArgumentError(
            f"invalid arguments for {name}: {problems}. Fix them and call it again."
        )
    return parsed


@dataclass(frozen=True)
class _MCPTool(Tool):
    """A course tool whose calls go to an MCP server; validated against the listed schema."""

    input_schema: dict[str, Any] = field(default_factory=dict)

    def validate(self, arguments: str | Mapping[str, Any]) -> dict[str, Any]:
        return _validate(self.name, self.input_schema, arguments)


def mcp_course_tool(listed: Any, call: Any) -> Tool:
    """A course :class:`Tool` for one tool an MCP server listed; ``call(name, args)`` runs it."""
    schema = dict(listed.input_schema or {"type": "object", "properties": {}})
    annotations = listed.annotations
    read_only = bool(annotations is not None and annotations.read_only_hint)
    name = str(listed.name)

    def run(**arguments: Any) -> str:
        text: str = call(name, arguments)
        return text

    run.__name__ = name
    run.__doc__ = listed.description
    return _MCPTool(
        function=run,
        schema={
            "type": "function",
            "function": {
                "name": name,
                "description": listed.description or "",
                "parameters": schema,
            },
        },
        side_effects=not read_only,
        input_schema=schema,
    )


def _text(result: Any) -> str:
    parts = [
        getattr(c, "text", "") for c in result.content or () if getattr(c, "type", "") == "text"
    ]
    return "\n".join(p for p in parts if p)


class MCPTools:
    """A running MCP server (a subprocess speaking MCP over stdio) and its tools.

    Use :meth:`serving` for the course's tool servers, or pass any command. Close it (or use
    it in a ``with`` block) to stop the subprocess.

    Args:
        command: the program and its arguments, e.g. ``[sys.executable, "-m", "my_server"]``.
        env: extra environment variables for the server (``PYTHONPATH`` and
            ``COURSE_WORK_DIR`` are passed on from this process unless given here).
        timeout_s: how long to wait for the server to start and for each call.
    """

    def __init__(
        self,
        command: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        timeout_s: float = 30.0,
    ) -> None:
        if not command:
            raise ValueError("MCPTools needs a command to start the server.")
        self.command = [str(c) for c in command]
        # The SDK starts the server with a minimal environment; these keep it importing the
        # same code and using the same work directory as this process.
        inherited = {k: v for k in _INHERITED if (v := os.environ.get(k)) is not None}
        self.env = {**inherited, **dict(env or {})}
        self.timeout_s = timeout_s
        self._stack: ExitStack | None = None
        self._portal: Any = None
        self._client: Any = None
        self._stderr: Any = None
        self._listed: list[Any] = []
        self.calls: list[str] = []  # every tool called over MCP, in order

    @classmethod
    def serving(cls, spec: str, **options: Any) -> MCPTools:
        """The course's MCP server for the tools of ``spec`` (``module:attribute``), started."""
        command = [sys.executable, "-m", "course_lib.agents.mcp_server", spec]
        return cls(command, **options).start()

    def __repr__(self) -> str:
        state = "running" if self._client is not None else "stopped"
        return f"MCPTools({' '.join(self.command[-2:])!r}, {state})"

    def __enter__(self) -> MCPTools:
        return self if self._client is not None else self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _stderr_tail(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        lines = [line.strip() for line in self._stderr.read().splitlines() if line.strip()]
        return lines[-1] if lines else ""

    def start(self) -> MCPTools:
        """Starts the server and lists its tools; a failure is one :class:`MCPServerError`."""
        from anyio.from_thread import start_blocking_portal
        from mcp import Client, StdioServerParameters, stdio_client

        if self._client is not None:
            return self
        from course_lib.workdir import work_path

        stack = ExitStack()
        try:
            # The server's stderr, kept (unnamed) in the work directory for the error message.
            folder = work_path("mcp", "stderr").parent
            errlog = tempfile.TemporaryFile("w+", encoding="utf-8", dir=folder)  # noqa: SIM115
            self._stderr = stack.enter_context(errlog)
            portal = stack.enter_context(start_blocking_portal())
            params = StdioServerParameters(
                command=self.command[0], args=self.command[1:], env=self.env
            )
            # The server's stderr goes to a file: a notebook's sys.stderr has no file number.
            transport = stdio_client(params, errlog=self._stderr)
            client = Client(transport, read_timeout_seconds=self.timeout_s)
            # One task enters and leaves the client (anyio's rule), whichever thread asks.
            stack.enter_context(portal.wrap_async_context_manager(client))
            listed = portal.call(self._list, client)
        except Exception as exc:  # any failure to start is one message
            tail = self._stderr_tail()
            stack.close()
            self._stderr = None
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            reason = tail or f"{type(exc).__name__}: {first}"
            raise MCPServerError(
                f"The MCP server {' '.join(self.command[-2:])!r} did not start: {reason}"
            ) from None
        self._stack, self._portal, self._client, self._listed = stack, portal, client, listed
        # Stop the server before the interpreter finalises: closing it later, from a garbage
        # collected generator, would wait forever on the event loop's frozen thread.
        atexit.register(self.close)
        return self

    async def _list(self, client: Any) -> list[Any]:
        result = await client.list_tools()
        return list(result.tools)

    def close(self) -> None:
        """Stops the server (the subprocess ends when its stdin closes)."""
        stack, self._stack = self._stack, None
        self._client = self._portal = None
        atexit.unregister(self.close)
        if stack is not None:
            with suppress(Exception):  # a server already gone is stopped
                stack.close()

    def _require(self) -> Any:
        if self._client is None or self._portal is None:
            raise MCPServerError("The MCP server is not running; start it (or open a new one).")
        return self._portal

    @property
    def listed(self) -> list[Any]:
        """The tools as the server listed them (``mcp.types.Tool``: name, inputSchema...)."""
        return list(self._listed)

    def call(self, name: str, arguments: Mapping[str, Any] | None = None) -> str:
        """Runs one tool in the server; its text, or :class:`MCPToolError` when it failed."""
        portal = self._require()
        self.calls.append(name)
        try:
            result = portal.call(self._client.call_tool, name, dict(arguments or {}))
        except Exception as exc:
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise MCPServerError(f"The MCP call {name} failed in transport: {message}") from None
        text = _text(result)
        if result.is_error:
            raise MCPToolError(text or f"{name} failed")
        return text

    def tools(self) -> list[Tool]:
        """Every listed tool as a course :class:`Tool`, ready for ``run_agent``."""
        self._require()
        return [mcp_course_tool(listed, self.call) for listed in self._listed]
