"""The MCP task manager of a local run: one streamable-HTTP server for all of the run's agents.

Starting a stdio server per session costs seconds of Python start-up each time; one server on a
loopback port, started once per run in its own thread (its own event loop and connection pool,
like the cluster's shared server), answers every session. Each session gets a token signed for
its project and task, so an agent can read its project and change only its own task.

Tokens die with the run: the signing secret is made for this server and never leaves the
process, so a resumed run issues new ones and an old token opens nothing. Each token also
expires on its own, ``token_ttl_seconds`` after it was issued (the session's timeout and a margin).
"""

from __future__ import annotations

import asyncio
import secrets
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import uvicorn

from yokeflow.adapters.postgres import PostgresStore
from yokeflow.adapters.postgres.mcp_ops import PostgresPlanEdits
from yokeflow.errors import TemporaryError
from yokeflow.ports.agent import McpServer
from yokeflow_mcp.access import BearerScope
from yokeflow_mcp.launch import SERVER_KEY, http_launch
from yokeflow_mcp.scope import Scope
from yokeflow_mcp.server import build_server
from yokeflow_mcp.tokens import SignedTokens
from yokeflow_mcp.transports import http_app

__all__ = ["LocalTaskManager"]


class LocalTaskManager:
    """``with LocalTaskManager(url) as tm:`` serves the task tools on a free loopback port."""

    def __init__(
        self,
        database_url: str,
        host: str = "127.0.0.1",
        *,
        token_ttl_seconds: float = 3600.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._url = database_url
        self._host = host
        self._ttl = token_ttl_seconds
        self._clock = clock
        self._tokens = SignedTokens(secrets.token_bytes(32))
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None
        self._failure: BaseException | None = None

    @property
    def base_url(self) -> str:
        if self._sock is None:
            raise RuntimeError("the task manager is not started")
        return f"http://{self._host}:{self._sock.getsockname()[1]}"

    def server_for(self, project_id: int, task_id: int | None, worker: str) -> McpServer:
        """The MCP server entry of one session, with a token scoped to its project (and task)."""
        scope = Scope(project_id=project_id, task_id=task_id, worker=worker)
        token = self._tokens.issue(scope, expires_at=self._clock() + self._ttl)
        launch = http_launch(self.base_url, token)
        return McpServer(SERVER_KEY, url=launch.url, headers=launch.headers)

    async def _serve(self, sockets: list[socket.socket]) -> None:
        async with await PostgresStore.connect(self._url, min_size=1, max_size=10) as store:
            port = sockets[0].getsockname()[1]
            app = build_server(
                store,
                PostgresPlanEdits(store.pool),
                BearerScope(self._tokens, self._clock),
                host=self._host,
                port=port,
            )
            config = uvicorn.Config(
                http_app(app, self._tokens, self._clock), log_level="warning", lifespan="on"
            )
            self._server = uvicorn.Server(config)
            await self._server.serve(sockets=sockets)

    def _main(self, sockets: list[socket.socket]) -> None:
        try:
            asyncio.run(self._serve(sockets))
        except BaseException as exc:  # reported by start()
            self._failure = exc

    def start(self) -> None:
        self._sock = socket.create_server((self._host, 0))
        self._thread = threading.Thread(
            target=self._main, args=([self._sock],), name="yokeflow-task-manager", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self._server is not None and self._server.started:
                return
            if not self._thread.is_alive():
                break
            time.sleep(0.02)
        raise TemporaryError(f"the MCP task manager did not start: {self._failure or 'timed out'}")

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._sock is not None:
            self._sock.close()
        self._server = self._thread = self._sock = None

    def __enter__(self) -> LocalTaskManager:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()
