"""Which database to use: the configured URL, or the embedded server; migrated and ready."""

from __future__ import annotations

from collections.abc import Callable

from yokeflow.adapters.postgres.embedded import EmbeddedPostgres
from yokeflow.adapters.postgres.migrations import migrate
from yokeflow.adapters.postgres.store import PostgresStore
from yokeflow.settings import DatabaseSettings

__all__ = ["database_url", "open_store"]


async def database_url(
    settings: DatabaseSettings, notify: Callable[[str], None] | None = None
) -> str:
    """``settings.url``, or the embedded server's URL (starting or reusing it) when unset.

    ``notify`` is told, in one line, when the embedded server has to be started (the first
    start creates its data folder: seconds to a minute with nothing else to show).
    """
    if settings.url is not None:
        return settings.url.get_secret_value()
    return await EmbeddedPostgres(settings.data_dir).start(notify)


async def open_store(
    settings: DatabaseSettings, notify: Callable[[str], None] | None = None
) -> PostgresStore:
    """The store of these settings, its schema brought up to date first (``notify``: see
    :func:`database_url`)."""
    url = await database_url(settings, notify)
    await migrate(url)
    return await PostgresStore.connect(
        url, min_size=settings.pool_min_size, max_size=settings.pool_max_size
    )
