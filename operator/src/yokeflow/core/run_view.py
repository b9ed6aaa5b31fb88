"""A run's tasks as the store tells them: what ``yokeflow status`` and the end-of-run report show.

Each task's state is its status joined with its worktree's (the same join the executor observes
a run with): a done task whose branch merged is *merged*, one whose merge conflicted is
*conflict*, one whose merged result failed verification is *failed*. With it come the task's
attempts, the model of its last attempt (and the model the plan pins on it), what its sessions cost (``agent_costs``, the one record
of spend) and how long they ran, its branch, and the reason it failed or is blocked.

Pure: records in, values out (``now`` is passed in for the running time of live sessions).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from yokeflow.core.records import AgentCost, Session, Task, TaskStatus
from yokeflow.core.task_run import TaskState
from yokeflow.core.worktree import WorktreeRecord, WorktreeStatus

__all__ = ["COUNTED_STATES", "TaskLine", "count_states", "task_lines", "task_state"]

COUNTED_STATES = (
    TaskState.MERGED,
    TaskState.DONE,
    TaskState.RUNNING,
    TaskState.PENDING,
    TaskState.CONFLICT,
    TaskState.FAILED,
    TaskState.BLOCKED,
    TaskState.CANCELLED,
)
"""The states ``status`` counts, in the order it shows them."""


@dataclass(frozen=True, slots=True)
class TaskLine:
    """One task of a run as a person reads it."""

    key: str
    title: str
    state: TaskState
    attempts: int
    model: str | None
    cost_usd: Decimal
    """What its sessions cost (its task sessions and the resolutions of its conflicts)."""
    duration_seconds: float | None
    """How long its sessions ran, all attempts together (a running one until ``now``)."""
    branch: str | None
    error: str | None
    """Why it failed, is blocked, conflicted or was cancelled; None otherwise."""
    pinned_model: str | None = None
    """The model the plan pins on it (``model:``), which its attempts run on."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "state": self.state.value,
            "attempts": self.attempts,
            "model": self.model,
            "cost_usd": str(self.cost_usd),
            "duration_seconds": None
            if self.duration_seconds is None
            else round(self.duration_seconds, 1),
            "branch": self.branch,
            "error": self.error,
            "pinned_model": self.pinned_model,
        }


def task_state(task: Task, worktree: WorktreeRecord | None) -> TaskState:
    """The run state of ``task``: its status, refined by its worktree's once it is done."""
    if task.status is TaskStatus.DONE:
        tree = worktree.status if worktree is not None else None
        if tree is WorktreeStatus.MERGED:
            return TaskState.MERGED
        if tree is WorktreeStatus.CONFLICT:
            return TaskState.CONFLICT
        if tree is WorktreeStatus.FAILED:
            return TaskState.FAILED
        return TaskState.DONE
    return TaskState(task.status.value)


def _reason(
    task: Task, state: TaskState, worktree: WorktreeRecord | None, last: str | None
) -> str | None:
    if state is TaskState.CONFLICT and worktree is not None:
        files = ", ".join(c.path for c in worktree.conflicts)
        return f"merge conflict{' in ' + files if files else ''}; branch {worktree.branch} kept"
    if state is TaskState.FAILED and task.status is TaskStatus.DONE:
        return task.last_error or last or "verification failed after the merge; branch kept"
    if state in (TaskState.FAILED, TaskState.BLOCKED, TaskState.CANCELLED):
        return task.last_error or last
    return None


def _seconds(session: Session, now: datetime) -> float:
    measured = session.metrics.get("duration_seconds")
    if isinstance(measured, int | float) and session.ended_at is not None:
        return float(measured)
    if session.started_at is None:
        return 0.0
    end = session.ended_at or now
    return max((end - session.started_at).total_seconds(), 0.0)


def task_lines(
    tasks: Iterable[Task],
    worktrees: Iterable[WorktreeRecord],
    sessions: Iterable[Session],
    costs: Iterable[AgentCost],
    now: datetime,
) -> list[TaskLine]:
    """The lines of ``tasks`` (in the order given) from the project's records."""
    trees: dict[int, WorktreeRecord] = {}
    for record in worktrees:
        if record.task_id is not None:
            current = trees.get(record.task_id)
            if current is None or record.id > current.id:  # the newest record of a task wins
                trees[record.task_id] = record
    spent: dict[int, Decimal] = {}
    for cost in costs:
        if cost.task_id is not None:
            spent[cost.task_id] = spent.get(cost.task_id, Decimal(0)) + cost.cost_usd
    ran: dict[int, float] = {}
    last_error: dict[int, tuple[int, str | None]] = {}
    for session in sessions:
        if session.task_id is None or session.kind != "task":
            continue
        ran[session.task_id] = ran.get(session.task_id, 0.0) + _seconds(session, now)
        if session.id > last_error.get(session.task_id, (-1, None))[0]:
            last_error[session.task_id] = (session.id, session.error)
    lines = []
    for task in tasks:
        tree = trees.get(task.id)
        state = task_state(task, tree)
        lines.append(
            TaskLine(
                key=task.key,
                title=task.title,
                state=state,
                attempts=task.attempts,
                model=task.model,
                cost_usd=spent.get(task.id, Decimal(0)),
                duration_seconds=ran.get(task.id),
                branch=tree.branch if tree is not None else None,
                error=_reason(task, state, tree, last_error.get(task.id, (0, None))[1]),
                pinned_model=task.pinned_model,
            )
        )
    return lines


def count_states(lines: Iterable[TaskLine]) -> Mapping[str, int]:
    """How many tasks are in each state, every counted state named (zeros included)."""
    counts = dict.fromkeys((s.value for s in COUNTED_STATES), 0)
    for line in lines:
        counts[line.state.value] = counts.get(line.state.value, 0) + 1
    return counts
