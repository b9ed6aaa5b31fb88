"""Task sessions on the real agent runtime: the executor's ``TaskSessions`` for local runs.

For each attempt of a task it chooses the model (complexity, overrides, history, escalation after
a failed cheaper attempt, the budget's state), gives the agent its domain's expertise, runs the
task end to end through :func:`yokeflow.services.task_run.run_task` (prompt, session, verification,
commit, cost row, session row), then records the model's outcome and learns from the transcript.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from yokeflow.core.budget import BudgetState
from yokeflow.core.model_choice import OutcomeStats
from yokeflow.core.prompts import PromptTemplates
from yokeflow.core.records import Epic, Project, Task
from yokeflow.core.task_brief import TaskBrief, brief_of
from yokeflow.ports.agent import AgentRunner, McpServer
from yokeflow.ports.checkout import TaskCheckout
from yokeflow.ports.launcher import SessionOutcome
from yokeflow.ports.store import Store
from yokeflow.ports.workspace import WorktreeInfo
from yokeflow.services.costs import CostEstimator, ModelSelector, RunBudget
from yokeflow.services.learning import ExpertiseService
from yokeflow.services.task_run import TaskRunConfig, TaskSpec, run_task
from yokeflow.settings import AgentSettings

__all__ = ["AgentTaskSessions", "RunBudgetLedger"]

_HISTORY_SECONDS = 5.0
"""How long the models' success rates are reused between choices (they change per session)."""


@dataclass(frozen=True, slots=True)
class _Cancellation:
    event: asyncio.Event

    async def wait(self) -> None:
        await self.event.wait()


@dataclass
class AgentTaskSessions:
    """Runs each task attempt as a real agent session in its worktree."""

    store: Store
    agent: AgentRunner
    prompts: PromptTemplates
    selector: ModelSelector
    project: Project
    epics: dict[int, Epic]
    checkout: Callable[[Path], TaskCheckout]
    """The task checkout (verification and commit) of a worktree folder."""
    mcp_servers: Callable[[Task], tuple[McpServer, ...]]
    """The MCP servers a task's session gets (the task manager, scoped to it)."""
    transcripts: Path
    """Where each session's transcript (JSON lines) is kept."""
    settings: AgentSettings
    integration_branch: str
    expertise: ExpertiseService | None = None
    budget: RunBudget | None = None
    _models: dict[tuple[str, int], str] = field(default_factory=dict)
    """The model each started attempt ran on (escalation starts from it)."""
    _reasons: dict[tuple[str, int], str] = field(default_factory=dict)
    _history: tuple[float, list[OutcomeStats]] | None = None

    def _brief(self, task: Task) -> TaskBrief:
        return brief_of(task, self.epics.get(task.epic_id))

    async def model_for(self, task: Task, *, attempt: int, escalate: bool) -> str:
        """The model this attempt would use now: complexity, overrides, history, escalation after
        a failed attempt, and the budget's state at this moment (approaching: cheaper)."""
        previous = None
        if escalate:
            previous = self._models.get((task.key, attempt - 1)) or task.model
        state = self.budget.state() if self.budget is not None else BudgetState.OK
        now = time.monotonic()
        if self._history is None or now - self._history[0] > _HISTORY_SECONDS:
            self._history = (now, await self.selector.history())
        recommendation = await self.selector.choose(
            self._brief(task),
            attempt=attempt,
            previous_model=previous,
            budget=state,
            history=self._history[1],
        )
        self._reasons[(task.key, attempt)] = recommendation.reason
        return recommendation.model

    async def run_task(
        self,
        task: Task,
        worktree: WorktreeInfo,
        *,
        attempt: int,
        model: str,
        cancel: asyncio.Event,
        marker: str,
    ) -> SessionOutcome:
        started = time.monotonic()
        self._models[(task.key, attempt)] = model
        brief = self._brief(task)
        domain, expertise = "general", ""
        if self.expertise is not None:
            section = await self.expertise.prompt_for(self.project.id, brief)
            domain, expertise = section.domain, section.text
        epic = self.epics.get(task.epic_id)
        known = {t.id: t for t in await self.store.list_tasks(self.project.id)}
        dependencies = tuple(
            (known[d].key, known[d].title) for d in task.hard_dependencies if d in known
        )
        transcript = self.transcripts / f"{task.key}-attempt{attempt}.jsonl"
        spec = TaskSpec(
            project_name=self.project.name,
            key=task.key,
            title=task.title,
            description=task.description,
            epic_key=epic.key if epic else "",
            epic_name=epic.name if epic else "",
            dependencies=dependencies,
            project_id=self.project.id,
            task_id=task.id,
            expects_changes=task.expects_changes,
        )
        config = TaskRunConfig(
            worktree=Path(worktree.path),
            model=model,
            branch=worktree.branch,
            base_branch=self.integration_branch,
            verify_commands=(self.settings.verify_command,) if self.settings.verify_command else (),
            max_turns=self.settings.max_turns,
            timeout_seconds=self.settings.timeout_seconds,
            transcript_path=transcript,
            mcp_servers=self.mcp_servers(task),
            expertise=expertise,
            domain=domain,
            marker=marker,
        )
        report = await run_task(
            spec,
            config,
            agent=self.agent,
            checkout=self.checkout(Path(worktree.path)),
            prompts=self.prompts,
            costs=self.store,
            sessions=self.store,
            cancel=_Cancellation(cancel),
        )
        cost = Decimal(report.cost_usd)
        await self.selector.record_outcome(
            self.project.id,
            brief,
            model=model,
            success=report.success,
            task_id=task.id,
            session_id=report.session_id,
            attempt=attempt,
            cost_usd=cost,
            reason=self._reasons.get((task.key, attempt)),
        )
        if self.expertise is not None:
            await self.expertise.learn(
                self.project.id,
                brief,
                session_id=report.session_id,
                transcript=transcript if transcript.exists() else None,
                success=report.success,
                files_modified=tuple(report.session.get("files_modified", ())),
            )
        return SessionOutcome(
            success=report.success,
            model=model,
            cost_usd=cost,
            duration_seconds=time.monotonic() - started,
            error=report.error,
        )


class RunBudgetLedger:
    """The executor's budget port over a :class:`RunBudget` and measured costs per tier."""

    def __init__(self, budget: RunBudget, estimator: CostEstimator, project_id: int) -> None:
        self._budget = budget
        self._estimator = estimator
        self._project_id = project_id
        self._estimates: dict[str, float] = {}

    def remaining(self) -> float | None:
        left = self._budget.ledger.remaining
        return None if left is None else float(left)

    def limit(self) -> float | None:
        limit = self._budget.ledger.limit
        return None if limit is None else float(limit)

    async def estimate(self, task: Task, model: str) -> float:
        if model not in self._estimates:  # refreshed after every settled session
            self._estimates[model] = float(await self._estimator.estimate(self._project_id, model))
        return self._estimates[model]

    async def reserve(self, key: str, amount: float) -> bool:
        return await self._budget.try_reserve(key, Decimal(str(amount)))

    async def settle(self, key: str, actual: float) -> None:
        await self._budget.settle(key, actual)
        self._estimates.clear()

    async def observe_spend(self, spent: Decimal) -> None:
        await self._budget.observe_spend(spent)
