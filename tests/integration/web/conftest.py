"""Fixtures of the API tests: the real app over a real PostgreSQL and a real git repository."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from yokeflow.adapters.git import WorkspaceOptions, WorktreeManager
from yokeflow.adapters.postgres import PostgresStore, migrate
from yokeflow.adapters.scripted_model import ScriptedModelServer
from yokeflow.core.plan import Plan
from yokeflow.core.records import Project
from yokeflow.core.scenario import parse_scenario
from yokeflow.local.run_host import project_workspace
from yokeflow.ports.workspace import Workspace
from yokeflow.services.runs import create_from_plan
from yokeflow.settings import Settings
from yokeflow.testing.git_repos import make_repository
from yokeflow.testing.postgres import (  # noqa: F401  (fixtures)
    pg_database_url,
    pg_server,
    pg_servers,
)
from yokeflow.web.app import create_app, local_deps
from yokeflow.web.deps import WebDeps

TOKEN = "test-token-0123456789abcdef"

PLAN = {
    "name": "shop",
    "epics": [
        {
            "key": "db",
            "name": "Database",
            "tasks": [
                {"key": "db-schema", "title": "Create the schema", "estimate_minutes": 3},
                {"key": "db-seed", "title": "Seed data", "depends_on": ["db-schema"]},
            ],
        },
        {
            "key": "api",
            "name": "API",
            "depends_on": [],
            "tasks": [
                {"key": "api-list", "title": "List items", "depends_on": ["db-schema"]},
            ],
        },
    ],
}


@pytest.fixture(scope="session")
def pg_migrate():  # type: ignore[no-untyped-def]
    return migrate


@dataclass
class Api:
    client: httpx.AsyncClient
    app: FastAPI
    deps: WebDeps
    store: PostgresStore
    repo: Path
    project: Project


def workspace_opener(store: PostgresStore):  # type: ignore[no-untyped-def]
    """Worktrees without a conflict agent (``agent`` resolutions are refused)."""

    async def open_workspace(project: Project) -> Workspace:
        return WorktreeManager(
            Path(project.metadata["repository"]), store, project_id=project.id,
            options=WorkspaceOptions(),
        )  # fmt: skip

    return open_workspace


RESOLUTION_SCENARIO = """
rules:
  - match: You are resolving a merge conflict
    usage: {input_tokens: 4000, output_tokens: 300}
    turns:
      - tool: Read
        input: {file_path: "{cwd}/data.txt"}
      - tool: Write
        input: {file_path: "{cwd}/data.txt", content: "seed\\nlist\\n"}
      - text: Resolved.
"""
"""What the scripted model answers a conflict resolution session (both sides of data.txt)."""


@pytest.fixture
def model_endpoint() -> Iterator[str]:
    with ScriptedModelServer(parse_scenario(RESOLUTION_SCENARIO, "resolution")) as server:
        yield server.url


@pytest.fixture
async def api(pg_database_url: str, model_endpoint: str, tmp_path: Path) -> AsyncIterator[Api]:
    repo = make_repository(tmp_path / "repo", {"README.md": "shop\n"})
    async with await PostgresStore.connect(pg_database_url, min_size=1, max_size=10) as store:
        project = await create_from_plan(store, Plan.model_validate(PLAN), repo)
        settings = Settings()

        # The opener `yokeflow api` uses: the run's conflict agent, against the scripted model.
        async def open_workspace(project: Project) -> Workspace:
            return await project_workspace(store, project, settings, model_endpoint)

        deps = local_deps(store, settings, TOKEN, workspaces=open_workspace, static_dir=None)
        app = create_app(deps)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport,
            base_url="http://api.test",
            headers={"Authorization": f"Bearer {TOKEN}"},
        ) as client:
            yield Api(client, app, deps, store, repo, project)
