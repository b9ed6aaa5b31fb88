"""The learning store (:class:`~yokeflow.ports.learning.LearningStore`) in PostgreSQL.

Shares the state store's pool (:meth:`PostgresLearningStore.of`); the tables are
``expertise_files`` (for the conditional save) and ``model_outcomes`` (``0010_learning.sql``).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from yokeflow.adapters.postgres import rows
from yokeflow.core.model_choice import OutcomeStats
from yokeflow.core.records import ExpertiseFile
from yokeflow.ports.learning import LearningStore, TaskTypeCost

__all__ = ["PostgresLearningStore"]


class PostgresLearningStore:
    """Versioned expertise saves, model outcomes and cost by task type, over an asyncpg pool."""

    def __init__(self, pool: Any) -> None:
        self._pool = pool

    @classmethod
    def of(cls, store: Any) -> PostgresLearningStore:
        """The learning store on the same pool as a ``PostgresStore``."""
        return cls(store.pool)

    async def save_expertise_if_version(
        self,
        project_id: int,
        domain: str,
        content: Mapping[str, Any],
        *,
        line_count: int,
        expected_version: int | None,
        validated: bool = False,
    ) -> ExpertiseFile | None:
        if expected_version is None:
            row = await self._pool.fetchrow(
                """
                INSERT INTO expertise_files (project_id, domain, content, line_count, validated_at)
                VALUES ($1, $2, $3, $4, CASE WHEN $5 THEN now() END)
                ON CONFLICT (project_id, domain) DO NOTHING
                RETURNING *
                """,
                project_id,
                domain,
                dict(content),
                line_count,
                validated,
            )
        else:
            # The version in the WHERE clause is the optimistic lock: a concurrent save moved
            # it on, so this UPDATE matches no row and the caller merges and retries.
            row = await self._pool.fetchrow(
                """
                UPDATE expertise_files
                SET content = $3, line_count = $4, version = version + 1,
                    validated_at = CASE WHEN $5 THEN now() ELSE validated_at END,
                    updated_at = now()
                WHERE project_id = $1 AND domain = $2 AND version = $6
                RETURNING *
                """,
                project_id,
                domain,
                dict(content),
                line_count,
                validated,
                expected_version,
            )
        return None if row is None else rows.expertise_file(row)

    async def record_model_outcome(
        self,
        project_id: int,
        *,
        model: str,
        success: bool,
        task_type: str | None = None,
        task_id: int | None = None,
        session_id: int | None = None,
        attempt: int = 1,
        cost_usd: Decimal | float = 0,
        reason: str | None = None,
    ) -> None:
        await self._pool.execute(
            """
            INSERT INTO model_outcomes (project_id, task_id, session_id, model, task_type,
                                        attempt, success, cost_usd, reason)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
            """,
            project_id,
            task_id,
            session_id,
            model,
            task_type,
            attempt,
            success,
            Decimal(str(cost_usd)),
            reason,
        )

    async def model_outcome_stats(self, project_id: int | None = None) -> list[OutcomeStats]:
        found = await self._pool.fetch(
            """
            SELECT model, task_type, count(*) AS attempts,
                   count(*) FILTER (WHERE success) AS successes,
                   coalesce(sum(cost_usd), 0) AS cost_usd
            FROM model_outcomes
            WHERE $1::integer IS NULL OR project_id = $1
            GROUP BY model, task_type
            ORDER BY model, task_type NULLS FIRST
            """,
            project_id,
        )
        return [
            OutcomeStats(
                model=r["model"],
                task_type=r["task_type"],
                attempts=int(r["attempts"]),
                successes=int(r["successes"]),
                cost_usd=Decimal(r["cost_usd"]),
            )
            for r in found
        ]

    async def cost_by_task_type(self, project_id: int) -> list[TaskTypeCost]:
        found = await self._pool.fetch(
            """
            SELECT t.task_type,
                   count(DISTINCT coalesce(c.session_id::text, 'row' || c.id)) AS sessions,
                   coalesce(sum(c.cost_usd), 0) AS cost_usd,
                   coalesce(sum(c.input_tokens), 0) AS input_tokens,
                   coalesce(sum(c.output_tokens), 0) AS output_tokens
            FROM agent_costs c
            LEFT JOIN tasks t ON t.id = c.task_id
            WHERE c.project_id = $1
            GROUP BY t.task_type
            ORDER BY cost_usd DESC, t.task_type NULLS LAST
            """,
            project_id,
        )
        return [
            TaskTypeCost(
                task_type=r["task_type"],
                sessions=int(r["sessions"]),
                cost_usd=Decimal(r["cost_usd"]),
                input_tokens=int(r["input_tokens"]),
                output_tokens=int(r["output_tokens"]),
            )
            for r in found
        ]


def _implements_the_port(store: PostgresLearningStore) -> LearningStore:
    return store  # mypy checks here that the adapter satisfies the LearningStore protocol
