"""The worktrees of a project, per task and per epic (the spec's ``/worktrees/{epic_id}``).

A task runs in its own worktree; an epic's worktrees are those of its tasks. Merging, resolving
and removing act on every task worktree of the epic through the
:class:`~yokeflow.ports.workspace.Workspace` port — the same merge queue code a run uses — and are
refused while a run of the project is active here (its merge queue owns the integration branch).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from yokeflow.core.merging import MergeResult, Resolution
from yokeflow.core.records import Epic, Project
from yokeflow.core.worktree import ConflictFile, WorktreeRecord, WorktreeStatus
from yokeflow.errors import InvalidTransitionError, NotFoundError
from yokeflow.ports.runs import RunControl
from yokeflow.ports.store import Store
from yokeflow.ports.workspace import Workspace
from yokeflow.services.runs import project_or_404

__all__ = [
    "TaskConflicts",
    "WorkspaceOpener",
    "epic_conflicts",
    "epic_of_project",
    "epic_worktrees",
    "merge_epic",
    "remove_epic_worktrees",
    "resolve_epic",
]

WorkspaceOpener = Callable[[Project], Awaitable[Workspace]]
"""Opens the workspace (repository, worktrees, merge queue) of a project."""


@dataclass(frozen=True, slots=True)
class TaskConflicts:
    task_id: int
    branch: str
    files: tuple[ConflictFile, ...]


async def epic_of_project(store: Store, project_id: int, epic_id: int) -> Epic:
    epic = await store.get_epic(epic_id)
    if epic is None or epic.project_id != project_id:
        raise NotFoundError(f"epic {epic_id} does not exist in project {project_id}")
    return epic


async def epic_worktrees(store: Store, project_id: int, epic_id: int) -> list[WorktreeRecord]:
    """The worktree records of the epic's tasks (newest record per branch)."""
    await epic_of_project(store, project_id, epic_id)
    return await store.get_worktree_by_epic(project_id, epic_id)


async def _workspace(
    store: Store, runs: RunControl | None, opener: WorkspaceOpener, project_id: int
) -> Workspace:
    project = await project_or_404(store, project_id)
    if runs is not None and runs.active(project_id):
        raise InvalidTransitionError(
            f"project {project.name!r} is running: its merge queue owns the worktrees until it ends"
        )
    workspace = await opener(project)
    await workspace.initialize()
    return workspace


def _task_ids(records: list[WorktreeRecord], *states: WorktreeStatus) -> list[int]:
    return [r.task_id for r in records if r.task_id is not None and r.status in states]


async def merge_epic(
    store: Store, runs: RunControl | None, opener: WorkspaceOpener, project_id: int, epic_id: int
) -> list[MergeResult]:
    """Merge every unmerged task worktree of the epic (a conflict is recorded, not forced)."""
    records = await epic_worktrees(store, project_id, epic_id)
    workspace = await _workspace(store, runs, opener, project_id)
    return [
        await workspace.merge_worktree(task_id)
        for task_id in _task_ids(records, WorktreeStatus.ACTIVE, WorktreeStatus.REMOVED)
    ]


async def epic_conflicts(store: Store, project_id: int, epic_id: int) -> list[TaskConflicts]:
    """The recorded conflicts of the epic's task worktrees, file by file."""
    records = await epic_worktrees(store, project_id, epic_id)
    return [
        TaskConflicts(r.task_id, r.branch, r.conflicts)
        for r in records
        if r.task_id is not None and r.status is WorktreeStatus.CONFLICT
    ]


async def resolve_epic(
    store: Store,
    runs: RunControl | None,
    opener: WorkspaceOpener,
    project_id: int,
    epic_id: int,
    strategy: Resolution,
) -> list[MergeResult]:
    """Resolve every conflicted task worktree of the epic with ``strategy``, and merge it."""
    records = await epic_worktrees(store, project_id, epic_id)
    task_ids = _task_ids(records, WorktreeStatus.CONFLICT)
    if not task_ids:
        raise InvalidTransitionError(f"epic {epic_id} has no conflicted worktree to resolve")
    workspace = await _workspace(store, runs, opener, project_id)
    return [await workspace.resolve_conflict(task_id, strategy) for task_id in task_ids]


async def remove_epic_worktrees(
    store: Store, runs: RunControl | None, opener: WorkspaceOpener, project_id: int, epic_id: int
) -> int:
    """Remove the epic's working trees (uncommitted work is committed, unmerged branches kept)."""
    records = await epic_worktrees(store, project_id, epic_id)
    workspace = await _workspace(store, runs, opener, project_id)
    removed = 0
    for task_id in _task_ids(
        records, WorktreeStatus.ACTIVE, WorktreeStatus.MERGED, WorktreeStatus.CONFLICT,
        WorktreeStatus.FAILED,
    ):  # fmt: skip
        await workspace.cleanup_worktree(task_id)
        removed += 1
    return removed
