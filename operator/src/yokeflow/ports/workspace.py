"""The worktree ledger: how worktree state is persisted (the ``worktrees`` table).

The git adapter (WorktreeManager) records and recovers its state through this narrow port; the
PostgreSQL store implements it, and ``yokeflow.testing`` has an in-memory fake.
The ``Workspace`` port itself (create / merge / cleanup…) is added beside it by the worktree work.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from yokeflow.core.worktree import ConflictFile, WorktreeRecord, WorktreeStatus

__all__ = ["WorktreeLedger"]


class WorktreeLedger(Protocol):
    """Persistence of worktree records, keyed by ``(project_id, branch)``."""

    async def create_worktree(
        self,
        project_id: int,
        *,
        task_id: int | None,
        epic_id: int | None,
        branch: str,
        path: str,
        base_commit: str | None,
    ) -> WorktreeRecord:
        """Insert a record, or return the existing one for ``(project_id, branch)`` set back to active."""
        ...

    async def get_worktree(self, worktree_id: int) -> WorktreeRecord | None: ...

    async def get_worktree_by_task(self, project_id: int, task_id: int) -> WorktreeRecord | None: ...

    async def get_worktree_by_epic(self, project_id: int, epic_id: int) -> list[WorktreeRecord]: ...

    async def list_worktrees(
        self, project_id: int, status: WorktreeStatus | None = None
    ) -> list[WorktreeRecord]: ...

    async def update_worktree_status(
        self,
        worktree_id: int,
        status: WorktreeStatus,
        *,
        merge_commit: str | None = None,
        conflicts: Sequence[ConflictFile] = (),
    ) -> WorktreeRecord: ...

    async def mark_worktree_merged(self, worktree_id: int, merge_commit: str) -> WorktreeRecord: ...
