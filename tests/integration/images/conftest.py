"""Fixtures of the images' tests: the wheel in a clean environment, a PostgreSQL database."""

from __future__ import annotations

from yokeflow.testing.postgres import (
    pg_empty_database_url,
    pg_server,
    pg_servers,
)
from yokeflow.testing.wheel import installed_wheel

__all__ = ["installed_wheel", "pg_empty_database_url", "pg_server", "pg_servers"]
