"""Session 0: a planning agent turns a spec into epics and tasks with dependencies.

The agent writes the plan through the MCP task tools (``create_epic``, ``create_task`` with
``depends_on``), which already refuse unknown keys and cycles one call at a time. The finished
plan is then resolved as a whole; when it is empty or still has a problem, the problems are
sent back to the agent for correction — an invalid plan is never accepted.

A plan is accepted whole or not at all: while session 0 runs the project is marked
``plan: planning`` (project metadata), and only a complete, valid plan marks it ``accepted``. A run
killed during planning leaves a partial plan marked ``planning``: :func:`recover_planning` counts
what the killed sessions spent, closes them, and clears the partial plan, so planning starts over
and a resumed run never executes a fragment.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from yokeflow.core.graph import DependencyGraph, graph_from_records
from yokeflow.core.prompts import PromptTemplates
from yokeflow.core.records import Project, SessionStatus
from yokeflow.errors import PlanError
from yokeflow.ports.agent import AgentRequest, AgentResult, AgentRunner, McpServer
from yokeflow.ports.launcher import LostSpend
from yokeflow.ports.session_reports import PlanSummary
from yokeflow.ports.store import Store

__all__ = [
    "PLAN_ACCEPTED",
    "PLAN_PLANNING",
    "PLAN_STATE",
    "PlanningBooks",
    "PlanningResult",
    "RemotePlanning",
    "plan_accepted",
    "plan_project",
    "plan_remotely",
    "recover_planning",
]

PLAN_STATE = "plan"
"""Project metadata key: where the project's plan stands (absent: a plan file, accepted)."""
PLAN_PLANNING = "planning"
PLAN_ACCEPTED = "accepted"


def plan_accepted(project: Project) -> bool:
    """Whether the project's plan may run (a planning session did not leave it unfinished)."""
    return bool(project.metadata.get(PLAN_STATE, PLAN_ACCEPTED) == PLAN_ACCEPTED)


async def recover_planning(
    store: Store,
    project: Project,
    lost_spend: Callable[[Path], Awaitable[LostSpend | None]],
) -> None:
    """Undo an unfinished planning: record what its sessions had spent (from their
    transcripts), close them, and clear the partial plan."""
    for session in await store.list_sessions(project.id):
        if session.kind != "planning" or session.status is not SessionStatus.RUNNING:
            continue
        spend = await lost_spend(Path(session.log_path)) if session.log_path else None
        if spend is not None and spend.cost_usd > 0:
            await store.record_agent_cost(
                project.id,
                model=spend.model or session.model or "unknown",
                cost_usd=spend.cost_usd,
                session_id=session.id,
                operation="planning",
                input_tokens=spend.input_tokens,
                output_tokens=spend.output_tokens,
                cache_read_tokens=spend.cache_read_tokens,
                cache_creation_tokens=spend.cache_creation_tokens,
            )
        await store.end_session(
            session.id, SessionStatus.FAILED, error="lost: the run that started it ended"
        )
    await store.clear_plan(project.id)


@dataclass(frozen=True, slots=True)
class PlanningResult:
    graph: DependencyGraph
    rounds: int
    cost_usd: Decimal


async def plan_project(
    *,
    store: Store,
    agent: AgentRunner,
    prompts: PromptTemplates,
    project: Project,
    spec: str,
    cwd: Path,
    mcp: McpServer,
    model: str,
    max_rounds: int = 3,
    task_minutes: int = 15,
    transcripts: Path | None = None,
    max_turns: int = 200,
    timeout_seconds: float = 1800.0,
) -> PlanningResult:
    """Plan ``project`` from ``spec``; a :class:`PlanError` when no valid plan came out."""
    base = _planning_prompt(prompts, project.name, spec, task_minutes)
    prompt, cost, problems = base, Decimal(0), ["no plan was made"]
    await store.update_project_metadata(project.id, {PLAN_STATE: PLAN_PLANNING})
    for round_number in range(1, max_rounds + 1):
        request = AgentRequest(
            prompt=prompt,
            cwd=cwd,
            model=model,
            mcp_servers=(mcp,),
            max_turns=max_turns,
            timeout_seconds=timeout_seconds,
            task="planning",
            transcript_path=None
            if transcripts is None
            else transcripts / f"planning-{round_number}.jsonl",
        )
        session_id, result = await _planning_session(store, agent, project.id, request)
        cost += result.total_cost_usd
        tasks = await store.get_tasks_with_dependencies(project.id)
        graph = graph_from_records(tasks, await store.list_epics(project.id))
        problems = graph.problems() if tasks else ["the plan has no tasks"]
        await _end_planning_session(store, session_id, result, problems)
        if not problems:
            await store.update_project_metadata(project.id, {PLAN_STATE: PLAN_ACCEPTED})
            return PlanningResult(graph, round_number, cost)
        prompt = _with_corrections(base, problems)
    raise PlanError(
        f"project {project.name}",
        "planning",
        f"no valid plan after {max_rounds} rounds: {'; '.join(problems)}",
    )


def _planning_prompt(prompts: PromptTemplates, name: str, spec: str, task_minutes: int) -> str:
    return prompts.render(
        "planning",
        {
            "project_name": name,
            "spec": spec,
            "task_minutes": task_minutes,
            "output": "mcp",
            "plan_path": "",
        },
    )


def _with_corrections(base: str, problems: list[str]) -> str:
    return (
        base
        + "\n# Corrections needed\n\nThe plan in the task manager has these problems; fix them "
        "with the task-manager tools (create what is missing, change dependencies):\n\n"
        + "\n".join(f"- {p}" for p in problems)
        + "\n"
    )


class SessionBooks(Protocol):
    """Where a planning session and its cost are recorded: the store, or the task manager over
    HTTP (:class:`yokeflow.adapters.session_reports.HttpSessionReports`)."""

    async def start_session(
        self,
        project_id: int,
        *,
        task_id: int | None = None,
        kind: str = "task",
        model: str | None = None,
        log_path: str | None = None,
    ) -> Any: ...

    async def end_session(
        self,
        session_id: int,
        status: Any,
        *,
        summary: str | None = None,
        error: str | None = None,
        metrics: Mapping[str, Any] | None = None,
    ) -> object: ...

    async def record_agent_cost(
        self,
        project_id: int,
        *,
        model: str,
        cost_usd: Decimal | float,
        session_id: int | None = None,
        task_id: int | None = None,
        operation: str = "task",
        input_tokens: int = 0,
        output_tokens: int = 0,
        cache_read_tokens: int = 0,
        cache_creation_tokens: int = 0,
    ) -> object: ...


class PlanningBooks(SessionBooks, Protocol):
    """What a planning runner without a database reports to and reads from (the task manager
    over HTTP)."""

    async def plan_summary(self) -> PlanSummary: ...


async def _planning_session(
    books: SessionBooks, agent: AgentRunner, project_id: int, request: AgentRequest
) -> tuple[int, AgentResult]:
    """One planning session: opened in ``books``, run, its cost recorded; the session's id and
    the agent's result."""
    session = await books.start_session(
        project_id,
        kind="planning",
        model=request.model,
        log_path=None if request.transcript_path is None else str(request.transcript_path),
    )
    session_id = int(session.id)
    result = await agent.run(request)
    await books.record_agent_cost(
        project_id,
        model=result.model,
        cost_usd=result.total_cost_usd,
        session_id=session_id,
        operation="planning",
        input_tokens=result.usage.input,
        output_tokens=result.usage.output,
        cache_read_tokens=result.usage.cache_read,
        cache_creation_tokens=result.usage.cache_creation,
    )
    return session_id, result


async def _end_planning_session(
    books: SessionBooks, session_id: int, result: AgentResult, problems: list[str]
) -> None:
    """Close the session: succeeded when the plan has no ``problems`` (a failed session is put
    first among them)."""
    if not result.success:
        problems.insert(0, f"the planning session failed: {result.error or result.end}")
    await books.end_session(
        session_id,
        SessionStatus.SUCCEEDED if not problems else SessionStatus.FAILED,
        summary=result.final_text,
        error="; ".join(problems) or None,
    )


@dataclass
class RemotePlanning:
    """What a planning Job's session came to (its JSON report)."""

    project: str
    success: bool = False
    epics: int = 0
    tasks: int = 0
    rounds: int = 0
    cost_usd: Decimal = Decimal(0)
    problems: list[str] = field(default_factory=list)
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "success": self.success,
            "project": self.project,
            "epics": self.epics,
            "tasks_created": self.tasks,
            "rounds": self.rounds,
            "cost_usd": str(self.cost_usd),
            "problems": self.problems,
            "error": self.error,
        }


async def plan_remotely(
    *,
    books: PlanningBooks,
    agent: AgentRunner,
    prompts: PromptTemplates,
    project_id: int,
    project_name: str,
    spec: str,
    cwd: Path,
    mcp: McpServer,
    model: str,
    max_rounds: int = 3,
    task_minutes: int = 15,
    transcripts: Path | None = None,
    max_turns: int = 200,
    timeout_seconds: float = 1800.0,
) -> RemotePlanning:
    """Session 0 in a planning Job: the agent writes the plan through the task manager (``mcp``,
    a run-scoped token), each session and its cost are reported to ``books``, and the plan is
    read back from there and sent back for correction while it has problems. Never raises for a
    plan that did not come out right: the result says why."""
    base = _planning_prompt(prompts, project_name, spec, task_minutes)
    prompt, outcome = base, RemotePlanning(project_name)
    for round_number in range(1, max_rounds + 1):
        outcome.rounds = round_number
        request = AgentRequest(
            prompt=prompt,
            cwd=cwd,
            model=model,
            mcp_servers=(mcp,),
            max_turns=max_turns,
            timeout_seconds=timeout_seconds,
            task="planning",
            transcript_path=None
            if transcripts is None
            else transcripts / f"planning-{round_number}.jsonl",
        )
        session_id, result = await _planning_session(books, agent, project_id, request)
        outcome.cost_usd += result.total_cost_usd
        summary = await books.plan_summary()
        outcome.epics, outcome.tasks = summary.epics, summary.tasks
        problems = list(summary.problems) if summary.tasks else ["the plan has no tasks"]
        await _end_planning_session(books, session_id, result, problems)
        outcome.problems = problems
        if not problems:
            outcome.success = True
            return outcome
        if result.end == "cancelled":
            break
        prompt = _with_corrections(base, problems)
    outcome.error = f"no valid plan after {outcome.rounds} rounds: {'; '.join(outcome.problems)}"
    return outcome
