"""The TaskBatch object of one scheduling round, as the operator creates it.

Owned by its ProjectRun and born with the :data:`FINALIZER` that holds it until its tasks' work is
merged or preserved on named branches; the operator removes the finalizer only then.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, TypedDict

from yokeflow.api.v1alpha1 import BatchTask, TaskBatchSpec
from yokeflow.specs.names import (
    COMPONENT_AGENT,
    LABEL_BATCH,
    Owner,
    common_labels,
    owner_reference,
    task_batch_name,
)
from yokeflow.specs.objects import ObjectMeta

__all__ = ["FINALIZER", "TaskBatchObject", "build_task_batch"]

FINALIZER = "yokeflow.io/merge-or-preserve"
"""Held until every task's work of the batch is merged or kept on a named branch."""


class TaskBatchObject(TypedDict):
    apiVersion: Literal["yokeflow.io/v1alpha1"]
    kind: Literal["TaskBatch"]
    metadata: ObjectMeta
    spec: dict[str, Any]
    """A :class:`~yokeflow.api.v1alpha1.TaskBatchSpec` in its JSON form."""


def build_task_batch(
    *,
    run: Owner,
    namespace: str,
    number: int,
    base_commit: str,
    tasks: Sequence[BatchTask],
    merge_strategy: Literal["merge", "squash"],
) -> TaskBatchObject:
    """TaskBatch ``number`` of ProjectRun ``run``: ``tasks`` start from ``base_commit``.

    The spec is validated by its model here, so a bad batch fails in the operator with a clear
    message instead of at the API server.
    """
    spec = TaskBatchSpec(
        project_run=run.name,
        number=number,
        base_commit=base_commit,
        tasks=list(tasks),
        merge_strategy=merge_strategy,
    )
    return {
        "apiVersion": "yokeflow.io/v1alpha1",
        "kind": "TaskBatch",
        "metadata": {
            "name": task_batch_name(run.name, number),
            "namespace": namespace,
            "labels": {**common_labels(run.name, COMPONENT_AGENT), LABEL_BATCH: str(number)},
            "ownerReferences": [owner_reference(run)],
            "finalizers": [FINALIZER],
        },
        "spec": spec.model_dump(mode="json"),
    }
