"""Agent costs in PostgreSQL: every token and dollar, and sums by model and operation.

A session's cost is recorded once: a second report of the same session (a runner repeating a
report whose answer it lost, the operator recording what a Job's termination message names)
changes nothing and answers the row that stands (the unique index of migration 0060).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from yokeflow.adapters.postgres import rows
from yokeflow.core.records import AgentCost, CostSummary

__all__ = ["CostQueries"]

_SUMS = """
count(*) AS calls,
coalesce(sum(input_tokens), 0) AS input_tokens,
coalesce(sum(output_tokens), 0) AS output_tokens,
coalesce(sum(cache_read_tokens), 0) AS cache_read_tokens,
coalesce(sum(cache_creation_tokens), 0) AS cache_creation_tokens,
coalesce(sum(cost_usd), 0) AS cost_usd
"""


class CostQueries:
    """The ``agent_costs`` part of the store."""

    _pool: Any

    async def record_agent_cost(
        self,
        project_id: int,
        *,
        model: str,
        cost_usd: Decimal | float,
        session_id: int | None = None,
        task_id: int | None = None,
        operation: str = "task",
        input_tokens: int = 0,
        output_tokens: int = 0,
        cache_read_tokens: int = 0,
        cache_creation_tokens: int = 0,
    ) -> AgentCost:
        """Record one spend; for a session whose cost is recorded already, nothing is written
        and the recorded row is returned (compare its ``id``)."""
        row = await self._pool.fetchrow(
            """
            INSERT INTO agent_costs (project_id, session_id, task_id, model, operation,
                                     input_tokens, output_tokens, cache_read_tokens,
                                     cache_creation_tokens, cost_usd)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
            ON CONFLICT (session_id) WHERE session_id IS NOT NULL DO NOTHING
            RETURNING *
            """,
            project_id,
            session_id,
            task_id,
            model,
            operation,
            input_tokens,
            output_tokens,
            cache_read_tokens,
            cache_creation_tokens,
            # str() keeps a float's shortest repr instead of its binary expansion
            Decimal(str(cost_usd)),
        )
        if row is None:  # the session's cost stands already
            row = await self._pool.fetchrow(
                "SELECT * FROM agent_costs WHERE session_id = $1", session_id
            )
        return rows.agent_cost(row)

    async def list_agent_costs(self, project_id: int) -> list[AgentCost]:
        found = await self._pool.fetch(
            "SELECT * FROM agent_costs WHERE project_id = $1 ORDER BY recorded_at, id", project_id
        )
        return [rows.agent_cost(r) for r in found]

    async def get_project_costs(self, project_id: int) -> list[CostSummary]:
        found = await self._pool.fetch(
            "SELECT * FROM v_project_costs WHERE project_id = $1 ORDER BY model, operation",
            project_id,
        )
        return [rows.cost_summary(r) for r in found]

    async def get_cost_by_model(self, project_id: int) -> list[CostSummary]:
        found = await self._pool.fetch(
            f"SELECT model, {_SUMS} FROM agent_costs WHERE project_id = $1"
            " GROUP BY model ORDER BY model",
            project_id,
        )
        return [rows.cost_summary(r) for r in found]

    async def get_cost_by_task(self, project_id: int) -> dict[int, Decimal]:
        found = await self._pool.fetch(
            "SELECT task_id, sum(cost_usd) AS cost_usd FROM agent_costs"
            " WHERE project_id = $1 AND task_id IS NOT NULL GROUP BY task_id",
            project_id,
        )
        return {int(r["task_id"]): Decimal(r["cost_usd"]) for r in found}

    async def get_project_cost_total(self, project_id: int) -> Decimal:
        total = await self._pool.fetchval(
            "SELECT coalesce(sum(cost_usd), 0) FROM agent_costs WHERE project_id = $1", project_id
        )
        return Decimal(total)
