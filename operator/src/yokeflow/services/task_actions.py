"""What a person can do to one task between or during runs: retry it, cancel it.

A retry puts a failed, blocked or cancelled task back to pending with a fresh set of attempts (its
attempts so far are kept as history), and releases the tasks its failure blocked; the next pass
of a run picks them up. A cancel takes a task that has not
started out of the run. Both go through the store's state machine, so a refused change is an
:class:`~yokeflow.errors.InvalidTransitionError` that says why.
"""

from __future__ import annotations

import contextlib

from yokeflow.core.records import Task, TaskStatus
from yokeflow.errors import InvalidTransitionError, NotFoundError
from yokeflow.ports.store import Store

__all__ = ["cancel_task", "retry_task", "task_of_project"]

_RETRYABLE = (TaskStatus.FAILED, TaskStatus.BLOCKED, TaskStatus.CANCELLED)


async def task_of_project(store: Store, project_id: int, task_id: int) -> Task:
    """The task, when it belongs to the project; else a NotFoundError."""
    task = await store.get_task(task_id)
    if task is None or task.project_id != project_id:
        raise NotFoundError(f"task {task_id} does not exist in project {project_id}")
    return task


async def retry_task(store: Store, project_id: int, task_id: int) -> Task:
    """Put a failed, blocked or cancelled task back to pending, and release what it blocked.

    A run blocks the tasks behind a task that failed for good; retrying that task puts those
    blocked dependents (directly or through other blocked tasks) back to pending too, so they
    run once it merges.
    """
    task = await task_of_project(store, project_id, task_id)
    if task.status not in _RETRYABLE:
        raise InvalidTransitionError(
            f"task {task.key} is {task.status.value}: only a failed, blocked or cancelled task"
            " can be retried"
        )
    # A fresh set of attempts (the history is kept).
    retried = await store.retry_task(task.id)
    for blocked in await _blocked_behind(store, project_id, task.id):
        with contextlib.suppress(InvalidTransitionError):  # changed meanwhile: leave it be
            await store.update_task_status(
                blocked.id, TaskStatus.PENDING, expected=TaskStatus.BLOCKED
            )
    return retried


async def _blocked_behind(store: Store, project_id: int, task_id: int) -> list[Task]:
    """Blocked tasks that wait for ``task_id``, directly or through other blocked tasks."""
    tasks = await store.get_tasks_with_dependencies(project_id)
    epics = {e.id: e for e in await store.list_epics(project_id)}
    waiting: dict[int, list[Task]] = {}
    for t in tasks:
        # its own dependencies, and every task of the epics its epic waits for
        behind = set(t.depends_on)
        epic = epics.get(t.epic_id)
        for other in tasks if epic is not None and epic.depends_on else ():
            if epic is not None and other.epic_id in epic.depends_on:
                behind.add(other.id)
        for dep in behind:
            waiting.setdefault(dep, []).append(t)
    found: dict[int, Task] = {}
    frontier = [task_id]
    while frontier:
        for t in waiting.get(frontier.pop(), []):
            if t.status is TaskStatus.BLOCKED and t.id not in found:
                found[t.id] = t
                frontier.append(t.id)
    return list(found.values())


async def cancel_task(store: Store, project_id: int, task_id: int) -> Task:
    """Take a pending, failed or blocked task out of the run (retry brings it back)."""
    task = await task_of_project(store, project_id, task_id)
    if task.status is TaskStatus.RUNNING:
        raise InvalidTransitionError(
            f"task {task.key} is running: cancel the run to stop its agent (its work is kept)"
        )
    change = await store.update_task_status(task.id, TaskStatus.CANCELLED, expected=task.status)
    return change.task
