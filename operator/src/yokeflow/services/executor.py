"""Local mode's run loop: :func:`~yokeflow.services.reconcile.reconcile`, again and again.

The executor holds no run state of its own. Each turn it calls the reconcile step — which
observes the store, the launcher and the merge lane, decides with the pure scheduler and acts —
and then waits for something to change: a session ending, a merge landing, a retry's timer, or a
cancellation. Sessions run in this process (:class:`SessionLauncher`), merges on one worker
(:class:`QueueMergeLane`). A run killed at any point is continued by the next run's first
reconcile, which ends the dead run's sessions, counts what they spent and relaunches their tasks.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from yokeflow.core.events import RunFinished
from yokeflow.core.graph import DependencyGraph, graph_from_records
from yokeflow.core.merging import Resolution
from yokeflow.core.schedule import Finish, Limits, Outcome, TaskState
from yokeflow.errors import ConfigError, PlanError
from yokeflow.ports.clock import Clock
from yokeflow.ports.events import EventSink
from yokeflow.ports.launcher import Lease, LeaseBook, LostSpend, RunOwners, SessionOutcome
from yokeflow.ports.store import Store
from yokeflow.ports.workspace import Workspace
from yokeflow.services.merge_lane import QueueMergeLane
from yokeflow.services.reconcile import RunBudgetPort, RunContext, Seen, reconcile
from yokeflow.services.session_launcher import SessionLauncher, TaskSessions

__all__ = [
    "BudgetLedger",
    "ExecutorStatus",
    "ParallelExecutor",
    "RunStore",
    "RunSummary",
    "SessionOutcome",
    "TaskSessions",
]

BudgetLedger = RunBudgetPort
"""The run's shared budget: reserve an estimate before an agent starts, settle after."""


class RunStore(Store, LeaseBook, RunOwners, Protocol):
    """The store a durable run needs: state, leases, and who owns them."""


@dataclass(frozen=True, slots=True)
class RunSummary:
    """How a run ended."""

    outcome: Outcome
    reason: str
    merged: tuple[str, ...]
    failed: tuple[str, ...]
    blocked: tuple[str, ...]
    conflicts: tuple[str, ...]
    """Tasks whose merge conflicted and stayed unresolved (branch kept)."""
    resolved: tuple[str, ...]
    """Tasks whose predicted conflict was resolved by the conflict policy and merged."""
    batches: int
    cost_usd: Decimal
    """Everything the project's sessions cost (the store's record: planning, tasks, resolutions)."""
    wall_seconds: float
    task_seconds: Mapping[str, float]
    """Agent time per task (the sequential sum is what one agent at a time would have taken)."""
    reasons: Mapping[str, str] = field(default_factory=dict)
    """Why each failed, blocked or conflicted task did not land."""


@dataclass(frozen=True, slots=True)
class ExecutorStatus:
    """A snapshot for ``get_status()``: running agents, counts by state, elapsed time."""

    running: tuple[tuple[str, str], ...]
    counts: Mapping[str, int]
    elapsed_seconds: float
    cost_usd: Decimal


class _SystemTime:
    """Wall time (the default :class:`Clock`; tests pass a fake one)."""

    def now(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


def _owner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class ParallelExecutor:
    """Runs one project's incomplete tasks to the end (or to cancellation / budget exhaustion)."""

    def __init__(
        self,
        *,
        store: RunStore,
        workspace: Workspace,
        sessions: TaskSessions,
        project_id: int,
        limits: Limits,
        events: EventSink,
        budget: BudgetLedger | None = None,
        conflict_resolution: Resolution | None = None,
        clock: Clock | None = None,
        reap: Callable[[Lease], Awaitable[None]] | None = None,
        spend: Callable[[Lease], Awaitable[LostSpend | None]] | None = None,
    ) -> None:
        self._wake = asyncio.Event()
        clock = clock or _SystemTime()
        owner = _owner_id()
        self._launcher = SessionLauncher(sessions, wake=self._wake.set, reap=reap, spend=spend)
        self._run = RunContext(
            project_id=project_id,
            owner=owner,
            limits=limits,
            store=store,
            workspace=workspace,
            launcher=self._launcher,
            leases=store,
            owners=store,
            merges=QueueMergeLane(
                store=store,
                workspace=workspace,
                leases=store,
                project_id=project_id,
                owner=owner,
                clock=clock,
                events=events,
                at=lambda: self._run.at(),
                wake=self._wake.set,
                resolution=conflict_resolution,
            ),
            models=sessions,
            clock=clock,
            events=events,
            budget=budget,
            started_at=clock.now(),
        )
        self._lane: QueueMergeLane = self._run.merges  # type: ignore[assignment]
        self._seen: Seen | None = None

    # -- public ------------------------------------------------------------------------------

    @property
    def owner(self) -> str:
        """This run's owner id (written into its leases)."""
        return self._run.owner

    def cancel(self) -> None:
        """Stop launching, stop every running agent (worktrees and branches are kept)."""
        self._run.cancelled = True
        self._launcher.stop_all()
        self._wake.set()

    def get_status(self) -> ExecutorStatus:
        counts: dict[str, int] = {}
        for state in self._seen.states.values() if self._seen else ():
            counts[state.state.value] = counts.get(state.state.value, 0) + 1
        return ExecutorStatus(
            running=self._launcher.running,
            counts=counts,
            elapsed_seconds=self._run.at(),
            cost_usd=self._run.cost_usd,
        )

    async def load_graph(self) -> DependencyGraph:
        """The project's tasks from the store, resolved; a cycle or unknown id is a PlanError."""
        store, project = self._run.store, self._run.project_id
        graph = graph_from_records(
            await store.get_tasks_with_dependencies(project), await store.list_epics(project)
        )
        if not graph.is_valid:
            raise PlanError("project", str(project), "; ".join(graph.problems()))
        return graph

    async def run(self) -> RunSummary:
        """Run to the end. Safe to call again after a crash: it resumes from observed state."""
        run = self._run
        await run.workspace.initialize()
        await run.owners.hold_owner(run.owner)
        try:
            await self._refuse_a_second_run()
            # A resumed run starts from what was spent so far, killed sessions included.
            run.cost_usd = await run.store.get_project_cost_total(run.project_id)
            if run.budget is not None:
                await run.budget.observe_spend(run.cost_usd)
            self._lane.start()
            try:
                finish = await self._loop()
            finally:
                self._launcher.stop_all()
                await self._launcher.drain()
                await self._lane.close()
        finally:
            await run.owners.release_owner(run.owner)
        run.events.publish(RunFinished(finish.outcome, finish.reason, run.at()))
        return await self._summary(finish)

    # -- the loop ----------------------------------------------------------------------------

    async def _loop(self) -> Finish:
        while True:
            self._wake.clear()
            step = await reconcile(self._run)
            self._seen = step.seen or self._seen
            if step.finish is not None:
                return step.finish
            if step.again:
                continue
            timeout = None
            if step.wake_at is not None:
                timeout = max(0.0, step.wake_at - self._run.clock.now())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)

    async def _refuse_a_second_run(self) -> None:
        run = self._run
        for lease in await run.leases.list_leases(run.project_id):
            if lease.owner != run.owner and await run.owners.owner_alive(lease.owner):
                raise ConfigError(
                    f"another run of this project is in progress ({lease.owner}, task "
                    f"{lease.task_key}): wait for it, or `yokeflow cancel` it"
                )

    async def _summary(self, finish: Finish) -> RunSummary:
        seen = self._seen
        states = seen.states if seen is not None else {}
        tasks = seen.tasks if seen is not None else {}

        def having(*wanted: TaskState) -> tuple[str, ...]:
            return tuple(k for k, r in states.items() if r.state in wanted)

        unlanded = having(TaskState.FAILED, TaskState.BLOCKED, TaskState.CONFLICT)
        reasons = {k: tasks[k].last_error or "" for k in unlanded if k in tasks}
        if seen is not None:  # reasons as the store has them now (the last step's writes)
            fresh = {t.key: t for t in await self._run.store.list_tasks(self._run.project_id)}
            reasons = {k: fresh[k].last_error or reasons.get(k, "") for k in unlanded if k in fresh}
        return RunSummary(
            outcome=finish.outcome,
            reason=finish.reason,
            merged=having(TaskState.MERGED),
            failed=having(TaskState.FAILED),
            blocked=having(TaskState.BLOCKED),
            conflicts=having(TaskState.CONFLICT),
            resolved=tuple(sorted(self._run.resolved)),
            batches=self._run.batches,
            cost_usd=await self._run.store.get_project_cost_total(self._run.project_id),
            wall_seconds=self._run.at(),
            task_seconds=dict(self._run.task_seconds),
            reasons=reasons,
        )
