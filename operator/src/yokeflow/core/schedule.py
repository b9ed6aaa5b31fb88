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

Its parts, one module each: a task's state (:mod:`~yokeflow.core.task_run`), the run's limits
(:mod:`~yokeflow.core.limits`), the actions (:mod:`~yokeflow.core.actions`), the estimates
behind the ranks and the rollout (:mod:`~yokeflow.core.run_estimates`) and the fast path over a
run's indexes (:mod:`~yokeflow.core.schedule_incremental`). The names callers use are exported
from here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from yokeflow.core import rollout
from yokeflow.core.actions import (
    Action,
    Finish,
    MarkBlocked,
    MergeBatch,
    MergeTask,
    Outcome,
    StartTask,
    WaitUntil,
    finish,
)
from yokeflow.core.graph import DependencyGraph
from yokeflow.core.limits import BudgetView, Limits
from yokeflow.core.run_estimates import (
    candidate_order,
    estimate_spread,
    forecast,
    refined_durations,
    rollout_model,
    unstarted_tasks,
)
from yokeflow.core.run_states import RunStates
from yokeflow.core.schedule_incremental import decide_incrementally, has_dead
from yokeflow.core.task_run import ACTIVE, LANDING, TaskRun, TaskState, terminal_failure

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
    if isinstance(states, RunStates) and states.graph is graph and not has_dead(states, limits):
        return decide_incrementally(graph, states, limits, budget, now)
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
            or (run[k].state is TaskState.FAILED and not terminal_failure(run[k], limits))
        ]
        done = tuple(k for k in batch_keys if run[k].state is TaskState.DONE)
        if (
            not unfinished
            and done
            and not any(run[k].state is TaskState.MERGING for k in batch_keys)
        ):
            actions.append(MergeBatch(done, batch_no))

    stop_launching = limits.cancelled or (
        limits.fail_fast and any(terminal_failure(r, limits) for r in run.values())
    )
    running = sum(1 for r in run.values() if r.state is TaskState.RUNNING)
    slots = limits.max_concurrency - running
    remaining = budget.remaining_usd
    budget_stopped = False
    next_retry: float | None = None
    if not stop_launching and slots > 0:
        durations = refined_durations(graph, run)
        ranks = graph.ranks(durations)
        # Eager: a task whose last dependencies are landing (plain merges, no resolution under
        # way) competes for a slot now and holds it if it wins.
        landing = LANDING
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
            unstarted = unstarted_tasks(run, limits)
            if rollout.affordable(len(unstarted)):
                model = rollout_model(graph, run, unstarted, limits, durations, ranks, now)
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
        or any(r.state in ACTIVE for r in run.values())
        or any(isinstance(a, MergeTask | MergeBatch) for a in actions)
    )
    if not busy and not any(isinstance(a, StartTask) for a in actions):
        if next_retry is not None and not stop_launching:
            actions.append(WaitUntil(next_retry))
        else:
            actions.append(finish(run, limits, budget_stopped))
    return actions


def _reevaluate_blocked(
    graph: DependencyGraph, run: dict[str, TaskRun], limits: Limits, actions: list[Action]
) -> None:
    """Block what can never run, unblock what now can (in place, one pass in task order).

    Dead: a task failed for good or conflicted, and — transitively — every pending or blocked
    task with a dead hard dependency. A pending task that is dead is marked blocked; a blocked
    task that is no longer dead (its dependency merged, or was given new attempts) competes for
    a slot again as pending: blocked is re-evaluated on every call, never final.
    """
    dead = {k for k, r in run.items() if terminal_failure(r, limits)}
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


def _current_batch(
    graph: DependencyGraph, run: Mapping[str, TaskRun], limits: Limits
) -> tuple[int, tuple[str, ...]]:
    """The first Kahn level with a task that is neither merged nor finished for good."""
    settled = {TaskState.MERGED, TaskState.BLOCKED, TaskState.CANCELLED}
    for number, batch in enumerate(graph.batches):
        if any(run[k].state not in settled and not terminal_failure(run[k], limits) for k in batch):
            return number, batch
    return len(graph.batches), ()
