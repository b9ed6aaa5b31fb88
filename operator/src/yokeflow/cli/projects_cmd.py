"""``yokeflow projects list|delete`` and ``yokeflow batches``: projects and their batches."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from yokeflow.adapters.postgres import open_store
from yokeflow.cli.output import Format, FormatOption, say
from yokeflow.cli.project_target import DatabaseUrlOption, ProjectOption, Target
from yokeflow.cli.steering import echo_data, with_target
from yokeflow.core.records import TaskStatus
from yokeflow.errors import InvalidTransitionError
from yokeflow.services import runs
from yokeflow.settings import load_settings

__all__ = ["app", "batches"]


app = typer.Typer(help="The projects in the database: list them, delete one.", no_args_is_help=True)


@app.command("list")
def list_command(
    database_url: DatabaseUrlOption = None, output: FormatOption = Format.text
) -> None:
    """Every project in the database with its tasks by status and its cost."""
    overrides = {"database": {"url": database_url}} if database_url else None
    settings = load_settings(Path.cwd(), overrides=overrides)

    async def go() -> list[dict[str, Any]]:
        store = await open_store(settings.database, say)
        try:
            rows = []
            for project in await store.list_projects():
                state = await runs.project_status(store, project.id, None)
                tasks = {str(k): v for k, v in state.tasks.items() if v}
                rows.append(
                    {
                        "id": project.id,
                        "name": project.name,
                        "tasks": tasks,
                        "cost_usd": str(state.cost_usd),
                    }
                )
            return rows
        finally:
            await store.close()

    rows = asyncio.run(go())
    if output is Format.json:
        typer.echo(json.dumps({"projects": rows}, indent=2))
        return
    for row in rows:
        tasks = ", ".join(f"{k} {v}" for k, v in row["tasks"].items()) or "no tasks"
        typer.echo(f"{row['id']:>5}  {row['name']:<24} {tasks}; ${row['cost_usd']}")
    if not rows:
        typer.echo("no projects")


@app.command("delete")
def delete_command(
    project: ProjectOption = None,
    database_url: DatabaseUrlOption = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Delete even with tasks marked running (a run that died and left them so).",
        ),
    ] = False,
) -> None:
    """Delete the project's records from the database (its repository and branches stay).

    Refused while the project has running tasks, unless --force. Says what it removed.
    """

    async def action(target: Target) -> str:
        counts = await target.store.task_counts(target.project.id)
        running = counts.get(TaskStatus.RUNNING, 0)
        if running and not force:
            raise InvalidTransitionError(
                f"project {target.project.name!r} has {running} running tasks: cancel its run"
                " (yokeflow cancel) or pass --force if that run is gone"
            )
        if not yes and not typer.confirm(f"Delete project {target.project.name!r}?"):
            raise typer.Abort()
        epics = await target.store.list_epics(target.project.id)
        await target.store.delete_project(target.project.id)
        total = sum(counts.values())
        return (
            f"deleted project {target.project.name!r} (#{target.project.id}): {len(epics)} epics,"
            f" {total} tasks and their sessions, costs and expertise; its repository and"
            " branches stay"
        )

    typer.echo(with_target(project, database_url, action))


def batches(
    project: ProjectOption = None,
    database_url: DatabaseUrlOption = None,
    output: FormatOption = Format.text,
) -> None:
    """The run's batches (tasks launched together) with their tasks counted by status."""

    async def action(target: Target) -> None:
        progress = {
            p.batch_number: p for p in await target.store.parallel_progress(target.project.id)
        }
        echo_data(
            output,
            [
                {"batch": b, "progress": progress.get(b.batch_number)}
                for b in await target.store.list_parallel_batches(target.project.id)
            ],
        )

    with_target(project, database_url, action)
