"""The budget port: a run's spend and reservations, held durably in the store.

Spend is what ``agent_costs`` says the project's sessions cost — planning, task and resolution
sessions alike, including what killed sessions recorded before they died — so it is the one
source of truth for the live view, the summary, ``status`` and a resumed run (which never gets
its whole limit back). A reservation is an estimate held for a session about to start, owned by
the run that made it; reservations of a run that died are dropped when a new owner recovers.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Protocol

__all__ = ["BudgetBook"]


class BudgetBook(Protocol):
    """Durable spend and reservations of a project's runs."""

    async def get_project_cost_total(self, project_id: int) -> Decimal:
        """Everything the project's sessions cost so far (the sum of ``agent_costs``)."""
        ...

    async def list_reservations(self, project_id: int) -> Mapping[str, Decimal]:
        """Key (a task key, ``resolve:<key>``…) → reserved amount."""
        ...

    async def save_reservation(
        self, project_id: int, key: str, amount: Decimal, *, owner: str
    ) -> None:
        """Hold ``amount`` for ``key`` (replacing an earlier reservation of that key)."""
        ...

    async def drop_reservation(self, project_id: int, key: str) -> None:
        """Forget ``key``'s reservation (settled: its cost is in ``agent_costs`` now)."""
        ...

    async def drop_reservations_not_owned_by(self, project_id: int, owner: str) -> int:
        """Forget the reservations of every other owner (runs that died); how many went."""
        ...
