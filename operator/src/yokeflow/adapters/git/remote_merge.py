"""What a merge Job does: task branches fetched from the remote land on the integration branch
through the merge queue, and the integration branch is pushed back.

The merge queue (:mod:`yokeflow.adapters.git.merge_queue`) does each merge exactly as in local
mode: predicted with ``merge-tree`` first, a conflict leaves everything untouched. Around it:

1. fetch the integration branch and every named task branch from the remote (a branch the
   remote does not have is reported, not guessed);
2. start from the remote's integration branch when it has one (it may be ahead of the commit the
   operator saw), else from the clone's;
3. merge the task branches in the given order; a task whose commit the integration branch
   already holds — merged, or squashed (its ``Yokeflow-Task-Commit`` trailer is in the history)
   — is "merged" without a new commit, so running the same merge Job twice merges nothing twice;
4. push the integration branch, never forced. Refused because the remote moved meanwhile, it
   starts again from step 1 on the new tip (merges already there are found as such).

Task branches are never deleted or moved on the remote: a conflicted task keeps its branch as it
was, and a merged one stays until the operator lets it go.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from yokeflow.adapters.git.checkouts import Checkouts
from yokeflow.adapters.git.locks import RepositoryLock
from yokeflow.adapters.git.memory_ledger import InMemoryWorktreeLedger
from yokeflow.adapters.git.merge_queue import MergeQueue
from yokeflow.adapters.git.options import WorkspaceOptions
from yokeflow.adapters.git.repository import Repository
from yokeflow.adapters.git.runner import GitRunner
from yokeflow.adapters.git.state_files import StateFiles, TaskNote
from yokeflow.core.merging import MergeMode, MergeStatus
from yokeflow.errors import ConfigError, GitCommandError

__all__ = ["MergeOutcome", "RemoteMerge", "TaskOutcome"]

_PROJECT = 0
"""The pod's ledger holds one run's records only."""
_WORKTREE_DIR = ".yokeflow-merge"
_REJECTED = ("[rejected]", "non-fast-forward", "fetch first", "stale info", "cannot lock ref")


@dataclass(frozen=True, slots=True)
class TaskOutcome:
    """What became of one task branch."""

    task: str
    branch: str
    status: str
    """``merged``, ``already_merged``, ``conflict``, ``missing`` or ``failed``."""
    commit: str | None = None
    """The integration commit holding the task's work (merged, already merged)."""
    conflicts: tuple[str, ...] = ()
    error: str | None = None


@dataclass
class MergeOutcome:
    """The merge Job's result, printed as its JSON report."""

    integration_branch: str
    base_commit: str | None = None
    """Where the integration branch stood on the remote (or in the clone) before."""
    integration_commit: str | None = None
    """Where it stands after (pushed when ``pushed``)."""
    pushed: bool = False
    attempts: int = 0
    tasks: list[TaskOutcome] = field(default_factory=list)
    error: str | None = None

    @property
    def success(self) -> bool:
        """Pushed, and every branch either merged or conflicted (a conflict is an answer)."""
        return self.pushed and all(t.status not in ("missing", "failed") for t in self.tasks)

    def to_dict(self) -> dict[str, Any]:
        """The report the operator's merge lane reads: ``merged`` task keys (on the pushed
        integration commit; none when nothing was pushed), ``conflicts`` with their files,
        ``integration_commit`` (only when pushed), ``error``; then each task's details."""
        unmerged = [t for t in self.tasks if t.status in ("missing", "failed")]
        error = self.error or (
            "; ".join(f"{t.task}: {t.error}" for t in unmerged) if unmerged else None
        )
        return {
            "success": self.success,
            "pushed": self.pushed,
            "integration_branch": self.integration_branch,
            "base_commit": self.base_commit,
            "integration_commit": self.integration_commit if self.pushed else None,
            "attempts": self.attempts,
            "merged": [
                t.task
                for t in self.tasks
                if self.pushed and t.status in ("merged", "already_merged")
            ],
            "conflicts": [
                {"key": t.task, "files": list(t.conflicts)}
                for t in self.tasks
                if t.status == "conflict"
            ],
            "error": error,
            "tasks": [
                {
                    "task": t.task,
                    "branch": t.branch,
                    "status": t.status,
                    "commit": t.commit,
                    "error": t.error,
                }
                for t in self.tasks
            ],
        }


class RemoteMerge:
    """Merges task branches of ``remote`` in the clone at ``root`` and pushes the result."""

    def __init__(
        self,
        root: Path,
        *,
        integration_branch: str,
        mode: MergeMode,
        remote: str = "origin",
        push_attempts: int = 5,
        git: GitRunner | None = None,
    ) -> None:
        self._repo = Repository(root, git or GitRunner())
        self._branch = integration_branch
        self._mode = mode
        self._remote = remote
        self._push_attempts = push_attempts

    async def run(self, tasks: Sequence[tuple[str, str]]) -> MergeOutcome:
        """Merge ``tasks`` — (task key, branch) in merge order — and push; see the module doc."""
        if not tasks:
            raise ConfigError("name at least one task branch to merge")
        repo = self._repo
        await repo.open()
        outcome = MergeOutcome(self._branch)
        # The queue refuses to move a branch someone has checked out: the clone lets go of it.
        await repo.git.run("checkout", "-q", "--detach", cwd=repo.root)
        for attempt in range(1, self._push_attempts + 1):
            outcome.attempts = attempt
            present = await self._fetch([branch for _, branch in tasks])
            outcome.base_commit = await repo.branch_tip(self._branch)
            queue, ledger = await self._queue()
            outcome.tasks = [
                await self._merge_one(queue, ledger, number, key, branch, present)
                for number, (key, branch) in enumerate(tasks, start=1)
            ]
            outcome.integration_commit = await repo.branch_tip(self._branch)
            if await self._push():
                outcome.pushed = True
                break
        else:
            outcome.error = (
                f"the remote's {self._branch} kept moving: not pushed after "
                f"{self._push_attempts} attempts"
            )
        # The pod's checkout shows what was pushed.
        await repo.git.run("checkout", "-q", self._branch, cwd=repo.root)
        return outcome

    async def _fetch(self, branches: Sequence[str]) -> set[str]:
        """Fetch the integration branch (reset to the remote's) and each task branch there is."""
        git, root = self._repo.git, self._repo.root
        heads = await git.output("ls-remote", "--heads", self._remote, cwd=root)
        on_remote = {
            line.split("\t", 1)[1].removeprefix("refs/heads/")
            for line in heads.splitlines()
            if "\t" in line
        }
        wanted = [b for b in dict.fromkeys(branches) if b in on_remote and b != self._branch]
        specs = [f"+refs/heads/{b}:refs/heads/{b}" for b in wanted]
        if self._branch in on_remote:
            specs.append(f"+refs/heads/{self._branch}:refs/heads/{self._branch}")
        elif await self._repo.branch_tip(self._branch) is None:
            raise ConfigError(f"neither the remote nor the clone has the branch {self._branch}")
        if specs:
            await git.run("fetch", "-q", "--no-tags", self._remote, *specs, cwd=root)
        return set(wanted)

    async def _queue(self) -> tuple[MergeQueue, InMemoryWorktreeLedger]:
        repo = self._repo
        options = WorkspaceOptions(
            worktree_dir=_WORKTREE_DIR,
            integration_branch=self._branch,
            merge_mode=self._mode,
        )
        exclude = repo.common_dir / "info" / "exclude"
        line = f"/{_WORKTREE_DIR}/"
        known = exclude.read_text(encoding="utf-8").splitlines() if exclude.exists() else []
        if line not in known:  # the queue's own worktree is no change of the clone's
            exclude.parent.mkdir(parents=True, exist_ok=True)
            exclude.write_text("\n".join([*known, line]) + "\n", encoding="utf-8")
        state = StateFiles(repo.common_dir)
        lock = RepositoryLock(state.worktree_lock, timeout=options.lock_timeout_seconds)
        ledger = InMemoryWorktreeLedger()
        queue = MergeQueue(repo, Checkouts(repo, lock), state, ledger, _PROJECT, options)
        await queue.prepare()
        return queue, ledger

    async def _merge_one(
        self,
        queue: MergeQueue,
        ledger: InMemoryWorktreeLedger,
        task_id: int,
        key: str,
        branch: str,
        present: set[str],
    ) -> TaskOutcome:
        repo = self._repo
        if branch not in present:
            return TaskOutcome(key, branch, "missing", error=f"the remote has no branch {branch}")
        tip = await repo.branch_tip(branch)
        assert tip is not None
        landed = await self._landed_at(tip)
        if landed is not None:
            return TaskOutcome(key, branch, MergeStatus.ALREADY_MERGED.value, commit=landed)
        await ledger.create_worktree(
            _PROJECT, task_id=task_id, epic_id=None, branch=branch, path="", base_commit=None
        )
        # No task worktree in this pod: the queue finds nothing uncommitted to add.
        absent = str(repo.root / _WORKTREE_DIR / "no-task-worktree")
        note = TaskNote(task_id, None, key, "", branch, absent, 0)
        try:
            result = await queue.merge(note)
        except GitCommandError as exc:
            return TaskOutcome(key, branch, "failed", error=str(exc))
        if result.status is MergeStatus.CONFLICT:
            return TaskOutcome(
                key, branch, "conflict", conflicts=tuple(c.path for c in result.conflicts)
            )
        if result.status is MergeStatus.VERIFICATION_FAILED:
            return TaskOutcome(key, branch, "failed", error=result.verification_output)
        return TaskOutcome(key, branch, result.status.value, commit=result.merge_commit)

    async def _landed_at(self, task_commit: str) -> str | None:
        """The integration commit that holds ``task_commit`` (merged or squashed), or None."""
        repo = self._repo
        tip = await repo.branch_tip(self._branch)
        if tip is None:
            return None
        if await repo.is_ancestor(task_commit, tip):
            return tip
        found = await repo.git.output(
            "log",
            "-n",
            "1",
            "--format=%H",
            "--fixed-strings",
            f"--grep=Yokeflow-Task-Commit: {task_commit}",
            tip,
            cwd=repo.root,
        )
        return found or None

    async def _push(self) -> bool:
        """Push the integration branch; False when refused because the remote moved."""
        result = await self._repo.git.run(
            "push",
            "--porcelain",
            self._remote,
            f"refs/heads/{self._branch}:refs/heads/{self._branch}",
            cwd=self._repo.root,
            ok_codes=(0, 1),
        )
        if result.exit_code == 0:
            return True
        text = f"{result.stdout}\n{result.stderr}"
        if any(word in text for word in _REJECTED):
            return False
        raise GitCommandError(("push", self._remote, self._branch), 1, text)
