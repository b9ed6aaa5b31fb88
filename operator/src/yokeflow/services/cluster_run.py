"""One reconcile pass over a ProjectRun, as far as the operator carries a run today.

It reads the run from scratch each time (nothing is remembered between passes) and returns the
status to write and the events to post:

- ``suspend: true`` → the run is paused (``Progressing`` False, reason ``Suspended``);
- problems the schema cannot refuse (:mod:`yokeflow.services.run_validation`) → ``Planned`` and
  ``Ready`` False with the problem's reason and sentence; the phase is ``Failed`` unless the
  problem can go away on its own (a Secret created later), in which case the run waits;
- an inline plan that resolves → ``Planned`` True with its size, batches, critical path and the
  task counts;
- a spec text → the run needs ``planning``: the operator runs planning Jobs
  (:mod:`yokeflow.services.cluster_planning`) and owns ``Planned`` until a plan is accepted
  (without a database it cannot: ``Planned`` Unknown, reason ``PlanningUnavailable``).

A run whose plan resolved is ``runnable``: the operator then carries it out through the engine's
reconcile step (:mod:`yokeflow.services.cluster_execution`), which owns the phase, the counts and
the ``Progressing`` and ``Ready`` conditions from then on; ``suspend: true`` pauses it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import ValidationError

from yokeflow.api.v1alpha1 import (
    BatchProgress,
    CriticalPath,
    ProjectRun,
    ProjectRunStatus,
    TaskCounts,
)
from yokeflow.api.v1alpha1.meta import ConditionStatus
from yokeflow.services.run_validation import (
    RunProblem,
    inline_graph,
    plan_problems,
    secret_problems,
)
from yokeflow.specs.conditions import condition, set_condition

__all__ = ["RunEvent", "RunReport", "reconcile_body", "reconcile_run"]

SecretKeys = Callable[[str], Awaitable[set[str] | None]]


@dataclass(frozen=True, slots=True)
class RunEvent:
    """An event to post on the ProjectRun."""

    type: Literal["Normal", "Warning"]
    reason: str
    message: str


@dataclass(frozen=True, slots=True)
class RunReport:
    """What one pass found: the status to write and the events to post."""

    status: ProjectRunStatus
    events: tuple[RunEvent, ...]
    runnable: bool = False
    """The plan resolved: the engine may carry the run out (unless it is suspended)."""
    planning: bool = False
    """The run has a spec text to plan (planning Jobs, then the engine)."""


async def reconcile_body(
    body: Mapping[str, Any], secret_keys: SecretKeys, now: datetime
) -> RunReport:
    """One pass over a ProjectRun as the API sent it: a spec our models refuse (what the schema
    let through but the operator cannot read) becomes ``Ready`` False, reason ``InvalidSpec``."""
    generation = body.get("metadata", {}).get("generation")
    try:
        previous = ProjectRunStatus.model_validate(body.get("status") or {})
    except ValidationError:
        previous = ProjectRunStatus()
    try:
        run = ProjectRun.model_validate({**body, "status": previous})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        message = f"The spec cannot be read at {where}: {first['msg']}."
        conditions = set_condition(
            previous.conditions, "Ready", "False", "InvalidSpec", message, now, generation
        )
        status = previous.model_copy(
            update={"phase": "Failed", "observed_generation": generation, "conditions": conditions}
        )
        return RunReport(status, (RunEvent("Warning", "InvalidSpec", message),))
    return await reconcile_run(run, secret_keys, now)


async def reconcile_run(run: ProjectRun, secret_keys: SecretKeys, now: datetime) -> RunReport:
    """One pass over ``run`` (see the module docstring)."""
    generation = run.metadata.get("generation")
    previous = run.status or ProjectRunStatus()
    status = previous.model_copy(update={"observed_generation": generation})
    events: list[RunEvent] = []

    def note(kind: str, value: ConditionStatus, reason: str, message: str) -> None:
        nonlocal status
        before = condition(status.conditions, kind)
        conditions = set_condition(status.conditions, kind, value, reason, message, now, generation)
        status = status.model_copy(update={"conditions": conditions})
        changed = before is None or (before.status, before.reason, before.message) != (
            value,
            reason,
            message,
        )
        if changed and kind in ("Planned", "Ready"):
            events.append(RunEvent("Warning" if value == "False" else "Normal", reason, message))

    problems: list[RunProblem] = []
    spec = run.spec
    if spec.plan is not None:
        problems.extend(plan_problems(spec.plan))
    problems.extend(await secret_problems(spec, secret_keys))
    if problems:
        first = problems[0]
        message = " ".join(p.message for p in problems[:3])
        note("Planned", "False", first.reason, message)
        note("Ready", "False", first.reason, message)
        waiting = all(p.may_resolve for p in problems)
        status = status.model_copy(update={"phase": "Pending" if waiting else "Failed"})
        return RunReport(status, tuple(events))

    if spec.plan is not None:
        graph = inline_graph(spec.plan)
        total = len(graph.tasks)
        path = graph.critical_path()
        epics = len(spec.plan.epics)
        note(
            "Planned",
            "True",
            "InlinePlanResolved",
            f"{total} tasks in {epics} epics resolve into {len(graph.batches)} dependency levels; "
            f"the critical path is {len(path)} tasks, {graph.critical_path_length():g} minutes.",
        )
        done = previous.tasks.succeeded if previous.tasks.total == total else 0
        if previous.tasks.total != total:
            status = status.model_copy(
                update={
                    "tasks": TaskCounts(total=total, pending=total),
                    "batches": BatchProgress(done=0, total=0),
                }
            )
        status = status.model_copy(
            update={
                "progress": f"{done}/{total}",
                "critical_path": CriticalPath(
                    tasks=list(path), remaining_minutes=graph.critical_path_length()
                ),
            }
        )
    elif condition(status.conditions, "Planned") is None:
        note("Planned", "Unknown", "Planning", "The spec is to be planned by a planning Job.")
    if spec.suspend:
        note("Progressing", "False", "Suspended", "The run is suspended; no new Job starts.")
        if status.phase not in _FINAL:
            status = status.model_copy(update={"phase": "Suspended"})
    if status.phase not in _FINAL:
        note("Ready", "False", "NotFinished", "The run has not finished.")
    return RunReport(
        status, tuple(events), runnable=spec.plan is not None, planning=spec.plan is None
    )


_FINAL = frozenset({"Succeeded", "Failed", "Cancelled"})
