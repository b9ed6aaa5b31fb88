"""Planning a ProjectRun's spec text in a cluster: one planning Job at a time, until a valid plan
is stored or the run's retries are spent.

The run's project is created in the store (empty, ``plan: planning``) before its first planning
Job, and the attempt number is saved there before each Job is created, so a restarted operator
finds the Job of the current attempt by its deterministic name and never creates a second one.
The planning Job's runner writes the plan through the MCP task manager (a run-scoped token) and
reports its sessions and their cost there. A pass (:func:`advance`):

- the plan is accepted → :class:`Planned` (the run is carried out like an inline plan);
- the attempt's Job is missing (a crash between saving the attempt and creating it) → it is
  created; running or held → :class:`Planning`, wait for it;
- it succeeded and the store's plan resolves (tasks, no problem) → the plan is accepted;
- it failed — its report's error, else the Job's reason — or left an invalid plan → another
  attempt after the run's retry back-off (``agent.retries``), its partial plan cleared first and
  its unfinished sessions closed; after the last one :class:`PlanningFailed` with the reason.

The Job's end is read from its status and its pod's termination message (the runner's JSON
report); a report lost or cut short leaves the Job's own state and reason. When the runner could
not report its sessions' cost to the task manager, the cost its report names is recorded on the
attempt's last planning session (one is opened for it when there is none) — once: a session's
cost is recorded once, so a pass repeated after a crash adds nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from yokeflow.core.graph import graph_from_records
from yokeflow.core.records import Project, SessionStatus
from yokeflow.core.termination import read_report
from yokeflow.errors import AlreadyExistsError
from yokeflow.ports.jobs import JobGateway, JobSight
from yokeflow.ports.store import Store
from yokeflow.services.planning import PLAN_ACCEPTED, PLAN_PLANNING, PLAN_STATE, plan_accepted

__all__ = [
    "PLANNING_ATTEMPT",
    "Planned",
    "Planning",
    "PlanningFailed",
    "PlanningJobs",
    "PlanningStep",
    "accepted",
    "advance",
    "run_project",
]

PLANNING_ATTEMPT = "planning_attempt"
"""Project metadata key: the number of the current planning attempt (its Job's name)."""


@dataclass(frozen=True, slots=True)
class Planned:
    """The plan is accepted: carry the run out."""

    project: Project
    epics: int
    tasks: int
    attempts: int


@dataclass(frozen=True, slots=True)
class Planning:
    """A planning Job runs (or waits for its retry's back-off)."""

    attempt: int
    job: str
    message: str
    wake_at: float | None = None
    """Wall time to look again (a retry's back-off ends), else when the Job changes."""
    failed_before: str | None = None
    """Why the previous attempt failed, when this one is a retry."""


@dataclass(frozen=True, slots=True)
class PlanningFailed:
    """Every attempt failed: the run fails with ``reason``."""

    attempts: int
    reason: str


PlanningStep = Planned | Planning | PlanningFailed


@dataclass(frozen=True, slots=True)
class PlanningJobs:
    """How a run's planning Jobs are named, built and found (composed by the controller)."""

    jobs: JobGateway
    name: Callable[[int], str]
    """Attempt → the Job's deterministic name."""
    create: Callable[[Project, int], Awaitable[None]]
    """Creates attempt's Secret and Job (``AlreadyExists`` is the same one)."""
    model: str = "unknown"
    """The planning session's model (what a cost recorded from a Job's report is booked on)."""


async def run_project(store: Store, key: str, spec: str) -> Project:
    """The run's project, created empty (``plan: planning``) the first time."""
    existing = await store.get_project_by_name(key)
    if existing is not None:
        return existing
    try:
        return await store.create_project(
            key, spec=spec, metadata={PLAN_STATE: PLAN_PLANNING, PLANNING_ATTEMPT: 0}
        )
    except AlreadyExistsError:
        again = await store.get_project_by_name(key)
        if again is None:
            raise
        return again


async def advance(
    store: Store,
    project: Project,
    planning: PlanningJobs,
    *,
    max_attempts: int,
    backoff_seconds: float,
    now: float,
) -> PlanningStep:
    """One pass of the run's planning (see the module docstring)."""
    if plan_accepted(project):
        return await accepted(store, project)
    attempt = int(project.metadata.get(PLANNING_ATTEMPT) or 0)
    if attempt == 0:
        return await _start(store, project, planning, 1)
    name = planning.name(attempt)
    seen = await planning.jobs.get(name)
    if seen is None:
        await planning.create(project, attempt)
        return Planning(attempt, name, _running(attempt, max_attempts))
    if seen.state in ("pending", "running", "queued"):
        return Planning(attempt, name, _running(attempt, max_attempts))
    await _record_lost_cost(store, project, seen, planning.model)
    failure = _failure(seen)
    if failure is None:
        problems = await _plan_problems(store, project)
        if not problems:
            await store.update_project_metadata(project.id, {PLAN_STATE: PLAN_ACCEPTED})
            stored = await store.get_project(project.id)
            return await accepted(store, stored or project)
        failure = f"the plan it left has problems: {'; '.join(problems[:3])}"
    if attempt >= max_attempts:
        return PlanningFailed(attempt, failure)
    ended = _timestamp(seen.finished_at) or now
    ready_at = ended + backoff_seconds * 2 ** max(attempt - 1, 0)
    if ready_at > now:
        return Planning(attempt, name, _retrying(attempt, max_attempts, failure), ready_at, failure)
    step = await _start(store, project, planning, attempt + 1)
    return Planning(step.attempt, step.job, step.message, None, failure)


async def _start(store: Store, project: Project, planning: PlanningJobs, attempt: int) -> Planning:
    """Attempt ``attempt``: the previous one's leftovers cleared, its number saved, its Job
    created."""
    await _clear(store, project)
    await store.update_project_metadata(
        project.id, {PLAN_STATE: PLAN_PLANNING, PLANNING_ATTEMPT: attempt}
    )
    await planning.create(project, attempt)
    return Planning(attempt, planning.name(attempt), f"Planning attempt {attempt} runs.")


async def _clear(store: Store, project: Project) -> None:
    """An attempt's partial plan goes and its unfinished sessions are closed (their cost, as the
    runner reported it, stays recorded)."""
    for session in await store.list_sessions(project.id):
        if session.kind == "planning" and session.status is SessionStatus.RUNNING:
            await store.end_session(
                session.id, SessionStatus.FAILED, error="lost: its planning Job ended"
            )
    if await store.list_tasks(project.id) or await store.list_epics(project.id):
        await store.clear_plan(project.id)


async def _record_lost_cost(store: Store, project: Project, seen: JobSight, model: str) -> None:
    """The cost the ended Job's report names, recorded when none of its sessions has one."""
    report = read_report(seen.termination_message, required="success")
    if report is None:
        return
    try:
        cost = Decimal(str(report.get("cost_usd") or 0))
    except InvalidOperation:
        return
    if cost <= 0:
        return
    started = (_timestamp(seen.created_at) or 0.0) - 5  # clocks of the API and the database
    sessions = [
        s
        for s in await store.list_sessions(project.id)
        if s.kind == "planning" and s.started_at is not None and s.started_at.timestamp() >= started
    ]
    paid = {c.session_id for c in await store.list_agent_costs(project.id)}
    if any(s.id in paid for s in sessions):
        return
    if sessions:
        session = sessions[-1]
    else:
        session = await store.start_session(project.id, kind="planning")
    await store.record_agent_cost(
        project.id, model=model, cost_usd=cost, session_id=session.id, operation="planning"
    )
    if session.status is SessionStatus.RUNNING:
        succeeded = report is not None and report.get("success") is True
        await store.end_session(
            session.id,
            SessionStatus.SUCCEEDED if succeeded else SessionStatus.FAILED,
            error=None if succeeded else "its planning Job ended without closing it",
        )


async def _plan_problems(store: Store, project: Project) -> list[str]:
    tasks = await store.get_tasks_with_dependencies(project.id)
    if not tasks:
        return ["the plan has no tasks"]
    return list(graph_from_records(tasks, await store.list_epics(project.id)).problems())


async def accepted(store: Store, project: Project) -> Planned:
    """The accepted plan of ``project``: its size and how many attempts it took."""
    tasks = await store.list_tasks(project.id)
    epics = await store.list_epics(project.id)
    attempts = int(project.metadata.get(PLANNING_ATTEMPT) or 0)
    return Planned(project, len(epics), len(tasks), attempts)


def _failure(seen: JobSight) -> str | None:
    """Why the planning Job failed (None: it succeeded): its report's error, else the Job's."""
    report = read_report(seen.termination_message, required="success")
    if seen.state == "succeeded" and (report is None or report.get("success") is True):
        return None
    if report is not None and report.get("error"):
        return str(report["error"])
    text = seen.reason or "Failed"
    if seen.message:
        text += f": {seen.message}"
    if seen.exit_code is not None:
        text += f" (exit code {seen.exit_code})"
    return text


def _timestamp(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _running(attempt: int, max_attempts: int) -> str:
    return f"Planning attempt {attempt} of {max_attempts} runs."


def _retrying(attempt: int, max_attempts: int, failure: str) -> str:
    return f"Planning attempt {attempt} of {max_attempts} failed ({failure}); trying again."
