"""Starting and stopping the control plane's processes, each in its own process group.

A process is identified by its pid *and* its start time (``/proc/<pid>/stat`` field 22), so a
recycled pid is never mistaken for ours and never signalled. Each process leads a new session,
so stopping it signals its whole process group: nothing it spawned is left behind. Processes
may outlive the Python process that started them (``up`` returns while they keep running);
``die_with_parent`` instead ties them to it (Linux ``PR_SET_PDEATHSIG``), which is what a test
session wants so that even a killed test run leaves no orphans.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ProcessRecord", "is_running", "spawn", "stop"]

_PR_SET_PDEATHSIG = 1

_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}
"""Processes this Python process started and has not reaped yet, by pid. Kept so that they are
reaped when they exit (a dropped ``Popen`` of a live child also warns)."""


@dataclass(frozen=True)
class ProcessRecord:
    """One started process: enough to find it again and to stop it, even from another process."""

    name: str
    pid: int
    start_ticks: int
    """Start time in clock ticks since boot, from ``/proc/<pid>/stat``; guards against pid reuse."""
    log: str
    """Path of the file that receives its stdout and stderr."""


def spawn(
    name: str,
    argv: Sequence[str],
    log: Path,
    env: Mapping[str, str],
    die_with_parent: bool,
) -> ProcessRecord:
    """Start ``argv`` in a new session with output appended to ``log``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        process = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=dict(env),
            start_new_session=True,
            close_fds=True,
            preexec_fn=_die_with_parent if die_with_parent else None,
        )
    _CHILDREN[process.pid] = process
    ticks = _start_ticks(process.pid)
    return ProcessRecord(name, process.pid, ticks if ticks is not None else -1, str(log))


def is_running(record: ProcessRecord) -> bool:
    """Whether the recorded process is alive (a zombie counts as dead and is reaped)."""
    child = _CHILDREN.get(record.pid)
    if child is not None:
        # Our own child: its ``Popen`` reaps it, and only it may (reaping it behind the
        # ``Popen``'s back leaves an object that believes the process still runs, which warns
        # "subprocess … is still running" at exit).
        if child.poll() is None:
            return True
        del _CHILDREN[record.pid]
        return False
    stat = _stat_fields(record.pid)
    if stat is None or int(stat[19]) != record.start_ticks:
        return False
    if stat[0] == "Z":
        with contextlib.suppress(ChildProcessError):
            os.waitpid(record.pid, os.WNOHANG)
        return False
    return True


def stop(record: ProcessRecord, grace_seconds: float) -> bool:
    """Stop the process and its group: SIGTERM, then SIGKILL after ``grace_seconds``.

    Returns whether the process itself was still running.
    """
    if not is_running(record):
        if _stat_fields(record.pid) is None:
            # The leader is gone and its pid is unused, so a group with that id can only hold
            # children it left behind (Linux does not reuse a pid still in use as a group id).
            _signal_group(record.pid, signal.SIGKILL)
        return False
    _signal_group(record.pid, signal.SIGTERM)
    if not _wait(lambda: not is_running(record), grace_seconds):
        _signal_group(record.pid, signal.SIGKILL)
        _wait(lambda: not is_running(record), 5.0)
    # Members of the group that outlived their leader.
    _signal_group(record.pid, signal.SIGKILL)
    return True


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    # The group id is the leader's pid (start_new_session=True).
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _wait(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def _stat_fields(pid: int) -> list[str] | None:
    """Fields of ``/proc/<pid>/stat`` after the command name (field 3 onwards)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    return raw[raw.rindex(")") + 2 :].split()


def _start_ticks(pid: int) -> int | None:
    fields = _stat_fields(pid)
    return int(fields[19]) if fields is not None else None


def _die_with_parent() -> None:
    """Runs in the child before exec: ask the kernel to SIGTERM it when the parent dies."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
