"""A real agent session — the Claude Code CLI against the scripted model server — uses the task
manager over stdio, exactly as the runner configures it, and the database shows what it did."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from yokeflow.adapters.claude.processes import marked_processes
from yokeflow.adapters.postgres import PostgresStore
from yokeflow.core.records import ProjectPlan, TaskStatus
from yokeflow.ports.agent import AgentRequest, McpServer
from yokeflow.testing.agents import git_repository, runner_for, scripted_model
from yokeflow_mcp.launch import SERVER_KEY, stdio_launch

pytestmark = [pytest.mark.agent, pytest.mark.postgres, pytest.mark.timeout(240)]

SCENARIO = """
rules:
  - task: db-schema
    turns:
      - tool: mcp__yokeflow__get_next_task
        input: {claim: false}
      - tool: mcp__yokeflow__start_task
        input: {}
      - tool: mcp__yokeflow__update_task_status
        input: {task: db-seed, status: done}
      - tool: mcp__yokeflow__update_task_status
        input: {status: done}
      - text: "The schema task is done."
"""


def _tool_results(transcript: Path) -> list[str]:
    """The text of every tool result the session received, in order (from its transcript)."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "tool_use_id" in node and "content" in node:
                content = node["content"]
                if isinstance(content, list):
                    content = " ".join(str(c.get("text", "")) for c in content)
                found.append(str(content))
                return
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for line in transcript.read_text().splitlines():
        entry = json.loads(line)
        if entry.get("kind") == "message":
            walk(entry["message"])
    return found


async def test_a_real_agent_session_works_its_task_through_the_mcp_server(
    pg_database_url: str, store: PostgresStore, todo: ProjectPlan, tmp_path: Path
) -> None:
    repo = git_repository(tmp_path / "repo")
    launch = stdio_launch("todo-api", "db-schema", database_url=pg_database_url)
    server = McpServer(name=SERVER_KEY, command=launch.command, args=launch.args, env=launch.env)
    transcript = tmp_path / "transcript.jsonl"
    with scripted_model(SCENARIO) as model:
        result = await runner_for(model).run(
            AgentRequest(
                prompt="Work on your task db-schema.",
                cwd=repo,
                model="claude-sonnet-4-5",
                task="db-schema",
                mcp_servers=(server,),
                timeout_seconds=150,
                transcript_path=transcript,
            )
        )
    assert result.success, result.error
    assert result.tools_used == (
        "mcp__yokeflow__get_next_task",
        "mcp__yokeflow__start_task",
        "mcp__yokeflow__update_task_status",
    )
    assert result.tool_calls == 4
    # The session belongs to db-schema: changing db-seed was refused, and the agent was told why.
    assert len(result.tool_failures) == 1
    assert "may only change its own task" in result.tool_failures[0].message

    results = _tool_results(transcript)
    assert len(results) == 4
    assert json.loads(results[0])["task"]["key"] == "db-schema"
    assert json.loads(results[1])["message"] == "started"
    assert "may only change its own task" in results[2]
    assert json.loads(results[3])["previous"] == "running"

    tasks = {t.key: t for t in await store.list_tasks(todo.project.id)}
    assert tasks["db-schema"].status == TaskStatus.DONE
    assert tasks["db-schema"].attempts == 1
    assert tasks["db-schema"].started_at is not None
    assert tasks["db-schema"].completed_at is not None
    assert tasks["db-seed"].status == TaskStatus.PENDING
    # The CLI stopped the server it started: no process holds the test database's URL any more.
    assert marked_processes(pg_database_url, "YOKEFLOW_DATABASE_URL") == []
