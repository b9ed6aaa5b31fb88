"""Which model runs a task: a pin, overrides, complexity, history, escalation and the budget, in that order.

0. A model pinned on the task in the plan (a tier name or a model id) runs every attempt, with
   optimization on or off, on retries (no escalation) and whatever the budget's state (an
   exhausted budget launches nothing anyway).
1. With optimization off, every task runs on the default model.
2. An override by task type, else by epic priority, names a tier or a model id.
3. Otherwise the complexity score's tier; then history adjusts it: a tier whose success rate
   for this task type is below ``low_success`` (over ``min_samples`` outcomes) moves up one, and
   when the next cheaper tier succeeds at least ``high_success`` of the time it moves down one.
4. A retry after a failed attempt runs at least one tier above the failed attempt's.
5. When the budget is approaching its limit the choice moves down one tier (not for overrides or
   escalations); when it is exhausted the cheapest tier is named (the engine launches nothing).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from yokeflow.core.budget import BudgetState
from yokeflow.core.complexity import Complexity
from yokeflow.core.pricing import ModelTier, PriceTable

__all__ = [
    "ModelPolicy",
    "ModelRecommendation",
    "OutcomeStats",
    "Source",
    "choose_model",
    "success_rates",
]

Source = Literal["pinned", "default", "override", "complexity", "history", "escalation", "budget"]


@dataclass(frozen=True, slots=True)
class OutcomeStats:
    """How one model did on one task type (``None``: tasks without a type)."""

    model: str
    task_type: str | None
    attempts: int
    successes: int
    cost_usd: Decimal = Decimal(0)

    @property
    def success_rate(self) -> float:
        return self.successes / self.attempts if self.attempts else 0.0


@dataclass(frozen=True, slots=True)
class ModelPolicy:
    """The configuration model choice follows (built from ``Settings.cost``)."""

    prices: PriceTable = field(default_factory=PriceTable)
    optimization_enabled: bool = True
    default_model: str = "claude-sonnet-4-5"
    task_type_overrides: Mapping[str, str] = field(default_factory=dict)
    """Task type → tier name (``haiku``…) or model id."""
    priority_overrides: Mapping[int, str] = field(default_factory=dict)
    """Epic priority → tier name or model id."""
    min_samples: int = 3
    low_success: float = 0.5
    high_success: float = 0.9


@dataclass(frozen=True, slots=True)
class ModelRecommendation:
    """The chosen model, its tier, why, and which rule decided."""

    model: str
    tier: ModelTier
    reason: str
    source: Source
    complexity: Complexity | None = None


def success_rates(
    history: Iterable[OutcomeStats], prices: PriceTable, task_type: str | None
) -> dict[ModelTier, tuple[int, int]]:
    """(attempts, successes) per tier for one task type, summed over that tier's model ids."""
    out: dict[ModelTier, tuple[int, int]] = {}
    for stats in history:
        if stats.task_type != task_type:
            continue
        tier = prices.tier_of(stats.model)
        attempts, successes = out.get(tier, (0, 0))
        out[tier] = (attempts + stats.attempts, successes + stats.successes)
    return out


def _resolve(value: str, prices: PriceTable) -> tuple[str, ModelTier]:
    try:
        tier = ModelTier(value.lower())
    except ValueError:
        return value, prices.tier_of(value)
    return prices.model_id(tier), tier


def _history_adjust(
    tier: ModelTier,
    rates: Mapping[ModelTier, tuple[int, int]],
    policy: ModelPolicy,
) -> tuple[ModelTier, str | None]:
    attempts, successes = rates.get(tier, (0, 0))
    if (
        attempts >= policy.min_samples
        and successes / attempts < policy.low_success
        and tier is not ModelTier.OPUS
    ):
        return tier.up(), f"{tier.value} succeeded {successes}/{attempts} times on this task type"
    cheaper = tier.down()
    c_attempts, c_successes = rates.get(cheaper, (0, 0))
    if (
        cheaper is not tier
        and c_attempts >= policy.min_samples
        and c_successes / c_attempts >= policy.high_success
    ):
        return (
            cheaper,
            f"{cheaper.value} succeeded {c_successes}/{c_attempts} times on this task type",
        )
    return tier, None


def choose_model(
    policy: ModelPolicy,
    complexity: Complexity,
    *,
    task_type: str | None = None,
    epic_priority: int | None = None,
    history: Iterable[OutcomeStats] = (),
    attempt: int = 1,
    previous_model: str | None = None,
    budget: BudgetState = BudgetState.OK,
    pinned_model: str | None = None,
) -> ModelRecommendation:
    """The model for one attempt of a task (see the module docstring for the rules)."""
    prices = policy.prices
    if pinned_model is not None:
        model, tier = _resolve(pinned_model, prices)
        return ModelRecommendation(
            model, tier, f"pinned on the task in the plan: {pinned_model}", "pinned", complexity
        )
    if not policy.optimization_enabled:
        return ModelRecommendation(
            policy.default_model,
            prices.tier_of(policy.default_model),
            "optimization is off: the default model",
            "default",
            complexity,
        )
    override = None
    if task_type is not None and task_type in policy.task_type_overrides:
        override = (policy.task_type_overrides[task_type], f"task type {task_type!r}")
    elif epic_priority is not None and epic_priority in policy.priority_overrides:
        override = (policy.priority_overrides[epic_priority], f"epic priority {epic_priority}")

    source: Source
    explicit: str | None = None
    if override is not None:
        explicit, tier = _resolve(override[0], prices)
        source, reason = "override", f"override for {override[1]}"
    else:
        tier, source = complexity.tier, "complexity"
        reason = f"complexity {complexity.overall:.2f}"
        adjusted, why = _history_adjust(tier, success_rates(history, prices, task_type), policy)
        if why is not None and adjusted is not tier:
            tier, source = adjusted, "history"
            reason += f", moved to {adjusted.value}: {why}"

    if attempt > 1 and previous_model is not None:
        failed = prices.tier_of(previous_model)
        if tier.rank <= failed.rank and failed is not ModelTier.OPUS:
            tier, explicit, source = failed.up(), None, "escalation"
            reason += f"; attempt {attempt} escalates from {failed.value} after a failed attempt"

    if budget is BudgetState.EXHAUSTED:
        tier, explicit, source = ModelTier.HAIKU, None, "budget"
        reason += "; budget exhausted: cheapest tier"
    elif (
        budget is BudgetState.APPROACHING
        and source not in ("override", "escalation")
        and tier is not ModelTier.HAIKU
    ):
        tier, source = tier.down(), "budget"
        reason += f"; budget approaching its limit: down to {tier.value}"

    model = explicit if explicit is not None else prices.model_id(tier)
    return ModelRecommendation(model, tier, reason, source, complexity)
