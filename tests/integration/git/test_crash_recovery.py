"""A merge killed with SIGKILL at any step leaves a state the next start repairs, losing nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from yokeflow.adapters.git import WorkspaceOptions, WorktreeManager
from yokeflow.core.merging import MergeMode, MergeStatus, Resolution
from yokeflow.core.worktree import WorktreeStatus
from yokeflow.ports import TaskRef
from yokeflow.testing.fake_ledger import InMemoryWorktreeLedger
from yokeflow.testing.git_repos import commit_file, git

CHILD = Path(__file__).with_name("crash_child.py")
INTEGRATION = "yokeflow/integration"
STEPS = [
    "committed",
    "predicted",
    "verifying",
    "journaled",
    "published",
    "detached",
    "branch-deleted",
    "recorded",
]


def kept_refs(repo: Path) -> list[str]:
    """Where a commit may be kept: the integration branch, any branch, the squash archive."""
    out = git(repo, "for-each-ref", "--format=%(refname)", "refs/heads", "refs/yokeflow")
    return out.splitlines()


def is_kept(repo: Path, commit: str) -> bool:
    for ref in kept_refs(repo):
        done = subprocess.run(
            ["git", "merge-base", "--is-ancestor", commit, ref], cwd=repo, check=False
        )
        if done.returncode == 0:
            return True
    return False


def kill_merge_at(
    repo: Path, ledger: Path, task_id: int, step: str, mode: MergeMode, verify: str, action: str
) -> list[str]:
    """Run the merge in a child process and SIGKILL it (and its children) at ``step``."""
    command = [sys.executable, str(CHILD), str(repo), str(ledger), str(task_id), step]
    seen: list[str] = []
    with subprocess.Popen(
        [*command, mode.value, verify, action],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as child:
        assert child.stdout is not None
        assert child.stderr is not None
        for line in child.stdout:
            seen.append(line.strip())
            if line.strip() == "PAUSED":
                os.killpg(child.pid, signal.SIGKILL)
                break
        child.wait(timeout=60)
        errors = child.stderr.read()
    assert child.returncode == -signal.SIGKILL, (seen, errors)
    return seen


async def _scenario(tmp_path: Path, repository: Path, mode: MergeMode) -> dict[str, Any]:
    ledger_file = tmp_path / "ledger.json"

    def build(verify: str = "true") -> WorktreeManager:
        options = WorkspaceOptions(merge_mode=mode, verify_command=verify)
        return WorktreeManager(
            repository, InMemoryWorktreeLedger(ledger_file), project_id=1, options=options
        )

    manager = build()
    await manager.initialize()
    commits: dict[int, list[str]] = {}
    for task_id in (1, 2, 3):
        info = await manager.create_worktree(TaskRef(task_id, f"task {task_id}"))
        commits[task_id] = [
            commit_file(Path(info.path), f"t{task_id}/a.txt", "a\n"),
            commit_file(Path(info.path), f"t{task_id}/b.txt", "b\n"),
        ]
    assert (await manager.merge_worktree(1)).status is MergeStatus.MERGED
    # task 2 also has uncommitted work when the merge starts
    (Path(manager.path_for(TaskRef(2, "task 2"))) / "t2" / "late.txt").write_text("late\n")
    return {"ledger": ledger_file, "build": build, "commits": commits}


@pytest.mark.parametrize("mode", [MergeMode.MERGE, MergeMode.SQUASH])
@pytest.mark.parametrize("step", STEPS)
async def test_kill_mid_merge_then_restart(
    tmp_path: Path, repository: Path, mode: MergeMode, step: str
) -> None:
    verify = "sleep 0.2" if step != "verifying" else "sleep 30"
    setup = await _scenario(tmp_path, repository, mode)
    seen = kill_merge_at(repository, setup["ledger"], 2, step, mode, verify, "merge")
    assert f"STEP {step}" in seen
    everything = [c for task in setup["commits"].values() for c in task]
    # right after the kill: nothing is lost
    assert all(is_kept(repository, c) for c in everything)

    manager: WorktreeManager = setup["build"]()
    await manager.initialize()  # the next start repairs
    assert all(is_kept(repository, c) for c in everything)
    assert not list((repository / ".git" / "yokeflow" / "journal").glob("*.json"))
    assert git(manager.integration_path, "status", "--porcelain") == ""
    assert git(repository, "status", "--porcelain") == ""

    # and the queue goes on: every task lands, once
    for task_id in (2, 3):
        result = await manager.merge_worktree(task_id)
        assert result.status in (MergeStatus.MERGED, MergeStatus.ALREADY_MERGED)
    for task_id in (1, 2, 3):
        info = await manager.get_worktree_status(task_id)
        assert info is not None
        assert info.status is WorktreeStatus.MERGED
    tree = git(repository, "ls-tree", "-r", "--name-only", INTEGRATION).split()
    assert {"t2/a.txt", "t2/b.txt", "t2/late.txt", "t3/b.txt"} <= set(tree)
    subjects = git(repository, "log", "--format=%s", "--first-parent", INTEGRATION).splitlines()
    assert sum("task 2:" in s for s in subjects) == 1
    assert all(is_kept(repository, c) for c in everything)
    task_branches = git(
        repository, "for-each-ref", "--format=%(refname)", "refs/heads/yokeflow/task"
    )
    assert task_branches == ""


async def test_kill_in_the_middle_of_a_resolution(tmp_path: Path, repository: Path) -> None:
    """Killed while ``git merge`` state sits in the integration worktree (MERGE_HEAD, markers)."""
    ledger_file = tmp_path / "ledger.json"

    def build() -> WorktreeManager:
        return WorktreeManager(repository, InMemoryWorktreeLedger(ledger_file), project_id=1)

    manager = build()
    await manager.initialize()
    a = await manager.create_worktree(TaskRef(1, "one"))
    b = await manager.create_worktree(TaskRef(2, "two"))
    commit_file(Path(a.path), "app.py", "a = 1\nb = 'one'\nc = 3\n")
    b_tip = commit_file(Path(b.path), "app.py", "a = 1\nb = 'two'\nc = 3\n")
    await manager.merge_worktree(1)
    assert (await manager.merge_worktree(2)).status is MergeStatus.CONFLICT
    before = git(repository, "rev-parse", INTEGRATION)

    kill_merge_at(repository, ledger_file, 2, "merging", MergeMode.MERGE, "", "theirs")
    integration = manager.integration_path
    assert (Path(git(integration, "rev-parse", "--absolute-git-dir")) / "MERGE_HEAD").exists()
    assert git(repository, "rev-parse", INTEGRATION) == before
    assert is_kept(repository, b_tip)

    restarted = build()
    await restarted.initialize()
    assert git(integration, "status", "--porcelain") == ""
    assert not (Path(git(integration, "rev-parse", "--absolute-git-dir")) / "MERGE_HEAD").exists()
    result = await restarted.resolve_conflict(2, Resolution.THEIRS)
    assert result.status is MergeStatus.MERGED
    assert git(repository, "show", f"{INTEGRATION}:app.py") == "a = 1\nb = 'two'\nc = 3"
