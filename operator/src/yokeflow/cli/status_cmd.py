"""``yokeflow status`` and ``yokeflow logs``: where a run's tasks stand, and what a session did."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from yokeflow.cli.output import Format, FormatOption, echo_json
from yokeflow.cli.project_target import DatabaseUrlOption, ProjectOption, Target, open_target
from yokeflow.core.records import Session, SessionStatus
from yokeflow.core.run_view import count_states
from yokeflow.core.transcript_view import Rendered, render_line
from yokeflow.errors import ConfigError, NotFoundError
from yokeflow.services.progress import read_progress

__all__ = ["logs", "status"]


_STATE_STYLE = {
    "merged": "green",
    "done": "cyan",
    "running": "yellow",
    "pending": "dim",
    "conflict": "magenta",
    "failed": "bold red",
    "blocked": "red",
    "cancelled": "dim",
}


async def _status_data(target: Target) -> dict[str, Any]:
    store = target.store
    project = target.project
    progress = await read_progress(store, store, project.id)
    batches = await store.parallel_progress(project.id)
    return {
        "project": project.name,
        "counts": dict(count_states(progress.tasks)),
        "tasks": [line.to_dict() for line in progress.tasks],
        "batches": len(batches),
        "cost_usd": str(progress.cost_usd),
        "cancel_requested": bool(project.metadata.get("cancel_requested")),
    }


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    return f"{seconds:.0f}s" if seconds < 120 else f"{seconds / 60:.1f}m"


def _model(task: dict[str, Any]) -> str:
    """The last attempt's model, else the pinned one; ``(pinned)`` when the plan pins it."""
    shown = (task["model"] or task["pinned_model"] or "").removeprefix("claude-")
    return f"{shown} (pinned)" if task["pinned_model"] else shown


def _print_status(data: dict[str, Any], console: Console) -> None:
    counts = ", ".join(f"{state} {n}" for state, n in data["counts"].items() if n) or "no tasks"
    console.print(Text.assemble(("Project ", "bold"), (data["project"], "bold"), f": {counts}"))
    table = Table(show_edge=False, pad_edge=False, box=None, header_style="bold")
    for column in ("task", "state", "attempts", "model", "cost", "time", "branch"):
        table.add_column(column, no_wrap=True)
    table.add_column("last error", overflow="fold", min_width=20)
    for task in data["tasks"]:
        table.add_row(
            task["key"],
            Text(task["state"], style=_STATE_STYLE.get(task["state"], "")),
            str(task["attempts"]),
            _model(task),
            f"${float(task['cost_usd']):.4f}",
            _duration(task["duration_seconds"]),
            task["branch"] or "",
            Text(task["error"] or "", style="red"),
        )
    console.print(table)
    total = f"${float(data['cost_usd']):.4f}"
    tail = "; cancel requested" if data["cancel_requested"] else ""
    console.print(
        f"Batches {data['batches']}; cost {total} (planning and resolutions included){tail}",
        highlight=False,
    )


def status(
    project: ProjectOption = None,
    database_url: DatabaseUrlOption = None,
    output: FormatOption = Format.text,
) -> None:
    """Where the project of this repository (or --project) stands: each task, counts, cost.

    A line per task: its state (merged, done, running, pending, conflict, failed, blocked,
    cancelled), attempts, model ("(pinned)" when the plan pins it), cost, time, branch and
    last error — why it failed or is blocked. The counts by state agree with the end-of-run report; the cost is the project's
    whole spend, planning and conflict resolutions included.
    """

    async def go() -> dict[str, Any]:
        target = await open_target(project, database_url)
        try:
            return await _status_data(target)
        finally:
            await target.store.close()

    data = asyncio.run(go())
    if output is Format.json:
        echo_json(data)
        return
    console = Console(highlight=False)
    if not console.is_terminal:  # a pipe or a file: keep whole lines rather than 80 columns
        console = Console(highlight=False, width=240)
    _print_status(data, console)


# -- logs ---------------------------------------------------------------------------------------


async def _sessions_of(target: Target, key: str) -> list[Session]:
    tasks = {t.key: t for t in await target.store.list_tasks(target.project.id)}
    task = tasks.get(key)
    if task is None:
        known = ", ".join(sorted(tasks)) or "none"
        raise NotFoundError(f"no task {key!r} in project {target.project.name} (tasks: {known})")
    sessions = await target.store.list_sessions(target.project.id, task_id=task.id)
    return sorted(sessions, key=lambda s: s.id)


def _transcript_of(session: Session) -> Path:
    if not session.log_path:
        raise NotFoundError(f"session {session.id} has no transcript")
    path = Path(session.log_path)
    if not path.is_file():
        raise NotFoundError(f"the transcript {path} of session {session.id} is gone")
    return path


_PLAIN_STYLE = {
    "session": "bold",
    "say": "",
    "tool": "cyan",
    "ok": "dim",
    "error": "red",
    "info": "dim",
    "stderr": "dim",
    "end": "bold green",
}


def _show(console: Console, rendered: Rendered) -> None:
    console.print(Text(rendered.plain(), style=_PLAIN_STYLE.get(rendered.kind, "")), soft_wrap=True)


def logs(
    task: Annotated[str, typer.Argument(help="The task's key.")],
    project: ProjectOption = None,
    database_url: DatabaseUrlOption = None,
    attempt: Annotated[
        int | None,
        typer.Option("--attempt", min=1, help="Which of its sessions (default: the last)."),
    ] = None,
    follow: Annotated[
        bool,
        typer.Option("--follow", help="Keep printing as the session goes on, until it ends."),
    ] = False,
    raw: Annotated[bool, typer.Option("--raw", help="Print the JSON lines as they are.")] = False,
) -> None:
    """Show what a task's agent session did: its transcript, readably.

    Its prompt, what the model said, every tool call and its result, errors, and how the session
    ended; --attempt N for an earlier session, --follow to watch a running one, --raw for the
    JSON lines themselves.
    """

    async def go() -> None:
        target = await open_target(project, database_url)
        try:
            sessions = await _sessions_of(target, task)
            if not sessions:
                raise NotFoundError(f"task {task} has had no session yet")
            if attempt is not None and attempt > len(sessions):
                raise ConfigError(f"task {task} has had {len(sessions)} session(s), not {attempt}")
            session = sessions[(attempt or len(sessions)) - 1]
            await _print_transcript(
                _transcript_of(session),
                session,
                target,
                Console(highlight=False),
                follow=follow,
                raw=raw,
            )
        finally:
            await target.store.close()

    asyncio.run(go())


async def _session_running(target: Target, session: Session) -> bool:
    for found in await target.store.list_sessions(target.project.id, task_id=session.task_id):
        if found.id == session.id:
            return found.status is SessionStatus.RUNNING
    return False


class _Printer:
    """Prints transcript lines as they come (the first line's time is the session's start)."""

    def __init__(self, console: Console, raw: bool) -> None:
        self._console = console
        self._raw = raw
        self._started: float | None = None
        self.ended = False

    def line(self, text: str) -> None:
        if self._raw:
            self._console.print(text, markup=False, soft_wrap=True)
            return
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            if text.strip():
                _show(self._console, Rendered(None, "stderr", f"(not JSON) {text.strip()}"))
            return
        if self._started is None and isinstance(data.get("at"), int | float):
            self._started = float(data["at"])
        self.ended = self.ended or data.get("kind") == "result"
        for rendered in render_line(data, self._started):
            _show(self._console, rendered)


async def _print_transcript(
    path: Path, session: Session, target: Target, console: Console, *, follow: bool, raw: bool
) -> None:
    printer = _Printer(console, raw)
    pending = b""
    last_look = time.monotonic()
    with path.open("rb") as handle:
        while True:
            chunk = handle.read(65536)
            if chunk:
                pending += chunk
                *whole, pending = pending.split(b"\n")
                for line in whole:
                    printer.line(line.decode("utf-8", errors="replace"))
                continue
            if not follow or printer.ended:
                break
            if time.monotonic() - last_look > 2.0:
                last_look = time.monotonic()
                if not await _session_running(target, session):
                    follow = False  # print what is left, then stop
                    continue
            await asyncio.sleep(0.25)
    if pending.strip():
        printer.line(pending.decode("utf-8", errors="replace"))
