"""At start, the ledger and the disk are compared and every disagreement is repaired."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from yokeflow.adapters.git import WorktreeManager
from yokeflow.core.merging import MergeStatus, ReconcileAction
from yokeflow.core.worktree import WorktreeStatus
from yokeflow.ports import TaskRef
from yokeflow.testing.fake_ledger import InMemoryWorktreeLedger
from yokeflow.testing.git_repos import commit_file, git

ManagerFactory = Callable[..., WorktreeManager]


def real(path: str) -> str:
    """A path as the recovery report names it (symlinks resolved)."""
    return str(Path(path).resolve())


async def test_worktree_on_disk_without_a_record_is_adopted(
    make_manager: ManagerFactory, repository: Path
) -> None:
    first = make_manager()
    await first.initialize()
    info = await first.create_worktree(TaskRef(4, "orphan", epic_id=9))
    work = commit_file(Path(info.path), "w.txt", "w\n")

    # the ledger is lost (a fresh database); the worktree is still on disk
    fresh = InMemoryWorktreeLedger()
    second = make_manager(ledger=fresh)
    await second.initialize()
    assert (real(info.path), ReconcileAction.ADOPT) in second.recovery.reconciled
    record = await fresh.get_worktree_by_task(1, 4)
    assert record is not None
    assert record.branch == info.branch
    assert record.epic_id == 9
    assert record.status is WorktreeStatus.ACTIVE
    # and it can be merged like any other
    assert (await second.merge_worktree(4)).status is MergeStatus.MERGED
    assert git(repository, "merge-base", "--is-ancestor", work, "yokeflow/integration") == ""


async def test_record_without_worktree_is_added_again_from_its_kept_branch(
    make_manager: ManagerFactory, repository: Path
) -> None:
    first = make_manager()
    await first.initialize()
    info = await first.create_worktree(TaskRef(5, "lost"))
    work = commit_file(Path(info.path), "l.txt", "l\n")
    shutil.rmtree(info.path)  # someone deleted the folder

    second = make_manager()
    await second.initialize()
    resolved = real(info.path)
    assert (resolved, ReconcileAction.RECREATE) in second.recovery.reconciled
    status = await second.get_worktree_status(5)
    assert status is not None
    assert status.exists
    assert git(Path(info.path), "rev-parse", "HEAD") == work


async def test_record_with_neither_worktree_nor_branch_is_marked_removed(
    make_manager: ManagerFactory, repository: Path
) -> None:
    first = make_manager()
    await first.initialize()
    info = await first.create_worktree(TaskRef(6, "gone"))
    git(repository, "worktree", "remove", "--force", info.path)
    git(repository, "branch", "-D", info.branch)

    second = make_manager()
    await second.initialize()
    assert (real(info.path), ReconcileAction.MARK_REMOVED) in (second.recovery.reconciled)
    status = await second.get_worktree_status(6)
    assert status is not None
    assert status.status is WorktreeStatus.REMOVED


async def test_merged_record_whose_branch_survived_gets_the_branch_deleted(
    make_manager: ManagerFactory, repository: Path
) -> None:
    first = make_manager()
    await first.initialize()
    info = await first.create_worktree(TaskRef(7, "merged"))
    commit_file(Path(info.path), "m.txt", "m\n")
    await first.merge_worktree(7)
    tip = git(repository, "rev-parse", "yokeflow/integration")
    git(repository, "branch", info.branch, f"{tip}^2")  # as if the deletion never happened

    second = make_manager()
    await second.initialize()
    assert git(repository, "branch", "--list", info.branch) == ""


async def test_stale_worktree_entries_are_pruned(
    make_manager: ManagerFactory, repository: Path
) -> None:
    first = make_manager()
    await first.initialize()
    info = await first.create_worktree(TaskRef(8, "stale"))
    await first.cleanup_worktree(8)
    # a worktree registered with git whose folder vanished
    git(repository, "worktree", "add", "-q", str(repository / ".worktrees" / "x"), "-b", "x")
    shutil.rmtree(repository / ".worktrees" / "x")
    assert "prunable" in git(repository, "worktree", "list", "--porcelain")
    second = make_manager()
    await second.initialize()
    assert "prunable" not in git(repository, "worktree", "list", "--porcelain")
    assert info.branch not in git(repository, "branch", "--list")
