"""Agents: a model that calls tools, in a loop that always ends.

* ``tool``, ``tool_schema``, ``Tool``: the Chat Completions schema of a typed Python function,
  and validation of the arguments a model sends; ``tool_help``: the function's signature and
  docstring as text that is the same on every Python version (``help()``'s layout is not);
* ``run_agent``, ``stop_reason``, ``AgentRun``, ``Step``: the tool-calling loop with step, token
  and cost budgets, repeated-call detection, an allow-list and a trace of every step; it runs
  every call of a turn when the model sends several at once (parallel tool calls);
* ``MCPTools``: tools served by an MCP server (a subprocess over stdio; the course's own is
  :mod:`course_lib.agents.mcp_server`), as tools the same loop takes; ``MCPServerError``,
  ``MCPToolError``: a server that does not start, a call that failed in the server;

The lessons' practice world (``HandbookWorld``, the Handbook Assistant's tools over fake
company data) and its task suite live with the classroom, in ``course_lib.labs``.

Importing this package loads no pydantic, pandas or MCP SDK; they load when first needed.
"""

from __future__ import annotations

from course_lib.agents.loop import (
    STOP_REASONS,
    AgentRun,
    ChatClient,
    RunTotals,
    Step,
    StepKind,
    run_agent,
    stop_reason,
)
from course_lib.agents.mcp_client import MCPServerError, MCPToolError, MCPTools
from course_lib.agents.tools import Tool, ToolArgumentError, tool, tool_help, tool_schema

__all__ = [
    "STOP_REASONS",
    "AgentRun",
    "ChatClient",
    "MCPServerError",
    "MCPToolError",
    "MCPTools",
    "RunTotals",
    "Step",
    "StepKind",
    "Tool",
    "ToolArgumentError",
    "run_agent",
    "stop_reason",
    "tool",
    "tool_help",
    "tool_schema",
]
