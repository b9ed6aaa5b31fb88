"""The embedded default: a real PostgreSQL 18 from the wheel, reused while running, stopped cleanly."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import platformdirs
import pytest

from yokeflow.adapters.postgres import EmbeddedPostgres, default_data_dir, open_store
from yokeflow.settings import DatabaseSettings

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(180)]

CLI = [sys.executable, "-c", "from yokeflow.cli.main import main; main()"]


@pytest.fixture
def data_parent() -> Iterator[Path]:
    """A folder for the server's data outside pytest's data_parent.

    As root the server runs as another user, who must traverse every parent folder; pytest keeps
    its base temporary folder private (0700) and re-tightens it, so it cannot live there.
    """
    folder = Path(tempfile.mkdtemp(prefix="yf-embedded-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_default_data_dir_is_in_the_users_data_directory() -> None:
    assert default_data_dir() == platformdirs.user_data_path("yokeflow") / "postgres"


async def test_start_reuse_and_stop(data_parent: Path) -> None:
    server = EmbeddedPostgres(data_parent / "data")
    assert not server.status().running
    said: list[str] = []
    url = await server.start(said.append)  # what the user sees meanwhile: one line
    assert said == [
        f"starting the embedded PostgreSQL server in {server.data_dir}"
        " (the first start creates it: this takes a while)…"
    ]
    try:
        first = server.status()
        assert first.running
        assert first.url == url
        conn = await asyncpg.connect(url)
        try:
            assert (await conn.fetchval("SHOW server_version")).startswith("18")
            assert await conn.fetchval("SELECT current_database()") == "yokeflow"
        finally:
            await conn.close()
        if os.geteuid() == 0:
            # PostgreSQL refuses root; the package runs it as its own unprivileged user.
            assert (data_parent / "data").stat().st_uid != 0
        # Another process finds the running server and reuses it: same process id, same URL.
        again = await asyncio.to_thread(
            subprocess.run,
            [*CLI, "db", "start", "--data-dir", str(data_parent / "data")],
            capture_output=True,
            text=True,
            check=True,
        )
        assert again.stdout.strip() == url
        assert again.stderr == ""  # running already: nothing to wait for, nothing said
        assert server.status().pid == first.pid
        assert await EmbeddedPostgres(data_parent / "data").start() == url
    finally:
        assert server.stop()
    assert not server.status().running
    assert not server.stop()
    # Its data stays: starting again brings the same database back.
    url = await server.start(said.append)
    assert said[1:] == [f"starting the embedded PostgreSQL server in {server.data_dir}…"]
    try:
        conn = await asyncpg.connect(url)
        await conn.close()
    finally:
        stopped = await asyncio.to_thread(
            subprocess.run,
            [*CLI, "db", "stop", "--data-dir", str(data_parent / "data")],
            capture_output=True,
            text=True,
            check=True,
        )
    assert "stopped" in stopped.stdout
    assert not server.status().running


async def test_no_url_means_the_embedded_server_migrated(data_parent: Path) -> None:
    settings = DatabaseSettings(data_dir=data_parent / "data")
    store = await open_store(settings)
    try:
        project = await store.create_project("embedded")
        assert await store.get_project(project.id) == project
    finally:
        await store.close()
        EmbeddedPostgres(data_parent / "data").stop()
