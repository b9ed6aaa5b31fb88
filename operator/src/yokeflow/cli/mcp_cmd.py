"""``yokeflow mcp``: serve the task tools to agents (stdio or streamable HTTP), issue tokens."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from yokeflow.cli.usage import usage_problem
from yokeflow.errors import ConfigError, PermanentError, YokeflowError
from yokeflow.settings import DatabaseSettings, load_settings

__all__ = ["SECRET_ENV", "app", "main"]

SECRET_ENV = "YOKEFLOW_MCP_TOKEN_SECRET"
"""The secret HTTP tokens are signed with (at least 16 bytes), unless --token-secret-file."""


app = typer.Typer(
    help="The MCP task manager: the agents' interface to the plan.",
    no_args_is_help=True,
)

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="PostgreSQL URL (default: database.url from the settings, e.g. "
        "YOKEFLOW_DATABASE_URL, else the embedded server).",
    ),
]
SecretFile = Annotated[
    Path | None,
    typer.Option(
        "--token-secret-file",
        help=f"A file holding the token signing secret (default: ${SECRET_ENV}).",
    ),
]


def _database_settings() -> DatabaseSettings:
    return load_settings().database


def _secret(path: Path | None) -> bytes:
    if path is not None:
        try:
            secret = path.read_bytes().strip()
        except OSError as exc:
            raise ConfigError(f"cannot read the token secret file {path}: {exc.strerror}") from exc
    else:
        secret = os.environ.get(SECRET_ENV, "").encode("utf-8")
    if len(secret) < 16:
        raise ConfigError(
            f"a token signing secret of at least 16 bytes is needed: set {SECRET_ENV} "
            "or pass --token-secret-file"
        )
    return secret


@app.command("serve")
def serve_command(
    stdio: Annotated[
        bool, typer.Option("--stdio", help="Serve one agent on stdin/stdout (local sessions).")
    ] = False,
    http: Annotated[
        bool, typer.Option("--http", help="Serve streamable HTTP at /mcp (bearer tokens).")
    ] = False,
    database_url: DatabaseUrl = None,
    project: Annotated[
        str | None, typer.Option("--project", help="stdio: the project (name or id).")
    ] = None,
    task: Annotated[
        str | None,
        typer.Option("--task", help="stdio: restrict changes to this task (key or id)."),
    ] = None,
    port: Annotated[int, typer.Option("--port", help="HTTP: the port to listen on.")] = 8766,
    host: Annotated[
        str, typer.Option("--host", help="HTTP: the address to listen on (0.0.0.0 in a pod).")
    ] = "127.0.0.1",
    token_secret_file: SecretFile = None,
) -> None:
    """Serve the task tools until the client (stdio) or the process (HTTP) stops.

    stdio serves one project, optionally one task, fixed by --project/--task. HTTP serves every
    project: each request's 'Authorization: Bearer <token>' (see `yokeflow mcp token`) decides
    which project and task it may see and change.
    """
    if stdio == http:
        raise ConfigError("choose exactly one transport: --stdio or --http")
    # Imported here: the server stack (mcp, uvicorn, asyncpg) is not needed by other commands.
    from yokeflow_mcp import serve as serving

    settings = _database_settings()
    if stdio:
        if project is None:
            raise ConfigError("--stdio needs --project")
        asyncio.run(serving.serve_stdio(settings, database_url, project, task))
        return
    if project is not None or task is not None:
        raise ConfigError("--http serves every project; tokens carry the scope (no --project)")
    secret = _secret(token_secret_file)
    asyncio.run(serving.serve_http(settings, database_url, host=host, port=port, secret=secret))


@app.command("token")
def token_command(
    project: Annotated[str, typer.Option("--project", help="The project (name or id).")],
    task: Annotated[
        str | None, typer.Option("--task", help="Restrict the token to this task (key or id).")
    ] = None,
    ttl: Annotated[
        float | None,
        typer.Option("--ttl", help="Seconds until the token expires (default: never)."),
    ] = None,
    database_url: DatabaseUrl = None,
    token_secret_file: SecretFile = None,
) -> None:
    """Print a bearer token for the HTTP transport, scoped to a project (and task)."""
    if ttl is not None and not 0 < ttl < float("inf"):
        raise ConfigError(f"--ttl {ttl:g}: expected a positive number of seconds")
    from yokeflow_mcp import serve as serving

    secret = _secret(token_secret_file)
    settings = _database_settings()
    token = asyncio.run(
        serving.issue_token(settings, database_url, project, task, secret=secret, ttl_seconds=ttl)
    )
    typer.echo(token)


def main() -> None:
    """``python -m yokeflow_mcp ...``: only the ``mcp`` commands, which start faster than
    ``yokeflow mcp ...`` (no other command is imported). Errors are one line, as in ``yokeflow``."""
    try:
        code = app(standalone_mode=False)
        sys.exit(code if isinstance(code, int) else 0)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.TyperException as exc:
        typer.echo(f"error: {usage_problem(exc)}", err=True)
        sys.exit(int(getattr(exc, "exit_code", 2)))
    except YokeflowError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2 if isinstance(exc, PermanentError) else 1)
    except KeyboardInterrupt:
        sys.exit(130)
