"""The cluster's merge lane on the in-memory Job gateway and store: one merge Job at a time for
every queued task, outcomes from the runner's report, each Job collected once (also by a new
lane after a restart), a Job that pushed nothing or left no report merged again, then given
up."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from yokeflow.core.merging import MergeStatus
from yokeflow.core.plan import parse_plan
from yokeflow.core.schedule import TaskState
from yokeflow.core.worktree import WorktreeStatus
from yokeflow.ports.workspace import TaskRef
from yokeflow.services.cluster_workspace import ClusterWorkspace
from yokeflow.services.job_merge_lane import (
    MERGE_SEQUENCE,
    MERGE_TASKS_ANNOTATION,
    MERGE_TRIES,
    JobMergeLane,
)
from yokeflow.testing.fake_jobs import FakeJobGateway
from yokeflow.testing.fake_store import FakeStore

SELECTOR = "yokeflow.io/project-run=demo,app.kubernetes.io/component=merge"
BASE = "a" * 40
AFTER = "b" * 40
PLAN = """
name: demo
epics:
  - key: core
    name: Core
    tasks:
      - {key: one, title: One}
      - {key: two, title: Two}
      - {key: three, title: Three}
"""


class Remote:
    """Branch heads the test moves (what ``git ls-remote`` would answer)."""

    def __init__(self) -> None:
        self.branches = {"main": BASE}

    async def heads(self, branches: Sequence[str]) -> Mapping[str, str]:
        return {b: self.branches[b] for b in branches if b in self.branches}


def merge_job(number: int, tasks: Sequence[tuple[str, str]], head: str) -> dict[str, Any]:
    return {
        "metadata": {
            "name": f"demo-merge-{number}",
            "labels": {
                "yokeflow.io/project-run": "demo",
                "app.kubernetes.io/component": "merge",
            },
        },
        "spec": {"head": head, "tasks": [list(t) for t in tasks]},
    }


class Lane:
    def __init__(self) -> None:
        self.store = FakeStore()
        self.jobs = FakeJobGateway()
        self.remote = Remote()
        self.ids: dict[str, int] = {}
        self.project = 0

    async def setup(self) -> None:
        stored = await self.store.create_plan(parse_plan(PLAN, "demo.yaml"))
        self.project = stored.project.id
        self.ids = dict(stored.task_ids)

    def lane(self, max_in_flight: int = 1) -> tuple[JobMergeLane, ClusterWorkspace]:
        branches = {i: f"yokeflow/demo/task/{k}" for k, i in self.ids.items()}
        workspace = ClusterWorkspace(
            ledger=self.store,
            remote=self.remote,
            project_id=self.project,
            url="git://example/demo.git",
            base_branch="main",
            integration_branch="yokeflow/demo/integration",
            task_branch=branches,
        )
        lane = JobMergeLane(
            jobs=self.jobs,
            store=self.store,
            workspace=workspace,
            project_id=self.project,
            selector=SELECTOR,
            build=merge_job,
            branches=branches,
            max_in_flight=max_in_flight,
        )
        return lane, workspace

    async def finished_tasks(self, workspace: ClusterWorkspace) -> None:
        await workspace.initialize()
        for key, task_id in self.ids.items():
            await workspace.create_worktree(TaskRef(task_id, key))

    async def status(self, key: str) -> WorktreeStatus:
        record = await self.store.get_worktree_by_task(self.project, self.ids[key])
        assert record is not None
        return record.status


@pytest.fixture
async def world() -> Lane:
    built = Lane()
    await built.setup()
    return built


async def test_one_merge_job_at_a_time_takes_every_queued_task_in_order(world: Lane) -> None:
    lane, workspace = world.lane()
    await world.finished_tasks(workspace)
    lane.submit("one", world.ids["one"])
    lane.submit("two", world.ids["two"])
    lane.submit("one", world.ids["one"])  # idempotent

    await lane.pump()
    await lane.pump()

    assert list(world.jobs.jobs) == ["demo-merge-1"]
    manifest = world.jobs.manifests["demo-merge-1"]
    assert manifest["spec"]["head"] == BASE
    assert [t[0] for t in manifest["spec"]["tasks"]] == ["one", "two"]
    annotated = json.loads(manifest["metadata"]["annotations"][MERGE_TASKS_ANNOTATION])
    assert [t[0] for t in annotated] == ["one", "two"]
    project = await world.store.get_project(world.project)
    assert project is not None
    assert project.metadata[MERGE_SEQUENCE] == 1
    assert lane.in_flight() == {"one": TaskState.MERGING, "two": TaskState.MERGING}
    assert lane.collect() == []


async def test_the_report_merges_one_and_keeps_the_conflicting_one_on_its_branch(
    world: Lane,
) -> None:
    lane, workspace = world.lane()
    await world.finished_tasks(workspace)
    lane.submit("one", world.ids["one"])
    lane.submit("two", world.ids["two"])
    await lane.pump()
    report = {
        "success": True,
        "pushed": True,
        "integration_commit": AFTER,
        "merged": ["one"],
        "conflicts": [{"key": "two", "files": ["app.py"]}],
        "tasks": [
            {"task": "one", "status": "merged", "commit": AFTER},
            {"task": "two", "status": "conflict", "commit": None},
        ],
    }
    world.jobs.finish("demo-merge-1", "succeeded", message=json.dumps(report))
    world.remote.branches["yokeflow/demo/integration"] = AFTER

    assert await lane.pump() is True
    landed = {m.key: m for m in lane.collect()}

    first, second = landed["one"].result, landed["two"].result
    assert first is not None
    assert second is not None
    assert (first.status, first.merge_commit) == (MergeStatus.MERGED, AFTER)
    assert second.status is MergeStatus.CONFLICT
    assert [c.path for c in second.conflicts] == ["app.py"]
    assert await world.status("one") is WorktreeStatus.MERGED
    assert await world.status("two") is WorktreeStatus.CONFLICT
    task = await world.store.get_task(world.ids["two"])
    assert task is not None
    assert task.last_error == "merge conflict in app.py"
    assert workspace.integration_commit == AFTER
    assert lane.in_flight() == {}
    # Collected once, also by a lane built after a restart.
    assert await lane.pump() is False
    again, _ = world.lane()
    assert await again.pump() is False
    assert again.collect() == []


async def test_without_a_report_a_succeeded_job_is_unknown_and_its_tasks_merge_again(
    world: Lane,
) -> None:
    # The merge runner exits 0 also when a task conflicted: a lost report says nothing about
    # which tasks merged, so none is taken as merged; the next Job (idempotent) tells.
    lane, workspace = world.lane()
    await world.finished_tasks(workspace)
    lane.submit("one", world.ids["one"])
    lane.submit("two", world.ids["two"])
    await lane.pump()
    world.jobs.finish("demo-merge-1", "succeeded", exit_code=0)
    world.remote.branches["yokeflow/demo/integration"] = AFTER

    assert await lane.pump() is True

    assert lane.collect() == []
    assert await world.status("one") is not WorktreeStatus.MERGED
    assert await world.status("two") is not WorktreeStatus.MERGED
    assert lane.in_flight() == {"one": TaskState.MERGING, "two": TaskState.MERGING}
    again = world.jobs.manifests["demo-merge-2"]
    assert again["spec"]["head"] == AFTER
    assert [t[0] for t in again["spec"]["tasks"]] == ["one", "two"]
    report = {
        "success": True,
        "pushed": True,
        "integration_commit": AFTER,
        "tasks": [
            {"task": "one", "status": "already_merged", "commit": AFTER},
            {"task": "two", "status": "conflict", "conflicts": ["app.py"]},
        ],
    }
    world.jobs.finish("demo-merge-2", "succeeded", message=json.dumps(report))
    await lane.pump()

    landed = {m.key: m.result for m in lane.collect()}
    assert landed["one"] is not None
    assert (landed["one"].status, landed["one"].merge_commit) == (MergeStatus.MERGED, AFTER)
    assert landed["two"] is not None
    assert landed["two"].status is MergeStatus.CONFLICT
    assert await world.status("one") is WorktreeStatus.MERGED
    assert await world.status("two") is WorktreeStatus.CONFLICT
    assert list(world.jobs.jobs) == ["demo-merge-1", "demo-merge-2"]


async def test_reports_lost_again_and_again_fail_the_task_with_that_reason(world: Lane) -> None:
    lane, workspace = world.lane()
    await world.finished_tasks(workspace)
    lane.submit("one", world.ids["one"])
    await lane.pump()
    for attempt in range(1, MERGE_TRIES + 1):
        world.jobs.finish(f"demo-merge-{attempt}", "succeeded")
        await lane.pump()

    (given_up,) = lane.collect()
    assert given_up.result is None
    assert given_up.error == f"merge Job demo-merge-{MERGE_TRIES} succeeded without a merge report"
    assert await world.status("one") is WorktreeStatus.CONFLICT
    assert len(world.jobs.jobs) == MERGE_TRIES


async def test_a_job_that_pushed_nothing_is_merged_again_then_given_up(world: Lane) -> None:
    lane, workspace = world.lane()
    await world.finished_tasks(workspace)
    lane.submit("one", world.ids["one"])
    await lane.pump()
    for attempt in range(1, MERGE_TRIES + 1):
        world.jobs.finish(
            f"demo-merge-{attempt}", "failed", exit_code=4, reason="BackoffLimitExceeded"
        )
        await lane.pump()
        if attempt < MERGE_TRIES:
            assert f"demo-merge-{attempt + 1}" in world.jobs.jobs
            assert lane.collect() == []

    (given_up,) = lane.collect()
    assert given_up.result is None
    assert given_up.error == (
        f"merge Job demo-merge-{MERGE_TRIES} failed: BackoffLimitExceeded (exit code 4)"
    )
    assert await world.status("one") is WorktreeStatus.CONFLICT
    assert len(world.jobs.jobs) == MERGE_TRIES


async def test_a_new_lane_sees_the_running_merge_job_and_starts_no_other(world: Lane) -> None:
    lane, workspace = world.lane()
    await world.finished_tasks(workspace)
    lane.submit("one", world.ids["one"])
    await lane.pump()

    restarted, _ = world.lane()
    await restarted.pump()
    restarted.submit("one", world.ids["one"])
    restarted.submit("two", world.ids["two"])
    await restarted.pump()

    assert list(world.jobs.jobs) == ["demo-merge-1"]
    assert restarted.in_flight() == {"one": TaskState.MERGING, "two": TaskState.MERGING}
    report = {"success": True, "pushed": True, "merged": ["one"]}
    world.jobs.finish("demo-merge-1", "succeeded", message=json.dumps(report))
    await restarted.pump()
    assert list(world.jobs.jobs) == ["demo-merge-1", "demo-merge-2"]
    tasks = world.jobs.manifests["demo-merge-2"]["spec"]["tasks"]
    assert [t[0] for t in tasks] == ["two"]


async def test_pipelined_a_finished_task_gets_its_merge_job_while_another_runs(
    world: Lane,
) -> None:
    lane, workspace = world.lane(max_in_flight=2)
    await world.finished_tasks(workspace)
    lane.submit("one", world.ids["one"])
    await lane.pump()
    lane.submit("two", world.ids["two"])
    await lane.pump()
    lane.submit("three", world.ids["three"])
    await lane.pump()  # two merge Jobs run: "three" waits for one of them

    assert list(world.jobs.jobs) == ["demo-merge-1", "demo-merge-2"]
    assert [t[0] for t in world.jobs.manifests["demo-merge-2"]["spec"]["tasks"]] == ["two"]
    assert set(lane.in_flight()) == {"one", "two", "three"}
    # The second Job ends first and pushed its merge on top of the first's: the integration
    # commit new tasks start from is read from the remote, whichever Job ended.
    report = {"success": True, "pushed": True, "merged": ["two"], "integration_commit": AFTER}
    world.jobs.finish("demo-merge-2", "succeeded", message=json.dumps(report))
    world.remote.branches["yokeflow/demo/integration"] = AFTER
    assert await lane.pump() is True
    assert [m.key for m in lane.collect()] == ["two"]
    assert workspace.integration_commit == AFTER
    assert list(world.jobs.jobs) == ["demo-merge-1", "demo-merge-2", "demo-merge-3"]
    assert [t[0] for t in world.jobs.manifests["demo-merge-3"]["spec"]["tasks"]] == ["three"]
    assert world.jobs.manifests["demo-merge-3"]["spec"]["head"] == AFTER
    assert lane.in_flight() == {"one": TaskState.MERGING, "three": TaskState.MERGING}

    # A lane built after a restart sees both running Jobs: nothing is merged by a second Job.
    restarted, _ = world.lane(max_in_flight=2)
    await restarted.pump()
    restarted.submit("one", world.ids["one"])
    restarted.submit("three", world.ids["three"])
    await restarted.pump()
    assert len(world.jobs.jobs) == 3
    assert restarted.in_flight() == {"one": TaskState.MERGING, "three": TaskState.MERGING}
    world.jobs.finish(
        "demo-merge-1", "succeeded", message=json.dumps({"pushed": True, "merged": ["one"]})
    )
    world.jobs.finish(
        "demo-merge-3", "succeeded", message=json.dumps({"pushed": True, "merged": ["three"]})
    )
    await restarted.pump()
    assert sorted(m.key for m in restarted.collect()) == ["one", "three"]
    assert [await world.status(k) for k in ("one", "two", "three")] == [WorktreeStatus.MERGED] * 3
    assert restarted.in_flight() == {}
    assert len(world.jobs.jobs) == 3
