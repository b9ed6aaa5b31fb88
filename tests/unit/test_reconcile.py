"""The reconcile step on fakes of every port: recovery after kills, verdicts, retries."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal

from yokeflow.core.plan import parse_plan
from yokeflow.core.records import Task, TaskStatus
from yokeflow.core.schedule import Limits
from yokeflow.core.worktree import WorktreeStatus
from yokeflow.ports.launcher import LaunchRequest, Lease, LostSpend
from yokeflow.services.reconcile import RunContext, reconcile
from yokeflow.services.retry import retry_tasks
from yokeflow.testing.fake_launcher import FakeClock, FakeLauncher, MemoryLeaseBook
from yokeflow.testing.fake_store import FakeStore
from yokeflow.testing.fake_workspace import FakeMergeLane, FakeWorkspace
from yokeflow.testing.sessions import EventLog

PLAN = """
name: p
epics:
  - key: e
    name: E
    tasks:
      - {key: a, title: A}
      - {key: b, title: B, depends_on: [a]}
      - {key: x, title: X}
      - {key: y, title: Y}
"""


class Models:
    async def model_for(self, task: Task, *, attempt: int, escalate: bool) -> str:
        return "claude-opus-4-5" if escalate else "claude-haiku-4-5"


async def _run(owner: str = "me", store: FakeStore | None = None, **limits: int) -> RunContext:
    store = store or FakeStore()
    projects = await store.list_projects()
    project = (
        projects[0].id if projects else (await store.create_plan(parse_plan(PLAN, "p"))).project.id
    )
    workspace = FakeWorkspace(store, project)
    book = MemoryLeaseBook()
    return RunContext(
        project_id=project,
        owner=owner,
        limits=Limits(max_concurrency=limits.get("concurrency", 3), max_attempts=2),
        store=store,
        workspace=workspace,
        launcher=FakeLauncher(),
        leases=book,
        owners=book,
        merges=FakeMergeLane(workspace),
        models=Models(),
        clock=FakeClock(time.time()),  # the fake store stamps rows with real time
        events=EventLog(),
    )


async def _status(run: RunContext) -> dict[str, TaskStatus]:
    return {t.key: t.status for t in await run.store.list_tasks(run.project_id)}


async def _settle(run: RunContext) -> None:
    """Reconcile until nothing changes (merges landing as they are submitted)."""
    lane = run.merges
    assert isinstance(lane, FakeMergeLane)
    for _ in range(20):
        step = await reconcile(run)
        if lane.submitted:
            await lane.land()
            continue
        if not step.again:
            return


async def test_a_fresh_run_starts_what_is_ready_each_session_held_by_a_lease() -> None:
    run = await _run()
    step = await reconcile(run)
    launcher = run.launcher
    assert isinstance(launcher, FakeLauncher)
    assert sorted(r.task.key for r in launcher.requests) == ["a", "x", "y"]
    leases = await run.leases.list_leases(run.project_id)
    assert sorted(lease.task_key for lease in leases) == ["a", "x", "y"]
    assert {lease.owner for lease in leases} == {"me"}
    assert (await _status(run))["a"] is TaskStatus.RUNNING
    assert step.finish is None
    # Reconciling again changes nothing: idempotent.
    await reconcile(run)
    assert len(launcher.requests) == 3


async def test_a_run_ends_when_everything_merged() -> None:
    run = await _run()
    launcher = run.launcher
    assert isinstance(launcher, FakeLauncher)
    await reconcile(run)
    for key in ("a", "x", "y"):
        launcher.finish(key)
    await _settle(run)
    launcher.finish("b")
    await _settle(run)
    step = await reconcile(run)
    assert step.finish is not None
    assert step.finish.outcome == "succeeded"
    assert await run.leases.list_leases(run.project_id) == []


async def test_an_agent_that_fails_its_own_task_ends_only_that_attempt() -> None:
    run = await _run()
    launcher = run.launcher
    assert isinstance(launcher, FakeLauncher)
    await reconcile(run)
    a = await run.store.get_task_by_key(run.project_id, "a")
    assert a is not None
    # The agent marks its task failed through the task tools, then ends its session normally.
    await run.store.update_task_status(a.id, TaskStatus.FAILED, error="the API is down")
    launcher.finish("a", success=True)
    step = await reconcile(run)
    assert step.finish is None  # a is retried after its backoff
    assert sorted(lease.task_key for lease in launcher.running.values()) == ["x", "y"]
    stored = await run.store.get_task(a.id)
    assert stored is not None
    assert stored.status is TaskStatus.FAILED
    assert stored.last_error == "the API is down"
    ended = [e for e in run.events.events if e.kind == "task_complete"]  # type: ignore[attr-defined]
    assert [(e.task, e.success, e.error) for e in ended] == [("a", False, "the API is down")]


async def test_a_dead_runs_sessions_are_ended_their_spend_counted_and_tasks_relaunched() -> None:
    old = await _run(owner="old")
    await reconcile(old)
    # The old run is SIGKILLed: its owner lock is gone; one agent survived (an orphan), one
    # died with it, one had ended uncollected.
    book = old.leases
    assert isinstance(book, MemoryLeaseBook)
    book.kill_owner("old")
    survivor = old.launcher
    assert isinstance(survivor, FakeLauncher)
    leases = {lease.task_key: lease for lease in await book.list_leases(old.project_id)}
    new = await _run(owner="new", store=old.store)  # type: ignore[arg-type]
    new.leases = new.owners = book
    launcher = new.launcher
    assert isinstance(launcher, FakeLauncher)
    launcher.plant(leases["a"])  # still running
    # x's session had opened its row (its cost not recorded yet); y's had ended and recorded it.
    await old.store.start_session(old.project_id, task_id=leases["x"].task_id, kind="task")
    launcher.spend[leases["x"].handle] = LostSpend("claude-haiku-4-5", Decimal("0.25"), 1000, 50)
    launcher.spend[leases["y"].handle] = LostSpend("claude-haiku-4-5", Decimal("0.5"), 2000, 90)
    await reconcile(new)
    assert [lease.task_key for lease in launcher.stopped] == ["a"]
    costs = await new.store.list_agent_costs(new.project_id)
    assert [c.cost_usd for c in costs] == [Decimal("0.25")]
    # All three run again, now under the new owner; the killed attempts counted.
    assert sorted(r.task.key for r in launcher.requests) == ["a", "x", "y"]
    assert {lease.owner for lease in await book.list_leases(new.project_id)} == {"new"}
    assert {r.attempt for r in launcher.requests} == {2}


async def test_an_interrupted_conflict_resolution_is_merged_again() -> None:
    run = await _run()
    launcher = run.launcher
    workspace = run.workspace
    assert isinstance(launcher, FakeLauncher)
    assert isinstance(workspace, FakeWorkspace)
    await reconcile(run)
    x = await run.store.get_task_by_key(run.project_id, "x")
    assert x is not None
    workspace.conflicting.add(x.id)
    launcher.finish("x")
    await _settle(run)
    record = await run.store.get_worktree_by_task(run.project_id, x.id)
    assert record is not None
    assert record.status is WorktreeStatus.CONFLICT
    # A resolution was under way when the run died: its lease names the dead owner.
    book = run.leases
    assert isinstance(book, MemoryLeaseBook)
    await book.save_lease(
        Lease(run.project_id, x.id, "x", 1, "dead", "resolution:x", 0.0, kind="resolution")
    )
    book.kill_owner("dead")
    workspace.conflicting.discard(x.id)
    await _settle(run)
    record = await run.store.get_worktree_by_task(run.project_id, x.id)
    assert record is not None
    assert record.status is WorktreeStatus.MERGED


async def test_a_task_retried_by_hand_runs_again_and_its_dependents_follow() -> None:
    run = await _run()
    launcher = run.launcher
    assert isinstance(launcher, FakeLauncher)
    await reconcile(run)
    launcher.finish("a", success=False, error="no API key")
    launcher.finish("x")
    launcher.finish("y")
    await _settle(run)
    run.clock.advance(60)  # type: ignore[attr-defined]
    await _settle(run)
    launcher.finish("a", success=False, error="no API key")
    await _settle(run)
    status = await _status(run)
    assert (status["a"], status["b"]) == (TaskStatus.FAILED, TaskStatus.BLOCKED)
    b = await run.store.get_task_by_key(run.project_id, "b")
    assert b is not None
    assert "no API key" in (b.last_error or "")
    step = await reconcile(run)
    assert step.finish is not None
    assert step.finish.outcome == "failed"
    # The key is fixed; `yokeflow retry a`.
    assert await retry_tasks(run.store, run.project_id, ["a"]) == ["a"]
    await reconcile(run)
    assert launcher.requests[-1].task.key == "a"
    launcher.finish("a")
    await _settle(run)
    launcher.finish("b")
    await _settle(run)
    step = await reconcile(run)
    assert step.finish is not None
    assert step.finish.outcome == "succeeded", step.finish


class _Overlapping(FakeLauncher):
    """Launches that take a moment each, counting how many are under way at once."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 0
        self.peak = 0
        self.fail: set[str] = set()

    async def launch(self, lease: Lease, request: LaunchRequest) -> Lease:
        self.now += 1
        self.peak = max(self.peak, self.now)
        try:
            for _ in range(3):
                await asyncio.sleep(0)
            if request.task.key in self.fail:
                raise RuntimeError("refused")
            return await super().launch(lease, request)
        finally:
            self.now -= 1


WIDE = "name: w\nepics:\n  - key: e\n    name: E\n    tasks:\n" + "".join(
    f"      - {{key: t{i}, title: T{i}}}\n" for i in range(12)
)


async def test_a_pass_starts_its_ready_tasks_concurrently_within_the_launch_limit() -> None:
    store = FakeStore()
    await store.create_plan(parse_plan(WIDE, "w"))
    run = await _run(store=store, concurrency=10)
    launcher = _Overlapping()
    launcher.fail = {"t3"}
    run.launcher = launcher
    run.launch_concurrency = 4
    step = await reconcile(run)
    assert step.again
    assert launcher.peak == 4, launcher.peak
    started = sorted(r.task.key for r in launcher.requests)
    assert len(started) == 9  # maxConcurrency 10, and one launch refused
    assert "t3" not in started
    statuses = await _status(run)
    assert statuses["t3"] is TaskStatus.FAILED
    assert sum(s is TaskStatus.RUNNING for s in statuses.values()) == 9
    leases = await run.leases.list_leases(run.project_id)
    assert sorted(lease.task_key for lease in leases) == started
    batch = (await store.list_parallel_batches(run.project_id))[0]
    assert len(batch.task_ids) == 9


async def test_a_launch_limit_of_one_starts_one_task_at_a_time() -> None:
    run = await _run()
    launcher = _Overlapping()
    run.launcher = launcher
    await reconcile(run)
    assert launcher.peak == 1
    assert sorted(r.task.key for r in launcher.requests) == ["a", "x", "y"]
