"""Fixtures of the monitoring tests: a real PostgreSQL database per test."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from yokeflow.adapters.postgres import migrate
from yokeflow.testing.postgres import (  # noqa: F401  (fixtures)
    pg_database_url,
    pg_server,
    pg_servers,
)


@pytest.fixture(scope="session")
def pg_migrate() -> Callable[[str], Awaitable[object]]:
    return migrate
