"""One reconcile step: observe everything, decide purely, act — correct after a crash anywhere.

:func:`reconcile` is the whole engine. Each call

1. **collects** what ended since the last call — sessions (from the :class:`TaskLauncher`) and
   merges (from the :class:`MergeLane`) — and records it in the store, reconciled against what
   each agent reported (:func:`yokeflow.core.run_state.session_verdict`);
2. **observes** the run from scratch: tasks and dependencies from the store, worktrees from the
   workspace, leases from the store, live sessions from the launcher, merges in flight;
3. **recovers** what a dead run left behind: it stops sessions of dead owners (orphans), puts
   their tasks back to pending, records what those sessions spent, and forgets dead owners'
   reservations — so a resumed run is not a special path, only a reconcile that finds more;
4. **decides** with :func:`yokeflow.core.schedule.decide` and
5. **acts**: submits merges (first, all together: a lane may start them while the pass goes
   on), starts sessions through the launcher (a lease saved first), marks tasks blocked, opens
   batches. Budget reservations are taken one after another, in the
   scheduler's order; the writes before each start and the starts themselves run up to
   ``RunContext.launch_concurrency`` at a time (a pass with hundreds of ready tasks would
   otherwise wait on each one's round trips in turn).

It keeps nothing between calls that the store, the launcher and the merge lane do not hold, so
it may be called again at any time (idempotent), from a loop woken by events and timers (local
mode: :mod:`yokeflow.services.executor`) or from kopf handlers (the operator). See
``docs/engine.md`` ("The reconcile contract").
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Protocol, TypeVar

from yokeflow.core import run_state
from yokeflow.core.events import AgentStatus, CostUpdate, MergeDone, TaskComplete, TaskStart
from yokeflow.core.graph import DependencyGraph, graph_from_records
from yokeflow.core.merging import MergeResult
from yokeflow.core.records import SessionStatus, Task, TaskStatus
from yokeflow.core.run_state import SessionSight, VerdictKind
from yokeflow.core.schedule import (
    BudgetView,
    Finish,
    Limits,
    MarkBlocked,
    MergeBatch,
    MergeTask,
    StartTask,
    TaskRun,
    TaskState,
    WaitUntil,
    decide,
)
from yokeflow.core.worktree import WorktreeRecord, WorktreeStatus
from yokeflow.errors import InvalidTransitionError, PlanError
from yokeflow.ports.clock import Clock
from yokeflow.ports.events import EventSink
from yokeflow.ports.launcher import (
    LaunchRequest,
    Lease,
    LeaseBook,
    RunOwners,
    SessionEnded,
    TaskLauncher,
)
from yokeflow.ports.store import Store
from yokeflow.ports.workspace import TaskRef, Workspace
from yokeflow.services import batches

_T = TypeVar("_T")

__all__ = [
    "MergeLanded",
    "MergeLane",
    "ModelChooser",
    "RunBudgetPort",
    "RunContext",
    "Seen",
    "Step",
    "observe",
    "reconcile",
]


@dataclass(frozen=True, slots=True)
class MergeLanded:
    """A merge that ended: its result, or the error that stopped it (the branch is kept)."""

    key: str
    task_id: int
    result: MergeResult | None
    error: str | None = None
    resolved: bool = False
    """Its predicted conflict was resolved by the conflict policy."""


class MergeLane(Protocol):
    """Where merges run one after another (an in-process queue locally, a merge Job in a
    cluster). ``submit`` is idempotent for a key already in flight."""

    def submit(self, key: str, task_id: int) -> None: ...

    def in_flight(self) -> Mapping[str, TaskState]:
        """Keys being merged (``merging``) or resolved (``resolving``) now."""
        ...

    def collect(self) -> Sequence[MergeLanded]:
        """Merges that ended since the last call (each reported once)."""
        ...


class ModelChooser(Protocol):
    async def model_for(self, task: Task, *, attempt: int, escalate: bool) -> str: ...


class RunBudgetPort(Protocol):
    """The run's budget: spend from the store, reservations held durably."""

    def remaining(self) -> float | None: ...

    def limit(self) -> float | None:
        """The run's budget limit in dollars (None: no limit)."""
        ...

    async def estimate(self, task: Task, model: str) -> float: ...

    async def reserve(self, key: str, amount: float) -> bool: ...

    async def settle(self, key: str, actual: float) -> None: ...

    async def observe_spend(self, spent: Decimal) -> None:
        """The project's spend as the store records it (the ledger's ``spent`` becomes it)."""
        ...


@dataclass
class RunContext:
    """Everything one run's reconcile steps use: the ports, the policy, who owns the run."""

    project_id: int
    owner: str
    """This run's owner id, written into every lease it takes."""
    limits: Limits
    store: Store
    workspace: Workspace
    launcher: TaskLauncher
    leases: LeaseBook
    owners: RunOwners
    merges: MergeLane
    models: ModelChooser
    clock: Clock
    events: EventSink
    budget: RunBudgetPort | None = None
    session_handle: Callable[[Task], str] | None = None
    """Names a session from its task as stored once it runs (``attempts`` counts every launch, so
    each launch gets its own name): a Job's deterministic name in a cluster. Unset: a random id."""
    started_at: float = 0.0
    """Wall time the run (this process's part of it) started: event times count from it."""
    cancelled: bool = False
    # What this process saw, for the summary (the store holds the state itself).
    task_seconds: dict[str, float] = field(default_factory=dict)
    resolved: set[str] = field(default_factory=set)
    cost_usd: Decimal = Decimal(0)
    """Spend of the project as the store records it, refreshed after every session."""
    batches: int = 0
    """Batches opened by this process."""
    launch_concurrency: int = 1
    """How many task starts of one pass may be under way at once (their store writes, then
    the launcher's call); 1 starts them one after another."""

    def at(self) -> float:
        """Seconds since the run started (the time events carry)."""
        return self.clock.now() - self.started_at


@dataclass(frozen=True, slots=True)
class Seen:
    """One observation of the run."""

    graph: DependencyGraph
    tasks: Mapping[str, Task]
    states: Mapping[str, TaskRun]
    leases: Sequence[Lease]
    running: Mapping[str, Lease]
    """Task key → the lease of its live session."""


@dataclass(frozen=True, slots=True)
class Step:
    """What one reconcile did: ``finish`` ends the run; ``again`` asks for another step at once
    (something changed); ``wake_at`` is a wall time to reconcile at even if nothing happens."""

    finish: Finish | None = None
    again: bool = False
    wake_at: float | None = None
    seen: Seen | None = None


async def observe(run: RunContext) -> Seen:
    """The run as the store, the workspace, the launcher and the merge lane show it now."""
    tasks = await run.store.get_tasks_with_dependencies(run.project_id)
    epics = await run.store.list_epics(run.project_id)
    graph = graph_from_records(tasks, epics)
    if not graph.is_valid:
        raise PlanError("project", str(run.project_id), "; ".join(graph.problems()))
    by_key = {t.key: t for t in tasks}
    # The worktree records (not git: a pass must be cheap, and a folder being removed is fine).
    worktrees: dict[int, WorktreeRecord] = {
        w.task_id: w
        for w in await run.store.list_worktrees(run.project_id)
        if w.task_id is not None
    }
    leases = await run.leases.list_leases(run.project_id)
    live = {lease.handle for lease in await run.launcher.live()}
    running = {
        lease.task_key: lease for lease in leases if lease.kind == "task" and lease.handle in live
    }
    interrupted = {
        lease.task_key
        for lease in leases
        if lease.kind == "resolution" and not await _alive(run, lease.owner)
    }
    in_flight = run.merges.in_flight()
    states: dict[str, TaskRun] = {}
    for key in graph.tasks:
        task = by_key[key]
        tree = worktrees.get(task.id)
        state = run_state.observe(
            task.status,
            task.attempts - task.attempts_base,
            worktree=tree.status if tree is not None else None,
            session=SessionSight.LIVE if key in running else SessionSight.GONE,
            resolution_interrupted=key in interrupted,
            max_attempts=run.limits.max_attempts,
            failed_at=_wall(task.updated_at),
            started_at=_wall(task.started_at),
            reason=task.last_error,
        )
        if key in in_flight and state.state in (TaskState.DONE, TaskState.CONFLICT):
            state = replace(state, state=in_flight[key])
        states[key] = state
    return Seen(graph, by_key, states, leases, running)


async def reconcile(run: RunContext) -> Step:
    """One observe → decide → act pass (see the module docstring). Safe to call at any time."""
    changed = await _collect(run)
    seen = await observe(run)
    if await _recover(run, seen):
        changed = True
        seen = await observe(run)
    limits = replace(run.limits, cancelled=run.cancelled)
    now = run.clock.now()
    actions = decide(seen.graph, seen.states, limits, await _budget_view(run, seen), now)
    reserved: list[_Reserved] = []
    wake_at: float | None = None
    early = not any(isinstance(a, Finish) for a in actions)
    if early:
        # Merges first, all together: a lane may start them while the pass goes on.
        for action in actions:
            if isinstance(action, MergeTask):
                run.merges.submit(action.key, seen.tasks[action.key].id)
            elif isinstance(action, MergeBatch):
                for key in action.keys:
                    run.merges.submit(key, seen.tasks[key].id)
    for action in actions:
        if isinstance(action, Finish):
            seen = await observe(run)  # with this pass's writes (tasks just marked blocked)
            await batches.settle(run, seen, final=True)
            return Step(finish=action, seen=seen)
        if isinstance(action, StartTask):
            # One after another, in the scheduler's order: the budget's reservations decide.
            fits = await _reserve(run, seen, action)
            if fits is not None:
                reserved.append(fits)
        elif isinstance(action, MergeTask) and not early:
            run.merges.submit(action.key, seen.tasks[action.key].id)
        elif isinstance(action, MergeBatch) and not early:
            for key in action.keys:
                run.merges.submit(key, seen.tasks[key].id)
        elif isinstance(action, MarkBlocked):
            await _block(run, seen, action)
        elif isinstance(action, WaitUntil):
            wake_at = action.time
    # Sessions start together, once their worktrees are ready (so none waits on another's git).
    limit = run.launch_concurrency
    prepared = await _bounded(limit, [_prepare(run, seen, r) for r in reserved])
    launches = [p for p in prepared if p is not None]
    launched = await _bounded(limit, [_launch(run, seen, p) for p in launches])
    started = [p.request.task.key for p, ok in zip(launches, launched, strict=True) if ok]
    if started:
        await batches.open(run, seen, tuple(started))
        await _publish_agents(run)  # who runs now: sessions that end together never show it
    await batches.settle(run, seen, final=False)
    acted = any(not isinstance(a, WaitUntil) for a in actions)
    merges_only = all(isinstance(a, MergeTask | MergeBatch) for a in actions)
    # Merges are carried out by the lane, which wakes the loop when one lands.
    again = changed or (acted and not merges_only) or bool(started)
    return Step(again=again, wake_at=wake_at, seen=seen)


# -- collecting ------------------------------------------------------------------------------


async def _collect(run: RunContext) -> bool:
    ended = await run.launcher.collect()
    # Sessions of different tasks are recorded side by side (a level's tasks end together).
    await _bounded(run.launch_concurrency, [_settle_session(run, s) for s in ended])
    landed = run.merges.collect()
    for merge in landed:
        _publish_merge(run, merge)
    if landed:  # a resolution session's cost is in the store now: the live total follows it
        before = run.cost_usd
        await _refresh_spend(run)
        if run.cost_usd != before:
            run.events.publish(
                CostUpdate(
                    landed[-1].key,
                    "",
                    float(run.cost_usd - before),
                    float(run.cost_usd),
                    run.budget.remaining() if run.budget is not None else None,
                    run.at(),
                    run.budget.limit() if run.budget is not None else None,
                )
            )
    if ended or landed:
        await _publish_agents(run)
    return bool(ended or landed)


async def _settle_session(run: RunContext, ended: SessionEnded) -> None:
    """Record a session's end, reconciled against what its agent reported."""
    lease, outcome = ended.lease, ended.outcome
    current = await run.store.get_task(lease.task_id)
    reported = current.status if current is not None else TaskStatus.RUNNING
    verdict = run_state.session_verdict(
        succeeded=outcome.success,
        error=outcome.error,
        reported=reported,
        reported_error=current.last_error if current is not None else None,
        cancelled=run.cancelled,
    )
    with contextlib.suppress(InvalidTransitionError):
        if verdict.kind is VerdictKind.DONE and reported is TaskStatus.RUNNING:
            await run.store.complete_task(lease.task_id)
        elif verdict.kind is VerdictKind.FAILED and reported is TaskStatus.RUNNING:
            await run.store.update_task_status(
                lease.task_id, TaskStatus.FAILED, error=verdict.reason
            )
        elif verdict.kind is VerdictKind.FAILED and reported is TaskStatus.DONE:
            # Its agent reported done but the attempt failed: done is final in the store, so
            # the work is kept on its branch, marked failed, and never merged.
            await run.store.note_task_error(lease.task_id, verdict.reason or "failed")
            await _fail_worktree(run, lease.task_id)
        elif verdict.kind is VerdictKind.CANCELLED and reported is TaskStatus.RUNNING:
            await run.store.update_task_status(
                lease.task_id, TaskStatus.CANCELLED, error=verdict.reason
            )
    await run.leases.drop_lease(run.project_id, lease.task_id)
    if run.budget is not None:
        await run.budget.settle(lease.task_key, float(outcome.cost_usd))
    await _refresh_spend(run)
    key = lease.task_key
    run.task_seconds[key] = run.task_seconds.get(key, 0.0) + outcome.duration_seconds
    failed = verdict.kind is not VerdictKind.DONE and verdict.kind is not VerdictKind.PARKED
    run.events.publish(
        TaskComplete(
            key,
            not failed,
            lease.attempt,
            outcome.duration_seconds,
            float(outcome.cost_usd),
            verdict.reason if failed else None,
            run.at(),
        )
    )
    run.events.publish(
        CostUpdate(
            key,
            outcome.model,
            float(outcome.cost_usd),
            float(run.cost_usd),
            run.budget.remaining() if run.budget is not None else None,
            run.at(),
            run.budget.limit() if run.budget is not None else None,
        )
    )


async def _fail_worktree(run: RunContext, task_id: int) -> None:
    record = await run.store.get_worktree_by_task(run.project_id, task_id)
    if record is not None:
        await run.store.update_worktree_status(record.id, WorktreeStatus.FAILED)


def _publish_merge(run: RunContext, merge: MergeLanded) -> None:
    if merge.result is None:
        run.events.publish(MergeDone(merge.key, f"error: {merge.error}", None, (), run.at()))
        return
    if merge.resolved:
        run.resolved.add(merge.key)
    result = merge.result
    run.events.publish(
        MergeDone(
            merge.key,
            result.status.value,
            result.merge_commit,
            tuple(c.path for c in result.conflicts),
            run.at(),
        )
    )


# -- recovering ------------------------------------------------------------------------------


async def _recover(run: RunContext, seen: Seen) -> bool:
    """End what dead runs left behind; True when anything was recovered."""
    recovered = False
    live = {lease.handle for lease in await run.launcher.live()}
    for lease in seen.leases:
        owner_alive = await _alive(run, lease.owner)
        if lease.kind == "resolution":
            if not owner_alive:  # interrupted: the conflict is merged and resolved again
                await _reopen_conflict(run, lease.task_id)
                # Its session records its cost when it ends; it never did.
                await _record_lost_spend(run, lease, None, "merge")
                await run.leases.drop_lease(run.project_id, lease.task_id, lease.kind)
                recovered = True
            continue
        if lease.handle in live and owner_alive:
            continue  # a working session (of this run, or of another run still going)
        if lease.handle in live:
            await run.launcher.stop(lease)  # an orphan of a dead run: ended before relaunch
        await _release(run, seen, lease)
        recovered = True
    if recovered:
        await _refresh_spend(run)  # what the lost sessions had spent counts
    return recovered


async def _refresh_spend(run: RunContext) -> None:
    run.cost_usd = await run.store.get_project_cost_total(run.project_id)
    if run.budget is not None:
        await run.budget.observe_spend(run.cost_usd)


async def _record_lost_spend(
    run: RunContext, lease: Lease, session_id: int | None, operation: str
) -> None:
    spend = await run.launcher.lost_spend(lease)
    if spend is not None and spend.cost_usd > 0:
        await run.store.record_agent_cost(
            run.project_id,
            model=spend.model or lease.model or "unknown",
            cost_usd=spend.cost_usd,
            session_id=session_id,
            task_id=lease.task_id,
            operation=operation,
            input_tokens=spend.input_tokens,
            output_tokens=spend.output_tokens,
            cache_read_tokens=spend.cache_read_tokens,
            cache_creation_tokens=spend.cache_creation_tokens,
        )


async def _reopen_conflict(run: RunContext, task_id: int) -> None:
    record = await run.store.get_worktree_by_task(run.project_id, task_id)
    if record is not None and record.status is WorktreeStatus.CONFLICT:
        await run.store.update_worktree_status(record.id, WorktreeStatus.ACTIVE)


async def _release(run: RunContext, seen: Seen, lease: Lease) -> None:
    """A lost session's task goes back to pending; what it spent is recorded."""
    task = seen.tasks.get(lease.task_key)
    if task is not None and task.status is TaskStatus.RUNNING:
        with contextlib.suppress(InvalidTransitionError):
            await run.store.update_task_status(task.id, TaskStatus.PENDING)
    # A session row still open means its cost was never recorded (a session records its cost
    # before closing its row): what its transcript shows it spent is recorded now, once.
    open_rows = [
        s
        for s in await run.store.list_sessions(run.project_id, task_id=lease.task_id)
        if s.status is SessionStatus.RUNNING
    ]
    paid = {c.session_id for c in await run.store.list_agent_costs(run.project_id)}
    unpaid = [row for row in open_rows if row.id not in paid]
    if unpaid:  # (killed between recording its cost and closing its row: paid already)
        await _record_lost_spend(run, lease, unpaid[-1].id, "task")
    for row in open_rows:
        with contextlib.suppress(InvalidTransitionError):
            await run.store.end_session(
                row.id, SessionStatus.FAILED, error="lost: the run that started it ended"
            )
    await run.leases.drop_lease(run.project_id, lease.task_id, lease.kind)


# -- acting ----------------------------------------------------------------------------------


async def _budget_view(run: RunContext, seen: Seen) -> BudgetView | None:
    if run.budget is None:
        return None
    remaining = run.budget.remaining()
    if remaining is None:
        return BudgetView()
    estimates = {}
    for key, state in seen.states.items():
        if state.state in (TaskState.PENDING, TaskState.FAILED, TaskState.BLOCKED):
            task = seen.tasks[key]
            model = await run.models.model_for(
                task, attempt=state.attempts + 1, escalate=state.attempts > 0
            )
            estimates[key] = await run.budget.estimate(task, model)
    return BudgetView(remaining, estimates)


@dataclass(frozen=True, slots=True)
class _Reserved:
    action: StartTask
    model: str


@dataclass(frozen=True, slots=True)
class _Launch:
    lease: Lease
    request: LaunchRequest


async def _bounded(limit: int, calls: Sequence[Awaitable[_T]]) -> list[_T]:
    """The results of ``calls`` in order, at most ``limit`` running at once (each call handles
    its own failures; a cancelled pass cancels them all)."""
    gate = asyncio.Semaphore(max(1, limit))

    async def gated(call: Awaitable[_T]) -> _T:
        async with gate:
            return await call

    if len(calls) <= 1 or limit <= 1:
        return [await call for call in calls]
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(gated(call)) for call in calls]
    return [task.result() for task in tasks]


async def _reserve(run: RunContext, seen: Seen, action: StartTask) -> _Reserved | None:
    """The task's model and its budget reservation; None when it no longer fits (it stays
    pending and the scheduler sees that)."""
    task = seen.tasks[action.key]
    model = await run.models.model_for(task, attempt=action.attempt, escalate=action.escalate)
    if run.budget is not None and not await run.budget.reserve(
        action.key, await run.budget.estimate(task, model)
    ):
        return None
    return _Reserved(action, model)


async def _prepare(run: RunContext, seen: Seen, reserved: _Reserved) -> _Launch | None:
    """Everything else before a session starts: status, worktree, the lease saved.
    A failure here counts as a failed attempt."""
    action, model = reserved.action, reserved.model
    task = seen.tasks[action.key]
    try:
        if task.status in (TaskStatus.FAILED, TaskStatus.BLOCKED, TaskStatus.CANCELLED):
            await run.store.update_task_status(task.id, TaskStatus.PENDING)
        change = await run.store.update_task_status(task.id, TaskStatus.RUNNING)
        task = await run.store.set_task_model(change.task.id, model)
        worktree = await run.workspace.create_worktree(
            TaskRef(task.id, task.title, task.epic_id, task.description)
        )
        if seen.states[action.key].attempts > 0:
            # An earlier attempt's worktree may predate work its dependencies landed since.
            await run.workspace.sync_worktree_from_main(task.id)
        lease = Lease(
            project_id=run.project_id,
            task_id=task.id,
            task_key=task.key,
            attempt=action.attempt,
            owner=run.owner,
            handle=run.session_handle(task) if run.session_handle else uuid.uuid4().hex,
            started_at=run.clock.now(),
            host=socket.gethostname(),
            model=model,
        )
        await run.leases.save_lease(lease)
    except Exception as exc:
        await _failed_to_start(run, task, action, exc)
        return None
    return _Launch(lease, LaunchRequest(task, action.attempt, model, worktree))


async def _launch(run: RunContext, seen: Seen, launch: _Launch) -> bool:
    request = launch.request
    try:
        launched = await run.launcher.launch(launch.lease, request)
        if launched != launch.lease:
            await run.leases.save_lease(launched)
    except Exception as exc:
        await _failed_to_start(run, request.task, None, exc, attempt=request.attempt)
        return False
    run.events.publish(
        TaskStart(
            request.task.key,
            seen.graph.tasks[request.task.key].epic,
            request.attempt,
            request.model,
            request.worktree.path,
            run.at(),
        )
    )
    return True


async def _failed_to_start(
    run: RunContext, task: Task, action: StartTask | None, exc: Exception, attempt: int = 0
) -> None:
    attempt = action.attempt if action is not None else attempt
    with contextlib.suppress(Exception):
        await run.leases.drop_lease(run.project_id, task.id)
    if run.budget is not None:
        await run.budget.settle(task.key, 0.0)
    error = f"could not start: {exc}"
    with contextlib.suppress(Exception):
        await run.store.update_task_status(task.id, TaskStatus.FAILED, error=error)
    run.events.publish(TaskComplete(task.key, False, attempt, 0.0, 0.0, error, run.at()))


async def _block(run: RunContext, seen: Seen, action: MarkBlocked) -> None:
    task = seen.tasks[action.key]
    reason = f"dependency {action.because} did not land"
    culprit = seen.tasks.get(action.because)
    if culprit is not None and culprit.last_error:
        reason += f" ({culprit.last_error})"
    with contextlib.suppress(InvalidTransitionError):
        await run.store.update_task_status(task.id, TaskStatus.BLOCKED, error=reason)


async def _publish_agents(run: RunContext) -> None:
    leases = await run.leases.list_leases(run.project_id)
    counts = await run.store.task_counts(run.project_id)
    worktrees = await run.store.list_worktrees(run.project_id, WorktreeStatus.MERGED)
    merged = len({w.task_id for w in worktrees})
    run.events.publish(
        AgentStatus(
            tuple((lease.task_key, lease.model) for lease in leases if lease.kind == "task"),
            merged,
            sum(counts.values()),
            run.at(),
        )
    )


async def _alive(run: RunContext, owner: str) -> bool:
    return owner == run.owner or await run.owners.owner_alive(owner)


def _wall(moment: object) -> float | None:
    timestamp = getattr(moment, "timestamp", None)
    return float(timestamp()) if callable(timestamp) else None
