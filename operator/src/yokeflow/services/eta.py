"""The run's ETA as the API shows it: the rest of the run simulated from the stored states.

The same simulation as the terminal view (:func:`yokeflow.core.schedule.forecast`): every task
left takes its estimate refined by the durations measured so far, a running one what is left of
it, the slots filled in rank order. A failed task counts as final (a retry to come is not known).
"""

from __future__ import annotations

from datetime import UTC, datetime

from yokeflow.core.board import BoardState
from yokeflow.core.graph import graph_from_records
from yokeflow.core.schedule import Limits, TaskRun, TaskState, forecast
from yokeflow.ports.store import Store
from yokeflow.services.board import BoardTask, board

__all__ = ["eta_seconds"]

_STATE = {
    BoardState.PENDING: TaskState.PENDING,
    BoardState.QUEUED: TaskState.PENDING,
    BoardState.MERGING: TaskState.DONE,
    BoardState.MERGED: TaskState.MERGED,
    BoardState.CONFLICT: TaskState.CONFLICT,
    BoardState.BLOCKED: TaskState.BLOCKED,
    BoardState.CANCELLED: TaskState.CANCELLED,
}


def _task_run(item: BoardTask, now: datetime, limits: Limits) -> TaskRun:
    if item.state is BoardState.RUNNING:
        started = item.task.started_at
        elapsed = (now - started).total_seconds() if started is not None else 0.0
        return TaskRun(TaskState.RUNNING, max(item.task.attempts, 1), started_at=-elapsed)
    if item.state is BoardState.FAILED:
        return TaskRun(TaskState.FAILED, limits.max_attempts)
    measured = item.duration_seconds
    finished = item.state in (BoardState.MERGING, BoardState.MERGED)
    duration = measured / 60 if measured is not None and finished else None
    return TaskRun(_STATE[item.state], item.task.attempts, duration=duration)


async def eta_seconds(
    store: Store, project_id: int, concurrency: int, now: datetime | None = None
) -> float | None:
    """Seconds until the project's run would end now; None when no task is left to run."""
    found = (await board(store, project_id)).tasks
    left = {BoardState.PENDING, BoardState.QUEUED, BoardState.RUNNING, BoardState.MERGING}
    if not any(item.state in left for item in found):
        return None
    tasks = await store.get_tasks_with_dependencies(project_id)
    graph = graph_from_records(tasks, await store.list_epics(project_id))
    if not graph.is_valid:
        return None
    limits = Limits(max_concurrency=concurrency)
    clock = now or datetime.now(UTC)
    runs = {item.task.key: _task_run(item, clock, limits) for item in found}
    return forecast(graph, runs, limits, 0.0) * 60
