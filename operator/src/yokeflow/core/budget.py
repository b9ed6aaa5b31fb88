"""One run's budget as a pure ledger: reserve before an agent starts, settle when it ends.

An agent may start only when ``spent + reserved + its estimate <= limit`` (:meth:`can_start`);
starting reserves the estimate, ending replaces the reservation with the real cost. So agents
running side by side cannot overspend together: the only way past the limit is an agent costing
more than it reserved, and the ledger keeps that excess (``overrun``). States: ``ok``;
``approaching`` once ``spent + reserved`` reaches ``approaching_fraction`` of the limit (model
choice then downgrades); ``exhausted`` once ``spent`` reaches the limit or the next estimate
does not fit (nothing more starts; running agents finish).

The ledger is immutable; ``yokeflow.services.costs.RunBudget`` holds the current one under a
lock. :func:`forecast` estimates the cost of the remaining tasks from their tiers and the
measured cost per session of each tier.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType

from yokeflow.core.pricing import ModelTier, PriceTable, TokenCounts, cost_of
from yokeflow.errors import BudgetExhaustedError

__all__ = [
    "TYPICAL_SESSION",
    "BudgetLedger",
    "BudgetState",
    "Forecast",
    "TierForecast",
    "estimate_session_cost",
    "forecast",
]

TYPICAL_SESSION = TokenCounts(input=60_000, output=6_000, cache_read=300_000, cache_creation=40_000)
"""The tokens a session is assumed to use before any has been measured (≈ $0.17 Haiku,
$0.51 Sonnet, $0.85 Opus at default prices)."""


class BudgetState(StrEnum):
    """Where a run's spending stands."""

    OK = "ok"
    APPROACHING = "approaching"
    EXHAUSTED = "exhausted"


@dataclass(frozen=True, slots=True)
class BudgetLedger:
    """The budget of one run: limit, money spent, and estimates reserved by running agents."""

    limit: Decimal | None
    """None: no limit (every agent may start; the state is always ``ok``)."""
    approaching_fraction: Decimal = Decimal("0.8")
    spent: Decimal = Decimal(0)
    reservations: Mapping[str, Decimal] = field(default_factory=lambda: MappingProxyType({}))
    overrun: Decimal = Decimal(0)
    """How much settled agents cost beyond what they reserved, summed."""

    @property
    def reserved(self) -> Decimal:
        return sum(self.reservations.values(), Decimal(0))

    @property
    def committed(self) -> Decimal:
        """Spent plus reserved."""
        return self.spent + self.reserved

    @property
    def remaining(self) -> Decimal | None:
        """What is left to reserve (never negative); None without a limit."""
        if self.limit is None:
            return None
        return max(Decimal(0), self.limit - self.committed)

    def can_start(self, estimate: Decimal) -> bool:
        """Whether an agent with this estimate fits next to what is spent and reserved."""
        return self.limit is None or self.committed + estimate <= self.limit

    def state(self, next_estimate: Decimal | None = None) -> BudgetState:
        """``exhausted`` when spent reached the limit or ``next_estimate`` no longer fits."""
        if self.limit is None:
            return BudgetState.OK
        if self.spent >= self.limit or (
            next_estimate is not None and not self.can_start(next_estimate)
        ):
            return BudgetState.EXHAUSTED
        if self.committed >= self.limit * self.approaching_fraction:
            return BudgetState.APPROACHING
        return BudgetState.OK

    def reserve(self, key: str, estimate: Decimal) -> BudgetLedger:
        """This ledger with ``estimate`` reserved for ``key``; refused when it does not fit."""
        if key in self.reservations:
            raise ValueError(f"{key!r} already holds a reservation")
        if estimate < 0:
            raise ValueError("an estimate cannot be negative")
        if not self.can_start(estimate):
            raise BudgetExhaustedError(
                f"budget ${self.limit} exhausted: ${self.spent:.4f} spent, "
                f"${self.reserved:.4f} reserved by running agents, ${estimate:.4f} more needed"
            )
        return replace(self, reservations=MappingProxyType({**self.reservations, key: estimate}))

    def settle(self, key: str, actual: Decimal) -> BudgetLedger:
        """This ledger with ``key``'s reservation replaced by what the agent really cost."""
        reservations = dict(self.reservations)
        estimate = reservations.pop(key, Decimal(0))
        return replace(
            self,
            spent=self.spent + actual,
            reservations=MappingProxyType(reservations),
            overrun=self.overrun + max(Decimal(0), actual - estimate),
        )

    def release(self, key: str) -> BudgetLedger:
        """This ledger without ``key``'s reservation (the agent never ran)."""
        reservations = dict(self.reservations)
        reservations.pop(key, None)
        return replace(self, reservations=MappingProxyType(reservations))


def estimate_session_cost(
    tier: ModelTier,
    measured: Mapping[ModelTier, tuple[int, Decimal]] | None = None,
    prices: PriceTable | None = None,
) -> Decimal:
    """What one session of ``tier`` is expected to cost: the measured mean, else a typical session."""
    sessions, total = (measured or {}).get(tier, (0, Decimal(0)))
    if sessions > 0:
        return total / sessions
    table = prices or PriceTable()
    return cost_of(TYPICAL_SESSION, table.model_id(tier), table)


@dataclass(frozen=True, slots=True)
class TierForecast:
    """The remaining tasks of one tier and what they are expected to cost."""

    tier: ModelTier
    tasks: int
    cost_per_task: Decimal
    measured: bool
    """True when ``cost_per_task`` comes from this project's sessions, not the typical session."""

    @property
    def total(self) -> Decimal:
        return self.cost_per_task * self.tasks


@dataclass(frozen=True, slots=True)
class Forecast:
    """The expected cost of the remaining tasks, by tier."""

    tiers: tuple[TierForecast, ...]

    @property
    def tasks(self) -> int:
        return sum(t.tasks for t in self.tiers)

    @property
    def total(self) -> Decimal:
        return sum((t.total for t in self.tiers), Decimal(0))


def forecast(
    remaining: Iterable[ModelTier],
    measured: Mapping[ModelTier, tuple[int, Decimal]] | None = None,
    prices: PriceTable | None = None,
) -> Forecast:
    """The remaining tasks (one tier each) priced at the measured cost per session of their tier."""
    counts: dict[ModelTier, int] = {}
    for tier in remaining:
        counts[tier] = counts.get(tier, 0) + 1
    measured = measured or {}
    return Forecast(
        tiers=tuple(
            TierForecast(
                tier=tier,
                tasks=counts[tier],
                cost_per_task=estimate_session_cost(tier, measured, prices),
                measured=measured.get(tier, (0, Decimal(0)))[0] > 0,
            )
            for tier in sorted(counts, key=lambda t: t.rank)
        )
    )
