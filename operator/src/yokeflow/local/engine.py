"""The engine composed for one repository on this machine: store, workspace, agents, executor.

This is local mode's composition root: it picks the adapters (PostgreSQL — the configured one or
the embedded server —, git worktrees, the Claude Agent SDK, the stdio MCP task manager) and hands
them to the same services the operator uses.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

from yokeflow.adapters.claude import ClaudeAgentRunner, processes
from yokeflow.adapters.claude.leash import leashed_cli
from yokeflow.adapters.claude.lost_spend import spend_in_transcript
from yokeflow.adapters.clock import SystemClock
from yokeflow.adapters.git import WorkspaceOptions, WorktreeManager
from yokeflow.adapters.postgres import PostgresStore, database_url, migrate
from yokeflow.adapters.postgres.learning_store import PostgresLearningStore
from yokeflow.adapters.private_files import private_folder
from yokeflow.adapters.prompt_files import load_prompts
from yokeflow.adapters.task_checkout import GitTaskCheckout
from yokeflow.core.merging import MergeMode, Resolution
from yokeflow.core.plan import Plan
from yokeflow.core.records import Project, Task
from yokeflow.core.schedule import Limits
from yokeflow.errors import ConfigError
from yokeflow.local.marker import ProjectMarker, read_marker, write_marker
from yokeflow.local.task_manager import LocalTaskManager
from yokeflow.ports.agent import McpServer
from yokeflow.ports.events import EventSink
from yokeflow.ports.launcher import Lease, LostSpend
from yokeflow.services.agent_sessions import AgentTaskSessions, RunBudgetLedger
from yokeflow.services.conflict_agent import AgentConflictResolver
from yokeflow.services.costs import CostEstimator, ModelSelector, RunBudget
from yokeflow.services.executor import ParallelExecutor
from yokeflow.services.learning import ExpertiseService
from yokeflow.services.planning import (
    PLAN_PLANNING,
    PLAN_STATE,
    PlanningResult,
    plan_accepted,
    plan_project,
    recover_planning,
)
from yokeflow.services.runs import CANCEL_FLAG, create_from_plan
from yokeflow.settings import Settings

__all__ = ["LocalEngine", "agent_runner", "conflict_resolver", "open_engine"]


@dataclass
class LocalEngine:
    """Everything a local run needs, opened once."""

    settings: Settings
    repo: Path
    store: PostgresStore
    url: str
    agent: ClaudeAgentRunner
    tasks: LocalTaskManager
    endpoint: str | None
    cli: Path | None = None
    """The leashed agent CLI (None: the SDK's own)."""

    async def project_named(self, name: str) -> Project | None:
        return await self.store.get_project_by_name(name)

    async def create_from_plan(self, plan: Plan, name: str | None = None) -> Project:
        """Store ``plan`` as a new project (named ``name``, default the plan's)."""
        project = await create_from_plan(self.store, plan, self.repo, name)
        self.remember(project)
        return project

    async def plan_from_spec(self, name: str, spec: str) -> tuple[Project, PlanningResult]:
        """Create project ``name`` and let a planning agent fill it from ``spec``."""
        if await self.store.get_project_by_name(name) is not None:
            raise ConfigError(f"a project named {name!r} already exists in this database")
        project = await self.store.create_project(
            name, spec=spec, metadata={"repository": str(self.repo), PLAN_STATE: PLAN_PLANNING}
        )
        self.remember(project)
        return project, await self._plan(project, spec)

    async def finish_planning(self, project: Project) -> PlanningResult | None:
        """Plan again when the run that planned ``project`` died before its plan was accepted
        (its partial plan is cleared, its sessions' spend counted); None when it was accepted."""
        if plan_accepted(project):
            return None
        if not project.spec:
            raise ConfigError(f"project {project.name!r} has an unfinished plan and no spec")
        await recover_planning(self.store, project, self._transcript_spend)
        return await self._plan(project, project.spec)

    async def _transcript_spend(self, path: Path) -> LostSpend | None:
        prices = ModelSelector(PostgresLearningStore(self.store.pool), self.settings.cost).prices
        return await asyncio.to_thread(spend_in_transcript, path, prices)

    async def _plan(self, project: Project, spec: str) -> PlanningResult:
        return await plan_project(
            store=self.store,
            # The planner works in the user's checkout: it must not "fix" its .gitignore.
            agent=ClaudeAgentRunner(
                endpoint=self.endpoint,
                check_hygiene=False,
                pass_environment=self.settings.agent.pass_environment,
                cli_path=self.cli,
            ),
            prompts=load_prompts(),
            project=project,
            spec=spec,
            cwd=self.repo,
            mcp=self.tasks.server_for(project.id, None, "mcp-http:planning"),
            model=self.settings.cost.default_model,
            transcripts=self.transcripts,
            timeout_seconds=self.settings.agent.timeout_seconds,
        )

    async def resumed_project(self) -> Project:
        """The project this repository's last run used (its marker)."""
        marker = read_marker(self.repo)
        if marker is None:
            raise ConfigError(
                f"{self.repo} has no earlier run to resume (no .yokeflow/project.json)"
            )
        project = await self.store.get_project(marker.project_id)
        if project is None or project.name != marker.project:
            raise ConfigError(f"project {marker.project!r} of {self.repo} is not in this database")
        return project

    def remember(self, project: Project) -> None:
        explicit = self.settings.database.url
        write_marker(
            self.repo,
            ProjectMarker(
                project=project.name,
                project_id=project.id,
                database_url=explicit.get_secret_value() if explicit is not None else None,
            ),
        )

    @property
    def transcripts(self) -> Path:
        return self.repo / ".yokeflow" / "transcripts"

    def _mcp_for(self, project: Project) -> Callable[[Task], tuple[McpServer, ...]]:
        def servers(task: Task) -> tuple[McpServer, ...]:
            return (self.tasks.server_for(project.id, task.id, f"mcp-http:{task.key}"),)

        return servers

    async def executor(self, project: Project, events: EventSink) -> ParallelExecutor:
        """The executor of ``project``, wired to real agents, worktrees and learning."""
        settings = self.settings
        learning = PostgresLearningStore(self.store.pool)
        selector = ModelSelector(learning, settings.cost)
        budget = (
            RunBudget.from_settings(settings.cost)
            if settings.cost.budget_limit_usd is not None
            else None
        )
        expertise = (
            ExpertiseService(self.store, learning, settings.learning, repo_dir=self.repo)
            if settings.learning.enabled
            else None
        )
        prompts = load_prompts()
        epics = {e.id: e for e in await self.store.list_epics(project.id)}
        private_folder(self.transcripts)
        policy = settings.parallel.conflict_resolution
        resolver = await conflict_resolver(settings, self.agent, self.store, project, self.repo)
        options = WorkspaceOptions(
            worktree_dir=settings.parallel.worktree_dir,
            merge_mode=MergeMode(settings.parallel.merge_strategy),
            verify_command=settings.agent.verify_command,
        )
        workspace = WorktreeManager(
            self.repo, self.store, project_id=project.id, options=options, resolver=resolver
        )
        sessions = AgentTaskSessions(
            store=self.store,
            agent=self.agent,
            prompts=prompts,
            selector=selector,
            project=project,
            epics=epics,
            checkout=GitTaskCheckout,
            mcp_servers=self._mcp_for(project),
            transcripts=self.transcripts,
            settings=settings.agent,
            integration_branch=options.integration_branch,
            expertise=expertise,
            budget=budget,
        )
        parallel = settings.parallel
        limits = Limits(
            max_concurrency=parallel.agents,
            schedule=parallel.schedule,
            max_attempts=settings.agent.max_attempts,
            retry_backoff=parallel.retry_backoff_seconds,
            fail_fast=parallel.fail_fast,
            # A verified merge runs the verification command: too long to hold a slot for.
            hold_for_merges=not settings.agent.verify_command,
        )
        transcripts = self.transcripts
        prices = selector.prices

        async def reap(lease: Lease) -> None:
            await asyncio.to_thread(processes.reap, lease.handle)

        async def spend(lease: Lease) -> LostSpend | None:
            # The transcripts' names: see AgentTaskSessions and AgentConflictResolver.
            name = f"{lease.task_key}-attempt{lease.attempt}"
            if lease.kind == "resolution":
                name = f"{lease.task_key}-resolve"
            path = transcripts / f"{name}.jsonl"
            return await asyncio.to_thread(spend_in_transcript, path, prices)

        return ParallelExecutor(
            store=self.store,
            workspace=workspace,
            sessions=sessions,
            project_id=project.id,
            limits=limits,
            events=events,
            clock=SystemClock(),
            reap=reap,
            spend=spend,
            budget=None
            if budget is None
            else RunBudgetLedger(budget, CostEstimator(self.store, selector.prices), project.id),
            conflict_resolution=None if policy == "manual" else Resolution(policy),
        )

    async def watch_cancel(self, project: Project, executor: ParallelExecutor) -> None:
        """Cancel ``executor`` when ``yokeflow cancel`` flags the project (polled every second)."""
        await self.store.update_project_metadata(project.id, {CANCEL_FLAG: False})
        while True:
            await asyncio.sleep(1.0)
            current = await self.store.get_project(project.id)
            if current is not None and current.metadata.get(CANCEL_FLAG):
                executor.cancel()
                return


@contextlib.asynccontextmanager
async def open_engine(
    settings: Settings,
    repo: Path,
    *,
    model_endpoint: str | None = None,
    notify: Callable[[str], None] | None = None,
) -> AsyncIterator[LocalEngine]:
    """Open the database (migrated) and the agent runtime for ``repo`` (an absolute path);
    ``notify`` is told when the embedded database server has to be started first."""
    if not (repo / ".git").exists():
        raise ConfigError(f"{repo} is not a git repository (run `git init` there first)")
    url = await database_url(settings.database, notify)
    await migrate(url)
    endpoint = model_endpoint or settings.agent.model_endpoint
    store = await PostgresStore.connect(
        url, min_size=settings.database.pool_min_size, max_size=settings.database.pool_max_size
    )
    # A token outlives its session by a minute at most (sessions are stopped at their timeout).
    tasks = LocalTaskManager(url, token_ttl_seconds=settings.agent.timeout_seconds + 60)
    try:
        await asyncio.to_thread(tasks.start)
        agent, cli = await agent_runner(settings, repo, endpoint)
        yield LocalEngine(settings, repo, store, url, agent, tasks, endpoint, cli)
    finally:
        await asyncio.to_thread(tasks.stop)
        await store.close()


async def agent_runner(
    settings: Settings, repo: Path, endpoint: str | None
) -> tuple[ClaudeAgentRunner, Path | None]:
    """The agents' runtime for ``repo`` against the model ``endpoint``, and its leashed CLI
    (None: the SDK's own, where the leash cannot be made)."""
    # Agents die with this process (and can be ended as a group): see adapters/claude/leash.
    cli = await asyncio.to_thread(leashed_cli, repo / ".yokeflow" / "bin")
    agent = ClaudeAgentRunner(
        endpoint=endpoint, pass_environment=settings.agent.pass_environment, cli_path=cli
    )
    return agent, cli


async def conflict_resolver(
    settings: Settings, agent: ClaudeAgentRunner, store: PostgresStore, project: Project, repo: Path
) -> AgentConflictResolver:
    """The agent that resolves ``project``'s merge conflicts (a run's, or a person's request)."""
    transcripts = repo / ".yokeflow" / "transcripts"
    private_folder(transcripts)
    verify = settings.agent.verify_command
    return AgentConflictResolver(
        agent=agent,
        prompts=load_prompts(),
        project=project,
        model=settings.cost.default_model,
        costs=store,
        transcripts=transcripts,
        verification=(verify,) if verify else (),
        task_keys={t.id: t.key for t in await store.list_tasks(project.id)},
    )
