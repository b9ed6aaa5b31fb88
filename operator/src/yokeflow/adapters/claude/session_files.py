"""A session's private folder: its MCP configuration and the launcher of its CLI.

Two things of a session must not show in a process listing (``/proc/*/cmdline`` is readable by
every user and every other agent): the MCP servers' bearer tokens and the variables the session
must not inherit. So:

* the MCP configuration — tokens and a stdio server's environment included — is a 0600 file in a
  0700 folder of its own, and the CLI gets its *path* (``--mcp-config FILE``);
* the SDK starts the CLI with this process's whole environment plus the session's variables (it
  has no way to drop one), so the CLI is started through a launcher script in the same folder:
  ``exec env -u NAME … CLI "$@"`` — it removes every variable the allow-list does not keep
  (their names only are on its command line, never a value).

The folder is removed when the session ends. It does not protect one agent from another running
as the same user (such a process may read the folder as its owner); agents that must not read each
other's files run as separate users or, in a cluster, in separate pods.
"""

from __future__ import annotations

import json
import shlex
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import claude_agent_sdk

from yokeflow.adapters.private_files import write_private
from yokeflow.errors import AgentError

__all__ = ["SessionFiles", "bundled_cli"]


def bundled_cli() -> Path:
    """The Claude Code CLI the SDK would start: its bundled copy, else ``claude`` on PATH."""
    bundled = Path(claude_agent_sdk.__file__).parent / "_bundled" / "claude"
    if bundled.is_file():
        return bundled
    found = shutil.which("claude")
    if found is None:
        raise AgentError("the Claude Code CLI was not found (neither bundled nor on PATH)")
    return Path(found)


class SessionFiles:
    """``with SessionFiles() as files:`` a fresh 0700 folder, removed at the end."""

    def __init__(self, parent: Path | None = None) -> None:
        self._parent = parent
        self.folder: Path | None = None

    def __enter__(self) -> SessionFiles:
        # mkdtemp creates the folder 0700 with an unpredictable name.
        self.folder = Path(tempfile.mkdtemp(prefix="yokeflow-session-", dir=self._parent))
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    def _path(self, name: str) -> Path:
        if self.folder is None:
            raise RuntimeError("the session's folder is not open")
        return self.folder / name

    def mcp_config(self, servers: Mapping[str, Any]) -> Path:
        """The CLI's ``--mcp-config`` file for ``servers`` (0600)."""
        text = json.dumps({"mcpServers": dict(servers)}, indent=2)
        return write_private(self._path("mcp.json"), text + "\n")

    def launcher(self, cli: Path, remove: Iterable[str]) -> Path:
        """A script (0700) that starts ``cli`` with its arguments, without the ``remove`` variables."""
        target = str(cli.resolve())
        if "=" in target:  # env(1) would take it for an assignment
            raise AgentError(f"the CLI's path {target!r} holds '='; install it elsewhere")
        unset = " ".join(f"-u {shlex.quote(name)}" for name in sorted(set(remove)))
        script = f'#!/bin/sh\nexec env {unset} {shlex.quote(target)} "$@"\n'
        return write_private(self._path("claude"), script, mode=0o700)
