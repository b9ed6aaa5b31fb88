"""Fixtures of the PostgreSQL integration tests: every test runs on PostgreSQL 18 and 15."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from yokeflow.adapters.postgres import PostgresStore, migrate
from yokeflow.testing.postgres import (  # noqa: F401  (fixtures)
    pg_database_url,
    pg_empty_database_url,
    pg_server,
    pg_servers,
)


@pytest.fixture(scope="session")
def pg_migrate() -> Callable[[str], Awaitable[object]]:
    return migrate


@pytest.fixture
async def store(pg_database_url: str) -> AsyncIterator[PostgresStore]:
    """A store on a fresh, migrated database, with room for 50 concurrent workers."""
    async with await PostgresStore.connect(pg_database_url, min_size=1, max_size=60) as s:
        yield s
