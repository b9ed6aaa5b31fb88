"""``yokeflow graph``: resolve a plan file into batches, critical path and pictures."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from yokeflow.cli.output import echo_json
from yokeflow.cli.planfile import read_plan_graph
from yokeflow.core.inference import suggest_dependencies
from yokeflow.core.pictures import select, to_ascii, to_mermaid
from yokeflow.errors import ConfigError

__all__ = ["GraphFormat", "graph"]


class GraphFormat(StrEnum):
    text = "text"
    json = "json"
    mermaid = "mermaid"
    ascii = "ascii"


def graph(
    plan: Annotated[
        Path, typer.Argument(help="A plan file (YAML, or JSON when it ends in .json).")
    ],
    format: Annotated[
        GraphFormat,
        typer.Option(
            "--format", "-f", help="text (ascii: batches as plain text), json, or mermaid."
        ),
    ] = GraphFormat.text,
    epic: Annotated[
        str | None,
        typer.Option("--epic", "-e", help="Picture only this epic's tasks (text or mermaid)."),
    ] = None,
    batch: Annotated[
        int | None,
        typer.Option(
            "--batch", "-b", help="Picture only batch N (1 is the first; text or mermaid)."
        ),
    ] = None,
    suggest: Annotated[
        bool,
        typer.Option(
            "--suggest",
            help="Also list dependencies inferred from the tasks' texts (never applied).",
        ),
    ] = False,
) -> None:
    """Resolve PLAN into parallel batches, task order and critical path.

    Exits 0 for a valid plan; 2 when it has a cycle or an unknown key (each problem is named on
    stderr, and the JSON still lists them under "cycles" and "missing") or cannot be read.
    """
    resolved = read_plan_graph(plan)
    only = None
    if epic is not None or batch is not None:
        if format is GraphFormat.json:
            raise ConfigError("--epic and --batch choose what the pictures show (text or mermaid)")
        only = select(resolved, epic, batch)
    suggestions = suggest_dependencies(resolved) if suggest else []
    if format is GraphFormat.json:
        data = resolved.to_dict()
        if suggest:
            data["suggestions"] = [s.to_dict() for s in suggestions]
        echo_json(data)
    elif format is GraphFormat.mermaid:
        typer.echo(to_mermaid(resolved, only=only), nl=False)
    else:
        typer.echo(to_ascii(resolved, only=only), nl=False)
        if suggest:
            typer.echo("")
            typer.echo(f"Suggested dependencies ({len(suggestions)}):")
            for s in suggestions:
                typer.echo(f"  {s.task} <- {s.depends_on}: {s.reason}")
    for problem in resolved.problems():
        typer.echo(problem, err=True)
    if not resolved.is_valid:
        raise typer.Exit(2)
