"""Fixtures of the learning and cost integration tests: a migrated PostgreSQL store per test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from yokeflow.adapters.postgres import PostgresStore, migrate
from yokeflow.adapters.postgres.learning_store import PostgresLearningStore
from yokeflow.testing.postgres import (  # noqa: F401  (fixtures)
    pg_database_url,
    pg_server,
    pg_servers,
)


@pytest.fixture(scope="session")
def pg_migrate() -> Callable[[str], Awaitable[object]]:
    return migrate


@pytest.fixture
async def store(pg_database_url: str) -> AsyncIterator[PostgresStore]:
    async with await PostgresStore.connect(pg_database_url, min_size=1, max_size=20) as s:
        yield s


@pytest.fixture
def learning(store: PostgresStore) -> PostgresLearningStore:
    return PostgresLearningStore.of(store)
