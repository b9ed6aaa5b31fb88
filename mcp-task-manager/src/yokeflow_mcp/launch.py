"""How a runner points an agent session at the task manager: a stdio command, or a URL + token.

These return plain data (command, arguments, environment; URL and headers) that the runner
passes to the agent adapter as a :class:`yokeflow.ports.agent.McpServer`. The database URL goes
in the environment, not the arguments, so its password never shows in a process listing.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from yokeflow.settings import env_name
from yokeflow_mcp.server import MCP_PATH

__all__ = ["SERVER_KEY", "HttpLaunch", "StdioLaunch", "http_launch", "stdio_launch"]

SERVER_KEY = "yokeflow"
"""The name sessions give the server: its tools appear as ``mcp__yokeflow__<tool>``."""


@dataclass(frozen=True)
class StdioLaunch:
    """A local server process for one session."""

    command: str
    args: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class HttpLaunch:
    """The shared HTTP server, reached with a scoped bearer token."""

    url: str
    headers: dict[str, str]


def stdio_launch(
    project: str,
    task: str | None = None,
    *,
    database_url: str | None = None,
    python: str = sys.executable,
) -> StdioLaunch:
    """``python -m yokeflow_mcp serve --stdio --project P [--task T]``.

    Without ``database_url`` the server uses the settings it finds (``YOKEFLOW_DATABASE_URL``
    inherited from the runner, else the embedded server of the default data folder).
    """
    args = ["-m", "yokeflow_mcp", "serve", "--stdio", "--project", project]
    if task is not None:
        args += ["--task", task]
    env = {} if database_url is None else {env_name("database", "url"): database_url}
    return StdioLaunch(command=python, args=tuple(args), env=env)


def http_launch(base_url: str, token: str) -> HttpLaunch:
    """The endpoint under ``base_url`` (e.g. ``http://yokeflow-mcp:8766``) and its auth header."""
    return HttpLaunch(
        url=base_url.rstrip("/") + MCP_PATH, headers={"Authorization": f"Bearer {token}"}
    )
