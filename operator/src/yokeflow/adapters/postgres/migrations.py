"""Schema migrations: the ordered SQL files of ``schema/postgresql/``, applied once each.

Every run takes one PostgreSQL advisory lock first, so processes that start together migrate one
after another: the first applies what is missing, the others find nothing left to do. Each file
runs in its own transaction together with its row in ``schema_migrations``; a file that was
changed after it was applied is refused (its checksum no longer matches). The SQL files are
idempotent themselves too, so a database created by hand from them migrates cleanly.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from yokeflow.adapters.postgres.connection import connect
from yokeflow.errors import MigrationError
from yokeflow.resources import resource_dir

__all__ = ["MIGRATION_LOCK_ID", "Migration", "applied_migrations", "load_migrations", "migrate"]

MIGRATION_LOCK_ID = 0x59_4B_46_4D  # "YKFM": the advisory lock key all migrators share
_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

_CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    checksum   TEXT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
)
"""


@dataclass(frozen=True, slots=True)
class Migration:
    """One migration file: ``NNNN_name.sql``."""

    version: str
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def load_migrations(folder: Path | None = None) -> list[Migration]:
    """The migrations in ``folder`` (default: the shipped ``schema/postgresql``), in order."""
    folder = folder or resource_dir("schema") / "postgresql"
    out: list[Migration] = []
    for path in sorted(folder.glob("*.sql")):
        match = _FILE.match(path.name)
        if match is None:
            raise MigrationError(f"{path}: a migration is named NNNN_name.sql")
        out.append(Migration(match[1], match[2], path.read_text(encoding="utf-8")))
    versions = [m.version for m in out]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"{folder}: two migrations share a version number")
    return out


async def applied_migrations(conn: Any) -> dict[str, str]:
    """Version → checksum of the migrations recorded in the database (empty when none)."""
    exists = await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
    if not exists:
        return {}
    rows = await conn.fetch("SELECT version, checksum FROM schema_migrations")
    return {r["version"]: r["checksum"] for r in rows}


async def _apply(conn: Any, migrations: list[Migration]) -> list[Migration]:
    await conn.execute(_CREATE_TABLE)
    done = await applied_migrations(conn)
    applied: list[Migration] = []
    for migration in migrations:
        recorded = done.get(migration.version)
        if recorded is not None:
            if recorded != migration.checksum:
                raise MigrationError(
                    f"migration {migration.version}_{migration.name} was changed after it was "
                    "applied; add a new migration instead of editing an old one"
                )
            continue
        try:
            async with conn.transaction():
                await conn.execute(migration.sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                    migration.version,
                    migration.name,
                    migration.checksum,
                )
        except asyncpg.PostgresError as exc:
            raise MigrationError(
                f"migration {migration.version}_{migration.name} failed: {exc}"
            ) from exc
        applied.append(migration)
    return applied


async def migrate(url: str, folder: Path | None = None) -> list[Migration]:
    """Bring the database at ``url`` up to date; returns the migrations this call applied."""
    migrations = load_migrations(folder)
    conn = await connect(url)
    try:
        # Session-level lock: held across the per-file transactions, released even on error.
        await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_ID)
        try:
            return await _apply(conn, migrations)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_ID)
    finally:
        await conn.close()
