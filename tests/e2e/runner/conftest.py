"""What the runner's Jobs need around the control plane and process node: a database with the
project, the MCP task manager over HTTP on loopback, and its token secret."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from yokeflow.adapters.postgres import PostgresStore, migrate
from yokeflow.testing.mcp_clients import http_server
from yokeflow.testing.postgres import (  # noqa: F401  (fixtures)
    pg_database_url,
    pg_server,
    pg_servers,
)

TOKEN_SECRET = "runner-e2e-secret-0123456789"


@pytest.fixture(scope="session")
def pg_migrate() -> Callable[[str], Awaitable[object]]:
    return migrate


@pytest.fixture
async def store(pg_database_url: str) -> AsyncIterator[PostgresStore]:
    async with await PostgresStore.connect(pg_database_url, min_size=1, max_size=2) as s:
        yield s


@pytest.fixture
def mcp_base(pg_database_url: str, tmp_path: Path) -> Iterator[str]:
    """``yokeflow mcp serve --http`` on the test's database, on loopback: its base URL."""
    with http_server(pg_database_url, TOKEN_SECRET, log=tmp_path / "mcp-http.log") as base:
        yield base
