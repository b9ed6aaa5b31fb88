"""The end-of-run summary: batches, makespan against the sequential sum and the lower bound,
cost by model, merges and conflicts, and where the result is."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from yokeflow.core.graph import DependencyGraph
from yokeflow.core.records import CostSummary
from yokeflow.core.run_track import measured_lower_bound
from yokeflow.core.run_view import TaskLine
from yokeflow.services.executor import RunSummary

__all__ = ["RunReport", "build_report"]


@dataclass(frozen=True, slots=True)
class RunReport:
    outcome: str
    reason: str
    tasks: int
    merged: int
    failed: tuple[str, ...]
    blocked: tuple[str, ...]
    conflicts: tuple[str, ...]
    resolved: tuple[str, ...]
    batches: int
    makespan_seconds: float
    sequential_seconds: float
    """The agents' time added up: what one agent at a time would have taken."""
    lower_bound_seconds: float
    """max(longest chain of measured task times, total agent time / concurrency)."""
    concurrency: int
    cost_usd: Decimal
    cost_by_model: tuple[tuple[str, int, Decimal], ...]
    """(model, sessions, dollars) from the recorded ``agent_costs``."""
    result: str
    reasons: tuple[tuple[str, str], ...] = ()
    """(task, why) for every failed, blocked or conflicting task, as the store records it."""

    @property
    def speedup(self) -> float:
        return self.sequential_seconds / self.makespan_seconds if self.makespan_seconds else 1.0

    def lines(self) -> list[str]:
        out = [
            f"Outcome: {self.outcome} — {self.reason}",
            f"Tasks: {self.merged}/{self.tasks} merged in {self.batches} batches"
            + (f"; failed: {', '.join(self.failed)}" if self.failed else "")
            + (f"; blocked: {', '.join(self.blocked)}" if self.blocked else ""),
            *(f"  {task}: {why}" for task, why in self.reasons),
            f"Makespan: {self.makespan_seconds:.1f}s with {self.concurrency} agents — sequential "
            f"{self.sequential_seconds:.1f}s ({self.speedup:.2f}x), lower bound "
            f"{self.lower_bound_seconds:.1f}s ({self.makespan_seconds / max(self.lower_bound_seconds, 1e-9):.2f}x of it)",
            f"Cost: ${self.cost_usd:.4f}",
        ]
        out.extend(
            f"  {model:<22} {calls:>3} sessions  ${cost:.4f}"
            for model, calls, cost in self.cost_by_model
        )
        merges = f"Merges: {self.merged}; predicted conflicts resolved: {', '.join(self.resolved) or 'none'}"
        if self.conflicts:
            merges += f"; unresolved (branches kept): {', '.join(self.conflicts)}"
        out.append(merges)
        out.append(f"Result: {self.result}")
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "reason": self.reason,
            "tasks": self.tasks,
            "merged": self.merged,
            "failed": list(self.failed),
            "blocked": list(self.blocked),
            "conflicts": list(self.conflicts),
            "resolved": list(self.resolved),
            "batches": self.batches,
            "makespan_seconds": round(self.makespan_seconds, 3),
            "sequential_seconds": round(self.sequential_seconds, 3),
            "lower_bound_seconds": round(self.lower_bound_seconds, 3),
            "speedup": round(self.speedup, 3),
            "concurrency": self.concurrency,
            "cost_usd": str(self.cost_usd),
            "cost_by_model": [
                {"model": m, "sessions": n, "cost_usd": str(c)} for m, n, c in self.cost_by_model
            ],
            "result": self.result,
            "reasons": dict(self.reasons),
        }


def build_report(
    graph: DependencyGraph,
    summary: RunSummary,
    costs: list[CostSummary],
    concurrency: int,
    result: str,
    lines: Iterable[TaskLine] = (),
) -> RunReport:
    """The report of a run; ``lines`` (the store's view of its tasks) give the reasons."""
    seconds = dict(summary.task_seconds)
    total = sum(seconds.values())
    bound = measured_lower_bound(graph, seconds, concurrency)
    by_model = tuple(
        sorted(
            ((c.model or "?", c.calls, c.cost_usd) for c in costs),
            key=lambda row: row[0],
        )
    )
    return RunReport(
        outcome=summary.outcome,
        reason=summary.reason,
        tasks=len(graph.tasks),
        merged=len(summary.merged),
        failed=summary.failed,
        blocked=summary.blocked,
        conflicts=summary.conflicts,
        resolved=summary.resolved,
        batches=summary.batches,
        makespan_seconds=summary.wall_seconds,
        sequential_seconds=total,
        lower_bound_seconds=bound,
        concurrency=concurrency,
        cost_usd=sum((c.cost_usd for c in costs), Decimal(0)),
        cost_by_model=by_model,
        result=result,
        reasons=tuple(
            (line.key, line.error)
            for line in lines
            if line.error is not None
            and (
                line.key in summary.failed
                or line.key in summary.blocked
                or line.key in summary.conflicts
            )
        ),
    )
