"""``yokeflow projects``, ``yokeflow delete`` and ``yokeflow batches``: projects and their batches."""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer

from yokeflow.adapters.postgres import open_store
from yokeflow.cli.project_target import DatabaseUrlOption, ProjectOption, Target
from yokeflow.cli.steering import echo_json, with_target
from yokeflow.services import runs
from yokeflow.settings import load_settings

__all__ = ["batches", "delete", "projects"]


def projects(database_url: DatabaseUrlOption = None) -> None:
    """Every project in the database with its tasks by status and its cost."""
    overrides = {"database": {"url": database_url}} if database_url else None
    settings = load_settings(Path.cwd(), overrides=overrides)

    async def go() -> list[str]:
        store = await open_store(settings.database)
        try:
            lines = []
            for project in await store.list_projects():
                state = await runs.project_status(store, project.id, None)
                tasks = ", ".join(f"{k} {v}" for k, v in state.tasks.items() if v) or "no tasks"
                lines.append(f"{project.id:>5}  {project.name:<24} {tasks}; ${state.cost_usd}")
            return lines or ["no projects"]
        finally:
            await store.close()

    for line in asyncio.run(go()):
        typer.echo(line)


def delete(
    project: ProjectOption = None,
    database_url: DatabaseUrlOption = None,
    yes: bool = typer.Option(False, "--yes", help="Do not ask."),
) -> None:
    """Delete the project's records from the database (its repository and branches stay)."""

    async def action(target: Target) -> str:
        if not yes and not typer.confirm(f"Delete project {target.project.name!r}?"):
            raise typer.Abort()
        await runs.delete_project(target.store, None, target.project.id)
        return target.project.name

    typer.echo(f"deleted project {with_target(project, database_url, action)}")


def batches(project: ProjectOption = None, database_url: DatabaseUrlOption = None) -> None:
    """The run's batches (tasks launched together) with their tasks counted by status (JSON)."""

    async def action(target: Target) -> None:
        progress = {
            p.batch_number: p for p in await target.store.parallel_progress(target.project.id)
        }
        echo_json(
            [
                {"batch": b, "progress": progress.get(b.batch_number)}
                for b in await target.store.list_parallel_batches(target.project.id)
            ]
        )

    with_target(project, database_url, action)
