"""The run-state rules as tables: observation from the store, transitions, session verdicts."""

from __future__ import annotations

import pytest

from yokeflow.core.records import TaskStatus
from yokeflow.core.run_state import (
    NO_CHANGES,
    RUN_CANCELLED,
    TRANSITIONS,
    SessionSight,
    TaskRecord,
    VerdictKind,
    check_transition,
    observe,
    own_files_only,
    session_verdict,
    transition,
)
from yokeflow.core.schedule import TaskState
from yokeflow.core.worktree import WorktreeStatus
from yokeflow.errors import InvalidTransitionError

S, T, W = TaskState, TaskStatus, WorktreeStatus
LIVE, GONE = SessionSight.LIVE, SessionSight.GONE

# (store status, attempts, worktree, session, resolution interrupted) -> (state, attempts)
OBSERVED = [
    (T.PENDING, 0, None, GONE, False, S.PENDING, 0),
    # Running with a live session: running. Without one (lost with a killed run): pending again,
    # the killed attempt counted.
    (T.RUNNING, 1, W.ACTIVE, LIVE, False, S.RUNNING, 1),
    # Its agent already reported done / failed / parked, but its session has not ended: running.
    (T.DONE, 1, W.ACTIVE, LIVE, False, S.RUNNING, 1),
    (T.FAILED, 1, W.ACTIVE, LIVE, False, S.RUNNING, 1),
    (T.PENDING, 1, W.ACTIVE, LIVE, False, S.RUNNING, 1),
    (T.RUNNING, 1, W.ACTIVE, GONE, False, S.PENDING, 1),
    (T.CANCELLED, 1, W.ACTIVE, GONE, False, S.PENDING, 1),  # stopped by a cancelled run
    # Done by its agent, not merged yet (or its merge was interrupted): merged (again).
    (T.DONE, 1, W.ACTIVE, GONE, False, S.DONE, 1),
    (T.DONE, 1, W.REMOVED, GONE, False, S.DONE, 1),
    (T.DONE, 1, W.MERGED, GONE, False, S.MERGED, 1),
    # A conflict stands — unless its resolution was interrupted: then it is merged again.
    (T.DONE, 1, W.CONFLICT, GONE, False, S.CONFLICT, 1),
    (T.DONE, 1, W.CONFLICT, GONE, True, S.DONE, 1),
    # Its merge's verification failed: failed for good (the work stays on its branch).
    (T.DONE, 1, W.FAILED, GONE, False, S.FAILED, 2),
    (T.FAILED, 1, W.ACTIVE, GONE, False, S.FAILED, 1),
    # Blocked is observed as blocked; the scheduler re-evaluates it on every pass.
    (T.BLOCKED, 0, None, GONE, False, S.BLOCKED, 0),
]


@pytest.mark.parametrize(
    ("status", "attempts", "worktree", "session", "interrupted", "state", "counted"), OBSERVED
)
def test_observation_of_the_store(
    status: TaskStatus,
    attempts: int,
    worktree: WorktreeStatus | None,
    session: SessionSight,
    interrupted: bool,
    state: TaskState,
    counted: int,
) -> None:
    run = observe(
        status,
        attempts,
        worktree=worktree,
        session=session,
        resolution_interrupted=interrupted,
        max_attempts=2,
        failed_at=5.0,
        reason=RUN_CANCELLED if status is T.CANCELLED else None,
    )
    assert (run.state, run.attempts) == (state, counted)


def test_a_task_cancelled_by_a_person_stays_out_of_the_run() -> None:
    run = observe(T.CANCELLED, 0, worktree=None, session=GONE, max_attempts=2, reason=None)
    assert run.state is S.CANCELLED


def test_every_state_has_its_moves_and_merged_is_final() -> None:
    assert set(TRANSITIONS) == set(TaskState)
    assert TRANSITIONS[S.MERGED] == frozenset()
    for state, targets in TRANSITIONS.items():
        assert state not in targets


ALLOWED = [
    (S.PENDING, S.RUNNING),
    (S.RUNNING, S.DONE),
    (S.RUNNING, S.FAILED),
    (S.RUNNING, S.PENDING),  # parked, or lost with its run
    (S.DONE, S.MERGING),
    (S.DONE, S.FAILED),  # no changes after all
    (S.MERGING, S.DONE),  # merge interrupted
    (S.RESOLVING, S.DONE),  # resolution interrupted
    (S.FAILED, S.RUNNING),  # automatic retry
    (S.FAILED, S.PENDING),  # yokeflow retry
    (S.BLOCKED, S.PENDING),  # re-evaluated
    (S.CONFLICT, S.DONE),
]
REFUSED = [
    (S.MERGED, S.PENDING),
    (S.MERGED, S.FAILED),
    (S.PENDING, S.DONE),
    (S.PENDING, S.MERGED),
    (S.BLOCKED, S.RUNNING),
    (S.DONE, S.RUNNING),
    (S.CANCELLED, S.RUNNING),
]


@pytest.mark.parametrize(("current", "new"), ALLOWED)
def test_allowed_transitions(current: TaskState, new: TaskState) -> None:
    check_transition(current, new)


@pytest.mark.parametrize(("current", "new"), REFUSED)
def test_refused_transitions(current: TaskState, new: TaskState) -> None:
    with pytest.raises(InvalidTransitionError, match=f"from {current.value} to {new.value}"):
        check_transition(current, new, "t")


def test_a_record_counts_attempts_and_keeps_wall_times_and_reasons() -> None:
    record = TaskRecord("t")
    record = transition(record, S.RUNNING, at=100.0)
    assert (record.attempts, record.started_at) == (1, 100.0)
    record = transition(record, S.FAILED, at=130.0, reason="tests failed")
    assert (record.ended_at, record.reason) == (130.0, "tests failed")
    record = transition(record, S.RUNNING, at=140.0)
    assert (record.attempts, record.reason) == (2, None)
    with pytest.raises(InvalidTransitionError):
        transition(record, S.MERGED, at=150.0)


# succeeded, error, reported status, reported error, cancelled -> verdict, reason
VERDICTS = [
    (True, None, T.RUNNING, None, False, VerdictKind.DONE, None),
    (True, None, T.DONE, None, False, VerdictKind.DONE, None),  # it said done through MCP
    # It marked its own task failed, then ended normally: that attempt failed, nothing more.
    (True, None, T.FAILED, "cannot build", False, VerdictKind.FAILED, "cannot build"),
    (False, "boom", T.FAILED, None, False, VerdictKind.FAILED, "boom"),
    (False, None, T.FAILED, None, False, VerdictKind.FAILED, "its agent reported the task failed"),
    (False, NO_CHANGES, T.RUNNING, None, False, VerdictKind.FAILED, NO_CHANGES),
    (False, "timed out", T.RUNNING, None, False, VerdictKind.FAILED, "timed out"),
    # It said done, but the attempt failed after (no changes, verification): failed.
    (False, NO_CHANGES, T.DONE, None, False, VerdictKind.FAILED, NO_CHANGES),
    # Parked: it declared a dependency on unfinished work.
    (True, None, T.PENDING, None, False, VerdictKind.PARKED, None),
    (False, "cancelled", T.RUNNING, None, True, VerdictKind.CANCELLED, "run cancelled"),
    (True, None, T.RUNNING, None, True, VerdictKind.DONE, None),  # finished before the cancel
]


@pytest.mark.parametrize(
    ("succeeded", "error", "reported", "reported_error", "cancelled", "kind", "reason"), VERDICTS
)
def test_a_session_end_is_reconciled_with_what_its_agent_reported(
    succeeded: bool,
    error: str | None,
    reported: TaskStatus,
    reported_error: str | None,
    cancelled: bool,
    kind: VerdictKind,
    reason: str | None,
) -> None:
    verdict = session_verdict(
        succeeded=succeeded,
        error=error,
        reported=reported,
        reported_error=reported_error,
        cancelled=cancelled,
    )
    assert (verdict.kind, verdict.reason) == (kind, reason)


@pytest.mark.parametrize(
    ("changed", "added_by_yokeflow", "only_added", "own"),
    [
        ((), False, False, True),
        ((".yokeflow/expertise/api.md", ".yokeflow/project.json"), False, False, True),
        ((".gitignore",), True, True, True),  # YokeFlow's own .gitignore edit
        ((".gitignore",), True, False, False),  # the agent edited it too
        ((".gitignore",), False, False, False),  # the agent's edit
        ((".gitignore", "app.py"), True, True, False),
        (("app.py",), False, False, False),
    ],
)
def test_what_counts_as_a_change(
    changed: tuple[str, ...], added_by_yokeflow: bool, only_added: bool, own: bool
) -> None:
    assert (
        own_files_only(
            changed, gitignore_added_by_yokeflow=added_by_yokeflow, gitignore_only_added=only_added
        )
        is own
    )
