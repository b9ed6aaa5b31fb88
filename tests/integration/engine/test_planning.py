"""Session 0 with the real CLI: the planning agent plans through the MCP task tools, and a plan
with problems is sent back for correction instead of being accepted."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from yokeflow.adapters.scripted_model import ScriptedModelServer
from yokeflow.core.scenario import parse_scenario
from yokeflow.errors import PlanError
from yokeflow.local.engine import open_engine
from yokeflow.settings import Settings
from yokeflow.testing.git_repos import make_repository

pytestmark = pytest.mark.agent

MCP = "mcp__yokeflow__"
PLANNING = f"""
rules:
  - match: "Corrections needed"
    turns:
      - tool: {MCP}create_epic
        input: {{key: api, name: API}}
      - tool: {MCP}create_task
        input: {{epic: api, key: api-schema, title: Schema}}
      - tool: {MCP}create_task
        input: {{epic: api, key: api-routes, title: Routes, depends_on: [api-schema]}}
      - tool: {MCP}create_task
        input: {{epic: api, key: api-loop, title: Loop, depends_on: [api-loop-missing]}}
      - text: Fixed.
  - match: "You are the planning agent"
    turns:
      - text: I have read the spec.
"""


@pytest.fixture
def settings(pg_database_url: str) -> Settings:
    return Settings(database={"url": SecretStr(pg_database_url)})  # type: ignore[arg-type]


async def test_problems_are_sent_back_until_the_plan_is_valid(
    settings: Settings, tmp_path: Path
) -> None:
    repo = make_repository(tmp_path / "repo")
    with ScriptedModelServer(parse_scenario(PLANNING, "planning.yaml")) as server:
        async with open_engine(settings, repo, model_endpoint=server.url) as engine:
            project, result = await engine.plan_from_spec("shop", "Build a shop API.")
        prompts = [r.prompt or "" for r in server.requests.turns() if r.turn == 0]
    assert result.rounds == 2
    assert set(result.graph.tasks) == {"api-schema", "api-routes"}
    assert result.graph.batches == (("api-schema",), ("api-routes",))
    # Round 1 made nothing: round 2's prompt names the problem.
    assert "Corrections needed" not in prompts[0]
    assert "- the plan has no tasks" in prompts[1]
    assert project.name == "shop"


async def test_a_plan_that_stays_invalid_is_refused(settings: Settings, tmp_path: Path) -> None:
    repo = make_repository(tmp_path / "repo")
    never = parse_scenario('rules:\n  - match: "planning agent"\n    turns: [{text: "No."}]\n', "x")
    with ScriptedModelServer(never) as server:
        async with open_engine(settings, repo, model_endpoint=server.url) as engine:
            with pytest.raises(
                PlanError, match="no valid plan after 3 rounds: the plan has no tasks"
            ):
                await engine.plan_from_spec("empty", "Nothing.")
