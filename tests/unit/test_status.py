"""The task and batch state machines."""

from __future__ import annotations

import pytest

from yokeflow.core.records import BatchStatus, Task, TaskStatus
from yokeflow.core.status import (
    BATCH_TRANSITIONS,
    TASK_TRANSITIONS,
    check_batch_transition,
    check_task_transition,
    parse_batch_status,
    parse_task_status,
)
from yokeflow.errors import InvalidTransitionError, PermanentError


def test_every_status_has_a_row() -> None:
    assert set(TASK_TRANSITIONS) == set(TaskStatus)
    assert set(BATCH_TRANSITIONS) == set(BatchStatus)


def test_done_is_final() -> None:
    for new in TaskStatus:
        with pytest.raises(InvalidTransitionError, match="it is final"):
            check_task_transition(TaskStatus.DONE, new, "t1")


def test_done_only_from_running() -> None:
    sources = {s for s, targets in TASK_TRANSITIONS.items() if TaskStatus.DONE in targets}
    assert sources == {TaskStatus.RUNNING}


@pytest.mark.parametrize(
    ("current", "new"),
    [
        (TaskStatus.PENDING, TaskStatus.RUNNING),
        (TaskStatus.RUNNING, TaskStatus.DONE),
        (TaskStatus.RUNNING, TaskStatus.FAILED),
        (TaskStatus.RUNNING, TaskStatus.PENDING),
        (TaskStatus.FAILED, TaskStatus.PENDING),
        (TaskStatus.BLOCKED, TaskStatus.PENDING),
    ],
)
def test_allowed(current: TaskStatus, new: TaskStatus) -> None:
    check_task_transition(current, new)


def test_refusal_names_the_task_and_what_is_allowed() -> None:
    with pytest.raises(InvalidTransitionError) as caught:
        check_task_transition(TaskStatus.PENDING, TaskStatus.DONE, "api-users (7)")
    assert str(caught.value) == (
        "task api-users (7) cannot go from pending to done "
        "(allowed from pending: blocked, cancelled, running)"
    )
    assert isinstance(caught.value, PermanentError)


def test_unknown_statuses() -> None:
    assert parse_task_status("running") is TaskStatus.RUNNING
    with pytest.raises(InvalidTransitionError, match=r"unknown task status 'finished' \(known: "):
        parse_task_status("finished")
    assert parse_batch_status("merging") is BatchStatus.MERGING
    with pytest.raises(InvalidTransitionError, match="unknown batch status"):
        parse_batch_status("")


def test_batches() -> None:
    check_batch_transition(BatchStatus.RUNNING, BatchStatus.MERGING)
    with pytest.raises(InvalidTransitionError, match="batch 3 cannot go from done to running"):
        check_batch_transition(BatchStatus.DONE, BatchStatus.RUNNING, "3")


def test_hard_and_soft_dependencies_of_a_task() -> None:
    hard = Task(1, 1, 1, "a", "A", depends_on=(2, 3), soft_depends_on=(4,))
    assert (hard.hard_dependencies, hard.soft_dependencies) == ((2, 3), (4,))
    soft = Task(1, 1, 1, "a", "A", depends_on=(2,), dependency_type="soft")
    assert (soft.hard_dependencies, soft.soft_dependencies) == ((), (2,))
