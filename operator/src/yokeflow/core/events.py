"""Progress events of a run: what the CLI shows now, and the API's WebSocket and metrics later.

Plain frozen records with a ``kind`` (``batch_start``, ``batch_complete``, ``task_start``,
``task_complete``, ``cost_update``, ``agent_status``, plus ``merge`` and ``run_finished``) and a
JSON form. They carry task keys for people to read; metrics must not use keys as labels.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

__all__ = [
    "AgentStatus",
    "BatchComplete",
    "BatchStart",
    "CostUpdate",
    "Event",
    "MergeDone",
    "RunFinished",
    "TaskComplete",
    "TaskStart",
    "to_json",
]


@dataclass(frozen=True, slots=True)
class BatchStart:
    """Tasks launched together in one scheduling round."""

    batch: int
    tasks: tuple[str, ...]
    at: float
    kind: Literal["batch_start"] = field(default="batch_start", init=False)


@dataclass(frozen=True, slots=True)
class BatchComplete:
    """Every task of a batch has finished (merged, failed or blocked)."""

    batch: int
    merged: int
    failed: int
    at: float
    kind: Literal["batch_complete"] = field(default="batch_complete", init=False)


@dataclass(frozen=True, slots=True)
class TaskStart:
    task: str
    epic: str
    attempt: int
    model: str
    worktree: str
    at: float
    kind: Literal["task_start"] = field(default="task_start", init=False)


@dataclass(frozen=True, slots=True)
class TaskComplete:
    """An agent session ended (``success`` says how); merging follows separately."""

    task: str
    success: bool
    attempt: int
    duration_seconds: float
    cost_usd: float
    error: str | None
    at: float
    kind: Literal["task_complete"] = field(default="task_complete", init=False)


@dataclass(frozen=True, slots=True)
class MergeDone:
    """A task's merge attempt ended: ``merged``, ``already_merged``, ``conflict``, ``verification_failed``."""

    task: str
    status: str
    commit: str | None
    conflicts: tuple[str, ...]
    at: float
    kind: Literal["merge"] = field(default="merge", init=False)


@dataclass(frozen=True, slots=True)
class CostUpdate:
    """The run's spending after a session: total, the budget left to reserve (limit minus spent
    and reserved by running agents), and the limit (both None: no limit)."""

    task: str
    model: str
    cost_usd: float
    total_usd: float
    remaining_usd: float | None
    at: float
    limit_usd: float | None = None
    kind: Literal["cost_update"] = field(default="cost_update", init=False)


@dataclass(frozen=True, slots=True)
class AgentStatus:
    """The agents running now, by task key, with their models."""

    running: tuple[tuple[str, str], ...]
    merged: int
    total: int
    at: float
    kind: Literal["agent_status"] = field(default="agent_status", init=False)


@dataclass(frozen=True, slots=True)
class RunFinished:
    outcome: str
    reason: str
    at: float
    kind: Literal["run_finished"] = field(default="run_finished", init=False)


Event = (
    BatchStart
    | BatchComplete
    | TaskStart
    | TaskComplete
    | MergeDone
    | CostUpdate
    | AgentStatus
    | RunFinished
)


def to_json(event: Event) -> dict[str, Any]:
    """The event as a JSON-ready mapping (tuples become lists)."""
    return asdict(event)
