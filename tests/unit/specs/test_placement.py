"""PodSettings' node selector and tolerations reach the pods of every Job the builders make."""

from __future__ import annotations

import dataclasses

from yokeflow.api.v1alpha1 import BatchTask, ProjectRunSpec
from yokeflow.specs.merge_job import build_merge_job
from yokeflow.specs.names import Owner
from yokeflow.specs.objects import Job, Toleration
from yokeflow.specs.planning_job import build_planning_job
from yokeflow.specs.pods import PodSettings
from yokeflow.specs.task_job import build_task_job

COMMIT = "d" * 40
AGENT_TAINT: Toleration = {
    "key": "yokeflow.io/agents",
    "operator": "Equal",
    "value": "true",
    "effect": "NoSchedule",
}


def _jobs(
    spec: ProjectRunSpec, batch: Owner, run: Owner, task: BatchTask, settings: PodSettings
) -> list[Job]:
    return [
        build_task_job(
            run="todo",
            namespace="ns",
            spec=spec,
            batch=batch,
            batch_number=1,
            task=task,
            attempt=1,
            base_commit=COMMIT,
            integration_branch="main",
            settings=settings,
        ),
        build_merge_job(
            run="todo",
            namespace="ns",
            spec=spec,
            batch=batch,
            batch_number=1,
            tasks=[(task.key, task.branch)],
            integration_branch="main",
            integration_commit=COMMIT,
            settings=settings,
        ),
        build_planning_job(
            run="todo",
            namespace="ns",
            spec=spec,
            owner=run,
            attempt=1,
            model="claude-sonnet-4-5",
            settings=settings,
        ),
    ]


def test_without_placement_the_pods_may_run_on_any_node(
    spec: ProjectRunSpec,
    batch_owner: Owner,
    run_owner: Owner,
    task: BatchTask,
    settings: PodSettings,
) -> None:
    for job in _jobs(spec, batch_owner, run_owner, task, settings):
        pod = job["spec"]["template"]["spec"]
        assert "nodeSelector" not in pod
        assert "tolerations" not in pod


def test_every_pod_gets_the_node_selector_and_tolerations(
    spec: ProjectRunSpec,
    batch_owner: Owner,
    run_owner: Owner,
    task: BatchTask,
    settings: PodSettings,
) -> None:
    placed = dataclasses.replace(
        settings, node_selector={"pool": "agents"}, tolerations=(AGENT_TAINT,)
    )
    jobs = _jobs(spec, batch_owner, run_owner, task, placed)

    for job in jobs:
        pod = job["spec"]["template"]["spec"]
        assert pod["nodeSelector"] == {"pool": "agents"}
        assert pod["tolerations"] == [AGENT_TAINT]
    # Each manifest holds its own copies: changing one never changes the settings or another.
    jobs[0]["spec"]["template"]["spec"]["nodeSelector"]["pool"] = "x"
    jobs[0]["spec"]["template"]["spec"]["tolerations"][0]["value"] = "x"
    assert placed.node_selector == {"pool": "agents"}
    assert placed.tolerations[0]["value"] == "true"
    assert jobs[1]["spec"]["template"]["spec"]["tolerations"] == [AGENT_TAINT]
