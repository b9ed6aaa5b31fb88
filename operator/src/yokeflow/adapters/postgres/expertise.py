"""Expertise in PostgreSQL: one versioned file per project and domain, and its history."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from yokeflow.adapters.postgres import rows
from yokeflow.core.records import ExpertiseFile, ExpertiseUpdate
from yokeflow.errors import NotFoundError

__all__ = ["ExpertiseQueries"]


class ExpertiseQueries:
    """The ``expertise_files`` and ``expertise_updates`` part of the store."""

    _pool: Any

    async def get_expertise(self, project_id: int, domain: str) -> ExpertiseFile | None:
        row = await self._pool.fetchrow(
            "SELECT * FROM expertise_files WHERE project_id = $1 AND domain = $2",
            project_id,
            domain,
        )
        return None if row is None else rows.expertise_file(row)

    async def save_expertise(
        self,
        project_id: int,
        domain: str,
        content: Mapping[str, Any],
        *,
        line_count: int,
        validated: bool = False,
    ) -> ExpertiseFile:
        row = await self._pool.fetchrow(
            """
            INSERT INTO expertise_files (project_id, domain, content, line_count, validated_at)
            VALUES ($1, $2, $3, $4, CASE WHEN $5 THEN now() END)
            ON CONFLICT (project_id, domain) DO UPDATE
            SET content = EXCLUDED.content, line_count = EXCLUDED.line_count,
                version = expertise_files.version + 1,
                validated_at = coalesce(EXCLUDED.validated_at, expertise_files.validated_at),
                updated_at = now()
            RETURNING *
            """,
            project_id,
            domain,
            dict(content),
            line_count,
            validated,
        )
        return rows.expertise_file(row)

    async def list_expertise_domains(self, project_id: int) -> list[str]:
        found = await self._pool.fetch(
            "SELECT domain FROM expertise_files WHERE project_id = $1 ORDER BY domain", project_id
        )
        return [r["domain"] for r in found]

    async def record_expertise_update(
        self,
        expertise_id: int,
        change_type: str,
        summary: str,
        *,
        session_id: int | None = None,
        diff: str | None = None,
    ) -> ExpertiseUpdate:
        row = await self._pool.fetchrow(
            """
            INSERT INTO expertise_updates (expertise_id, session_id, change_type, summary, diff,
                                           version)
            SELECT id, $2, $3, $4, $5, version FROM expertise_files WHERE id = $1
            RETURNING *
            """,
            expertise_id,
            session_id,
            change_type,
            summary,
            diff,
        )
        if row is None:
            raise NotFoundError(f"expertise file {expertise_id} does not exist")
        return rows.expertise_update(row)

    async def list_expertise_updates(self, expertise_id: int) -> list[ExpertiseUpdate]:
        found = await self._pool.fetch(
            "SELECT * FROM expertise_updates WHERE expertise_id = $1 ORDER BY id", expertise_id
        )
        return [rows.expertise_update(r) for r in found]
