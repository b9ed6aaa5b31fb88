"""TaskBatch objects: each batch the engine opened, as a resource of its ProjectRun.

The store is the truth (``parallel_batches``); this mirrors it into the cluster after each pass:

- a batch the store holds and the cluster does not gets its TaskBatch (``AlreadyExists`` is the
  same one), born with the finalizer that holds it until its work is merged or preserved;
- its status follows the store: each task's state, attempts, the Job of its latest attempt and
  what it cost (every attempt), the batch's cost, the merged tasks with their commits, the
  unmerged ones preserved on their branches (task branches are never deleted);
- once the batch is settled (every task merged, or failed, blocked or cancelled with its work on
  its branch), the finalizer is removed: nothing it holds can be lost any more.

:func:`release_all` lets every TaskBatch of a deleted run go, after its Jobs were stopped: what
their agents pushed is on their branches on the remote.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from yokeflow.adapters.kube.client import KubeApi
from yokeflow.api.v1alpha1 import (
    BatchMerge,
    BatchTask,
    MergedTask,
    PreservedTask,
    TaskBatchStatus,
    TaskResult,
)
from yokeflow.core.records import BatchStatus, ParallelBatch, Task
from yokeflow.core.schedule import TaskRun, TaskState
from yokeflow.core.worktree import WorktreeRecord, WorktreeStatus
from yokeflow.errors import KubeRejectedError
from yokeflow.specs.names import LABEL_RUN, Owner, label_value, task_batch_name, task_job_name
from yokeflow.specs.taskbatch import FINALIZER, build_task_batch

__all__ = ["BatchView", "TaskBatchMirror", "release_all"]

_PLURAL = "/apis/yokeflow.io/v1alpha1/namespaces/{namespace}/taskbatches"
_STATES: Mapping[TaskState, str] = {
    TaskState.PENDING: "Pending",
    TaskState.RUNNING: "Running",
    TaskState.DONE: "Succeeded",
    TaskState.MERGING: "Succeeded",
    TaskState.RESOLVING: "Succeeded",
    TaskState.MERGED: "Succeeded",
    TaskState.FAILED: "Failed",
    TaskState.CONFLICT: "Failed",
    TaskState.BLOCKED: "Blocked",
    TaskState.CANCELLED: "Cancelled",
}


@dataclass(frozen=True, slots=True)
class BatchView:
    """What the mirror needs of one pass: tasks, their states, epics, worktrees."""

    tasks: Mapping[int, Task]
    states: Mapping[str, TaskRun]
    epics: Mapping[str, str]
    """Task key → epic key."""
    worktrees: Mapping[int, WorktreeRecord]
    branches: Mapping[int, str]
    max_attempts: int
    costs: Mapping[int, Decimal] = field(default_factory=dict)
    """Task id → dollars spent on it (every attempt)."""


@dataclass
class TaskBatchMirror:
    """The TaskBatches of one ProjectRun (see the module docstring)."""

    api: KubeApi
    namespace: str
    run: Owner
    merge_strategy: str
    _created: set[int] = field(default_factory=set)
    _written: dict[int, dict[str, Any]] = field(default_factory=dict)
    _released: set[int] = field(default_factory=set)

    async def sync(self, batches: list[ParallelBatch], view: BatchView, base: str) -> None:
        for batch in batches:
            tasks = [view.tasks[i] for i in batch.task_ids if i in view.tasks]
            if not tasks:
                continue
            name = task_batch_name(self.run.name, batch.batch_number)
            if batch.batch_number not in self._created:
                await self._create(batch, tasks, view, base)
            status = _status(self.run.name, batch, tasks, view)
            body = status.model_dump(mode="json", exclude_none=True)
            if self._written.get(batch.batch_number) != body:
                await self.api.patch(f"{self._path}/{name}/status", {"status": body})
                self._written[batch.batch_number] = body
            if batch.status is not BatchStatus.RUNNING and batch.batch_number not in self._released:
                await _release(self.api, f"{self._path}/{name}")
                self._released.add(batch.batch_number)

    @property
    def _path(self) -> str:
        return _PLURAL.format(namespace=self.namespace)

    async def _create(
        self, batch: ParallelBatch, tasks: list[Task], view: BatchView, base: str
    ) -> None:
        record = view.worktrees
        manifest = build_task_batch(
            run=self.run,
            namespace=self.namespace,
            number=batch.batch_number,
            base_commit=next(
                (r.base_commit for t in tasks if (r := record.get(t.id)) and r.base_commit),
                base,
            ),
            tasks=[
                BatchTask(
                    key=t.key,
                    title=t.title[:200],
                    epic=view.epics[t.key],
                    model=t.model or "unknown",
                    branch=view.branches[t.id],
                )
                for t in tasks
            ],
            merge_strategy="squash" if self.merge_strategy == "squash" else "merge",
        )
        try:
            await self.api.create(self._path, dict(manifest))
        except KubeRejectedError as exc:
            if exc.reason != "AlreadyExists":
                raise
        self._created.add(batch.batch_number)


def _status(run: str, batch: ParallelBatch, tasks: list[Task], view: BatchView) -> TaskBatchStatus:
    results = []
    merged: list[MergedTask] = []
    preserved: list[PreservedTask] = []
    for task in tasks:
        state = view.states.get(task.key)
        word = _STATES[state.state] if state is not None else "Pending"
        if (
            state is not None
            and state.state is TaskState.FAILED
            and state.attempts < view.max_attempts
        ):
            word = "Retrying"
        tree = view.worktrees.get(task.id)
        results.append(
            TaskResult(
                key=task.key,
                state=word,  # type: ignore[arg-type]
                attempts=task.attempts,
                job_name=task_job_name(run, task.key, task.attempts) if task.attempts else None,
                cost_usd=view.costs.get(task.id, Decimal(0)),
                reason=None,
                message=(task.last_error or None) if word in ("Failed", "Blocked") else None,
            )
        )
        if tree is not None and tree.status is WorktreeStatus.MERGED and tree.merge_commit:
            merged.append(MergedTask(key=task.key, commit=tree.merge_commit))
        elif batch.status is not BatchStatus.RUNNING:
            preserved.append(PreservedTask(key=task.key, branch=view.branches[task.id]))
    done = len(merged)
    phase = {
        BatchStatus.RUNNING: "Running",
        BatchStatus.DONE: "Succeeded",
        BatchStatus.FAILED: "Failed",
        BatchStatus.CANCELLED: "Cancelled",
    }.get(batch.status, "Pending")
    return TaskBatchStatus(
        phase=phase,  # type: ignore[arg-type]
        progress=f"{done}/{len(tasks)}",
        tasks=results,
        merge=BatchMerge(merged=merged, preserved=preserved),
        cost_usd=sum((r.cost_usd for r in results), Decimal(0)),
    )


async def _release(api: KubeApi, path: str) -> None:
    """Remove our finalizer (the rest stay); a TaskBatch already gone is fine."""
    try:
        current = await api.get(path)
    except KubeRejectedError as exc:
        if exc.reason == "NotFound":
            return
        raise
    metadata = current.get("metadata", {})
    finalizers = list(metadata.get("finalizers") or [])
    if FINALIZER not in finalizers:
        return
    kept = [f for f in finalizers if f != FINALIZER]
    await api.patch(
        path,
        {"metadata": {"finalizers": kept, "resourceVersion": metadata.get("resourceVersion")}},
    )


async def release_all(api: KubeApi, namespace: str, run: str) -> int:
    """Let every TaskBatch of ``run`` go (its Jobs are stopped; its branches stay); how many."""
    path = _PLURAL.format(namespace=namespace)
    found = await api.get(path, {"labelSelector": f"{LABEL_RUN}={label_value(run)}"})
    released = 0
    for item in found.get("items", []):
        if FINALIZER in (item.get("metadata", {}).get("finalizers") or []):
            await _release(api, f"{path}/{item['metadata']['name']}")
            released += 1
    return released
