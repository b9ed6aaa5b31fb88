"""``yokeflow dependencies``: a stored project's dependency graph — show, validate, change."""

from __future__ import annotations

from typing import Annotated

import typer

from yokeflow.cli.output import Format, FormatOption
from yokeflow.cli.project_target import DatabaseUrlOption, ProjectOption, Target
from yokeflow.cli.steering import echo_data, find_task, with_target
from yokeflow.core.records import DependencyType
from yokeflow.services import dependencies

__all__ = ["app"]

app = typer.Typer(help="A project's stored dependency graph: batches, critical path, edits.",
                  no_args_is_help=True)  # fmt: skip


@app.command("show")
def show_command(
    project: ProjectOption = None,
    database_url: DatabaseUrlOption = None,
    output: FormatOption = Format.text,
) -> None:
    """Every task's dependencies, the batches, the task order and the critical path."""

    async def action(target: Target) -> None:
        echo_data(output, await dependencies.dependency_view(target.store, target.project.id))

    with_target(project, database_url, action)


@app.command("validate")
def validate_command(
    project: ProjectOption = None,
    database_url: DatabaseUrlOption = None,
    output: FormatOption = Format.text,
) -> None:
    """Cycles, unknown ids and blocked tasks; exits 2 when the graph is not valid."""

    async def action(target: Target) -> bool:
        result = await dependencies.validation(target.store, target.project.id)
        echo_data(output, result)
        return bool(result["valid"])

    if not with_target(project, database_url, action):
        raise typer.Exit(2)


@app.command("set")
def set_command(
    task: Annotated[str, typer.Argument(help="The task's key (or id).")],
    on: Annotated[
        list[str] | None, typer.Option("--on", help="A task it depends on (repeat).")
    ] = None,
    dependency_type: Annotated[str, typer.Option("--type", help="hard or soft.")] = "hard",
    project: ProjectOption = None,
    database_url: DatabaseUrlOption = None,
    output: FormatOption = Format.text,
) -> None:
    """Replace a task's dependencies; a cycle or an unknown task is refused."""
    kind: DependencyType = "soft" if dependency_type == "soft" else "hard"

    async def action(target: Target) -> None:
        found = await find_task(target, task)
        refs: list[int | str] = list(on or [])
        updated = await dependencies.set_dependencies(
            target.store, target.project.id, found.id, refs, dependency_type=kind
        )
        echo_data(output, updated)

    with_target(project, database_url, action)
