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

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from yokeflow.core.graph import DependencyGraph, graph_from_records
from yokeflow.core.prompts import PromptTemplates
from yokeflow.core.records import Project, SessionStatus
from yokeflow.errors import PlanError
from yokeflow.ports.agent import AgentRequest, AgentRunner, McpServer
from yokeflow.ports.launcher import LostSpend
from yokeflow.ports.store import Store

__all__ = [
    "PLAN_ACCEPTED",
    "PLAN_PLANNING",
    "PLAN_STATE",
    "PlanningResult",
    "plan_accepted",
    "plan_project",
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
    base = prompts.render(
        "planning",
        {
            "project_name": project.name,
            "spec": spec,
            "task_minutes": task_minutes,
            "output": "mcp",
            "plan_path": "",
        },
    )
    prompt, cost, problems = base, Decimal(0), ["no plan was made"]
    await store.update_project_metadata(project.id, {PLAN_STATE: PLAN_PLANNING})
    for round_number in range(1, max_rounds + 1):
        transcript = None if transcripts is None else transcripts / f"planning-{round_number}.jsonl"
        session = await store.start_session(
            project.id,
            kind="planning",
            model=model,
            log_path=None if transcript is None else str(transcript),
        )
        result = await agent.run(
            AgentRequest(
                prompt=prompt,
                cwd=cwd,
                model=model,
                mcp_servers=(mcp,),
                max_turns=max_turns,
                timeout_seconds=timeout_seconds,
                task="planning",
                transcript_path=transcript,
            )
        )
        cost += result.total_cost_usd
        await store.record_agent_cost(
            project.id,
            model=result.model,
            cost_usd=result.total_cost_usd,
            session_id=session.id,
            operation="planning",
            input_tokens=result.usage.input,
            output_tokens=result.usage.output,
            cache_read_tokens=result.usage.cache_read,
            cache_creation_tokens=result.usage.cache_creation,
        )
        tasks = await store.get_tasks_with_dependencies(project.id)
        graph = graph_from_records(tasks, await store.list_epics(project.id))
        problems = graph.problems() if tasks else ["the plan has no tasks"]
        if not result.success:
            problems.insert(0, f"the planning session failed: {result.error or result.end}")
        await store.end_session(
            session.id,
            SessionStatus.SUCCEEDED if not problems else SessionStatus.FAILED,
            summary=result.final_text,
            error="; ".join(problems) or None,
        )
        if not problems:
            await store.update_project_metadata(project.id, {PLAN_STATE: PLAN_ACCEPTED})
            return PlanningResult(graph, round_number, cost)
        prompt = (
            base
            + "\n# Corrections needed\n\nThe plan in the task manager has these problems; fix them "
            "with the task-manager tools (create what is missing, change dependencies):\n\n"
            + "\n".join(f"- {p}" for p in problems)
            + "\n"
        )
    raise PlanError(
        f"project {project.name}",
        "planning",
        f"no valid plan after {max_rounds} rounds: {'; '.join(problems)}",
    )
