"""``yokeflow worktrees``: a project's worktrees, per epic — list, merge, conflicts, resolve, remove."""

from __future__ import annotations

from typing import Annotated

import typer

from yokeflow.cli.output import Format, FormatOption
from yokeflow.cli.project_target import DatabaseUrlOption, ProjectOption, Target
from yokeflow.cli.steering import echo_data, with_target
from yokeflow.core.merging import Resolution
from yokeflow.core.records import Project
from yokeflow.errors import NotFoundError
from yokeflow.local.run_host import project_workspace
from yokeflow.ports.workspace import Workspace
from yokeflow.services import epic_worktrees

__all__ = ["app"]

app = typer.Typer(help="Task worktrees, per epic: merge, conflicts, resolution, removal.",
                  no_args_is_help=True)  # fmt: skip
EpicArgument = Annotated[str, typer.Argument(help="The epic's key (or id).")]


async def _epic_id(target: Target, ref: str) -> int:
    for epic in await target.store.list_epics(target.project.id):
        if epic.key == ref or str(epic.id) == ref:
            return epic.id
    raise NotFoundError(f"no epic {ref!r} in project {target.project.name!r}")


def _opener(target: Target) -> epic_worktrees.WorkspaceOpener:
    async def open_workspace(project: Project) -> Workspace:
        return await project_workspace(target.store, project, target.settings)

    return open_workspace


@app.command("list")
def list_command(
    epic: Annotated[str | None, typer.Option("--epic", help="Only this epic's.")] = None,
    project: ProjectOption = None,
    database_url: DatabaseUrlOption = None,
    output: FormatOption = Format.text,
) -> None:
    """Worktree records: task, branch, status, base and merge commits."""

    async def action(target: Target) -> None:
        if epic is None:
            echo_data(output, await target.store.list_worktrees(target.project.id))
        else:
            echo_data(
                output,
                await epic_worktrees.epic_worktrees(
                    target.store, target.project.id, await _epic_id(target, epic)
                ),
            )

    with_target(project, database_url, action)


@app.command("merge")
def merge_command(
    epic: EpicArgument,
    project: ProjectOption = None,
    database_url: DatabaseUrlOption = None,
    output: FormatOption = Format.text,
) -> None:
    """Merge the epic's unmerged task worktrees (a conflict is recorded, never forced)."""

    async def action(target: Target) -> None:
        echo_data(
            output,
            await epic_worktrees.merge_epic(
                target.store, None, _opener(target), target.project.id, await _epic_id(target, epic)
            ),
        )

    with_target(project, database_url, action)


@app.command("conflicts")
def conflicts_command(
    epic: EpicArgument,
    project: ProjectOption = None,
    database_url: DatabaseUrlOption = None,
    output: FormatOption = Format.text,
) -> None:
    """The recorded conflicts of the epic's worktrees, file by file."""

    async def action(target: Target) -> None:
        echo_data(
            output,
            await epic_worktrees.epic_conflicts(
                target.store, target.project.id, await _epic_id(target, epic)
            ),
        )

    with_target(project, database_url, action)


@app.command("resolve")
def resolve_command(
    epic: EpicArgument,
    strategy: Annotated[
        Resolution, typer.Option("--strategy", help="ours, theirs, agent or manual.")
    ],
    project: ProjectOption = None,
    database_url: DatabaseUrlOption = None,
    output: FormatOption = Format.text,
) -> None:
    """Resolve the epic's conflicts with a strategy, and merge."""

    async def action(target: Target) -> None:
        echo_data(output,
            await epic_worktrees.resolve_epic(
                target.store, None, _opener(target), target.project.id,
                await _epic_id(target, epic), strategy,
            )
        )  # fmt: skip

    with_target(project, database_url, action)


@app.command("remove")
def remove_command(
    epic: EpicArgument, project: ProjectOption = None, database_url: DatabaseUrlOption = None
) -> None:
    """Remove the epic's working trees (uncommitted work is committed, unmerged branches kept)."""

    async def action(target: Target) -> int:
        return await epic_worktrees.remove_epic_worktrees(
            target.store, None, _opener(target), target.project.id, await _epic_id(target, epic)
        )

    typer.echo(f"removed {with_target(project, database_url, action)} worktrees")
