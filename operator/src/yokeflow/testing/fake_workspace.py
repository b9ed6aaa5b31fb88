"""In-memory fakes of the workspace and the merge lane, over a store's worktree records.

``FakeWorkspace`` keeps no files: a worktree is a record in the ledger (a
:class:`~yokeflow.testing.fake_store.FakeStore`) and a merge marks it merged — or conflicted, for
the tasks the test names. ``FakeMergeLane`` holds submitted merges until the test lands them, so
a reconcile test can stop between "submitted" and "landed" like a kill would.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from yokeflow.core.merging import MergeResult, MergeStatus, Resolution
from yokeflow.core.schedule import TaskState
from yokeflow.core.worktree import ConflictFile, WorktreeStatus
from yokeflow.ports.workspace import TaskRef, Workspace, WorktreeInfo, WorktreeLedger
from yokeflow.services.reconcile import MergeLanded, MergeLane

__all__ = ["FakeMergeLane", "FakeWorkspace"]


@dataclass
class FakeWorkspace:
    """Worktrees as ledger records; merges succeed unless the task id is in ``conflicting``."""

    ledger: WorktreeLedger
    project_id: int
    conflicting: set[int] = field(default_factory=set)
    synced: list[int] = field(default_factory=list)

    async def initialize(self) -> None:
        return None

    async def create_worktree(self, task: TaskRef) -> WorktreeInfo:
        branch = f"yokeflow/task/{task.task_id}"
        record = await self.ledger.get_worktree_by_task(self.project_id, task.task_id)
        if record is None or record.status in (WorktreeStatus.REMOVED, WorktreeStatus.MERGED):
            record = await self.ledger.create_worktree(
                self.project_id,
                task_id=task.task_id,
                epic_id=task.epic_id,
                branch=branch,
                path=f"/fake/{task.task_id}",
                base_commit="base",
            )
        return self._info(task.task_id, record.branch, record.status)

    def _info(self, task_id: int, branch: str, status: WorktreeStatus) -> WorktreeInfo:
        return WorktreeInfo(
            task_id, None, "", branch, f"/fake/{task_id}", status, True, base_commit="base"
        )

    async def merge_worktree(self, task_id: int) -> MergeResult:
        record = await self.ledger.get_worktree_by_task(self.project_id, task_id)
        assert record is not None
        if task_id in self.conflicting:
            conflicts = (ConflictFile("README.md", "content"),)
            await self.ledger.update_worktree_status(
                record.id, WorktreeStatus.CONFLICT, conflicts=conflicts
            )
            return MergeResult(task_id, record.branch, MergeStatus.CONFLICT, conflicts=conflicts)
        await self.ledger.mark_worktree_merged(record.id, f"merge-{task_id}")
        return MergeResult(task_id, record.branch, MergeStatus.MERGED, f"merge-{task_id}")

    async def cleanup_worktree(self, task_id: int) -> None:
        return None

    async def get_worktree_status(self, task_id: int) -> WorktreeInfo | None:
        record = await self.ledger.get_worktree_by_task(self.project_id, task_id)
        return None if record is None else self._info(task_id, record.branch, record.status)

    async def list_worktrees(self) -> list[WorktreeInfo]:
        records = await self.ledger.list_worktrees(self.project_id)
        return [self._info(r.task_id or 0, r.branch, r.status) for r in records]

    async def sync_worktree_from_main(self, task_id: int) -> str:
        self.synced.append(task_id)
        return "synced"

    async def get_conflict_details(self, task_id: int) -> tuple[ConflictFile, ...]:
        record = await self.ledger.get_worktree_by_task(self.project_id, task_id)
        return () if record is None else record.conflicts

    async def resolve_conflict(self, task_id: int, strategy: Resolution) -> MergeResult:
        self.conflicting.discard(task_id)
        return await self.merge_worktree(task_id)


@dataclass
class FakeMergeLane:
    """Merges wait in ``submitted`` until :meth:`land` carries them out through the workspace."""

    workspace: FakeWorkspace
    submitted: dict[str, int] = field(default_factory=dict)
    _landed: list[MergeLanded] = field(default_factory=list)

    def submit(self, key: str, task_id: int) -> None:
        self.submitted.setdefault(key, task_id)

    def in_flight(self) -> Mapping[str, TaskState]:
        return {k: TaskState.MERGING for k in self.submitted}

    def collect(self) -> Sequence[MergeLanded]:
        landed, self._landed = self._landed, []
        return landed

    async def land(self, key: str | None = None) -> None:
        """Merge ``key`` (default: everything submitted)."""
        for k in [key] if key is not None else list(self.submitted):
            task_id = self.submitted.pop(k)
            result = await self.workspace.merge_worktree(task_id)
            self._landed.append(MergeLanded(k, task_id, result))

    def forget(self) -> None:
        """The process running the merges died: nothing is in flight any more."""
        self.submitted.clear()


def _implements_the_ports(
    workspace: FakeWorkspace, lane: FakeMergeLane
) -> tuple[Workspace, MergeLane]:
    return workspace, lane  # mypy checks here that the fakes satisfy the ports
