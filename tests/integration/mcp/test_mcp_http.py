"""The task tools over streamable HTTP (one server process, bearer tokens), on real PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Callable

import httpx
import pytest

from yokeflow.adapters.postgres import PostgresStore
from yokeflow.core.records import ProjectPlan, TaskStatus
from yokeflow.testing.mcp_clients import call, http_session
from yokeflow_mcp import Scope, SignedTokens

TokenFor = Callable[..., str]

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


async def test_a_session_over_http_works_through_a_task(
    mcp_http: str, token_for: TokenFor, store: PostgresStore, todo: ProjectPlan
) -> None:
    async with http_session(mcp_http, token_for(todo.project.id)) as session:
        tools = (await session.list_tools()).tools
        assert len(tools) == 20
        claimed = await call(session, "get_next_task", claim=True)
        assert claimed["task"]["key"] == "db-schema"
        done = await call(session, "update_task_status", task="db-schema", status="done")
        assert done["task"]["status"] == "done"
    task = await store.get_task_by_key(todo.project.id, "db-schema")
    assert task is not None
    assert task.status == TaskStatus.DONE
    assert task.claimed_by == "test"  # the worker named in the token


async def test_requests_without_a_valid_token_are_refused(
    mcp_http: str, token_for: TokenFor, todo: ProjectPlan
) -> None:
    other_secret = SignedTokens(b"another-secret-0123456789").issue(Scope(todo.project.id))
    valid = token_for(todo.project.id)
    payload, signature = valid.split(".")[1:]
    forged_payload = SignedTokens(b"x" * 16).issue(Scope(todo.project.id + 1)).split(".")[1]
    refused = {
        "no header": {},
        "not bearer": {"Authorization": f"Basic {valid}"},
        "garbage": {"Authorization": "Bearer nonsense"},
        "other secret": {"Authorization": f"Bearer {other_secret}"},
        "payload swapped": {"Authorization": f"Bearer yf1.{forged_payload}.{signature}"},
        "expired": {
            "Authorization": f"Bearer {token_for(todo.project.id, expires_at=time.time() - 1)}"
        },
    }
    headers = {"Accept": "application/json, text/event-stream"}
    async with httpx.AsyncClient() as client:
        for name, auth in refused.items():
            response = await client.post(
                f"{mcp_http}/mcp", json=_INITIALIZE, headers={**headers, **auth}
            )
            assert response.status_code == 401, name
            assert "token" in response.json()["error"], name
        accepted = await client.post(
            f"{mcp_http}/mcp",
            json=_INITIALIZE,
            headers={**headers, "Authorization": f"Bearer {valid}"},
        )
        assert accepted.status_code == 200
        assert payload  # the valid token's payload was what the swap replaced
        health = await client.get(f"{mcp_http}/healthz")
        assert health.status_code == 200


async def test_a_project_token_cannot_reach_another_project(
    mcp_http: str, token_for: TokenFor, store: PostgresStore, todo: ProjectPlan
) -> None:
    from yokeflow.core.plan import parse_plan

    text = "name: secret-project\nepics:\n  - key: x\n    name: X\n    tasks:\n      - key: hidden\n        title: Hidden\n"
    other = await store.create_plan(parse_plan(text, "other"))
    hidden = other.task_ids["hidden"]
    async with http_session(mcp_http, token_for(todo.project.id)) as session:
        listed = await call(session, "list_tasks")
        assert hidden not in {t["id"] for t in listed["tasks"]}
        assert len(listed["tasks"]) == 7
        for tool, arguments in {
            "get_task": {"task": hidden},
            "start_task": {"task": hidden},
            "update_task_status": {"task": hidden, "status": "running"},
            "declare_dependency": {"task": "db-schema", "depends_on": hidden, "reason": "x"},
            "create_test": {"task": hidden, "description": "x"},
            "list_tests": {"task": hidden},
            "get_epic": {"epic": other.epic_ids["x"]},
        }.items():
            result = await session.call_tool(tool, arguments)
            assert result.isError, tool
            text_out = result.content[0].text  # type: ignore[union-attr]
            assert "unknown" in text_out, (tool, text_out)
            assert "secret-project" not in text_out
        status = await call(session, "task_status")
        assert status["project"]["name"] == "todo-api"
    task = await store.get_task(hidden)
    assert task is not None
    assert task.status == TaskStatus.PENDING
    assert await store.list_tests(hidden) == []


async def test_a_task_token_changes_only_its_own_task(
    mcp_http: str, token_for: TokenFor, store: PostgresStore, todo: ProjectPlan
) -> None:
    own = todo.task_ids["db-schema"]
    other = await store.create_test(todo.task_ids["db-seed"], "seed rows exist")
    async with http_session(mcp_http, token_for(todo.project.id, own)) as session:
        mine = await call(session, "get_next_task", claim=True)
        assert mine["task"]["key"] == "db-schema"
        assert mine["claimed"] is True
        again = await call(session, "start_task")  # already running: harmless
        assert again["message"] == "already running"
        # Reading the rest of the plan is allowed.
        assert len((await call(session, "list_tasks"))["tasks"]) == 7
        assert (await call(session, "get_task", task="db-seed"))["key"] == "db-seed"
        for tool, arguments in {
            "start_task": {"task": "api-list"},
            "update_task_status": {"task": "db-seed", "status": "blocked"},
            "create_test": {"task": "db-seed", "description": "x"},
            "update_test_result": {"test_id": other.id, "passed": True},
            "declare_dependency": {"task": "db-seed", "depends_on": "api-list", "reason": "x"},
            "create_task": {"epic": "db", "title": "sneaky"},
            "create_epic": {"name": "sneaky"},
            "expand_epic": {"epic": "db", "tasks": [{"title": "sneaky"}]},
            "mark_project_complete": {},
        }.items():
            result = await session.call_tool(tool, arguments)
            assert result.isError, tool
            text_out = result.content[0].text  # type: ignore[union-attr]
            assert "own task" in text_out or "project-wide session" in text_out, (tool, text_out)
        test = await call(session, "create_test", description="schema applies")
        assert test["test"]["task"] == "db-schema"
        done = await call(session, "update_task_status", status="done")
        assert done["task"]["key"] == "db-schema"
    tasks = {t.key: t for t in await store.list_tasks(todo.project.id)}
    assert tasks["db-schema"].status == TaskStatus.DONE
    assert all(t.status == TaskStatus.PENDING for k, t in tasks.items() if k != "db-schema")
    assert len(await store.list_epics(todo.project.id)) == 4
    assert [t.status.value for t in await store.list_tests(todo.task_ids["db-seed"])] == ["pending"]


async def test_tokens_from_the_cli_are_scoped_to_their_task(
    mcp_http: str,
    token_for: TokenFor,
    mcp_secret: str,
    pg_database_url: str,
    store: PostgresStore,
    todo: ProjectPlan,
) -> None:
    issued = await asyncio.to_thread(
        subprocess.run,
        [
            sys.executable,
            "-m",
            "yokeflow_mcp",
            "token",
            "--project",
            "todo-api",
            "--task",
            "db-schema",
            "--ttl",
            "600",
            "--database-url",
            pg_database_url,
        ],
        env={**os.environ, "YOKEFLOW_MCP_TOKEN_SECRET": mcp_secret},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    token = issued.stdout.strip()
    scope = SignedTokens(mcp_secret.encode()).verify(token, now=time.time())
    assert scope == Scope(todo.project.id, todo.task_ids["db-schema"], "mcp-http:db-schema")
    async with http_session(mcp_http, token) as session:
        result = await session.call_tool("start_task", {"task": "api-list"})
        assert result.isError
        started = await call(session, "start_task")
        assert started["task"]["key"] == "db-schema"
    task = await store.get_task(todo.task_ids["db-schema"])
    assert task is not None
    assert task.status == TaskStatus.RUNNING
