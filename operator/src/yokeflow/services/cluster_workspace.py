"""The workspace of a run in a cluster: a worktree is a task branch on the remote and the
integration commit it starts from — nothing on the operator's disk.

Task Jobs clone the repository at that commit into their own volume and push the task branch;
merge Jobs land branches on the integration branch (:mod:`yokeflow.services.job_merge_lane`).
This workspace only keeps the records (the store's ``worktrees`` table) and knows the
integration commit new tasks start from: the integration branch's head on the remote, or the base
branch's before the first merge.
"""

from __future__ import annotations

from yokeflow.core.merging import MergeResult, Resolution
from yokeflow.core.worktree import ConflictFile, WorktreeRecord, WorktreeStatus
from yokeflow.errors import ConfigError, NotFoundError
from yokeflow.ports.remote import RemoteBranches
from yokeflow.ports.workspace import TaskRef, WorktreeInfo, WorktreeLedger

__all__ = ["ClusterWorkspace"]


class ClusterWorkspace:
    """Worktree records of one project whose branches live on ``remote`` (see the module doc)."""

    def __init__(
        self,
        *,
        ledger: WorktreeLedger,
        remote: RemoteBranches,
        project_id: int,
        url: str,
        base_branch: str,
        integration_branch: str,
        task_branch: dict[int, str],
    ) -> None:
        self._ledger = ledger
        self._remote = remote
        self._project_id = project_id
        self._url = url
        self._base_branch = base_branch
        self.integration_branch = integration_branch
        self._task_branch = task_branch
        self._head: str | None = None

    @property
    def integration_commit(self) -> str | None:
        """The commit new task Jobs start from (known after :meth:`initialize`)."""
        return self._head

    async def initialize(self) -> None:
        """Read the integration commit from the remote (the base branch's before any merge)."""
        await self.refresh()

    async def refresh(self) -> str:
        """Read the integration commit again (after a merge Job pushed)."""
        heads = await self._remote.heads([self.integration_branch, self._base_branch])
        head = heads.get(self.integration_branch) or heads.get(self._base_branch)
        if head is None:
            raise ConfigError(
                f"branch {self._base_branch!r} does not exist in {self._url}: the run needs a "
                "base branch to start from"
            )
        self._head = head
        return head

    def landed(self, commit: str) -> None:
        """A merge Job reported the integration branch at ``commit``."""
        self._head = commit

    async def create_worktree(self, task: TaskRef) -> WorktreeInfo:
        head = self._head if self._head is not None else await self.refresh()
        branch = self._branch(task.task_id)
        record = await self._ledger.create_worktree(
            self._project_id,
            task_id=task.task_id,
            epic_id=task.epic_id,
            branch=branch,
            path=self._url,
            base_commit=head,
        )
        return self._info(record, task.title)

    async def sync_worktree_from_main(self, task_id: int) -> str:
        """Nothing to merge: every attempt's Job clones the integration commit that
        :meth:`create_worktree` recorded for it."""
        return (await self._record(task_id)).base_commit or await self.refresh()

    async def merge_worktree(self, task_id: int) -> MergeResult:
        raise ConfigError("in a cluster, task branches are merged by merge Jobs")

    async def resolve_conflict(self, task_id: int, strategy: Resolution) -> MergeResult:
        raise ConfigError("in a cluster, conflicts are resolved by merge Jobs")

    async def cleanup_worktree(self, task_id: int) -> None:
        """Nothing to remove: the worktree was the Job's own volume; the branch stays."""

    async def get_worktree_status(self, task_id: int) -> WorktreeInfo | None:
        record = await self._ledger.get_worktree_by_task(self._project_id, task_id)
        return None if record is None else self._info(record, "")

    async def list_worktrees(self) -> list[WorktreeInfo]:
        records = await self._ledger.list_worktrees(self._project_id)
        return [self._info(r, "") for r in records if r.task_id is not None]

    async def get_conflict_details(self, task_id: int) -> tuple[ConflictFile, ...]:
        return (await self._record(task_id)).conflicts

    async def _record(self, task_id: int) -> WorktreeRecord:
        record = await self._ledger.get_worktree_by_task(self._project_id, task_id)
        if record is None:
            raise NotFoundError(f"task {task_id} has no worktree")
        return record

    def _branch(self, task_id: int) -> str:
        try:
            return self._task_branch[task_id]
        except KeyError:
            raise NotFoundError(f"task {task_id} is not in this run's plan") from None

    def _info(self, record: WorktreeRecord, title: str) -> WorktreeInfo:
        assert record.task_id is not None
        return WorktreeInfo(
            task_id=record.task_id,
            epic_id=record.epic_id,
            title=title,
            branch=record.branch,
            path=record.path,
            status=record.status,
            exists=record.status is WorktreeStatus.ACTIVE,
            base_commit=record.base_commit,
            merge_commit=record.merge_commit,
            conflicts=record.conflicts,
        )
