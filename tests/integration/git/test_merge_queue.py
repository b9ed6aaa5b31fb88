"""The merge queue on real repositories: disjoint work merges, conflicts are predicted and kept."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from yokeflow.adapters.git import WorkspaceOptions, WorktreeManager
from yokeflow.core.merging import MergeMode, MergeStatus, Resolution
from yokeflow.core.worktree import ConflictFile, WorktreeStatus
from yokeflow.errors import ConfigError, WorktreeConflictError
from yokeflow.ports import ConflictResolutionRequest, TaskRef
from yokeflow.testing.git_repos import commit_file, git

INTEGRATION = "yokeflow/integration"
ManagerFactory = Callable[..., WorktreeManager]


def tip(repo: Path, ref: str = INTEGRATION) -> str:
    return git(repo, "rev-parse", ref)


def reachable(repo: Path, commit: str, ref: str = INTEGRATION) -> bool:
    done = subprocess.run(
        ["git", "merge-base", "--is-ancestor", commit, ref], cwd=repo, check=False
    )
    return done.returncode == 0


def branches(repo: Path) -> list[str]:
    return git(repo, "for-each-ref", "--format=%(refname:short)", "refs/heads").splitlines()


def user_checkout_untouched(repo: Path, main_before: str) -> None:
    assert git(repo, "symbolic-ref", "--short", "HEAD") == "main"
    assert tip(repo, "main") == main_before
    assert git(repo, "status", "--porcelain") == ""


async def test_disjoint_branches_all_merge(manager: WorktreeManager, repository: Path) -> None:
    main_before = tip(repository, "main")
    infos = await asyncio.gather(
        *(manager.create_worktree(TaskRef(i, f"feature {i}")) for i in range(1, 9))
    )
    commits = {}
    for info in infos:
        commits[info.task_id] = commit_file(Path(info.path), f"src/f{info.task_id}.py", "x = 1\n")
    # one agent forgot to commit: its work must land anyway
    (Path(infos[0].path) / "src" / "forgotten.py").write_text("y = 2\n", encoding="utf-8")
    results = [await manager.merge_worktree(i) for i in range(1, 9)]
    assert [r.status for r in results] == [MergeStatus.MERGED] * 8
    files = git(repository, "ls-tree", "-r", "--name-only", INTEGRATION).splitlines()
    assert {f"src/f{i}.py" for i in range(1, 9)} | {"src/forgotten.py"} <= set(files)
    for task_commit in commits.values():
        assert reachable(repository, task_commit)
    assert [b for b in branches(repository) if b.startswith("yokeflow/task/")] == []
    subjects = git(repository, "log", "--format=%s", "--first-parent", INTEGRATION)
    assert "Merge task 3: feature 3" in subjects
    statuses = {w.task_id: w.status for w in await manager.list_worktrees()}
    assert set(statuses.values()) == {WorktreeStatus.MERGED}
    user_checkout_untouched(repository, main_before)


async def test_same_lines_conflict_is_predicted_and_nothing_moves(
    manager: WorktreeManager, repository: Path
) -> None:
    a = await manager.create_worktree(TaskRef(1, "one"))
    b = await manager.create_worktree(TaskRef(2, "two"))
    commit_file(Path(a.path), "app.py", "a = 1\nb = 'one'\nc = 3\n")
    b_commit = commit_file(Path(b.path), "app.py", "a = 1\nb = 'two'\nc = 3\n")
    assert (await manager.merge_worktree(1)).status is MergeStatus.MERGED
    before = tip(repository)
    result = await manager.merge_worktree(2)
    assert result.status is MergeStatus.CONFLICT
    assert result.conflicts == (ConflictFile("app.py", "content"),)
    assert tip(repository) == before
    assert tip(repository, b.branch) == b_commit  # the branch is kept as it was
    assert await manager.get_conflict_details(2) == (ConflictFile("app.py", "content"),)
    status = await manager.get_worktree_status(2)
    assert status is not None
    assert status.status is WorktreeStatus.CONFLICT
    # the integration worktree was not touched either
    assert git(manager.integration_path, "status", "--porcelain") == ""


async def test_conflict_kinds_are_listed(manager: WorktreeManager, repository: Path) -> None:
    a = await manager.create_worktree(TaskRef(1, "delete readme"))
    b = await manager.create_worktree(TaskRef(2, "edit readme and add notes"))
    git(Path(a.path), "rm", "-q", "README.md")
    commit_file(Path(a.path), "notes.md", "mine\n")
    commit_file(Path(b.path), "README.md", "changed\n")
    commit_file(Path(b.path), "notes.md", "theirs\n")
    assert (await manager.merge_worktree(1)).status is MergeStatus.MERGED
    result = await manager.merge_worktree(2)
    assert set(result.conflicts) == {
        ConflictFile("README.md", "modify/delete"),
        ConflictFile("notes.md", "add/add"),
    }


async def _conflicting_pair(manager: WorktreeManager) -> tuple[Path, Path]:
    a = await manager.create_worktree(TaskRef(1, "one"))
    b = await manager.create_worktree(TaskRef(2, "two"))
    commit_file(Path(a.path), "app.py", "a = 1\nb = 'one'\nc = 3\n")
    commit_file(Path(b.path), "app.py", "a = 1\nb = 'two'\nc = 3\nd = 4\n")
    commit_file(Path(b.path), "extra.py", "e = 5\n")
    assert (await manager.merge_worktree(1)).status is MergeStatus.MERGED
    assert (await manager.merge_worktree(2)).status is MergeStatus.CONFLICT
    return Path(a.path), Path(b.path)


def show(repo: Path, path: str) -> str:
    return git(repo, "show", f"{INTEGRATION}:{path}") + "\n"


async def test_resolve_ours(manager: WorktreeManager, repository: Path) -> None:
    _, b = await _conflicting_pair(manager)
    b_tip = git(b, "rev-parse", "HEAD")
    result = await manager.resolve_conflict(2, Resolution.OURS)
    assert result.status is MergeStatus.MERGED
    assert "b = 'one'" in show(repository, "app.py")
    assert show(repository, "extra.py") == "e = 5\n"  # the task's other work still lands
    assert reachable(repository, b_tip)
    assert "'ours' strategy" in git(repository, "log", "-1", "--format=%B", INTEGRATION)


async def test_resolve_theirs(manager: WorktreeManager, repository: Path) -> None:
    await _conflicting_pair(manager)
    result = await manager.resolve_conflict(2, Resolution.THEIRS)
    assert result.status is MergeStatus.MERGED
    assert show(repository, "app.py") == "a = 1\nb = 'two'\nc = 3\nd = 4\n"
    status = await manager.get_worktree_status(2)
    assert status is not None
    assert status.status is WorktreeStatus.MERGED


async def test_resolve_theirs_on_modify_delete(manager: WorktreeManager, repository: Path) -> None:
    a = await manager.create_worktree(TaskRef(1, "delete"))
    b = await manager.create_worktree(TaskRef(2, "modify"))
    git(Path(a.path), "rm", "-q", "README.md")
    git(Path(a.path), "commit", "-q", "-m", "delete readme")
    commit_file(Path(b.path), "README.md", "kept\n")
    await manager.merge_worktree(1)
    assert (await manager.merge_worktree(2)).status is MergeStatus.CONFLICT
    assert (await manager.resolve_conflict(2, Resolution.THEIRS)).status is MergeStatus.MERGED
    assert show(repository, "README.md") == "kept\n"


async def test_resolve_manual(manager: WorktreeManager, repository: Path) -> None:
    _, b = await _conflicting_pair(manager)
    # a person merges the integration branch into the kept worktree and fixes the file...
    git(b, "merge", "-q", INTEGRATION, check=False)
    with pytest.raises(WorktreeConflictError) as caught:
        await manager.resolve_conflict(2, Resolution.MANUAL)
    assert caught.value.conflicts == (("app.py", "content"),)
    (b / "app.py").write_text("a = 1\nb = 'one and two'\nc = 3\nd = 4\n", encoding="utf-8")
    git(b, "add", "app.py")  # ...and leaves the merge commit to us
    result = await manager.resolve_conflict(2, Resolution.MANUAL)
    assert result.status is MergeStatus.MERGED
    assert "one and two" in show(repository, "app.py")


async def test_resolve_by_agent(make_manager: ManagerFactory, repository: Path) -> None:
    seen: list[ConflictResolutionRequest] = []

    async def resolver(request: ConflictResolutionRequest) -> None:
        seen.append(request)
        target = Path(request.worktree) / "app.py"
        text = target.read_text(encoding="utf-8")
        assert "<<<<<<<" in text
        target.write_text("a = 1\nb = 'one'  # and 'two'\nc = 3\nd = 4\n", encoding="utf-8")

    manager = make_manager(resolver=resolver)
    await manager.initialize()
    await _conflicting_pair(manager)
    result = await manager.resolve_conflict(2, Resolution.AGENT)
    assert result.status is MergeStatus.MERGED
    assert "and 'two'" in show(repository, "app.py")
    request = seen[0]
    assert request.conflicts == (ConflictFile("app.py", "content"),)
    assert "edit app.py" in request.task_log
    assert "Merge task 1" in request.integration_log
    assert request.task.title == "two"


async def test_agent_that_leaves_markers_changes_nothing(
    make_manager: ManagerFactory, repository: Path
) -> None:
    async def lazy(request: ConflictResolutionRequest) -> None:
        return None

    manager = make_manager(resolver=lazy)
    await manager.initialize()
    await _conflicting_pair(manager)
    before = tip(repository)
    with pytest.raises(WorktreeConflictError):
        await manager.resolve_conflict(2, Resolution.AGENT)
    assert tip(repository) == before
    assert git(manager.integration_path, "status", "--porcelain") == ""


@pytest.mark.parametrize("mode", [MergeMode.MERGE, MergeMode.SQUASH])
async def test_merge_and_squash_modes(
    make_manager: ManagerFactory, repository: Path, mode: MergeMode
) -> None:
    manager = make_manager(options=WorkspaceOptions(merge_mode=mode))
    await manager.initialize()
    info = await manager.create_worktree(TaskRef(7, "two commits"))
    commit_file(Path(info.path), "one.txt", "1\n")
    task_tip = commit_file(Path(info.path), "two.txt", "2\n")
    before = tip(repository)
    result = await manager.merge_worktree(7)
    assert result.status is MergeStatus.MERGED
    parents = git(repository, "log", "-1", "--format=%P", INTEGRATION).split()
    message = git(repository, "log", "-1", "--format=%B", INTEGRATION)
    assert f"Yokeflow-Task-Commit: {task_tip}" in message
    assert info.branch not in branches(repository)
    if mode is MergeMode.MERGE:
        assert parents == [before, task_tip]
        assert message.startswith("Merge task 7: two commits")
    else:
        assert parents == [before]
        assert message.startswith("Squash task 7: two commits")
        # the task's own commits are not lost: archived under refs/yokeflow/squashed/
        assert tip(repository, f"refs/yokeflow/squashed/{info.branch}") == task_tip
    assert {"one.txt", "two.txt"} <= set(
        git(repository, "ls-tree", "--name-only", INTEGRATION).split()
    )


async def test_failed_verification_discards_the_merge_and_keeps_output(
    make_manager: ManagerFactory, repository: Path
) -> None:
    check = "test ! -e broken.txt || { echo 'tests failed: broken.txt exists'; exit 3; }"
    manager = make_manager(options=WorkspaceOptions(verify_command=check))
    await manager.initialize()
    good = await manager.create_worktree(TaskRef(1, "good"))
    bad = await manager.create_worktree(TaskRef(2, "bad"))
    commit_file(Path(good.path), "good.txt", "ok\n")
    bad_tip = commit_file(Path(bad.path), "broken.txt", "oops\n")
    assert (await manager.merge_worktree(1)).status is MergeStatus.MERGED
    before = tip(repository)
    result = await manager.merge_worktree(2)
    assert result.status is MergeStatus.VERIFICATION_FAILED
    assert result.verification_output is not None
    assert "tests failed: broken.txt exists" in result.verification_output
    assert tip(repository) == before
    assert tip(repository, bad.branch) == bad_tip
    status = await manager.get_worktree_status(2)
    assert status is not None
    assert status.status is WorktreeStatus.FAILED
    log = repository / ".git" / "yokeflow" / "verify" / "2.log"
    assert "broken.txt exists" in log.read_text(encoding="utf-8")
    assert not (manager.integration_path / "broken.txt").exists()


async def test_integration_branch_moved_by_someone_else_is_kept(
    make_manager: ManagerFactory, repository: Path
) -> None:
    moved: list[str] = []

    async def meddle(step: str) -> None:
        # another actor lands a commit between our prediction and our update-ref
        if step == "predicted" and not moved:
            old = tip(repository)
            tree = git(repository, "rev-parse", f"{old}^{{tree}}")
            other = git(repository, "commit-tree", tree, "-p", old, "-m", "someone else")
            git(repository, "update-ref", f"refs/heads/{INTEGRATION}", other, old)
            moved.append(other)

    manager = make_manager(on_step=meddle)
    await manager.initialize()
    info = await manager.create_worktree(TaskRef(1, "task"))
    task_tip = commit_file(Path(info.path), "t.txt", "t\n")
    assert (await manager.merge_worktree(1)).status is MergeStatus.MERGED
    assert reachable(repository, moved[0])
    assert reachable(repository, task_tip)


async def test_integration_branch_checked_out_by_the_user_is_refused(
    make_manager: ManagerFactory,
) -> None:
    manager = make_manager(options=WorkspaceOptions(integration_branch="main"))
    with pytest.raises(ConfigError, match="checked out") as info:
        await manager.initialize()
    # the advice names only what a user can do: no setting that does not exist
    assert "check out another branch there" in str(info.value)
    assert "parallel integration branch" not in str(info.value)


async def test_sync_from_main(manager: WorktreeManager, repository: Path) -> None:
    a = await manager.create_worktree(TaskRef(1, "first"))
    b = await manager.create_worktree(TaskRef(2, "second"))
    c = await manager.create_worktree(TaskRef(3, "third"))
    commit_file(Path(a.path), "app.py", "a = 1\nb = 'first'\nc = 3\n")
    await manager.merge_worktree(1)
    new_tip = await manager.sync_worktree_from_main(2)
    assert (Path(b.path) / "app.py").read_text(encoding="utf-8").startswith("a = 1\nb = 'first'")
    assert git(Path(b.path), "rev-parse", "HEAD") == new_tip
    c_tip = commit_file(Path(c.path), "app.py", "a = 1\nb = 'third'\nc = 3\n")
    with pytest.raises(WorktreeConflictError) as caught:
        await manager.sync_worktree_from_main(3)
    assert caught.value.conflicts == (("app.py", "content"),)
    assert git(Path(c.path), "rev-parse", "HEAD") == c_tip
    assert git(Path(c.path), "status", "--porcelain") == ""


async def test_already_merged_and_empty_tasks(manager: WorktreeManager, repository: Path) -> None:
    await manager.create_worktree(TaskRef(1, "did nothing"))
    before = tip(repository)
    result = await manager.merge_worktree(1)
    assert result.status is MergeStatus.ALREADY_MERGED
    assert tip(repository) == before
    again = await manager.merge_worktree(1)
    assert again.status is MergeStatus.ALREADY_MERGED
