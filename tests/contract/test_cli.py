"""Every command answers --help with a description; the command set is pinned."""

from __future__ import annotations

from typing import Any

import typer.main
from typer.testing import CliRunner

from yokeflow.cli.main import app


def _commands(group: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = [prefix]
    if hasattr(group, "commands"):
        for name, sub in group.commands.items():
            out.extend(_commands(sub, (*prefix, name)))
    return out


def test_every_command_has_help() -> None:
    root = typer.main.get_command(app)
    runner = CliRunner()
    paths = _commands(root)
    assert ("graph",) in paths
    assert ("config", "show") in paths
    for path in paths:
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "Usage:" in result.output
        command = root
        for name in path:
            command = command.commands[name]
        assert (command.help or "").strip(), f"`yokeflow {' '.join(path)}` has no help text"
