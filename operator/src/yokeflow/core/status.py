"""The task and batch status state machines: which status changes are allowed.

Pure: the store asks :func:`check_task_transition` inside the transaction that holds the task's
row lock, so a refused change never reaches the database. A done task is final — nothing moves it
back to running — which is also what makes "claim only when the dependencies are done" race-free.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import TypeVar

from yokeflow.core.records import BatchStatus, TaskStatus
from yokeflow.errors import InvalidTransitionError

__all__ = [
    "BATCH_TRANSITIONS",
    "TASK_TRANSITIONS",
    "check_batch_transition",
    "check_task_transition",
    "parse_batch_status",
    "parse_task_status",
]

_T = TaskStatus
TASK_TRANSITIONS: Mapping[TaskStatus, frozenset[TaskStatus]] = {
    _T.PENDING: frozenset({_T.RUNNING, _T.BLOCKED, _T.CANCELLED}),
    # running -> pending releases a claim (the worker gave up before the agent started).
    _T.RUNNING: frozenset({_T.DONE, _T.FAILED, _T.PENDING, _T.CANCELLED}),
    _T.FAILED: frozenset({_T.PENDING, _T.BLOCKED, _T.CANCELLED}),
    _T.BLOCKED: frozenset({_T.PENDING, _T.CANCELLED}),
    _T.CANCELLED: frozenset({_T.PENDING}),
    _T.DONE: frozenset(),
}
"""For each task status, the statuses it may change to."""

_B = BatchStatus
BATCH_TRANSITIONS: Mapping[BatchStatus, frozenset[BatchStatus]] = {
    _B.PENDING: frozenset({_B.RUNNING, _B.CANCELLED}),
    _B.RUNNING: frozenset({_B.MERGING, _B.DONE, _B.FAILED, _B.CANCELLED}),
    _B.MERGING: frozenset({_B.DONE, _B.FAILED}),
    _B.FAILED: frozenset({_B.RUNNING}),
    _B.DONE: frozenset(),
    _B.CANCELLED: frozenset(),
}
"""For each batch status, the statuses it may change to."""

_S = TypeVar("_S", bound=StrEnum)


def _parse(kind: str, enum: type[_S], value: str) -> _S:
    try:
        return enum(value)
    except ValueError:
        known = ", ".join(s.value for s in enum)
        raise InvalidTransitionError(f"unknown {kind} status {value!r} (known: {known})") from None


def _check(
    kind: str,
    table: Mapping[_S, frozenset[_S]],
    current: _S,
    new: _S,
    subject: str,
) -> None:
    if new in table[current]:
        return
    allowed = ", ".join(sorted(s.value for s in table[current])) or "none, it is final"
    name = f"{kind} {subject}" if subject else kind
    raise InvalidTransitionError(
        f"{name} cannot go from {current.value} to {new.value} (allowed from {current.value}: {allowed})"
    )


def parse_task_status(value: str) -> TaskStatus:
    """``value`` as a :class:`TaskStatus`; an unknown one is an :class:`InvalidTransitionError`."""
    return _parse("task", TaskStatus, value)


def parse_batch_status(value: str) -> BatchStatus:
    """``value`` as a :class:`BatchStatus`; an unknown one is an :class:`InvalidTransitionError`."""
    return _parse("batch", BatchStatus, value)


def check_task_transition(current: TaskStatus, new: TaskStatus, subject: str = "") -> None:
    """Refuse a task status change the state machine forbids; ``subject`` names the task."""
    _check("task", TASK_TRANSITIONS, current, new, subject)


def check_batch_transition(current: BatchStatus, new: BatchStatus, subject: str = "") -> None:
    """Refuse a batch status change the state machine forbids; ``subject`` names the batch."""
    _check("batch", BATCH_TRANSITIONS, current, new, subject)
