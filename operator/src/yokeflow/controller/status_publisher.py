"""Writing one run's status (and mirroring its TaskBatches) beside its passes, not inside them.

A pass decides and acts; what it found still has to reach the API server — the ProjectRun's
status, each TaskBatch's status — and those writes take as long as the pass's own work on a
busy API server. A pass therefore *offers* what it wants written and goes on to the next one;
a :class:`StatusPublisher` writes the newest offer whenever the previous write is done (an
older offer not yet written is simply replaced: every offer holds the whole picture). The next
pass starts from the newest status offered, not from the one last read back from the API.

:meth:`StatusPublisher.flush` writes what is pending at once and raises what fails (the run's
last pass waits for it); a write failing in the background is logged and tried again, unless a
newer offer replaced it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from yokeflow.api.v1alpha1 import ProjectRunStatus
from yokeflow.errors import KubeRejectedError

__all__ = ["Offer", "StatusPublisher"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Offer:
    """What one pass wants written: the run's status, and the TaskBatches' mirror (if any)."""

    status: ProjectRunStatus
    mirror: Callable[[], Awaitable[None]] | None = None


class StatusPublisher:
    """Writes the newest :class:`Offer` of one run, one write at a time (see the module doc)."""

    def __init__(
        self,
        write: Callable[[ProjectRunStatus], Awaitable[None]],
        *,
        retry_seconds: float = 1.0,
        label: str = "",
    ) -> None:
        self._write = write
        self._retry = retry_seconds
        self._label = label
        self._pending: Offer | None = None
        self._latest: ProjectRunStatus | None = None
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def latest(self) -> ProjectRunStatus | None:
        """The newest status offered (written or about to be)."""
        return self._latest

    def offer(self, offer: Offer) -> None:
        """Write ``offer`` soon (in place of any older offer not written yet)."""
        self._pending = offer
        self._latest = offer.status
        self._wake.set()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name=f"status {self._label}")

    async def flush(self) -> None:
        """Write what is pending now; raises what the write raises."""
        async with self._lock:
            pending, self._pending = self._pending, None
            if pending is not None:
                await self._publish(pending)

    async def close(self) -> None:
        """Stop writing (what is pending is dropped: the next daemon writes anew)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            async with self._lock:
                pending, self._pending = self._pending, None
                if pending is None or await self._published(pending):
                    continue
                if self._pending is None:  # not replaced meanwhile: tried again
                    self._pending = pending
            await asyncio.sleep(self._retry)
            self._wake.set()

    async def _published(self, offer: Offer) -> bool:
        """Write ``offer``; False when it should be tried again."""
        try:
            await self._publish(offer)
        except KubeRejectedError as exc:
            if exc.reason == "NotFound":  # the run is gone: nothing left to write
                return True
            log.warning("%s: writing the status: %s", self._label, exc)
            return False
        except Exception as exc:
            log.warning("%s: writing the status: %s; again shortly", self._label, exc)
            return False
        return True

    async def _publish(self, offer: Offer) -> None:
        await self._write(offer.status)
        if offer.mirror is not None:
            await offer.mirror()
