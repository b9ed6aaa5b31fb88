"""Worktree records: one isolated working tree per task, and what became of its branch."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

__all__ = ["ConflictFile", "WorktreeRecord", "WorktreeStatus"]


class WorktreeStatus(StrEnum):
    """Where a task's worktree stands."""

    ACTIVE = "active"
    """Created; the agent works (or worked) in it; not merged yet."""
    MERGED = "merged"
    """Its branch is reachable from the integration branch."""
    CONFLICT = "conflict"
    """A merge was predicted to conflict; the branch is kept for resolution."""
    FAILED = "failed"
    """Verification after merge failed and the merge was reverted; the branch is kept."""
    REMOVED = "removed"
    """The working tree is gone (cleaned up); the branch may still be kept."""


@dataclass(frozen=True, slots=True)
class ConflictFile:
    """One file a merge would conflict on, and how (``content``, ``add/add``, ``modify/delete``…)."""

    path: str
    kind: str


@dataclass(frozen=True, slots=True)
class WorktreeRecord:
    """A row of the ``worktrees`` table."""

    id: int
    project_id: int
    task_id: int | None
    epic_id: int | None
    branch: str
    path: str
    status: WorktreeStatus
    base_commit: str | None = None
    merge_commit: str | None = None
    conflicts: tuple[ConflictFile, ...] = field(default=())
    created_at: datetime | None = None
    updated_at: datetime | None = None
