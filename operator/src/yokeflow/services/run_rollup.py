"""A ProjectRun's status from one observation of its run: counts, progress, phase, conditions.

Pure: it reads the engine's :class:`~yokeflow.services.reconcile.Seen` (what the store, the
launcher and the merge lane showed in the last pass) and returns the status fields and events;
the operator writes them. Time comes in as an argument.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal

from yokeflow.api.v1alpha1 import BatchProgress, CriticalPath, ProjectRunStatus, TaskCounts
from yokeflow.api.v1alpha1.meta import ConditionStatus
from yokeflow.core.schedule import Finish, Outcome, TaskRun, TaskState
from yokeflow.services.reconcile import Seen
from yokeflow.specs.conditions import condition, set_condition

__all__ = ["Rollup", "RunNotice", "counts_of", "rollup"]

_PHASES: dict[Outcome, Literal["Succeeded", "Failed", "Cancelled", "BudgetExhausted"]] = {
    "succeeded": "Succeeded",
    "failed": "Failed",
    "cancelled": "Cancelled",
    "budget_exhausted": "BudgetExhausted",
}
_REASONS: dict[Outcome, str] = {
    "succeeded": "Succeeded",
    "failed": "TasksFailed",
    "cancelled": "Cancelled",
    "budget_exhausted": "BudgetExhausted",
}
_IN_FLIGHT = frozenset({TaskState.DONE, TaskState.MERGING, TaskState.RESOLVING})


@dataclass(frozen=True, slots=True)
class RunNotice:
    """An event to post on the ProjectRun."""

    type: Literal["Normal", "Warning"]
    reason: str
    message: str


@dataclass(frozen=True, slots=True)
class Rollup:
    status: ProjectRunStatus
    notices: tuple[RunNotice, ...]


def _failed_for_good(state: TaskRun, max_attempts: int) -> bool:
    return state.state is TaskState.CONFLICT or (
        state.state is TaskState.FAILED and state.attempts >= max_attempts
    )


def counts_of(seen: Seen, max_attempts: int, queued: frozenset[str] = frozenset()) -> TaskCounts:
    """Tasks by state as the ``tasks`` field counts them (a failed task with attempts left is
    pending; a finished task whose merge is under way is still running)."""
    counts = TaskCounts(total=len(seen.states))
    tally: dict[str, int] = {}

    def add(field: str) -> None:
        tally[field] = tally.get(field, 0) + 1

    for key, state in seen.states.items():
        if state.state is TaskState.MERGED:
            add("succeeded")
        elif state.state is TaskState.RUNNING:
            add("queued" if key in queued else "running")
        elif state.state in _IN_FLIGHT:
            add("running")
        elif _failed_for_good(state, max_attempts):
            add("failed")
        elif state.state is TaskState.BLOCKED:
            add("blocked")
        elif state.state is TaskState.CANCELLED:
            add("cancelled")
        else:
            add("pending")
    return counts.model_copy(update=tally)


def rollup(
    previous: ProjectRunStatus,
    seen: Seen,
    *,
    finish: Finish | None,
    max_attempts: int,
    cost_usd: Decimal,
    batches: BatchProgress,
    integration_commit: str | None,
    now: datetime,
    generation: int | None,
    queued: frozenset[str] = frozenset(),
    budget_limit: Decimal | None = None,
) -> Rollup:
    """The status after a pass (see the module docstring). With a ``budget_limit``, the
    ``BudgetOk`` condition says what is spent of it (False, reason ``BudgetExhausted``, once the
    spend reached it or the run ended for want of budget)."""
    counts = counts_of(seen, max_attempts, queued)
    notices: list[RunNotice] = []
    status = previous.model_copy(
        update={
            "observed_generation": generation,
            "tasks": counts,
            "progress": counts.progress(),
            "cost_usd": cost_usd,
            "batches": batches,
            "integration_commit": integration_commit or previous.integration_commit,
        }
    )

    def note(kind: str, value: ConditionStatus, reason: str, message: str) -> None:
        nonlocal status
        before = condition(status.conditions, kind)
        conditions = set_condition(status.conditions, kind, value, reason, message, now, generation)
        status = status.model_copy(update={"conditions": conditions})
        if before is None or (before.status, before.reason, before.message) != (
            value,
            reason,
            message,
        ):
            if kind == "Degraded" and value == "True":
                notices.append(RunNotice("Warning", reason, message))
            elif kind == "Ready" and finish is not None:
                notices.append(
                    RunNotice("Normal" if value == "True" else "Warning", reason, message)
                )

    failures = [
        (key, seen.tasks[key].last_error or "no reason recorded")
        for key, state in seen.states.items()
        if _failed_for_good(state, max_attempts)
    ]
    if failures:
        key, reason = failures[0]
        more = f" ({len(failures) - 1} more failed)" if len(failures) > 1 else ""
        note("Degraded", "True", "TaskFailed", f"Task {key!r} failed: {reason}{more}.")
    else:
        note("Degraded", "False", "NoFailures", "No task has failed for good.")

    if budget_limit is not None:
        spent = f"${cost_usd:.4f} of ${budget_limit:.2f} spent"
        if cost_usd >= budget_limit or (
            finish is not None and finish.outcome == "budget_exhausted"
        ):
            note("BudgetOk", "False", "BudgetExhausted", f"{spent}; no new Job starts.")
        else:
            note("BudgetOk", "True", "WithinBudget", f"{spent}.")

    remaining = _remaining_path(seen)
    minutes = sum(seen.graph.tasks[k].estimate_minutes for k in remaining)
    status = status.model_copy(
        update={"critical_path": CriticalPath(tasks=list(remaining), remaining_minutes=minutes)}
    )
    if finish is not None:
        reason = _REASONS[finish.outcome]
        message = _sentence(finish.reason)
        status = status.model_copy(update={"phase": _PHASES[finish.outcome], "eta": None})
        note("Progressing", "False", reason, message)
        note("Ready", "True" if finish.outcome == "succeeded" else "False", reason, message)
        return Rollup(status, tuple(notices))
    active = counts.running + counts.queued
    merging = sum(1 for s in seen.states.values() if s.state in _IN_FLIGHT)
    phase: Literal["Running", "Merging"] = "Merging" if merging and active == merging else "Running"
    status = status.model_copy(
        update={"phase": phase, "eta": now + timedelta(minutes=minutes) if minutes else None}
    )
    note(
        "Progressing",
        "True",
        phase,
        f"{counts.succeeded} of {counts.total} tasks merged; {counts.running} running, "
        f"{counts.queued} queued, {counts.pending} pending.",
    )
    note("Ready", "False", "NotFinished", "The run has not finished.")
    return Rollup(status, tuple(notices))


def _remaining_path(seen: Seen) -> tuple[str, ...]:
    """The critical path without what has merged already."""
    return tuple(
        k for k in seen.graph.critical_path() if seen.states[k].state is not TaskState.MERGED
    )


def _sentence(text: str) -> str:
    text = text.strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith(".") else f"{text}."
