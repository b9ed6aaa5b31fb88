"""``yokeflow migrate`` and ``yokeflow db``: the state database and its embedded default server."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

import typer

from yokeflow.adapters.postgres import EmbeddedPostgres, database_url, mask_url, migrate
from yokeflow.cli.output import say
from yokeflow.settings import DatabaseSettings, load_settings

__all__ = ["app", "migrate_command"]

app = typer.Typer(
    help="The embedded PostgreSQL server used when no database URL is set.", no_args_is_help=True
)

UrlOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="A PostgreSQL URL (default: $YOKEFLOW_DATABASE_URL, else the embedded server).",
        show_default=False,
    ),
]
DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="The embedded server's data folder (default: the user's data directory).",
        show_default=False,
    ),
]


def _settings(url: str | None = None, data_dir: Path | None = None) -> DatabaseSettings:
    overrides: dict[str, Any] = {}
    if url is not None:
        overrides["url"] = url
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    return load_settings(overrides={"database": overrides} if overrides else None).database


def migrate_command(database_url_: UrlOption = None, data_dir: DataDirOption = None) -> None:
    """Bring the database schema up to date (safe to run twice, or from two processes at once)."""
    settings = _settings(database_url_, data_dir)

    async def run() -> tuple[str, list[str]]:
        url = await database_url(settings, say)
        applied = await migrate(url)
        return url, [f"{m.version}_{m.name}" for m in applied]

    url, applied = asyncio.run(run())
    if applied:
        typer.echo(f"applied {', '.join(applied)} to {mask_url(url)}")
    else:
        typer.echo(f"{mask_url(url)} is up to date")


@app.command("start")
def start(data_dir: DataDirOption = None) -> None:
    """Start the embedded server (or find it running) and print the YokeFlow database URL."""
    server = EmbeddedPostgres(_settings(data_dir=data_dir).data_dir)
    typer.echo(asyncio.run(server.start(say)))


@app.command("stop")
def stop(data_dir: DataDirOption = None) -> None:
    """Stop the embedded server cleanly."""
    server = EmbeddedPostgres(_settings(data_dir=data_dir).data_dir)
    if server.stop():
        typer.echo(f"stopped the embedded PostgreSQL server in {server.data_dir}")
    else:
        typer.echo(f"no embedded PostgreSQL server is running in {server.data_dir}")


@app.command("status")
def status(data_dir: DataDirOption = None) -> None:
    """Say whether the embedded server runs, with its process id and URL."""
    state = EmbeddedPostgres(_settings(data_dir=data_dir).data_dir).status()
    if state.running:
        typer.echo(f"running (pid {state.pid}) in {state.data_dir}: {state.url}")
    else:
        typer.echo(f"not running ({state.data_dir})")
        raise typer.Exit(3)


@app.command("url")
def url(data_dir: DataDirOption = None) -> None:
    """Print the database URL YokeFlow uses (the configured one, password hidden, or the embedded)."""
    settings = _settings(data_dir=data_dir)
    if settings.url is not None:
        typer.echo(mask_url(settings.url.get_secret_value()))
        return
    state = EmbeddedPostgres(settings.data_dir).status()
    if not state.running or state.url is None:
        typer.echo(
            f"the embedded server is not running ({state.data_dir}); start it with `yokeflow db start`",
            err=True,
        )
        raise typer.Exit(3)
    typer.echo(state.url)
