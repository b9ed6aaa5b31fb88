"""``yokeflow retry TASK…``: give failed tasks new attempts (continue with ``run --resume``)."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from yokeflow.cli.project_target import DatabaseUrlOption, ProjectOption, open_target
from yokeflow.services.retry import retry_tasks

__all__ = ["retry"]


def retry(
    tasks: Annotated[list[str], typer.Argument(help="The keys of the tasks to retry.")],
    project: ProjectOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Give failed, blocked or cancelled tasks a fresh set of attempts.

    Their dependents follow once they merge. A running `yokeflow run` picks them up at its next
    step; otherwise continue with `yokeflow run --resume`.
    """

    async def go() -> list[str]:
        target = await open_target(project, database_url)
        try:
            return await retry_tasks(target.store, target.project.id, tasks)
        finally:
            await target.store.close()

    retried = asyncio.run(go())
    typer.echo(f"retrying {', '.join(retried)}: continue with `yokeflow run --resume`")
