"""The API served on this machine: one uvicorn server in the running event loop.

``yokeflow api`` serves it alone; ``yokeflow run --serve`` serves it beside a local run. Runs
started from the API go through :class:`~yokeflow.local.run_host.LocalRuns`, so the dashboard
can start, cancel and retry. FastAPI and uvicorn are imported here, on use only.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

from yokeflow.adapters.postgres import PostgresStore
from yokeflow.local.run_host import LocalRuns
from yokeflow.settings import Settings
from yokeflow.web.event_log import EventLog

__all__ = ["ServedApi", "serve_api"]


@dataclass
class ServedApi:
    """A running API: its address, token, event log and runs."""

    url: str
    token: str
    events: EventLog
    runs: LocalRuns

    @property
    def dashboard_url(self) -> str:
        return f"{self.url}/?token={self.token}"


@contextlib.asynccontextmanager
async def serve_api(
    store: PostgresStore,
    database_url: str,
    settings: Settings,
    *,
    host: str,
    port: int,
    token: str,
    model_endpoint: str | None = None,
    static_dir: Path | None = None,
    run_settings: Settings | None = None,
) -> AsyncIterator[ServedApi]:
    """Serve the API until the block ends; runs started through it are cancelled then.

    ``run_settings`` are the settings of every run started here (``yokeflow run --serve``: the
    command line's, its ``--budget`` and ``--max-concurrency`` included); unset, each run reads
    its repository's settings."""
    import uvicorn

    from yokeflow.web.app import STATIC_DIR, create_app, local_deps

    events = EventLog()
    runs = LocalRuns(store, database_url, events.sink, model_endpoint=model_endpoint)
    if run_settings is not None:
        runs.settings_for = lambda _repo: run_settings
    deps = local_deps(
        store,
        settings,
        token,
        events=events,
        runs=runs,
        workspaces=runs.workspace_for,
        static_dir=static_dir or STATIC_DIR,
    )
    config = uvicorn.Config(
        create_app(deps), host=host, port=port, log_level="warning", lifespan="off"
    )

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield  # the command owns SIGINT/SIGTERM (a run stops on them too)

    server = Server(config)
    task = asyncio.create_task(server.serve(), name="yokeflow-api")
    while not server.started:
        if task.done():
            task.result()  # a port in use: uvicorn exits; say so
            raise OSError(f"the API could not listen on {host}:{port}")
        await asyncio.sleep(0.05)
    bound = server.servers[0].sockets[0].getsockname()[1] if server.servers else port
    try:
        yield ServedApi(f"http://{host}:{bound}", token, events, runs)
    finally:
        await runs.close()
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await task
