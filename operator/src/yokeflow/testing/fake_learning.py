"""An in-memory :class:`~yokeflow.ports.learning.LearningStore` beside a :class:`FakeStore`.

It shares the fake store's ``expertise`` rows (so ``get_expertise`` and the conditional save see
the same versions, like the two PostgreSQL classes on one database) and reads its costs and
tasks for ``cost_by_task_type``. Model outcomes are kept in a list.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from yokeflow.core.model_choice import OutcomeStats
from yokeflow.core.records import ExpertiseFile
from yokeflow.ports.learning import LearningStore, TaskTypeCost
from yokeflow.testing.fake_store import FakeStore

__all__ = ["InMemoryLearningStore", "RecordedOutcome"]


@dataclass(frozen=True, slots=True)
class RecordedOutcome:
    """One row of ``model_outcomes``."""

    project_id: int
    model: str
    success: bool
    task_type: str | None
    task_id: int | None
    session_id: int | None
    attempt: int
    cost_usd: Decimal
    reason: str | None


class InMemoryLearningStore:
    """The learning store over a fake store's dicts."""

    def __init__(self, store: FakeStore) -> None:
        self._store = store
        self.outcomes: list[RecordedOutcome] = []

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
        current = await self._store.get_expertise(project_id, domain)
        if (None if current is None else current.version) != expected_version:
            return None
        if current is None:
            return await self._store.save_expertise(
                project_id, domain, content, line_count=line_count, validated=validated
            )
        now = datetime.now(UTC)
        saved = replace(
            current,
            content=dict(content),
            version=current.version + 1,
            line_count=line_count,
            validated_at=now if validated else current.validated_at,
            updated_at=now,
        )
        self._store.expertise[saved.id] = saved
        return saved

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
        self.outcomes.append(
            RecordedOutcome(
                project_id,
                model,
                success,
                task_type,
                task_id,
                session_id,
                attempt,
                Decimal(str(cost_usd)),
                reason,
            )
        )

    async def model_outcome_stats(self, project_id: int | None = None) -> list[OutcomeStats]:
        groups: dict[tuple[str, str | None], list[RecordedOutcome]] = {}
        for o in self.outcomes:
            if project_id is None or o.project_id == project_id:
                groups.setdefault((o.model, o.task_type), []).append(o)
        return [
            OutcomeStats(
                model=model,
                task_type=task_type,
                attempts=len(rows),
                successes=sum(1 for r in rows if r.success),
                cost_usd=sum((r.cost_usd for r in rows), Decimal(0)),
            )
            for (model, task_type), rows in sorted(
                groups.items(), key=lambda kv: (kv[0][0], kv[0][1] is not None, kv[0][1] or "")
            )
        ]

    async def cost_by_task_type(self, project_id: int) -> list[TaskTypeCost]:
        groups: dict[str | None, list[Any]] = {}
        for c in self._store.costs.values():
            if c.project_id != project_id:
                continue
            task = self._store.tasks.get(c.task_id) if c.task_id is not None else None
            groups.setdefault(task.task_type if task else None, []).append(c)
        out = [
            TaskTypeCost(
                task_type=task_type,
                sessions=len(
                    {c.session_id if c.session_id is not None else f"row{c.id}" for c in rows}
                ),
                cost_usd=sum((c.cost_usd for c in rows), Decimal(0)),
                input_tokens=sum(c.input_tokens for c in rows),
                output_tokens=sum(c.output_tokens for c in rows),
            )
            for task_type, rows in groups.items()
        ]
        return sorted(out, key=lambda t: (-t.cost_usd, t.task_type is None, t.task_type or ""))


def _implements_the_port(store: InMemoryLearningStore) -> LearningStore:
    return store  # mypy checks here that the fake satisfies the LearningStore protocol
