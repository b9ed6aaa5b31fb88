"""Queries of ``session_leases`` and ``budget_reservations``: what a durable run holds.

The :class:`~yokeflow.ports.launcher.LeaseBook` and the reservation half of the
:class:`~yokeflow.ports.budget.BudgetBook` (spend itself is ``agent_costs``, see ``costs.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from yokeflow.errors import AlreadyExistsError
from yokeflow.ports.launcher import Lease, LeaseKind

__all__ = ["LeaseQueries"]


def _lease(row: Mapping[str, Any]) -> Lease:
    return Lease(
        project_id=row["project_id"],
        task_id=row["task_id"],
        task_key=row["task_key"],
        attempt=row["attempt"],
        owner=row["owner"],
        handle=row["handle"],
        started_at=row["started_at"].timestamp(),
        host=row["host"],
        process_group=row["process_group"],
        kind="resolution" if row["kind"] == "resolution" else "task",
        model=row["model"],
    )


_OWNER_KEY = "hashtext('yokeflow-run-owner:' || $1)"


class LeaseQueries:
    _pool: Any
    _owners: dict[str, Any]
    """Owner → the connection that holds its advisory lock (never returned to the pool while
    held: the lock lives as long as that connection, so it dies with this process)."""

    async def hold_owner(self, owner: str) -> None:
        owners = self.__dict__.setdefault("_owners", {})
        if owner in owners:
            return
        conn = await self._pool.acquire()
        try:
            took = await conn.fetchval(f"SELECT pg_try_advisory_lock({_OWNER_KEY})", owner)
        except BaseException:
            conn.terminate()  # it may hold the lock: it must not go back to the pool
            await self._pool.release(conn)
            raise
        if not took:
            await self._pool.release(conn)
            raise AlreadyExistsError(f"another process already runs as {owner}")
        owners[owner] = conn

    async def release_owner(self, owner: str) -> None:
        conn = self.__dict__.get("_owners", {}).pop(owner, None)
        if conn is None:
            return
        try:
            await conn.execute(f"SELECT pg_advisory_unlock({_OWNER_KEY})", owner)
        except BaseException:
            conn.terminate()  # still holding the lock: it must not go back to the pool
            raise
        finally:
            await self._pool.release(conn)

    async def owner_alive(self, owner: str) -> bool:
        if owner in self.__dict__.get("_owners", {}):
            return True
        # A transaction lock: released at commit even if this call is cancelled half-way, so
        # the pooled connection never keeps it (the pool does not reset connections).
        async with self._pool.acquire() as conn, conn.transaction():
            took = await conn.fetchval(f"SELECT pg_try_advisory_xact_lock({_OWNER_KEY})", owner)
        return not took

    async def save_lease(self, lease: Lease) -> None:
        await self._pool.execute(
            """
            INSERT INTO session_leases (project_id, task_id, kind, task_key, attempt, owner,
                                        handle, host, process_group, started_at, model)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
            ON CONFLICT (project_id, task_id, kind) DO UPDATE
            SET task_key = EXCLUDED.task_key, attempt = EXCLUDED.attempt, owner = EXCLUDED.owner,
                handle = EXCLUDED.handle, host = EXCLUDED.host,
                process_group = EXCLUDED.process_group, started_at = EXCLUDED.started_at,
                model = EXCLUDED.model
            """,
            lease.project_id,
            lease.task_id,
            lease.kind,
            lease.task_key,
            lease.attempt,
            lease.owner,
            lease.handle,
            lease.host,
            lease.process_group,
            datetime.fromtimestamp(lease.started_at, UTC),
            lease.model,
        )

    async def list_leases(self, project_id: int) -> list[Lease]:
        found = await self._pool.fetch(
            "SELECT * FROM session_leases WHERE project_id = $1 ORDER BY started_at, task_id",
            project_id,
        )
        return [_lease(r) for r in found]

    async def drop_lease(self, project_id: int, task_id: int, kind: LeaseKind = "task") -> None:
        await self._pool.execute(
            "DELETE FROM session_leases WHERE project_id = $1 AND task_id = $2 AND kind = $3",
            project_id,
            task_id,
            kind,
        )

    async def list_reservations(self, project_id: int) -> Mapping[str, Decimal]:
        found = await self._pool.fetch(
            "SELECT key, amount_usd FROM budget_reservations WHERE project_id = $1", project_id
        )
        return {r["key"]: Decimal(r["amount_usd"]) for r in found}

    async def save_reservation(
        self, project_id: int, key: str, amount: Decimal, *, owner: str
    ) -> None:
        await self._pool.execute(
            """
            INSERT INTO budget_reservations (project_id, key, amount_usd, owner)
            VALUES ($1, $2, $3, $4)
            ON CONFLICT (project_id, key) DO UPDATE
            SET amount_usd = EXCLUDED.amount_usd, owner = EXCLUDED.owner, created_at = now()
            """,
            project_id,
            key,
            amount,
            owner,
        )

    async def drop_reservation(self, project_id: int, key: str) -> None:
        await self._pool.execute(
            "DELETE FROM budget_reservations WHERE project_id = $1 AND key = $2", project_id, key
        )

    async def drop_reservations_not_owned_by(self, project_id: int, owner: str) -> int:
        status = await self._pool.execute(
            "DELETE FROM budget_reservations WHERE project_id = $1 AND owner <> $2",
            project_id,
            owner,
        )
        return int(str(status).rsplit(" ", 1)[-1])
