"""Agent sessions and task tests in PostgreSQL."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from yokeflow.adapters.postgres import rows
from yokeflow.core.records import Session, SessionStatus, Test, TestStatus
from yokeflow.errors import NotFoundError

__all__ = ["SessionQueries"]


class SessionQueries:
    """The ``sessions`` and ``tests`` part of the store."""

    _pool: Any

    async def start_session(
        self,
        project_id: int,
        *,
        task_id: int | None = None,
        kind: str = "task",
        model: str | None = None,
        log_path: str | None = None,
    ) -> Session:
        row = await self._pool.fetchrow(
            "INSERT INTO sessions (project_id, task_id, kind, model, log_path)"
            " VALUES ($1, $2, $3, $4, $5) RETURNING *",
            project_id,
            task_id,
            kind,
            model,
            log_path,
        )
        return rows.session(row)

    async def end_session(
        self,
        session_id: int,
        status: SessionStatus,
        *,
        summary: str | None = None,
        error: str | None = None,
        metrics: Mapping[str, Any] | None = None,
    ) -> Session:
        row = await self._pool.fetchrow(
            """
            UPDATE sessions
            SET status = $2::text, summary = coalesce($3, summary), error = coalesce($4, error),
                metrics = metrics || $5, ended_at = now()
            WHERE id = $1
            RETURNING *
            """,
            session_id,
            status.value,
            summary,
            error,
            dict(metrics or {}),
        )
        if row is None:
            raise NotFoundError(f"session {session_id} does not exist")
        return rows.session(row)

    async def get_session(self, session_id: int) -> Session | None:
        row = await self._pool.fetchrow("SELECT * FROM sessions WHERE id = $1", session_id)
        return None if row is None else rows.session(row)

    async def list_sessions(self, project_id: int, *, task_id: int | None = None) -> list[Session]:
        found = await self._pool.fetch(
            "SELECT * FROM sessions WHERE project_id = $1 AND ($2::int IS NULL OR task_id = $2)"
            " ORDER BY started_at, id",
            project_id,
            task_id,
        )
        return [rows.session(r) for r in found]

    async def create_test(
        self,
        task_id: int,
        description: str,
        *,
        category: str = "functional",
        steps: Sequence[str] = (),
    ) -> Test:
        row = await self._pool.fetchrow(
            """
            INSERT INTO tests (task_id, project_id, category, description, steps)
            SELECT id, project_id, $2, $3, $4 FROM tasks WHERE id = $1
            RETURNING *
            """,
            task_id,
            category,
            description,
            list(steps),
        )
        if row is None:
            raise NotFoundError(f"task {task_id} does not exist")
        return rows.test(row)

    async def list_tests(self, task_id: int) -> list[Test]:
        found = await self._pool.fetch(
            "SELECT * FROM tests WHERE task_id = $1 ORDER BY id", task_id
        )
        return [rows.test(r) for r in found]

    async def update_test_status(
        self, test_id: int, status: TestStatus, *, result: str | None = None
    ) -> Test:
        row = await self._pool.fetchrow(
            """
            UPDATE tests SET status = $2::text, result = coalesce($3, result),
                             verified_at = CASE WHEN $2::text = 'pending' THEN NULL ELSE now() END
            WHERE id = $1 RETURNING *
            """,
            test_id,
            status.value,
            result,
        )
        if row is None:
            raise NotFoundError(f"test {test_id} does not exist")
        return rows.test(row)
