"""The local run's MCP task manager: its sessions' tokens expire, and die with the run."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from yokeflow.core.records import ProjectPlan
from yokeflow.local.task_manager import LocalTaskManager

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(180)]

_INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "raw", "version": "0"},
    },
}
_ACCEPT = {"Accept": "application/json, text/event-stream"}


async def _initialize(url: str, headers: dict[str, str]) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.post(url, json=_INITIALIZE, headers={**_ACCEPT, **headers})


async def test_a_sessions_token_expires_and_a_new_run_refuses_the_old_ones(
    pg_database_url: str, todo: ProjectPlan
) -> None:
    now = [1_000_000.0]
    first = LocalTaskManager(pg_database_url, token_ttl_seconds=60, clock=lambda: now[0])
    await asyncio.to_thread(first.start)
    try:
        server = first.server_for(todo.project.id, todo.task_ids["db-schema"], "mcp-http:t")
        assert server.url is not None
        token = server.headers["Authorization"]
        assert token.startswith("Bearer yf1.")
        accepted = await _initialize(server.url, server.headers)
        assert accepted.status_code == 200, accepted.text
        now[0] += 59
        assert (await _initialize(server.url, server.headers)).status_code == 200
        now[0] += 2  # 61 s after it was issued
        expired = await _initialize(server.url, server.headers)
        assert expired.status_code == 401
        assert "expired" in expired.json()["error"]
        # A token issued now is good again: tokens are renewed per session, not per run.
        fresh = first.server_for(todo.project.id, None, "mcp-http:planning")
        assert (await _initialize(fresh.url or "", fresh.headers)).status_code == 200
    finally:
        await asyncio.to_thread(first.stop)
    # The next run (a resume) signs with a secret of its own: the old tokens open nothing.
    second = LocalTaskManager(pg_database_url, token_ttl_seconds=60, clock=lambda: now[0])
    await asyncio.to_thread(second.start)
    try:
        own = second.server_for(todo.project.id, None, "mcp-http:planning")
        assert own.url is not None
        assert (await _initialize(own.url, own.headers)).status_code == 200
        stale = await _initialize(own.url, fresh.headers)
        assert stale.status_code == 401
        assert "invalid" in stale.json()["error"]
    finally:
        await asyncio.to_thread(second.stop)
