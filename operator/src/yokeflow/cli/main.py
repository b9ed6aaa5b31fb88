"""The ``yokeflow`` command: one typer app; each command group lives in its own module."""

from __future__ import annotations

import sys

import typer

from yokeflow import __version__
from yokeflow.cli import config_cmd, graph_cmd
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
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """Run many autonomous coding agents in parallel on one git repository."""


app.command("graph")(graph_cmd.graph)
app.add_typer(config_cmd.app, name="config")


def main() -> None:
    """Console entry point: a :class:`YokeflowError` becomes one line on stderr, never a traceback."""
    try:
        app(standalone_mode=False)
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
    except Exception as exc:  # click's usage errors and the like
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise
