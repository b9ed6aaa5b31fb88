"""The actions :func:`yokeflow.core.schedule.decide` returns, for the caller to carry out.

Start a task, merge one (or a batch), mark a task blocked, wait until a retry is due, or finish
the run with an :data:`Outcome` — :func:`finish` says which, from where every task stands.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from yokeflow.core.limits import Limits
from yokeflow.core.task_run import TaskRun, TaskState, terminal_failure

__all__ = [
    "Action",
    "Finish",
    "MarkBlocked",
    "MergeBatch",
    "MergeTask",
    "Outcome",
    "StartTask",
    "WaitUntil",
    "finish",
]

Outcome = Literal["succeeded", "failed", "cancelled", "budget_exhausted"]


@dataclass(frozen=True, slots=True)
class StartTask:
    key: str
    attempt: int
    """1 for the first run."""
    escalate: bool = False
    """A retry that should use a stronger model."""


@dataclass(frozen=True, slots=True)
class MergeTask:
    key: str


@dataclass(frozen=True, slots=True)
class MergeBatch:
    keys: tuple[str, ...]
    batch: int
    """0-based Kahn level."""


@dataclass(frozen=True, slots=True)
class MarkBlocked:
    key: str
    because: str
    """The failed (or conflicted) dependency that blocks it."""


@dataclass(frozen=True, slots=True)
class WaitUntil:
    """Nothing to do before ``time`` (a retry's backoff), unless something else changes."""

    time: float


@dataclass(frozen=True, slots=True)
class Finish:
    outcome: Outcome
    reason: str


Action = StartTask | MergeTask | MergeBatch | MarkBlocked | WaitUntil | Finish


def finish(run: Mapping[str, TaskRun], limits: Limits, budget_stopped: bool) -> Finish:
    """How a run with nothing left to do ends, and why, in one sentence."""
    counts: dict[TaskState, int] = {}
    for r in run.values():
        counts[r.state] = counts.get(r.state, 0) + 1
    merged = counts.get(TaskState.MERGED, 0)
    total = len(run)
    if merged == total:
        return Finish("succeeded", f"all {total} tasks merged")
    if limits.cancelled:
        return Finish("cancelled", f"cancelled with {merged}/{total} tasks merged")
    if budget_stopped:
        return Finish("budget_exhausted", f"budget exhausted with {merged}/{total} tasks merged")
    failed = sum(1 for r in run.values() if terminal_failure(r, limits))
    blocked = counts.get(TaskState.BLOCKED, 0)
    stopped = total - merged - failed - blocked
    detail = f"{failed} failed, {blocked} blocked" + (
        f", {stopped} not started (fail-fast)" if stopped else ""
    )
    return Finish("failed", f"{merged}/{total} tasks merged; {detail}")
