"""What the metrics remember of one project's run, followed event by event (pure).

A :class:`RunTrack` is fed the run's progress events in order and keeps only what the run-level
metrics need: whether the run is going and how the last one ended, the measured agent time per
task (for the scheduling lower bound), the makespan so far, the budget, and when each task's
session ended (its merge's duration is measured from there). Task keys are kept as dictionary
keys here and never leave as metric labels.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from yokeflow.core.events import Event
from yokeflow.core.graph import DependencyGraph

__all__ = ["PHASES", "RunTrack", "measured_lower_bound"]

PHASES = ("Running", "Succeeded", "Failed", "Cancelled", "BudgetExhausted")
"""The run phases the metrics report (the ProjectRun's vocabulary)."""

_PHASE_OF_OUTCOME = {
    "succeeded": "Succeeded",
    "failed": "Failed",
    "cancelled": "Cancelled",
    "budget_exhausted": "BudgetExhausted",
}


_STARTS = frozenset({"batch_start", "task_start", "agent_status"})
"""Events only a going run publishes: the first after a run ended starts the next run."""


def measured_lower_bound(
    graph: DependencyGraph, seconds: dict[str, float], concurrency: int
) -> float:
    """``max(longest chain of measured task times, total agent time / concurrency)``: no schedule
    of these tasks on ``concurrency`` agents could have finished sooner."""
    chain = graph.ranks(durations={k: seconds.get(k, 0.0) for k in graph.tasks})
    total = sum(seconds.values())
    return max(max(chain.values(), default=0.0), total / max(concurrency, 1))


@dataclass
class RunTrack:
    """One project's current (or last) run as its events told it."""

    active: bool = False
    outcome: str | None = None
    """How the last run ended (``succeeded``, ``failed``, ``cancelled``, ``budget_exhausted``,
    ``error``); None while none has ended."""
    makespan_seconds: float = 0.0
    """Seconds from the run's start to its end (or to its latest event while it runs)."""
    task_seconds: dict[str, float] = field(default_factory=dict)
    """Agent time per task key, summed over attempts."""
    remaining_usd: float | None = None
    """The budget left to reserve after the latest session (None: no limit, or no session yet)."""
    budget_usd: float | None = None
    """The run's budget limit (None: no limit, or no session yet)."""
    _session_ended: dict[str, float] = field(default_factory=dict)

    @property
    def phase(self) -> str | None:
        """The run's phase in :data:`PHASES` (None before any run started)."""
        if self.active:
            return "Running"
        if self.outcome is None:
            return None
        return _PHASE_OF_OUTCOME.get(self.outcome, "Failed")

    def follow(self, event: Event) -> float | None:
        """Take one event; returns a merge's duration (seconds since its task's session ended)
        when ``event`` is the first merge result after that session, else None."""
        if event.kind in _STARTS and not self.active:
            self._restart()
        if self.active and event.at > 0:
            self.makespan_seconds = max(self.makespan_seconds, event.at)
        match event.kind:
            case "task_complete":
                key = event.task
                self.task_seconds[key] = self.task_seconds.get(key, 0.0) + event.duration_seconds
                self._session_ended[key] = event.at
            case "cost_update":
                self.remaining_usd = event.remaining_usd
                self.budget_usd = event.limit_usd
            case "merge":
                ended = self._session_ended.pop(event.task, None)
                if ended is not None:
                    return max(0.0, event.at - ended)
            case "run_finished":
                self.active = False
                self.outcome = event.outcome
                self._session_ended.clear()
            case _:
                pass
        return None

    def _restart(self) -> None:
        self.active = True
        self.outcome = None
        self.makespan_seconds = 0.0
        self.task_seconds.clear()
        self._session_ended.clear()
        self.remaining_usd = self.budget_usd = None
