"""``yokeflow.io/v1alpha1``: the ProjectRun and TaskBatch custom resources as pydantic models.

Read an object the API sent with ``ProjectRunSpec.model_validate(body["spec"])``; write status
with ``status.model_dump(mode="json", exclude_none=True)`` (camelCase, money as numbers).
``KINDS`` lists each root model with its :class:`KindInfo`, which is what ``yokeflow generate``
turns into ``crds/*.yaml``.
"""

from __future__ import annotations

from yokeflow.api.v1alpha1.base import GROUP, VERSION, ApiModel, KindInfo, PrinterColumn
from yokeflow.api.v1alpha1.meta import Condition, ConfigMapKeyRef, SecretKeyRef, SecretRef
from yokeflow.api.v1alpha1.plan_types import InlineEpic, InlinePlan, InlineTask
from yokeflow.api.v1alpha1.projectrun_types import (
    PROJECT_RUN,
    AgentSpec,
    BatchProgress,
    BudgetSpec,
    CriticalPath,
    LearningSpec,
    ModelsSpec,
    ParallelSpec,
    ProjectRun,
    ProjectRunPhase,
    ProjectRunSpec,
    ProjectRunStatus,
    RepositorySpec,
    ResourceRequirements,
    RetrySpec,
    SpecSource,
    TaskCounts,
    TierPrice,
    TimeoutSpec,
)
from yokeflow.api.v1alpha1.taskbatch_types import (
    TASK_BATCH,
    BatchMerge,
    BatchPhase,
    BatchTask,
    MergeConflict,
    MergedTask,
    PreservedTask,
    TaskBatch,
    TaskBatchSpec,
    TaskBatchStatus,
    TaskResult,
    TaskState,
)

__all__ = [
    "GROUP",
    "KINDS",
    "PROJECT_RUN",
    "TASK_BATCH",
    "VERSION",
    "AgentSpec",
    "ApiModel",
    "BatchMerge",
    "BatchPhase",
    "BatchProgress",
    "BatchTask",
    "BudgetSpec",
    "Condition",
    "ConfigMapKeyRef",
    "CriticalPath",
    "InlineEpic",
    "InlinePlan",
    "InlineTask",
    "KindInfo",
    "LearningSpec",
    "MergeConflict",
    "MergedTask",
    "ModelsSpec",
    "ParallelSpec",
    "PreservedTask",
    "PrinterColumn",
    "ProjectRun",
    "ProjectRunPhase",
    "ProjectRunSpec",
    "ProjectRunStatus",
    "RepositorySpec",
    "ResourceRequirements",
    "RetrySpec",
    "SecretKeyRef",
    "SecretRef",
    "SpecSource",
    "TaskBatch",
    "TaskBatchSpec",
    "TaskBatchStatus",
    "TaskCounts",
    "TaskResult",
    "TaskState",
    "TierPrice",
    "TimeoutSpec",
]

KINDS: tuple[tuple[KindInfo, type[ProjectRun] | type[TaskBatch]], ...] = (
    (PROJECT_RUN, ProjectRun),
    (TASK_BATCH, TaskBatch),
)
"""Every kind of this version with its root model, in the order the CRDs are generated."""
