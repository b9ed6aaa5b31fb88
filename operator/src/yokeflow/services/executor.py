"""The parallel executor: runs a project's tasks as agents in worktrees and merges their work.

It is the "act" half of observe → decide → act. Each turn of its loop it asks the pure
scheduler (:func:`yokeflow.core.schedule.decide`) what to do, carries the actions out through the
ports — the store for state, the workspace for worktrees and the merge queue, the session runner
for agents — and waits for something to change: an agent ending, a merge landing, a retry timer,
or a cancellation. Merges are serialized through one queue worker.

Resuming is the same loop: the states are observed from the store and the worktree records, so a
run killed at any point continues without redoing merged tasks (done tasks are final in the
store; a worktree's status says whether its work landed).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Protocol

from yokeflow.core.events import (
    AgentStatus,
    BatchComplete,
    BatchStart,
    CostUpdate,
    MergeDone,
    RunFinished,
    TaskComplete,
    TaskStart,
)
from yokeflow.core.graph import DependencyGraph, graph_from_records, resolve
from yokeflow.core.merging import MergeStatus, Resolution
from yokeflow.core.records import BatchStatus, Task, TaskStatus
from yokeflow.core.schedule import (
    BudgetView,
    Finish,
    Limits,
    MarkBlocked,
    MergeBatch,
    MergeTask,
    Outcome,
    StartTask,
    TaskRun,
    TaskState,
    WaitUntil,
    decide,
)
from yokeflow.core.worktree import WorktreeStatus
from yokeflow.errors import InvalidTransitionError, PlanError
from yokeflow.ports.events import EventSink
from yokeflow.ports.store import Store
from yokeflow.ports.workspace import TaskRef, Workspace, WorktreeInfo

__all__ = [
    "BudgetLedger",
    "ExecutorStatus",
    "ParallelExecutor",
    "RunSummary",
    "SessionOutcome",
    "TaskSessions",
]


@dataclass(frozen=True, slots=True)
class SessionOutcome:
    """What one agent session on a task came to."""

    success: bool
    model: str
    cost_usd: Decimal
    duration_seconds: float
    error: str | None = None


class TaskSessions(Protocol):
    """Runs one agent session for a task in its worktree (prompt, model, cost, learning)."""

    async def run_task(
        self,
        task: Task,
        worktree: WorktreeInfo,
        *,
        attempt: int,
        model: str,
        cancel: asyncio.Event,
    ) -> SessionOutcome: ...

    async def model_for(self, task: Task, *, attempt: int, escalate: bool) -> str:
        """The model an attempt would use now (asked again at start: the budget may have moved)."""
        ...


class BudgetLedger(Protocol):
    """The run's shared budget: reserve an estimate before an agent starts, settle after."""

    def remaining(self) -> float | None:
        """What may still be reserved (None: no limit)."""
        ...

    async def estimate(self, task: Task, model: str) -> float:
        """The expected cost of one session of ``task`` on ``model``."""
        ...

    async def reserve(self, key: str, amount: float) -> bool:
        """Reserve ``amount`` for ``key`` when it still fits; False (nothing reserved) otherwise."""
        ...

    async def settle(self, key: str, actual: float) -> None: ...


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
    wall_seconds: float
    task_seconds: Mapping[str, float]
    """Agent time per task (the sequential sum is what one agent at a time would have taken)."""


@dataclass(frozen=True, slots=True)
class ExecutorStatus:
    """A snapshot for ``get_status()``: running agents, counts by state, elapsed time."""

    running: tuple[tuple[str, str], ...]
    counts: Mapping[str, int]
    elapsed_seconds: float
    cost_usd: Decimal


@dataclass
class _Running:
    task: asyncio.Task[SessionOutcome]
    cancel: asyncio.Event
    model: str
    attempt: int
    started: float


@dataclass
class _Batch:
    number: int
    record_id: int
    keys: tuple[str, ...]
    done: bool = False


@dataclass
class _Options:
    limits: Limits
    conflict_resolution: Resolution | None
    merge_ids: dict[str, int] = field(default_factory=dict)


class ParallelExecutor:
    """Runs one project's incomplete tasks to the end (or to cancellation / budget exhaustion)."""

    def __init__(
        self,
        *,
        store: Store,
        workspace: Workspace,
        sessions: TaskSessions,
        project_id: int,
        limits: Limits,
        events: EventSink,
        budget: BudgetLedger | None = None,
        conflict_resolution: Resolution | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._workspace = workspace
        self._sessions = sessions
        self._project_id = project_id
        self._limits = limits
        self._events = events
        self._budget = budget
        self._resolution = conflict_resolution
        self._clock = clock
        self._cancelled = False
        self._wake = asyncio.Event()
        self._running: dict[str, _Running] = {}
        self._states: dict[str, TaskRun] = {}
        self._tasks: dict[str, Task] = {}
        self._graph = resolve([])
        self._batches: list[_Batch] = []
        self._next_batch = 1
        self._merge_queue: asyncio.Queue[str] = asyncio.Queue()
        self._cost = Decimal(0)
        self._task_seconds: dict[str, float] = {}
        self._conflicts: set[str] = set()
        self._resolved: set[str] = set()
        self._cleanups: set[asyncio.Task[None]] = set()
        self._parked: set[str] = set()
        self._started_at = clock()

    # -- public ------------------------------------------------------------------------------

    def cancel(self) -> None:
        """Stop launching, stop every running agent (worktrees and branches are kept)."""
        self._cancelled = True
        for running in self._running.values():
            running.cancel.set()
        self._wake.set()

    def get_status(self) -> ExecutorStatus:
        counts: dict[str, int] = {}
        for run in self._states.values():
            counts[run.state.value] = counts.get(run.state.value, 0) + 1
        return ExecutorStatus(
            running=tuple((k, r.model) for k, r in self._running.items()),
            counts=counts,
            elapsed_seconds=self._clock() - self._started_at,
            cost_usd=self._cost,
        )

    async def load_graph(self) -> DependencyGraph:
        """The project's tasks from the store, resolved; a cycle or unknown id is a PlanError."""
        tasks = await self._store.get_tasks_with_dependencies(self._project_id)
        epics = await self._store.list_epics(self._project_id)
        graph = graph_from_records(tasks, epics)
        if not graph.is_valid:
            raise PlanError("project", str(self._project_id), "; ".join(graph.problems()))
        self._tasks = {t.key: t for t in tasks}
        self._graph = graph
        return graph

    async def run(self) -> RunSummary:
        """Run to the end. Safe to call again after a crash: it resumes from observed state."""
        await self._workspace.initialize()
        self._states = await self._observe(await self.load_graph())
        self._next_batch = 1 + max(
            (b.batch_number for b in await self._store.list_parallel_batches(self._project_id)),
            default=0,
        )
        merger = asyncio.create_task(self._merge_worker(), name="yokeflow-merge-queue")
        try:
            finish = await self._loop()
        finally:
            for running in self._running.values():
                running.cancel.set()
            if self._running:
                await asyncio.gather(
                    *(r.task for r in self._running.values()), return_exceptions=True
                )
                await self._collect_finished()
            merger.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await merger
            await asyncio.gather(*self._cleanups, return_exceptions=True)
        self._events.publish(RunFinished(finish.outcome, finish.reason, self._now()))
        return self._summary(finish)

    # -- the loop ----------------------------------------------------------------------------

    async def _loop(self) -> Finish:
        while True:
            self._wake.clear()
            await self._collect_finished()
            limits = replace(self._limits, cancelled=self._cancelled)
            graph = self._graph  # reloaded when an agent declares a new dependency
            actions = decide(graph, self._states, limits, await self._budget_view(), self._now())
            started: list[str] = []
            timeout: float | None = None
            for action in actions:
                if isinstance(action, Finish):
                    await self._close_batches()
                    return action
                if isinstance(action, StartTask):
                    if await self._try_start(graph, action):
                        started.append(action.key)
                elif isinstance(action, MergeTask):
                    self._enqueue_merge(action.key)
                elif isinstance(action, MergeBatch):
                    for key in action.keys:
                        self._enqueue_merge(key)
                elif isinstance(action, MarkBlocked):
                    await self._block(action)
                elif isinstance(action, WaitUntil):
                    timeout = max(0.0, action.time - self._now())
            if started:
                await self._open_batch(tuple(started))
                self._publish_agents()
            if actions and not (timeout is not None and len(actions) == 1):
                continue  # act again right away: merges and blocks may unlock more
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)

    def _now(self) -> float:
        return self._clock() - self._started_at

    async def _budget_view(self) -> BudgetView | None:
        if self._budget is None:
            return None
        remaining = self._budget.remaining()
        if remaining is None:
            return BudgetView()
        estimates = {}
        for key, run in self._states.items():
            if run.state in (TaskState.PENDING, TaskState.FAILED):
                task = self._tasks[key]
                model = await self._sessions.model_for(
                    task, attempt=run.attempts + 1, escalate=run.attempts > 0
                )
                estimates[key] = await self._budget.estimate(task, model)
        return BudgetView(remaining, estimates)

    # -- observing ---------------------------------------------------------------------------

    async def _observe(self, graph: DependencyGraph) -> dict[str, TaskRun]:
        """Scheduler states from the store: task status joined with the worktree's status."""
        worktrees = {w.task_id: w for w in await self._workspace.list_worktrees()}
        states: dict[str, TaskRun] = {}
        for key in graph.tasks:
            task = self._tasks[key]
            tree = worktrees.get(task.id)
            if task.status is TaskStatus.DONE:
                if tree is not None and tree.status is WorktreeStatus.MERGED:
                    state = TaskState.MERGED
                elif tree is not None and tree.status is WorktreeStatus.CONFLICT:
                    state = TaskState.CONFLICT
                elif tree is not None and tree.status is WorktreeStatus.FAILED:
                    state = TaskState.FAILED
                else:
                    state = TaskState.DONE
                attempts = max(task.attempts, 1)
                if state is TaskState.FAILED:
                    attempts = self._limits.max_attempts  # a done task cannot run again
                states[key] = TaskRun(
                    state, attempts, failed_at=0.0 if state is TaskState.FAILED else None
                )
            elif task.status is TaskStatus.FAILED:
                states[key] = TaskRun(TaskState.FAILED, task.attempts, failed_at=self._now())
            elif task.status is TaskStatus.BLOCKED:
                states[key] = TaskRun(TaskState.BLOCKED, task.attempts)
            elif task.status in (TaskStatus.RUNNING, TaskStatus.CANCELLED):
                # An agent that died with an earlier run, or a cancelled run: release the task.
                await self._store.update_task_status(task.id, TaskStatus.PENDING)
                states[key] = TaskRun(TaskState.PENDING, task.attempts)
            else:
                states[key] = TaskRun(TaskState.PENDING, task.attempts)
            if states[key].state is TaskState.PENDING and tree is not None and tree.exists:
                # Work of an earlier attempt (or a parked task): its worktree may predate
                # dependencies that landed since; it is brought up to date when it starts.
                self._parked.add(key)
        return states

    # -- acting ------------------------------------------------------------------------------

    async def _try_start(self, graph: DependencyGraph, action: StartTask) -> bool:
        """Start a task; a failure to start (worktree, store) counts as a failed attempt."""
        task = self._tasks[action.key]
        model = await self._sessions.model_for(
            task, attempt=action.attempt, escalate=action.escalate
        )
        if self._budget is not None and not await self._budget.reserve(
            action.key, await self._budget.estimate(task, model)
        ):
            return False  # it no longer fits: it stays pending and the scheduler sees that
        try:
            await self._start(graph, action, model)
            return True
        except Exception as exc:
            if self._budget is not None:
                await self._budget.settle(action.key, 0.0)
            error = f"could not start: {exc}"
            with contextlib.suppress(Exception):
                await self._store.update_task_status(task.id, TaskStatus.FAILED, error=error)
            self._states[action.key] = TaskRun(
                TaskState.FAILED, action.attempt, failed_at=self._now()
            )
            self._events.publish(
                TaskComplete(action.key, False, action.attempt, 0.0, 0.0, error, self._now())
            )
            return False

    async def _start(self, graph: DependencyGraph, action: StartTask, model: str) -> None:
        task = self._tasks[action.key]
        if self._states[action.key].state is TaskState.FAILED:
            await self._store.update_task_status(task.id, TaskStatus.PENDING)
        change = await self._store.update_task_status(task.id, TaskStatus.RUNNING)
        task = self._tasks[action.key] = await self._store.set_task_model(change.task.id, model)
        epic = graph.tasks[action.key].epic
        worktree = await self._workspace.create_worktree(
            TaskRef(task.id, task.title, task.epic_id, task.description)
        )
        if action.key in self._parked:
            # Its worktree predates work it depends on (a declared dependency): bring it in.
            await self._workspace.sync_worktree_from_main(task.id)
            self._parked.discard(action.key)
        cancel = asyncio.Event()
        if self._cancelled:
            cancel.set()
        job = asyncio.create_task(
            self._sessions.run_task(
                task, worktree, attempt=action.attempt, model=model, cancel=cancel
            ),
            name=f"yokeflow-task-{action.key}",
        )
        job.add_done_callback(lambda _: self._wake.set())
        self._running[action.key] = _Running(job, cancel, model, action.attempt, self._clock())
        self._states[action.key] = TaskRun(
            TaskState.RUNNING, action.attempt, started_at=self._now()
        )
        self._events.publish(
            TaskStart(action.key, epic, action.attempt, model, worktree.path, self._now())
        )

    async def _collect_finished(self) -> None:
        for key, running in list(self._running.items()):
            if not running.task.done():
                continue
            del self._running[key]
            task = self._tasks[key]
            try:
                outcome = running.task.result()
            except Exception as exc:  # a bug or an adapter failure: the attempt failed
                outcome = SessionOutcome(
                    False,
                    running.model,
                    Decimal(0),
                    self._clock() - running.started,
                    f"{type(exc).__name__}: {exc}",
                )
            self._cost += outcome.cost_usd
            self._task_seconds[key] = self._task_seconds.get(key, 0.0) + outcome.duration_seconds
            if self._budget is not None:
                await self._budget.settle(key, float(outcome.cost_usd))
            await self._record_outcome(task, running, outcome)
            self._events.publish(
                TaskComplete(
                    key,
                    outcome.success,
                    running.attempt,
                    outcome.duration_seconds,
                    float(outcome.cost_usd),
                    outcome.error,
                    self._now(),
                )
            )
            self._events.publish(
                CostUpdate(
                    key,
                    outcome.model,
                    float(outcome.cost_usd),
                    float(self._cost),
                    self._budget.remaining() if self._budget else None,
                    self._now(),
                )
            )
            self._publish_agents()
        await self._update_batches()

    async def _record_outcome(self, task: Task, running: _Running, outcome: SessionOutcome) -> None:
        key = task.key
        current = await self._store.get_task(task.id)
        status = current.status if current else TaskStatus.RUNNING
        if status is TaskStatus.PENDING:
            # Parked: the agent declared a dependency on an unfinished task (MCP
            # declare_dependency). It runs again, without losing an attempt, once that lands.
            await self.load_graph()
            self._parked.add(key)
            self._states[key] = TaskRun(TaskState.PENDING, running.attempt - 1)
        elif outcome.success:
            if status is not TaskStatus.DONE:  # the agent may have marked it done through MCP
                await self._store.complete_task(task.id)
            self._states[key] = TaskRun(
                TaskState.DONE, running.attempt, duration=outcome.duration_seconds / 60
            )
        elif running.cancel.is_set() and self._cancelled:
            if status is TaskStatus.RUNNING:
                await self._store.update_task_status(
                    task.id, TaskStatus.CANCELLED, error="run cancelled"
                )
            self._states[key] = TaskRun(TaskState.CANCELLED, running.attempt)
        elif status is TaskStatus.DONE:
            # The agent reported done (through MCP) but the attempt failed (verification, no
            # commit): a done task is final in the store, so it cannot be retried.
            self._states[key] = TaskRun(
                TaskState.FAILED, self._limits.max_attempts, failed_at=self._now()
            )
        else:
            if status is TaskStatus.RUNNING:
                await self._store.update_task_status(
                    task.id, TaskStatus.FAILED, error=outcome.error
                )
            self._states[key] = TaskRun(TaskState.FAILED, running.attempt, failed_at=self._now())

    async def _block(self, action: MarkBlocked) -> None:
        task = self._tasks[action.key]
        with contextlib.suppress(InvalidTransitionError):
            await self._store.update_task_status(
                task.id, TaskStatus.BLOCKED, error=f"dependency {action.because} did not land"
            )
        self._states[action.key] = TaskRun(TaskState.BLOCKED, self._states[action.key].attempts)

    def _enqueue_merge(self, key: str) -> None:
        run = self._states[key]
        self._states[key] = TaskRun(TaskState.MERGING, run.attempts, duration=run.duration)
        self._merge_queue.put_nowait(key)

    async def _merge_worker(self) -> None:
        while True:
            key = await self._merge_queue.get()
            try:
                await self._merge(key)
            finally:
                self._wake.set()

    async def _cleanup(self, task_id: int) -> None:
        with contextlib.suppress(Exception):  # a leftover folder is repaired on the next start
            await self._workspace.cleanup_worktree(task_id)

    async def _merge(self, key: str) -> None:
        task = self._tasks[key]
        run = self._states[key]
        try:
            result = await self._workspace.merge_worktree(task.id)
            if result.status is MergeStatus.CONFLICT:
                self._events.publish(
                    MergeDone(
                        key, "conflict", None, tuple(c.path for c in result.conflicts), self._now()
                    )
                )
                if self._resolution is not None:
                    # Slots held for this merge's dependents are released while it is resolved.
                    self._states[key] = replace(run, state=TaskState.RESOLVING)
                    self._wake.set()
                    result = await self._workspace.resolve_conflict(task.id, self._resolution)
                    if result.status is MergeStatus.MERGED:
                        self._resolved.add(key)
        except Exception as exc:  # keep the run going; the branch is kept by the workspace
            self._states[key] = TaskRun(TaskState.CONFLICT, run.attempts, duration=run.duration)
            self._conflicts.add(key)
            self._events.publish(MergeDone(key, f"error: {exc}", None, (), self._now()))
            return
        if result.status in (MergeStatus.MERGED, MergeStatus.ALREADY_MERGED):
            self._states[key] = TaskRun(TaskState.MERGED, run.attempts, duration=run.duration)
            # Off the merge queue's path: dependents start while the folder is removed.
            cleanup = asyncio.create_task(self._cleanup(task.id))
            self._cleanups.add(cleanup)
            cleanup.add_done_callback(self._cleanups.discard)
        elif result.status is MergeStatus.CONFLICT:
            self._conflicts.add(key)
            self._states[key] = TaskRun(TaskState.CONFLICT, run.attempts, duration=run.duration)
        else:  # verification failed: the task is done in the store, so it cannot be retried
            self._states[key] = TaskRun(
                TaskState.FAILED,
                self._limits.max_attempts,
                failed_at=self._now(),
                duration=run.duration,
            )
        self._events.publish(
            MergeDone(
                key,
                result.status.value,
                result.merge_commit,
                tuple(c.path for c in result.conflicts),
                self._now(),
            )
        )
        self._publish_agents()

    # -- batches -----------------------------------------------------------------------------

    async def _open_batch(self, keys: tuple[str, ...]) -> None:
        number = self._next_batch
        self._next_batch += 1
        record = await self._store.create_parallel_batch(
            self._project_id, number, [self._tasks[k].id for k in keys]
        )
        await self._store.update_batch_status(record.id, BatchStatus.RUNNING)
        self._batches.append(_Batch(number, record.id, keys))
        self._events.publish(BatchStart(number, keys, self._now()))

    async def _update_batches(self) -> None:
        final = {TaskState.MERGED, TaskState.CONFLICT, TaskState.BLOCKED, TaskState.CANCELLED}
        for batch in self._batches:
            if batch.done:
                continue
            states = [self._states[k] for k in batch.keys]
            settled = all(
                s.state in final
                or (s.state is TaskState.FAILED and s.attempts >= self._limits.max_attempts)
                or (s.state is TaskState.FAILED and self._cancelled)
                for s in states
            )
            if not settled:
                continue
            batch.done = True
            merged = sum(1 for s in states if s.state is TaskState.MERGED)
            status = BatchStatus.DONE if merged == len(states) else BatchStatus.FAILED
            if self._cancelled and merged < len(states):
                status = BatchStatus.CANCELLED
            with contextlib.suppress(InvalidTransitionError):
                await self._store.update_batch_status(batch.record_id, status)
            self._events.publish(
                BatchComplete(batch.number, merged, len(states) - merged, self._now())
            )

    async def _close_batches(self) -> None:
        await self._update_batches()
        for batch in self._batches:
            if not batch.done:
                batch.done = True
                with contextlib.suppress(InvalidTransitionError):
                    await self._store.update_batch_status(batch.record_id, BatchStatus.CANCELLED)

    # -- reporting ---------------------------------------------------------------------------

    def _publish_agents(self) -> None:
        merged = sum(1 for s in self._states.values() if s.state is TaskState.MERGED)
        self._events.publish(
            AgentStatus(
                tuple((k, r.model) for k, r in self._running.items()),
                merged,
                len(self._states),
                self._now(),
            )
        )

    def _summary(self, finish: Finish) -> RunSummary:
        def having(*states: TaskState) -> tuple[str, ...]:
            return tuple(k for k, r in self._states.items() if r.state in states)

        return RunSummary(
            outcome=finish.outcome,
            reason=finish.reason,
            merged=having(TaskState.MERGED),
            failed=having(TaskState.FAILED),
            blocked=having(TaskState.BLOCKED),
            conflicts=tuple(sorted(self._conflicts)),
            resolved=tuple(sorted(self._resolved)),
            batches=len(self._batches),
            cost_usd=self._cost,
            wall_seconds=self._clock() - self._started_at,
            task_seconds=dict(self._task_seconds),
        )
