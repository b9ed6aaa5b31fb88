"""The run's state, as data: where each task stands, why, and which moves are allowed.

Pure. The reconcile step (:mod:`yokeflow.services.reconcile`) observes the store, the task
launcher's live sessions and the workspace, and turns what it saw into the scheduler's
:class:`~yokeflow.core.task_run.TaskRun` per task with :func:`observe`; when a session ends it
asks :func:`session_verdict` what the attempt came to. Neither holds state nor does I/O, so a
resumed run (after a kill at any point) decides exactly as a run that never stopped would.

The rules, each pinned by a table test (``tests/unit/test_run_state.py``):

* a task whose session is live is running, whatever its agent reported so far;
* a task the store says is running but that no live session holds was lost with the run that
  started it: it goes back to pending (the killed attempt counts) and runs again;
* a task whose merge conflict was being resolved when the run died is merged (and resolved)
  again; a conflict left by a finished resolution stands;
* blocked tasks are not final: the scheduler re-evaluates them on every pass;
* an agent that reports its own task failed ends that attempt (never the run); a session that
  changed nothing outside YokeFlow's own files is a failed attempt ("no changes") unless its task
  expects none.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum

from yokeflow.core.records import TaskStatus
from yokeflow.core.task_run import TaskRun, TaskState
from yokeflow.core.worktree import WorktreeStatus
from yokeflow.errors import InvalidTransitionError

__all__ = [
    "NO_CHANGES",
    "OWN_PATHS",
    "RUN_CANCELLED",
    "TRANSITIONS",
    "SessionSight",
    "TaskRecord",
    "Verdict",
    "VerdictKind",
    "check_transition",
    "observe",
    "own_files_only",
    "session_verdict",
    "transition",
]

_S = TaskState
TRANSITIONS: Mapping[TaskState, frozenset[TaskState]] = {
    _S.PENDING: frozenset({_S.RUNNING, _S.BLOCKED, _S.CANCELLED}),
    # running -> pending: parked by its agent (a declared dependency), or lost with its run.
    _S.RUNNING: frozenset({_S.DONE, _S.FAILED, _S.PENDING, _S.CANCELLED}),
    # done -> failed: the session's work turned out empty, or the agent reported failure.
    _S.DONE: frozenset({_S.MERGING, _S.FAILED}),
    # merging -> done: the merge was interrupted (the run died); it is merged again.
    _S.MERGING: frozenset({_S.MERGED, _S.RESOLVING, _S.CONFLICT, _S.FAILED, _S.DONE}),
    # resolving -> done: the resolution was interrupted; it is merged and resolved again.
    _S.RESOLVING: frozenset({_S.MERGED, _S.CONFLICT, _S.DONE}),
    _S.MERGED: frozenset(),
    # failed -> running: an automatic retry; failed -> pending: `yokeflow retry`.
    _S.FAILED: frozenset({_S.RUNNING, _S.PENDING, _S.BLOCKED, _S.CANCELLED}),
    _S.CONFLICT: frozenset({_S.DONE}),
    # blocked -> pending: re-evaluated, its dependency landed (or was given new attempts).
    _S.BLOCKED: frozenset({_S.PENDING, _S.CANCELLED}),
    _S.CANCELLED: frozenset({_S.PENDING}),
}
"""For each state of a task in a run, the states it may move to."""


@dataclass(frozen=True, slots=True)
class TaskRecord:
    """One task's place in a run as the store keeps it: state, reason, attempts, wall times."""

    key: str
    state: TaskState = TaskState.PENDING
    reason: str | None = None
    """Why it failed or is blocked (shown by the live view, the summary and ``status``)."""
    attempts: int = 0
    started_at: float | None = None
    """Wall-clock seconds (Unix time) when its current or last attempt started."""
    ended_at: float | None = None
    """Wall-clock seconds when its last attempt ended."""
    model: str | None = None
    cost_usd: Decimal = Decimal(0)


def check_transition(current: TaskState, new: TaskState, subject: str = "") -> None:
    """Refuse (:class:`InvalidTransitionError`) a move :data:`TRANSITIONS` does not allow."""
    if new is current or new in TRANSITIONS[current]:
        return
    allowed = ", ".join(sorted(s.value for s in TRANSITIONS[current])) or "none, it is final"
    name = f"task {subject}" if subject else "task"
    raise InvalidTransitionError(
        f"{name} cannot go from {current.value} to {new.value} in a run (allowed: {allowed})"
    )


def transition(
    record: TaskRecord, new: TaskState, *, at: float, reason: str | None = None
) -> TaskRecord:
    """``record`` moved to ``new`` at wall time ``at`` (a start counts an attempt)."""
    check_transition(record.state, new, record.key)
    if new is TaskState.RUNNING:
        return replace(record, state=new, attempts=record.attempts + 1, started_at=at, reason=None)
    ended = new in (TaskState.DONE, TaskState.FAILED, TaskState.CANCELLED)
    return replace(
        record,
        state=new,
        reason=reason if reason is not None else record.reason,
        ended_at=at if ended else record.ended_at,
    )


_SESSION_HELD = frozenset(
    {TaskStatus.RUNNING, TaskStatus.DONE, TaskStatus.FAILED, TaskStatus.PENDING}
)
"""Statuses an agent can give its task while its session runs (running, then done / failed /
pending — parked — through the task tools)."""


class SessionSight(StrEnum):
    """What the launcher says about the session of a task the store calls running."""

    LIVE = "live"
    """A session of this run (or of a live owner) is working on it."""
    GONE = "gone"
    """No live session: its owner died or its process ended without being collected."""


def observe(
    status: TaskStatus,
    attempts: int,
    *,
    worktree: WorktreeStatus | None,
    session: SessionSight,
    resolution_interrupted: bool = False,
    max_attempts: int,
    failed_at: float | None = None,
    duration: float | None = None,
    started_at: float | None = None,
    reason: str | None = None,
) -> TaskRun:
    """The scheduler's view of one task from what the store, workspace and launcher say.

    ``attempts`` counts attempts since the task was last given new ones (``yokeflow retry``);
    ``failed_at`` / ``started_at`` are wall-clock seconds; ``reason`` is the task's last error
    (:data:`RUN_CANCELLED` marks a task stopped by a cancelled run: it runs again on resume).
    """
    if session is SessionSight.LIVE and status in _SESSION_HELD:
        # Its session is not over, whatever its agent reported so far (an agent marks its task
        # done before it commits): the session's end decides.
        return TaskRun(TaskState.RUNNING, attempts, started_at=started_at)
    if status is TaskStatus.DONE:
        if worktree is WorktreeStatus.MERGED:
            return TaskRun(TaskState.MERGED, max(attempts, 1), duration=duration)
        if worktree is WorktreeStatus.CONFLICT and not resolution_interrupted:
            return TaskRun(TaskState.CONFLICT, max(attempts, 1), duration=duration)
        if worktree is WorktreeStatus.FAILED:
            # Its merge's verification failed: the work is kept on its branch, not retried.
            return TaskRun(TaskState.FAILED, max(attempts, max_attempts), failed_at=failed_at)
        return TaskRun(TaskState.DONE, max(attempts, 1), duration=duration)
    if status is TaskStatus.FAILED:
        return TaskRun(TaskState.FAILED, attempts, failed_at=failed_at)
    if status is TaskStatus.BLOCKED:
        return TaskRun(TaskState.BLOCKED, attempts)
    if status is TaskStatus.CANCELLED and reason != RUN_CANCELLED:
        # Taken out of the run by a person (``tasks cancel``): it stays out until retried.
        return TaskRun(TaskState.CANCELLED, attempts)
    # Running without a live session (lost with a killed run), stopped by a cancelled run, or
    # pending.
    return TaskRun(TaskState.PENDING, attempts)


OWN_PATHS = (".yokeflow/", ".claude/")
"""Folders YokeFlow (and the agent runtime) write in a worktree; never the task's work."""

RUN_CANCELLED = "run cancelled"
"""The reason of a task stopped because its run was cancelled (not by a person)."""

NO_CHANGES = "no changes: the session changed nothing outside YokeFlow's own files"


def own_files_only(
    changed: Iterable[str], *, gitignore_added_by_yokeflow: bool, gitignore_only_added: bool
) -> bool:
    """True when every changed path is YokeFlow's own: its folders, or a ``.gitignore`` edit
    that is only the lines YokeFlow itself added (``gitignore_only_added``)."""
    for path in changed:
        if path.startswith(OWN_PATHS):
            continue
        if path == ".gitignore" and gitignore_added_by_yokeflow and gitignore_only_added:
            continue
        return False
    return True


class VerdictKind(StrEnum):
    DONE = "done"
    FAILED = "failed"
    PARKED = "parked"
    """Its agent declared a dependency on unfinished work: it runs again once that lands."""
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class Verdict:
    kind: VerdictKind
    reason: str | None = None


def session_verdict(
    *,
    succeeded: bool,
    error: str | None,
    reported: TaskStatus,
    reported_error: str | None = None,
    cancelled: bool = False,
) -> Verdict:
    """What a finished session's attempt came to, reconciled against what its agent reported
    through the task tools (``reported``: the task's status in the store when the session ended).

    ``succeeded`` already includes the work check (a commit with changes outside YokeFlow's own
    files, unless the task expects none): a session without work reports ``error`` =
    :data:`NO_CHANGES`.
    """
    if reported is TaskStatus.PENDING:
        return Verdict(VerdictKind.PARKED)
    if cancelled and not succeeded:
        return Verdict(VerdictKind.CANCELLED, RUN_CANCELLED)
    if reported is TaskStatus.FAILED:
        return Verdict(
            VerdictKind.FAILED, reported_error or error or "its agent reported the task failed"
        )
    if succeeded:
        return Verdict(VerdictKind.DONE)
    return Verdict(VerdictKind.FAILED, error or "the session failed")
