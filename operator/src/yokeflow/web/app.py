"""The API's composition root: the FastAPI application, its routers, and the adapters it uses.

:func:`build_app` assembles routes, authentication and problem responses (no I/O; the OpenAPI
generator uses it); :func:`create_app` attaches the dependencies a running API works with.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from yokeflow import __version__
from yokeflow.adapters.git.diffs import GitDiffs
from yokeflow.adapters.postgres import PostgresStore
from yokeflow.adapters.postgres.learning_store import PostgresLearningStore
from yokeflow.adapters.transcript_files import TranscriptFiles
from yokeflow.ports.runs import RunControl
from yokeflow.services.epic_worktrees import WorkspaceOpener
from yokeflow.settings import Settings
from yokeflow.web import problems
from yokeflow.web.deps import WebDeps
from yokeflow.web.event_log import EventLog
from yokeflow.web.metrics import Metrics
from yokeflow.web.routes import (
    costs,
    dashboard,
    dependencies,
    expertise,
    health,
    live,
    parallel,
    projects,
    tasks,
    worktrees,
)

__all__ = ["STATIC_DIR", "build_app", "create_app", "local_deps"]

STATIC_DIR = Path(__file__).parent / "static"
"""Where the set-up command builds the dashboard (inside the package, not checked in)."""

DESCRIPTION = """Watch, review and steer YokeFlow runs: projects and their tasks, dependencies,
worktrees, the parallel run, expertise and costs; live events over `/api/ws/{project_id}`.

Every route but `/healthz` and `/readyz` needs the API's token: `Authorization: Bearer <token>`.
Errors are JSON problem responses (`application/problem+json`) whose `detail` is one sentence."""


def build_app() -> FastAPI:
    """The application with every route, without dependencies (what the OpenAPI document shows)."""
    app = FastAPI(
        title="YokeFlow API",
        version=__version__,
        description=DESCRIPTION,
        openapi_url="/api/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    problems.install(app)
    for module in (health, projects, tasks, dependencies, worktrees, parallel, expertise, costs):
        app.include_router(module.router)
    app.include_router(live.router)
    app.include_router(dashboard.router)
    return app


def create_app(deps: WebDeps) -> FastAPI:
    """The application serving ``deps``; run events reach the metrics through the event log."""
    app = build_app()
    app.state.deps = deps
    deps.events.add_listener(deps.metrics.observe)
    return app


def local_deps(
    store: PostgresStore,
    settings: Settings,
    token: str,
    *,
    events: EventLog | None = None,
    runs: RunControl | None = None,
    workspaces: WorkspaceOpener | None = None,
    registry: CollectorRegistry | None = None,
    static_dir: Path | None = STATIC_DIR,
) -> WebDeps:
    """The dependencies of an API on this machine: PostgreSQL, local git, transcript files."""
    return WebDeps(
        store=store,
        learning=PostgresLearningStore.of(store),
        settings=settings,
        token=token,
        events=events or EventLog(),
        metrics=Metrics(
            registry or CollectorRegistry(),
            concurrency=settings.parallel.agents,
            worktree_dir=settings.parallel.worktree_dir,
        ),
        transcripts=TranscriptFiles(),
        diffs=GitDiffs(),
        runs=runs,
        workspaces=workspaces,
        static_dir=static_dir,
    )
