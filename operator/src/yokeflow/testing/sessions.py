"""Stand-ins for the agent in engine tests: sessions that do real git work, and an event log.

``GitSessions`` implements the executor's ``TaskSessions``: each "agent" writes ``<key>.txt``
(listing the files it saw) in its own worktree and commits, after a scripted delay, failing on
the attempts it is told to — so concurrency, merges, failures, retries, cancellation and
resumption are observed on real repositories and a real database. The agent runtime itself is
tested with the real Claude CLI elsewhere, and the demo runs the whole pipeline with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from yokeflow.core.events import Event
from yokeflow.core.records import Task
from yokeflow.ports.launcher import SessionOutcome
from yokeflow.ports.workspace import WorktreeInfo

__all__ = ["EventLog", "GitSessions"]


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True
    ).stdout.strip()


@dataclass
class GitSessions:
    """A TaskSessions whose "agent" writes ``<key>.txt`` (listing the files it saw) and commits."""

    delay: float = 0.2
    delays: dict[str, float] = field(default_factory=dict)
    fail_attempts: dict[str, int] = field(default_factory=dict)
    """Task key → how many first attempts fail."""
    cost: Decimal = Decimal("0.01")
    running: int = 0
    peak: int = 0
    seen: dict[str, list[str]] = field(default_factory=dict)
    """Task key → the files present in its worktree when it started."""
    worktrees: dict[str, str] = field(default_factory=dict)
    attempts: dict[str, int] = field(default_factory=dict)
    on_start: Callable[[Task, int], Awaitable[bool]] | None = None
    """Called as an attempt starts; returning True ends it at once (e.g. the agent parked it)."""
    gather: int = 0
    """When > 0, a session starts its delay only once this many ran at the same time (or after
    30 s): the overlap a concurrency test looks for then does not depend on the machine's load."""
    _gathered: asyncio.Event = field(default_factory=asyncio.Event)

    async def model_for(self, task: Task, *, attempt: int, escalate: bool) -> str:
        return "claude-opus-4-5" if escalate else "claude-haiku-4-5"

    async def run_task(
        self,
        task: Task,
        worktree: WorktreeInfo,
        *,
        attempt: int,
        model: str,
        cancel: asyncio.Event,
        marker: str = "",
    ) -> SessionOutcome:
        self.running += 1
        self.peak = max(self.peak, self.running)
        if self.peak >= self.gather:
            self._gathered.set()
        self.attempts[task.key] = attempt
        start = time.monotonic()
        path = Path(worktree.path)
        self.worktrees[task.key] = worktree.path
        names = await asyncio.to_thread(lambda: [p.name for p in path.iterdir()])
        self.seen[task.key] = sorted(n for n in names if n != ".git")
        if self.on_start is not None and await self.on_start(task, attempt):
            self.running -= 1
            return SessionOutcome(True, model, self.cost, time.monotonic() - start)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._gathered.wait(), 30)
        try:
            waited = asyncio.create_task(cancel.wait())
            done, _ = await asyncio.wait({waited}, timeout=self.delays.get(task.key, self.delay))
            waited.cancel()
            if done:
                return SessionOutcome(
                    False, model, Decimal(0), time.monotonic() - start, "cancelled"
                )
            if attempt <= self.fail_attempts.get(task.key, 0):
                return SessionOutcome(
                    False, model, self.cost, time.monotonic() - start, "scripted failure"
                )
            (path / f"{task.key}.txt").write_text(
                f"{task.title}\nsaw: {' '.join(self.seen[task.key])}\n"
            )
            await asyncio.to_thread(_git, path, "add", "-A")
            # A resumed attempt may find its work already committed by the killed one.
            await asyncio.to_thread(
                _git, path, "commit", "-q", "--allow-empty", "-m", f"{task.key}: {task.title}"
            )
            return SessionOutcome(True, model, self.cost, time.monotonic() - start)
        finally:
            self.running -= 1


@dataclass
class EventLog:
    events: list[Event] = field(default_factory=list)

    def publish(self, event: Event) -> None:
        self.events.append(event)

    def kinds(self) -> list[str]:
        return [e.kind for e in self.events]
