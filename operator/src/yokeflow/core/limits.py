"""What a run may do: its policy knobs (:class:`Limits`) and what it may still spend (:class:`BudgetView`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["BudgetView", "Limits"]


@dataclass(frozen=True, slots=True)
class Limits:
    """The run's policy knobs."""

    max_concurrency: int = 3
    schedule: Literal["eager", "batches"] = "eager"
    max_attempts: int = 2
    retry_backoff: float = 5.0
    """Seconds before the first retry; doubled on every further one."""
    escalate_on_retry: bool = True
    """Retry a failed task on a stronger model."""
    fail_fast: bool = False
    """Stop launching new tasks after a task fails for good."""
    hold_for_merges: bool = True
    """Eager: a slot waits for a landing merge its best candidate needs. Right when a merge
    takes seconds; off when every merge runs a verification command (minutes)."""
    cancelled: bool = False


@dataclass(frozen=True, slots=True)
class BudgetView:
    """What the run may still spend: ``remaining_usd`` after reservations, None for no limit."""

    remaining_usd: float | None = None
    estimates: Mapping[str, float] = field(default_factory=dict)
    """Each task's estimated cost, reserved when it starts."""

    def estimate(self, key: str) -> float:
        return self.estimates.get(key, 0.0)
