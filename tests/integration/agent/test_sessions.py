"""Real Claude Code sessions (the SDK's bundled CLI) against the scripted model server."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from pathlib import Path

import anyio
import pytest

from yokeflow.adapters.claude import ClaudeAgentRunner
from yokeflow.adapters.claude.processes import marked_processes
from yokeflow.errors import ConfigError
from yokeflow.ports.agent import AgentRequest, McpServer
from yokeflow.testing.agents import git, runner_for, scripted_model

pytestmark = [pytest.mark.agent, pytest.mark.usefixtures("test_marker"), pytest.mark.timeout(180)]

MODEL = "claude-sonnet-4-5"

EDIT_AND_COMMIT = """
rules:
  - task: todo-api
    usage: {input_tokens: 1200, output_tokens: 80}
    turns:
      - tool: Write
        input: {file_path: "{cwd}/src/todos.py", content: "TODOS = []\\n"}
      - tool: Read
        input: {file_path: "{cwd}/src/app.py"}
      - tool: Edit
        input: {file_path: "{cwd}/src/app.py", old_string: "print('hi')", new_string: "print('todos')"}
      - tool: Bash
        input: {command: "git add src && git commit -q -m 'api: todos'"}
      - text: "Added the todo list."
"""


def _request(repo: Path, task: str | None = "todo-api", **kwargs: object) -> AgentRequest:
    args: dict[str, object] = {
        "prompt": f"Do the task {task}.",
        "cwd": repo,
        "model": MODEL,
        "task": task,
        "timeout_seconds": 60,
    }
    args.update(kwargs)
    return AgentRequest(**args)  # type: ignore[arg-type]


def _json_lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


async def test_a_session_edits_files_in_a_git_repository_and_commits(
    repo: Path, tmp_path: Path
) -> None:
    transcript = tmp_path / "t.jsonl"
    with scripted_model(EDIT_AND_COMMIT) as server:
        result = await runner_for(server).run(_request(repo, transcript_path=transcript))
    assert result.success, result.error
    assert result.end == "completed"
    assert (repo / "src/todos.py").read_text() == "TODOS = []\n"
    assert (repo / "src/app.py").read_text() == "print('todos')\n"
    assert git(repo, "log", "-1", "--format=%s").strip() == "api: todos"
    assert git(repo, "show", "--name-only", "--format=", "HEAD").split() == [
        "src/app.py",
        "src/todos.py",
    ]
    assert result.tools_used == ("Write", "Read", "Edit", "Bash")
    assert result.tool_calls == 4
    assert result.tool_failures == ()
    assert result.files_modified == ("src/app.py", "src/todos.py")
    assert result.num_turns == 5
    assert result.final_text == "Added the todo list."
    assert result.session_id
    # Five replies of 1200 in / 80 out, priced by the CLI at Sonnet's $3 / $15 per million.
    assert result.usage.input == 5 * 1200
    assert result.usage.output == 5 * 80
    assert result.total_cost_usd == Decimal("0.024")
    # What the agent was told: our prompt, model and tools, with the task and cwd headers.
    turns = server.requests.turns()
    assert [r.turn for r in turns] == [0, 1, 2, 3, 4]
    assert {r.task for r in turns} == {"todo-api"}
    assert {r.cwd for r in turns} == {str(repo)}
    assert turns[0].prompt == "Do the task todo-api."
    assert turns[0].model == MODEL
    assert {"Write", "Edit", "Bash", "Read"} <= set(turns[0].tools)
    # The transcript has the request, every SDK message, and the result.
    lines = _json_lines(transcript)
    assert lines[0]["kind"] == "request"
    kinds = [line["message"]["type"] for line in lines if line["kind"] == "message"]  # type: ignore[index]
    assert kinds.count("AssistantMessage") == 5
    assert kinds[-1] == "ResultMessage"
    assert lines[-1]["kind"] == "result"


async def test_match_rules_answer_plain_sdk_use_without_headers(tmp_path: Path) -> None:
    from claude_agent_sdk import ClaudeAgentOptions, ResultMessage, query

    work = tmp_path / "plain"
    work.mkdir()
    scenario = """
rules:
  - match: "/greet (the )?world/"
    turns:
      - tool: Write
        input: {file_path: "{cwd}/hello.txt", content: "hello from {cwd}\\n"}
      - text: "Greeted."
"""
    with scripted_model(scenario) as server:
        options = ClaudeAgentOptions(
            cwd=str(work),
            model=MODEL,
            permission_mode="bypassPermissions",
            env={
                "ANTHROPIC_BASE_URL": server.url,
                "ANTHROPIC_API_KEY": "any",
                "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
                "IS_SANDBOX": "1",
            },
        )
        results = [m async for m in query(prompt="Please greet the world.", options=options)]
    assert isinstance(results[-1], ResultMessage)
    assert not results[-1].is_error
    # {cwd} came from the CLI's own "Primary working directory" reminder: no header was sent.
    assert (work / "hello.txt").read_text() == f"hello from {work}\n"
    assert {r.task for r in server.requests.turns()} == {None}
    assert {r.rule for r in server.requests.turns()} == {"rules[0] (match=/greet (the )?world/)"}


async def test_a_timeout_stops_the_session_and_leaves_no_process(
    repo: Path, task_manager: McpServer, test_marker: str
) -> None:
    scenario = "rules:\n  - task: slow\n    delay_seconds: 120\n    turns: [{text: never}]\n"
    with scripted_model(scenario) as server:
        began = time.monotonic()
        result = await runner_for(server).run(
            _request(repo, "slow", timeout_seconds=3, mcp_servers=(task_manager,))
        )
        took = time.monotonic() - began
    assert result.end == "timeout"
    assert not result.success
    assert result.error == "timed out after 3 s"
    assert took < 10, took
    assert marked_processes(test_marker, "YOKEFLOW_TEST_RUN") == []


async def test_cancelling_stops_the_session_and_leaves_no_process(
    repo: Path, task_manager: McpServer, test_marker: str
) -> None:
    scenario = "rules:\n  - task: slow\n    delay_seconds: 120\n    turns: [{text: never}]\n"
    cancel = anyio.Event()
    with scripted_model(scenario) as server:

        async def cancel_when_running() -> None:
            # The server answers from another thread: poll its log until the model was called.
            while not server.requests.turns():  # noqa: ASYNC110
                await anyio.sleep(0.05)
            # The CLI and its MCP server are running now.
            assert len(marked_processes(test_marker, "YOKEFLOW_TEST_RUN")) >= 2
            cancel.set()

        async with anyio.create_task_group() as group:
            group.start_soon(cancel_when_running)
            result = await runner_for(server).run(
                _request(repo, "slow", mcp_servers=(task_manager,)), cancel=cancel
            )
    assert result.end == "cancelled"
    assert result.error == "cancelled"
    assert marked_processes(test_marker, "YOKEFLOW_TEST_RUN") == []


async def test_cancelling_the_caller_also_reaps_the_processes(repo: Path, test_marker: str) -> None:
    scenario = "rules:\n  - task: slow\n    delay_seconds: 120\n    turns: [{text: never}]\n"
    with scripted_model(scenario) as server:
        with anyio.move_on_after(4) as scope:
            await runner_for(server).run(_request(repo, "slow"))
    assert scope.cancelled_caught
    assert marked_processes(test_marker, "YOKEFLOW_TEST_RUN") == []


async def test_a_model_error_is_recorded_as_a_failure(repo: Path, tmp_path: Path) -> None:
    scenario = """
rules:
  - task: flaky
    turns:
      - tool: Write
        input: {file_path: "{cwd}/partial.txt", content: "half\\n"}
      - error: {status: 529, message: "scripted overload"}
"""
    with scripted_model(scenario) as server:
        result = await runner_for(server).run(
            _request(repo, "flaky", transcript_path=tmp_path / "t.jsonl")
        )
    assert not result.success
    assert result.end == "error"
    assert result.error is not None
    assert "529" in result.error
    assert "scripted overload" in result.error
    assert result.files_modified == ("partial.txt",)
    assert [r.status for r in server.requests.turns()] == [200, 529]
    # The failed session still reports what the first reply cost.
    assert result.total_cost_usd > 0
    assert _json_lines(tmp_path / "t.jsonl")[-1]["result"]["end"] == "error"  # type: ignore[index]


async def test_a_tool_failure_is_recorded(repo: Path) -> None:
    scenario = """
rules:
  - task: broken
    turns:
      - tool: Bash
        input: {command: "echo failing >&2; exit 3"}
      - tool: Read
        input: {file_path: "{cwd}/does-not-exist.txt"}
      - text: "Could not finish."
"""
    with scripted_model(scenario) as server:
        result = await runner_for(server).run(_request(repo, "broken"))
    assert [f.tool for f in result.tool_failures] == ["Bash", "Read"]
    assert "Exit code 3" in result.tool_failures[0].message
    assert result.tool_failures[1].message.startswith("File does not exist.")
    assert result.tool_calls == 2
    # The session itself ended normally: tool failures are the agent's to handle, and are
    # recorded for the report and for learning.
    assert result.end == "completed"


async def test_an_mcp_tool_call_from_the_scenario_reaches_the_mcp_server(
    repo: Path, task_manager: McpServer, mcp_record: Path
) -> None:
    scenario = """
rules:
  - task: db-schema
    turns:
      - tool: mcp__task-manager__update_task_status
        input: {task: db-schema, status: done}
      - text: "Marked done."
"""
    with scripted_model(scenario) as server:
        result = await runner_for(server).run(
            _request(repo, "db-schema", mcp_servers=(task_manager,))
        )
    assert result.success, result.error
    calls = _json_lines(mcp_record)
    assert [(c["task"], c["status"]) for c in calls] == [("db-schema", "done")]
    assert result.tool_failures == ()
    assert "mcp__task-manager__update_task_status" in server.requests.turns()[0].tools


async def test_without_credentials_or_endpoint_no_session_starts(repo: Path) -> None:
    runner = ClaudeAgentRunner(environ={})
    with pytest.raises(ConfigError, match="ANTHROPIC_API_KEY or CLAUDE_CODE_OAUTH_TOKEN"):
        await runner.run(_request(repo))


async def test_max_turns_ends_the_session_unsuccessfully(repo: Path) -> None:
    scenario = """
rules:
  - task: endless
    turns:
      - tool: Bash
        input: {command: "true"}
      - tool: Bash
        input: {command: "true"}
      - tool: Bash
        input: {command: "true"}
      - text: "never reached"
"""
    with scripted_model(scenario) as server:
        result = await runner_for(server).run(_request(repo, "endless", max_turns=2))
    assert result.end == "max_turns"
    assert not result.success
    assert result.error is not None
    assert "max_turns" in result.error
    assert len(server.requests.turns()) == 2
