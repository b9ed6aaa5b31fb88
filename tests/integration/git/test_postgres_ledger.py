"""The worktree manager keeps its state in the real ``worktrees`` table (PostgreSQL 18 and 15)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from yokeflow.adapters.git import WorktreeManager
from yokeflow.adapters.postgres import PostgresStore, migrate
from yokeflow.core.merging import MergeStatus, ReconcileAction, Resolution
from yokeflow.core.worktree import ConflictFile, WorktreeRecord, WorktreeStatus
from yokeflow.ports import TaskRef, WorktreeLedger
from yokeflow.testing.fake_ledger import InMemoryWorktreeLedger
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


async def _ledger_story(ledger: WorktreeLedger, project: int, task: int) -> list[object]:
    """The same calls on any ledger; what they return, minus ids and times."""

    def view(record: WorktreeRecord | None) -> object:
        if record is None:
            return None
        return (record.task_id, record.branch, record.status, record.merge_commit, record.conflicts)

    seen: list[object] = []
    first = await ledger.create_worktree(
        project, task_id=task, epic_id=None, branch="b", path="/p", base_commit="c0"
    )
    seen.append(view(first))
    conflict = (ConflictFile("app.py", "content"),)
    seen.append(
        view(
            await ledger.update_worktree_status(
                first.id, WorktreeStatus.CONFLICT, conflicts=conflict
            )
        )
    )
    seen.append(view(await ledger.get_worktree_by_task(project, task)))
    seen.append(view(await ledger.mark_worktree_merged(first.id, "m1")))
    seen.append(view(await ledger.update_worktree_status(first.id, WorktreeStatus.REMOVED)))
    # the same branch again: the row comes back active, conflicts cleared
    again = await ledger.create_worktree(
        project, task_id=task, epic_id=None, branch="b", path="/p", base_commit=None
    )
    seen.append((again.id == first.id, view(again), again.base_commit))
    seen.append([view(r) for r in await ledger.list_worktrees(project, WorktreeStatus.ACTIVE)])
    return seen


async def test_the_in_memory_ledger_behaves_like_the_table(store: PostgresStore) -> None:
    project = await store.create_project("ledgers")
    epic = await store.create_epic(project.id, "e", "E")
    task = await store.create_task(project.id, epic.id, "t", "T")
    real = await _ledger_story(store, project.id, task.id)
    fake = await _ledger_story(InMemoryWorktreeLedger(), project.id, task.id)
    assert fake == real
