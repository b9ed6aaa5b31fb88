"""Connecting to PostgreSQL: the asyncpg pool, and one clear sentence when the server is not there.

Every connection gets a JSON codec for ``json``/``jsonb`` so rows carry Python values.

A connection goes back to the pool as it was left, without asyncpg's reset query (``SELECT
pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL``): that was one more round trip
after every call, as many as the call itself (a claim, a status change). Nothing here leaves
session state on a pooled connection: no session settings, advisory locks on pooled
connections are transaction locks, and a connection that holds a session lock (a run owner)
is kept out of the pool, or closed when letting the lock go failed. asyncpg still rolls back a
transaction left open.
"""

from __future__ import annotations

import asyncio
import json
import socket
from typing import Any

import asyncpg

from yokeflow.adapters.postgres.urls import mask_url
from yokeflow.errors import DatabaseUnavailableError

__all__ = ["connect", "create_pool", "unavailable"]

CONNECT_TIMEOUT = 10.0


async def _init_connection(conn: Any) -> None:
    for name in ("json", "jsonb"):
        await conn.set_type_codec(name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def _keep_session(conn: Any) -> None:
    """Nothing to reset (see the module docstring); asyncpg rolls back an open transaction."""


def unavailable(url: str, exc: BaseException) -> DatabaseUnavailableError:
    """The error for a server that cannot be reached or a database that does not exist."""
    shown = mask_url(url)
    if isinstance(exc, asyncpg.InvalidCatalogNameError):
        reason = "the database does not exist (run `yokeflow migrate` after creating it)"
    elif isinstance(
        exc, asyncpg.InvalidAuthorizationSpecificationError | asyncpg.InvalidPasswordError
    ):
        reason = "the server refused the user or password"
    elif isinstance(exc, TimeoutError | asyncio.TimeoutError):
        reason = f"no answer within {CONNECT_TIMEOUT:g} seconds"
    elif isinstance(exc, ConnectionRefusedError):
        reason = "the connection was refused (is the server running and listening there?)"
    elif isinstance(exc, socket.gaierror):
        reason = "the host name cannot be resolved"
    elif isinstance(exc, FileNotFoundError):
        reason = "no server is listening on that socket"
    elif isinstance(exc, OSError):
        reason = exc.strerror or str(exc) or type(exc).__name__
    else:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return DatabaseUnavailableError(f"cannot use the PostgreSQL database at {shown}: {reason}")


_CONNECT_ERRORS = (
    OSError,
    TimeoutError,
    asyncio.TimeoutError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    ValueError,  # a malformed URL
)


async def connect(url: str) -> Any:
    """One connection (for migrations and administration); the caller closes it."""
    try:
        conn = await asyncpg.connect(url, timeout=CONNECT_TIMEOUT)
    except _CONNECT_ERRORS as exc:
        raise unavailable(url, exc) from exc
    await _init_connection(conn)
    return conn


async def create_pool(url: str, *, min_size: int = 1, max_size: int = 10) -> Any:
    """An asyncpg pool on ``url``, connected now so a bad URL fails here with a clear message."""
    try:
        return await asyncpg.create_pool(
            url,
            min_size=min_size,
            max_size=max_size,
            timeout=CONNECT_TIMEOUT,
            init=_init_connection,
            reset=_keep_session,
        )
    except _CONNECT_ERRORS as exc:
        raise unavailable(url, exc) from exc
