"""Running the task manager on a real database: the composition root of ``yokeflow mcp``.

Opens the PostgreSQL store (a URL, or the embedded default through the state layer), resolves
``--project`` / ``--task`` to a scope, and serves over stdio or HTTP until the client goes away.
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from pydantic import SecretStr

from yokeflow.adapters.postgres import PostgresStore, open_store
from yokeflow.adapters.postgres.mcp_ops import PostgresPlanEdits
from yokeflow.errors import NotFoundError
from yokeflow.settings import DatabaseSettings
from yokeflow_mcp.access import BearerScope, FixedScope
from yokeflow_mcp.scope import Scope
from yokeflow_mcp.server import build_server
from yokeflow_mcp.tokens import SignedTokens
from yokeflow_mcp.transports import http_app, run_http, run_stdio

__all__ = ["issue_token", "open_database", "resolve_scope", "serve_http", "serve_stdio"]


@asynccontextmanager
async def open_database(
    settings: DatabaseSettings, url: str | None = None
) -> AsyncIterator[PostgresStore]:
    """The store at ``url`` (migrated first), or the one ``settings`` name (embedded default)."""
    if url is not None:
        settings = settings.model_copy(update={"url": SecretStr(url)})
    store = await open_store(settings)
    try:
        yield store
    finally:
        await store.close()


async def resolve_scope(
    store: PostgresStore, project: str, task: str | None = None, *, worker: str = "mcp"
) -> Scope:
    """The scope of a project (by id or name) and optionally one of its tasks (by key or id)."""
    found = await store.get_project(int(project)) if project.isdigit() else None
    if found is None:
        found = await store.get_project_by_name(project)
    if found is None:
        raise NotFoundError(f"no project {project!r} in the database")
    task_id = None
    if task is not None:
        record = await store.get_task_by_key(found.id, task)
        if record is None and task.isdigit():
            record = await store.get_task(int(task))
        if record is None or record.project_id != found.id:
            raise NotFoundError(f"project {found.name!r} has no task {task!r}")
        task_id = record.id
    return Scope(project_id=found.id, task_id=task_id, worker=worker)


async def serve_stdio(
    settings: DatabaseSettings, url: str | None, project: str, task: str | None
) -> None:
    """Serve one project (or task) over stdin/stdout."""
    async with open_database(settings, url) as store:
        # One stdio server per agent session: its pid tells sessions' claims apart.
        worker = f"mcp-stdio:{task}" if task else f"mcp-stdio:{os.getpid()}"
        scope = await resolve_scope(store, project, task, worker=worker)
        app = build_server(store, PostgresPlanEdits(store.pool), FixedScope(scope))
        await run_stdio(app)


async def serve_http(
    settings: DatabaseSettings, url: str | None, *, host: str, port: int, secret: bytes
) -> None:
    """Serve every project over streamable HTTP; each request's token says which one."""
    async with open_database(settings, url) as store:
        tokens = SignedTokens(secret)
        access = BearerScope(tokens)
        app = build_server(store, PostgresPlanEdits(store.pool), access, host=host, port=port)
        await run_http(http_app(app, tokens, time.time), host=host, port=port)


async def issue_token(
    settings: DatabaseSettings,
    url: str | None,
    project: str,
    task: str | None,
    *,
    secret: bytes,
    ttl_seconds: float | None,
) -> str:
    """A signed token for a project (and task), valid for ``ttl_seconds`` (None: no expiry)."""
    async with open_database(settings, url) as store:
        worker = f"mcp-http:{task}" if task else "mcp-http"
        scope = await resolve_scope(store, project, task, worker=worker)
    expires = None if ttl_seconds is None else time.time() + ttl_seconds
    return SignedTokens(secret).issue(scope, expires_at=expires)
