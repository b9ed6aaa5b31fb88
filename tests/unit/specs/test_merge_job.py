"""yokeflow.specs.merge_job: the Job that merges a batch's task branches."""

from __future__ import annotations

import pytest

from yokeflow.api.v1alpha1 import ProjectRunSpec
from yokeflow.specs.merge_job import MERGE_DEADLINE_SECONDS, build_merge_job
from yokeflow.specs.names import Owner, merge_job_name
from yokeflow.specs.pods import PodSettings

COMMIT = "d" * 40


def test_the_merge_job_merges_the_given_branches_in_order_onto_the_integration_branch(
    spec: ProjectRunSpec, batch_owner: Owner, settings: PodSettings
) -> None:
    job = build_merge_job(
        run="todo",
        namespace="team-a",
        spec=spec,
        batch=batch_owner,
        batch_number=3,
        tasks=[("b", "yokeflow/todo/b"), ("a", "yokeflow/todo/a")],
        integration_branch="yokeflow/todo/integration",
        integration_commit=COMMIT,
        settings=settings,
    )

    assert job["metadata"]["name"] == merge_job_name("todo", 3)
    assert job["metadata"]["labels"]["app.kubernetes.io/component"] == "merge"
    assert job["spec"]["backoffLimit"] == 0
    assert job["spec"]["activeDeadlineSeconds"] == MERGE_DEADLINE_SECONDS
    pod = job["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False
    assert pod["initContainers"][0]["args"][1:3] == [COMMIT, "yokeflow/todo/integration"]
    merge = pod["containers"][0]
    args = merge["args"]
    assert args[args.index("--strategy") + 1] == "merge"
    assert [args[i + 1] for i, a in enumerate(args) if a == "--task"] == [
        "b=yokeflow/todo/b",
        "a=yokeflow/todo/a",
    ]
    script = merge["command"][2]
    assert "yokeflow runner merge" in script
    assert "--force" not in script
    assert "-f " not in script


def test_a_new_attempt_gets_a_new_name(
    spec: ProjectRunSpec, batch_owner: Owner, settings: PodSettings
) -> None:
    common = {
        "run": "todo",
        "namespace": "team-a",
        "spec": spec,
        "batch": batch_owner,
        "batch_number": 3,
        "tasks": [("a", "yokeflow/todo/a")],
        "integration_branch": "i",
        "integration_commit": COMMIT,
        "settings": settings,
    }
    first = build_merge_job(**common)  # type: ignore[arg-type]
    second = build_merge_job(**common, attempt=2)  # type: ignore[arg-type]
    assert first["metadata"]["name"] != second["metadata"]["name"]


def test_a_merge_of_nothing_is_refused(
    spec: ProjectRunSpec, batch_owner: Owner, settings: PodSettings
) -> None:
    with pytest.raises(ValueError, match="at least one"):
        build_merge_job(
            run="todo",
            namespace="team-a",
            spec=spec,
            batch=batch_owner,
            batch_number=1,
            tasks=[],
            integration_branch="i",
            integration_commit=COMMIT,
            settings=settings,
        )
