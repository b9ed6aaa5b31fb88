"""In-memory fakes of the run's ports: a clock moved by hand, a task launcher whose sessions
the test ends, and a book of leases and reservations.

They implement :class:`~yokeflow.ports.clock.Clock`,
:class:`~yokeflow.ports.launcher.TaskLauncher`, :class:`~yokeflow.ports.launcher.LeaseBook` and
the reservation half of :class:`~yokeflow.ports.budget.BudgetBook`, so the reconcile step runs
in unit tests with no process, database or git.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

from yokeflow.ports.clock import Clock
from yokeflow.ports.launcher import (
    LaunchRequest,
    Lease,
    LeaseBook,
    LeaseKind,
    LostSpend,
    RunOwners,
    SessionEnded,
    SessionOutcome,
    TaskLauncher,
)

__all__ = ["FakeClock", "FakeLauncher", "MemoryLeaseBook"]


@dataclass
class FakeClock:
    """Wall time that only moves when the test says so (``advance``)."""

    time: float = 1_800_000_000.0

    def now(self) -> float:
        return self.time

    def advance(self, seconds: float) -> None:
        self.time += seconds

    async def sleep(self, seconds: float) -> None:
        self.time += max(0.0, seconds)
        await asyncio.sleep(0)


@dataclass
class FakeLauncher:
    """Sessions that run until the test ends them (:meth:`finish`), or a "process" that dies
    (:meth:`vanish`); other owners' live sessions can be planted (:meth:`plant`)."""

    running: dict[str, Lease] = field(default_factory=dict)
    """Handle → lease of sessions still running."""
    requests: list[LaunchRequest] = field(default_factory=list)
    stopped: list[Lease] = field(default_factory=list)
    spend: dict[str, LostSpend] = field(default_factory=dict)
    """Handle → what a lost session had spent."""
    _ended: list[SessionEnded] = field(default_factory=list)

    async def launch(self, lease: Lease, request: LaunchRequest) -> Lease:
        self.requests.append(request)
        launched = replace(lease, process_group=4242)
        self.running[lease.handle] = launched
        return launched

    async def live(self) -> Sequence[Lease]:
        return [*self.running.values(), *(e.lease for e in self._ended)]

    async def collect(self) -> Sequence[SessionEnded]:
        ended, self._ended = self._ended, []
        return ended

    async def stop(self, lease: Lease) -> None:
        self.stopped.append(lease)
        self.running.pop(lease.handle, None)

    async def lost_spend(self, lease: Lease) -> LostSpend | None:
        return self.spend.get(lease.handle)

    # -- the test's controls ---------------------------------------------------------------------

    def handle_of(self, key: str) -> str:
        return next(h for h, lease in self.running.items() if lease.task_key == key)

    def finish(
        self, key: str, *, success: bool = True, cost: str = "0.01", error: str | None = None
    ) -> None:
        """End the running session of task ``key``."""
        lease = self.running.pop(self.handle_of(key))
        outcome = SessionOutcome(success, lease.model, Decimal(cost), 1.0, error)
        self._ended.append(SessionEnded(lease, outcome))

    def vanish(self, key: str) -> None:
        """The session's processes are gone without an outcome (killed with its run)."""
        self.running.pop(self.handle_of(key))

    def plant(self, lease: Lease) -> None:
        """A session of another run, still running."""
        self.running[lease.handle] = lease


@dataclass
class MemoryLeaseBook:
    """Leases, budget reservations and run owners in memory (an owner is alive until
    :meth:`kill_owner`)."""

    held: set[str] = field(default_factory=set)
    dead: set[str] = field(default_factory=set)
    leases: dict[tuple[int, int, str], Lease] = field(default_factory=dict)
    reservations: dict[tuple[int, str], tuple[Decimal, str]] = field(default_factory=dict)

    async def save_lease(self, lease: Lease) -> None:
        self.leases[(lease.project_id, lease.task_id, lease.kind)] = lease

    async def list_leases(self, project_id: int) -> list[Lease]:
        return sorted(
            (lease for (p, _, _), lease in self.leases.items() if p == project_id),
            key=lambda lease: (lease.started_at, lease.task_id),
        )

    async def drop_lease(self, project_id: int, task_id: int, kind: LeaseKind = "task") -> None:
        self.leases.pop((project_id, task_id, kind), None)

    async def list_reservations(self, project_id: int) -> Mapping[str, Decimal]:
        return {k: v for (p, k), (v, _) in self.reservations.items() if p == project_id}

    async def save_reservation(
        self, project_id: int, key: str, amount: Decimal, *, owner: str
    ) -> None:
        self.reservations[(project_id, key)] = (amount, owner)

    async def drop_reservation(self, project_id: int, key: str) -> None:
        self.reservations.pop((project_id, key), None)

    async def hold_owner(self, owner: str) -> None:
        self.held.add(owner)

    async def release_owner(self, owner: str) -> None:
        self.held.discard(owner)

    async def owner_alive(self, owner: str) -> bool:
        return owner in self.held or (owner not in self.dead and owner != "")

    def kill_owner(self, owner: str) -> None:
        """The run ``owner`` died (its lock is gone)."""
        self.held.discard(owner)
        self.dead.add(owner)

    async def drop_reservations_not_owned_by(self, project_id: int, owner: str) -> int:
        gone = [k for k, (_, o) in self.reservations.items() if k[0] == project_id and o != owner]
        for key in gone:
            del self.reservations[key]
        return len(gone)


def _implements_the_ports(
    clock: FakeClock, launcher: FakeLauncher, book: MemoryLeaseBook
) -> tuple[Clock, TaskLauncher, LeaseBook, RunOwners]:
    return clock, launcher, book, book  # mypy checks here that the fakes satisfy the ports
