"""The real clock: wall time from the system, waiting with asyncio."""

from __future__ import annotations

import asyncio
import time

__all__ = ["SystemClock"]


class SystemClock:
    """Unix time (a :class:`~yokeflow.ports.clock.Clock`)."""

    def now(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))
