"""yokeflow.specs.taskbatch: the TaskBatch of a scheduling round."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from yokeflow.api.v1alpha1 import BatchTask, TaskBatch
from yokeflow.specs.names import Owner, task_batch_name
from yokeflow.specs.taskbatch import FINALIZER, build_task_batch


def test_a_batch_is_owned_by_its_run_held_by_the_finalizer_and_valid(
    run_owner: Owner, task: BatchTask
) -> None:
    batch = build_task_batch(
        run=run_owner,
        namespace="team-a",
        number=4,
        base_commit="e" * 40,
        tasks=[task],
        merge_strategy="squash",
    )

    assert batch["metadata"]["name"] == task_batch_name("todo", 4)
    assert batch["metadata"]["finalizers"] == [FINALIZER]
    assert batch["metadata"]["ownerReferences"][0]["kind"] == "ProjectRun"
    assert batch["metadata"]["labels"]["yokeflow.io/batch"] == "4"
    assert batch["spec"]["projectRun"] == "todo"
    assert batch["spec"]["tasks"][0]["branch"] == "yokeflow/todo/api-auth"
    assert batch["spec"]["mergeStrategy"] == "squash"
    TaskBatch.model_validate(batch)


def test_a_batch_without_tasks_or_with_a_bad_commit_is_refused(
    run_owner: Owner, task: BatchTask
) -> None:
    with pytest.raises(ValidationError):
        build_task_batch(
            run=run_owner,
            namespace="n",
            number=1,
            base_commit="e" * 40,
            tasks=[],
            merge_strategy="merge",
        )
    with pytest.raises(ValidationError, match=r"base_commit|baseCommit"):
        build_task_batch(
            run=run_owner,
            namespace="n",
            number=1,
            base_commit="main",
            tasks=[task],
            merge_strategy="merge",
        )
