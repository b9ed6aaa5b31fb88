"""A ProjectRun carried out on kwok nodes: Jobs complete by kwok's stages, no runner report, so
the operator judges each from the Job's own state. The engine's scheduling shows through the API:
dependency order, ``maxConcurrency``, merge Jobs after task Jobs, one Job per attempt."""

from __future__ import annotations

from pathlib import Path

import pytest

from yokeflow.testing.controlplane import Kubectl
from yokeflow.testing.git_repos import make_repository
from yokeflow.testing.gitserver import GitServer

from .conftest import OperatorProcess
from .runs import DEPENDS, JobWatcher, condition, project_run, wait_for_phase

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
