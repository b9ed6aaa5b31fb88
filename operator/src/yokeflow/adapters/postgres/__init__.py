"""The PostgreSQL adapter: the store, migrations, and the embedded default server."""

from yokeflow.adapters.postgres.database import database_url, open_store
from yokeflow.adapters.postgres.embedded import EmbeddedPostgres, EmbeddedStatus, default_data_dir
from yokeflow.adapters.postgres.migrations import Migration, load_migrations, migrate
from yokeflow.adapters.postgres.store import PostgresStore
from yokeflow.adapters.postgres.urls import mask_url

__all__ = [
    "EmbeddedPostgres",
    "EmbeddedStatus",
    "Migration",
    "PostgresStore",
    "database_url",
    "default_data_dir",
    "load_migrations",
    "mask_url",
    "migrate",
    "open_store",
]
