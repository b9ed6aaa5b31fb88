"""The two transports: stdio (one local agent, scope fixed at start) and streamable HTTP.

Over HTTP every request to the MCP endpoint must carry ``Authorization: Bearer <token>``; a
missing, forged or expired token is answered ``401`` before any MCP session exists, and each
tool call resolves its scope from its own request's token again. ``GET /healthz`` is open (for
probes) and says nothing about projects.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import uvicorn
from mcp.server.fastmcp import FastMCP
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from yokeflow_mcp.access import bearer_token
from yokeflow_mcp.scope import AccessDeniedError
from yokeflow_mcp.tokens import TokenVerifier

__all__ = ["HEALTH_PATH", "http_app", "run_http", "run_stdio"]

HEALTH_PATH = "/healthz"
"""An open ``GET`` answering ``ok`` (for probes); it says nothing about projects."""


async def run_stdio(app: FastMCP[Any]) -> None:
    """Serve ``app`` on this process's stdin/stdout until the client closes them."""
    await app.run_stdio_async()


class _RequireToken:
    """ASGI middleware: requests to the MCP endpoint need a valid bearer token."""

    def __init__(self, app: ASGIApp, verifier: TokenVerifier, clock: Callable[[], float]) -> None:
        self._app = app
        self._verifier = verifier
        self._clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Everything but the health probe needs a token, wherever the app is mounted.
        if scope["type"] == "http" and not scope["path"].endswith(HEALTH_PATH):
            token = bearer_token(Headers(scope=scope))
            try:
                if token is None:
                    raise AccessDeniedError("no bearer token: send 'Authorization: Bearer <token>'")
                self._verifier.verify(token, now=self._clock())
            except AccessDeniedError as exc:
                refused = JSONResponse(
                    {"error": str(exc)},
                    status_code=401,
                    headers={"WWW-Authenticate": 'Bearer realm="yokeflow"'},
                )
                await refused(scope, receive, send)
                return
        await self._app(scope, receive, send)


async def _healthz(request: Request) -> Response:
    return PlainTextResponse("ok")


def http_app(app: FastMCP[Any], verifier: TokenVerifier, clock: Callable[[], float]) -> Starlette:
    """The ASGI app serving ``app`` at its HTTP path, behind bearer-token checks.

    Mounted inside another ASGI app, the host app's lifespan must run
    ``app.session_manager.run()`` (a mounted app's own lifespan is not started).
    """

    starlette = app.streamable_http_app()
    starlette.add_route(HEALTH_PATH, _healthz, methods=["GET"])
    starlette.add_middleware(_RequireToken, verifier=verifier, clock=clock)
    return starlette


async def run_http(starlette: Starlette, *, host: str, port: int) -> None:
    """Serve an ASGI app with uvicorn until cancelled."""
    config = uvicorn.Config(starlette, host=host, port=port, log_level="warning", lifespan="on")
    await uvicorn.Server(config).serve()
