"""The MCP task manager the operator serves to agent pods (streamable HTTP, bearer tokens).

Agents never get database credentials: a task Job's Secret holds the URL of this server and a
token signed for its run's project and its task (see ``specs.task_job.build_task_secret``), which
expires ``token_ttl_seconds`` after it is issued. The server runs in the operator's own event loop
on the operator's store; the chart's Service in front of the operator's pod exposes its port, and
the run's NetworkPolicy lets agent pods reach it.

The signing key comes from the operator's settings (a Secret), so tokens outlive a restart of
the operator; without one a key is made per process and running agents lose their tools when it
restarts.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import socket
import time
from collections.abc import Callable

import uvicorn

from yokeflow.adapters.postgres import PostgresStore
from yokeflow.adapters.postgres.mcp_ops import PostgresPlanEdits
from yokeflow.errors import TemporaryError
from yokeflow_mcp.access import BearerScope
from yokeflow_mcp.launch import http_launch
from yokeflow_mcp.scope import Scope
from yokeflow_mcp.server import build_server
from yokeflow_mcp.tokens import SignedTokens
from yokeflow_mcp.transports import http_app

__all__ = ["OperatorTaskManager"]


class OperatorTaskManager:
    """The task tools over HTTP on ``port`` of this pod, for agents with a task token."""

    def __init__(
        self,
        store: PostgresStore,
        *,
        port: int,
        public_url: str | None,
        signing_key: bytes | None,
        token_ttl_seconds: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._tokens = SignedTokens(signing_key or secrets.token_bytes(32))
        self._ttl = token_ttl_seconds
        self._clock = clock
        self._sock = socket.create_server(("0.0.0.0", port))
        bound = self._sock.getsockname()[1]
        self.base_url = public_url or f"http://{socket.gethostbyname(socket.gethostname())}:{bound}"
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        """The MCP endpoint as agent pods reach it."""
        return http_launch(self.base_url, "").url

    def token_for(self, project_id: int, task_id: int | None, worker: str) -> str:
        """A token for one task of one project (``task_id`` None: the whole project, a planning
        session's), expiring after the configured time."""
        scope = Scope(project_id=project_id, task_id=task_id, worker=worker)
        return self._tokens.issue(scope, expires_at=self._clock() + self._ttl)

    async def start(self) -> None:
        port = self._sock.getsockname()[1]
        app = build_server(
            self._store,
            PostgresPlanEdits(self._store.pool),
            BearerScope(self._tokens, self._clock),
            host="0.0.0.0",
            port=port,
        )
        config = uvicorn.Config(
            http_app(app, self._tokens, self._clock), log_level="warning", lifespan="on"
        )
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(
            self._server.serve(sockets=[self._sock]), name="yokeflow-mcp"
        )
        deadline = time.monotonic() + 30
        while not self._server.started:
            if self._task.done() or time.monotonic() > deadline:
                raise TemporaryError("the operator's MCP task manager did not start")
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._task is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(self._task, 10)
        self._sock.close()
