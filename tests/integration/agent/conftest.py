"""Fixtures of the agent tests: a git repository, the MCP recorder, and the no-leftovers check.

Every test here runs under a fresh ``YOKEFLOW_TEST_RUN`` marker in the environment, which the
CLI and everything it starts inherit; after the test no live process may carry it, and this
process may have no unreaped children.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from yokeflow.adapters.claude.processes import child_zombies, marked_processes
from yokeflow.ports.agent import McpServer
from yokeflow.testing.agents import git_repository

RECORDER = Path(__file__).with_name("mcp_recorder.py")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return git_repository(
        tmp_path / "repo", {"README.md": "# todo\n", "src/app.py": "print('hi')\n"}
    )


@pytest.fixture
def test_marker(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    marker = uuid.uuid4().hex
    monkeypatch.setenv("YOKEFLOW_TEST_RUN", marker)
    zombies_before = set(child_zombies())
    yield marker
    left = marked_processes(marker, "YOKEFLOW_TEST_RUN")
    assert left == [], f"processes left behind: {left}"
    assert set(child_zombies()) <= zombies_before, "unreaped child processes"


@pytest.fixture
def mcp_record(tmp_path: Path) -> Path:
    return tmp_path / "mcp-calls.jsonl"


@pytest.fixture
def task_manager(mcp_record: Path) -> McpServer:
    return McpServer(
        name="task-manager", command=sys.executable, args=(str(RECORDER), str(mcp_record))
    )


# Real PostgreSQL for the cost-recording tests (started only by tests that ask for it).
from yokeflow.adapters.postgres import migrate  # noqa: E402
from yokeflow.testing.postgres import (  # noqa: E402, F401  (fixtures)
    pg_database_url,
    pg_server,
    pg_servers,
)


@pytest.fixture(scope="session")
def pg_migrate():  # type: ignore[no-untyped-def]
    return migrate
