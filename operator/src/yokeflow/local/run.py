"""``yokeflow run``: plan (or load a plan), resolve, execute in parallel, and report."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from yokeflow.core.events import Event
from yokeflow.core.graph import DependencyGraph
from yokeflow.core.pictures import to_ascii
from yokeflow.core.plan import Plan
from yokeflow.core.records import CostSummary, Project
from yokeflow.errors import ConfigError
from yokeflow.local.engine import LocalEngine, open_engine
from yokeflow.local.live import LiveView
from yokeflow.services.executor import RunSummary
from yokeflow.services.progress import Progress, read_progress
from yokeflow.services.retry import retry_failed
from yokeflow.settings import Settings

__all__ = ["RunOutcome", "RunRequest", "prepare_project", "run_local"]


@dataclass(frozen=True)
class RunRequest:
    repo: Path
    plan: Plan | None = None
    spec: str | None = None
    name: str | None = None
    """The project's name (default: the plan's, or the repository folder's for a spec)."""
    resume: bool = False
    model_endpoint: str | None = None
    retry_failed: bool = False
    """With ``resume``: give the failed tasks new attempts first."""


@dataclass(frozen=True)
class RunOutcome:
    project: Project
    graph: DependencyGraph
    summary: RunSummary
    costs: list[CostSummary]
    """The project's recorded spending by model."""
    progress: Progress
    """Every task as the store records it at the end (states, reasons, cost)."""


async def prepare_project(engine: LocalEngine, request: RunRequest, console: Console) -> Project:
    """The project to run: resumed, stored from a plan file, or planned from a spec."""
    if request.resume:
        project = await engine.resumed_project()
        console.print(f"Resuming project [bold]{project.name}[/bold].")
        replanned = await engine.finish_planning(project)
        if replanned is not None:
            console.print(
                f"Its planning had not finished: planned again, {len(replanned.graph.tasks)} "
                f"tasks in {replanned.rounds} round(s)."
            )
        if request.retry_failed:
            retried = await retry_failed(engine.store, project.id)
            console.print(f"Retrying {', '.join(retried) or 'nothing (no failed task)'}.")
        return project
    if request.plan is not None:
        return await engine.create_from_plan(request.plan, request.name)
    if request.spec is not None:
        name = request.name or request.repo.name
        console.print(f"Planning [bold]{name}[/bold] from the spec (session 0)…")
        project, planned = await engine.plan_from_spec(name, request.spec)
        console.print(
            f"Planned {len(planned.graph.tasks)} tasks in {planned.rounds} round(s), "
            f"${planned.cost_usd:.4f}."
        )
        return project
    raise ConfigError("give a plan (--plan), a spec (--spec), or --resume")


@contextlib.contextmanager
def _cancel_on_signals(cancel: Callable[[], None]) -> Iterator[None]:
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, cancel)
            installed.append(sig)
    try:
        yield
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


async def run_local(
    settings: Settings, request: RunRequest, console: Console | None = None
) -> RunOutcome:
    """Run ``request`` to its end, showing progress on ``console``."""
    console = console or Console()
    async with open_engine(
        settings,
        request.repo,
        model_endpoint=request.model_endpoint,
        notify=lambda text: console.print(text, markup=False, highlight=False),
    ) as engine:
        project = await prepare_project(engine, request, console)
        return await execute(engine, project, console)


async def execute(engine: LocalEngine, project: Project, console: Console) -> RunOutcome:
    """Execute ``project``'s incomplete tasks with a live view."""
    settings = engine.settings
    view_sink: list[LiveView] = []
    executor = await engine.executor(project, events=_Forward(view_sink))
    graph = await executor.load_graph()
    console.print(to_ascii(graph), highlight=False)
    concurrency = settings.parallel.agents
    watcher = asyncio.create_task(engine.watch_cancel(project, executor))
    observer: asyncio.Task[None] | None = None
    try:
        with LiveView(graph, concurrency, console) as view, _cancel_on_signals(executor.cancel):
            view_sink.append(view)
            observer = asyncio.create_task(_observe(engine, project, view))
            summary = await executor.run()
            observer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await observer
            # The last look, after every session's cost is recorded: the figure the view ends
            # with is the report's.
            progress = await read_progress(engine.store, engine.store, project.id)
            view.observe(progress.tasks, progress.cost_usd)
    finally:
        for task in (watcher, observer):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
    costs = await engine.store.get_cost_by_model(project.id)
    return RunOutcome(project, graph, summary, costs, progress)


_OBSERVE_SECONDS = 1.0
"""How often the live view reads the store (the run's cost, failed and blocked tasks)."""


async def _observe(engine: LocalEngine, project: Project, view: LiveView) -> None:
    while True:
        # A convenience for the eye: a failed read waits for the next one, the run goes on.
        with contextlib.suppress(Exception):
            progress = await read_progress(engine.store, engine.store, project.id)
            view.observe(progress.tasks, progress.cost_usd)
        await asyncio.sleep(_OBSERVE_SECONDS)


class _Forward:
    """Forwards events to the view once it exists (the executor is built before the view)."""

    def __init__(self, sink: list[LiveView]) -> None:
        self._sink = sink

    def publish(self, event: Event) -> None:
        for view in self._sink:
            view.publish(event)
