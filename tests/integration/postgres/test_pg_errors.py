"""A missing or unreachable database is one clear sentence with the URL, password hidden."""

from __future__ import annotations

import subprocess
import sys
from urllib.parse import urlsplit, urlunsplit

import pytest

from yokeflow.adapters.postgres import PostgresStore, migrate
from yokeflow.errors import DatabaseUnavailableError
from yokeflow.testing.postgres import TestServer, with_database

pytestmark = pytest.mark.postgres

CLI = [sys.executable, "-c", "from yokeflow.cli.main import main; main()"]


def _with_password(url: str) -> tuple[str, str]:
    """The URL with a password (its own, or one that trust authentication ignores) and that password."""
    parts = urlsplit(url)
    if parts.password:
        return url, parts.password
    host = parts.netloc.rsplit("@", 1)[-1]
    user = parts.username or "postgres"
    return urlunsplit(parts._replace(netloc=f"{user}:hunter2@{host}")), "hunter2"


async def test_a_missing_database(pg_server: TestServer) -> None:
    url, password = _with_password(with_database(pg_server.admin_url, "no_such_db"))
    with pytest.raises(DatabaseUnavailableError) as caught:
        await PostgresStore.connect(url)
    message = str(caught.value)
    assert "does not exist" in message
    assert "no_such_db" in message
    assert f":{password}@" not in message
    assert ":***@" in message
    with pytest.raises(DatabaseUnavailableError, match="does not exist"):
        await migrate(url)


async def test_an_unreachable_server() -> None:
    with pytest.raises(DatabaseUnavailableError, match="refused") as caught:
        await PostgresStore.connect("postgresql://yf:hunter2@127.0.0.1:1/yf")
    assert str(caught.value).startswith(
        "cannot use the PostgreSQL database at postgresql://yf:***@127.0.0.1:1/yf:"
    )


def test_the_command_line_prints_one_line_and_no_traceback() -> None:
    result = subprocess.run(
        [*CLI, "migrate", "--database-url", "postgresql://yf:hunter2@127.0.0.1:1/yf"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1  # a temporary error: the server may come up
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr
    assert "hunter2" not in result.stderr
    assert result.stderr.startswith(
        "error: cannot use the PostgreSQL database at postgresql://yf:***@"
    )
