"""`yokeflow worktrees resolve EPIC --strategy agent`: the run's conflict agent (the real Claude
Code CLI against the scripted model server), over a real PostgreSQL and a real git repository."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from yokeflow.adapters.git import WorkspaceOptions, WorktreeManager
from yokeflow.adapters.postgres import PostgresStore, migrate
from yokeflow.adapters.scripted_model import ScriptedModelServer
from yokeflow.core.plan import Plan
from yokeflow.core.records import TaskStatus
from yokeflow.core.scenario import parse_scenario
from yokeflow.ports.workspace import TaskRef
from yokeflow.services.runs import create_from_plan
from yokeflow.testing.git_repos import commit_file, git, make_repository
from yokeflow.testing.postgres import (  # noqa: F401  (fixtures)
    pg_database_url,
    pg_server,
    pg_servers,
)

pytestmark = [pytest.mark.postgres, pytest.mark.agent]

YOKEFLOW = shutil.which("yokeflow", path=str(Path(sys.executable).parent)) or "yokeflow"
PLAN = {
    "name": "shop",
    "epics": [
        {"key": "one", "name": "One", "tasks": [{"key": "t1", "title": "Write one"}]},
        {"key": "two", "name": "Two", "tasks": [{"key": "t2", "title": "Write two"}]},
    ],
}
SCENARIO = """
rules:
  - match: You are resolving a merge conflict
    usage: {input_tokens: 4000, output_tokens: 300}
    turns:
      - tool: Read
        input: {file_path: "{cwd}/data.txt"}
      - tool: Write
        input: {file_path: "{cwd}/data.txt", content: "one\\ntwo\\n"}
      - text: Resolved.
"""


@pytest.fixture(scope="session")
def pg_migrate() -> Callable[[str], Awaitable[object]]:
    return migrate


async def test_resolve_with_the_agent_merges(pg_database_url: str, tmp_path: Path) -> None:
    repo = make_repository(tmp_path / "repo", {"README.md": "shop\n"})
    async with await PostgresStore.connect(pg_database_url, min_size=1, max_size=4) as store:
        project = await create_from_plan(store, Plan.model_validate(PLAN), repo)
        workspace = WorktreeManager(repo, store, project_id=project.id, options=WorkspaceOptions())
        await workspace.initialize()
        tasks = {t.key: t for t in await store.list_tasks(project.id)}
        for key in ("t1", "t2"):
            task = tasks[key]
            tree = await workspace.create_worktree(TaskRef(task.id, task.title, task.epic_id))
            commit_file(Path(tree.path), "data.txt", f"{key}\n", f"{key}: data")
            await store.update_task_status(task.id, TaskStatus.RUNNING)
            await store.complete_task(task.id)
        assert (await workspace.merge_worktree(tasks["t1"].id)).status == "merged"
        assert (await workspace.merge_worktree(tasks["t2"].id)).status == "conflict"

        env = {k: v for k, v in os.environ.items() if not k.startswith("YOKEFLOW_")}
        with ScriptedModelServer(parse_scenario(SCENARIO, "resolution")) as model:
            env["YOKEFLOW_AGENT_MODEL_ENDPOINT"] = model.url
            done = await asyncio.to_thread(
                subprocess.run,
                [YOKEFLOW, "worktrees", "resolve", "two", "--strategy", "agent",
                 "--project", "shop", "--database-url", pg_database_url, "--format", "json"],
                capture_output=True, text=True, timeout=300, check=False, cwd=repo, env=env,
            )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert [m["status"] for m in json.loads(done.stdout)] == ["merged"]
        assert git(repo, "show", "yokeflow/integration:data.txt") == "one\ntwo"
        costs = await store.pool.fetch(
            "SELECT operation, task_id FROM agent_costs WHERE project_id = $1", project.id
        )
        assert [(c["operation"], c["task_id"]) for c in costs] == [("merge", tasks["t2"].id)]
