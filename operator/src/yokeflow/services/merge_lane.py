"""The in-process merge lane: finished tasks merged one after another by one worker.

It is local mode's :class:`~yokeflow.services.reconcile.MergeLane` (a cluster runs merge Jobs
instead). A merge predicted to conflict is handed to the conflict policy (an agent resolution
session, ``ours`` / ``theirs``) while a ``resolution`` lease names the run doing it: a run killed
mid-resolution leaves that lease behind, and the next reconcile merges — and resolves — again.
A merge that fails outright keeps the branch and marks the worktree ``conflict`` with the reason
on the task, so it is reported, never retried in a loop.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping, Sequence

from yokeflow.core.events import MergeDone
from yokeflow.core.merging import MergeResult, MergeStatus, Resolution
from yokeflow.core.schedule import TaskState
from yokeflow.core.worktree import WorktreeStatus
from yokeflow.ports.clock import Clock
from yokeflow.ports.events import EventSink
from yokeflow.ports.launcher import Lease, LeaseBook
from yokeflow.ports.store import Store
from yokeflow.ports.workspace import Workspace
from yokeflow.services.reconcile import MergeLanded

__all__ = ["QueueMergeLane"]


class QueueMergeLane:
    """Merges in submission order on one asyncio worker; ``wake`` is called as each ends."""

    def __init__(
        self,
        *,
        store: Store,
        workspace: Workspace,
        leases: LeaseBook,
        project_id: int,
        owner: str,
        clock: Clock,
        events: EventSink,
        at: Callable[[], float],
        wake: Callable[[], None],
        resolution: Resolution | None = None,
    ) -> None:
        self._store = store
        self._workspace = workspace
        self._leases = leases
        self._project_id = project_id
        self._owner = owner
        self._clock = clock
        self._events = events
        self._at = at
        self._wake = wake
        self._resolution = resolution
        self._queue: asyncio.Queue[tuple[str, int]] = asyncio.Queue()
        self._flight: dict[str, TaskState] = {}
        self._landed: list[MergeLanded] = []
        self._cleanups: set[asyncio.Task[None]] = set()
        self._worker: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._worker = asyncio.create_task(self._work(), name="yokeflow-merge-lane")

    async def close(self) -> None:
        """Stop the worker (a merge under way is interrupted: the next run merges it again)."""
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        await asyncio.gather(*self._cleanups, return_exceptions=True)

    def submit(self, key: str, task_id: int) -> None:
        if key in self._flight:
            return
        self._flight[key] = TaskState.MERGING
        self._queue.put_nowait((key, task_id))

    def in_flight(self) -> Mapping[str, TaskState]:
        return dict(self._flight)

    def collect(self) -> Sequence[MergeLanded]:
        landed, self._landed = self._landed, []
        for merge in landed:
            self._flight.pop(merge.key, None)
        return landed

    async def _work(self) -> None:
        while True:
            key, task_id = await self._queue.get()
            try:
                landed = await self._merge(key, task_id)
                self._landed.append(landed)  # after the await: collect() swaps the list
            finally:
                self._wake()

    async def _merge(self, key: str, task_id: int) -> MergeLanded:
        try:
            result = await self._workspace.merge_worktree(task_id)
            resolved = False
            if result.status is MergeStatus.CONFLICT and self._resolution is not None:
                self._events.publish(
                    MergeDone(
                        key, "conflict", None, tuple(c.path for c in result.conflicts), self._at()
                    )
                )
                # Slots held for this merge's dependents are released while it is resolved.
                self._flight[key] = TaskState.RESOLVING
                self._wake()
                result = await self._resolve(key, task_id, self._resolution)
                resolved = result.status is MergeStatus.MERGED
        except Exception as exc:  # the branch is kept by the workspace; the run goes on
            error = f"merge failed: {exc}"
            with contextlib.suppress(Exception):
                await self._store.note_task_error(task_id, error)
                record = await self._store.get_worktree_by_task(self._project_id, task_id)
                if record is not None:
                    await self._store.update_worktree_status(record.id, WorktreeStatus.CONFLICT)
            return MergeLanded(key, task_id, None, error)
        if result.status in (MergeStatus.MERGED, MergeStatus.ALREADY_MERGED):
            # Off the lane's path: dependents start while the folder is removed.
            cleanup = asyncio.create_task(self._cleanup(task_id))
            self._cleanups.add(cleanup)
            cleanup.add_done_callback(self._cleanups.discard)
        elif result.status is MergeStatus.CONFLICT:
            paths = ", ".join(c.path for c in result.conflicts)
            with contextlib.suppress(Exception):
                await self._store.note_task_error(task_id, f"merge conflict in {paths}")
        elif result.status is MergeStatus.VERIFICATION_FAILED:
            with contextlib.suppress(Exception):
                await self._store.note_task_error(
                    task_id, "the merged result failed verification (merge reverted)"
                )
        return MergeLanded(key, task_id, result, resolved=resolved)

    async def _resolve(self, key: str, task_id: int, resolution: Resolution) -> MergeResult:
        lease = Lease(
            project_id=self._project_id,
            task_id=task_id,
            task_key=key,
            attempt=1,
            owner=self._owner,
            handle=f"resolution:{task_id}",
            started_at=self._clock.now(),
            kind="resolution",
        )
        await self._leases.save_lease(lease)
        result = await self._workspace.resolve_conflict(task_id, resolution)
        await self._leases.drop_lease(self._project_id, task_id, "resolution")
        return result

    async def _cleanup(self, task_id: int) -> None:
        with contextlib.suppress(Exception):  # a leftover folder is repaired on the next start
            await self._workspace.cleanup_worktree(task_id)
