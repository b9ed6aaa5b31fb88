"""The scheduler: one pure function that both local mode and the operator call.

``decide(graph, states, limits, budget, now)`` looks at where every task stands and returns the
actions to carry out next — start a task, merge one (or a batch), mark a task blocked, or finish
the run. It holds no state and does no I/O; callers observe, decide, act, and call it again when
something changes (an agent ends, a merge lands, a timer fires).

Two policies:

* ``eager`` (default) — start any task whose hard dependencies are merged whenever a slot is free,
  highest critical-path rank first; merge each task as soon as it finishes. Two refinements keep
  the slots busy: a task waiting only for merges already under way holds its slot for them
  (merges take seconds, tasks minutes: a slot handed to a lower-ranked task would be lost to the
  higher one for a whole task's time), and the choice between ready tasks is checked by a
  rollout (:mod:`yokeflow.core.rollout`), which takes a lower-ranked task only when simulating
  the rest of the run shows it ends clearly sooner.
* ``batches`` — the Kahn levels one after another with a barrier between them; the whole level is
  merged after its last task finishes.

Both honour ``max_concurrency``, priorities, retries with exponential backoff (optionally on a
stronger model), ``fail_fast``, cancellation and the run's budget.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from yokeflow.core import rollout
from yokeflow.core.graph import DependencyGraph
from yokeflow.core.run_states import RunStates

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
    "candidate_order",
    "decide",
    "estimate_spread",
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

    ``states`` has an entry for every task of ``graph`` (a missing entry counts as pending). A
    :class:`~yokeflow.core.run_states.RunStates` kept by the caller across the run gives the
    same answer as any other mapping, in time proportional to what changed since the last call.
    """
    budget = budget or BudgetView()
    if isinstance(states, RunStates) and states.graph is graph and not _has_dead(states, limits):
        return _decide_incrementally(graph, states, limits, budget, now)
    run = {k: states.get(k, TaskRun()) for k in graph.tasks}
    actions: list[Action] = []

    _reevaluate_blocked(graph, run, limits, actions)

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
        candidates.sort(key=candidate_order(graph, ranks))
        model = None
        if limits.schedule == "eager" and len(candidates) > slots:
            unstarted = _unstarted(run, limits)
            if rollout.affordable(len(unstarted)):
                model = _rollout_model(graph, run, unstarted, limits, durations, ranks, now)
        gain = rollout.required_gain(estimate_spread(graph, run)) if model is not None else 0.0
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


def _has_dead(view: RunStates, limits: Limits) -> bool:
    """Whether a task failed for good, conflicted or is blocked: what the incremental path
    leaves to the full one (blocking looks at every task; such runs are rare and short-lived)."""
    if view.count(TaskState.BLOCKED) or view.count(TaskState.CONFLICT):
        return True
    return any(view[k].attempts >= limits.max_attempts for k in view.keys_in(TaskState.FAILED))


def _decide_incrementally(
    graph: DependencyGraph, view: RunStates, limits: Limits, budget: BudgetView, now: float
) -> list[Action]:
    """:func:`decide` for a run with nothing dead, read from the indexes of ``view``.

    Step for step the same policy as the full path below it in :func:`decide`; a test drives
    both on random runs and compares every answer.
    """
    actions: list[Action] = []
    eager = limits.schedule == "eager"
    batch_keys: Sequence[str] = ()
    if eager:
        actions.extend(MergeTask(k) for k in view.keys_in_run_order(TaskState.DONE))
    else:
        batch_no = view.first_unsettled_level()
        if batch_no < len(graph.batches):
            batch_keys = graph.batches[batch_no]
            unfinished = sum(
                view.level_count(batch_no, s)
                for s in (TaskState.PENDING, TaskState.RUNNING, TaskState.FAILED)
            )
            if (
                not unfinished
                and view.level_count(batch_no, TaskState.DONE)
                and not view.level_count(batch_no, TaskState.MERGING)
            ):
                done = tuple(k for k in batch_keys if view[k].state is TaskState.DONE)
                actions.append(MergeBatch(done, batch_no))
        else:
            batch_no = len(graph.batches)

    stop_launching = limits.cancelled
    running = view.count(TaskState.RUNNING)
    slots = limits.max_concurrency - running
    remaining = budget.remaining_usd
    budget_stopped = False
    next_retry: float | None = None
    if not stop_launching and slots > 0:
        durations = view.refined_durations()
        ranks = view.ranks()
        hold = eager and limits.hold_for_merges and not view.count(TaskState.RESOLVING)
        held: set[str] = set()
        retries: list[str] = []
        for key in view.keys_in(TaskState.FAILED):  # every failed one here has attempts left
            if view.waits(key, for_merges=not hold) or not view.has_batch(key):
                continue
            if not eager and view.level_of(key) != batch_no:
                continue
            r = view[key]
            if r.failed_at is not None:
                ready_at = r.failed_at + limits.retry_backoff * 2 ** max(r.attempts - 1, 0)
                if ready_at > now:
                    next_retry = ready_at if next_retry is None else min(next_retry, ready_at)
                    continue
            if view.waits(key, for_merges=True):
                held.add(key)
            retries.append(key)
        retries.sort(key=view.rank_position)
        stream = view.pending_by_rank() if eager else None
        try:
            candidates = _Candidates(
                iter(_batch_candidates(view, batch_keys, retries))
                if stream is None
                else _merge_by_rank(view, _startable(view, stream, hold, held), iter(retries))
            )
            model = None
            unstarted_count = view.count(TaskState.PENDING) + view.count(TaskState.FAILED)
            if eager and candidates.more_than(slots) and rollout.affordable(unstarted_count):
                unstarted = [
                    *view.keys_in(TaskState.PENDING),
                    *view.keys_in(TaskState.FAILED),
                ]
                model = _rollout_model(
                    graph,
                    view,
                    unstarted,
                    limits,
                    durations,
                    ranks,
                    now,
                    view.keys_in(TaskState.RUNNING),
                )
            gain = rollout.required_gain(view.spread()) if model is not None else 0.0
            chosen: list[str] = []
            while candidates.more_than(0) and slots > 0:
                if model is None:
                    key = candidates.buffer[0]
                else:
                    # choose() reads the first MAX_CANDIDATES and min(len, MAX_CANDIDATES):
                    # the buffer holds that many, or every candidate there is.
                    candidates.more_than(rollout.MAX_CANDIDATES)
                    key = rollout.choose(model, candidates.buffer, chosen, min_gain=gain)
                candidates.buffer.remove(key)
                cost = budget.estimate(key)
                if remaining is not None and cost > remaining:
                    budget_stopped = True
                    continue
                if remaining is not None:
                    remaining -= cost
                chosen.append(key)
                slots -= 1
                r = view[key]
                if key in held:
                    continue
                actions.append(
                    StartTask(
                        key, r.attempts + 1, escalate=r.attempts > 0 and limits.escalate_on_retry
                    )
                )
                running += 1
        finally:
            if stream is not None:
                stream.close()  # puts back the candidates it took: the states stay as given

    busy = (
        running > 0
        or any(view.count(s) for s in _ACTIVE)
        or any(isinstance(a, MergeTask | MergeBatch) for a in actions)
    )
    if not busy and not any(isinstance(a, StartTask) for a in actions):
        if next_retry is not None and not stop_launching:
            actions.append(WaitUntil(next_retry))
        else:
            actions.append(_finish(view, limits, budget_stopped))
    return actions


class _Candidates:
    """Candidates in order, drawn from ``source`` only as far as they are looked at."""

    def __init__(self, source: Iterator[str]) -> None:
        self.buffer: list[str] = []
        self._source = source
        self._exhausted = False

    def more_than(self, count: int) -> bool:
        """Whether there are more than ``count`` candidates (drawing up to ``count + 1``)."""
        while len(self.buffer) <= count and not self._exhausted:
            key = next(self._source, None)
            if key is None:
                self._exhausted = True
            else:
                self.buffer.append(key)
        return len(self.buffer) > count


def _startable(view: RunStates, stream: Iterator[str], hold: bool, held: set[str]) -> Iterator[str]:
    """Pending tasks in rank order that may take a slot now (``held``: to wait for merges)."""
    for key in stream:
        if view.waits(key, for_merges=True):
            if not hold:
                continue
            held.add(key)
        yield key


def _merge_by_rank(view: RunStates, first: Iterator[str], second: Iterator[str]) -> Iterator[str]:
    a, b = next(first, None), next(second, None)
    while a is not None or b is not None:
        if b is None or (a is not None and view.rank_position(a) < view.rank_position(b)):
            assert a is not None
            yield a
            a = next(first, None)
        else:
            yield b
            b = next(second, None)


def _batch_candidates(view: RunStates, batch_keys: Sequence[str], retries: list[str]) -> list[str]:
    """The current batch's pending tasks whose dependencies are merged, and its retries."""
    retry = set(retries)
    out = [
        k
        for k in batch_keys
        if k in retry or (view[k].state is TaskState.PENDING and not view.waits(k, for_merges=True))
    ]
    out.sort(key=view.rank_position)
    return out


def _reevaluate_blocked(
    graph: DependencyGraph, run: dict[str, TaskRun], limits: Limits, actions: list[Action]
) -> None:
    """Block what can never run, unblock what now can (in place, one pass in task order).

    Dead: a task failed for good or conflicted, and — transitively — every pending or blocked
    task with a dead hard dependency. A pending task that is dead is marked blocked; a blocked
    task that is no longer dead (its dependency merged, or was given new attempts) competes for
    a slot again as pending: blocked is re-evaluated on every call, never final.
    """
    dead = {k for k, r in run.items() if _terminal_failure(r, limits)}
    for key in graph.task_order:
        r = run[key]
        if r.state not in (TaskState.PENDING, TaskState.BLOCKED):
            continue
        culprit = next((d for d in sorted(graph.hard_dependencies(key)) if d in dead), None)
        if culprit is not None:
            dead.add(key)
            if r.state is TaskState.PENDING:
                actions.append(MarkBlocked(key, culprit))
                run[key] = TaskRun(TaskState.BLOCKED, r.attempts)
        elif r.state is TaskState.BLOCKED:
            run[key] = TaskRun(TaskState.PENDING, r.attempts)


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


def candidate_order(
    graph: DependencyGraph, ranks: Mapping[str, float]
) -> Callable[[str], tuple[float, tuple[int, int, str]]]:
    """The sort key of candidates: highest rank first, then priority (epic, task, key)."""

    def key(k: str) -> tuple[float, tuple[int, int, str]]:
        return (-ranks.get(k, 0.0), _priority(graph, k))

    return key


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


def estimate_spread(graph: DependencyGraph, run: Mapping[str, TaskRun]) -> float | None:
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
    running_keys: Sequence[str] | None = None,
) -> rollout.Model:
    """The unfinished part of the run as the rollout simulates it (minutes from now);
    ``unstarted`` is :func:`_unstarted`'s list (sorted here, in place); ``running_keys`` the
    running tasks in task order (found in ``run`` when not given)."""

    def minutes(key: str) -> float:
        return durations.get(key, graph.tasks[key].estimate_minutes)

    settled = {TaskState.MERGED, *_LANDING}
    if isinstance(run, RunStates):  # the same order and sets, from its indexes
        unstarted.sort(key=run.rank_position)
        waits_for = {k: run.unfinished_dependencies(k) for k in unstarted}
    else:
        unstarted.sort(key=candidate_order(graph, ranks))
        waits_for = {
            k: [d for d in graph.hard_dependencies(k) if run[d].state not in settled]
            for k in unstarted
        }
    if running_keys is None:
        running_keys = [k for k, r in run.items() if r.state is TaskState.RUNNING]
    running = {k: max(0.0, minutes(k) - _elapsed_minutes(run[k], now)) for k in running_keys}
    return rollout.Model(
        order=unstarted,
        minutes={k: minutes(k) for k in unstarted},
        waits_for=waits_for,
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
