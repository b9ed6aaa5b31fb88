"""Parallel batches in PostgreSQL: tasks launched together, and their progress."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from yokeflow.adapters.postgres import rows
from yokeflow.core.records import BatchStatus, ParallelBatch, ParallelProgress
from yokeflow.core.status import check_batch_transition, parse_batch_status
from yokeflow.errors import NotFoundError

__all__ = ["BatchQueries"]


class BatchQueries:
    """The ``parallel_batches`` part of the store."""

    _pool: Any

    async def create_parallel_batch(
        self, project_id: int, batch_number: int, task_ids: Sequence[int]
    ) -> ParallelBatch:
        row = await self._pool.fetchrow(
            "INSERT INTO parallel_batches (project_id, batch_number, task_ids)"
            " VALUES ($1, $2, $3) RETURNING *",
            project_id,
            batch_number,
            list(task_ids),
        )
        return rows.parallel_batch(row)

    async def get_parallel_batch(self, project_id: int, batch_number: int) -> ParallelBatch | None:
        row = await self._pool.fetchrow(
            "SELECT * FROM parallel_batches WHERE project_id = $1 AND batch_number = $2",
            project_id,
            batch_number,
        )
        return None if row is None else rows.parallel_batch(row)

    async def list_parallel_batches(self, project_id: int) -> list[ParallelBatch]:
        found = await self._pool.fetch(
            "SELECT * FROM parallel_batches WHERE project_id = $1 ORDER BY batch_number",
            project_id,
        )
        return [rows.parallel_batch(r) for r in found]

    async def update_batch_status(self, batch_id: int, status: BatchStatus | str) -> ParallelBatch:
        new = status if isinstance(status, BatchStatus) else parse_batch_status(status)
        async with self._pool.acquire() as conn, conn.transaction():
            current = await conn.fetchrow(
                "SELECT * FROM parallel_batches WHERE id = $1 FOR UPDATE", batch_id
            )
            if current is None:
                raise NotFoundError(f"batch {batch_id} does not exist")
            check_batch_transition(
                BatchStatus(current["status"]), new, f"{current['batch_number']} ({batch_id})"
            )
            row = await conn.fetchrow(
                """
                UPDATE parallel_batches
                SET status = $2::text,
                    started_at = CASE WHEN $2::text = 'running' THEN coalesce(started_at, now())
                                      ELSE started_at END,
                    completed_at = CASE WHEN $2::text IN ('done', 'failed', 'cancelled') THEN now()
                                        ELSE completed_at END
                WHERE id = $1
                RETURNING *
                """,
                batch_id,
                new.value,
            )
        return rows.parallel_batch(row)

    async def parallel_progress(self, project_id: int) -> list[ParallelProgress]:
        found = await self._pool.fetch(
            "SELECT * FROM v_parallel_progress WHERE project_id = $1 ORDER BY batch_number",
            project_id,
        )
        return [rows.parallel_progress(r) for r in found]
