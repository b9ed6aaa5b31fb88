"""The reusable pytest fixtures of ``yokeflow.testing.agents`` work as documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from yokeflow.adapters.scripted_model import ScriptedModelServer
from yokeflow.ports.agent import AgentRequest
from yokeflow.testing.agents import (  # noqa: F401  (fixtures)
    agent_repository,
    git,
    runner_for,
    scenario,
    scripted_model_server,
)

pytestmark = [pytest.mark.agent, pytest.mark.usefixtures("test_marker"), pytest.mark.timeout(120)]


async def test_the_fixtures_run_a_session(
    scripted_model_server: ScriptedModelServer, agent_repository: Path
) -> None:
    assert git(agent_repository, "log", "--format=%s").strip() == "initial"
    scripted_model_server.scenario = scenario(
        'default: [{tool: Write, input: {file_path: "{cwd}/f.txt", content: "x"}}, {text: ok}]'
    )
    result = await runner_for(scripted_model_server).run(
        AgentRequest(prompt="go", cwd=agent_repository, model="claude-haiku-4-5")
    )
    assert result.success, result.error
    assert (agent_repository / "f.txt").read_text() == "x"
    assert [r.rule for r in scripted_model_server.requests.turns()] == ["default", "default"]
