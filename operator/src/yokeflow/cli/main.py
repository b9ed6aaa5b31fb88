"""The ``yokeflow`` command: one typer app; each command group lives in its own module."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from yokeflow import __version__
from yokeflow.cli import (
    config_cmd,
    costs_cmd,
    db_cmd,
    demo_cmd,
    expertise_cmd,
    generate_cmd,
    graph_cmd,
    mcp_cmd,
    operator_cmd,
    run_cmd,
    runner_cmd,
    scripted_model_cmd,
    simulate_cmd,
)
from yokeflow.errors import PermanentError, YokeflowError

__all__ = ["app", "main"]

app = typer.Typer(
    name="yokeflow",
    help="Run many autonomous coding agents in parallel on one git repository.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"yokeflow {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Run many autonomous coding agents in parallel on one git repository."""


app.command("graph")(graph_cmd.graph)
app.add_typer(config_cmd.app, name="config")
app.command("migrate")(db_cmd.migrate_command)
app.add_typer(db_cmd.app, name="db")
app.add_typer(scripted_model_cmd.app, name="scripted-model")
app.add_typer(runner_cmd.app, name="runner")
app.add_typer(mcp_cmd.app, name="mcp")
app.command("generate")(generate_cmd.generate)
app.command("simulate")(simulate_cmd.simulate)
app.command("costs")(costs_cmd.costs)
app.add_typer(expertise_cmd.app, name="expertise")
app.command("run")(run_cmd.run)
app.command("plan")(run_cmd.plan)
app.command("status")(run_cmd.status)
app.command("cancel")(run_cmd.cancel)
app.command("demo")(demo_cmd.demo)
app.command("operator")(operator_cmd.operator)


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
    except typer.TyperException as exc:  # usage errors: bad option, missing argument
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            typer.echo(f"error: {exc}", err=True)
        sys.exit(int(getattr(exc, "exit_code", 2)))
