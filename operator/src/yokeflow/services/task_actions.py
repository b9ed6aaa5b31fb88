"""What a person can do to one task between or during runs: retry it, cancel it.

A retry puts a failed, blocked or cancelled task back to pending with a fresh set of attempts (its
attempts so far are kept as history); the next reconcile releases what its failure blocked. A cancel takes a task that has not
started out of the run. Both go through the store's state machine, so a refused change is an
:class:`~yokeflow.errors.InvalidTransitionError` that says why.
"""

from __future__ import annotations

from yokeflow.core.records import Task, TaskStatus
from yokeflow.errors import InvalidTransitionError, NotFoundError
from yokeflow.ports.store import Store
from yokeflow.services.retry import retry_tasks

__all__ = ["cancel_task", "retry_task", "task_of_project"]


async def task_of_project(store: Store, project_id: int, task_id: int) -> Task:
    """The task, when it belongs to the project; else a NotFoundError."""
    task = await store.get_task(task_id)
    if task is None or task.project_id != project_id:
        raise NotFoundError(f"task {task_id} does not exist in project {project_id}")
    return task


async def retry_task(store: Store, project_id: int, task_id: int) -> Task:
    """Give a failed, blocked or cancelled task new attempts (:func:`retry.retry_tasks`)."""
    task = await task_of_project(store, project_id, task_id)
    await retry_tasks(store, project_id, [task.key])
    return await task_of_project(store, project_id, task_id)


async def cancel_task(store: Store, project_id: int, task_id: int) -> Task:
    """Take a pending, failed or blocked task out of the run (retry brings it back)."""
    task = await task_of_project(store, project_id, task_id)
    if task.status is TaskStatus.RUNNING:
        raise InvalidTransitionError(
            f"task {task.key} is running: cancel the run to stop its agent (its work is kept)"
        )
    change = await store.update_task_status(task.id, TaskStatus.CANCELLED, expected=task.status)
    return change.task
