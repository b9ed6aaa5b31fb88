"""The workspace port: one isolated worktree per task, and the merge queue that lands its work.

``Workspace`` is what services use (create / merge / cleanup / resolve…); the git adapter's
``WorktreeManager`` implements it. ``WorktreeLedger`` is the narrow port through which that
adapter persists its state (the ``worktrees`` table): the PostgreSQL store implements it, and
``yokeflow.testing`` has an in-memory fake. ``ConflictResolver`` is how an agent session is
handed a conflict without the git adapter knowing about agents.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from yokeflow.core.merging import MergeResult, Resolution
from yokeflow.core.worktree import ConflictFile, WorktreeRecord, WorktreeStatus

__all__ = [
    "ConflictResolutionRequest",
    "ConflictResolver",
    "TaskRef",
    "Workspace",
    "WorktreeInfo",
    "WorktreeLedger",
]


@dataclass(frozen=True, slots=True)
class TaskRef:
    """The task a worktree is for: enough to name its branch and to describe its intent."""

    task_id: int
    title: str
    epic_id: int | None = None
    description: str = ""


@dataclass(frozen=True, slots=True)
class WorktreeInfo:
    """One task's worktree as it is now (its record joined with what git shows)."""

    task_id: int
    epic_id: int | None
    title: str
    branch: str
    path: str
    status: WorktreeStatus
    exists: bool
    """The working tree is on disk and registered with git."""
    base_commit: str | None = None
    """The integration commit the branch started from."""
    head_commit: str | None = None
    """The task branch's tip (None when the branch is gone)."""
    dirty: bool = False
    """Uncommitted changes in the working tree."""
    commits_ahead: int = 0
    """Commits on the task branch not yet on the integration branch."""
    port: int | None = None
    """A TCP port reserved for this worktree (servers started by the task listen on it)."""
    merge_commit: str | None = None
    conflicts: tuple[ConflictFile, ...] = ()


@dataclass(frozen=True, slots=True)
class ConflictResolutionRequest:
    """A conflict handed to an agent: resolve the markers in ``worktree`` and stage nothing else.

    The integration worktree is mid-merge: conflicted files hold ``<<<<<<<`` markers. The resolver
    edits them so both intents are kept; it must not commit, switch branches or touch other files.
    """

    task: TaskRef
    worktree: str
    integration_branch: str
    task_branch: str
    conflicts: tuple[ConflictFile, ...]
    task_log: str
    """One line per task commit: what the task meant to do."""
    integration_log: str
    """One line per integration commit since the task started: what landed meanwhile."""


ConflictResolver = Callable[[ConflictResolutionRequest], Awaitable[None]]
"""An agent session that resolves a conflict in place (built by the agent runtime)."""


class Workspace(Protocol):
    """Task isolation and the merge queue, keyed by task id within one project and repository."""

    async def initialize(self) -> None:
        """Prepare the repository and repair whatever an earlier crash left (idempotent)."""
        ...

    async def create_worktree(self, task: TaskRef) -> WorktreeInfo:
        """A worktree for ``task`` on its own branch from the current integration commit (reused if valid)."""
        ...

    async def merge_worktree(self, task_id: int) -> MergeResult:
        """Land the task's work on the integration branch, or record why it cannot land."""
        ...

    async def cleanup_worktree(self, task_id: int) -> None:
        """Remove the working tree (uncommitted work is committed first; unmerged branches are kept)."""
        ...

    async def get_worktree_status(self, task_id: int) -> WorktreeInfo | None: ...

    async def list_worktrees(self) -> list[WorktreeInfo]: ...

    async def sync_worktree_from_main(self, task_id: int) -> str:
        """Merge the integration branch into the task's branch; returns the new tip.

        Raises ``WorktreeConflictError`` (the worktree left as it was) when that would conflict.
        """
        ...

    async def get_conflict_details(self, task_id: int) -> tuple[ConflictFile, ...]: ...

    async def resolve_conflict(self, task_id: int, strategy: Resolution) -> MergeResult:
        """Resolve a recorded conflict with ``strategy`` and merge."""
        ...


class WorktreeLedger(Protocol):
    """Persistence of worktree records, keyed by ``(project_id, branch)``."""

    async def create_worktree(
        self,
        project_id: int,
        *,
        task_id: int | None,
        epic_id: int | None,
        branch: str,
        path: str,
        base_commit: str | None,
    ) -> WorktreeRecord:
        """Insert a record, or return the existing one for ``(project_id, branch)`` set back to active."""
        ...

    async def get_worktree(self, worktree_id: int) -> WorktreeRecord | None: ...

    async def get_worktree_by_task(
        self, project_id: int, task_id: int
    ) -> WorktreeRecord | None: ...

    async def get_worktree_by_epic(self, project_id: int, epic_id: int) -> list[WorktreeRecord]: ...

    async def list_worktrees(
        self, project_id: int, status: WorktreeStatus | None = None
    ) -> list[WorktreeRecord]: ...

    async def update_worktree_status(
        self,
        worktree_id: int,
        status: WorktreeStatus,
        *,
        merge_commit: str | None = None,
        conflicts: Sequence[ConflictFile] = (),
    ) -> WorktreeRecord: ...

    async def mark_worktree_merged(self, worktree_id: int, merge_commit: str) -> WorktreeRecord: ...
