"""The CLI reaches nothing but the model endpoint: every network connection it (or anything it
starts) makes is traced with strace and checked."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import claude_agent_sdk
import pytest

from yokeflow.adapters.claude import ClaudeAgentRunner
from yokeflow.ports.agent import AgentRequest, McpServer
from yokeflow.testing.agents import TEST_RUN_VARIABLE, scripted_model

pytestmark = [pytest.mark.agent, pytest.mark.usefixtures("test_marker"), pytest.mark.timeout(180)]

BUNDLED_CLI = Path(claude_agent_sdk.__file__).parent / "_bundled" / "claude"
_INET = re.compile(
    r"connect\(\d+, \{sa_family=AF_INET6?, sin6?_port=htons\((\d+)\), .*?(?:inet_addr\(\"([^\"]+)\"\)|inet_pton\(AF_INET6, \"([^\"]+)\")"
)

SCENARIO = """
rules:
  - task: net
    turns:
      - tool: Write
        input: {file_path: "{cwd}/a.txt", content: "a\\n"}
      - tool: Bash
        input: {command: "git status --short"}
      - tool: mcp__task-manager__update_task_status
        input: {task: net, status: done}
      - text: "Done."
"""


def test_the_bundled_cli_is_the_one_the_sdk_uses() -> None:
    assert BUNDLED_CLI.is_file()


async def test_only_the_endpoint_is_contacted(
    repo: Path, tmp_path: Path, task_manager: McpServer
) -> None:
    strace = shutil.which("strace")
    assert strace is not None, "this test needs strace (apt-get install strace)"
    log = tmp_path / "connect.log"
    wrapper = tmp_path / "claude-traced"
    wrapper.write_text(
        f'#!/bin/sh\nexec {strace} -f -qq -e trace=connect -o {log} {BUNDLED_CLI} "$@"\n'
    )
    wrapper.chmod(0o755)
    with scripted_model(SCENARIO) as server:
        runner = ClaudeAgentRunner(
            endpoint=server.url, cli_path=wrapper, pass_environment=(TEST_RUN_VARIABLE,)
        )
        result = await runner.run(
            AgentRequest(
                prompt="net",
                cwd=repo,
                model="claude-sonnet-4-5",
                task="net",
                mcp_servers=(task_manager,),
                timeout_seconds=90,
            )
        )
    assert result.success, result.error
    assert result.tools_used == ("Write", "Bash", "mcp__task-manager__update_task_status")
    connects = [line for line in log.read_text().splitlines() if "connect(" in line]
    inet = [_INET.search(line) for line in connects if "AF_INET" in line]
    assert inet, "strace saw no connection at all: the trace did not work"
    targets = {(m.group(2) or m.group(3), int(m.group(1))) for m in inet if m is not None}
    assert len([m for m in inet if m is None]) == 0, connects
    assert targets == {("127.0.0.1", server.port)}, targets
