"""docs/api.md's table: every API route has its command, and every command named there exists.

The CLI gains nothing the API lacks and the API nothing the CLI cannot reach: this checks the
table against the generated OpenAPI document and the command tree of ``yokeflow``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import typer.main

from yokeflow.cli.main import app
from yokeflow.web.app import build_app

ROOT = Path(__file__).resolve().parents[2]


def _table() -> list[tuple[str, str]]:
    rows = []
    text = (ROOT / "docs/api.md").read_text(encoding="utf-8")
    for line in text.splitlines():
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip("|"))]
        if len(cells) == 2 and cells[0].startswith("`") and "yokeflow" in cells[1]:
            rows.append((cells[0], cells[1]))
    return rows


def _routes_named(cell: str) -> set[tuple[str, str]]:
    """(method, path suffix) pairs a route cell names; ``.../x`` means under a project."""
    out = set()
    for method, path in re.findall(r"`(GET|POST|PUT|DELETE|WS) ([^`]+)`", cell):
        out.add((method, path.replace("...", "/api/projects/{id}")))
    return out


def _normal(path: str) -> str:
    return re.sub(r"\{[a-z_]+\}", "{}", path).replace("/api/projects/{}/", "/api/projects/{}/")


def _commands(group: Any, prefix: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    out = {prefix}
    if hasattr(group, "list_commands"):
        ctx = typer.Context(group)
        for name in group.list_commands(ctx):
            out |= _commands(group.get_command(ctx, name), (*prefix, name))
    return out


def test_every_route_has_a_command_in_the_table() -> None:
    named = {(m, _normal(p)) for cell, _ in _table() for m, p in _routes_named(cell)}
    document = build_app().openapi()
    missing = [
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
        if (method.upper(), _normal(path)) not in named
    ]
    assert missing == []
    assert ("WS", _normal("/api/ws/{id}")) in named


def test_every_command_in_the_table_exists() -> None:
    commands = _commands(typer.main.get_command(app))
    seen = 0
    for _, cell in _table():
        for usage in re.findall(r"`yokeflow ([^`]+)`", cell):
            group, *rest = usage.split()
            subs = rest[0].split("\\|") if rest else []
            if (group,) not in commands:
                raise AssertionError(f"`yokeflow {usage}`: no command {group!r}")
            for sub in subs:
                if re.fullmatch(r"[a-z][a-z-]*", sub) and (group, sub) not in commands:
                    assert not _commands_of(commands, group), f"`yokeflow {usage}`: no {sub!r}"
            seen += 1
    assert seen >= 30


def _commands_of(commands: set[tuple[str, ...]], group: str) -> list[tuple[str, ...]]:
    return [c for c in commands if len(c) == 2 and c[0] == group]
