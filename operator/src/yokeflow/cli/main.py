"""The ``yokeflow`` command: one typer app; each command (group) lives in its own module.

The modules are imported only when their command runs (:mod:`yokeflow.cli.lazy_group`): add a
command by adding an :class:`Entry` to :data:`COMMANDS`.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from yokeflow import __version__
from yokeflow.cli.lazy_group import Entry, LazyGroup
from yokeflow.cli.usage import usage_problem
from yokeflow.errors import PermanentError, YokeflowError

__all__ = ["COMMANDS", "app", "main"]

_CLI = "yokeflow.cli."
COMMANDS: tuple[Entry, ...] = (
    Entry(
        "graph",
        _CLI + "graph_cmd",
        "graph",
        "Resolve PLAN into parallel batches, task order and critical path.",
    ),
    Entry(
        "migrate",
        _CLI + "db_cmd",
        "migrate_command",
        "Bring the database schema up to date (safe to run twice, or from two processes at once).",
    ),
    Entry(
        "generate",
        _CLI + "generate_cmd",
        "generate",
        "Regenerate the files that are produced from code (schemas, CRDs, the chart, reference pages).",
    ),
    Entry(
        "simulate",
        _CLI + "simulate_cmd",
        "simulate",
        "Simulate running PLAN with its estimates: makespan, lower bound, sequential time, "
        "schedule.",
    ),
    Entry(
        "costs",
        _CLI + "costs_cmd",
        "costs",
        "Spend by model and by task type, success rates, and the forecast of the remaining tasks.",
    ),
    Entry(
        "run",
        _CLI + "run_cmd",
        "run",
        "Plan (or load a plan), then run every task as its own agent in its own worktree.",
    ),
    Entry(
        "plan",
        _CLI + "run_cmd",
        "plan",
        "Create the project from a spec (planning session) or a plan file, and show its graph.",
    ),
    Entry(
        "status",
        _CLI + "status_cmd",
        "status",
        "Where the project of this repository (or --project) stands: each task, counts, cost.",
    ),
    Entry(
        "logs",
        _CLI + "status_cmd",
        "logs",
        "Show what a task's agent session did: its transcript, readably.",
    ),
    Entry(
        "cancel",
        _CLI + "run_cmd",
        "cancel",
        "Ask the running `yokeflow run` of this project to stop (agents stop, work is kept).",
    ),
    Entry(
        "retry",
        _CLI + "retry_cmd",
        "retry",
        "Give failed, blocked or cancelled tasks a fresh set of attempts.",
    ),
    Entry(
        "demo",
        _CLI + "demo_cmd",
        "demo",
        "Plan a small app from its spec and build it with parallel agents — no key, no network.",
    ),
    Entry("config", _CLI + "config_cmd", "app", "Inspect YokeFlow's settings."),
    Entry(
        "db",
        _CLI + "db_cmd",
        "app",
        "The embedded PostgreSQL server used when no database URL is set.",
    ),
    Entry(
        "scripted-model",
        _CLI + "scripted_model_cmd",
        "app",
        "Answer the Claude Code CLI from a scenario file (no key, no network).",
    ),
    Entry("runner", _CLI + "runner_cmd", "app", "What runs inside a task, merge or planning Job."),
    Entry(
        "operator",
        _CLI + "operator_cmd",
        "operator",
        "Run the Kubernetes operator: reconcile ProjectRuns until stopped (SIGTERM or Ctrl-C).",
    ),
    Entry(
        "mcp", _CLI + "mcp_cmd", "app", "The MCP task manager: the agents' interface to the plan."
    ),
    Entry(
        "expertise",
        _CLI + "expertise_cmd",
        "app",
        "Lessons the agents learned, per domain (database, api, frontend, …).",
    ),
    Entry(
        "api",
        _CLI + "api_cmd",
        "api",
        "Serve the REST + WebSocket API and the dashboard until Ctrl-C.",
    ),
    Entry(
        "projects",
        _CLI + "projects_cmd",
        "app",
        "The projects in the database: list them, delete one.",
    ),
    Entry(
        "batches",
        _CLI + "projects_cmd",
        "batches",
        "The run's batches (tasks launched together) with their tasks counted by status.",
    ),
    Entry(
        "tasks",
        _CLI + "tasks_cmd",
        "app",
        "A project's tasks: state, sessions, diff, transcript; cancel one.",
    ),
    Entry(
        "dependencies",
        _CLI + "dependencies_cmd",
        "app",
        "A project's stored dependency graph: batches, critical path, edits.",
    ),
    Entry(
        "worktrees",
        _CLI + "worktrees_cmd",
        "app",
        "Task worktrees, per epic: merge, conflicts, resolution, removal.",
    ),
)
"""Every sub-command in listing order, with the first paragraph of its help."""


class _Commands(LazyGroup):
    entries = COMMANDS


app = typer.Typer(
    name="yokeflow",
    cls=_Commands,
    help="Run many autonomous coding agents in parallel on one git repository.",
    no_args_is_help=True,
    epilog="Example: yokeflow graph examples/plans/bookstore.yaml --format mermaid",
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help (see lazy_group.plain_help): rich costs more than the rest
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"yokeflow {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, metavar="", help="Print the version."
        ),
    ] = False,
) -> None:
    """Run many autonomous coding agents in parallel on one git repository."""


def main() -> None:
    """Console entry point: a :class:`YokeflowError` becomes one line on stderr, never a traceback."""
    try:
        code = app(standalone_mode=False)  # click returns a typer.Exit's code in this mode
        sys.exit(code if isinstance(code, int) else 0)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        typer.echo("aborted", err=True)
        sys.exit(130)
    except YokeflowError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2 if isinstance(exc, PermanentError) else 1)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except typer.TyperException as exc:  # a bad option or value, a missing argument: one line
        typer.echo(f"error: {usage_problem(exc)}", err=True)
        sys.exit(int(getattr(exc, "exit_code", 2)))
