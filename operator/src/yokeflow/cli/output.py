"""How commands that print data print it: ``--format text|json``, the same on every command."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated, Any

import typer

__all__ = ["Format", "FormatOption", "echo_json"]


class Format(StrEnum):
    """``text`` for people, ``json`` for programs (strict JSON: never ``NaN`` or ``Infinity``)."""

    text = "text"
    json = "json"


FormatOption = Annotated[
    Format, typer.Option("--format", "-f", help="text (for people) or json (for programs).")
]


def echo_json(data: Any) -> None:
    """Print ``data`` as indented, strict JSON (a non-finite number is an error, not ``Infinity``)."""
    typer.echo(json.dumps(data, indent=2, allow_nan=False))
