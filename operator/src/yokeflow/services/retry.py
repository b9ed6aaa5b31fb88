"""Retrying failed tasks by hand: ``yokeflow retry TASK…``, ``run --resume --retry-failed``, the API.

A retried task goes back to pending with a fresh set of attempts (its history is kept); tasks
blocked by it are unblocked by the next reconcile once it is no longer failed, and run when it
merges. Only failed, blocked and cancelled tasks can be retried: a running task is still being
worked on, a merged one is final.
"""

from __future__ import annotations

from collections.abc import Sequence

from yokeflow.core.records import TaskStatus
from yokeflow.errors import InvalidTransitionError, NotFoundError
from yokeflow.ports.store import Store

__all__ = ["RETRYABLE", "retry_failed", "retry_tasks"]

RETRYABLE = frozenset({TaskStatus.FAILED, TaskStatus.BLOCKED, TaskStatus.CANCELLED})


async def retry_tasks(store: Store, project_id: int, keys: Sequence[str]) -> list[str]:
    """Give each task of ``keys`` new attempts; the keys retried, in order.

    An unknown key is a :class:`NotFoundError`; a task that cannot be retried (running, done)
    an :class:`InvalidTransitionError` naming it — checked for every key before any changes.
    """
    tasks = []
    for key in keys:
        task = await store.get_task_by_key(project_id, key)
        if task is None:
            raise NotFoundError(f"the project has no task {key!r}")
        if task.status not in RETRYABLE:
            raise InvalidTransitionError(
                f"task {key} is {task.status.value}: only failed, blocked or cancelled tasks "
                "can be retried"
            )
        tasks.append(task)
    for task in tasks:
        await store.retry_task(task.id)
    return [t.key for t in tasks]


async def retry_failed(store: Store, project_id: int) -> list[str]:
    """Give every failed task of the project new attempts (what ``--retry-failed`` does)."""
    failed = await store.list_tasks(project_id, status=TaskStatus.FAILED)
    return await retry_tasks(store, project_id, [t.key for t in failed])
