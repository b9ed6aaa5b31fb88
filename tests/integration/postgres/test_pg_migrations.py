"""Migrations: ordered, recorded, idempotent, and safe when two processes migrate at once."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from yokeflow.adapters.postgres import load_migrations, migrate
from yokeflow.errors import MigrationError

pytestmark = pytest.mark.postgres

TABLES = {
    "projects",
    "epics",
    "tasks",
    "tests",
    "sessions",
    "parallel_batches",
    "worktrees",
    "agent_costs",
    "expertise_files",
    "expertise_updates",
    "schema_migrations",
}
VIEWS = {"v_project_costs", "v_parallel_progress", "v_worktree_status"}


async def _schema(url: str) -> dict[str, Any]:
    """Everything a migration can change: columns, constraints, indexes, views, recorded runs."""
    conn = await asyncpg.connect(url)
    try:
        columns = await conn.fetch(
            "SELECT table_name, column_name, data_type, column_default, is_nullable"
            " FROM information_schema.columns WHERE table_schema = 'public'"
            " ORDER BY table_name, column_name"
        )
        constraints = await conn.fetch(
            "SELECT conrelid::regclass::text AS tbl, conname, pg_get_constraintdef(oid) AS def"
            " FROM pg_constraint WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2"
        )
        indexes = await conn.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1"
        )
        views = await conn.fetch(
            "SELECT viewname, definition FROM pg_views WHERE schemaname = 'public' ORDER BY 1"
        )
        runs = await conn.fetch(
            "SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version"
        )
    finally:
        await conn.close()
    return {
        "columns": [tuple(r) for r in columns],
        "constraints": [tuple(r) for r in constraints],
        "indexes": [tuple(r) for r in indexes],
        "views": [tuple(r) for r in views],
        "runs": [tuple(r) for r in runs],
    }


async def test_migrate_creates_the_schema_and_a_second_run_changes_nothing(
    pg_empty_database_url: str,
) -> None:
    url = pg_empty_database_url
    applied = await migrate(url)
    assert [m.version for m in applied] == [m.version for m in load_migrations()]
    first = await _schema(url)
    assert {c[0] for c in first["columns"]} >= TABLES | VIEWS
    assert {v[0] for v in first["views"]} >= VIEWS
    names = {i[0] for i in first["indexes"]}
    assert {"tasks_ready_idx", "tasks_project_status_idx", "agent_costs_project_idx"} <= names

    assert await migrate(url) == []
    assert await _schema(url) == first


async def test_the_sql_files_themselves_are_idempotent(pg_empty_database_url: str) -> None:
    """Running every file again by hand (as an operator might) changes nothing."""
    await migrate(pg_empty_database_url)
    before = await _schema(pg_empty_database_url)
    conn = await asyncpg.connect(pg_empty_database_url)
    try:
        for migration in load_migrations():
            await conn.execute(migration.sql)
    finally:
        await conn.close()
    assert await _schema(pg_empty_database_url) == before


async def test_two_processes_migrating_at_once_both_succeed(pg_empty_database_url: str) -> None:
    command = [sys.executable, "-c", "from yokeflow.cli.main import main; main()", "migrate"]
    processes = [
        await asyncio.create_subprocess_exec(
            *command,
            "--database-url",
            pg_empty_database_url,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    results = [await p.communicate() for p in processes]
    for process, (_, err) in zip(processes, results, strict=True):
        assert process.returncode == 0, err.decode()
    outputs = [out.decode() for out, _ in results]
    # One applied everything; the other waited on the advisory lock and found nothing to do.
    applied = [o for o in outputs if o.startswith("applied 0001_core, 0002_parallel")]
    idle = [o for o in outputs if o.rstrip().endswith("is up to date")]
    assert (len(applied), len(idle)) == (1, 1), outputs
    schema = await _schema(pg_empty_database_url)
    assert [r[0] for r in schema["runs"]] == [m.version for m in load_migrations()]


async def test_concurrent_migrators_in_one_process(pg_empty_database_url: str) -> None:
    results = await asyncio.gather(*(migrate(pg_empty_database_url) for _ in range(5)))
    assert sorted(len(r) for r in results) == [0, 0, 0, 0, len(load_migrations())]


async def test_an_edited_migration_is_refused(pg_empty_database_url: str, tmp_path: Path) -> None:
    for migration in load_migrations():
        (tmp_path / f"{migration.version}_{migration.name}.sql").write_text(migration.sql)
    await migrate(pg_empty_database_url, tmp_path)
    edited = tmp_path / "0001_core.sql"
    edited.write_text(edited.read_text() + "\n-- edited\n")
    with pytest.raises(MigrationError, match="0001_core was changed after it was applied"):
        await migrate(pg_empty_database_url, tmp_path)


async def test_a_failing_migration_is_rolled_back_and_named(
    pg_empty_database_url: str, tmp_path: Path
) -> None:
    (tmp_path / "0001_ok.sql").write_text("CREATE TABLE IF NOT EXISTS ok (id int);")
    (tmp_path / "0002_broken.sql").write_text(
        "CREATE TABLE half (id int); SELECT * FROM no_such_table;"
    )
    with pytest.raises(MigrationError, match="0002_broken failed"):
        await migrate(pg_empty_database_url, tmp_path)
    conn = await asyncpg.connect(pg_empty_database_url)
    try:
        assert await conn.fetchval("SELECT to_regclass('half')") is None
        assert await conn.fetchval("SELECT count(*) FROM schema_migrations") == 1
    finally:
        await conn.close()


def test_migration_files_are_named_in_order() -> None:
    versions = [m.version for m in load_migrations()]
    assert versions == sorted(versions)
    assert versions[0] == "0001"
