"""ProjectRuns carried out on kwok nodes: task Jobs complete (or, for the task keyed
``kwok-fails``, fail) by kwok's stages with no runner report, so the operator judges each from
the Job's own state; a merge Job's pod ends with the report of a merge of every task it was
given. The engine's scheduling shows through the API: dependency order, ``maxConcurrency``,
merge Jobs after task Jobs, one Job per attempt, retries, blocked dependents, ``failFast``."""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

import pytest

from yokeflow.testing.controlplane import Kubectl
from yokeflow.testing.controlplane.simulation import FAILING_TASK
from yokeflow.testing.git_repos import make_repository
from yokeflow.testing.gitserver import GitServer

from .conftest import OperatorProcess
from .runs import DEPENDS, JobRecord, JobWatcher, condition, project_run, wait_for_phase

pytestmark = pytest.mark.controlplane


def test_a_run_on_kwok_nodes_succeeds_in_dependency_order_within_max_concurrency(
    kubectl: Kubectl,
    namespace: str,
    operator: OperatorProcess,
    git_server: GitServer,
    tmp_path: Path,
) -> None:
    url = git_server.publish(make_repository(tmp_path / "source"), f"kwok-{namespace}")
    run = project_run("kwok", url, parallel={"maxConcurrency": 2})

    with JobWatcher(kubectl, namespace) as watcher:
        kubectl.apply(run, "-n", namespace)
        done = wait_for_phase(kubectl, namespace, "kwok", {"Succeeded", "Failed"})
    jobs, creations, peak = watcher.snapshot()

    status = done["status"]
    assert status["phase"] == "Succeeded", status
    assert status["tasks"]["total"] == 8
    assert status["tasks"]["succeeded"] == 8
    assert status["progress"] == "8/8"
    assert (condition(done, "Ready")["status"], condition(done, "Ready")["reason"]) == (
        "True",
        "Succeeded",
    )
    tasks = {r.task: r for r in jobs.values() if r.component == "agent"}
    assert set(tasks) == set(DEPENDS), jobs
    assert len(creations) == len(set(creations)), "a Job was created twice"
    assert 1 <= peak <= 2, f"{peak} task Jobs were active at once (maxConcurrency 2)"
    merges = [r for r in jobs.values() if r.component == "merge"]
    merged_by = {key: m for m in merges for key in m.merging}
    assert set(merged_by) == set(DEPENDS)
    for key, record in tasks.items():
        assert record.succeeded is True
        merge = merged_by[key]
        assert merge.created > (record.ended or 0), f"{key} was merged before its Job ended"
        for dependency in DEPENDS[key]:
            landed = merged_by[dependency].ended
            assert landed is not None, f"the merge of {dependency} never ended"
            assert landed < record.created, f"{key} started before {dependency} was merged"
    batches = kubectl.get("taskbatches", "-n", namespace)["items"]
    assert batches, "no TaskBatch was created"
    assert sum(len(b["spec"]["tasks"]) for b in batches) == 8
    for batch in batches:
        assert batch["status"]["phase"] == "Succeeded"
        assert "yokeflow.io/merge-or-preserve" not in batch["metadata"].get("finalizers", [])

    table = kubectl.run("get", "projectruns", "-n", namespace)
    header, row = table.splitlines()[:2]
    assert header.split() == ["NAME", "PHASE", "PROGRESS", "READY", "REASON", "COST", "AGE"]
    assert row.split()[:6] == ["kwok", "Succeeded", "8/8", "True", "Succeeded", "0"]


def test_the_operator_killed_three_times_resumes_and_creates_no_job_twice(
    kubectl: Kubectl,
    namespace: str,
    operator: OperatorProcess,
    git_server: GitServer,
    tmp_path: Path,
) -> None:
    url = git_server.publish(make_repository(tmp_path / "source"), f"kills-{namespace}")
    run = project_run("killed", url, parallel={"maxConcurrency": 2})
    chance = random.Random()
    kills: list[float] = []

    with JobWatcher(kubectl, namespace) as watcher:
        kubectl.apply(run, "-n", namespace)
        try:
            for _ in range(3):
                wait = chance.uniform(1.0, 6.0)
                time.sleep(wait)
                kills.append(wait)
                operator.kill()
                operator.restart()
        finally:
            if not operator.alive():
                operator.restart()
        done = wait_for_phase(kubectl, namespace, "killed", {"Succeeded", "Failed"})
    jobs, creations, peak = watcher.snapshot()

    assert done["status"]["phase"] == "Succeeded", (kills, done["status"])
    assert done["status"]["progress"] == "8/8"
    assert len(creations) == len(set(creations)), f"a Job was created twice (kills at {kills})"
    assert peak <= 2
    tasks = [r.task for r in jobs.values() if r.component == "agent"]
    assert sorted(tasks) == sorted(DEPENDS), f"one Job per task expected: {sorted(tasks)}"
    merged = [key for r in jobs.values() if r.component == "merge" for key in r.merging]
    assert sorted(merged) == sorted(DEPENDS), f"every task merged once: {sorted(merged)}"


def test_deleting_a_running_run_stops_its_jobs_and_lets_its_batches_go(
    kubectl: Kubectl,
    namespace: str,
    operator: OperatorProcess,
    git_server: GitServer,
    tmp_path: Path,
) -> None:
    url = git_server.publish(make_repository(tmp_path / "source"), f"gone-{namespace}")
    kubectl.apply(project_run("gone", url, parallel={"maxConcurrency": 3}), "-n", namespace)
    deadline = time.monotonic() + 60
    while not kubectl.get("taskbatches", "-n", namespace)["items"]:
        assert time.monotonic() < deadline, "no TaskBatch after 60s"
        time.sleep(0.3)

    kubectl.run("delete", "projectrun", "gone", "-n", namespace, "--timeout=60s")

    assert kubectl.attempt("get", "projectrun", "gone", "-n", namespace).returncode != 0
    deadline = time.monotonic() + 60
    while True:
        left = kubectl.get("taskbatches", "-n", namespace)["items"]
        jobs = kubectl.get("jobs", "-n", namespace)["items"]
        running = [j for j in jobs if not j.get("status", {}).get("conditions")]
        if not left and not running:
            break
        assert time.monotonic() < deadline, f"left: {left}, running Jobs: {running}"
        time.sleep(0.5)


def test_jobs_kueue_holds_show_as_queued_and_are_never_unsuspended(
    kubectl: Kubectl,
    namespace: str,
    operator: OperatorProcess,
    git_server: GitServer,
    tmp_path: Path,
) -> None:
    url = git_server.publish(make_repository(tmp_path / "source"), f"queued-{namespace}")
    run = project_run("queued", url, parallel={"maxConcurrency": 2}, queueName="agents")
    kubectl.apply(run, "-n", namespace)

    deadline = time.monotonic() + 60
    while True:
        status = kubectl.get("projectrun", "queued", "-n", namespace).get("status", {})
        if status.get("tasks", {}).get("queued") == 2:
            break
        assert time.monotonic() < deadline, f"not 2 queued after 60s: {status}"
        time.sleep(0.5)
    time.sleep(8)  # passes go by (resync every 3 s): nothing is un-suspended or added

    jobs = kubectl.get("jobs", "-n", namespace)["items"]
    assert len(jobs) == 2, [j["metadata"]["name"] for j in jobs]
    for job in jobs:
        assert job["spec"]["suspend"] is True
        assert job["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "agents"
    status = kubectl.get("projectrun", "queued", "-n", namespace)["status"]
    assert (status["tasks"]["queued"], status["tasks"]["running"]) == (2, 0)
    assert status["phase"] == "Running"


def failing_on_kwok(name: str, url: str, **spec: Any) -> dict[str, Any]:
    """A run whose first task kwok fails on every attempt, a dependent of it and (with
    ``with_other``) a task of its own."""
    tasks: list[dict[str, Any]] = [
        {"key": FAILING_TASK, "title": "Fail on kwok"},
        {"key": "after", "title": "Follow", "dependsOn": [FAILING_TASK]},
    ]
    if spec.pop("with_other", False):
        tasks.append({"key": "other", "title": "Something else"})
    return {
        "apiVersion": "yokeflow.io/v1alpha1",
        "kind": "ProjectRun",
        "metadata": {"name": name},
        "spec": {
            "repository": {"url": url},
            "plan": {"name": "failing", "epics": [{"key": "core", "name": "Core", "tasks": tasks}]},
            "parallel": {"maxConcurrency": 1, **spec.pop("parallel", {})},
            **spec,
        },
    }


def test_a_task_kwok_fails_is_retried_then_fails_the_run_and_blocks_its_dependents(
    kubectl: Kubectl,
    namespace: str,
    operator: OperatorProcess,
    git_server: GitServer,
    tmp_path: Path,
) -> None:
    url = git_server.publish(make_repository(tmp_path / "source"), f"kwokfail-{namespace}")
    retried = failing_on_kwok(
        "retried", url, agent={"retries": {"maxAttempts": 3, "backoffSeconds": 0}}
    )
    fast = failing_on_kwok(
        "fast",
        url,
        with_other=True,
        parallel={"failFast": True},
        agent={"retries": {"maxAttempts": 1}},
    )

    with JobWatcher(kubectl, namespace) as watcher:
        kubectl.apply(retried, "-n", namespace)
        kubectl.apply(fast, "-n", namespace)
        done = wait_for_phase(kubectl, namespace, "retried", {"Succeeded", "Failed"})
        stopped = wait_for_phase(kubectl, namespace, "fast", {"Succeeded", "Failed"})
    jobs, creations, _ = watcher.snapshot()

    def task_jobs(run: str) -> list[JobRecord]:
        return [r for r in jobs.values() if r.component == "agent" and r.name.startswith(run)]

    assert len(creations) == len(set(creations)), "a Job was created twice"
    attempts = task_jobs("retried")
    assert [r.task for r in attempts] == [FAILING_TASK] * 3, attempts
    assert all(r.succeeded is False for r in attempts), attempts
    assert not [r for r in jobs.values() if r.component == "merge"], "a failed task was merged"
    status = done["status"]
    assert status["phase"] == "Failed", status
    assert (status["tasks"]["failed"], status["tasks"]["blocked"]) == (1, 1), status["tasks"]
    degraded = condition(done, "Degraded")
    assert (degraded["status"], degraded["reason"]) == ("True", "TaskFailed"), degraded
    assert f"'{FAILING_TASK}' failed" in degraded["message"], degraded
    assert "(exit code 1)" in degraded["message"], degraded  # kwok's pod-fail-task stage
    ready = condition(done, "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "TasksFailed")

    assert [r.task for r in task_jobs("fast")] == [FAILING_TASK]
    assert stopped["status"]["phase"] == "Failed", stopped["status"]
    assert "fail-fast" in condition(stopped, "Ready")["message"]
    assert stopped["status"]["tasks"]["pending"] + stopped["status"]["tasks"]["blocked"] == 2
