"""The watched Job view on the real API server with kwok nodes: the gateway's own writes show at
once, other clients' Jobs arrive by the watch, ends carry the pod's exit code, a change calls
back with the Job's labels, and a view started later lists the same."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any

import pytest

from yokeflow.adapters.kube.client import KubeApi
from yokeflow.adapters.kube.job_view import JobView
from yokeflow.adapters.kube.jobs import KubeJobGateway
from yokeflow.ports.jobs import JobSight
from yokeflow.testing.controlplane import RunningControlPlane

from .test_job_gateway import RUN_LABEL, job

pytestmark = pytest.mark.controlplane

MANAGED = "app.kubernetes.io/managed-by=yokeflow"


@pytest.fixture
async def api(control_plane: RunningControlPlane) -> AsyncIterator[KubeApi]:
    async with await KubeApi.connect(control_plane.kubeconfig) as connected:
        yield connected


def managed(name: str, run: str, fail: bool = False) -> dict[str, Any]:
    manifest = job(name, run, fail=fail)
    for meta in (manifest["metadata"], manifest["spec"]["template"]["metadata"]):
        meta["labels"]["app.kubernetes.io/managed-by"] = "yokeflow"
    return manifest


async def ended(jobs: KubeJobGateway, selector: str, count: int) -> dict[str, JobSight]:
    deadline = time.monotonic() + 90
    while True:
        seen = {s.name: s for s in await jobs.observe(selector)}
        if sum(s.state in ("succeeded", "failed") for s in seen.values()) == count:
            return seen
        assert time.monotonic() < deadline, f"not ended after 90s: {seen}"
        await asyncio.sleep(0.2)


async def test_the_view_sees_own_writes_at_once_and_ends_by_the_watch(
    api: KubeApi, namespace: str
) -> None:
    changed: list[str] = []

    def note(labels: Mapping[str, str]) -> None:
        changed.append(labels.get(RUN_LABEL, ""))

    view = JobView(api, namespace, MANAGED, on_change=note, timeout_seconds=20)
    jobs = KubeJobGateway(api, namespace, view=view)
    try:
        await view.ready()
        selector = f"{RUN_LABEL}=v1,{MANAGED}"
        assert await jobs.observe(selector) == []
        for i in range(3):
            assert await jobs.create(managed(f"view-{i}", "v1")) is True
        # Created through the gateway: in the view before any watch event could say so.
        assert sorted(s.name for s in await jobs.observe(selector)) == [
            "view-0",
            "view-1",
            "view-2",
        ]
        await jobs.annotate("view-0", {"yokeflow.io/collected": "true"})
        (first,) = [s for s in await jobs.observe(selector) if s.name == "view-0"]
        assert first.annotations.get("yokeflow.io/collected") == "true"

        # Another client's Job arrives by the watch; a failing one ends with its exit code.
        await api.create(
            f"/apis/batch/v1/namespaces/{namespace}/jobs", managed("view-bad", "v1", fail=True)
        )
        seen = await ended(jobs, selector, 4)
        assert {seen[f"view-{i}"].state for i in range(3)} == {"succeeded"}
        assert seen["view-0"].exit_code == 0
        assert seen["view-0"].annotations.get("yokeflow.io/collected") == "true"
        assert (seen["view-bad"].state, seen["view-bad"].exit_code) == ("failed", 1)
        assert "v1" in changed
        # Selectors the view does not cover are listed from the API, and agree.
        direct = {s.name: s.state for s in await jobs.observe(f"{RUN_LABEL}=v1")}
        assert direct == {name: s.state for name, s in seen.items()}

        # A view started now lists what the first one followed.
        later = JobView(api, namespace, MANAGED)
        try:
            listed = {s.name: s.state for s in await later.observe(selector)}
        finally:
            await later.close()
        assert listed == {name: s.state for name, s in seen.items()}
    finally:
        await view.close()
