"""The learning store: what expertise and model choice need beyond :class:`~yokeflow.ports.store.Store`.

A conditional expertise save (so concurrent sessions merge instead of overwriting each other),
model outcomes (success rates per model and task type, across projects) and spend by task type.
``yokeflow.adapters.postgres.PostgresLearningStore`` implements it on the same database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from yokeflow.core.model_choice import OutcomeStats
from yokeflow.core.records import ExpertiseFile

__all__ = ["LearningStore", "TaskTypeCost"]


@dataclass(frozen=True, slots=True)
class TaskTypeCost:
    """Spend of one project on one task type (``None``: tasks without a type, or no task)."""

    task_type: str | None
    sessions: int
    """Distinct sessions (rows without a session count one each)."""
    cost_usd: Decimal
    input_tokens: int = 0
    output_tokens: int = 0


class LearningStore(Protocol):
    """Versioned expertise saves, model outcomes, and cost by task type."""

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
        """Save only when the stored version is still ``expected_version`` (None: no row yet).

        Returns the saved file (version + 1), or None when another writer saved first — the
        caller then reloads, merges and tries again.
        """
        ...

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
        """Remember how one attempt of a task went on ``model``."""
        ...

    async def model_outcome_stats(self, project_id: int | None = None) -> list[OutcomeStats]:
        """Attempts, successes and cost per model and task type (all projects when None)."""
        ...

    async def cost_by_task_type(self, project_id: int) -> list[TaskTypeCost]:
        """The project's spend grouped by the type of the task it was for."""
        ...
