"""The scheduler as it was before the incremental states (commit 140e0eb), unchanged.

Kept only as an oracle: tests/unit/test_schedule_unchanged.py proves that simulations now give
exactly the schedules this one gave. Never import it from the package.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from yokeflow.core import rollout
from yokeflow.core.graph import DependencyGraph

__all__ = [
    "Action",
    "BudgetView",
    "Finish",
    "Limits",
    "MarkBlocked",
    "MergeBatch",
    "MergeTask",
    "Outcome",
    "StartTask",
    "TaskRun",
    "TaskState",
    "WaitUntil",
    "decide",
    "forecast",
]


class TaskState(StrEnum):
    """Where one task stands in a run."""

    PENDING = "pending"
    """Not started yet (or waiting for a retry)."""
    RUNNING = "running"
    """An agent is working on it."""
    DONE = "done"
    """Its agent finished successfully; its branch waits to be merged."""
    MERGING = "merging"
    """In the merge queue."""
    RESOLVING = "resolving"
    """Its merge conflicted and the conflict policy (an agent session) is resolving it."""
    MERGED = "merged"
    """Its work is on the integration branch."""
    FAILED = "failed"
    """Its last attempt failed; retried while attempts remain, terminal after."""
    CONFLICT = "conflict"
    """Its merge conflicted; the branch is kept for resolution. Dependents wait."""
    BLOCKED = "blocked"
    """A hard dependency failed for good; it will not run in this run."""
    CANCELLED = "cancelled"
    """The run was cancelled before it finished."""


Outcome = Literal["succeeded", "failed", "cancelled", "budget_exhausted"]


@dataclass(frozen=True, slots=True)
class TaskRun:
    """One task's state as the scheduler needs it."""

    state: TaskState = TaskState.PENDING
    attempts: int = 0
    """Attempts started so far."""
    failed_at: float | None = None
    """When the last attempt failed (seconds, the caller's clock)."""
    duration: float | None = None
    """Measured duration of the last successful attempt, in the same unit as estimates."""
    started_at: float | None = None
    """When the running attempt started (seconds, the caller's clock)."""


@dataclass(frozen=True, slots=True)
class Limits:
    """The run's policy knobs."""

    max_concurrency: int = 3
    schedule: Literal["eager", "batches"] = "eager"
    max_attempts: int = 2
    retry_backoff: float = 5.0
    """Seconds before the first retry; doubled on every further one."""
    escalate_on_retry: bool = True
    """Retry a failed task on a stronger model."""
    fail_fast: bool = False
    """Stop launching new tasks after a task fails for good."""
    hold_for_merges: bool = True
    """Eager: a slot waits for a landing merge its best candidate needs. Right when a merge
    takes seconds; off when every merge runs a verification command (minutes)."""
    cancelled: bool = False


@dataclass(frozen=True, slots=True)
class BudgetView:
    """What the run may still spend: ``remaining_usd`` after reservations, None for no limit."""

    remaining_usd: float | None = None
    estimates: Mapping[str, float] = field(default_factory=dict)
    """Each task's estimated cost, reserved when it starts."""

    def estimate(self, key: str) -> float:
        return self.estimates.get(key, 0.0)


@dataclass(frozen=True, slots=True)
class StartTask:
    key: str
    attempt: int
    """1 for the first run."""
    escalate: bool = False
    """A retry that should use a stronger model."""


@dataclass(frozen=True, slots=True)
class MergeTask:
    key: str


@dataclass(frozen=True, slots=True)
class MergeBatch:
    keys: tuple[str, ...]
    batch: int
    """0-based Kahn level."""


@dataclass(frozen=True, slots=True)
class MarkBlocked:
    key: str
    because: str
    """The failed (or conflicted) dependency that blocks it."""


@dataclass(frozen=True, slots=True)
class WaitUntil:
    """Nothing to do before ``time`` (a retry's backoff), unless something else changes."""

    time: float


@dataclass(frozen=True, slots=True)
class Finish:
    outcome: Outcome
    reason: str


Action = StartTask | MergeTask | MergeBatch | MarkBlocked | WaitUntil | Finish

_ACTIVE = frozenset({TaskState.RUNNING, TaskState.MERGING, TaskState.RESOLVING})
_LANDING = frozenset({TaskState.DONE, TaskState.MERGING})
"""Work finished and on its way to the integration branch (a plain merge: seconds)."""


def _terminal_failure(run: TaskRun, limits: Limits) -> bool:
    return run.state is TaskState.CONFLICT or (
        run.state is TaskState.FAILED and run.attempts >= limits.max_attempts
    )


def decide(
    graph: DependencyGraph,
    states: Mapping[str, TaskRun],
    limits: Limits,
    budget: BudgetView | None = None,
    now: float = 0.0,
) -> list[Action]:
    """The next actions for a run; an empty list means "wait for something to change".

    ``states`` has an entry for every task of ``graph`` (a missing entry counts as pending).
    """
    budget = budget or BudgetView()
    run = {k: states.get(k, TaskRun()) for k in graph.tasks}
    actions: list[Action] = []

    # Tasks that can never run: a hard dependency failed for good, conflicted, or is blocked.
    dead = {
        k for k, r in run.items() if _terminal_failure(r, limits) or r.state is TaskState.BLOCKED
    }
    for key in graph.task_order:
        r = run[key]
        if r.state is TaskState.PENDING and r.attempts == 0:
            culprit = next((d for d in sorted(graph.hard_dependencies(key)) if d in dead), None)
            if culprit is not None:
                actions.append(MarkBlocked(key, culprit))
                dead.add(key)
                run[key] = TaskRun(TaskState.BLOCKED)

    if limits.schedule == "eager":
        actions.extend(MergeTask(k) for k in graph.task_order if run[k].state is TaskState.DONE)
        batch_keys: Sequence[str] = graph.task_order
    else:
        batch_no, batch_keys = _current_batch(graph, run, limits)
        unfinished = [
            k
            for k in batch_keys
            if run[k].state in (TaskState.PENDING, TaskState.RUNNING)
            or (run[k].state is TaskState.FAILED and not _terminal_failure(run[k], limits))
        ]
        done = tuple(k for k in batch_keys if run[k].state is TaskState.DONE)
        if (
            not unfinished
            and done
            and not any(run[k].state is TaskState.MERGING for k in batch_keys)
        ):
            actions.append(MergeBatch(done, batch_no))

    stop_launching = limits.cancelled or (
        limits.fail_fast and any(_terminal_failure(r, limits) for r in run.values())
    )
    running = sum(1 for r in run.values() if r.state is TaskState.RUNNING)
    slots = limits.max_concurrency - running
    remaining = budget.remaining_usd
    budget_stopped = False
    next_retry: float | None = None
    if not stop_launching and slots > 0:
        durations = _refined_durations(graph, run)
        ranks = graph.ranks(durations)
        # Eager: a task whose last dependencies are landing (plain merges, no resolution under
        # way) competes for a slot now and holds it if it wins.
        landing = _LANDING
        if (
            limits.schedule != "eager"
            or not limits.hold_for_merges
            or any(r.state is TaskState.RESOLVING for r in run.values())
        ):
            landing = frozenset()
        candidates = []
        held: set[str] = set()  # candidates whose dependencies are landing, not yet merged
        for key in batch_keys:
            r = run[key]
            retry = r.state is TaskState.FAILED and r.attempts < limits.max_attempts
            if not (r.state is TaskState.PENDING or retry):
                continue
            unmerged = [
                run[d].state
                for d in graph.hard_dependencies(key)
                if run[d].state is not TaskState.MERGED
            ]
            if any(state not in landing for state in unmerged):
                continue
            if retry and r.failed_at is not None:
                ready_at = r.failed_at + limits.retry_backoff * 2 ** max(r.attempts - 1, 0)
                if ready_at > now:
                    next_retry = ready_at if next_retry is None else min(next_retry, ready_at)
                    continue
            if unmerged:
                held.add(key)
            candidates.append(key)
        candidates.sort(key=lambda k: (-ranks.get(k, 0.0), _priority(graph, k)))
        model = None
        if limits.schedule == "eager" and len(candidates) > slots:
            unstarted = _unstarted(run, limits)
            if rollout.affordable(len(unstarted)):
                model = _rollout_model(graph, run, unstarted, limits, durations, ranks, now)
        gain = rollout.required_gain(_estimate_spread(graph, run)) if model is not None else 0.0
        chosen: list[str] = []
        while candidates and slots > 0:
            key = (
                candidates[0]
                if model is None
                else rollout.choose(model, candidates, chosen, min_gain=gain)
            )
            candidates.remove(key)
            cost = budget.estimate(key)
            if remaining is not None and cost > remaining:
                budget_stopped = True
                continue
            if remaining is not None:
                remaining -= cost
            chosen.append(key)
            slots -= 1
            r = run[key]
            if key in held:
                continue  # its slot waits for the landing merges; it starts when they are in
            actions.append(
                StartTask(key, r.attempts + 1, escalate=r.attempts > 0 and limits.escalate_on_retry)
            )
            running += 1

    busy = (
        running > 0
        or any(r.state in _ACTIVE for r in run.values())
        or any(isinstance(a, MergeTask | MergeBatch) for a in actions)
    )
    if not busy and not any(isinstance(a, StartTask) for a in actions):
        if next_retry is not None and not stop_launching:
            actions.append(WaitUntil(next_retry))
        else:
            actions.append(_finish(run, limits, budget_stopped))
    return actions


def forecast(
    graph: DependencyGraph, states: Mapping[str, TaskRun], limits: Limits, now: float = 0.0
) -> float:
    """Minutes until the run ends — an ETA: every task left takes its refined estimate (a
    running one what is left of it), the slots filled by rank order, merges instant.

    It ignores failures to come and the ``batches`` barrier, so it is a little optimistic.
    """
    run = {k: states.get(k, TaskRun()) for k in graph.tasks}
    durations = _refined_durations(graph, run)
    ranks = graph.ranks(durations)
    unstarted = _unstarted(run, limits)
    return _rollout_model(graph, run, unstarted, limits, durations, ranks, now).makespan(())


def _current_batch(
    graph: DependencyGraph, run: Mapping[str, TaskRun], limits: Limits
) -> tuple[int, tuple[str, ...]]:
    """The first Kahn level with a task that is neither merged nor finished for good."""
    settled = {TaskState.MERGED, TaskState.BLOCKED, TaskState.CANCELLED}
    for number, batch in enumerate(graph.batches):
        if any(
            run[k].state not in settled and not _terminal_failure(run[k], limits) for k in batch
        ):
            return number, batch
    return len(graph.batches), ()


def _priority(graph: DependencyGraph, key: str) -> tuple[int, int, str]:
    task = graph.tasks[key]
    epic = graph.epics.get(task.epic)
    return (epic.priority if epic else 0, task.priority, key)


def _refined_durations(graph: DependencyGraph, run: Mapping[str, TaskRun]) -> dict[str, float]:
    """Estimates scaled, per epic, by how measured durations compared with their estimates; an
    epic with nothing measured yet goes at the run's overall pace (estimates tend to be off by
    one common factor — units, optimism — so an unmeasured epic is not taken at face value)."""
    ratios: dict[str, list[float]] = {}
    for key, r in run.items():
        task = graph.tasks[key]
        if r.duration is not None and task.estimate_minutes > 0:
            ratios.setdefault(task.epic, []).append(r.duration / task.estimate_minutes)
    if not ratios:
        return {}
    scale = {epic: sum(v) / len(v) for epic, v in ratios.items()}
    overall = sum(sum(v) for v in ratios.values()) / sum(len(v) for v in ratios.values())
    return {
        key: task.estimate_minutes * scale.get(task.epic, overall)
        for key, task in graph.tasks.items()
    }


def _estimate_spread(graph: DependencyGraph, run: Mapping[str, TaskRun]) -> float | None:
    """The standard deviation of log(measured / estimated) over measured tasks (None: < 2)."""
    logs = [
        math.log(r.duration / graph.tasks[k].estimate_minutes)
        for k, r in run.items()
        if r.duration is not None and r.duration > 0 and graph.tasks[k].estimate_minutes > 0
    ]
    return statistics.stdev(logs) if len(logs) >= 2 else None


def _rollout_model(
    graph: DependencyGraph,
    run: Mapping[str, TaskRun],
    unstarted: list[str],
    limits: Limits,
    durations: Mapping[str, float],
    ranks: Mapping[str, float],
    now: float,
) -> rollout.Model:
    """The unfinished part of the run as the rollout simulates it (minutes from now);
    ``unstarted`` is :func:`_unstarted`'s list (sorted here, in place)."""

    def minutes(key: str) -> float:
        return durations.get(key, graph.tasks[key].estimate_minutes)

    settled = {TaskState.MERGED, *_LANDING}
    unstarted.sort(key=lambda k: (-ranks.get(k, 0.0), _priority(graph, k)))
    running = {
        k: max(0.0, minutes(k) - _elapsed_minutes(r, now))
        for k, r in run.items()
        if r.state is TaskState.RUNNING
    }
    return rollout.Model(
        order=unstarted,
        minutes={k: minutes(k) for k in unstarted},
        waits_for={
            k: [d for d in graph.hard_dependencies(k) if run[d].state not in settled]
            for k in unstarted
        },
        running=running,
        concurrency=limits.max_concurrency,
    )


def _unstarted(run: Mapping[str, TaskRun], limits: Limits) -> list[str]:
    """Tasks still to run: pending, or failed with attempts left."""
    return [
        k
        for k, r in run.items()
        if r.state is TaskState.PENDING
        or (r.state is TaskState.FAILED and r.attempts < limits.max_attempts)
    ]


def _elapsed_minutes(run: TaskRun, now: float) -> float:
    return 0.0 if run.started_at is None else max(0.0, now - run.started_at) / 60


def _finish(run: Mapping[str, TaskRun], limits: Limits, budget_stopped: bool) -> Finish:
    counts: dict[TaskState, int] = {}
    for r in run.values():
        counts[r.state] = counts.get(r.state, 0) + 1
    merged = counts.get(TaskState.MERGED, 0)
    total = len(run)
    if merged == total:
        return Finish("succeeded", f"all {total} tasks merged")
    if limits.cancelled:
        return Finish("cancelled", f"cancelled with {merged}/{total} tasks merged")
    if budget_stopped:
        return Finish("budget_exhausted", f"budget exhausted with {merged}/{total} tasks merged")
    failed = sum(1 for r in run.values() if _terminal_failure(r, limits))
    blocked = counts.get(TaskState.BLOCKED, 0)
    stopped = total - merged - failed - blocked
    detail = f"{failed} failed, {blocked} blocked" + (
        f", {stopped} not started (fail-fast)" if stopped else ""
    )
    return Finish("failed", f"{merged}/{total} tasks merged; {detail}")
