"""A ProjectRun's status from one observation: counts by state, progress, phase, the critical
path left, and the conditions with their reasons (a failed task's reason in ``Degraded``)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from yokeflow.api.v1alpha1 import BatchProgress, ProjectRunStatus
from yokeflow.core.graph import graph_from_plan
from yokeflow.core.plan import parse_plan
from yokeflow.core.records import Task, TaskStatus
from yokeflow.core.schedule import Finish, TaskRun, TaskState
from yokeflow.services.reconcile import Seen
from yokeflow.services.run_rollup import rollup

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
PLAN = parse_plan(
    """
name: demo
epics:
  - key: core
    name: Core
    tasks:
      - {key: a, title: A, estimate_minutes: 10}
      - {key: b, title: B, depends_on: [a], estimate_minutes: 20}
      - {key: c, title: C, depends_on: [b], estimate_minutes: 5}
      - {key: d, title: D, estimate_minutes: 1}
""",
    "demo.yaml",
)


def seen(states: dict[str, TaskRun], errors: dict[str, str] | None = None) -> Seen:
    graph = graph_from_plan(PLAN)
    tasks = {
        key: Task(
            id=i + 1,
            project_id=1,
            epic_id=1,
            key=key,
            title=key.upper(),
            status=TaskStatus.PENDING,
            last_error=(errors or {}).get(key),
        )
        for i, key in enumerate("abcd")
    }
    return Seen(graph, tasks, states, (), {})


def conditions(status: ProjectRunStatus) -> dict[str, tuple[str, str, str]]:
    return {c.type: (c.status, c.reason, c.message) for c in status.conditions}


def test_a_running_run_counts_its_tasks_and_keeps_the_unmerged_critical_path() -> None:
    states = {
        "a": TaskRun(TaskState.MERGED, 1),
        "b": TaskRun(TaskState.RUNNING, 1),
        "c": TaskRun(TaskState.PENDING),
        "d": TaskRun(TaskState.MERGING, 1),
    }
    rolled = rollup(
        ProjectRunStatus(),
        seen(states),
        finish=None,
        max_attempts=2,
        cost_usd=Decimal("1.25"),
        batches=BatchProgress(done=1, total=2),
        integration_commit="f" * 40,
        now=NOW,
        generation=3,
    )
    status = rolled.status
    assert (status.tasks.total, status.tasks.succeeded, status.tasks.running) == (4, 1, 2)
    assert status.tasks.pending == 1
    assert status.progress == "1/4"
    assert status.phase == "Running"
    assert status.cost_usd == Decimal("1.25")
    assert status.critical_path is not None
    assert status.critical_path.tasks == ["b", "c"]
    assert status.critical_path.remaining_minutes == 25
    assert status.eta == NOW.replace(minute=25)
    assert conditions(status)["Ready"] == ("False", "NotFinished", "The run has not finished.")
    assert conditions(status)["Progressing"][:2] == ("True", "Running")
    assert conditions(status)["Degraded"][:2] == ("False", "NoFailures")
    assert rolled.notices == ()


def test_a_failed_run_names_the_task_and_its_reason() -> None:
    states = {
        "a": TaskRun(TaskState.FAILED, 2),
        "b": TaskRun(TaskState.BLOCKED),
        "c": TaskRun(TaskState.BLOCKED),
        "d": TaskRun(TaskState.MERGED, 1),
    }
    observed = seen(states, {"a": "scripted outage"})
    finish = Finish("failed", "1/4 tasks merged; 1 failed, 2 blocked")
    rolled = rollup(
        ProjectRunStatus(),
        observed,
        finish=finish,
        max_attempts=2,
        cost_usd=Decimal(0),
        batches=BatchProgress(),
        integration_commit=None,
        now=NOW,
        generation=1,
    )
    status = rolled.status
    assert status.phase == "Failed"
    assert (status.tasks.failed, status.tasks.blocked, status.tasks.succeeded) == (1, 2, 1)
    assert conditions(status)["Degraded"] == (
        "True",
        "TaskFailed",
        "Task 'a' failed: scripted outage.",
    )
    assert conditions(status)["Ready"] == (
        "False",
        "TasksFailed",
        "1/4 tasks merged; 1 failed, 2 blocked.",
    )
    assert [(n.type, n.reason) for n in rolled.notices] == [
        ("Warning", "TaskFailed"),
        ("Warning", "TasksFailed"),
    ]
    # A failed task with attempts left is pending (it will be retried), not failed.
    retrying = rollup(
        ProjectRunStatus(),
        seen({**states, "a": replace(states["a"], attempts=1)}),
        finish=None,
        max_attempts=2,
        cost_usd=Decimal(0),
        batches=BatchProgress(),
        integration_commit=None,
        now=NOW,
        generation=1,
    )
    assert (retrying.status.tasks.failed, retrying.status.tasks.pending) == (0, 1)


def test_with_a_budget_budget_ok_says_what_is_spent_and_when_it_ran_out() -> None:
    states = {
        "a": TaskRun(TaskState.MERGED, 1),
        "b": TaskRun(TaskState.RUNNING, 1),
        "c": TaskRun(TaskState.PENDING),
        "d": TaskRun(TaskState.PENDING),
    }

    def rolled(cost: str, finish: Finish | None = None) -> dict[str, tuple[str, str, str]]:
        status = rollup(
            ProjectRunStatus(),
            seen(states),
            finish=finish,
            max_attempts=2,
            cost_usd=Decimal(cost),
            batches=BatchProgress(done=0, total=1),
            integration_commit=None,
            now=NOW,
            generation=1,
            budget_limit=Decimal(1),
        ).status
        return conditions(status)

    assert rolled("0.4")["BudgetOk"] == ("True", "WithinBudget", "$0.4000 of $1.00 spent.")
    assert rolled("1.02")["BudgetOk"][:2] == ("False", "BudgetExhausted")
    out = rolled("0.8", Finish("budget_exhausted", "budget exhausted with 1/4 tasks merged"))
    assert out["BudgetOk"] == (
        "False",
        "BudgetExhausted",
        "$0.8000 of $1.00 spent; no new Job starts.",
    )
    assert out["Ready"][:2] == ("False", "BudgetExhausted")
    unlimited = rollup(
        ProjectRunStatus(),
        seen(states),
        finish=None,
        max_attempts=2,
        cost_usd=Decimal(5),
        batches=BatchProgress(done=0, total=1),
        integration_commit=None,
        now=NOW,
        generation=1,
    ).status
    assert "BudgetOk" not in conditions(unlimited)
