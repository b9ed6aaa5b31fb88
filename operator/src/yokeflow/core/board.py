"""What the dashboard shows for a task: one state from the task's status and its worktree's.

The store keeps a task's status (pending … done) and, separately, what became of its branch
(active, merged, conflict…). People want one word: ``queued`` (pending, every hard dependency
merged), ``merging`` (done, not landed yet), ``merged``, ``conflict``, and so on.
"""

from __future__ import annotations

from enum import StrEnum

from yokeflow.core.records import TaskStatus
from yokeflow.core.worktree import WorktreeStatus

__all__ = ["BoardState", "board_state"]


class BoardState(StrEnum):
    PENDING = "pending"
    QUEUED = "queued"
    RUNNING = "running"
    MERGING = "merging"
    MERGED = "merged"
    FAILED = "failed"
    BLOCKED = "blocked"
    CONFLICT = "conflict"
    CANCELLED = "cancelled"


def board_state(
    status: TaskStatus, worktree: WorktreeStatus | None, dependencies_merged: bool
) -> BoardState:
    """The one state a person sees for a task."""
    if status is TaskStatus.DONE:
        if worktree is WorktreeStatus.MERGED:
            return BoardState.MERGED
        if worktree is WorktreeStatus.CONFLICT:
            return BoardState.CONFLICT
        if worktree is WorktreeStatus.FAILED:
            return BoardState.FAILED
        return BoardState.MERGING
    if status is TaskStatus.PENDING:
        return BoardState.QUEUED if dependencies_merged else BoardState.PENDING
    return BoardState(status.value)
