"""Fixtures of the engine tests: real PostgreSQL, a real git repository, an event log."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from yokeflow.adapters.postgres import PostgresStore, migrate
from yokeflow.testing.git_repos import make_repository
from yokeflow.testing.postgres import (  # noqa: F401  (fixtures)
    pg_database_url,
    pg_server,
    pg_servers,
)
from yokeflow.testing.sessions import EventLog


@pytest.fixture(scope="session")
def pg_migrate() -> Callable[[str], Awaitable[object]]:
    return migrate


@pytest.fixture
async def store(pg_database_url: str) -> AsyncIterator[PostgresStore]:
    async with await PostgresStore.connect(pg_database_url, min_size=1, max_size=20) as s:
        yield s


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repository(tmp_path / "repo", {"README.md": "demo\n"})


@pytest.fixture
def events() -> EventLog:
    return EventLog()
