"""How long what is left of a run should take: refined durations, ranks order, the rollout model.

Estimates are scaled by how measured durations compared with them (:func:`refined_durations`);
candidates are ordered by rank (:func:`candidate_order`); :func:`rollout_model` is the unfinished
part of the run as :mod:`yokeflow.core.rollout` simulates it, and :func:`forecast` the ETA it
gives. Pure functions over the graph and the task states.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Mapping, Sequence

from yokeflow.core import rollout
from yokeflow.core.graph import DependencyGraph
from yokeflow.core.limits import Limits
from yokeflow.core.run_states import RunStates
from yokeflow.core.task_run import LANDING, TaskRun, TaskState

__all__ = [
    "candidate_order",
    "estimate_spread",
    "forecast",
    "refined_durations",
    "rollout_model",
    "unstarted_tasks",
]


def forecast(
    graph: DependencyGraph, states: Mapping[str, TaskRun], limits: Limits, now: float = 0.0
) -> float:
    """Minutes until the run ends — an ETA: every task left takes its refined estimate (a
    running one what is left of it), the slots filled by rank order, merges instant.

    It ignores failures to come and the ``batches`` barrier, so it is a little optimistic.
    """
    run = {k: states.get(k, TaskRun()) for k in graph.tasks}
    durations = refined_durations(graph, run)
    ranks = graph.ranks(durations)
    unstarted = unstarted_tasks(run, limits)
    return rollout_model(graph, run, unstarted, limits, durations, ranks, now).makespan(())


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


def refined_durations(graph: DependencyGraph, run: Mapping[str, TaskRun]) -> dict[str, float]:
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


def rollout_model(
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
    ``unstarted`` is :func:`unstarted_tasks`'s list (sorted here, in place); ``running_keys`` the
    running tasks in task order (found in ``run`` when not given)."""

    def minutes(key: str) -> float:
        return durations.get(key, graph.tasks[key].estimate_minutes)

    settled = {TaskState.MERGED, *LANDING}
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


def unstarted_tasks(run: Mapping[str, TaskRun], limits: Limits) -> list[str]:
    """Tasks still to run: pending, or failed with attempts left."""
    return [
        k
        for k, r in run.items()
        if r.state is TaskState.PENDING
        or (r.state is TaskState.FAILED and r.attempts < limits.max_attempts)
    ]


def _elapsed_minutes(run: TaskRun, now: float) -> float:
    return 0.0 if run.started_at is None else max(0.0, now - run.started_at) / 60
