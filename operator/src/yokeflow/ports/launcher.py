"""The task launcher port: starting task sessions, seeing which still live, stopping them.

A task session is one agent attempt at one task. Locally it is a process group on this machine
(``yokeflow.local.launcher``); in a cluster it is a ``batch/v1`` Job. Either way a running session
is held by a :class:`Lease` recorded in the store (:class:`LeaseBook`) *before* the session
starts, naming the run that owns it. The reconcile step (:mod:`yokeflow.services.reconcile`)
compares the leases with what the launcher sees:

* a lease whose session the launcher sees, owned by a live run: the task is running;
* a lease whose session is gone: the task was lost (its owner died, or the session ended
  without being collected) — it goes back to pending and its recorded spend counts;
* a session of a dead owner the launcher still sees (an orphan): it is stopped first.

Launchers never decide anything: they start what they are told, report what they see, stop what
they are told to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, Protocol

from yokeflow.core.records import Task
from yokeflow.ports.workspace import WorktreeInfo

__all__ = [
    "LaunchRequest",
    "Lease",
    "LeaseBook",
    "LeaseKind",
    "LostSpend",
    "RunOwners",
    "SessionEnded",
    "SessionOutcome",
    "TaskLauncher",
]

LeaseKind = Literal["task", "resolution"]


@dataclass(frozen=True, slots=True)
class Lease:
    """A running session, held for the run that started it."""

    project_id: int
    task_id: int
    task_key: str
    attempt: int
    owner: str
    """The run that started it (``host:pid:start`` locally; the operator's run id in a cluster)."""
    handle: str
    """What the launcher finds the session by: a process marker locally, a Job name in a cluster."""
    started_at: float
    """Wall-clock seconds (Unix time)."""
    host: str = ""
    process_group: int | None = None
    """The session's process group, once known (local sessions)."""
    kind: LeaseKind = "task"
    model: str = ""


@dataclass(frozen=True, slots=True)
class LostSpend:
    """What a session that died uncollected had spent, as far as it recorded it."""

    model: str
    cost_usd: Decimal
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_creation_tokens: int = 0


@dataclass(frozen=True, slots=True)
class SessionOutcome:
    """What one agent session on a task came to."""

    success: bool
    model: str
    cost_usd: Decimal
    duration_seconds: float
    error: str | None = None


@dataclass(frozen=True, slots=True)
class SessionEnded:
    """A session that ended since the launcher was last asked, and how."""

    lease: Lease
    outcome: SessionOutcome


@dataclass(frozen=True, slots=True)
class LaunchRequest:
    """One attempt to start: the task (as stored), its attempt number, model and worktree."""

    task: Task
    attempt: int
    model: str
    worktree: WorktreeInfo


class LeaseBook(Protocol):
    """Where leases are kept (the store implements it): saved before a session starts."""

    async def save_lease(self, lease: Lease) -> None:
        """Record ``lease`` (replacing the task's earlier lease of the same kind)."""
        ...

    async def list_leases(self, project_id: int) -> list[Lease]: ...

    async def drop_lease(self, project_id: int, task_id: int, kind: LeaseKind = "task") -> None:
        """Forget a lease (its session ended and was collected, or was stopped)."""
        ...


class RunOwners(Protocol):
    """Who is alive among the runs that own leases (the store implements it: an owner holds a
    lock for as long as its process lives, so its death is seen at once, on any host)."""

    async def hold_owner(self, owner: str) -> None:
        """Become ``owner``: hold its lock until :meth:`release_owner` or this process dies.
        Refused (:class:`~yokeflow.errors.ConflictError`) when another process holds it."""
        ...

    async def release_owner(self, owner: str) -> None: ...

    async def owner_alive(self, owner: str) -> bool:
        """Whether a live process holds ``owner`` (a dead owner's sessions are orphans)."""
        ...


class TaskLauncher(Protocol):
    """Starts task sessions and reports on them. Implementations: a local process group per
    session, a Kubernetes Job per session, an in-memory fake (``yokeflow.testing``)."""

    async def launch(self, lease: Lease, request: LaunchRequest) -> Lease:
        """Start the session ``lease`` names (the caller saved the lease first, so a crash
        right after cannot leave a session nobody knows about); return the lease completed
        with what is known once it runs (its process group). Must not wait for the session."""
        ...

    async def live(self) -> Sequence[Lease]:
        """The sessions this launcher can see, of any owner: running ones, and its own that
        ended but were not collected yet (so a session is never both gone and uncollected)."""
        ...

    async def collect(self) -> Sequence[SessionEnded]:
        """Sessions started by this launcher that ended since the last call (each reported once)."""
        ...

    async def stop(self, lease: Lease) -> None:
        """End the session (all of its processes / its Job). Idempotent: a gone session is fine."""
        ...

    async def lost_spend(self, lease: Lease) -> LostSpend | None:
        """What a session that ended uncollected (killed with its run) had spent, read from what
        it left (its transcript, a Job's termination message); None when nothing is known."""
        ...
