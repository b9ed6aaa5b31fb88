"""Fixtures of the MCP task manager tests: a real PostgreSQL database, real MCP client sessions."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Protocol

import pytest

from yokeflow.adapters.postgres import PostgresStore, migrate
from yokeflow.core.plan import parse_plan
from yokeflow.core.records import ProjectPlan
from yokeflow.testing.mcp_clients import http_server
from yokeflow.testing.postgres import (  # noqa: F401  (fixtures)
    pg_database_url,
    pg_server,
    pg_servers,
)
from yokeflow_mcp import Scope, SignedTokens

ROOT = Path(__file__).resolve().parents[3]
SECRET = "mcp-test-secret-0123456789"
"""The signing secret the test HTTP servers are started with."""


@pytest.fixture(scope="session")
def pg_migrate() -> Callable[[str], Awaitable[object]]:
    return migrate


@pytest.fixture
async def store(pg_database_url: str) -> AsyncIterator[PostgresStore]:
    async with await PostgresStore.connect(pg_database_url, min_size=1, max_size=20) as s:
        yield s


@pytest.fixture
async def todo(store: PostgresStore) -> ProjectPlan:
    """The 7-task to-do plan of the examples, stored as a project."""
    text = (ROOT / "examples/plans/todo-api.yaml").read_text()
    return await store.create_plan(parse_plan(text, "todo-api.yaml"))


@pytest.fixture
def mcp_http(pg_database_url: str, tmp_path: Path) -> Iterator[str]:
    """`yokeflow mcp serve --http` on the test's database; its base URL."""
    with http_server(pg_database_url, SECRET, log=tmp_path / "mcp-http.log") as base:
        yield base


class TokenFactory(Protocol):
    def __call__(
        self,
        project_id: int,
        task_id: int | None = None,
        *,
        expires_at: float | None = None,
        worker: str = "test",
    ) -> str: ...


def _token_for(
    project_id: int,
    task_id: int | None = None,
    *,
    expires_at: float | None = None,
    worker: str = "test",
) -> str:
    scope = Scope(project_id=project_id, task_id=task_id, worker=worker)
    return SignedTokens(SECRET.encode()).issue(scope, expires_at=expires_at)


@pytest.fixture
def token_for() -> TokenFactory:
    """Makes tokens the test HTTP servers accept, for a project (and task)."""
    return _token_for


@pytest.fixture
def mcp_secret() -> str:
    return SECRET
