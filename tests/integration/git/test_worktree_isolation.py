"""Worktree isolation on real repositories: concurrent creation, reuse, setup hooks, cleanup."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

from yokeflow.adapters.git import WorkspaceOptions, WorktreeManager, WorktreeSetup
from yokeflow.core.merging import MergeMode, MergeStatus
from yokeflow.core.worktree import WorktreeStatus
from yokeflow.ports import TaskRef
from yokeflow.settings import load_settings
from yokeflow.testing.git_repos import commit_file, git

ManagerFactory = Callable[..., WorktreeManager]


def registered(repo: Path) -> set[str]:
    listing = git(repo, "worktree", "list", "--porcelain").splitlines()
    return {line.removeprefix("worktree ") for line in listing if line.startswith("worktree ")}


async def test_eight_worktrees_at_once_twenty_rounds(
    manager: WorktreeManager, repository: Path
) -> None:
    for round_number in range(20):
        ids = range(round_number * 8 + 1, round_number * 8 + 9)
        infos = await asyncio.gather(
            *(manager.create_worktree(TaskRef(i, f"round {round_number} task {i}")) for i in ids)
        )
        assert len({i.path for i in infos}) == 8
        assert len({i.branch for i in infos}) == 8
        for info in infos:
            assert info.exists
            assert info.status is WorktreeStatus.ACTIVE
            assert git(Path(info.path), "symbolic-ref", "--short", "HEAD") == info.branch
        assert {i.path for i in infos} <= registered(repository)
        await asyncio.gather(*(manager.cleanup_worktree(i) for i in ids))
        assert not ({i.path for i in infos} & registered(repository))
    assert git(repository, "worktree", "list", "--porcelain").count("prunable") == 0


_CHILD = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from yokeflow.adapters.git import WorktreeManager
    from yokeflow.ports import TaskRef
    from yokeflow.testing.fake_ledger import InMemoryWorktreeLedger

    async def main(repo: str, first: int) -> None:
        manager = WorktreeManager(Path(repo), InMemoryWorktreeLedger(), project_id=1)
        await manager.initialize()
        for round_number in range(3):
            ids = [first + round_number * 4 + k for k in range(4)]
            await asyncio.gather(*(manager.create_worktree(TaskRef(i, "t")) for i in ids))
            await asyncio.gather(*(manager.cleanup_worktree(i) for i in ids))

    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
    """
)


def test_four_processes_at_once(repository: Path) -> None:
    """The lock holds across processes too (each process also runs four at once)."""
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(repository), str(1000 * (n + 1))],
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(4)
    ]
    errors = [child.communicate(timeout=120)[1] for child in children]
    assert [child.returncode for child in children] == [0, 0, 0, 0], errors
    assert registered(repository) == {str(repository), str(repository / ".worktrees/_integration")}


async def test_existing_worktree_is_reused(manager: WorktreeManager) -> None:
    first = await manager.create_worktree(TaskRef(1, "reuse me"))
    (Path(first.path) / "wip.txt").write_text("work in progress\n", encoding="utf-8")
    again = await manager.create_worktree(TaskRef(1, "reuse me"))
    assert again.path == first.path
    assert again.branch == first.branch
    assert (Path(again.path) / "wip.txt").exists()
    assert again.dirty


async def test_worktree_removed_behind_our_back_is_added_again_on_its_branch(
    manager: WorktreeManager, repository: Path
) -> None:
    info = await manager.create_worktree(TaskRef(1, "lost folder"))
    work = commit_file(Path(info.path), "work.txt", "done\n")
    shutil.rmtree(info.path)
    again = await manager.create_worktree(TaskRef(1, "lost folder"))
    assert again.exists
    assert git(Path(again.path), "rev-parse", "HEAD") == work


async def test_folder_in_the_way_is_kept_aside(manager: WorktreeManager) -> None:
    path = manager.path_for(TaskRef(5, "blocked"))
    path.mkdir(parents=True)
    (path / "notes.txt").write_text("someone's notes\n", encoding="utf-8")
    info = await manager.create_worktree(TaskRef(5, "blocked"))
    assert info.exists
    aside = list((manager.worktree_root / ".orphaned").glob(f"{path.name}-*/notes.txt"))
    assert len(aside) == 1


async def test_new_worktree_starts_from_the_current_integration_commit(
    manager: WorktreeManager, repository: Path
) -> None:
    dependency = await manager.create_worktree(TaskRef(1, "dependency"))
    commit_file(Path(dependency.path), "lib.py", "def helper(): ...\n")
    assert (await manager.merge_worktree(1)).status is MergeStatus.MERGED
    dependent = await manager.create_worktree(TaskRef(2, "dependent"))
    assert (Path(dependent.path) / "lib.py").exists()
    assert dependent.base_commit == git(repository, "rev-parse", "yokeflow/integration")


async def test_setup_hook_copies_files_runs_a_command_and_gives_distinct_ports(
    make_manager: ManagerFactory, repository: Path
) -> None:
    (repository / ".env").write_text("SECRET=1\n", encoding="utf-8")
    setup = WorktreeSetup(
        copy_files=(".env", "missing.cfg"),
        command='echo "$YOKEFLOW_TASK_ID $YOKEFLOW_PORT" > .setup-done',
    )
    manager = make_manager(options=WorkspaceOptions(setup=setup))
    await manager.initialize()
    infos = await asyncio.gather(*(manager.create_worktree(TaskRef(i, "t")) for i in (1, 2, 3)))
    ports = {info.port for info in infos}
    assert len(ports) == 3
    assert None not in ports
    for info in infos:
        path = Path(info.path)
        assert (path / ".env").read_text(encoding="utf-8") == "SECRET=1\n"
        assert (path / ".setup-done").read_text(encoding="utf-8").split() == [
            str(info.task_id),
            str(info.port),
        ]
    # the automatic commit before merging never commits the copied .env
    assert (await manager.merge_worktree(1)).status is MergeStatus.MERGED
    files = git(repository, "ls-tree", "-r", "--name-only", "yokeflow/integration").split()
    assert ".env" not in files
    assert ".setup-done" in files


async def test_cleanup_keeps_unmerged_work_on_its_branch(
    manager: WorktreeManager, repository: Path
) -> None:
    info = await manager.create_worktree(TaskRef(1, "unfinished"))
    (Path(info.path) / "half.txt").write_text("half done\n", encoding="utf-8")
    await manager.cleanup_worktree(1)
    assert info.path not in registered(repository)
    assert not (Path(info.path) / "half.txt").is_file()
    assert git(repository, "show", f"{info.branch}:half.txt") == "half done"
    status = await manager.get_worktree_status(1)
    assert status is not None
    assert status.status is WorktreeStatus.REMOVED
    assert not status.exists


async def test_worktree_dir_is_ignored_without_touching_the_users_files(
    manager: WorktreeManager, repository: Path
) -> None:
    await manager.create_worktree(TaskRef(1, "t"))
    assert git(repository, "status", "--porcelain") == ""
    assert not (repository / ".gitignore").exists()
    exclude = (repository / ".git" / "info" / "exclude").read_text(encoding="utf-8")
    assert "/.worktrees/" in exclude.splitlines()


async def test_checkout_cut_short_is_completed_not_committed_as_deletions(
    manager: WorktreeManager, repository: Path
) -> None:
    task = TaskRef(9, "interrupted")
    path, branch = manager.path_for(task), manager.branch_for(task)
    # what a kill between `worktree add --no-checkout` and the checkout leaves
    base = git(repository, "rev-parse", "yokeflow/integration")
    git(repository, "worktree", "add", "-q", "--no-checkout", "-b", branch, str(path), base)
    assert "D  app.py" in git(path, "status", "--porcelain")
    info = await manager.create_worktree(task)
    assert info.path == str(path)
    assert not info.dirty
    assert (path / "app.py").exists()
    assert (await manager.merge_worktree(9)).status is MergeStatus.ALREADY_MERGED
    assert git(repository, "show", "yokeflow/integration:app.py").startswith("a = 1")


def test_options_from_settings() -> None:
    settings = load_settings(
        environ={},
        overrides={"parallel": {"worktree_dir": "wt", "merge_strategy": "squash"}},
    )
    options = WorkspaceOptions.from_settings(settings, verify_command="make test")
    assert options.worktree_dir == "wt"
    assert options.merge_mode is MergeMode.SQUASH
    assert options.verify_command == "make test"
