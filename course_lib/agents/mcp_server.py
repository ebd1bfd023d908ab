"""The course's ``@tool`` functions served over the Model Context Protocol (stdio).

MCP lets one process offer tools and another use them: a server lists its tools (name,
description, JSON schema of the arguments) and runs the calls a client sends. Here the server
is built with the official ``mcp`` SDK's low-level :class:`mcp.server.lowlevel.Server`, so each
tool's MCP ``inputSchema`` is exactly the ``parameters`` schema the model sees through
:func:`course_lib.agents.tool_schema`, and each call is validated and run by the same
:class:`~course_lib.agents.Tool` as in process. Start it as a subprocess that speaks MCP over
its stdin and stdout, naming where its tools come from::

    python -m course_lib.agents.mcp_server course_lib.labs.agent_world:HandbookWorld

The spec is ``module:attribute``. The attribute may be a list of tools, a function returning
one, or a class (or object) with a ``tools()`` method, as ``HandbookWorld`` has. Nothing goes
over a network, and nothing but MCP messages is written to stdout.
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Sequence
from typing import Any

from course_lib.agents.tools import Tool, ToolArgumentError

__all__ = ["build_server", "load_tools", "main", "mcp_tool"]

SERVER_NAME = "course-tools"


def load_tools(spec: str) -> list[Tool]:
    """The tools a ``module:attribute`` spec names (see the module's docstring).

    Raises:
        ValueError: the spec is malformed, or names something that is not a list of tools.
    """
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"tool spec {spec!r} must look like 'package.module:attribute'.")
    try:
        target: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"tool spec {spec!r}: cannot import {module_name!r} ({exc}).") from None
    for part in attribute.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise ValueError(f"tool spec {spec!r}: {module_name} has no {attribute!r}.") from None
    if isinstance(target, type):
        target = target()
    if hasattr(target, "tools") and callable(target.tools):
        target = target.tools()
    elif callable(target) and not isinstance(target, Tool):
        target = target()
    tools = list(target) if isinstance(target, Sequence) else []
    if not tools or not all(isinstance(t, Tool) for t in tools):
        raise ValueError(f"tool spec {spec!r} does not give a non-empty list of course tools.")
    return tools


def mcp_tool(course_tool: Tool) -> Any:
    """The MCP description of a course tool: its schema, and whether it only reads."""
    import mcp_types as types

    function = course_tool.schema["function"]
    return types.Tool(
        name=course_tool.name,
        description=str(function.get("description", "")),
        input_schema=function.get("parameters") or {"type": "object", "properties": {}},
        annotations=types.ToolAnnotations(
            read_only_hint=not course_tool.side_effects,
            destructive_hint=course_tool.side_effects,
        ),
    )


def _result(text: str, *, error: bool = False) -> Any:
    import mcp_types as types

    return types.CallToolResult(content=[types.TextContent(type="text", text=text)], is_error=error)


def build_server(tools: Sequence[Tool], name: str = SERVER_NAME) -> Any:
    """A low-level MCP server that lists ``tools`` and runs calls to them.

    A call's arguments are validated by the tool, as :func:`~course_lib.agents.run_agent`
    validates them in process; a bad argument or an exception inside the tool comes back as
    a result with ``isError`` set and a one-line message, never as a crash of the server.
    """
    import mcp_types as types
    from mcp.server.lowlevel import Server

    by_name = {t.name: t for t in tools}
    listed = [mcp_tool(t) for t in tools]

    async def list_tools(ctx: Any, params: Any) -> Any:
        return types.ListToolsResult(tools=listed)

    async def call_tool(ctx: Any, params: Any) -> Any:
        course_tool = by_name.get(params.name)
        if course_tool is None:
            return _result(
                f"unknown tool {params.name!r}; this server has {sorted(by_name)}.", error=True
            )
        try:
            values = course_tool.validate(dict(params.arguments or {}))
        except ToolArgumentError as exc:
            return _result(str(exc), error=True)
        try:
            output = course_tool.function(**values)
        except Exception as exc:  # the tool's failure is the caller's information
            detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            return _result(f"{type(exc).__name__}: {detail}", error=True)
        text = output if isinstance(output, str) else json.dumps(output, default=str)
        return _result(text)

    return Server(name, on_list_tools=list_tools, on_call_tool=call_tool)


async def _serve(tools: Sequence[Tool]) -> None:
    from mcp.server.stdio import stdio_server

    server = build_server(tools)
    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())


def main(argv: Sequence[str] | None = None) -> int:
    """Serve the tools of the spec in ``argv[0]`` over stdio until the client closes."""
    import anyio

    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print(
            "usage: python -m course_lib.agents.mcp_server package.module:attribute",
            file=sys.stderr,
        )
        return 2
    try:
        tools = load_tools(args[0])
    except ValueError as exc:
        print(f"mcp_server: {exc}", file=sys.stderr)
        return 2
    anyio.run(_serve, tools)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
