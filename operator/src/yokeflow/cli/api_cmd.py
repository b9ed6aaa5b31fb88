"""``yokeflow api``: the REST + WebSocket API and the dashboard, on this machine."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Annotated

import typer

from yokeflow.adapters.postgres import PostgresStore, database_url, migrate
from yokeflow.cli.output import say
from yokeflow.errors import ConfigError
from yokeflow.settings import load_settings

__all__ = ["HostOption", "PortOption", "TokenFileOption", "api", "read_token", "wait_for_signal"]

HostOption = Annotated[str, typer.Option("--host", help="The address to listen on.")]
PortOption = Annotated[
    int, typer.Option("--port", min=0, max=65535, help="The port (0: any free port).")
]
TokenFileOption = Annotated[
    Path | None,
    typer.Option(
        "--token-file",
        help="A file holding the API token (default: a new random token, printed in the URL).",
    ),
]


def read_token(path: Path | None) -> str:
    """The token in ``path`` (stripped), or a new random one."""
    from yokeflow.web.auth import new_token

    if path is None:
        return new_token()
    try:
        token = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the token file: {exc.strerror}") from None
    if len(token) < 16:
        raise ConfigError(f"{path}: the token must have at least 16 characters")
    return token


async def wait_for_signal() -> None:
    """Return on SIGINT or SIGTERM."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


def api(
    host: HostOption = "127.0.0.1",
    port: PortOption = 8787,
    token_file: TokenFileOption = None,
    database_url_option: Annotated[
        str | None,
        typer.Option("--database-url", help="PostgreSQL URL (default: settings, else embedded)."),
    ] = None,
    model_endpoint: Annotated[
        str | None,
        typer.Option("--model-endpoint", help="The model endpoint of runs started from the API."),
    ] = None,
) -> None:
    """Serve the REST + WebSocket API and the dashboard until Ctrl-C.

    Prints the dashboard's URL with its token. Every route but /healthz and /readyz needs the
    token (`Authorization: Bearer <token>`); the OpenAPI document is at /api/openapi.json.
    """
    overrides = {"database": {"url": database_url_option}} if database_url_option else None
    settings = load_settings(Path.cwd(), overrides=overrides)
    token = read_token(token_file)

    async def go() -> None:
        from yokeflow.cli.api_server import serve_api

        url = await database_url(settings.database, say)
        await migrate(url)
        store = await PostgresStore.connect(
            url,
            min_size=settings.database.pool_min_size,
            max_size=settings.database.pool_max_size,
        )
        try:
            async with serve_api(
                store, url, settings, host=host, port=port, token=token,
                model_endpoint=model_endpoint or settings.agent.model_endpoint,
            ) as served:  # fmt: skip
                typer.echo(f"YokeFlow API at {served.url} — dashboard: {served.dashboard_url}")
                await wait_for_signal()
        finally:
            await store.close()

    asyncio.run(go())
