"""``yokeflow tasks``: a project's tasks — list, show, diff, transcript, cancel (retry: ``yokeflow retry``)."""

from __future__ import annotations

from typing import Annotated

import typer

from yokeflow.adapters.git.diffs import GitDiffs
from yokeflow.adapters.transcript_files import TranscriptFiles
from yokeflow.cli.output import Format, FormatOption
from yokeflow.cli.project_target import DatabaseUrlOption, ProjectOption, Target
from yokeflow.cli.steering import echo_data, echo_json, find_task, with_target
from yokeflow.services import board, review, task_actions
from yokeflow.web.views import board_task_json

__all__ = ["app"]

app = typer.Typer(help="A project's tasks: state, sessions, diff, transcript; cancel one.",
                  no_args_is_help=True)  # fmt: skip
TaskArgument = Annotated[str, typer.Argument(help="The task's key (or id).")]


@app.command("list")
def list_command(
    project: ProjectOption = None,
    database_url: DatabaseUrlOption = None,
    output: FormatOption = Format.text,
) -> None:
    """Every task: board state (queued, running, merging, merged, conflict…), cost, the model of
    its last attempt, and ``pinned <model>`` when the plan pins its model."""

    async def action(target: Target) -> None:
        found = await board.board(target.store, target.project.id)
        if output is Format.json:
            echo_json([board_task_json(item) for item in found.tasks])
            return
        for item in found.tasks:
            pinned = item.task.pinned_model
            typer.echo(
                f"{item.task.key:<24} {item.state.value:<9} {item.epic_key:<12}"
                f" attempts {item.task.attempts}  ${item.cost_usd}  {item.task.model or ''}"
                + (f"  pinned {pinned}" if pinned else "")
            )

    with_target(project, database_url, action)


@app.command("show")
def show_command(
    task: TaskArgument,
    project: ProjectOption = None,
    database_url: DatabaseUrlOption = None,
    output: FormatOption = Format.text,
) -> None:
    """One task as JSON, with its sessions (what the dashboard's task panel shows)."""

    async def action(target: Target) -> None:
        found = await find_task(target, task)
        item = await board.board_task(target.store, target.project.id, found.id)
        sessions = await target.store.list_sessions(target.project.id, task_id=found.id)
        echo_data(output, {**board_task_json(item), "sessions": sessions})

    with_target(project, database_url, action)


@app.command("diff")
def diff_command(
    task: TaskArgument, project: ProjectOption = None, database_url: DatabaseUrlOption = None
) -> None:
    """The diff of the task's branch against the commit it started from."""

    async def action(target: Target) -> None:
        found = await find_task(target, task)
        diff = await review.task_diff(target.store, GitDiffs(), target.project.id, found.id)
        typer.echo(diff.diff, nl=False)

    with_target(project, database_url, action)


@app.command("transcript")
def transcript_command(
    session: Annotated[int, typer.Argument(help="The session's id (see `tasks show`).")],
    offset: Annotated[int, typer.Option("--offset", min=0)] = 0,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 100,
    project: ProjectOption = None,
    database_url: DatabaseUrlOption = None,
    output: FormatOption = Format.text,
) -> None:
    """A session's transcript, one JSON message a line."""

    async def action(target: Target) -> None:
        page = await review.transcript_page(
            target.store, TranscriptFiles(), target.project.id, session, offset=offset, limit=limit
        )
        echo_data(output, page)

    with_target(project, database_url, action)


@app.command("cancel")
def cancel_command(
    task: TaskArgument, project: ProjectOption = None, database_url: DatabaseUrlOption = None
) -> None:
    """Take a task that is not running out of the run (`yokeflow retry` brings it back)."""

    async def action(target: Target) -> str:
        found = await find_task(target, task)
        done = await task_actions.cancel_task(target.store, target.project.id, found.id)
        return f"{done.key}: {done.status.value}"

    typer.echo(with_target(project, database_url, action))
