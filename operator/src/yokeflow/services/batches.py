"""Batches: the tasks launched together in one scheduling round, recorded in the store.

A batch is opened (``parallel_batches`` row, ``running``) when a reconcile step starts tasks, and
settled — ``done`` when all of its tasks merged, ``failed`` when one failed for good, conflicted
or was blocked, ``cancelled`` when the run was cancelled first — once every task of it is
settled. Both read and write only the store, so a resumed run settles the batches of the run it
continues.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from yokeflow.core.events import BatchComplete, BatchStart
from yokeflow.core.records import BatchStatus
from yokeflow.core.schedule import TaskRun, TaskState
from yokeflow.errors import InvalidTransitionError

if TYPE_CHECKING:
    from yokeflow.services.reconcile import RunContext, Seen

__all__ = ["open", "settle"]

_SETTLED = frozenset({TaskState.MERGED, TaskState.CONFLICT, TaskState.BLOCKED, TaskState.CANCELLED})


async def open(run: RunContext, seen: Seen, keys: tuple[str, ...]) -> None:
    """Record ``keys`` (just started) as the next batch."""
    existing = await run.store.list_parallel_batches(run.project_id)
    number = 1 + max((b.batch_number for b in existing), default=0)
    record = await run.store.create_parallel_batch(
        run.project_id, number, [seen.tasks[k].id for k in keys]
    )
    await run.store.update_batch_status(record.id, BatchStatus.RUNNING)
    run.batches += 1
    run.events.publish(BatchStart(number, keys, run.at()))


def _settled(state: TaskRun, run: RunContext) -> bool:
    if state.state in _SETTLED:
        return True
    return state.state is TaskState.FAILED and (
        state.attempts >= run.limits.max_attempts or run.cancelled
    )


async def settle(run: RunContext, seen: Seen, *, final: bool) -> None:
    """Close the running batches whose tasks are all settled (``final``: every one, the run
    ends — an unsettled batch is then cancelled)."""
    keys = {task.id: key for key, task in seen.tasks.items()}
    for batch in await run.store.list_parallel_batches(run.project_id):
        if batch.status is not BatchStatus.RUNNING:
            continue
        states = [seen.states[keys[i]] for i in batch.task_ids if i in keys]
        merged = sum(1 for s in states if s.state is TaskState.MERGED)
        if all(_settled(s, run) for s in states):
            status = BatchStatus.DONE if merged == len(states) else BatchStatus.FAILED
            if run.cancelled and merged < len(states):
                status = BatchStatus.CANCELLED
        elif final:
            status = BatchStatus.CANCELLED
        else:
            continue
        with contextlib.suppress(InvalidTransitionError):
            await run.store.update_batch_status(batch.id, status)
        run.events.publish(
            BatchComplete(batch.batch_number, merged, len(states) - merged, run.at())
        )
