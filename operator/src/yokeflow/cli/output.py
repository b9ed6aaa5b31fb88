"""How commands that print data print it: ``--format text|json``, the same on every command."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated, Any

import typer

__all__ = ["Format", "FormatOption", "echo_json", "say"]


class Format(StrEnum):
    """``text`` for people, ``json`` for programs (strict JSON: never ``NaN`` or ``Infinity``)."""

    text = "text"
    json = "json"


FormatOption = Annotated[
    Format, typer.Option("--format", "-f", help="text (for people) or json (for programs).")
]


def say(text: str) -> None:
    """Tell the user what is happening, on stderr: stdout stays the command's data."""
    typer.echo(text, err=True)


def echo_json(data: Any) -> None:
    """Print ``data`` as indented, strict JSON (a non-finite number is an error, not ``Infinity``)."""
    typer.echo(json.dumps(data, indent=2, allow_nan=False))
