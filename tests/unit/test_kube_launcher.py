"""The cluster launcher on the in-memory Job gateway: one Job per lease, sessions reported once
(even by a new launcher after a restart), outcomes from the runner's report or the Job's state."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from yokeflow.adapters.kube.launcher import COLLECTED_ANNOTATION, KubeTaskLauncher
from yokeflow.core.records import Task
from yokeflow.core.worktree import WorktreeStatus
from yokeflow.ports.launcher import LaunchRequest, Lease
from yokeflow.ports.workspace import WorktreeInfo
from yokeflow.testing.fake_jobs import FakeJobGateway

SELECTOR = "yokeflow.io/project-run=demo"


def lease(key: str, attempt: int = 1) -> Lease:
    return Lease(
        project_id=1,
        task_id=len(key),
        task_key=key,
        attempt=attempt,
        owner="projectrun/uid-1",
        handle=f"demo-{key}-{attempt}",
        started_at=100.0,
        model="claude-sonnet-4-5",
    )


def request(key: str) -> LaunchRequest:
    task = Task(id=len(key), project_id=1, epic_id=1, key=key, title=key)
    worktree = WorktreeInfo(
        task_id=task.id,
        epic_id=1,
        title=key,
        branch=f"task/{key}",
        path="",
        status=WorktreeStatus.ACTIVE,
        exists=False,
    )
    return LaunchRequest(task=task, attempt=1, model="claude-sonnet-4-5", worktree=worktree)


def build(lease: Lease, request: LaunchRequest) -> dict[str, Any]:
    return {"metadata": {"name": lease.handle, "labels": {"yokeflow.io/project-run": "demo"}}}


def report(success: bool, cost: str, error: str | None = None) -> str:
    return json.dumps(
        {
            "task": "a",
            "success": success,
            "cost_usd": cost,
            "error": error,
            "session": {"model": "claude-haiku-4-5"},
        }
    )


async def test_a_launch_creates_one_job_even_when_repeated() -> None:
    jobs = FakeJobGateway()
    launcher = KubeTaskLauncher(jobs, SELECTOR, build)

    await launcher.launch(lease("a"), request("a"))
    await launcher.launch(lease("a"), request("a"))

    assert list(jobs.jobs) == ["demo-a-1"]
    assert await launcher.live() == [lease("a")]


async def test_a_builder_that_names_the_job_otherwise_is_refused() -> None:
    def misnamed(lease: Lease, request: LaunchRequest) -> dict[str, Any]:
        return {"metadata": {"name": "other"}}

    with pytest.raises(ValueError, match="named the Job 'other'"):
        await KubeTaskLauncher(FakeJobGateway(), SELECTOR, misnamed).launch(
            lease("a"), request("a")
        )


async def test_ended_sessions_are_reported_once_across_a_restart() -> None:
    jobs = FakeJobGateway()
    launcher = KubeTaskLauncher(jobs, SELECTOR, build)
    for key in ("a", "b", "c"):
        await launcher.launch(lease(key), request(key))
    jobs.finish(
        "demo-a-1",
        "succeeded",
        message=report(True, "0.0123"),
        times=("2026-12-03T10:00:00Z", "2026-12-03T10:01:30Z"),
    )
    jobs.finish("demo-b-1", "failed", exit_code=3, message=report(False, "0.5", "tests failed"))

    ended = {e.lease.task_key: e.outcome for e in await launcher.collect()}
    restarted = KubeTaskLauncher(jobs, SELECTOR, build)

    assert await restarted.collect() == []
    assert ended["a"].success is True
    assert ended["a"].cost_usd == Decimal("0.0123")
    assert ended["a"].model == "claude-haiku-4-5"
    assert ended["a"].duration_seconds == 90.0
    assert (ended["b"].success, ended["b"].error, ended["b"].cost_usd) == (
        False,
        "tests failed",
        Decimal("0.5"),
    )
    assert [x.task_key for x in await restarted.live()] == ["c"]
    assert COLLECTED_ANNOTATION in jobs.jobs["demo-a-1"].annotations


async def test_a_lost_report_is_still_understood_from_the_job() -> None:
    jobs = FakeJobGateway()
    launcher = KubeTaskLauncher(jobs, SELECTOR, build)
    await launcher.launch(lease("a"), request("a"))
    jobs.finish("demo-a-1", "failed", exit_code=137, reason="DeadlineExceeded")

    (ended,) = await launcher.collect()

    assert ended.outcome.success is False
    assert ended.outcome.error == "DeadlineExceeded (exit code 137)"
    assert ended.outcome.cost_usd == Decimal(0)


async def test_a_succeeded_job_whose_report_says_failure_is_a_failure() -> None:
    jobs = FakeJobGateway()
    launcher = KubeTaskLauncher(jobs, SELECTOR, build)
    await launcher.launch(lease("a"), request("a"))
    jobs.finish("demo-a-1", "succeeded", message=report(False, "0.1"))

    (ended,) = await launcher.collect()
    assert ended.outcome.success is False


async def test_stop_deletes_the_job_and_lost_spend_reads_the_report() -> None:
    jobs = FakeJobGateway()
    launcher = KubeTaskLauncher(jobs, SELECTOR, build)
    await launcher.launch(lease("a"), request("a"))
    jobs.finish("demo-a-1", "failed", message=report(False, "0.25"))

    spend = await launcher.lost_spend(lease("a"))
    assert spend is not None
    assert (spend.model, spend.cost_usd) == ("claude-haiku-4-5", Decimal("0.25"))

    await launcher.stop(lease("a"))
    await launcher.stop(lease("a"))
    assert jobs.deleted == ["demo-a-1"]
    assert await launcher.lost_spend(lease("a")) is None
