"""Runs started from the API, in this process: the local :class:`~yokeflow.ports.runs.RunControl`.

Each run opens the engine for the project's repository (the settings of that repository, the
database the API uses), runs its executor in a background task, watches the cancel flag, and
publishes its events to the sink given for the project. ``yokeflow run --serve`` and
``yokeflow api`` both use it, so a run started here and one started by the CLI are the same run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import SecretStr

from yokeflow.adapters.git import WorkspaceOptions, WorktreeManager
from yokeflow.adapters.postgres import PostgresStore
from yokeflow.core.events import RunFinished
from yokeflow.core.merging import MergeMode
from yokeflow.core.records import Project
from yokeflow.errors import AlreadyExistsError, ConfigError
from yokeflow.local.engine import agent_runner, conflict_resolver, open_engine
from yokeflow.ports.events import EventSink
from yokeflow.ports.workspace import Workspace
from yokeflow.services.executor import ParallelExecutor, RunSummary
from yokeflow.settings import Settings, load_settings

__all__ = ["LocalRuns", "project_workspace", "repository_of"]

_log = logging.getLogger(__name__)


def repository_of(project: Project) -> Path:
    """The repository a project runs in (recorded when it was created)."""
    repo = project.metadata.get("repository")
    if not repo or not (Path(str(repo)) / ".git").exists():
        raise ConfigError(
            f"project {project.name!r} has no repository on this machine to run in"
            + (f" ({repo} is not a git repository)" if repo else "")
        )
    return Path(str(repo))


async def project_workspace(
    store: PostgresStore, project: Project, settings: Settings, model_endpoint: str | None = None
) -> Workspace:
    """The worktrees and merge queue of ``project``'s repository, as its settings configure them,
    with the conflict agent a run uses (against ``model_endpoint``, default the settings')."""
    repo = repository_of(project)
    agent, _ = await agent_runner(settings, repo, model_endpoint or settings.agent.model_endpoint)
    resolver = await conflict_resolver(settings, agent, store, project, repo)
    parallel = settings.parallel
    options = WorkspaceOptions(
        worktree_dir=parallel.worktree_dir,
        merge_mode=MergeMode(parallel.merge_strategy),
        verify_command=settings.agent.verify_command,
    )
    return WorktreeManager(repo, store, project_id=project.id, options=options, resolver=resolver)


@dataclass
class _Active:
    task: asyncio.Task[RunSummary | None] | None = None
    executor: ParallelExecutor | None = None
    cancel_requested: bool = False


@dataclass
class LocalRuns:
    """Starts runs of stored projects in the background; one run per project at a time."""

    store: PostgresStore
    database_url: str
    sink_for: Callable[[int], EventSink]
    """The event sink of a project's run (the API's event log)."""
    model_endpoint: str | None = None
    settings_for: Callable[[Path], Settings] = load_settings
    finished: dict[int, RunSummary] = field(default_factory=dict)
    """The summary of each project's last run here."""
    _active: dict[int, _Active] = field(default_factory=dict)

    def _settings(self, repo: Path) -> Settings:
        settings = self.settings_for(repo)
        database = settings.database.model_copy(update={"url": SecretStr(self.database_url)})
        return settings.model_copy(update={"database": database})

    def active(self, project_id: int) -> bool:
        run = self._active.get(project_id)
        return run is not None and run.task is not None and not run.task.done()

    async def start(self, project: Project) -> None:
        if self.active(project.id):
            raise AlreadyExistsError(f"project {project.name!r} is running already")
        repo = repository_of(project)
        active = _Active()
        active.task = asyncio.create_task(
            self._run(project, repo, active), name=f"run-{project.id}"
        )
        self._active[project.id] = active

    def cancel(self, project_id: int) -> bool:
        if not self.active(project_id):
            return False
        run = self._active[project_id]
        run.cancel_requested = True
        if run.executor is not None:
            run.executor.cancel()
        return True

    async def wait(self, project_id: int) -> RunSummary | None:
        """Wait for this process's run of the project to end (None when none ran or it crashed)."""
        run = self._active.get(project_id)
        if run is not None and run.task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(run.task)
        return self.finished.get(project_id)

    async def close(self) -> None:
        """Cancel every run here and wait for them (their work is kept, as with Ctrl-C)."""
        for project_id in list(self._active):
            self.cancel(project_id)
        tasks = [r.task for r in self._active.values() if r.task is not None]
        await asyncio.gather(*tasks, return_exceptions=True)

    async def workspace_for(self, project: Project) -> Workspace:
        """The workspace of a project's repository, for merges and resolutions by a person."""
        settings = self._settings(repository_of(project))
        return await project_workspace(self.store, project, settings, self.model_endpoint)

    async def _run(self, project: Project, repo: Path, active: _Active) -> RunSummary | None:
        settings = self._settings(repo)
        try:
            async with open_engine(settings, repo, model_endpoint=self.model_endpoint) as engine:
                executor = await engine.executor(project, events=self.sink_for(project.id))
                active.executor = executor
                if active.cancel_requested:
                    executor.cancel()
                watcher = asyncio.create_task(engine.watch_cancel(project, executor))
                try:
                    summary = await executor.run()
                finally:
                    watcher.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await watcher
        except Exception as exc:
            _log.exception("the run of project %s stopped with an error", project.name)
            self.sink_for(project.id).publish(RunFinished("error", str(exc), 0.0))
            return None
        self.finished[project.id] = summary
        return summary
