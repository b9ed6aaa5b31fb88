"""The clock port: wall time, so that reconcile decisions survive a restart and tests drive time.

Times are Unix seconds (``float``): a lease's start, a failed attempt's retry time and a timer's
deadline mean the same thing to a run resumed in another process, or to the operator after its
pod moved. ``yokeflow.adapters.clock.SystemClock`` is the real one; ``yokeflow.testing.FakeClock``
is moved by hand.
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["Clock"]


class Clock(Protocol):
    """Wall-clock time and waiting."""

    def now(self) -> float:
        """Seconds since the Unix epoch."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` (a fake clock returns once the test moved it far enough)."""
        ...
