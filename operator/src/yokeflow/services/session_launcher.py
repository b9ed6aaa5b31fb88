"""Local mode's task launcher: each session runs in this process, its agent CLI a child of it.

A session is an asyncio task running :meth:`TaskSessions.run_task`; the agent's processes carry
the lease's handle as their session marker, and locally the CLI is started in its own process
group that dies with this process (``yokeflow.adapters.claude.leash``). So a killed ``yokeflow
run`` takes its agents with it, and whatever survived is found by its marker and ended by the
next run's reconcile (``reap``) before the task is relaunched; ``spend`` reads what such a session
had spent from its transcript.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from yokeflow.core.records import Task
from yokeflow.ports.launcher import LaunchRequest, Lease, LostSpend, SessionEnded, SessionOutcome
from yokeflow.ports.workspace import WorktreeInfo

__all__ = ["SessionLauncher", "TaskSessions"]


class TaskSessions(Protocol):
    """Runs one agent session for a task in its worktree (prompt, model, cost, learning)."""

    async def run_task(
        self,
        task: Task,
        worktree: WorktreeInfo,
        *,
        attempt: int,
        model: str,
        cancel: asyncio.Event,
        marker: str,
    ) -> SessionOutcome:
        """Run it; ``marker`` names the session's processes (the lease's handle)."""
        ...

    async def model_for(self, task: Task, *, attempt: int, escalate: bool) -> str:
        """The model an attempt would use now (asked again at start: the budget may have moved)."""
        ...


@dataclass
class _Session:
    lease: Lease
    job: asyncio.Task[SessionOutcome]
    cancel: asyncio.Event
    started: float


class SessionLauncher:
    """A :class:`~yokeflow.ports.launcher.TaskLauncher` running sessions in this process."""

    def __init__(
        self,
        sessions: TaskSessions,
        *,
        wake: Callable[[], None],
        reap: Callable[[Lease], Awaitable[None]] | None = None,
        spend: Callable[[Lease], Awaitable[LostSpend | None]] | None = None,
    ) -> None:
        self._sessions = sessions
        self._wake = wake
        self._reap = reap
        self._spend = spend
        self._running: dict[str, _Session] = {}

    async def launch(self, lease: Lease, request: LaunchRequest) -> Lease:
        cancel = asyncio.Event()
        job = asyncio.create_task(
            self._sessions.run_task(
                request.task,
                request.worktree,
                attempt=request.attempt,
                model=request.model,
                cancel=cancel,
                marker=lease.handle,
            ),
            name=f"yokeflow-task-{lease.task_key}",
        )
        job.add_done_callback(lambda _: self._wake())
        self._running[lease.handle] = _Session(lease, job, cancel, time.monotonic())
        return lease

    async def live(self) -> Sequence[Lease]:
        return [s.lease for s in self._running.values()]

    async def collect(self) -> Sequence[SessionEnded]:
        ended: list[SessionEnded] = []
        for handle, session in list(self._running.items()):
            if not session.job.done():
                continue
            del self._running[handle]
            try:
                outcome = session.job.result()
            except Exception as exc:  # a bug or an adapter failure: the attempt failed
                outcome = SessionOutcome(
                    False,
                    session.lease.model,
                    Decimal(0),
                    time.monotonic() - session.started,
                    f"{type(exc).__name__}: {exc}",
                )
            ended.append(SessionEnded(session.lease, outcome))
        return ended

    async def stop(self, lease: Lease) -> None:
        session = self._running.get(lease.handle)
        if session is not None:
            session.cancel.set()  # it ends as cancelled and is collected as usual
        elif self._reap is not None:
            await self._reap(lease)  # another run's leftovers: found by marker, ended

    async def lost_spend(self, lease: Lease) -> LostSpend | None:
        return None if self._spend is None else await self._spend(lease)

    def stop_all(self) -> None:
        """Ask every running session to stop (cancellation)."""
        for session in self._running.values():
            session.cancel.set()

    async def drain(self) -> None:
        """Wait until every session of this launcher has ended."""
        jobs = [s.job for s in self._running.values()]
        if jobs:
            await asyncio.gather(*jobs, return_exceptions=True)

    @property
    def running(self) -> tuple[tuple[str, str], ...]:
        """``(task key, model)`` of the sessions still running."""
        return tuple(
            (s.lease.task_key, s.lease.model) for s in self._running.values() if not s.job.done()
        )
