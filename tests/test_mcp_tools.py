"""The course's tools served over MCP (stdio subprocess) and used by the same agent loop."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from course_lib.agents import run_agent
from course_lib.agents.mcp_client import MCPServerError, MCPToolError, MCPTools
from course_lib.agents.mcp_server import load_tools, main, mcp_tool
from course_lib.errors import ToolArgumentError
from course_lib.labs.agent_world import READ_ONLY_TOOLS, HandbookWorld
from course_lib.standin import local_client

SPEC = "course_lib.labs.agent_world:HandbookWorld"


@pytest.fixture(scope="module")
def server() -> Iterator[MCPTools]:
    with MCPTools.serving(SPEC) as running:
        yield running


def test_the_server_lists_the_same_tools_with_the_same_schemas(server: MCPTools) -> None:
    local = {t.name: t for t in HandbookWorld().tools()}
    remote = server.tools()
    assert [t.name for t in remote] == list(local)
    for t in remote:
        assert t.schema == local[t.name].schema
        assert t.side_effects == local[t.name].side_effects
    listed = {t.name: t for t in server.listed}
    assert listed["create_ticket"].annotations.read_only_hint is False
    assert listed["parcel_status"].annotations.read_only_hint is True


def test_a_call_runs_in_the_server(server: MCPTools) -> None:
    text = server.call("service_owner", {"service": "ledger"})
    assert text == "ledger is owned by the Payments team (payments); on-call: #payments-oncall."
    assert server.calls[-1] == "service_owner"


def test_a_failing_call_is_an_mcp_tool_error(server: MCPTools) -> None:
    with pytest.raises(MCPToolError, match="LookupError: no parcel"):
        server.call("parcel_status", {"tracking_number": "KF-99999"})
    with pytest.raises(MCPToolError, match="invalid arguments for service_owner"):
        server.call("service_owner", {"service": "no-such-service"})  # the server checks too


def test_arguments_are_checked_against_the_listed_schema_before_sending(server: MCPTools) -> None:
    owner = next(t for t in server.tools() if t.name == "service_owner")
    sent = len(server.calls)
    with pytest.raises(ToolArgumentError, match="invalid arguments for service_owner"):
        owner.validate('{"service": "nope"}')
    with pytest.raises(ToolArgumentError, match="not valid JSON"):
        owner.validate("{service")
    assert owner.validate('{"service": "ledger"}') == {"service": "ledger"}
    assert len(server.calls) == sent


def test_the_agent_loop_runs_a_task_over_mcp(server: MCPTools) -> None:
    client = local_client()
    request = "Where is parcel KF-20931 right now?"
    local_run = run_agent(client, request, HandbookWorld().tools(), chat_options={"seed": 0})
    before = len(server.calls)
    remote_run = run_agent(client, request, server.tools(), chat_options={"seed": 0})
    assert remote_run.answered and "Lisbon" in (remote_run.answer or "")
    assert server.calls[before:] == ["parcel_status"]
    assert remote_run.answer == local_run.answer  # same schemas, same model: same run
    assert [s.kind for s in remote_run.steps] == [s.kind for s in local_run.steps]


def test_tool_errors_over_mcp_go_back_to_the_model(server: MCPTools) -> None:
    from course_lib.llm import ChatResult, ToolCall, Usage

    def reply(*calls: ToolCall) -> ChatResult:
        content = None if calls else "That parcel is unknown."
        return ChatResult(content, "scripted", Usage(40, 10), 0.0, 0.0, "stop", tool_calls=calls)

    class Scripted:
        def __init__(self) -> None:
            self.replies = [reply(ToolCall("c1", "parcel_status", '{"tracking_number": "KF-9"}'))]
            self.replies.append(reply())
            self.sent: list[object] = []

        def chat(self, messages: object, **options: object) -> ChatResult:
            self.sent.append(messages)
            return self.replies.pop(0)

    scripted = Scripted()
    run = run_agent(scripted, "Where is KF-9?", server.tools(), allowed_tools=READ_ONLY_TOOLS)
    assert run.answered and [s.kind for s in run.steps] == ["model", "tool_error", "model"]
    error = run.steps[1].result or ""
    assert error.startswith("Error: parcel_status failed: MCPToolError: LookupError: no parcel")


def test_a_server_that_cannot_start_is_one_clear_error() -> None:
    with pytest.raises(MCPServerError, match=r"did not start: .*cannot import 'nope'"):
        MCPTools.serving("nope:Tools")
    with pytest.raises(MCPServerError, match="did not start: FileNotFoundError"):
        MCPTools(["/no/such/program"]).start()
    with pytest.raises(ValueError, match="needs a command"):
        MCPTools([])


def test_a_closed_server_refuses_calls() -> None:
    running = MCPTools.serving(SPEC)
    running.close()
    running.close()  # closing twice is fine
    with pytest.raises(MCPServerError, match="not running"):
        running.call("service_owner", {"service": "ledger"})


def test_load_tools_specs() -> None:
    assert [t.name for t in load_tools(SPEC)][:2] == ["search_handbook", "get_document"]
    for bad, message in [
        ("no_colon", "must look like"),
        ("course_lib.labs.agent_world:Missing", "has no 'Missing'"),
        ("course_lib.labs.agent_world:SERVICES", "non-empty list of course tools"),
    ]:
        with pytest.raises(ValueError, match=message):
            load_tools(bad)
    assert main([]) == 2 and main(["no_colon"]) == 2


def test_mcp_tool_carries_the_schema_as_input_schema() -> None:
    course_tool = HandbookWorld().tools()[3]
    listed = mcp_tool(course_tool)
    assert listed.input_schema == course_tool.schema["function"]["parameters"]
    dumped = listed.model_dump(by_alias=True, exclude_none=True)
    assert "inputSchema" in dumped and dumped["name"] == "parcel_status"


def test_the_server_is_started_with_this_python() -> None:
    running = MCPTools.serving(SPEC)
    try:
        assert running.command[0] == sys.executable
    finally:
        running.close()


def test_the_server_inherits_the_work_directory_and_import_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COURSE_WORK_DIR", "/somewhere")
    monkeypatch.delenv("PYTHONPATH", raising=False)
    tools = MCPTools(["python"], env={"EXTRA": "1"})
    assert tools.env == {"COURSE_WORK_DIR": "/somewhere", "EXTRA": "1"}
    assert MCPTools(["python"], env={"COURSE_WORK_DIR": "/mine"}).env["COURSE_WORK_DIR"] == "/mine"
