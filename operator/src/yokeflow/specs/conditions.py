"""Kubernetes-style conditions: setting one keeps its transition time unless its status changed.

Pure: the time comes in as an argument.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from yokeflow.api.v1alpha1 import Condition
from yokeflow.api.v1alpha1.meta import ConditionStatus

__all__ = ["condition", "set_condition"]


def condition(conditions: Sequence[Condition], kind: str) -> Condition | None:
    """The condition of type ``kind``, if set."""
    return next((c for c in conditions if c.type == kind), None)


def set_condition(
    conditions: Sequence[Condition],
    kind: str,
    status: ConditionStatus,
    reason: str,
    message: str,
    now: datetime,
    generation: int | None,
) -> list[Condition]:
    """``conditions`` with ``kind`` set (added, or replaced in place)."""
    previous = condition(conditions, kind)
    since = previous.last_transition_time if previous and previous.status == status else now
    new = Condition(
        type=kind,
        status=status,
        reason=reason,
        message=message,
        last_transition_time=since,
        observed_generation=generation,
    )
    if previous is None:
        return [*conditions, new]
    return [new if c.type == kind else c for c in conditions]
