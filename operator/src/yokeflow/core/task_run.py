"""Where one task stands in a run: its state, attempts and times, as the scheduler reads them.

:class:`TaskState` and :class:`TaskRun` are the scheduler's view of a task; the store, the
operator and the dashboard speak of tasks in the same states. Plain data, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from yokeflow.core.limits import Limits

__all__ = ["ACTIVE", "LANDING", "TaskRun", "TaskState", "terminal_failure"]


class TaskState(StrEnum):
    """Where one task stands in a run."""

    PENDING = "pending"
    """Not started yet (or waiting for a retry)."""
    RUNNING = "running"
    """An agent is working on it."""
    DONE = "done"
    """Its agent finished successfully; its branch waits to be merged."""
    MERGING = "merging"
    """In the merge queue."""
    RESOLVING = "resolving"
    """Its merge conflicted and the conflict policy (an agent session) is resolving it."""
    MERGED = "merged"
    """Its work is on the integration branch."""
    FAILED = "failed"
    """Its last attempt failed; retried while attempts remain, terminal after."""
    CONFLICT = "conflict"
    """Its merge conflicted; the branch is kept for resolution. Dependents wait."""
    BLOCKED = "blocked"
    """A hard dependency failed for good; it will not run in this run."""
    CANCELLED = "cancelled"
    """The run was cancelled before it finished."""


@dataclass(frozen=True, slots=True)
class TaskRun:
    """One task's state as the scheduler needs it."""

    state: TaskState = TaskState.PENDING
    attempts: int = 0
    """Attempts started so far."""
    failed_at: float | None = None
    """When the last attempt failed (seconds, the caller's clock)."""
    duration: float | None = None
    """Measured duration of the last successful attempt, in the same unit as estimates."""
    started_at: float | None = None
    """When the running attempt started (seconds, the caller's clock)."""


ACTIVE = frozenset({TaskState.RUNNING, TaskState.MERGING, TaskState.RESOLVING})
"""A session or a merge is under way."""
LANDING = frozenset({TaskState.DONE, TaskState.MERGING})
"""Work finished and on its way to the integration branch (a plain merge: seconds)."""


def terminal_failure(run: TaskRun, limits: Limits) -> bool:
    """Failed for good: conflicted, or failed with no attempt left."""
    return run.state is TaskState.CONFLICT or (
        run.state is TaskState.FAILED and run.attempts >= limits.max_attempts
    )
