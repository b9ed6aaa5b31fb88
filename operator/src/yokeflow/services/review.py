"""Reviewing a task's work: a session's transcript, page by page, and the diff of its branch."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from yokeflow.core.records import Session
from yokeflow.core.worktree import WorktreeRecord, WorktreeStatus
from yokeflow.errors import NotFoundError
from yokeflow.ports.review import DiffReader, TranscriptPage, TranscriptReader
from yokeflow.ports.store import Store
from yokeflow.services.task_actions import task_of_project

__all__ = ["TaskDiff", "session_of_project", "task_diff", "transcript_page"]


@dataclass(frozen=True, slots=True)
class TaskDiff:
    """A task branch's changes against the commit it started from."""

    task_id: int
    branch: str
    base: str
    status: str
    """The worktree's status (active, merged, conflict…)."""
    diff: str


async def session_of_project(store: Store, project_id: int, session_id: int) -> Session:
    session = await store.get_session(session_id)
    if session is None or session.project_id != project_id:
        raise NotFoundError(f"session {session_id} does not exist in project {project_id}")
    return session


async def transcript_page(
    store: Store,
    reader: TranscriptReader,
    project_id: int,
    session_id: int,
    *,
    offset: int = 0,
    limit: int = 100,
) -> TranscriptPage:
    """Messages ``offset``.. of a session's transcript (live: it grows while the session runs)."""
    session = await session_of_project(store, project_id, session_id)
    if not session.log_path:
        raise NotFoundError(f"session {session_id} has no transcript")
    return await reader.page(Path(session.log_path), offset, limit)


def _newest(records: list[WorktreeRecord]) -> WorktreeRecord | None:
    return max(records, key=lambda r: r.id) if records else None


async def task_diff(store: Store, reader: DiffReader, project_id: int, task_id: int) -> TaskDiff:
    """The diff of the task's branch against its base commit (what it changed)."""
    task = await task_of_project(store, project_id, task_id)
    project = await store.get_project(project_id)
    repository = project.metadata.get("repository") if project is not None else None
    if not repository:
        raise NotFoundError(f"project {project_id} has no repository recorded")
    record = _newest([r for r in await store.list_worktrees(project_id) if r.task_id == task.id])
    if record is None or not record.base_commit:
        raise NotFoundError(f"task {task.key} has no branch yet")
    repo = Path(str(repository))
    if record.status is WorktreeStatus.MERGED and record.merge_commit:
        diff = await reader.landed_diff(repo, record.merge_commit)
    else:
        diff = await reader.branch_diff(repo, record.base_commit, record.branch)
    return TaskDiff(task.id, record.branch, record.base_commit, record.status.value, diff)
