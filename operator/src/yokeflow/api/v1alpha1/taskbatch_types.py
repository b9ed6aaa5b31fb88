"""TaskBatch: a set of tasks launched together for one ProjectRun, and what became of them.

The operator creates one per scheduling round (``yokeflow.specs.taskbatch.build_task_batch``),
owned by its ProjectRun. A finalizer holds each TaskBatch until its tasks' work is merged or
preserved on named branches: nothing an agent committed is ever lost.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import Field

from yokeflow.api.v1alpha1.base import ApiModel, KindInfo, PrinterColumn, Usd
from yokeflow.api.v1alpha1.meta import Condition, ObjectName
from yokeflow.api.v1alpha1.plan_types import KEY_PATTERN, MAX_TASKS_PER_EPIC

__all__ = [
    "COMMIT_PATTERN",
    "TASK_BATCH",
    "BatchMerge",
    "BatchPhase",
    "BatchTask",
    "MergeConflict",
    "MergedTask",
    "PreservedTask",
    "TaskBatch",
    "TaskBatchSpec",
    "TaskBatchStatus",
    "TaskResult",
    "TaskState",
]

COMMIT_PATTERN = r"^[0-9a-f]{40}([0-9a-f]{24})?$"
"""A full SHA-1 or SHA-256 commit id."""
BRANCH_NAME_PATTERN = r"^[^\x00-\x20\x7f~^:?*\[\\]+$"

BatchPhase = Literal["Pending", "Running", "Merging", "Succeeded", "Failed", "Cancelled"]
TaskState = Literal[
    "Pending", "Queued", "Running", "Retrying", "Succeeded", "Failed", "Blocked", "Cancelled"
]


class BatchTask(ApiModel):
    """One task of the batch, as the scheduler chose to launch it."""

    key: str = Field(min_length=1, max_length=100, pattern=KEY_PATTERN)
    """The task's key in the run's plan."""
    title: str = Field(min_length=1, max_length=200)
    """The task's title."""
    epic: str = Field(min_length=1, max_length=100, pattern=KEY_PATTERN)
    """The key of the task's epic."""
    model: str = Field(min_length=1, max_length=128)
    """The model chosen for it (an exact model id)."""
    branch: str = Field(min_length=1, max_length=255, pattern=BRANCH_NAME_PATTERN)
    """The git branch the agent commits to and pushes."""


class TaskBatchSpec(ApiModel):
    """Which tasks the batch launches, from which commit, and how their work is merged."""

    project_run: ObjectName
    """The ProjectRun (same namespace) this batch belongs to."""
    number: int = Field(ge=1)
    """The batch's number within its run, from 1."""
    base_commit: str = Field(pattern=COMMIT_PATTERN)
    """The integration commit the batch's tasks start from (it holds their merged dependencies)."""
    tasks: list[BatchTask] = Field(
        min_length=1,
        max_length=MAX_TASKS_PER_EPIC,
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["key"]},
    )
    """The tasks, keyed by ``key``."""
    merge_strategy: Literal["merge", "squash"] = "merge"
    """How each finished task branch lands on the integration branch."""


class TaskResult(ApiModel):
    """What became of one task of the batch."""

    key: str = Field(min_length=1, max_length=100, pattern=KEY_PATTERN)
    """The task's key."""
    state: TaskState = "Pending"
    """``Queued`` means its Job waits for Kueue; ``Retrying`` that an attempt failed and another follows."""
    job_name: str | None = Field(default=None, max_length=63)
    """The Job of the latest attempt."""
    attempts: int = Field(default=0, ge=0)
    """Attempts started so far."""
    cost_usd: Usd = Decimal(0)
    """Dollars spent on the task, every attempt included."""
    commit: str | None = Field(default=None, pattern=COMMIT_PATTERN)
    """The head of the task's branch once the agent pushed it."""
    reason: str | None = Field(default=None, max_length=128)
    """Why it ended so (a CamelCase word, e.g. ``DeadlineExceeded``)."""
    message: str | None = Field(default=None, max_length=4096)
    """Why, in a sentence (from the report or the pod's termination message)."""
    started_at: datetime | None = None
    """When the latest attempt started."""
    finished_at: datetime | None = None
    """When the latest attempt ended."""


class MergedTask(ApiModel):
    """A task whose work is on the integration branch."""

    key: str = Field(min_length=1, max_length=100, pattern=KEY_PATTERN)
    """The task's key."""
    commit: str = Field(pattern=COMMIT_PATTERN)
    """The integration commit that brought it in."""


class MergeConflict(ApiModel):
    """A task whose branch conflicts with the integration branch."""

    key: str = Field(min_length=1, max_length=100, pattern=KEY_PATTERN)
    """The task's key."""
    files: list[str] = Field(default_factory=list, max_length=200)
    """Paths in conflict."""


class PreservedTask(ApiModel):
    """A task whose unmerged work is kept on a named branch."""

    key: str = Field(min_length=1, max_length=100, pattern=KEY_PATTERN)
    """The task's key."""
    branch: str = Field(min_length=1, max_length=255, pattern=BRANCH_NAME_PATTERN)
    """The branch (on the run's remote) that holds it."""


class BatchMerge(ApiModel):
    """What the merge Job did with the batch's finished tasks."""

    merged: list[MergedTask] = Field(default_factory=list, max_length=MAX_TASKS_PER_EPIC)
    """Tasks now on the integration branch."""
    conflicts: list[MergeConflict] = Field(default_factory=list, max_length=MAX_TASKS_PER_EPIC)
    """Tasks that could not be merged without a conflict."""
    preserved: list[PreservedTask] = Field(default_factory=list, max_length=MAX_TASKS_PER_EPIC)
    """Tasks whose work is kept on a branch instead of merged."""
    integration_commit: str | None = Field(default=None, pattern=COMMIT_PATTERN)
    """The integration branch's commit after the merge."""
    job_name: str | None = Field(default=None, max_length=63)
    """The merge Job."""


class TaskBatchStatus(ApiModel):
    """Where the batch stands; written by the operator only."""

    phase: BatchPhase = "Pending"
    """The batch's phase."""
    observed_generation: int | None = Field(default=None, ge=0)
    """The ``metadata.generation`` this status describes."""
    progress: str | None = Field(default=None, max_length=32, pattern=r"^[0-9]+/[0-9]+$")
    """Tasks succeeded / tasks in the batch, for ``kubectl get``."""
    tasks: list[TaskResult] = Field(
        default_factory=list,
        max_length=MAX_TASKS_PER_EPIC,
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["key"]},
    )
    """Each task's state, Job and cost."""
    merge: BatchMerge | None = None
    """The merge result, once the merge Job ran."""
    cost_usd: Usd = Decimal(0)
    """Dollars spent by the batch's agents."""
    conditions: list[Condition] = Field(
        default_factory=list,
        max_length=32,
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]},
    )
    """``Ready`` and ``Merged``, each with a reason and a one-sentence message."""


class TaskBatch(ApiModel):
    """One scheduling round of a ProjectRun: the whole object as the API server holds it."""

    api_version: Literal["yokeflow.io/v1alpha1"] = "yokeflow.io/v1alpha1"
    kind: Literal["TaskBatch"] = "TaskBatch"
    metadata: dict[str, Any] = Field(default_factory=dict)
    """Standard object metadata, kept as the API sent it."""
    spec: TaskBatchSpec
    status: TaskBatchStatus | None = None


TASK_BATCH = KindInfo(
    kind="TaskBatch",
    plural="taskbatches",
    singular="taskbatch",
    short_names=("tb",),
    categories=("yokeflow",),
    printer_columns=(
        PrinterColumn("Run", ".spec.projectRun", description="The ProjectRun it belongs to."),
        PrinterColumn("Batch", ".spec.number", "integer", "The batch's number in its run."),
        PrinterColumn("Phase", ".status.phase", description="The batch's phase."),
        PrinterColumn("Progress", ".status.progress", description="Tasks succeeded / total."),
        PrinterColumn("Cost", ".status.costUsd", "number", "Dollars spent by its agents."),
        PrinterColumn("Age", ".metadata.creationTimestamp", "date"),
    ),
)
"""The TaskBatch kind's names and ``kubectl get`` columns."""
