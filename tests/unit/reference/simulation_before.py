"""What-if runs as they were before the incremental states (commit 140e0eb), unchanged but
for driving the reference scheduler (schedule_before.py). An oracle for tests only.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from schedule_before import (  # type: ignore[import-not-found]
    Finish,
    Limits,
    MergeBatch,
    MergeTask,
    StartTask,
    TaskRun,
    TaskState,
    WaitUntil,
    decide,
)

from yokeflow.core.graph import DependencyGraph

__all__ = ["ScheduledTask", "Simulation", "lower_bound", "simulate"]


@dataclass(frozen=True, slots=True)
class ScheduledTask:
    task: str
    start: float
    end: float


@dataclass(frozen=True, slots=True)
class Simulation:
    """The result of one simulated run (all times in minutes)."""

    makespan: float
    lower_bound: float
    sequential: float
    schedule: tuple[ScheduledTask, ...]
    policy: str
    concurrency: int

    @property
    def ratio(self) -> float:
        """Makespan over the lower bound (1.0 is optimal)."""
        return self.makespan / self.lower_bound if self.lower_bound else 1.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "makespan": round(self.makespan, 4),
            "lower_bound": round(self.lower_bound, 4),
            "ratio": round(self.ratio, 4),
            "sequential": round(self.sequential, 4),
            "speedup": round(self.sequential / self.makespan, 4) if self.makespan else 1.0,
            "schedule_policy": self.policy,
            "concurrency": self.concurrency,
            "schedule": [
                {"task": s.task, "start": round(s.start, 4), "end": round(s.end, 4)}
                for s in self.schedule
            ],
        }


def lower_bound(graph: DependencyGraph, concurrency: int) -> float:
    """``max(critical path, total work / concurrency)`` in minutes."""
    total = sum(t.estimate_minutes for t in graph.tasks.values())
    return max(graph.critical_path_length(), total / concurrency)


def simulate(
    graph: DependencyGraph,
    concurrency: int,
    schedule: Literal["eager", "batches"] = "eager",
    durations: Mapping[str, float] | None = None,
    merge_minutes: float = 0.0,
) -> Simulation:
    """Simulate a run of a valid graph where every task succeeds on its first attempt."""
    if not graph.is_valid:
        raise ValueError("cannot simulate a plan with cycles or unknown dependencies")
    took = {k: (durations or {}).get(k, t.estimate_minutes) for k, t in graph.tasks.items()}
    limits = Limits(max_concurrency=concurrency, schedule=schedule)
    states = {k: TaskRun() for k in graph.tasks}
    events: list[tuple[float, int, str, tuple[str, ...]]] = []  # (time, seq, kind, keys)
    started: dict[str, float] = {}
    ended: dict[str, float] = {}
    merge_free_at = 0.0
    now, seq = 0.0, 0
    while True:
        for action in decide(graph, states, limits, None, now * 60):
            if isinstance(action, StartTask):
                states[action.key] = TaskRun(TaskState.RUNNING, action.attempt, started_at=now * 60)
                started[action.key] = now
                seq += 1
                heapq.heappush(events, (now + took[action.key], seq, "done", (action.key,)))
            elif isinstance(action, MergeTask | MergeBatch):
                keys = (action.key,) if isinstance(action, MergeTask) else action.keys
                for key in keys:
                    states[key] = TaskRun(TaskState.MERGING, states[key].attempts)
                merge_free_at = max(merge_free_at, now) + merge_minutes * len(keys)
                seq += 1
                heapq.heappush(events, (merge_free_at, seq, "merged", keys))
            elif isinstance(action, Finish):
                makespan = max(ended.values(), default=0.0)
                return Simulation(
                    makespan=makespan,
                    lower_bound=lower_bound(graph, concurrency),
                    sequential=sum(took.values()),
                    schedule=tuple(
                        sorted(
                            (ScheduledTask(k, started[k], ended[k]) for k in started),
                            key=lambda s: (s.start, s.task),
                        )
                    ),
                    policy=schedule,
                    concurrency=concurrency,
                )
            elif isinstance(action, WaitUntil):  # never happens without failures
                seq += 1
                heapq.heappush(events, (action.time / 60, seq, "tick", ()))
        if not events:
            raise RuntimeError("simulation stalled: the scheduler neither acted nor finished")
        now, _, kind, keys = heapq.heappop(events)
        for key in keys:
            if kind == "done":
                states[key] = TaskRun(TaskState.DONE, states[key].attempts, duration=took[key])
                ended[key] = now
            elif kind == "merged":
                states[key] = TaskRun(TaskState.MERGED, states[key].attempts, duration=took[key])
