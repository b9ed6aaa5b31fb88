"""Planning a spec text in a cluster, on the in-memory store and Job gateway: one planning Job
per attempt, named by the attempt saved before it is created (a restarted operator finds it and
creates no second one), the plan accepted once its Job succeeded and the plan resolves, a failed
attempt retried after its back-off with its partial plan cleared, the last failure final."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from yokeflow.core.records import Project, SessionStatus
from yokeflow.core.stored_plan import plan_of
from yokeflow.services.cluster_planning import (
    PLANNING_ATTEMPT,
    Planned,
    Planning,
    PlanningFailed,
    PlanningJobs,
    advance,
    run_project,
)
from yokeflow.services.planning import PLAN_STATE
from yokeflow.testing.fake_jobs import FakeJobGateway
from yokeflow.testing.fake_store import FakeStore

NOW = 1_000_000.0
ENDED = "1970-01-12T13:46:40Z"  # NOW


@dataclass
class Jobs:
    gateway: FakeJobGateway = field(default_factory=FakeJobGateway)
    created: list[str] = field(default_factory=list)

    def planning(self) -> PlanningJobs:
        async def create(project: Project, attempt: int) -> None:
            name = f"run-plan-{attempt}"
            self.created.append(name)
            await self.gateway.create({"metadata": {"name": name, "labels": {}}})

        return PlanningJobs(self.gateway, lambda attempt: f"run-plan-{attempt}", create, "m")


async def _write_plan(store: FakeStore, project: Project) -> None:
    epic = await store.create_epic(project.id, "notes", "Notes")
    first = await store.create_task(project.id, epic.id, "store", "Store notes")
    await store.create_task(project.id, epic.id, "export", "Export notes", depends_on=[first.id])


async def _project(store: FakeStore) -> Project:
    return await run_project(store, "ns/run@uid", "A notes app.")


async def _again(store: FakeStore, project: Project) -> Project:
    found = await store.get_project(project.id)
    assert found is not None
    return found


def _report(success: bool, error: str | None = None) -> str:
    return json.dumps({"success": success, "epics": 1, "tasks_created": 2, "error": error})


async def test_one_job_per_attempt_even_across_restarts_then_the_plan_is_accepted() -> None:
    store, jobs = FakeStore(), Jobs()
    project = await _project(store)
    assert await run_project(store, "ns/run@uid", "A notes app.") == project  # created once

    first = await advance(
        store, project, jobs.planning(), max_attempts=2, backoff_seconds=0, now=NOW
    )
    assert isinstance(first, Planning)
    assert (first.attempt, first.job) == (1, "run-plan-1")
    project = await _again(store, project)
    assert project.metadata[PLANNING_ATTEMPT] == 1
    for _ in range(3):  # the operator restarted: same attempt, same Job, none created
        again = await advance(
            store, project, jobs.planning(), max_attempts=2, backoff_seconds=0, now=NOW
        )
        assert isinstance(again, Planning)
        assert again.job == "run-plan-1"
    assert jobs.created == ["run-plan-1"]

    await _write_plan(store, project)
    jobs.gateway.finish("run-plan-1", "succeeded", message=_report(True), times=(ENDED, ENDED))
    planned = await advance(
        store, project, jobs.planning(), max_attempts=2, backoff_seconds=0, now=NOW
    )
    assert isinstance(planned, Planned)
    assert (planned.epics, planned.tasks, planned.attempts) == (1, 2, 1)
    accepted = await _again(store, project)
    assert accepted.metadata[PLAN_STATE] == "accepted"
    plan = plan_of("run", await store.list_epics(project.id), await store.list_tasks(project.id))
    assert [t.key for _, t in plan.tasks()] == ["store", "export"]
    assert plan.epics[0].tasks[1].depends_on == ["store"]


async def test_a_job_lost_before_its_creation_is_created_under_the_same_name() -> None:
    store, jobs = FakeStore(), Jobs()
    project = await _project(store)
    await store.update_project_metadata(project.id, {PLANNING_ATTEMPT: 1})  # then a crash
    step = await advance(
        store,
        await _again(store, project),
        jobs.planning(),
        max_attempts=2,
        backoff_seconds=0,
        now=NOW,
    )
    assert isinstance(step, Planning)
    assert jobs.created == ["run-plan-1"]


async def test_a_failed_attempt_is_retried_after_its_backoff_with_its_partial_plan_cleared() -> (
    None
):
    store, jobs = FakeStore(), Jobs()
    project = await _project(store)
    await advance(store, project, jobs.planning(), max_attempts=2, backoff_seconds=30, now=NOW)
    project = await _again(store, project)
    await _write_plan(store, project)  # a partial plan the failed session left
    session = await store.start_session(project.id, kind="planning")
    jobs.gateway.finish(
        "run-plan-1", "failed", exit_code=3, message=_report(False, "no valid plan: model down"),
        times=(ENDED, ENDED),
    )  # fmt: skip

    waiting = await advance(
        store, project, jobs.planning(), max_attempts=2, backoff_seconds=30, now=NOW + 10
    )
    assert isinstance(waiting, Planning)
    assert (waiting.attempt, waiting.wake_at) == (1, NOW + 30)
    assert waiting.failed_before == "no valid plan: model down"
    assert jobs.created == ["run-plan-1"]

    retried = await advance(
        store, project, jobs.planning(), max_attempts=2, backoff_seconds=30, now=NOW + 31
    )
    assert isinstance(retried, Planning)
    assert (retried.attempt, retried.job) == (2, "run-plan-2")
    assert jobs.created == ["run-plan-1", "run-plan-2"]
    assert await store.list_tasks(project.id) == []  # the next attempt starts from nothing
    assert (await store.get_session(session.id)).status is SessionStatus.FAILED  # type: ignore[union-attr]

    jobs.gateway.finish("run-plan-2", "failed", exit_code=1, reason="DeadlineExceeded")
    failed = await advance(
        store,
        await _again(store, project),
        jobs.planning(),
        max_attempts=2,
        backoff_seconds=30,
        now=NOW + 99,
    )
    assert failed == PlanningFailed(2, "DeadlineExceeded (exit code 1)")
    assert jobs.created == ["run-plan-1", "run-plan-2"]


async def test_a_job_that_succeeded_with_an_unusable_plan_or_report_is_a_failure() -> None:
    store, jobs = FakeStore(), Jobs()
    project = await _project(store)
    await advance(store, project, jobs.planning(), max_attempts=1, backoff_seconds=0, now=NOW)
    project = await _again(store, project)
    jobs.gateway.finish("run-plan-1", "succeeded", message=_report(True))
    empty = await advance(
        store, project, jobs.planning(), max_attempts=1, backoff_seconds=0, now=NOW
    )
    assert empty == PlanningFailed(1, "the plan it left has problems: the plan has no tasks")

    jobs.gateway.finish("run-plan-1", "succeeded", message=_report(False, "cut short"))
    refused = await advance(
        store, project, jobs.planning(), max_attempts=1, backoff_seconds=0, now=NOW
    )
    assert refused == PlanningFailed(1, "cut short")


def _costly_report(success: bool) -> str:
    return json.dumps({"success": success, "cost_usd": "0.25", "error": None if success else "x"})


async def test_a_planning_cost_the_runner_could_not_report_is_recorded_once() -> None:
    store, jobs = FakeStore(), Jobs()
    project = await _project(store)
    await advance(store, project, jobs.planning(), max_attempts=1, backoff_seconds=0, now=NOW)
    project = await _again(store, project)
    await _write_plan(store, project)
    jobs.gateway.finish("run-plan-1", "succeeded", message=_costly_report(True))

    for _ in range(2):  # a pass repeated (an operator restart) records nothing twice
        planned = await advance(
            store, project, jobs.planning(), max_attempts=1, backoff_seconds=0, now=NOW
        )
        assert isinstance(planned, Planned)
    (cost,) = await store.list_agent_costs(project.id)
    (session,) = await store.list_sessions(project.id)
    assert (cost.session_id, cost.operation, cost.model) == (session.id, "planning", "m")
    assert (session.kind, session.status) == ("planning", SessionStatus.SUCCEEDED)


async def test_a_planning_cost_the_runner_reported_is_not_added_again() -> None:
    store, jobs = FakeStore(), Jobs()
    project = await _project(store)
    await advance(store, project, jobs.planning(), max_attempts=1, backoff_seconds=0, now=NOW)
    project = await _again(store, project)
    session = await store.start_session(project.id, kind="planning", model="m")
    await store.record_agent_cost(
        project.id, model="m", cost_usd=0.25, session_id=session.id, operation="planning"
    )
    jobs.gateway.finish("run-plan-1", "failed", exit_code=3, message=_costly_report(False))

    failed = await advance(
        store, project, jobs.planning(), max_attempts=1, backoff_seconds=0, now=NOW
    )
    assert failed == PlanningFailed(1, "x")
    assert [c.session_id for c in await store.list_agent_costs(project.id)] == [session.id]
