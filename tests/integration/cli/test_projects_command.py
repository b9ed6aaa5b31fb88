"""`yokeflow projects list|delete` against a real PostgreSQL: a failed `plan` no longer leaves a
project that blocks its name, and a project with a live run is not deleted unless forced."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from yokeflow.adapters.postgres import PostgresStore, migrate
from yokeflow.testing.postgres import (  # noqa: F401  (fixtures)
    pg_database_url,
    pg_server,
    pg_servers,
)

YOKEFLOW = shutil.which("yokeflow", path=str(Path(sys.executable).parent)) or "yokeflow"


@pytest.fixture(scope="session")
def pg_migrate() -> Callable[[str], Awaitable[object]]:
    return migrate


@pytest.fixture
async def store(pg_database_url: str) -> AsyncIterator[PostgresStore]:
    async with await PostgresStore.connect(pg_database_url, min_size=1, max_size=4) as s:
        yield s


def run(url: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("YOKEFLOW_")}
    return subprocess.run(
        [YOKEFLOW, "projects", *args, "--database-url", url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=cwd,
        env=env,
    )


async def test_list_then_delete_says_what_it_removed(
    store: PostgresStore, pg_database_url: str, tmp_path: Path
) -> None:
    project = await store.create_project("leftover")
    epic = await store.create_epic(project.id, "db", "Database")
    await store.create_task(project.id, epic.id, "schema", "Schema")
    listed = run(pg_database_url, "list", "--format", "json", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    names = {p["name"]: p for p in json.loads(listed.stdout)["projects"]}
    assert names["leftover"]["tasks"] == {"pending": 1}
    deleted = run(pg_database_url, "delete", "--project", "leftover", "--yes", cwd=tmp_path)
    assert deleted.returncode == 0, deleted.stderr
    assert f"deleted project 'leftover' (#{project.id}): 1 epics, 1 tasks" in deleted.stdout
    assert await store.get_project_by_name("leftover") is None
    # the name is free again
    again = await store.create_project("leftover")
    assert again.id != project.id


async def test_a_project_with_running_tasks_is_kept_unless_forced(
    store: PostgresStore, pg_database_url: str, tmp_path: Path
) -> None:
    project = await store.create_project("busy")
    epic = await store.create_epic(project.id, "db", "Database")
    await store.create_task(project.id, epic.id, "schema", "Schema")
    claimed = await store.claim_next_task(project.id, worker="w1")
    assert claimed is not None
    refused = run(pg_database_url, "delete", "--project", "busy", "--yes", cwd=tmp_path)
    assert refused.returncode == 2
    assert refused.stderr.strip() == (
        "error: project 'busy' has 1 running tasks: cancel its run (yokeflow cancel) or pass"
        " --force if that run is gone"
    )
    assert await store.get_project_by_name("busy") is not None
    forced = run(pg_database_url, "delete", "--project", "busy", "--yes", "--force", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert await store.get_project_by_name("busy") is None


async def test_steering_commands_print_text_or_json_the_same_data(
    store: PostgresStore, pg_database_url: str, tmp_path: Path
) -> None:
    """--format text (the default) prints the data --format json prints, for people."""
    import yaml

    project = await store.create_project("steered")
    epic = await store.create_epic(project.id, "db", "Database")
    await store.create_task(project.id, epic.id, "schema", "Schema")
    env = {k: v for k, v in os.environ.items() if not k.startswith("YOKEFLOW_")}
    for command in (["dependencies", "show"], ["tasks", "show", "schema"], ["batches"]):
        shown = {}
        for fmt in ("text", "json"):
            done = await asyncio.to_thread(
                subprocess.run,
                [YOKEFLOW, *command, "--project", "steered", "--database-url", pg_database_url,
                 "--format", fmt],
                capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path, env=env,
            )  # fmt: skip
            assert done.returncode == 0, (command, done.stderr)
            shown[fmt] = done.stdout
        data = json.loads(shown["json"])
        assert yaml.safe_load(shown["text"]) == data, command
        if data:  # lines of "key: value", not JSON
            assert not shown["text"].lstrip().startswith(("{", "[")), shown["text"]
