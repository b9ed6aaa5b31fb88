"""Model selection, the run's shared budget, and cost reports: the cost use cases over the ports.

- :class:`ModelSelector` chooses a model for each attempt of a task (complexity, overrides,
  history of outcomes, escalation, budget state) and records each attempt's outcome.
- :class:`RunBudget` is the one budget of a run, shared by all its concurrent agents: reserve an
  estimate before an agent starts, settle with its real cost when it ends.
- :class:`CostEstimator` says what a session of a tier is expected to cost (measured on this
  project, else a typical session at list prices).
- :func:`cost_report` sums spend by model and task type and forecasts the remaining tasks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from yokeflow.core.budget import (
    BudgetLedger,
    BudgetState,
    Forecast,
    estimate_session_cost,
    forecast,
)
from yokeflow.core.complexity import Complexity, analyze_complexity
from yokeflow.core.model_choice import (
    ModelPolicy,
    ModelRecommendation,
    OutcomeStats,
    choose_model,
)
from yokeflow.core.pricing import ModelTier, PriceTable
from yokeflow.core.records import CostSummary, TaskStatus
from yokeflow.core.task_brief import TaskBrief, brief_of
from yokeflow.errors import BudgetExhaustedError
from yokeflow.ports.learning import LearningStore, TaskTypeCost
from yokeflow.ports.store import Store
from yokeflow.settings import CostSettings

__all__ = [
    "CostEstimator",
    "CostReport",
    "ModelSelector",
    "RunBudget",
    "cost_report",
    "model_policy",
    "price_table",
]

REMAINING = (TaskStatus.PENDING, TaskStatus.RUNNING, TaskStatus.FAILED, TaskStatus.BLOCKED)
"""Task statuses whose cost is still ahead (a failed task is retried or replanned)."""


def price_table(settings: CostSettings) -> PriceTable:
    """The price table of ``cost.model_ids``, ``cost.pricing`` and the cache multipliers."""
    return PriceTable.from_config(
        settings.model_ids,
        settings.pricing,
        settings.cache_write_multiplier,
        settings.cache_read_multiplier,
    )


def model_policy(settings: CostSettings) -> ModelPolicy:
    """The model-choice policy of the ``cost`` settings."""
    return ModelPolicy(
        prices=price_table(settings),
        optimization_enabled=settings.optimization_enabled,
        default_model=settings.default_model,
        task_type_overrides=dict(settings.model_overrides),
        priority_overrides={int(k): v for k, v in settings.priority_overrides.items()},
    )


class ModelSelector:
    """Chooses the model of each attempt and records how it went (``model_outcomes``)."""

    def __init__(
        self,
        learning: LearningStore,
        settings: CostSettings | None = None,
        *,
        history_project: int | None = None,
    ) -> None:
        """``history_project`` limits the success rates to one project (default: all projects)."""
        self._learning = learning
        self._settings = settings or CostSettings()
        self._policy = model_policy(self._settings)
        self._history_project = history_project

    @property
    def prices(self) -> PriceTable:
        return self._policy.prices

    def complexity(self, task: TaskBrief) -> Complexity:
        return analyze_complexity(
            task, haiku_below=self._settings.haiku_below, opus_from=self._settings.opus_from
        )

    async def history(self) -> list[OutcomeStats]:
        return await self._learning.model_outcome_stats(self._history_project)

    async def choose(
        self,
        task: TaskBrief,
        *,
        attempt: int = 1,
        previous_model: str | None = None,
        budget: BudgetState = BudgetState.OK,
        history: list[OutcomeStats] | None = None,
    ) -> ModelRecommendation:
        """The model for this attempt of ``task`` (``previous_model``: the failed attempt's)."""
        return choose_model(
            self._policy,
            self.complexity(task),
            task_type=task.task_type,
            epic_priority=task.epic_priority,
            history=await self.history() if history is None else history,
            attempt=attempt,
            previous_model=previous_model,
            budget=budget,
            pinned_model=task.pinned_model,
        )

    async def record_outcome(
        self,
        project_id: int,
        task: TaskBrief,
        *,
        model: str,
        success: bool,
        task_id: int | None = None,
        session_id: int | None = None,
        attempt: int = 1,
        cost_usd: Decimal | float = 0,
        reason: str | None = None,
    ) -> None:
        """Remember one attempt's outcome; later choices read the success rates."""
        await self._learning.record_model_outcome(
            project_id,
            model=model,
            success=success,
            task_type=task.task_type,
            task_id=task_id,
            session_id=session_id,
            attempt=attempt,
            cost_usd=cost_usd,
            reason=reason,
        )


class RunBudget:
    """The one budget of a run, shared by its concurrent agents (see :mod:`yokeflow.core.budget`)."""

    def __init__(
        self, limit_usd: Decimal | float | None, approaching_fraction: float | Decimal = 0.8
    ) -> None:
        limit = None if limit_usd is None else Decimal(str(limit_usd))
        self._ledger = BudgetLedger(
            limit=limit, approaching_fraction=Decimal(str(approaching_fraction))
        )
        # The ledger's check-and-reserve must be one step for all agents of the run.
        self._lock = asyncio.Lock()

    @classmethod
    def from_settings(cls, settings: CostSettings) -> RunBudget:
        return cls(settings.budget_limit_usd, settings.approaching_fraction)

    @property
    def ledger(self) -> BudgetLedger:
        """The current ledger (immutable: a snapshot)."""
        return self._ledger

    def state(self, next_estimate: Decimal | None = None) -> BudgetState:
        return self._ledger.state(next_estimate)

    def can_start(self, estimate: Decimal) -> bool:
        return self._ledger.can_start(estimate)

    async def try_reserve(self, key: str, estimate: Decimal) -> bool:
        """Reserve ``estimate`` for ``key`` if it fits; False (nothing reserved) otherwise."""
        async with self._lock:
            if not self._ledger.can_start(estimate):
                return False
            self._ledger = self._ledger.reserve(key, estimate)
            return True

    async def reserve(self, key: str, estimate: Decimal) -> None:
        """Reserve or raise :class:`~yokeflow.errors.BudgetExhaustedError`."""
        async with self._lock:
            self._ledger = self._ledger.reserve(key, estimate)

    async def settle(self, key: str, actual: Decimal | float) -> None:
        """Replace ``key``'s reservation with what its agent really cost."""
        async with self._lock:
            self._ledger = self._ledger.settle(key, Decimal(str(actual)))

    async def observe_spend(self, spent: Decimal) -> None:
        """Take ``spent`` as what the run has spent: the store's record (``agent_costs``) is the
        one source of truth — it includes planning, resolutions, and sessions of a killed run,
        so a resumed run never gets its whole limit back."""
        async with self._lock:
            self._ledger = replace(self._ledger, spent=spent)

    async def set_limit(self, limit_usd: Decimal | float | None) -> None:
        """A new limit (a ProjectRun's ``budget.limitUsd`` edited); spend and reservations stay."""
        limit = None if limit_usd is None else Decimal(str(limit_usd))
        async with self._lock:
            self._ledger = replace(self._ledger, limit=limit)

    async def release(self, key: str) -> None:
        """Drop ``key``'s reservation (its agent never ran)."""
        async with self._lock:
            self._ledger = self._ledger.release(key)

    def exhausted_error(self, next_estimate: Decimal | None = None) -> BudgetExhaustedError:
        """The error a run ends with when the budget stopped it (a clear, complete message)."""
        ledger = self._ledger
        needed = "" if next_estimate is None else f"; the next task needs ~${next_estimate:.4f}"
        return BudgetExhaustedError(
            f"budget exhausted: ${ledger.spent:.4f} spent of ${ledger.limit or 0:.2f}"
            f" (overrun by running agents ${ledger.overrun:.4f}){needed};"
            " no more agents were started"
        )


class CostEstimator:
    """What one session of a tier is expected to cost on a project."""

    def __init__(self, store: Store, prices: PriceTable) -> None:
        self._store = store
        self._prices = prices

    async def _sessions(self, project_id: int) -> dict[tuple[ModelTier, str], Decimal]:
        """The cost of each task session of the project, with its tier (rows summed per session)."""
        sessions: dict[tuple[ModelTier, str], Decimal] = {}
        for row in await self._store.list_agent_costs(project_id):
            if row.operation != "task":
                continue
            key = (
                self._prices.tier_of(row.model),
                f"s{row.session_id}" if row.session_id is not None else f"r{row.id}",
            )
            sessions[key] = sessions.get(key, Decimal(0)) + row.cost_usd
        return sessions

    async def measured(self, project_id: int) -> dict[ModelTier, tuple[int, Decimal]]:
        """(sessions, dollars) per tier, from the project's ``agent_costs`` rows for tasks."""
        out: dict[ModelTier, tuple[int, Decimal]] = {}
        for (tier, _), dollars in (await self._sessions(project_id)).items():
            count, total = out.get(tier, (0, Decimal(0)))
            out[tier] = (count + 1, total + dollars)
        return out

    async def highest(self, project_id: int) -> dict[ModelTier, Decimal]:
        """The most expensive task session of each tier so far."""
        out: dict[ModelTier, Decimal] = {}
        for (tier, _), dollars in (await self._sessions(project_id)).items():
            out[tier] = max(out.get(tier, Decimal(0)), dollars)
        return out

    async def expected(self, project_id: int, model: str) -> Decimal:
        """The mean cost of one session on ``model``'s tier (what forecasts use)."""
        tier = self._prices.tier_of(model)
        return estimate_session_cost(tier, await self.measured(project_id), self._prices)

    async def estimate(self, project_id: int, model: str) -> Decimal:
        """What to reserve before a session on ``model`` starts.

        The most expensive session of its tier seen on this project (so a reservation covers
        every session like the ones before it), else a typical session at list prices.
        """
        tier = self._prices.tier_of(model)
        mean = await self.expected(project_id, model)
        return max(mean, (await self.highest(project_id)).get(tier, Decimal(0)))


@dataclass(frozen=True, slots=True)
class CostReport:
    """A project's spend by model and task type, and the forecast of what is left."""

    project_id: int
    total_usd: Decimal
    by_model: tuple[CostSummary, ...]
    by_task_type: tuple[TaskTypeCost, ...]
    outcomes: tuple[OutcomeStats, ...]
    forecast: Forecast

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (dollars as strings, exact)."""
        return {
            "project_id": self.project_id,
            "total_usd": str(self.total_usd),
            "by_model": [
                {
                    "model": s.model,
                    "sessions": s.calls,
                    "input_tokens": s.input_tokens,
                    "output_tokens": s.output_tokens,
                    "cache_read_tokens": s.cache_read_tokens,
                    "cache_creation_tokens": s.cache_creation_tokens,
                    "cost_usd": str(s.cost_usd),
                }
                for s in self.by_model
            ],
            "by_task_type": [
                {
                    "task_type": t.task_type,
                    "sessions": t.sessions,
                    "cost_usd": str(t.cost_usd),
                }
                for t in self.by_task_type
            ],
            "success_rates": [
                {
                    "model": o.model,
                    "task_type": o.task_type,
                    "attempts": o.attempts,
                    "successes": o.successes,
                    "success_rate": round(o.success_rate, 4),
                }
                for o in self.outcomes
            ],
            "forecast": {
                "remaining_tasks": self.forecast.tasks,
                "total_usd": str(self.forecast.total.quantize(Decimal("0.0001"))),
                "by_tier": [
                    {
                        "tier": t.tier.value,
                        "tasks": t.tasks,
                        "cost_per_task_usd": str(t.cost_per_task.quantize(Decimal("0.0001"))),
                        "measured": t.measured,
                        "total_usd": str(t.total.quantize(Decimal("0.0001"))),
                    }
                    for t in self.forecast.tiers
                ],
            },
        }


async def cost_report(
    store: Store,
    learning: LearningStore,
    project_id: int,
    settings: CostSettings | None = None,
) -> CostReport:
    """Spend so far and the forecast of the remaining tasks (each at the tier it would get now)."""
    settings = settings or CostSettings()
    selector = ModelSelector(learning, settings)
    estimator = CostEstimator(store, selector.prices)
    history = await selector.history()
    epics = {e.id: e for e in await store.list_epics(project_id)}
    tiers: list[ModelTier] = []
    for task in await store.list_tasks(project_id):
        if task.status not in REMAINING:
            continue
        brief = brief_of(task, epics.get(task.epic_id))
        rec = await selector.choose(brief, history=history)
        tiers.append(rec.tier)
    measured: Mapping[ModelTier, tuple[int, Decimal]] = await estimator.measured(project_id)
    return CostReport(
        project_id=project_id,
        total_usd=await store.get_project_cost_total(project_id),
        by_model=tuple(await store.get_cost_by_model(project_id)),
        by_task_type=tuple(await learning.cost_by_task_type(project_id)),
        outcomes=tuple(o for o in history),
        forecast=forecast(tiers, measured, selector.prices),
    )
