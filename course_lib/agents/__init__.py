"""Agents: a model that calls tools, in a loop that always ends.

* ``tool``, ``tool_schema``, ``Tool``: the Chat Completions schema of a typed Python function,
  and validation of the arguments a model sends;
* ``run_agent``, ``stop_reason``, ``AgentRun``, ``Step``: the tool-calling loop with step, token
  and cost budgets, repeated-call detection, an allow-list and a trace of every step;
* ``HandbookWorld``: the Handbook Assistant's tools over fake company data;
* ``course_lib.agents.tasks``: a suite of tool-use tasks with success checks, and a runner.

Importing this package loads no pydantic or pandas; they load when first needed.
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
from course_lib.agents.tools import Tool, ToolArgumentError, tool, tool_schema
from course_lib.agents.world import READ_ONLY_TOOLS, HandbookWorld, Page, Ticket

__all__ = [
    "READ_ONLY_TOOLS",
    "STOP_REASONS",
    "AgentRun",
    "ChatClient",
    "HandbookWorld",
    "Page",
    "RunTotals",
    "Step",
    "StepKind",
    "Ticket",
    "Tool",
    "ToolArgumentError",
    "run_agent",
    "stop_reason",
    "tool",
    "tool_schema",
]
