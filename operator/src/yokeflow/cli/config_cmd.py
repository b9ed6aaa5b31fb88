"""``yokeflow config``: the effective settings and where each came from."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from yokeflow.cli.output import Format, FormatOption, echo_json
from yokeflow.settings import effective_values, load_settings, setting_sources

__all__ = ["app"]

app = typer.Typer(help="Inspect YokeFlow's settings.", no_args_is_help=True)


@app.command("show")
def show(
    project: Annotated[
        Path, typer.Option("--project", "-p", help="The project folder holding .yokeflow.yaml.")
    ] = Path("."),
    output: FormatOption = Format.text,
) -> None:
    """Print every setting's effective value and its source (flag, env VAR, file, default)."""
    project = project.resolve()
    settings = load_settings(project)
    values = effective_values(settings)
    sources = setting_sources(project)
    if output is Format.json:
        echo_json({k: {"value": v, "source": sources[k]} for k, v in values.items()})
        return
    width = max(len(k) for k in values)
    for key, value in values.items():
        shown = json.dumps(value) if not isinstance(value, str) else value
        typer.echo(f"{key:<{width}}  {shown:<30}  ({sources[key]})")
