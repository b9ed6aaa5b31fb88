"""Finding and ending a session's processes, by a marker in their environment (Linux ``/proc``).

Every process of a session — the CLI, the shells its Bash tool starts, its MCP servers —
inherits the session's environment, so a marker variable set for the CLI finds them all, even
those re-parented to init after the CLI died. Zombies (exited, not yet waited for) have an empty
environment and are not found: they hold no resources but a process-table slot.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

__all__ = ["MARKER_VARIABLE", "child_zombies", "marked_processes", "reap"]

MARKER_VARIABLE = "YOKEFLOW_SESSION_MARKER"
"""The environment variable that names the session a process belongs to."""

_PROC = Path("/proc")


def marked_processes(marker: str, variable: str = MARKER_VARIABLE) -> list[int]:
    """The live processes whose environment has ``<variable>=<marker>``
    (default: ``YOKEFLOW_SESSION_MARKER``, set for each session)."""
    needle = f"{variable}={marker}".encode()
    own = os.getpid()
    found: list[int] = []
    for entry in _PROC.iterdir():
        if not entry.name.isdigit() or int(entry.name) == own:
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if needle in environ.split(b"\0"):
            found.append(int(entry.name))
    return sorted(found)


def _signal_all(pids: list[int], signum: signal.Signals) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signum)


def reap(marker: str, grace_seconds: float = 3.0) -> list[int]:
    """End every process of the session: SIGTERM, then SIGKILL after ``grace_seconds``.

    Returns the pids that had to be signalled (empty when the session had already ended
    cleanly). Blocking: call it from a worker thread in async code.
    """
    first = marked_processes(marker)
    if not first:
        return []
    _signal_all(first, signal.SIGTERM)
    deadline = time.monotonic() + grace_seconds
    while time.monotonic() < deadline:
        if not marked_processes(marker):
            return first
        time.sleep(0.05)
    _signal_all(marked_processes(marker), signal.SIGKILL)
    for _ in range(100):
        if not marked_processes(marker):
            break
        time.sleep(0.02)
    return first


def child_zombies(parent: int | None = None) -> list[int]:
    """Exited children of ``parent`` (default: this process) that nobody has waited for."""
    ppid = os.getpid() if parent is None else parent
    zombies: list[int] = []
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after it.
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) >= 2 and fields[0] == "Z" and int(fields[1]) == ppid:
            zombies.append(int(entry.name))
    return sorted(zombies)
