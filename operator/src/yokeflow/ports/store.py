"""The state store: everything YokeFlow records about projects, their plans and their runs.

The PostgreSQL adapter implements it (``yokeflow.adapters.postgres.PostgresStore``); services
depend only on this Protocol. Records are :mod:`yokeflow.core.records` (and
:class:`~yokeflow.core.worktree.WorktreeRecord`); a missing record is ``None`` from ``get_*`` and
a :class:`~yokeflow.errors.NotFoundError` from operations that change one.

Concurrency contract (the spec's "transaction safety"):

* :meth:`Store.claim_next_task` hands each pending task to exactly one caller, and only once all
  its hard dependencies — and every task of the epics its epic depends on — are done.
* :meth:`Store.update_task_status` / :meth:`Store.complete_task` hold the task's row lock while
  checking the change against :mod:`yokeflow.core.status`; the epic is marked done in the same
  transaction, exactly once, and never while one of its tasks is unfinished.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Protocol

from yokeflow.core.plan import Plan
from yokeflow.core.records import (
    AgentCost,
    BatchStatus,
    CostSummary,
    DependencyType,
    Epic,
    ExpertiseFile,
    ExpertiseUpdate,
    ParallelBatch,
    ParallelProgress,
    Project,
    ProjectPlan,
    Session,
    SessionStatus,
    Task,
    TaskChange,
    TaskStatus,
    Test,
    TestStatus,
)
from yokeflow.ports.workspace import WorktreeLedger

__all__ = ["Store"]


class Store(WorktreeLedger, Protocol):
    """Persistent state of projects, plans, runs, costs and expertise."""

    async def close(self) -> None:
        """Release connections; the store is unusable afterwards."""
        ...

    # -- projects ------------------------------------------------------------------------------

    async def create_project(
        self,
        name: str,
        *,
        description: str = "",
        spec: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> Project: ...

    async def get_project(self, project_id: int) -> Project | None: ...

    async def get_project_by_name(self, name: str) -> Project | None:
        """The most recently created project of that name."""
        ...

    async def list_projects(self) -> list[Project]: ...

    async def delete_project(self, project_id: int) -> None:
        """Delete a project and everything recorded about it (a missing one is NotFoundError)."""
        ...

    async def update_project_metadata(
        self, project_id: int, metadata: Mapping[str, Any]
    ) -> Project:
        """Merge ``metadata`` into the project's (top-level keys are replaced)."""
        ...

    async def clear_plan(self, project_id: int) -> None:
        """Delete the project's epics and tasks (a plan that was never accepted)."""
        ...

    async def create_plan(
        self,
        plan: Plan,
        *,
        spec: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> ProjectPlan:
        """Store a whole plan as a new project in one transaction, keys mapped to ids."""
        ...

    # -- epics ---------------------------------------------------------------------------------

    async def create_epic(
        self,
        project_id: int,
        key: str,
        name: str,
        *,
        description: str = "",
        priority: int = 0,
        depends_on: Sequence[int] = (),
    ) -> Epic: ...

    async def get_epic(self, epic_id: int) -> Epic | None: ...

    async def list_epics(self, project_id: int) -> list[Epic]: ...

    async def set_epic_dependencies(self, epic_id: int, depends_on: Sequence[int]) -> Epic: ...

    # -- tasks ---------------------------------------------------------------------------------

    async def create_task(
        self,
        project_id: int,
        epic_id: int,
        key: str,
        title: str,
        *,
        description: str = "",
        priority: int = 0,
        estimate_minutes: float = 1.0,
        task_type: str | None = None,
        depends_on: Sequence[int] = (),
        dependency_type: DependencyType = "hard",
        soft_depends_on: Sequence[int] = (),
        pinned_model: str | None = None,
    ) -> Task: ...

    async def get_task(self, task_id: int) -> Task | None: ...

    async def get_task_by_key(self, project_id: int, key: str) -> Task | None: ...

    async def list_tasks(
        self,
        project_id: int,
        *,
        status: TaskStatus | None = None,
        epic_id: int | None = None,
    ) -> list[Task]:
        """Tasks in plan order (epic position, then task position)."""
        ...

    async def task_counts(self, project_id: int) -> dict[TaskStatus, int]:
        """How many tasks of the project are in each status (every status present, maybe 0)."""
        ...

    async def get_task_dependencies(self, task_id: int) -> list[Task]:
        """The tasks ``task_id`` depends on (hard and soft)."""
        ...

    async def set_task_dependencies(
        self,
        task_id: int,
        depends_on: Sequence[int],
        *,
        dependency_type: DependencyType = "hard",
        soft_depends_on: Sequence[int] = (),
    ) -> Task:
        """Replace a task's dependencies; unknown ids, other projects' tasks and cycles are refused."""
        ...

    async def get_tasks_with_dependencies(self, project_id: int) -> list[Task]:
        """Every task of the project with its dependency ids (what the resolver needs)."""
        ...

    async def claim_next_task(self, project_id: int, *, worker: str | None = None) -> Task | None:
        """Atomically take the next ready task (pending → running), or None when none is ready."""
        ...

    async def claim_tasks(
        self, project_id: int, count: int, *, worker: str | None = None
    ) -> list[Task]:
        """Atomically take up to ``count`` ready tasks at once, in claim order (fewer when fewer
        are ready; none for a count below 1). Each is handed to exactly one caller."""
        ...

    async def update_task_status(
        self,
        task_id: int,
        status: TaskStatus | str,
        *,
        error: str | None = None,
        expected: TaskStatus | None = None,
    ) -> TaskChange:
        """Change a task's status under its row lock.

        Refused with :class:`~yokeflow.errors.InvalidTransitionError` when the state machine
        forbids it, the status is unknown, or the task is not in ``expected``.
        """
        ...

    async def complete_task(self, task_id: int) -> TaskChange:
        """Running → done, completing the epic when this was its last unfinished task."""
        ...

    async def complete_and_claim(
        self, task_id: int, *, worker: str | None = None
    ) -> tuple[TaskChange, Task | None]:
        """:meth:`complete_task`, then :meth:`claim_next_task` of the task's project for
        ``worker``, at once (one transaction): the change, and the task claimed (None when none
        is ready, a dependent the completion made ready included). A refused completion claims
        nothing and raises as :meth:`complete_task` does."""
        ...

    async def set_task_model(self, task_id: int, model: str) -> Task: ...

    async def note_task_error(self, task_id: int, error: str) -> Task:
        """Record why a task's attempt failed without changing its status (a done task whose
        work turned out empty or failed its merge's verification)."""
        ...

    async def retry_task(self, task_id: int) -> Task:
        """Give a failed, blocked or cancelled task new attempts: back to pending, its attempts
        so far no longer counted against the limit. Any other status is refused
        (:class:`~yokeflow.errors.InvalidTransitionError`)."""
        ...

    # -- tests ---------------------------------------------------------------------------------

    async def create_test(
        self,
        task_id: int,
        description: str,
        *,
        category: str = "functional",
        steps: Sequence[str] = (),
    ) -> Test: ...

    async def list_tests(self, task_id: int) -> list[Test]: ...

    async def update_test_status(
        self, test_id: int, status: TestStatus, *, result: str | None = None
    ) -> Test: ...

    # -- sessions ------------------------------------------------------------------------------

    async def start_session(
        self,
        project_id: int,
        *,
        task_id: int | None = None,
        kind: str = "task",
        model: str | None = None,
        log_path: str | None = None,
    ) -> Session: ...

    async def end_session(
        self,
        session_id: int,
        status: SessionStatus,
        *,
        summary: str | None = None,
        error: str | None = None,
        metrics: Mapping[str, Any] | None = None,
    ) -> Session: ...

    async def get_session(self, session_id: int) -> Session | None: ...

    async def list_sessions(
        self, project_id: int, *, task_id: int | None = None
    ) -> list[Session]: ...

    # -- parallel batches ----------------------------------------------------------------------

    async def create_parallel_batch(
        self, project_id: int, batch_number: int, task_ids: Sequence[int]
    ) -> ParallelBatch: ...

    async def get_parallel_batch(
        self, project_id: int, batch_number: int
    ) -> ParallelBatch | None: ...

    async def list_parallel_batches(self, project_id: int) -> list[ParallelBatch]: ...

    async def update_batch_status(self, batch_id: int, status: BatchStatus | str) -> ParallelBatch:
        """Change a batch's status under its row lock; illegal changes are refused."""
        ...

    async def parallel_progress(self, project_id: int) -> list[ParallelProgress]:
        """Each batch with its tasks counted by status (the ``v_parallel_progress`` view)."""
        ...

    # -- costs ---------------------------------------------------------------------------------

    async def record_agent_cost(
        self,
        project_id: int,
        *,
        model: str,
        cost_usd: Decimal | float,
        session_id: int | None = None,
        task_id: int | None = None,
        operation: str = "task",
        input_tokens: int = 0,
        output_tokens: int = 0,
        cache_read_tokens: int = 0,
        cache_creation_tokens: int = 0,
    ) -> AgentCost:
        """Record one spend. A session's cost is recorded once: for a ``session_id`` whose cost
        stands already nothing is written and the standing row is returned."""
        ...

    async def list_agent_costs(self, project_id: int) -> list[AgentCost]: ...

    async def get_project_costs(self, project_id: int) -> list[CostSummary]:
        """Spend by model and operation (the ``v_project_costs`` view)."""
        ...

    async def get_cost_by_model(self, project_id: int) -> list[CostSummary]:
        """Spend by model (``operation`` is None)."""
        ...

    async def get_cost_by_task(self, project_id: int) -> dict[int, Decimal]:
        """Task id → dollars spent on it (every attempt and operation); tasks with no spend are
        absent."""
        ...

    async def get_project_cost_total(self, project_id: int) -> Decimal: ...

    # -- expertise -----------------------------------------------------------------------------

    async def get_expertise(self, project_id: int, domain: str) -> ExpertiseFile | None: ...

    async def save_expertise(
        self,
        project_id: int,
        domain: str,
        content: Mapping[str, Any],
        *,
        line_count: int,
        validated: bool = False,
    ) -> ExpertiseFile:
        """Insert or replace a domain's expertise; every save increments its version."""
        ...

    async def list_expertise_domains(self, project_id: int) -> list[str]: ...

    async def record_expertise_update(
        self,
        expertise_id: int,
        change_type: str,
        summary: str,
        *,
        session_id: int | None = None,
        diff: str | None = None,
    ) -> ExpertiseUpdate:
        """Append to a file's history (``version`` is the file's current version)."""
        ...

    async def list_expertise_updates(self, expertise_id: int) -> list[ExpertiseUpdate]: ...
