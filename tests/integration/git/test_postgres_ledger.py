"""The worktree manager keeps its state in the real ``worktrees`` table (PostgreSQL 18 and 15)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from yokeflow.adapters.git import WorktreeManager
from yokeflow.adapters.postgres import PostgresStore, migrate
from yokeflow.core.merging import MergeStatus, ReconcileAction, Resolution
from yokeflow.core.worktree import ConflictFile, WorktreeStatus
from yokeflow.ports import TaskRef, WorktreeLedger
from yokeflow.testing.git_repos import commit_file, git
from yokeflow.testing.postgres import (  # noqa: F401  (fixtures)
    pg_database_url,
    pg_server,
    pg_servers,
)

pytestmark = pytest.mark.postgres


def real(path: str) -> str:
    return str(Path(path).resolve())


@pytest.fixture(scope="session")
def pg_migrate() -> Callable[[str], Awaitable[object]]:
    return migrate


@pytest.fixture
async def store(pg_database_url: str) -> AsyncIterator[PostgresStore]:
    async with await PostgresStore.connect(pg_database_url) as opened:
        yield opened


async def test_manager_on_the_postgres_ledger(store: PostgresStore, repository: Path) -> None:
    ledger: WorktreeLedger = store  # the store implements the port
    project = await store.create_project("worktrees")
    epic = await store.create_epic(project.id, "app", "App")
    one = await store.create_task(project.id, epic.id, "one", "First edit")
    two = await store.create_task(project.id, epic.id, "two", "Second edit")

    manager = WorktreeManager(repository, ledger, project_id=project.id)
    await manager.initialize()
    a = await manager.create_worktree(TaskRef(one.id, one.title, epic.id))
    b = await manager.create_worktree(TaskRef(two.id, two.title, epic.id))
    commit_file(Path(a.path), "app.py", "a = 1\nb = 'one'\nc = 3\n")
    commit_file(Path(b.path), "app.py", "a = 1\nb = 'two'\nc = 3\n")
    assert (await manager.merge_worktree(one.id)).status is MergeStatus.MERGED
    assert (await manager.merge_worktree(two.id)).status is MergeStatus.CONFLICT

    row = await store.get_worktree_by_task(project.id, two.id)
    assert row is not None
    assert row.status is WorktreeStatus.CONFLICT
    assert row.conflicts == (ConflictFile("app.py", "content"),)
    assert row.epic_id == epic.id
    merged = await store.get_worktree_by_task(project.id, one.id)
    assert merged is not None
    assert merged.status is WorktreeStatus.MERGED
    assert merged.merge_commit == git(repository, "rev-parse", "yokeflow/integration")

    # a restart finds the state in the table and repairs the disk from it
    shutil.rmtree(b.path)
    restarted = WorktreeManager(repository, ledger, project_id=project.id)
    await restarted.initialize()
    assert (real(b.path), ReconcileAction.RECREATE) in restarted.recovery.reconciled
    assert await restarted.get_conflict_details(two.id) == (ConflictFile("app.py", "content"),)
    result = await restarted.resolve_conflict(two.id, Resolution.THEIRS)
    assert result.status is MergeStatus.MERGED
    final = await store.get_worktree_by_task(project.id, two.id)
    assert final is not None
    assert final.status is WorktreeStatus.MERGED
    assert final.merge_commit == result.merge_commit
    statuses = {w.task_id: w.status for w in await restarted.list_worktrees()}
    assert statuses == {one.id: WorktreeStatus.MERGED, two.id: WorktreeStatus.MERGED}
