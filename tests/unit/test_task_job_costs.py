"""The cost a task Job's termination message names is recorded once, keyed by the attempt's
session: when the runner already reported it nothing is added, when it never reached the task
manager a session row is opened for it, and a crash between recording and marking the Job
collected (the next collection sees the Job again) records nothing twice."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from decimal import Decimal
from typing import Any, cast

from yokeflow.adapters.kube.client import KubeApi
from yokeflow.adapters.kube.task_jobs import RunTaskLauncher
from yokeflow.core.plan import parse_plan
from yokeflow.core.records import SessionStatus
from yokeflow.errors import KubeUnavailableError
from yokeflow.ports.launcher import LaunchRequest, Lease
from yokeflow.testing.fake_jobs import FakeJobGateway
from yokeflow.testing.fake_store import FakeStore

PLAN = """
name: costs
epics:
  - key: core
    name: Core
    tasks:
      - {key: api, title: Write the API}
"""
SELECTOR = "yokeflow.io/project-run=demo"


class CrashingAnnotations(FakeJobGateway):
    """Fails the first ``crashes`` annotations (the operator died before marking the Job)."""

    def __init__(self, crashes: int) -> None:
        super().__init__()
        self.crashes = crashes

    async def annotate(self, name: str, annotations: Any) -> None:
        if self.crashes > 0:
            self.crashes -= 1
            raise KubeUnavailableError("PATCH", name, 503, "the operator was killed here", None)
        await super().annotate(name, annotations)


def build(lease: Lease, request: LaunchRequest) -> dict[str, Any]:
    return {"metadata": {"name": lease.handle, "labels": {"yokeflow.io/project-run": "demo"}}}


async def _ended_job(
    store: FakeStore, jobs: FakeJobGateway, cost: str
) -> tuple[RunTaskLauncher, int, int]:
    stored = await store.create_plan(parse_plan(PLAN, "costs.yaml"))
    pid, task = stored.project.id, stored.task_ids["api"]
    launcher = RunTaskLauncher(
        api=cast(KubeApi, None),  # only a launch creates Secrets
        jobs=jobs,
        selector=SELECTOR,
        build_job=build,
        build_secret=lambda lease, request: {},
        store=store,
        project_id=pid,
    )
    lease = Lease(pid, task, "api", 1, "op", "demo-api-1", time.time() - 1, model="claude-x")
    await jobs.create(
        {
            "metadata": {
                "name": lease.handle,
                "labels": {"yokeflow.io/project-run": "demo"},
                "annotations": {"yokeflow.io/lease": json.dumps(asdict(lease))},
            }
        }
    )
    report = {"task": "api", "success": True, "cost_usd": cost, "session": {"model": "m"}}
    jobs.finish(lease.handle, "succeeded", message=json.dumps(report))
    return launcher, pid, task


async def test_a_lost_runner_report_is_recorded_once_across_a_crash() -> None:
    store, jobs = FakeStore(), CrashingAnnotations(crashes=1)
    launcher, pid, task = await _ended_job(store, jobs, "0.40")

    # Recorded, then the Job could not be marked collected (as if the operator died there):
    # it is not reported now, but by a later pass.
    assert await launcher.collect() == []
    launcher.next_pass()
    (ended,) = await launcher.collect()  # the restarted operator collects it again
    launcher.next_pass()
    assert await launcher.collect() == []

    assert ended.outcome.cost_usd == Decimal("0.40")
    (cost,) = await store.list_agent_costs(pid)
    (session,) = await store.list_sessions(pid, task_id=task)
    assert (cost.session_id, cost.cost_usd, cost.task_id) == (session.id, Decimal("0.4"), task)
    assert session.status is SessionStatus.SUCCEEDED  # opened and closed for the lost report


async def test_a_cost_the_runner_reported_is_not_added_again() -> None:
    store, jobs = FakeStore(), FakeJobGateway()
    launcher, pid, task = await _ended_job(store, jobs, "0.40")
    session = await store.start_session(pid, task_id=task, model="m")
    await store.record_agent_cost(pid, model="m", cost_usd=Decimal("0.4"), session_id=session.id)

    await launcher.collect()

    assert [c.session_id for c in await store.list_agent_costs(pid)] == [session.id]
    assert await store.get_project_cost_total(pid) == Decimal("0.4")
