"""The PostgreSQL store: the :class:`~yokeflow.ports.store.Store` port over an asyncpg pool.

Each part of the schema has its own module of queries; this class only composes them and owns
the pool. SQL lives in these modules and nowhere else; rows leave them as core records.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

from yokeflow.adapters.postgres.batches import BatchQueries
from yokeflow.adapters.postgres.connection import create_pool
from yokeflow.adapters.postgres.costs import CostQueries
from yokeflow.adapters.postgres.errors import translate_errors
from yokeflow.adapters.postgres.expertise import ExpertiseQueries
from yokeflow.adapters.postgres.leases import LeaseQueries
from yokeflow.adapters.postgres.projects import ProjectQueries
from yokeflow.adapters.postgres.sessions import SessionQueries
from yokeflow.adapters.postgres.tasks import TaskQueries
from yokeflow.adapters.postgres.worktrees import WorktreeQueries
from yokeflow.ports.budget import BudgetBook
from yokeflow.ports.launcher import LeaseBook, RunOwners
from yokeflow.ports.store import Store

__all__ = ["PostgresStore"]


@translate_errors
class PostgresStore(
    ProjectQueries,
    TaskQueries,
    SessionQueries,
    BatchQueries,
    WorktreeQueries,
    CostQueries,
    ExpertiseQueries,
    LeaseQueries,
):
    """State in PostgreSQL. Open with :meth:`connect` (the schema must be migrated)."""

    def __init__(self, pool: Any) -> None:
        self._pool = pool

    @classmethod
    async def connect(cls, url: str, *, min_size: int = 1, max_size: int = 10) -> PostgresStore:
        """A store on its own pool; a missing or unreachable database is one clear error."""
        return cls(await create_pool(url, min_size=min_size, max_size=max_size))

    @property
    def pool(self) -> Any:
        """The asyncpg pool (for tests and administration; services use the methods)."""
        return self._pool

    async def close(self) -> None:
        for owner in list(self.__dict__.get("_owners", {})):
            await self.release_owner(owner)
        await self._pool.close()

    async def __aenter__(self) -> PostgresStore:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


def _implements_the_port(store: PostgresStore) -> Store:
    return store  # mypy checks here that PostgresStore satisfies the Store protocol


def _keeps_leases(store: PostgresStore) -> tuple[LeaseBook, RunOwners]:
    return store, store


def _keeps_the_budget(store: PostgresStore) -> BudgetBook:
    return store
