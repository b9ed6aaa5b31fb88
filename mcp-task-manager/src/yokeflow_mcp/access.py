"""How a tool call finds its scope: fixed for a stdio server, from the bearer token over HTTP."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

from yokeflow_mcp.scope import AccessDeniedError, Scope
from yokeflow_mcp.tokens import TokenVerifier

__all__ = ["BearerScope", "FixedScope", "ScopeSource", "bearer_token"]


class ScopeSource(Protocol):
    """The scope of the call being served; raises :class:`AccessDeniedError` when there is none."""

    def scope(self, request: Any) -> Scope:
        """``request`` is the HTTP request of the call (a Starlette request), None over stdio."""
        ...


class FixedScope:
    """One scope for every call: a stdio server started for one project (and task)."""

    def __init__(self, scope: Scope) -> None:
        self._scope = scope

    def scope(self, request: Any) -> Scope:
        return self._scope


def bearer_token(headers: Any) -> str | None:
    """The token of an ``Authorization: Bearer …`` header, or None."""
    value = headers.get("authorization") if headers is not None else None
    if not value:
        return None
    kind, _, token = str(value).partition(" ")
    return token.strip() or None if kind.lower() == "bearer" else None


class BearerScope:
    """The scope granted by each HTTP request's bearer token (checked again on every call)."""

    def __init__(self, verifier: TokenVerifier, clock: Callable[[], float] = time.time) -> None:
        self._verifier = verifier
        self._clock = clock

    def scope(self, request: Any) -> Scope:
        token = bearer_token(getattr(request, "headers", None))
        if token is None:
            raise AccessDeniedError("no bearer token: send 'Authorization: Bearer <token>'")
        return self._verifier.verify(token, now=self._clock())
