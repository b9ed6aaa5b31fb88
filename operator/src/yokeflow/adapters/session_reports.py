"""The runner's books kept over HTTP: a pod's session row and cost, reported to the task manager.

A runner in a cluster has no database. :class:`HttpSessionReports` implements the two ports a
local runner's store implements for :func:`yokeflow.services.task_run.run_task` — the session
ledger and the cost recorder — by reporting to the MCP task manager's HTTP server with the
runner's own bearer token (see :mod:`yokeflow.ports.session_reports` for the wire contract).
The server takes the project and task from the token; the ids passed in are checked against
what :meth:`HttpSessionReports.scope` said, never trusted by the server.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx

from yokeflow.core.records import SessionStatus
from yokeflow.errors import TaskManagerUnavailableError
from yokeflow.ports.agent import McpServer
from yokeflow.ports.session_reports import (
    PLAN_PATH,
    SCOPE_PATH,
    SESSIONS_PATH,
    PlanSummary,
    ReportingScope,
    session_cost_path,
    session_end_path,
)

__all__ = ["CONNECT_PATIENCE_SECONDS", "HttpSessionReports", "OpenedSession", "reporting_server"]

_TEXT_LIMIT = 10_000
"""Longest summary or error sent (the server refuses texts over 20,000 characters)."""
CONNECT_PATIENCE_SECONDS = 30.0
"""How long connecting is tried again (a request that never reached the server is safe to
repeat): the task manager is served by the operator, which a restart takes away for seconds."""
_FIRST_DELAY, _LONGEST_DELAY = 0.2, 2.0


@dataclass(frozen=True, slots=True)
class OpenedSession:
    """The ``sessions`` row the server opened (what the ledger protocol's callers read)."""

    id: int


def reporting_server(servers: tuple[McpServer, ...]) -> McpServer | None:
    """The MCP server a runner reports to: the first one over HTTP with a bearer token."""
    for server in servers:
        auth = {k.lower(): v for k, v in server.headers.items()}.get("authorization", "")
        if server.url is not None and auth.lower().startswith("bearer "):
            return server
    return None


def _cut(text: str | None) -> str | None:
    if text is None or len(text) <= _TEXT_LIMIT:
        return text
    return f"{text[:_TEXT_LIMIT]}… ({len(text)} characters)"


class HttpSessionReports:
    """Session rows and costs of one runner, reported to the task manager at ``mcp_url``."""

    def __init__(
        self,
        mcp_url: str,
        headers: Mapping[str, str],
        *,
        timeout_seconds: float = 30.0,
        connect_patience_seconds: float = CONNECT_PATIENCE_SECONDS,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._base = mcp_url.rstrip("/")
        self._patience = connect_patience_seconds
        self._client = httpx.AsyncClient(
            headers=dict(headers), timeout=timeout_seconds, transport=transport
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _call(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        *,
        repeatable: bool = False,
    ) -> Any:
        """One request; a connection that failed is tried again for a while (the request never
        arrived), and so is any transport failure of a ``repeatable`` request (the server
        applies it once however often it arrives)."""
        url = f"{self._base}{path}"
        deadline = time.monotonic() + self._patience
        delay = _FIRST_DELAY
        while True:
            try:
                answer = await self._client.request(method, url, json=body)
                break
            except httpx.HTTPError as exc:
                if not (repeatable or isinstance(exc, httpx.ConnectError)):
                    # it may have arrived: a request the server would apply twice is not repeated
                    raise TaskManagerUnavailableError(f"{method} {url}: {exc}") from exc
                if time.monotonic() + delay > deadline:
                    raise TaskManagerUnavailableError(f"{method} {url}: {exc}") from exc
                await asyncio.sleep(delay)
                delay = min(delay * 2, _LONGEST_DELAY)
        if answer.status_code >= 400:
            try:
                reason = str(answer.json().get("error", answer.text))
            except ValueError:
                reason = answer.text[:200]
            raise TaskManagerUnavailableError(
                f"{method} {url} was answered {answer.status_code}: {reason}"
            )
        try:
            return answer.json()
        except ValueError as exc:
            raise TaskManagerUnavailableError(f"{method} {url}: not a JSON answer") from exc

    async def scope(self) -> ReportingScope:
        """The project (and task) the runner's token is for."""
        data = await self._call("GET", SCOPE_PATH)
        try:
            return ReportingScope(
                project_id=int(data["project_id"]),
                project=str(data["project"]),
                task_id=None if data.get("task_id") is None else int(data["task_id"]),
                task=None if data.get("task") is None else str(data["task"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise TaskManagerUnavailableError(f"{self._base}{SCOPE_PATH}: {data!r}") from exc

    async def plan_summary(self) -> PlanSummary:
        """The size and the problems of the token's project's plan as it stands."""
        data = await self._call("GET", PLAN_PATH)
        try:
            return PlanSummary(
                epics=int(data["epics"]),
                tasks=int(data["tasks"]),
                problems=tuple(str(p) for p in data.get("problems") or ()),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise TaskManagerUnavailableError(f"{self._base}{PLAN_PATH}: {data!r}") from exc

    async def start_session(
        self,
        project_id: int,
        *,
        task_id: int | None = None,
        kind: str = "task",
        model: str | None = None,
        log_path: str | None = None,
    ) -> OpenedSession:
        data = await self._call("POST", SESSIONS_PATH, {"model": model, "log_path": log_path})
        return OpenedSession(int(data["id"]))

    async def end_session(
        self,
        session_id: int,
        status: Any,
        *,
        summary: str | None = None,
        error: str | None = None,
        metrics: Mapping[str, Any] | None = None,
    ) -> object:
        body = {
            "status": SessionStatus(status).value,
            "summary": _cut(summary),
            "error": _cut(error),
            "metrics": dict(metrics or {}),
        }
        return await self._call("POST", session_end_path(session_id), body)

    async def record_agent_cost(
        self,
        project_id: int,
        *,
        model: str,
        cost_usd: Decimal | float,
        session_id: int | None = None,
        task_id: int | None = None,
        operation: str = "task",
        input_tokens: int = 0,
        output_tokens: int = 0,
        cache_read_tokens: int = 0,
        cache_creation_tokens: int = 0,
    ) -> object:
        if session_id is None:
            raise TaskManagerUnavailableError("a cost is reported for an opened session only")
        body = {
            "model": model,
            "cost_usd": str(cost_usd),
            "operation": operation,
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "cache_read_tokens": cache_read_tokens,
            "cache_creation_tokens": cache_creation_tokens,
        }
        # Recorded once per session by the server: reporting again after a lost answer is safe.
        return await self._call("POST", session_cost_path(session_id), body, repeatable=True)
