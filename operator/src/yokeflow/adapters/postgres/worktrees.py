"""Worktree records in PostgreSQL: the :class:`~yokeflow.ports.workspace.WorktreeLedger` port."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from yokeflow.adapters.postgres import rows
from yokeflow.core.worktree import ConflictFile, WorktreeRecord, WorktreeStatus
from yokeflow.errors import NotFoundError

__all__ = ["WorktreeQueries"]


class WorktreeQueries:
    """The ``worktrees`` part of the store, keyed by ``(project_id, branch)``."""

    _pool: Any

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
        # A branch recreated after cleanup reuses its row, set back to active.
        row = await self._pool.fetchrow(
            """
            INSERT INTO worktrees (project_id, task_id, epic_id, branch_name, worktree_path,
                                   base_commit)
            VALUES ($1, $2, $3, $4, $5, $6)
            ON CONFLICT (project_id, branch_name) DO UPDATE
            SET task_id = EXCLUDED.task_id, epic_id = EXCLUDED.epic_id,
                worktree_path = EXCLUDED.worktree_path,
                base_commit = coalesce(EXCLUDED.base_commit, worktrees.base_commit),
                status = 'active', conflicts = '[]'::jsonb, updated_at = now()
            RETURNING *
            """,
            project_id,
            task_id,
            epic_id,
            branch,
            path,
            base_commit,
        )
        return rows.worktree(row)

    async def get_worktree(self, worktree_id: int) -> WorktreeRecord | None:
        row = await self._pool.fetchrow("SELECT * FROM worktrees WHERE id = $1", worktree_id)
        return None if row is None else rows.worktree(row)

    async def get_worktree_by_task(self, project_id: int, task_id: int) -> WorktreeRecord | None:
        row = await self._pool.fetchrow(
            "SELECT * FROM worktrees WHERE project_id = $1 AND task_id = $2"
            " ORDER BY updated_at DESC, id DESC LIMIT 1",
            project_id,
            task_id,
        )
        return None if row is None else rows.worktree(row)

    async def get_worktree_by_epic(self, project_id: int, epic_id: int) -> list[WorktreeRecord]:
        found = await self._pool.fetch(
            "SELECT * FROM worktrees WHERE project_id = $1 AND epic_id = $2 ORDER BY id",
            project_id,
            epic_id,
        )
        return [rows.worktree(r) for r in found]

    async def list_worktrees(
        self, project_id: int, status: WorktreeStatus | None = None
    ) -> list[WorktreeRecord]:
        found = await self._pool.fetch(
            "SELECT * FROM worktrees WHERE project_id = $1 AND ($2::text IS NULL OR status = $2)"
            " ORDER BY id",
            project_id,
            None if status is None else status.value,
        )
        return [rows.worktree(r) for r in found]

    async def update_worktree_status(
        self,
        worktree_id: int,
        status: WorktreeStatus,
        *,
        merge_commit: str | None = None,
        conflicts: Sequence[ConflictFile] = (),
    ) -> WorktreeRecord:
        row = await self._pool.fetchrow(
            """
            UPDATE worktrees
            SET status = $2::text, merge_commit = coalesce($3, merge_commit), conflicts = $4,
                merged_at = CASE WHEN $2::text = 'merged' THEN now() ELSE merged_at END,
                updated_at = now()
            WHERE id = $1
            RETURNING *
            """,
            worktree_id,
            status.value,
            merge_commit,
            [{"path": c.path, "kind": c.kind} for c in conflicts],
        )
        if row is None:
            raise NotFoundError(f"worktree {worktree_id} does not exist")
        return rows.worktree(row)

    async def mark_worktree_merged(self, worktree_id: int, merge_commit: str) -> WorktreeRecord:
        return await self.update_worktree_status(
            worktree_id, WorktreeStatus.MERGED, merge_commit=merge_commit
        )
