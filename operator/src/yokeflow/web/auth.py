"""Bearer-token authentication: everything but ``/healthz`` and ``/readyz`` needs the token.

A client sends ``Authorization: Bearer <token>``. The dashboard is opened once with
``/?token=<token>`` (the URL ``yokeflow api`` prints); that page sets the token as a strict,
HTTP-only, same-site cookie, which the browser then sends with every request and WebSocket of
the dashboard (a browser cannot put headers on a WebSocket).
"""

from __future__ import annotations

import secrets

from fastapi import Request
from starlette.requests import HTTPConnection

from yokeflow.errors import YokeflowError

__all__ = ["COOKIE", "Unauthorized", "authenticated", "new_token", "require_token"]

COOKIE = "yokeflow_token"


class Unauthorized(YokeflowError):
    """The request carries no token, or a wrong one (HTTP 401; only the web layer raises it)."""


def new_token() -> str:
    return secrets.token_urlsafe(24)


def _offered(connection: HTTPConnection) -> str | None:
    header = connection.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return connection.cookies.get(COOKIE) or connection.query_params.get("token")


def authenticated(connection: HTTPConnection, token: str) -> bool:
    offered = _offered(connection)
    return offered is not None and secrets.compare_digest(offered.encode(), token.encode())


def require_token(request: Request) -> None:
    """FastAPI dependency: a 401 problem unless the request carries the API's token."""
    token: str = request.app.state.deps.token
    if not authenticated(request, token):
        raise Unauthorized(
            "This API needs its token: send `Authorization: Bearer <token>` (the token"
            " `yokeflow api` printed)."
        )
