"""Sub-commands imported on first use, so ``yokeflow --help`` and each command start fast.

Importing every command module (agents, PostgreSQL, MCP, the web server…) takes about a
second; a command needs only its own. :class:`LazyGroup` lists its sub-commands from a table of
:class:`Entry` (name, module, attribute, one-line help) and imports a module only when its
command runs or shows its own help. The root ``--help`` is drawn from the table's help lines;
a contract test pins them to the commands' own help texts.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import typer
import typer.core
import typer.main

from yokeflow.cli.plain_values import plain_values

__all__ = ["Entry", "LazyGroup", "load", "plain_flags", "plain_help"]


@dataclass(frozen=True, slots=True)
class Entry:
    """One sub-command: ``module.attribute`` is a command function or a :class:`typer.Typer`."""

    name: str
    module: str
    attribute: str
    help: str
    """The first paragraph of the command's help, shown in the root listing."""


def load(entry: Entry) -> Any:
    """The click command of ``entry``, its module imported now."""
    target = getattr(importlib.import_module(entry.module), entry.attribute)
    command: Any
    if isinstance(target, typer.Typer):
        command = typer.main.get_group(target)
    else:
        single = typer.Typer(add_completion=False)
        single.command(entry.name)(target)
        command = typer.main.get_command(single)  # one command and no callback: that command
    command.name = entry.name
    plain_flags(command)
    plain_help(command)
    plain_values(command)
    # imported here: the table of examples is only needed once a command is loaded
    from yokeflow.cli.examples import add_examples

    add_examples(command, entry.name)
    return command


def plain_help(command: Any) -> None:
    """Draw help as plain text: typer's boxes would import rich, which doubles a help's cost.

    A group lists each sub-command with the whole first paragraph of its help (wrapped), not
    click's first 45 characters.
    """
    command.rich_markup_mode = None
    for sub in getattr(command, "commands", {}).values():
        if sub.short_help is None and sub.help:
            sub.short_help = " ".join(inspect.cleandoc(sub.help).split("\n\n")[0].split())
        plain_help(sub)


def plain_flags(command: Any) -> None:
    """Show on/off flags without a ``<bool>`` value marker: they take no value."""
    for param in getattr(command, "params", []):
        if getattr(param, "is_flag", False) and getattr(param, "metavar", None) is None:
            param.metavar = ""
    for sub in getattr(command, "commands", {}).values():
        plain_flags(sub)


class LazyGroup(typer.core.TyperGroup):
    """A typer group whose sub-commands come from :attr:`entries`, each loaded when used."""

    entries: Sequence[Entry] = ()
    """Set on a subclass (typer builds the group from its class)."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        plain_values(self)  # the group's own options (its sub-commands get theirs in load())
        self._table = {e.name: e for e in self.entries}
        self._listing = False

    def list_commands(self, ctx: Any) -> list[str]:
        return [*self.commands, *(name for name in self._table if name not in self.commands)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        entry = self._table.get(cmd_name)
        if entry is None:
            return None
        if self._listing:  # the root listing needs a name and a help line, not the command
            return typer.core.TyperCommand(entry.name, help=entry.help, short_help=entry.help)
        command = load(entry)
        self.commands[cmd_name] = command
        return command

    def format_help(self, ctx: Any, formatter: Any) -> None:
        with self._list_from_table():
            super().format_help(ctx, formatter)

    @contextmanager
    def _list_from_table(self) -> Iterator[None]:
        self._listing = True
        try:
            yield
        finally:
            self._listing = False
