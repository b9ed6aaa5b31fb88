"""The Job gateway on the real API server with kwok nodes: creation is idempotent, observation
sees success, failure (with the pod's exit code) and Kueue-style suspension; deletion is too."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from yokeflow.adapters.kube.client import KubeApi
from yokeflow.adapters.kube.jobs import KubeJobGateway
from yokeflow.adapters.kube.launcher import KubeTaskLauncher
from yokeflow.ports.jobs import JobSight
from yokeflow.ports.launcher import Lease
from yokeflow.testing.controlplane import FAIL_LABEL, RunningControlPlane

pytestmark = pytest.mark.controlplane

RUN_LABEL = "yokeflow.io/project-run"


def job(name: str, run: str, fail: bool = False, suspend: bool = False) -> dict[str, Any]:
    labels = {RUN_LABEL: run}
    pod_labels = dict(labels)
    if fail:
        key, value = FAIL_LABEL
        pod_labels[key] = value
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "backoffLimit": 0,
            "suspend": suspend,
            "template": {
                "metadata": {"labels": pod_labels},
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "agent", "image": "none", "command": ["true"]}],
                },
            },
        },
    }


@pytest.fixture
async def api(control_plane: RunningControlPlane) -> AsyncIterator[KubeApi]:
    async with await KubeApi.connect(control_plane.kubeconfig) as connected:
        yield connected


async def settled(jobs: KubeJobGateway, selector: str, count: int) -> dict[str, JobSight]:
    deadline = time.monotonic() + 90
    while True:
        seen = {s.name: s for s in await jobs.observe(selector)}
        finished = [s for s in seen.values() if s.state in ("succeeded", "failed", "queued")]
        if len(finished) == count:
            return seen
        assert time.monotonic() < deadline, f"not settled after 90s: {seen}"
        await asyncio.sleep(0.5)


async def test_jobs_are_created_once_and_observed_to_their_end(
    api: KubeApi, namespace: str
) -> None:
    jobs = KubeJobGateway(api, namespace)
    manifests = [job(f"task-{i}", "r1") for i in range(5)]
    manifests += [job("task-fails", "r1", fail=True), job("task-queued", "r1", suspend=True)]

    created = await asyncio.gather(*(jobs.create(m) for m in manifests))
    again = await asyncio.gather(*(jobs.create(m) for m in manifests))

    assert created == [True] * 7
    assert again == [False] * 7
    seen = await settled(jobs, f"{RUN_LABEL}=r1", 7)
    assert {seen[f"task-{i}"].state for i in range(5)} == {"succeeded"}
    assert seen["task-0"].exit_code == 0
    failed = seen["task-fails"]
    assert (failed.state, failed.exit_code) == ("failed", 1)
    assert failed.reason == "BackoffLimitExceeded"
    assert seen["task-queued"].state == "queued"


async def test_deleting_a_job_is_idempotent(api: KubeApi, namespace: str) -> None:
    jobs = KubeJobGateway(api, namespace)
    await jobs.create(job("doomed", "r2", suspend=True))
    assert (await jobs.get("doomed")) is not None

    assert await jobs.delete("doomed") is True
    assert await jobs.delete("doomed") is False
    deadline = time.monotonic() + 30
    while (await jobs.get("doomed")) is not None:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.2)


async def test_the_cluster_launcher_reports_kwok_jobs_once(api: KubeApi, namespace: str) -> None:
    def build(lease: Lease, request: Any) -> dict[str, Any]:
        return job(lease.handle, "r3", fail=lease.task_key == "bad")

    launcher = KubeTaskLauncher(KubeJobGateway(api, namespace), f"{RUN_LABEL}=r3", build)
    leases = [
        Lease(1, i, key, 1, "projectrun/r3", f"r3-{key}-1", 0.0, model="m")
        for i, key in enumerate(("good", "bad"))
    ]
    for lease in leases:
        await launcher.launch(lease, None)

    ended: dict[str, Any] = {}
    deadline = time.monotonic() + 90
    while len(ended) < 2:
        assert time.monotonic() < deadline, f"ended so far: {ended}"
        ended.update({e.lease.task_key: e.outcome for e in await launcher.collect()})
        await asyncio.sleep(0.5)

    assert ended["good"].success is True
    assert ended["bad"].success is False
    assert (
        ended["bad"].error
        == "BackoffLimitExceeded: Job has reached the specified backoff limit (exit code 1)"
    )
    assert await launcher.collect() == []
    assert await launcher.live() == []
