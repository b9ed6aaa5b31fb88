"""``yokeflow run --serve``: a local run with the API and the dashboard beside it.

The run goes through the API's :class:`~yokeflow.local.run_host.LocalRuns`, so what the
dashboard starts later (a retry, a resume) is the same kind of run, with events in the same log.
When the run ends the report is printed and the dashboard stays up until Ctrl-C (or SIGTERM).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Iterator

from rich.console import Console

from yokeflow.cli.api_server import serve_api
from yokeflow.core.events import Event
from yokeflow.core.graph import graph_from_records
from yokeflow.local.engine import open_engine
from yokeflow.local.live import LiveView
from yokeflow.local.report import RunReport, build_report
from yokeflow.local.run import RunRequest, prepare_project
from yokeflow.settings import Settings

__all__ = ["served_run"]


@contextlib.contextmanager
def _on_signals(action: Callable[[], object]) -> Iterator[None]:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, action)
    try:
        yield
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


async def served_run(
    settings: Settings,
    request: RunRequest,
    console: Console,
    *,
    host: str,
    port: int,
    token: str,
    stay: bool = True,
) -> RunReport | None:
    """Run ``request`` with the API served; None when the run could not end with a summary."""
    async with open_engine(
        settings,
        request.repo,
        model_endpoint=request.model_endpoint,
        notify=lambda text: console.print(text, markup=False, highlight=False),
    ) as engine:
        project = await prepare_project(engine, request, console)
        store = engine.store
        graph = graph_from_records(
            await store.get_tasks_with_dependencies(project.id), await store.list_epics(project.id)
        )
        async with serve_api(
            store, engine.url, settings, host=host, port=port, token=token,
            model_endpoint=engine.endpoint, run_settings=settings,
        ) as served:  # fmt: skip
            console.print(f"Dashboard: {served.dashboard_url}", highlight=False, soft_wrap=True)
            concurrency = settings.parallel.agents
            with LiveView(graph, concurrency, console) as view:

                def show(project_id: int, event: Event) -> None:
                    if project_id == project.id:
                        view.publish(event)

                served.events.add_listener(show)
                with _on_signals(lambda: served.runs.cancel(project.id)):
                    await served.runs.start(project)
                    summary = await served.runs.wait(project.id)
            report = None
            if summary is not None:
                report = build_report(
                    graph,
                    summary,
                    await store.get_cost_by_model(project.id),
                    concurrency,
                    f"{request.repo}, branch yokeflow/integration",
                )
                for line in report.lines():
                    console.print(line, highlight=False)
            if not stay:
                return report
            console.print(
                f"The run ended; the dashboard stays at {served.url} until Ctrl-C.",
                highlight=False,
            )
            stop = asyncio.Event()
            with _on_signals(stop.set):
                await stop.wait()
            latest = served.runs.finished.get(project.id)
            if latest is not None and latest is not summary:
                report = build_report(
                    graph, latest, await store.get_cost_by_model(project.id), concurrency,
                    f"{request.repo}, branch yokeflow/integration",
                )  # fmt: skip
            return report
