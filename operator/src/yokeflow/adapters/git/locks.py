"""A lock across processes on one repository: ``fcntl.flock`` on a file in the git common dir.

``git worktree add/remove/prune`` and the merge queue must not run concurrently on one
repository, whether the other caller is a task in this process or another YokeFlow process.
The kernel drops a ``flock`` when its holder dies, so a killed process never leaves it held.
The lock is polled without blocking (no thread parked in ``flock``), so a cancelled waiter
leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

from yokeflow.errors import TemporaryError

__all__ = ["RepositoryLock"]


class RepositoryLock:
    """One named lock of one repository, held by at most one task of one process at a time."""

    def __init__(self, path: Path, *, timeout: float = 300.0) -> None:
        self.path = path
        self.timeout = timeout
        self._local = asyncio.Lock()  # waiters in this process queue here instead of polling

    @contextlib.asynccontextmanager
    async def hold(self) -> AsyncIterator[None]:
        """Hold the lock for the ``async with`` block."""
        async with self._local:
            fd = await self._acquire()
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)

    async def _acquire(self) -> int:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + self.timeout
        delay = 0.002
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return fd
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise TemporaryError(
                            f"waited {self.timeout:g}s for the repository lock {self.path}"
                        ) from None
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 0.05)
        except BaseException:
            os.close(fd)
            raise
